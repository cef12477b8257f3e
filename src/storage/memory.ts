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
import { compileRules, compileShares, compileSubject, noGrants } from "../core/compile.js";
import { granteeKey } from "../core/grantees.js";
import { isTokenActive, mergeClients, subjectState, tokenSortKey, tokenStatus, warningIsNew, type SubjectState } from "../core/lifecycle.js";
import type {
  AccessRule,
  CompiledSubject,
  DecisionInput,
  Grantee,
  GrantIndex,
  Group,
  ItemRef,
  LoadedSubject,
  Membership,
  Organization,
  PermissionSet,
  ServiceUser,
  Share,
  Site,
  SubjectKind,
  TokenRecord,
  User,
} from "../core/types.js";
import { comparePositions, compareText, keysetPage } from "./paging.js";
import { DigestIndex, type DigestEntry } from "./digest-index.js";
import { offerOwnReads } from "./own-reads.js";
import type { ClientsSeen, KeywardStore, MemberEntry, PagePosition, StoreBackdoor, SubjectAccess, SyncReads, TokenListEntry } from "./types.js";

/** `T` with its fields writable (a view this module keeps current in place). */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NONE: readonly never[] = Object.freeze([]);

/**
 * The rules of one item type (copy-on-write: replaced on every write, never mutated), with their
 * compiled grant index cached for reads: valid while no site was added since (`at`).
 */
interface Entry<T> {
  list: readonly T[];
  grants: GrantIndex | null;
  at: number;
}

function entry<T>(list: readonly T[]): Entry<T> {
  return { list, grants: null, at: -1 };
}

/**
 * The shares of one item: every share in put order (`listShares`), and their compiled grant
 * index by grantee key (built on the first decision read after a change: a put, a delete, a new
 * site), which a decision reads only under its subject's keys. A put or a delete is O(1), never a
 * copy of the item's list.
 */
interface ItemShares {
  /** The item key its shares share (one frozen object). */
  item: Readonly<{ orgId: string; type: string; id: string }>;
  /** share id → share, in put order */
  all: Map<string, Share>;
  grants: GrantIndex | null;
  /** `sitesVersion` when `grants` was built */
  at: number;
}

/**
 * A token under its digest. `token` is the store's own record (writes change it in place);
 * `snapshot` the frozen copy reads hand out, remade when the record changed; `view` the copy
 * keyward's own pipeline reads (`own-reads.ts`), kept current in place. The loaded and
 * compiled subject are cached until a write they depend on (`at`).
 */
interface TokenSlot {
  token: TokenRecord;
  snapshot: TokenRecord | null;
  view: TokenRecord | null;
  subject: LoadedSubject | null;
  compiled: CompiledSubject | null;
  at: number;
}

/** How many compiled subjects keyward's own list reads keep grants for (the memory store's `keptGrantsFor`). */
const KEPT_GRANTS = 1024;

/** The grants of one list read, frozen, with the versions of the shares, rules and sites they were found at. */
interface KeptGrants {
  shares: readonly Share[];
  rules: readonly AccessRule[];
  sitePaths: Readonly<Record<string, readonly string[]>>;
  grantsAt: number;
  sitesAt: number;
}

/** Whether a frozen snapshot still shows the record (the fields writes change). */
function current(snapshot: TokenRecord, t: TokenRecord): boolean {
  return (
    snapshot.lastUsedAt === t.lastUsedAt &&
    snapshot.revokedAt === t.revokedAt &&
    snapshot.deletedAt === t.deletedAt &&
    snapshot.expiredAt === t.expiredAt &&
    snapshot.policyExpiresAt === (t.policyExpiresAt ?? null) &&
    snapshot.revokedCause === t.revokedCause
  );
}

/**
 * A frozen copy of a token record, its fields always in one order: every snapshot has the same
 * shape, so the code that reads them (the decision) stays monomorphic.
 */
