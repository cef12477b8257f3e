/**
 * The in-memory store: the zero-set-up default, for one process.
 *
 * Guarantees: every method runs synchronously inside its promise, so each one is atomic with
 * respect to every other call in the process — `insertToken` counts and inserts in one step, and
 * of N racing creations past the limit none succeeds. It is **single-process**: several instances
 * of a host application each with a memory store share nothing, so a revocation on one is not
 * seen by another. Use the PostgreSQL store (`keyward/postgres`) for that.
 * @module
 */
import { isTokenActive, subjectState, type SubjectState } from "../core/lifecycle.js";
import type {
  AccessRule,
  DecisionInput,
  Group,
  ItemRef,
  LoadedSubject,
  Membership,
  Organization,
  PermissionSet,
  ServiceUser,
  Share,
  Site,
  TokenRecord,
  User,
} from "../core/types.js";
import type { KeywardStore, MemberEntry, TokenListEntry } from "./types.js";

const NONE: readonly never[] = Object.freeze([]);
const NO_PATHS: Readonly<Record<string, readonly string[]>> = Object.freeze({});

function nested<V>(outer: Map<string, Map<string, V>>, a: string): Map<string, V> {
  let inner = outer.get(a);
  if (inner === undefined) outer.set(a, (inner = new Map()));
  return inner;
}

/**
 * Creates an in-memory store.
 *
 * @example
 * ```ts
 * import { createKeyward } from "keyward";
 * import { memoryStore } from "keyward/memory";
 * const kw = createKeyward({ store: memoryStore(), actions });
 * ```
 */
