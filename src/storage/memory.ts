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
import { subjectState, tokenSortKey, tokenStatus, type SubjectState } from "../core/lifecycle.js";
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
import type { KeywardStore, MemberEntry, PagePosition, StoreBackdoor, TokenListEntry } from "./types.js";

const NONE: readonly never[] = Object.freeze([]);
type SitePaths = Readonly<Record<string, readonly string[]>>;
const NO_PATHS: SitePaths = Object.freeze({});

/**
 * The rules of one item type (copy-on-write: replaced on every write, never mutated), with the
 * paths of the sites their grantees name, cached for reads: valid while the rules it was
 * computed with are the current ones and no site was added since (`at`).
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

/**
 * The shares of one item, indexed by grantee: every share in put order (`listShares`), and the
 * same objects under their grantee, so that a decision reads only the shares whose grantee could
 * include its subject (never the item's other shares). Mutated in place: a put or a delete is
 * O(1), never a copy of the item's list.
 */
interface ItemShares {
  /** The item key its shares share (one frozen object). */
  item: Readonly<{ orgId: string; type: string; id: string }>;
  /** share id → share, in put order (a share put again moves to the end) */
  all: Map<string, Share>;
  /** {@link granteeKey} of a user, service user or organization grantee → share id → share */
  byGrantee: Map<string, Map<string, Share>>;
  /** group id → share id → share */
  byGroup: Map<string, Map<string, Share>>;
  /** site id → share id → share */
  bySite: Map<string, Map<string, Share>>;
}

/**
 * The grantee keys that can include a token's subject (R13, R14), as the share indexes are
 * keyed: its user or service user and its organization (`base`), and for a user the groups of
 * its membership and every site at or below one of its sites (`covered`). Cached in the token's
 * slot until a write it depends on (`at`, `sitesAt`).
 */
interface SubjectKeys {
  base: readonly string[];
  groups: ReadonlySet<string>;
  covered: ReadonlySet<string>;
  at: number;
  sitesAt: number;
}

/** A token under its digest, with its loaded subject and grantee keys cached until a write they depend on (`at`). */
interface TokenSlot {
  token: TokenRecord;
  subject: LoadedSubject | null;
  at: number;
  keys: SubjectKeys | null;
}

const NO_KEYS: ReadonlySet<string> = new Set();
/** The index of an item without shares. */
const NO_SHARES: ItemShares = Object.freeze({ item: Object.freeze({ orgId: "", type: "", id: "" }), all: new Map(), byGrantee: new Map(), byGroup: new Map(), bySite: new Map() });