function frozenToken(t: TokenRecord): TokenRecord {
  return Object.freeze(tokenCopy(t));
}

/** The fields of {@link current}, copied from the record into a view (in place: no allocation but a changed time's number). */
function refresh(view: Mutable<TokenRecord>, t: TokenRecord): void {
  view.lastUsedAt = t.lastUsedAt;
  view.revokedAt = t.revokedAt;
  view.deletedAt = t.deletedAt;
  view.expiredAt = t.expiredAt;
  view.policyExpiresAt = t.policyExpiresAt ?? null;
  view.revokedCause = t.revokedCause;
}

/**
 * A copy of a token record with every field, always in one order (one shape for all copies):
 * first the fields every decision reads, so that they share the copy's first cache lines.
 */
function tokenCopy(t: TokenRecord): TokenRecord {
  return {
    hash: t.hash,
    kind: t.kind,
    revokedAt: t.revokedAt,
    deletedAt: t.deletedAt,
    expiredAt: t.expiredAt,
    lastUsedAt: t.lastUsedAt,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt ?? null,
    policyExpiresAt: t.policyExpiresAt ?? null,
    epoch: t.epoch,
    orgId: t.orgId,
    id: t.id,
    revokedCause: t.revokedCause,
    previousHash: t.previousHash ?? null,
    previousHashUntil: t.previousHashUntil ?? null,
    subjectId: t.subjectId,
    name: t.name,
    hint: t.hint,
    createdBy: t.createdBy,
    restriction: t.restriction ?? null,
    rotatedAt: t.rotatedAt ?? null,
    warnedDeadline: t.warnedDeadline ?? null,
    warnedThresholdMs: t.warnedThresholdMs ?? null,
    clients: t.clients ?? null,
  };
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
  const rules = new Map<string, AccessRule>();
  /** orgId → item type → rules */
  const rulesByType = new Map<string, Map<string, Entry<AccessRule>>>();
  /** `itemType\0granteeKey` → share id → share (for `loadAccess`); always the objects of `shares` */
  const sharesByGrantee = new Map<string, Map<string, Share>>();
  /** `itemType\0granteeKey` → rule id → rule (for `loadAccess`) */
  const rulesByGrantee = new Map<string, Map<string, AccessRule>>();
  /** site id → the site and every site below it */
  const sitesUnder = new Map<string, Set<string>>();
  /** Bumped when a site is added: cached grant indexes are rebuilt. */
  let sitesVersion = 0;
  const tokens = new Map<string, TokenRecord>();
  /** digest → the token, with its loaded subject cached until a write it depends on (`at`) */
  const tokensByHash = new Map<string, TokenSlot>();
  /** {@link tokensByHash} by the digests' words: keyward's own reads take the digest as words (no string made per call). */
  const digests = new DigestIndex<TokenSlot>();
  /** The entry the last `findDigest` found: the read that follows it takes its slot without a lookup (consumed by that read, cleared by a write of digests). */
  let found: DigestEntry<TokenSlot> | null = null;
  /** The token of the last `loadDecision`: `authorize()` records its use right after (saves a lookup). Always `tokens.get(lastLoaded.id)`. */
  let lastLoaded: TokenRecord | null = null;
  /**
   * The one decision input keyward's own reads fill in and return (no object per call). The
   * pipeline reads it only until its first wait or event, and copies it before either: a call
   * made from an event sink fills it in anew.
   */
  let ownInput: DecisionInput | null = null;
  /** Bumped by every write of a share or a rule (what {@link keptGrantsFor} keeps depends on them). */
  let grantsVersion = 0;
  /** keyward's own list reads' grants, by compiled subject (least recently used first), then item type. */
  const keptGrants = new Map<CompiledSubject, Map<string, KeptGrants>>();
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

  /** A site's path (root … site), or `undefined` when there is no such site. */
  const pathOf = (siteId: string): readonly string[] | undefined => sites.get(siteId)?.path;

  /** The compiled grants of a rule list, rebuilt when the list changed or a site was added. */
  function ruleGrants(e: Entry<AccessRule>): GrantIndex {
    if (e.grants === null || e.at !== sitesVersion) {
      e.grants = compileRules(e.list, pathOf);
      e.at = sitesVersion;
    }
    return e.grants;
  }

  /** The compiled grants of an item's shares, rebuilt after a put, a delete or a new site. */
  function shareGrants(e: ItemShares): GrantIndex {
    if (e.grants === null || e.at !== sitesVersion) {
      e.grants = compileShares([...e.all.values()], pathOf);
      e.at = sitesVersion;
    }
    return e.grants;
  }

  function itemShares(item: { orgId: string; type: string; id: string }): ItemShares | undefined {
    return sharesByItem.get(item.orgId)?.get(item.type)?.get(item.id);
  }

  /** Adds a share (frozen, on `entry`'s item key) at the end of its item's shares: O(1). */
  function listShare(entry: ItemShares, share: Share): void {
    entry.all.set(share.id, share);
    entry.grants = null;
  }

  /** Removes a share from its item's shares: O(1) (the caller keeps `shares` and the grantee index right). */
  function unlistShare(share: Share): void {
    const byId = sharesByItem.get(share.item.orgId)?.get(share.item.type);
    const entry = byId?.get(share.item.id);
    if (entry === undefined) return;
    entry.all.delete(share.id);
    entry.grants = null;
    if (entry.all.size === 0) byId!.delete(share.item.id);
  }

  /** Removes a rule from its organization's list for its item type. */
  function unlistRule(rule: AccessRule): void {
    const byType = nested(rulesByType, rule.orgId);
    byType.set(rule.itemType, entry((byType.get(rule.itemType)?.list ?? NONE).filter((r) => r.id !== rule.id)));
  }

  /** A frozen copy of a loaded subject with its records allocated together (read faster than scattered ones). */
  function packSubject(subject: LoadedSubject): LoadedSubject {
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

  /** The loaded and compiled subject of a token, cached in its slot until a write it depends on (a site too: keys). */
  function cachedSubject(slot: TokenSlot): CompiledSubject {
    if (slot.compiled === null || slot.at !== subjectsVersion + sitesVersion * 0x100000000) {
      slot.subject = packSubject(loadSubject(slot.token));
      slot.compiled = compileSubject({ token: slot.token, subject: slot.subject });
      slot.at = subjectsVersion + sitesVersion * 0x100000000;
    }
    return slot.compiled;
  }

  /** The frozen snapshot of a slot's token: the caller cannot change the store through it. Remade only when a write changed the record. */
  function snapshotOf(slot: TokenSlot): TokenRecord {
    const s = slot.snapshot;
    if (s !== null && current(s, slot.token)) return s;
    return (slot.snapshot = frozenToken(slot.token));
  }

  /**
   * The slot's token as keyward's own pipeline reads it: one copy per slot, brought up to date
   * in place. A snapshot is remade after every write, and with a clock that moves, every use is
   * one (`lastUsedAt`): a copy of the whole record per call. The pipeline never changes the token
   * it reads, and nothing it hands out holds it, so it needs no snapshot of its own.
   */
  function viewOf(slot: TokenSlot): TokenRecord {
    const v = slot.view;
    if (v === null) return (slot.view = tokenCopy(slot.token));
    if (!current(v, slot.token)) refresh(v as Mutable<TokenRecord>, slot.token);
    return v;
  }

  /** The shares and rules of `itemType` whose grantee is one of the subject's keys, with the paths of the sites they name (`loadAccess`). */
  function grantsFor(compiled: CompiledSubject, itemType: string): Pick<AccessInput, "shares" | "rules" | "sitePaths"> {
    // The subject's grantee keys (the core's); a member site's key stands for it and every site below it (R13).
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const key of compiled.keys) {
      if (!key.startsWith("t\0")) keys.push(key);
      else for (const below of sitesUnder.get(key.slice(2)) ?? NONE) {
        if (seen.has(below)) continue;
        seen.add(below);
        keys.push(`t\0${below}`);
      }
    }
    const found: Share[] = [];
    const foundRules: AccessRule[] = [];
    const sitePaths: Record<string, readonly string[]> = {};
    for (const key of keys) {
      const k = `${itemType}\0${key}`;
      const byShare = sharesByGrantee.get(k);
      const byRule = rulesByGrantee.get(k);
      if (byShare !== undefined) for (const share of byShare.values()) found.push(share);
      if (byRule !== undefined) for (const rule of byRule.values()) foundRules.push(rule);
      if ((byShare !== undefined || byRule !== undefined) && key.startsWith("t\0")) {
        const site = sites.get(key.slice(2));
        if (site !== undefined) sitePaths[site.id] = site.path;
      }
    }
    return { shares: found, rules: foundRules, sitePaths };
  }

  /**
   * {@link grantsFor} for keyward's own list reads: frozen lists, kept for the
   * {@link KEPT_GRANTS} compiled subjects listed most recently and handed out again until a share,
   * a rule or a site is written. The same frozen lists let the core hand out the filter it built for them
   * (`decideAccess`), so a repeated `accessible()` costs no work per share.
   */
  function keptGrantsFor(compiled: CompiledSubject, itemType: string): KeptGrants {
    let byType = keptGrants.get(compiled);
    if (byType !== undefined) {
      const kept = byType.get(itemType);
      if (kept !== undefined && kept.grantsAt === grantsVersion && kept.sitesAt === sitesVersion) {
        // Most recently used last: the least recently used subject is dropped first.
        keptGrants.delete(compiled);
        keptGrants.set(compiled, byType);
        return kept;
      }
    } else {
      if (keptGrants.size >= KEPT_GRANTS) keptGrants.delete(keptGrants.keys().next().value!);
      keptGrants.set(compiled, (byType = new Map()));
    }
    const found = grantsFor(compiled, itemType);
    const kept: KeptGrants = {
      shares: Object.freeze(found.shares),
      rules: Object.freeze(found.rules),
      sitePaths: Object.freeze(found.sitePaths),
      grantsAt: grantsVersion,
      sitesAt: sitesVersion,
    };
    byType.set(itemType, kept);
    return kept;
  }

  function stateOf(token: TokenRecord): SubjectState {
    return subjectState(loadSubject(token));
  }

  function subjectName(token: TokenRecord): string {
    return token.kind === "user"
      ? (users.get(token.subjectId)?.name ?? token.subjectId)
      : (serviceUsers.get(token.subjectId)?.name ?? token.subjectId);
  }

  function recordTokenUseNow(tokenId: string, at: number, clients?: ClientsSeen): void {
    const t = lastLoaded !== null && lastLoaded.id === tokenId ? lastLoaded : tokens.get(tokenId);
    if (t === undefined || t.expiredAt !== null) return;
    if (t.lastUsedAt === null || at > t.lastUsedAt) t.lastUsedAt = at;
    if (clients !== undefined && clients.seen.length > 0) t.clients = Object.freeze(mergeClients(t.clients ?? NONE, clients.seen, clients.max).map((c) => Object.freeze(c)));
  }

  function storePermissionSet(set: PermissionSet): void {
    permissionSets.set(set.id, Object.freeze({ ...set, permissions: Object.freeze([...set.permissions]) as string[] }));
    subjectsVersion++;
  }

  /** Lists a digest of a token: found by its text, and by its words. */
  function listDigest(digest: string, slot: TokenSlot): void {
    tokensByHash.set(digest, slot);
    digests.set(digest, slot);
    found = null;
  }

  /** Unlists a digest of a token (a previous secret dropped). */
  function unlistDigest(digest: string): void {
    tokensByHash.delete(digest);
    digests.delete(digest);
    found = null;
  }

  /** The slot of a digest: the one `findDigest` just found (its digest, then, is this very string), else by lookup. */
  function slotOf(tokenHash: string): TokenSlot | undefined {
    const f = found;
    if (f === null) return tokensByHash.get(tokenHash);
    found = null;
    return f.digest === tokenHash ? f.value : tokensByHash.get(tokenHash);
  }

  /**
   * The read for one decision: the token's snapshot, its subject (loaded and compiled, cached),
   * and the compiled grants of the item's shares and of its organization's rules for its type
   * (cached). Nothing is copied or filtered per call: `decide()` looks grants up by the subject's
   * keys, so an item with many shares and a missing item cost the same. With `own` (keyward's
   * pipeline), the token is the slot's kept-current copy and the input is {@link ownInput}.
   */
  function loadDecisionNow(tokenHash: string, item: ItemRef | null, own = false): DecisionInput | null {
    const slot = slotOf(tokenHash);
    if (slot === undefined) return null;
    lastLoaded = slot.token;
    const compiled = cachedSubject(slot);
    const token = own ? viewOf(slot) : snapshotOf(slot);
    let shares = noGrants();
    let rules = shares;
    if (item !== null) {
      const ruleEntry = rulesByType.get(item.orgId)?.get(item.type);
      const itemEntry = itemShares(item);
      if (itemEntry !== undefined) shares = shareGrants(itemEntry);
      if (ruleEntry !== undefined) rules = ruleGrants(ruleEntry);
    }
    if (!own) return { token, subject: slot.subject!, compiled, shares, rules };
    if (ownInput === null) return (ownInput = { token, subject: slot.subject!, compiled, shares, rules });
    const input = ownInput as Mutable<DecisionInput>;
    input.token = token;
    input.subject = slot.subject!;
    input.compiled = compiled;
    input.shares = shares;
    input.rules = rules;
    return input;
  }

  /** The read for one list filter: the token and its subject as {@link loadDecisionNow} reads them, and the grants under the subject's keys. */
  function loadAccessNow(tokenHash: string, query: { itemType: string }, own = false): AccessInput | null {
    const slot = slotOf(tokenHash);
    if (slot === undefined) return null;
    lastLoaded = slot.token;
    const compiled = cachedSubject(slot);
    const token = own ? viewOf(slot) : snapshotOf(slot);
    const { shares, rules, sitePaths } = own ? keptGrantsFor(compiled, query.itemType) : grantsFor(compiled, query.itemType);
    return { token, subject: slot.subject!, compiled, shares, rules, sitePaths };
  }

  options.backdoor?.({
    readToken: async (tokenId) => copyOf(tokens.get(tokenId)),
    readMembership: async (orgId, userId) => copyOf(memberships.get(orgId)?.get(userId)),
    readServiceUser: async (id) => copyOf(serviceUsers.get(id)),
    dump: async () => JSON.stringify([orgs, users, memberships, permissionSets, groups, sites, serviceUsers, shares, rules, tokens].map((m) => [...m.entries()])),
  });

  const store: KeywardStore = {
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
        byId.set(item.id, (entry = { item, all: new Map(), grants: null, at: -1 }));
      }
      // The shares of one item share one frozen item key, and equal grantees one frozen grantee.
      const frozen: Share = Object.freeze({ ...share, item: entry.item, grantee: internGrantee(share.grantee) });
      shares.set(frozen.id, frozen);
      listShare(entry, frozen);
      grantsVersion++;
      index(sharesByGrantee, `${frozen.item.type}\0${granteeKey(frozen.grantee)}`, frozen);
      return true;
    },
    async deleteShare(orgId, shareId) {
      const share = shares.get(shareId);
      if (share === undefined || share.item.orgId !== orgId) return false;
      shares.delete(shareId);
      grantsVersion++;
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
      grantsVersion++;
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
      grantsVersion++;
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
      listDigest(record.hash, { token: record, snapshot: null, view: null, subject: null, compiled: null, at: -1 });
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
        page.offer(t, { key: tokenSortKey(t, query.sort, query.inactivityMs), id: t.id });
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
    async rotateToken(tokenId, change) {
      // Synchronous from the comparison to the write: of racing rotations only the first finds `expectHash`.
      const t = tokens.get(tokenId);
      if (t === undefined) return null;
      if (t.hash !== change.expectHash || t.revokedAt !== null || t.deletedAt !== null || t.expiredAt !== null) return { token: { ...t }, changed: false };
      const slot = tokensByHash.get(t.hash)!;
      // Only one previous secret: the one before it stops being found at all.
      if (t.previousHash != null && t.previousHash !== t.hash) unlistDigest(t.previousHash);
      t.previousHash = t.hash;
      t.previousHashUntil = change.previousHashUntil;
      t.rotatedAt = change.at;
      t.hash = change.hash;
      t.hint = change.hint;
      // Both digests find the one slot; its snapshot and view are remade at the next read.
      slot.snapshot = null;
      slot.view = null;
      listDigest(t.hash, slot);
      return { token: { ...t }, changed: true };
    },
    async markTokenExpired(tokenId, at) {
      const t = tokens.get(tokenId);
      if (t === undefined || t.expiredAt !== null) return false;
      t.expiredAt = at;
      return true;
    },
    async setTokenPolicyExpiry(changes) {
      const written: string[] = [];
      for (const { tokenId, policyExpiresAt } of changes) {
        const t = tokens.get(tokenId);
        if (t === undefined || t.revokedAt !== null || t.deletedAt !== null || t.expiredAt !== null) continue;
        t.policyExpiresAt = policyExpiresAt;
        written.push(tokenId);
      }
      return written;
    },
    async recordTokenUse(tokenId: string, at: number, clients?: ClientsSeen) {
      recordTokenUseNow(tokenId, at, clients);
    },
    async markTokenWarned(tokenId, deadline, thresholdMs) {
      const t = tokens.get(tokenId);
      if (t === undefined || !warningIsNew(t, deadline, thresholdMs)) return false;
      t.warnedDeadline = deadline;
      t.warnedThresholdMs = thresholdMs;
      return true;
    },
    async loadDecision(tokenHash: string, item: ItemRef | null) {
      return loadDecisionNow(tokenHash, item);
    },

    async loadAccess(tokenHash: string, query: { itemType: string }): Promise<AccessInput | null> {
      return loadAccessNow(tokenHash, query);
    },

    async loadSubjectAccess(subject: { orgId: string; kind: SubjectKind; subjectId: string }, query: { itemType: string }): Promise<SubjectAccess> {
      // Only the fields loadSubject and compileSubject read: the subject's kind, id and organization.
      const token = { kind: subject.kind, orgId: subject.orgId, subjectId: subject.subjectId } as TokenRecord;
      const loaded = packSubject(loadSubject(token));
      return { subject: loaded, ...grantsFor(compileSubject({ token, subject: loaded }), query.itemType) };
    },

    async close() {},
  };
  /** The synchronous reads: the public ones (frozen snapshots), or keyward's own (`own`, the kept-current copy). */
  const readsOf = (own: boolean): SyncReads =>
    Object.freeze({
      store,
      loadDecision: (tokenHash: string, item: ItemRef | null) => loadDecisionNow(tokenHash, item, own),
      loadAccess: (tokenHash: string, query: { itemType: string }) => loadAccessNow(tokenHash, query, own),
      recordTokenUse: recordTokenUseNow,
    });
  const sync = readsOf(false);
  // keyward's own reads also find a digest by its words (the pipeline makes no digest string).
  offerOwnReads(
    sync,
    Object.freeze({
      ...readsOf(true),
      findDigest(words: Int32Array) {
        found = digests.find(words);
        return found === null ? null : found.digest;
      },
    }),
  );
  return Object.assign(store, { sync });
}
