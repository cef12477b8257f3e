/**
 * The baseline: a hand-written evaluator of the same rules over Maps and Sets built once from
 * the scenario — what a team would write for this one application, with no store contract, no
 * decision record, no validation. It answers allowed / denied only.
 *
 * `tokenStage` is shared with the CASL and Casbin encodings, which have no notion of a token's
 * lifecycle: they get the same cheap Map lookups in front of them.
 * @module
 */
import type { ActionDefinition } from "../../src/index.js";
import type { BenchItem, Scenario } from "../scenario.js";

const RANK = { view: 1, edit: 2, delete: 3 } as const;
const USER = 0, SERVICE = 1, GROUP = 2, SITE = 3, ORG = 4;

interface Grant {
  rank: number;
  kind: number;
  ref: string;
  /** Organization grantee: whether it includes service users. */
  su: boolean;
  /** Site grantee: the site's path (root … site). */
  path: readonly string[];
}
interface Rule extends Grant {
  conditions: [string, Set<string>][];
}
interface Subject {
  user: boolean;
  active: boolean;
  epoch: string | null;
  perms: Set<string>;
  groups: Set<string>;
  sites: Set<string>;
}
interface Tok {
  user: boolean;
  orgId: string;
  subjectId: string;
  dead: boolean;
  expiresAt: number;
  epoch: string | null;
  subject: Subject | undefined;
}

/** The evaluator: `allowed(tokenId, action, item)`, and `byDigest` for the full path. */
export interface HandWritten {
  allowed(tokenId: string, action: string, item: BenchItem | null): boolean;
  /** The token stage alone: the live token's subject, or `undefined`. */
  tokenStage(tokenId: string): Tok | undefined;
  /** digest → token id, for the "best full path". */
  byDigest: Map<string, string>;
}

