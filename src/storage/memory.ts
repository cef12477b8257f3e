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
import type { AccessInput } from "../core/access.js";
import { SUBJECT_REF, subjectRef } from "../core/decide.js";
import { isTokenActive, subjectState, tokenSortKey, tokenStatus, type SubjectState } from "../core/lifecycle.js";
import type {
  AccessRule,
  DecisionInput,
  Grantee,
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
import { withSync } from "./sync.js";
import { comparePositions, compareText, keysetPage } from "./paging.js";
import type { KeywardStore, MemberEntry, PagePosition, TokenListEntry } from "./types.js";

const NONE: readonly never[] = Object.freeze([]);
type SitePaths = Readonly<Record<string, readonly string[]>>;
const NO_PATHS: SitePaths = Object.freeze({});

/**
 * The shares of one item or the rules of one item type (copy-on-write: replaced on every write,
 * never mutated), with the paths of the sites their grantees name, cached for reads: valid while
 * the rules it was computed with are the current ones and no site was added since (`at`).
 */
interface Entry<T> {
  list: readonly T[];
  paths: SitePaths | null;
  rules: readonly AccessRule[] | null;
  at: number;
}

function entry<T>(list: readonly T[]): Entry<T> {
  return { list, paths: null, rules: null, at: -1 };
}

/** A token under its digest, with its loaded subject cached until a write it depends on (`at`). */
interface TokenSlot {
  token: TokenRecord;
  subject: LoadedSubject | null;
  at: number;
}

/**
 * Index key of a grantee, as `loadAccess` looks it up. Organization grantees that include
 * service users get a key of their own, so a service user's read finds only those.
 */
function granteeKey(g: Share["grantee"]): string {
  switch (g.kind) {
    case "user":
      return `u\0${g.userId}`;
    case "service_user":
      return `s\0${g.serviceUserId}`;
    case "group":
      return `g\0${g.groupId}`;
    case "site":
      return `t\0${g.siteId}`;
    case "organization":
      return `${g.includeServiceUsers ? "O" : "o"}\0${g.orgId}`;
  }
}

/** Adds (or, with `remove`, deletes) `value` under `key` in a map of id-keyed maps. */
function index<V extends { id: string }>(map: Map<string, Map<string, V>>, key: string, value: V, remove = false): void {
  let inner = map.get(key);
  if (remove) {
    inner?.delete(value.id);
    if (inner?.size === 0) map.delete(key);
    return;
  }
  if (inner === undefined) map.set(key, (inner = new Map()));
  inner.set(value.id, value);
}

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
  /** item orgId → item type → item id → shares */
  const sharesByItem = new Map<string, Map<string, Map<string, Entry<Share>>>>();
  const rules = new Map<string, AccessRule>();
  /** orgId → item type → rules */
  const rulesByType = new Map<string, Map<string, Entry<AccessRule>>>();
  /** `itemType\0granteeKey` → share id → share (for `loadAccess`); always the objects of `shares` */
  const sharesByGrantee = new Map<string, Map<string, Share>>();
  /** `itemType\0granteeKey` → rule id → rule (for `loadAccess`) */
  const rulesByGrantee = new Map<string, Map<string, AccessRule>>();
  /** site id → the site and every site below it */
  const sitesUnder = new Map<string, Set<string>>();
  /** Bumped when a site is added: cached site paths are recomputed. */
  let sitesVersion = 0;
  const tokens = new Map<string, TokenRecord>();
  /** digest → the token, with its loaded subject cached until a write it depends on (`at`) */
  const tokensByHash = new Map<string, TokenSlot>();
  /** The token of the last `loadDecision`: `authorize()` records its use right after (saves a lookup). Always `tokens.get(lastLoaded.id)`. */
  let lastLoaded: TokenRecord | null = null;
  /** Bumped by every write a loaded subject depends on: users, memberships, permission sets, service users. */
  let subjectsVersion = 0;
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

  /** The paths of the sites named by these shares and rules (R13), as `loadDecision` returns them. */
  function pathsOf(shareList: readonly Share[], ruleList: readonly AccessRule[]): SitePaths {
    let paths: Record<string, readonly string[]> | null = null;
    for (let i = 0; i < shareList.length + ruleList.length; i++) {
      const g = i < shareList.length ? shareList[i]!.grantee : ruleList[i - shareList.length]!.grantee;
      const site = g.kind === "site" ? sites.get(g.siteId) : undefined;
      if (site === undefined) continue;
      // A dictionary (null prototype): site ids as keys would otherwise give every item its own hidden class.
      if (paths === null) paths = Object.create(null) as Record<string, readonly string[]>;
      paths[site.id] = site.path;
    }
    return paths === null ? NO_PATHS : Object.freeze(paths);
  }

  /** The cached site paths of `e` together with `ruleList`, recomputed when either changed. */
  function cachedPaths(e: Entry<Share> | Entry<AccessRule>, shareList: readonly Share[], ruleList: readonly AccessRule[]): SitePaths {
    if (e.paths === null || e.rules !== ruleList || e.at !== sitesVersion) {
      e.paths = pathsOf(shareList, ruleList);
      e.rules = ruleList;
      e.at = sitesVersion;
    }
    return e.paths;
  }

  function itemShares(item: { orgId: string; type: string; id: string }): Entry<Share> | undefined {
    return sharesByItem.get(item.orgId)?.get(item.type)?.get(item.id);
  }

  /**
   * Freezes fresh copies of one item's shares, allocated together: a decision reads all of an
   * item's shares, and objects allocated side by side are read several times faster than the
   * same objects scattered over the heap by earlier writes (measured in bench/).
   */
  function packShares(list: readonly Share[]): Share[] {
    const packed = list.map((s) => Object.freeze({ ...s }));
    for (const s of packed) {
      shares.set(s.id, s);
      // The grantee index holds the same objects (replaced by id), so the old copies can go.
      index(sharesByGrantee, `${s.item.type}\0${granteeKey(s.grantee)}`, s);
    }
    return packed;
  }

  /** Removes a share from its item's list (the caller keeps `shares` and the grantee index right). */
  function unlistShare(share: Share): void {
    const byId = nested(nested(sharesByItem, share.item.orgId), share.item.type);
    const rest = (byId.get(share.item.id)?.list ?? NONE).filter((s) => s.id !== share.id);
    if (rest.length === 0) byId.delete(share.item.id);
    else byId.set(share.item.id, entry(packShares(rest)));
  }

  /** Removes a rule from its organization's list for its item type. */
  function unlistRule(rule: AccessRule): void {
    const byType = nested(rulesByType, rule.orgId);
    byType.set(rule.itemType, entry((byType.get(rule.itemType)?.list ?? NONE).filter((r) => r.id !== rule.id)));
  }

  /** A frozen copy of a loaded subject with its records allocated together (see {@link packShares}). */
  function packSubject(subject: LoadedSubject, token: TokenRecord): LoadedSubject {
    let packed: LoadedSubject;
    if (subject.kind === "service_user") packed = { ...subject };
    else {
      const m = subject.membership;
      packed = {
        ...subject,
        user: Object.freeze({ ...subject.user }),
        membership: m === null ? null : Object.freeze({ ...m, groupIds: Object.freeze([...m.groupIds]) as string[], siteIds: Object.freeze([...m.siteIds]) as string[] }),
      };
    }
    // The subject as decisions name it, built once per loaded subject (this slot's token) instead of per decision.
    Object.defineProperty(packed, SUBJECT_REF, { value: Object.freeze(subjectRef(packed, token)) });
    return Object.freeze(packed);
  }

  /** grantee (as JSON) → its one frozen copy */
  const grantees = new Map<string, Grantee>();
  function internGrantee(g: Grantee): Grantee {
    const key = JSON.stringify(g);
    let frozen = grantees.get(key);
    if (frozen === undefined) grantees.set(key, (frozen = Object.freeze({ ...g })));
    return frozen;
  }

  /** The loaded subject of a token, cached in its slot until a write it depends on. */
  function cachedSubject(slot: TokenSlot): LoadedSubject {
    if (slot.subject === null || slot.at !== subjectsVersion) {
      slot.subject = packSubject(loadSubject(slot.token), slot.token);
      slot.at = subjectsVersion;
    }
    return slot.subject;
  }

  function stateOf(token: TokenRecord): SubjectState {
    return subjectState(loadSubject(token));
  }

  function subjectName(token: TokenRecord): string {
    return token.kind === "user"
      ? (users.get(token.subjectId)?.name ?? token.subjectId)
      : (serviceUsers.get(token.subjectId)?.name ?? token.subjectId);
  }

  function recordTokenUseNow(tokenId: string, at: number): void {
    const t = lastLoaded !== null && lastLoaded.id === tokenId ? lastLoaded : tokens.get(tokenId);
    if (t === undefined || t.expiredAt !== null) return;
    if (t.lastUsedAt === null || at > t.lastUsedAt) t.lastUsedAt = at;
  }

  /** `loadDecision`, synchronously: `authorize()` calls it directly (see `storage/sync.ts`). */
  function loadDecisionNow(tokenHash: string, item: ItemRef | null): DecisionInput | null {
    const slot = tokensByHash.get(tokenHash);
    if (slot === undefined) return null;
    const token = slot.token;
    lastLoaded = token;
    const subject = cachedSubject(slot);
    if (item === null) return { token, subject, shares: NONE, rules: NONE, sitePaths: NO_PATHS };
    const shareEntry = itemShares(item);
    const ruleEntry = rulesByType.get(item.orgId)?.get(item.type);
    const shareList = shareEntry?.list ?? NONE;
    const ruleList = ruleEntry?.list ?? NONE;
    const sitePaths =
      shareEntry !== undefined ? cachedPaths(shareEntry, shareList, ruleList)
      : ruleEntry !== undefined ? cachedPaths(ruleEntry, NONE, ruleList)
      : NO_PATHS;
    return { token, subject, shares: shareList, rules: ruleList, sitePaths };
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
      subjectsVersion++;
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
      subjectsVersion++;
      return frozen;
    },
    async listMembers(orgId) {
      const out: MemberEntry[] = [];
      for (const m of memberships.get(orgId)?.values() ?? []) {
        out.push({ membership: m, user: users.get(m.userId) ?? { id: m.userId, name: m.userId } });
      }
      return out;
    },
    async pageMembers(query) {
      const statuses = new Set(query.statuses);
      const needle = query.search === null ? null : query.search.toLowerCase();
      const page = keysetPage<MemberEntry, { name: string; id: string }>(query.limit, (a, b) => compareText(a.name, b.name) || compareText(a.id, b.id), query.after);
      let total = 0;
      for (const m of memberships.get(query.orgId)?.values() ?? []) {
        if (!statuses.has(m.status)) continue;
        const user = users.get(m.userId) ?? { id: m.userId, name: m.userId };
        if (needle !== null && !user.name.toLowerCase().includes(needle) && !m.userId.toLowerCase().includes(needle)) continue;
        total++;
        page.offer({ membership: m, user }, { name: user.name, id: m.userId });
      }
      return { entries: page.result(), total };
    },
    async putPermissionSet(set) {
      permissionSets.set(set.id, Object.freeze({ ...set, permissions: Object.freeze([...set.permissions]) as string[] }));
      subjectsVersion++;
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
      for (const above of site.path) {
        let under = sitesUnder.get(above);
        if (under === undefined) sitesUnder.set(above, (under = new Set()));
        under.add(site.id);
      }
      sitesVersion++;
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
      subjectsVersion++;
      return next;
    },
    async listServiceUsers(orgId) {
      return [...serviceUsers.values()].filter((s) => s.orgId === orgId);
    },
    async putShare(share) {
      const previous = shares.get(share.id);
      if (previous !== undefined) {
        index(sharesByGrantee, `${previous.item.type}\0${granteeKey(previous.grantee)}`, previous, true);
        const was = previous.item;
        // Put again on another item: it leaves the old item's list.
        if (was.orgId !== share.item.orgId || was.type !== share.item.type || was.id !== share.item.id) unlistShare(previous);
      }
      const byId = nested(nested(sharesByItem, share.item.orgId), share.item.type);
      const current = byId.get(share.item.id)?.list ?? NONE;
      // The shares of one item share one frozen item key, and equal grantees one frozen grantee:
      // less memory, and fewer objects for a decision to visit.
      const item = current[0]?.item ?? Object.freeze({ orgId: share.item.orgId, type: share.item.type, id: share.item.id });
      byId.set(share.item.id, entry(packShares([...current.filter((s) => s.id !== share.id), { ...share, item, grantee: internGrantee(share.grantee) }])));
    },
    async deleteShare(shareId) {
      const share = shares.get(shareId);
      if (share === undefined) return false;
      shares.delete(shareId);
      index(sharesByGrantee, `${share.item.type}\0${granteeKey(share.grantee)}`, share, true);
      unlistShare(share);
      return true;
    },
    async listShares(item) {
      return [...(itemShares(item)?.list ?? NONE)];
    },
    async putRule(rule) {
      const frozen = Object.freeze({ ...rule, grantee: { ...rule.grantee } });
      const previous = rules.get(rule.id);
      if (previous !== undefined) {
        index(rulesByGrantee, `${previous.itemType}\0${granteeKey(previous.grantee)}`, previous, true);
        // Put again for another organization or item type: it leaves the old list.
        if (previous.orgId !== rule.orgId || previous.itemType !== rule.itemType) unlistRule(previous);
      }
      index(rulesByGrantee, `${frozen.itemType}\0${granteeKey(frozen.grantee)}`, frozen);
      rules.set(rule.id, frozen);
      const byType = nested(rulesByType, rule.orgId);
      byType.set(rule.itemType, entry([...(byType.get(rule.itemType)?.list ?? NONE).filter((r) => r.id !== rule.id), frozen]));
    },
    async deleteRule(ruleId) {
      const rule = rules.get(ruleId);
      if (rule === undefined) return false;
      rules.delete(ruleId);
      index(rulesByGrantee, `${rule.itemType}\0${granteeKey(rule.grantee)}`, rule, true);
      unlistRule(rule);
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
      lastLoaded = null;
      tokensByHash.set(record.hash, { token: record, subject: null, at: -1 });
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
    async pageTokens(query) {
      const statuses = new Set(query.statuses);
      const needle = query.search === null ? null : query.search.toLowerCase();
      const sign = query.order === "asc" ? 1 : -1;
      const page = keysetPage<TokenRecord, PagePosition>(query.limit, (a, b) => sign * comparePositions(a, b), query.after);
      const source = query.kind === "user" && query.subjectId !== undefined ? tokensByOwner.get(`${query.orgId}\0u\0${query.subjectId}`) : tokensByOrg.get(query.orgId);
      let total = 0;
      for (const t of source ?? NONE) {
        if (query.kind !== undefined && t.kind !== query.kind) continue;
        if (query.subjectId !== undefined && t.subjectId !== query.subjectId) continue;
        if (!statuses.has(tokenStatus(t, stateOf(t), query.now, query.inactivityMs))) continue;
        if (needle !== null && !t.name.toLowerCase().includes(needle) && !subjectName(t).toLowerCase().includes(needle)) continue;
        total++;
        page.offer(t, { key: tokenSortKey(t, query.sort), id: t.id });
      }
      const entries = page.result().map((t): TokenListEntry => ({ token: { ...t }, subjectName: subjectName(t), subject: stateOf(t) }));
      return { entries, total };
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
    recordTokenUse: withSync(async (tokenId: string, at: number) => recordTokenUseNow(tokenId, at), recordTokenUseNow),
    loadDecision: withSync(async (tokenHash: string, item: ItemRef | null) => loadDecisionNow(tokenHash, item), loadDecisionNow),

    async loadAccess(tokenHash: string, query: { itemType: string }): Promise<AccessInput | null> {
      const slot = tokensByHash.get(tokenHash);
      if (slot === undefined) return null;
      const token = slot.token;
      lastLoaded = token;
      const subject = cachedSubject(slot);
      const keys: string[] = [];
      if (subject.kind === "user") {
        keys.push(`u\0${token.subjectId}`, `o\0${token.orgId}`, `O\0${token.orgId}`);
        const m = subject.membership;
        if (m !== null) {
          for (const g of m.groupIds) keys.push(`g\0${g}`);
          const covered = new Set<string>();
          for (const s of m.siteIds) for (const below of sitesUnder.get(s) ?? NONE) covered.add(below);
          for (const s of covered) keys.push(`t\0${s}`);
        }
      } else {
        keys.push(`s\0${token.subjectId}`, `O\0${token.orgId}`);
      }
      const found: Share[] = [];
      const foundRules: AccessRule[] = [];
      const sitePaths: Record<string, readonly string[]> = {};
      for (const key of keys) {
        const k = `${query.itemType}\0${key}`;
        const byShare = sharesByGrantee.get(k);
        const byRule = rulesByGrantee.get(k);
        if (byShare !== undefined) for (const share of byShare.values()) found.push(share);
        if (byRule !== undefined) for (const rule of byRule.values()) foundRules.push(rule);
        if ((byShare !== undefined || byRule !== undefined) && key.startsWith("t\0")) {
          const site = sites.get(key.slice(2));
          if (site !== undefined) sitePaths[site.id] = site.path;
        }
      }
      return { token, subject, shares: found, rules: foundRules, sitePaths };
    },

    async close() {},
  };
}