/** `found` with the shares of `bucket` appended (a new array the first time). */
function collect(found: Share[] | null, bucket: Map<string, Share>): Share[] {
  const out = found ?? [];
  for (const share of bucket.values()) out.push(share);
  return out;
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
 * Options of {@link memoryStore}.
 *
 * @example
 * ```ts
 * let backdoor!: StoreBackdoor; const store = memoryStore({ backdoor: (b) => (backdoor = b) });
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * For the conformance suite (`keyward/testing`): receives, once, reads that bypass the store's
   * own (copies of the records as stored).
   */
  backdoor?: (backdoor: StoreBackdoor) => void;
}

/** A deep copy of a stored record (so a back-door read never shares state with the store), or `null`. */
function copyOf<T>(value: T | undefined): T | null {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as T);
}

/** `t` with a use the caller knows of merged in (the later of the two; never on a token marked expired). */
function withKnownUse(t: TokenRecord, known: ReadonlyMap<string, number> | undefined): TokenRecord {
  const at = known?.get(t.id);
  return at === undefined || t.expiredAt !== null || (t.lastUsedAt !== null && t.lastUsedAt >= at) ? t : { ...t, lastUsedAt: at };
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
export function memoryStore(options: MemoryStoreOptions = {}): KeywardStore {
  const orgs = new Map<string, Organization>();
  const users = new Map<string, User>();
  /** orgId → userId → membership */
  const memberships = new Map<string, Map<string, Membership>>();
  const permissionSets = new Map<string, PermissionSet>();
  const groups = new Map<string, Group>();
  const sites = new Map<string, Site>();
  const serviceUsers = new Map<string, ServiceUser>();
  const shares = new Map<string, Share>();
  /** item orgId → item type → item id → its shares by grantee */
  const sharesByItem = new Map<string, Map<string, Map<string, ItemShares>>>();
  /** The order of shares (a share put again comes last): a decision names the first of equal grants. */
  const shareSeq = new WeakMap<Share, number>();
  let nextSeq = 0;
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

  /** The cached site paths of a rule list, recomputed when the list changed or a site was added. */
  function cachedPaths(e: Entry<AccessRule>, ruleList: readonly AccessRule[]): SitePaths {
    if (e.paths === null || e.rules !== ruleList || e.at !== sitesVersion) {
      e.paths = pathsOf(NONE, ruleList);
      e.rules = ruleList;
      e.at = sitesVersion;
    }
    return e.paths;
  }

  function itemShares(item: { orgId: string; type: string; id: string }): ItemShares | undefined {
    return sharesByItem.get(item.orgId)?.get(item.type)?.get(item.id);
  }

  /** The bucket of an item's shares that holds shares with this grantee. */
  function bucketOf(entry: ItemShares, g: Grantee): [Map<string, Map<string, Share>>, string] {
    return g.kind === "group" ? [entry.byGroup, g.groupId] : g.kind === "site" ? [entry.bySite, g.siteId] : [entry.byGrantee, granteeKey(g)];
  }

  /** Adds a share (frozen, on `entry`'s item key) at the end of its item's shares: O(1). */
  function listShare(entry: ItemShares, share: Share): void {
    entry.all.set(share.id, share);
    const [buckets, key] = bucketOf(entry, share.grantee);
    let bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, (bucket = new Map()));
    bucket.set(share.id, share);
  }

  /** Removes a share from its item's shares: O(1) (the caller keeps `shares` and the grantee index right). */
  function unlistShare(share: Share): void {
    const byId = sharesByItem.get(share.item.orgId)?.get(share.item.type);
    const entry = byId?.get(share.item.id);
    if (entry === undefined) return;
    entry.all.delete(share.id);
    const [buckets, key] = bucketOf(entry, share.grantee);
    const bucket = buckets.get(key);
    bucket?.delete(share.id);
    if (bucket?.size === 0) buckets.delete(key);
    if (entry.all.size === 0) byId!.delete(share.item.id);
  }

  /** The grantee keys of a token's subject, cached in its slot (see {@link SubjectKeys}). */
  function subjectKeys(slot: TokenSlot, subject: LoadedSubject): SubjectKeys {
    const cached = slot.keys;
    if (cached !== null && cached.at === subjectsVersion && cached.sitesAt === sitesVersion) return cached;
    const token = slot.token;
    let keys: SubjectKeys;
    if (subject.kind === "user") {
      const m = subject.membership;
      const covered = new Set<string>();
      for (const site of m?.siteIds ?? NONE) for (const below of sitesUnder.get(site) ?? NONE) covered.add(below);
      keys = {
        base: [`u\0${token.subjectId}`, `o\0${token.orgId}`, `O\0${token.orgId}`],
        groups: m === null || m.groupIds.length === 0 ? NO_KEYS : new Set(m.groupIds),
        covered: covered.size === 0 ? NO_KEYS : covered,
        at: subjectsVersion,
        sitesAt: sitesVersion,
      };
    } else {
      keys = { base: [`s\0${token.subjectId}`, `O\0${token.orgId}`], groups: NO_KEYS, covered: NO_KEYS, at: subjectsVersion, sitesAt: sitesVersion };
    }
    slot.keys = keys;
    return keys;
  }

  /**
   * The shares of one item whose grantee could include the subject (R13, R14), in the item's
   * order: looked up by the subject's keys — a few map reads, whatever the number of the item's
   * other shares. Groups and sites never include anyone across organizations, so an item of
   * another organization costs three lookups, shared with the subject or not, existing or not.
   */
  function sharesFor(entry: ItemShares, keys: SubjectKeys, crossOrg: boolean): readonly Share[] {
    let found: Share[] | null = null;
    let buckets = 0;
    for (const key of keys.base) {
      const bucket = entry.byGrantee.get(key);
      if (bucket === undefined) continue;
      found = collect(found, bucket);
      buckets++;
    }
    if (!crossOrg) {
      // Whichever side is smaller: the subject's groups (sites) or the item's.
      for (let i = 0; i < 2; i++) {
        const wanted = i === 0 ? keys.groups : keys.covered;
        const byId = i === 0 ? entry.byGroup : entry.bySite;
        if (wanted.size === 0 || byId.size === 0) continue;
        if (wanted.size <= byId.size) {
          for (const id of wanted) {
            const bucket = byId.get(id);
            if (bucket === undefined) continue;
            found = collect(found, bucket);
            buckets++;
          }
        } else {
          for (const [id, bucket] of byId) {
            if (!wanted.has(id)) continue;
            found = collect(found, bucket);
            buckets++;
          }
        }
      }
    }
    if (found === null) return NONE;
    if (buckets > 1) found.sort((a, b) => shareSeq.get(a)! - shareSeq.get(b)!);
    return found;
  }

  /** The rules' site paths with those of the site shares found, or the rules' own when there are none. */
  function withSharePaths(rulePaths: SitePaths, found: readonly Share[]): SitePaths {
    let paths: Record<string, readonly string[]> | null = null;
    for (const share of found) {
      const g = share.grantee;
      const site = g.kind === "site" ? sites.get(g.siteId) : undefined;
      if (site === undefined) continue;
      if (paths === null) paths = Object.assign(Object.create(null) as Record<string, readonly string[]>, rulePaths);
      paths[site.id] = site.path;
    }
    return paths === null ? rulePaths : Object.freeze(paths);
  }

  /** Removes a rule from its organization's list for its item type. */
  function unlistRule(rule: AccessRule): void {
    const byType = nested(rulesByType, rule.orgId);
    byType.set(rule.itemType, entry((byType.get(rule.itemType)?.list ?? NONE).filter((r) => r.id !== rule.id)));
  }

  /** A frozen copy of a loaded subject with its records allocated together (read faster than scattered ones). */
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

  function storePermissionSet(set: PermissionSet): void {
    permissionSets.set(set.id, Object.freeze({ ...set, permissions: Object.freeze([...set.permissions]) as string[] }));
    subjectsVersion++;
  }

  /** `loadDecision`, synchronously: `authorize()` calls it directly (see `storage/sync.ts`). */
  function loadDecisionNow(tokenHash: string, item: ItemRef | null): DecisionInput | null {
    const slot = tokensByHash.get(tokenHash);
    if (slot === undefined) return null;
    const token = slot.token;
    lastLoaded = token;
    const subject = cachedSubject(slot);
    if (item === null) return { token, subject, shares: NONE, rules: NONE, sitePaths: NO_PATHS };
    const ruleEntry = rulesByType.get(item.orgId)?.get(item.type);
    const ruleList = ruleEntry?.list ?? NONE;
    const rulePaths = ruleEntry !== undefined ? cachedPaths(ruleEntry, ruleList) : NO_PATHS;
    // Only the shares whose grantee could include the subject: a decision never reads the others.
    // An item without shares takes the same path (over an empty index), so the two cost the same.
    const shareList = sharesFor(itemShares(item) ?? NO_SHARES, subjectKeys(slot, subject), item.orgId !== token.orgId);
    return { token, subject, shares: shareList, rules: ruleList, sitePaths: shareList.length === 0 ? rulePaths : withSharePaths(rulePaths, shareList) };
  }

  options.backdoor?.({
    readToken: async (tokenId) => copyOf(tokens.get(tokenId)),
    readMembership: async (orgId, userId) => copyOf(memberships.get(orgId)?.get(userId)),
    readServiceUser: async (id) => copyOf(serviceUsers.get(id)),
    dump: async () => JSON.stringify([orgs, users, memberships, permissionSets, groups, sites, serviceUsers, shares, rules, tokens].map((m) => [...m.entries()])),
  });

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
      storePermissionSet(set);
    },
    async insertPermissionSet(set) {
      if (permissionSets.has(set.id)) return false;
      storePermissionSet(set);
      return true;
    },
    async getPermissionSet(id) {
      return permissionSets.get(id) ?? null;
    },
    async putGroup(group) {
      if (groups.has(group.id)) return false;
      groups.set(group.id, Object.freeze({ ...group }));
      return true;
    },
    async getGroup(id) {
      return groups.get(id) ?? null;
    },
    async putSite(site) {
      if (sites.has(site.id)) return false;
      sites.set(site.id, Object.freeze({ ...site, path: [...site.path] }));
      for (const above of site.path) {
        let under = sitesUnder.get(above);
        if (under === undefined) sitesUnder.set(above, (under = new Set()));
        under.add(site.id);
      }
      sitesVersion++;
      return true;
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
      // Ids are never reused, in any organization: a second put under one id changes nothing.
      if (shares.has(share.id)) return false;
      const byId = nested(nested(sharesByItem, share.item.orgId), share.item.type);
      let entry = byId.get(share.item.id);
      if (entry === undefined) {
        const item = Object.freeze({ orgId: share.item.orgId, type: share.item.type, id: share.item.id });
        byId.set(item.id, (entry = { item, all: new Map(), byGrantee: new Map(), byGroup: new Map(), bySite: new Map() }));
      }
      // The shares of one item share one frozen item key, and equal grantees one frozen grantee.
      const frozen: Share = Object.freeze({ ...share, item: entry.item, grantee: internGrantee(share.grantee) });
      shares.set(frozen.id, frozen);
      shareSeq.set(frozen, nextSeq++);
      listShare(entry, frozen);
      index(sharesByGrantee, `${frozen.item.type}\0${granteeKey(frozen.grantee)}`, frozen);
      return true;
    },
    async deleteShare(orgId, shareId) {
      const share = shares.get(shareId);
      if (share === undefined || share.item.orgId !== orgId) return false;
      shares.delete(shareId);
      index(sharesByGrantee, `${share.item.type}\0${granteeKey(share.grantee)}`, share, true);
      unlistShare(share);
      return true;
    },
    async listShares(item) {
      return [...(itemShares(item)?.all.values() ?? NONE)];
    },
    async putRule(rule) {
      if (rules.has(rule.id)) return false;
      const frozen = Object.freeze({ ...rule, grantee: { ...rule.grantee } });
      index(rulesByGrantee, `${frozen.itemType}\0${granteeKey(frozen.grantee)}`, frozen);
      rules.set(rule.id, frozen);
      const byType = nested(rulesByType, rule.orgId);
      byType.set(rule.itemType, entry([...(byType.get(rule.itemType)?.list ?? NONE), frozen]));
      return true;
    },
    async deleteRule(orgId, ruleId) {
      const rule = rules.get(ruleId);
      if (rule === undefined || rule.orgId !== orgId) return false;
      rules.delete(ruleId);
      index(rulesByGrantee, `${rule.itemType}\0${granteeKey(rule.grantee)}`, rule, true);
      unlistRule(rule);
      return true;
    },

    async insertToken(token, admit) {
      // Synchronous from the read to the insert: nothing else runs in between (the owner's lock).
      const owner = ownerKey(token);
      const owned = (tokensByOwner.get(owner) ?? NONE).map((t) => ({ token: { ...t }, subject: stateOf(t) }));
      const admitted = admit({ ...token }, { subject: stateOf(token), tokens: owned, now: null });
      if (!admitted.ok) return admitted;
      const record = { ...token };
      tokens.set(record.id, record);
      lastLoaded = null;
      tokensByHash.set(record.hash, { token: record, subject: null, at: -1, keys: null });
      const list = tokensByOrg.get(record.orgId);
      if (list === undefined) tokensByOrg.set(record.orgId, [record]);
      else list.push(record);
      const mine = tokensByOwner.get(owner);
      if (mine === undefined) tokensByOwner.set(owner, [record]);
      else mine.push(record);
      return admitted;
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
      for (const stored of source ?? NONE) {
        const t = withKnownUse(stored, query.knownUses);
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
    async revokeToken(tokenId, at, how, cause) {
      const t = tokens.get(tokenId);
      if (t === undefined) return null;
      const changed = how === "delete" ? t.deletedAt === null : t.deletedAt === null && t.revokedAt === null;
      if (changed) {
        if (how === "delete") t.deletedAt = at;
        else {
          t.revokedAt = at;
          if (cause !== undefined) t.revokedCause = cause;
        }
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
      const subjectKeysNow = subjectKeys(slot, subject);
      const keys = [...subjectKeysNow.base];
      for (const g of subjectKeysNow.groups) keys.push(`g\0${g}`);
      for (const s of subjectKeysNow.covered) keys.push(`t\0${s}`);
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