export function handWritten(s: Scenario): HandWritten {
  const now = s.now;
  const actions = new Map<string, ActionDefinition & { rank: number }>(
    Object.entries(s.actions).map(([k, d]) => [k, { ...d, rank: d.access === undefined ? 0 : RANK[d.access] }]),
  );
  const perms = new Map(s.permissionSets.map((p) => [p.id, { orgId: p.orgId, set: new Set(p.permissions) }]));
  const permsOf = (setId: string | null, orgId: string) => {
    const p = setId === null ? undefined : perms.get(setId);
    return p === undefined || p.orgId !== orgId ? new Set<string>() : p.set;
  };
  const subjects = new Map<string, Subject>();
  for (const m of s.memberships) {
    subjects.set(`u\0${m.orgId}\0${m.userId}`, {
      user: true,
      active: m.status === "active",
      epoch: m.epoch,
      perms: permsOf(m.permissionSetId, m.orgId),
      groups: new Set(m.groupIds),
      sites: new Set(m.siteIds),
    });
  }
  for (const su of s.serviceUsers) {
    subjects.set(`s\0${su.id}`, { user: false, active: su.status === "active", epoch: null, perms: permsOf(su.permissionSetId, su.orgId), groups: new Set(), sites: new Set() });
  }
  const tokens = new Map<string, Tok>();
  const byDigest = new Map<string, string>();
  for (const { record: t } of s.tokens) {
    const user = t.kind === "user";
    const last = t.lastUsedAt === null || t.lastUsedAt < t.createdAt ? t.createdAt : t.lastUsedAt;
    tokens.set(t.id, {
      user,
      orgId: t.orgId,
      subjectId: t.subjectId,
      dead: t.revokedAt !== null || t.deletedAt !== null || t.expiredAt !== null,
      expiresAt: user ? last + s.inactivityMs : Infinity,
      epoch: t.epoch,
      subject: subjects.get(user ? `u\0${t.orgId}\0${t.subjectId}` : `s\0${t.subjectId}`),
    });
    byDigest.set(t.hash, t.id);
  }
  const sitePaths = new Map(s.sites.map((x) => [x.id, x.path]));
  const grantOf = (g: Scenario["shares"][number]["grantee"], level: keyof typeof RANK): Grant => {
    switch (g.kind) {
      case "user": return { rank: RANK[level], kind: USER, ref: g.userId, su: false, path: [] };
      case "service_user": return { rank: RANK[level], kind: SERVICE, ref: g.serviceUserId, su: false, path: [] };
      case "group": return { rank: RANK[level], kind: GROUP, ref: g.groupId, su: false, path: [] };
      case "site": return { rank: RANK[level], kind: SITE, ref: g.siteId, su: false, path: sitePaths.get(g.siteId) ?? [] };
      case "organization": return { rank: RANK[level], kind: ORG, ref: g.orgId, su: g.includeServiceUsers, path: [] };
    }
  };
  /** org → type → id → grants */
  const shares = new Map<string, Map<string, Map<string, Grant[]>>>();
  for (const sh of s.shares) {
    let byType = shares.get(sh.item.orgId);
    if (byType === undefined) shares.set(sh.item.orgId, (byType = new Map()));
    let byId = byType.get(sh.item.type);
    if (byId === undefined) byType.set(sh.item.type, (byId = new Map()));
    const list = byId.get(sh.item.id);
    if (list === undefined) byId.set(sh.item.id, [grantOf(sh.grantee, sh.level)]);
    else list.push(grantOf(sh.grantee, sh.level));
  }
  /** org → type → rules */
  const rules = new Map<string, Map<string, Rule[]>>();
  for (const r of s.rules) {
    let byType = rules.get(r.orgId);
    if (byType === undefined) rules.set(r.orgId, (byType = new Map()));
    const rule: Rule = { ...grantOf(r.grantee, r.level), conditions: Object.entries(r.conditions).map(([k, v]) => [k, new Set(v)]) };
    const list = byType.get(r.itemType);
    if (list === undefined) byType.set(r.itemType, [rule]);
    else list.push(rule);
  }

  const includes = (g: Grant, tok: Tok, sub: Subject, crossOrg: boolean): boolean => {
    switch (g.kind) {
      case USER: return tok.user && g.ref === tok.subjectId;
      case SERVICE: return !tok.user && g.ref === tok.subjectId;
      case ORG: return g.ref === tok.orgId && (tok.user || g.su);
      case GROUP: return !crossOrg && tok.user && sub.groups.has(g.ref);
      default: {
        if (crossOrg || !tok.user) return false;
        for (let i = 0; i < g.path.length; i++) if (sub.sites.has(g.path[i]!)) return true;
        return false;
      }
    }
  };

  const tokenStage = (tokenId: string): Tok | undefined => {
    const tok = tokens.get(tokenId);
    if (tok === undefined || tok.dead || now >= tok.expiresAt) return undefined;
    const sub = tok.subject;
    if (sub === undefined || !sub.active || (tok.user && sub.epoch !== tok.epoch)) return undefined;
    return tok;
  };

  return {
    byDigest,
    tokenStage,
    allowed(tokenId, action, item) {
      const tok = tokenStage(tokenId);
      if (tok === undefined) return false;
      const sub = tok.subject!;
      const def = actions.get(action);
      if (def === undefined || !sub.perms.has(def.permission)) return false;
      if (def.rank === 0) return true;
      if (item === null || item.type !== def.item) return false;
      const need = def.rank;
      const crossOrg = item.orgId !== tok.orgId;
      const grants = shares.get(item.orgId)?.get(item.type)?.get(item.id);
      if (grants !== undefined) {
        for (let i = 0; i < grants.length; i++) {
          const g = grants[i]!;
          if (g.rank >= need && includes(g, tok, sub, crossOrg)) return true;
        }
      }
      const rs = rules.get(item.orgId)?.get(item.type);
      if (rs !== undefined) {
        const attrs = item.attributes as Record<string, string | undefined>;
        outer: for (let i = 0; i < rs.length; i++) {
          const r = rs[i]!;
          if (r.rank < need) continue;
          for (const [k, values] of r.conditions) {
            const v = attrs[k];
            if (v === undefined || !values.has(v)) continue outer;
          }
          if (includes(r, tok, sub, crossOrg)) return true;
        }
      }
      return false;
    },
  };
}