export function memoryStore(): KeywardStore {
  const orgs = new Map<string, Organization>();
  const users = new Map<string, User>();
  /** orgId → userId → membership */
  const memberships = new Map<string, Map<string, Membership>>();
  const permissionSets = new Map<string, PermissionSet>();
  const groups = new Map<string, Group>();
  const sites = new Map<string, Site>();
  const serviceUsers = new Map<string, ServiceUser>();
  const shares = new Map<string, Share>();
  /** item orgId → `type\0id` → shares */
  const sharesByItem = new Map<string, Map<string, Share[]>>();
  const rules = new Map<string, AccessRule>();
  /** orgId → item type → rules */
  const rulesByType = new Map<string, Map<string, AccessRule[]>>();
  const tokens = new Map<string, TokenRecord>();
  const tokensByHash = new Map<string, TokenRecord>();
  /** orgId → tokens, in creation order */
  const tokensByOrg = new Map<string, TokenRecord[]>();
  /** quota owner (R3: organization and user, or organization for service tokens) → tokens */
  const tokensByOwner = new Map<string, TokenRecord[]>();
  const ownerKey = (t: TokenRecord) => (t.kind === "user" ? `${t.orgId}\0u\0${t.subjectId}` : `${t.orgId}\0s`);

  const permissionsOf = (setId: string | null, orgId: string): readonly string[] => {
    if (setId === null) return NONE;
    const set = permissionSets.get(setId);
    return set === undefined || set.orgId !== orgId ? NONE : set.permissions;
  };

  function loadSubject(token: TokenRecord): LoadedSubject {
    if (token.kind === "user") {
      const user = users.get(token.subjectId) ?? { id: token.subjectId, name: token.subjectId };
      const membership = memberships.get(token.orgId)?.get(token.subjectId) ?? null;
      return {
        kind: "user",
        user,
        membership,
        permissions: membership === null ? NONE : permissionsOf(membership.permissionSetId, token.orgId),
      };
    }
    const su = serviceUsers.get(token.subjectId) ?? null;
    return {
      kind: "service_user",
      serviceUser: su,
      permissions: su === null ? NONE : permissionsOf(su.permissionSetId, su.orgId),
    };
  }

  function stateOf(token: TokenRecord): SubjectState {
    return subjectState(loadSubject(token));
  }

  function subjectName(token: TokenRecord): string {
    return token.kind === "user"
      ? (users.get(token.subjectId)?.name ?? token.subjectId)
      : (serviceUsers.get(token.subjectId)?.name ?? token.subjectId);
  }

  return {
    async putOrganization(org) {
      orgs.set(org.id, Object.freeze({ ...org }));
    },
    async getOrganization(orgId) {
      return orgs.get(orgId) ?? null;
    },
    async putUser(user) {
      users.set(user.id, Object.freeze({ ...user }));
    },
    async getUser(userId) {
      return users.get(userId) ?? null;
    },
    async getMembership(orgId, userId) {
      return memberships.get(orgId)?.get(userId) ?? null;
    },
    async updateMembership(orgId, userId, update) {
      const byUser = nested(memberships, orgId);
      const next = update(byUser.get(userId) ?? null);
      const frozen = Object.freeze({ ...next, groupIds: [...next.groupIds], siteIds: [...next.siteIds] });
      byUser.set(userId, frozen);
      return frozen;
    },
    async listMembers(orgId) {
      const out: MemberEntry[] = [];
      for (const m of memberships.get(orgId)?.values() ?? []) {
        out.push({ membership: m, user: users.get(m.userId) ?? { id: m.userId, name: m.userId } });
      }
      return out;
    },
    async putPermissionSet(set) {
      permissionSets.set(set.id, Object.freeze({ ...set, permissions: [...set.permissions] }));
    },
    async getPermissionSet(id) {
      return permissionSets.get(id) ?? null;
    },
    async putGroup(group) {
      groups.set(group.id, Object.freeze({ ...group }));
    },
    async getGroup(id) {
      return groups.get(id) ?? null;
    },
    async putSite(site) {
      sites.set(site.id, Object.freeze({ ...site, path: [...site.path] }));
    },
    async getSite(id) {
      return sites.get(id) ?? null;
    },
    async getServiceUser(id) {
      return serviceUsers.get(id) ?? null;
    },
    async updateServiceUser(id, update) {
      const next = Object.freeze({ ...update(serviceUsers.get(id) ?? null) });
      serviceUsers.set(id, next);
      return next;
    },
    async listServiceUsers(orgId) {
      return [...serviceUsers.values()].filter((s) => s.orgId === orgId);
    },
    async putShare(share) {
      const frozen = Object.freeze({ ...share, item: { ...share.item }, grantee: { ...share.grantee } });
      shares.set(share.id, frozen);
      const key = `${share.item.type}\0${share.item.id}`;
      const byItem = nested(sharesByItem, share.item.orgId);
      byItem.set(key, [...(byItem.get(key) ?? []).filter((s) => s.id !== share.id), frozen]);
    },
    async deleteShare(shareId) {
      const share = shares.get(shareId);
      if (share === undefined) return false;
      shares.delete(shareId);
      const key = `${share.item.type}\0${share.item.id}`;
      const byItem = nested(sharesByItem, share.item.orgId);
      const rest = (byItem.get(key) ?? []).filter((s) => s.id !== shareId);
      if (rest.length === 0) byItem.delete(key);
      else byItem.set(key, rest);
      return true;
    },
    async listShares(item) {
      return [...(sharesByItem.get(item.orgId)?.get(`${item.type}\0${item.id}`) ?? [])];
    },
    async putRule(rule) {
      const frozen = Object.freeze({ ...rule, grantee: { ...rule.grantee } });
      rules.set(rule.id, frozen);
      const byType = nested(rulesByType, rule.orgId);
      byType.set(rule.itemType, [...(byType.get(rule.itemType) ?? []).filter((r) => r.id !== rule.id), frozen]);
    },
    async deleteRule(ruleId) {
      const rule = rules.get(ruleId);
      if (rule === undefined) return false;
      rules.delete(ruleId);
      const byType = nested(rulesByType, rule.orgId);
      byType.set(rule.itemType, (byType.get(rule.itemType) ?? []).filter((r) => r.id !== ruleId));
      return true;
    },

    async insertToken(token, quota) {
      const state = stateOf(token);
      if (!state.active || (token.kind === "user" && token.epoch !== state.epoch)) {
        return { ok: false, reason: "subject_inactive" };
      }
      let active = 0;
      const owner = ownerKey(token);
      for (const t of tokensByOwner.get(owner) ?? NONE) {
        if (isTokenActive(t, stateOf(t), quota.now, quota.inactivityMs)) active++;
      }
      if (active >= quota.max) return { ok: false, reason: "limit_reached" };
      const record = { ...token };
      tokens.set(record.id, record);
      tokensByHash.set(record.hash, record);
      const list = tokensByOrg.get(record.orgId);
      if (list === undefined) tokensByOrg.set(record.orgId, [record]);
      else list.push(record);
      const mine = tokensByOwner.get(owner);
      if (mine === undefined) tokensByOwner.set(owner, [record]);
      else mine.push(record);
      return { ok: true };
    },
    async getToken(tokenId) {
      const t = tokens.get(tokenId);
      return t === undefined ? null : { ...t };
    },
    async listTokens(filter) {
      const out: TokenListEntry[] = [];
      for (const t of tokensByOrg.get(filter.orgId) ?? NONE) {
        if (filter.kind !== undefined && t.kind !== filter.kind) continue;
        if (filter.subjectId !== undefined && t.subjectId !== filter.subjectId) continue;
        out.push({ token: { ...t }, subjectName: subjectName(t), subject: stateOf(t) });
      }
      return out;
    },
    async revokeToken(tokenId, at, how) {
      const t = tokens.get(tokenId);
      if (t === undefined) return null;
      const changed = how === "delete" ? t.deletedAt === null : t.deletedAt === null && t.revokedAt === null;
      if (changed) {
        if (how === "delete") t.deletedAt = at;
        else t.revokedAt = at;
      }
      return { token: { ...t }, changed };
    },
    async markTokenExpired(tokenId, at) {
      const t = tokens.get(tokenId);
      if (t === undefined || t.expiredAt !== null) return false;
      t.expiredAt = at;
      return true;
    },
    async recordTokenUse(tokenId, at) {
      const t = tokens.get(tokenId);
      if (t === undefined || t.expiredAt !== null) return;
      if (t.lastUsedAt === null || at > t.lastUsedAt) t.lastUsedAt = at;
    },

    async loadDecision(tokenHash: string, item: ItemRef | null): Promise<DecisionInput | null> {
      const token = tokensByHash.get(tokenHash);
      if (token === undefined) return null;
      const subject = loadSubject(token);
      if (item === null) return { token, subject, shares: NONE, rules: NONE, sitePaths: NO_PATHS };
      const itemShares = sharesByItem.get(item.orgId)?.get(`${item.type}\0${item.id}`) ?? NONE;
      const itemRules = rulesByType.get(item.orgId)?.get(item.type) ?? NONE;
      let sitePaths = NO_PATHS;
      const addPath = (g: Share["grantee"]) => {
        const site = g.kind === "site" ? sites.get(g.siteId) : undefined;
        if (site === undefined) return;
        if (sitePaths === NO_PATHS) sitePaths = {};
        (sitePaths as Record<string, readonly string[]>)[site.id] = site.path;
      };
      for (const s of itemShares) addPath(s.grantee);
      for (const r of itemRules) addPath(r.grantee);
      return { token, subject, shares: itemShares, rules: itemRules, sitePaths };
    },

    async close() {},
  };
}
