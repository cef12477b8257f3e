/**
 * The same decisions in CASL (`@casl/ability`): one ability per subject (a membership or a
 * service user), built lazily on its first query and cached.
 *
 * Encoding. An item is a plain object carrying its attributes and its grants, each grant a key
 * naming the grantee (`u:…`, `s:…`, `g:…`, `site:…` for the named site and every site above it,
 * `o:…`, `osu:…` for an organization share that includes service users) and a rank. A subject's
 * ability has, per permitted item action, one rule "a grant to me or my organization of at least
 * this rank" (any owner, R14), one rule "a grant to my groups or sites, in my organization" (users
 * only), and one rule per access rule that includes it. Organization-level actions are plain
 * `can(action, "Organization")`. The token stage is the shared Map lookup of the hand-written
 * evaluator (CASL has no notion of tokens).
 * @module
 */
import { createMongoAbility, type MongoAbility, type RawRuleOf } from "@casl/ability";
import type { Grantee } from "../../src/index.js";
import type { BenchItem, Scenario } from "../scenario.js";
import type { HandWritten } from "./handwritten.js";

const RANK = { view: 1, edit: 2, delete: 3 } as const;

/** What CASL checks: the item with its grants. */
export interface CaslItem {
  __type: string;
  orgId: string;
  id: string;
  siteId: string;
  status: string;
  grants: { k: string; r: number }[];
}

export interface CaslEngine {
  /** Pre-loads the CASL object of an item (its grants), as a host would load the record. */
  load(item: BenchItem): CaslItem;
  allowed(tokenId: string, action: string, item: CaslItem | null): boolean;
  /** How many abilities were built so far. */
  abilities(): number;
}

export function caslEngine(s: Scenario, hw: HandWritten): CaslEngine {
  const sitePaths = new Map(s.sites.map((x) => [x.id, x.path]));
  const keysOf = (g: Grantee): string[] => {
    switch (g.kind) {
      case "user": return [`u:${g.userId}`];
      case "service_user": return [`s:${g.serviceUserId}`];
      case "group": return [`g:${g.groupId}`];
      case "site": return (sitePaths.get(g.siteId) ?? []).map((p) => `site:${p}`);
      case "organization": return [g.includeServiceUsers ? `osu:${g.orgId}` : `o:${g.orgId}`];
    }
  };
  const grants = new Map<string, CaslItem["grants"]>();
  for (const sh of s.shares) {
    const key = `${sh.item.orgId}\0${sh.item.type}\0${sh.item.id}`;
    let list = grants.get(key);
    if (list === undefined) grants.set(key, (list = []));
    for (const k of keysOf(sh.grantee)) list.push({ k, r: RANK[sh.level] });
  }
  const memberships = new Map(s.memberships.map((m) => [`${m.orgId}\0${m.userId}`, m]));
  const serviceUsers = new Map(s.serviceUsers.map((x) => [x.id, x]));
  const sets = new Map(s.permissionSets.map((p) => [p.id, p]));
  const actions = Object.entries(s.actions);
  const cache = new Map<string, MongoAbility>();

  const build = (user: boolean, orgId: string, subjectId: string): MongoAbility => {
    const m = user ? memberships.get(`${orgId}\0${subjectId}`) : undefined;
    const su = user ? undefined : serviceUsers.get(subjectId);
    const setId = user ? m?.permissionSetId : su?.permissionSetId;
    const set = setId ? sets.get(setId) : undefined;
    const perms = new Set(set !== undefined && set.orgId === orgId ? set.permissions : []);
    const own = user ? [`u:${subjectId}`, `o:${orgId}`, `osu:${orgId}`] : [`s:${subjectId}`, `osu:${orgId}`];
    const local = user && m ? [...m.groupIds.map((g) => `g:${g}`), ...m.siteIds.map((x) => `site:${x}`)] : [];
    // Access rules that include this subject: the same grantee test, on the rule's owner organization.
    const includes = (g: Grantee, ruleOrg: string): boolean => {
      const cross = ruleOrg !== orgId;
      switch (g.kind) {
        case "user": return user && g.userId === subjectId;
        case "service_user": return !user && g.serviceUserId === subjectId;
        case "organization": return g.orgId === orgId && (user || g.includeServiceUsers);
        case "group": return !cross && user && m !== undefined && m.groupIds.includes(g.groupId);
        case "site": return !cross && user && m !== undefined && (sitePaths.get(g.siteId) ?? []).some((p) => m.siteIds.includes(p));
      }
    };
    const mine = s.rules.filter((r) => includes(r.grantee, r.orgId));
    const rules: RawRuleOf<MongoAbility>[] = [];
    for (const [name, def] of actions) {
      if (!perms.has(def.permission)) continue;
      if (def.access === undefined) {
        rules.push({ action: name, subject: "Organization" });
        continue;
      }
      const need = RANK[def.access];
      rules.push({ action: name, subject: def.item!, conditions: { grants: { $elemMatch: { k: { $in: own }, r: { $gte: need } } } } });
      if (local.length > 0) rules.push({ action: name, subject: def.item!, conditions: { orgId, grants: { $elemMatch: { k: { $in: local }, r: { $gte: need } } } } });
      for (const r of mine) {
        if (r.itemType !== def.item || RANK[r.level] < need) continue;
        const conditions: Record<string, unknown> = { orgId: r.orgId };
        for (const [k, values] of Object.entries(r.conditions)) conditions[k] = { $in: values };
        rules.push({ action: name, subject: def.item!, conditions });
      }
    }
    return createMongoAbility(rules, { detectSubjectType: (o) => (o as unknown as CaslItem).__type });
  };

  return {
    load(item) {
      return {
        __type: item.type,
        orgId: item.orgId,
        id: item.id,
        siteId: item.attributes.siteId,
        status: item.attributes.status,
        grants: grants.get(`${item.orgId}\0${item.type}\0${item.id}`) ?? [],
      };
    },
    allowed(tokenId, action, item) {
      const tok = hw.tokenStage(tokenId);
      if (tok === undefined) return false;
      const key = tok.user ? `u\0${tok.orgId}\0${tok.subjectId}` : `s\0${tok.subjectId}`;
      let ability = cache.get(key);
      if (ability === undefined) cache.set(key, (ability = build(tok.user, tok.orgId, tok.subjectId)));
      return item === null ? ability.can(action, "Organization") : ability.can(action, item as never);
    },
    abilities: () => cache.size,
  };
}
