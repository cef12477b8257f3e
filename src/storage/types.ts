/**
 * The storage contract: a few domain-named async methods, every one required. Absence is
 * `null` or `[]`, never an exception; a failure of the store itself throws (and keyward turns it
 * into `unavailable`, failing closed).
 *
 * Rules live in `src/core`, not here: a store keeps data, answers the two reads (one for a
 * decision, one for a list filter), and makes the few writes that must be atomic atomic, running
 * the rule it is given where a rule decides the write (token admission, under the quota owner's
 * lock). The contract comes in parts — {@link DirectoryStore}, {@link TokenStore},
 * {@link DecisionReads}, {@link StoreLifecycle} — and `KeywardStore` is their intersection; each
 * atomic operation states its concurrency contract. Speed-ups (a read cache, coalesced last
 * uses) are layers over any store (`keyward/layers`). The conformance suite in `keyward/testing`
 * checks any implementation against this contract, reading writes back through a raw back door
 * ({@link StoreBackdoor}).
 * @module
 */
import type { AccessInput } from "../core/access.js";
import type {
  AccessRule,
  DecisionInput,
  Group,
  ItemRef,
  Membership,
  Organization,
  PermissionSet,
  ServiceUser,
  Share,
  RevocationCause,
  Site,
  SubjectKind,
  TokenClient,
  TokenRecord,
  TokenView,
  User,
} from "../core/types.js";
import type { TokenSort } from "../core/lifecycle.js";
import type { Admission, AdmissionRule } from "../core/admit.js";

export type { Admission, AdmissionRule, OwnedToken, QuotaOwnerState, TokenQuota } from "../core/admit.js";
/**
 * The outcome of {@link TokenStore.insertToken} (the rule's {@link Admission}).
 *
 * @example
 * ```ts
 * const result: InsertTokenResult = await store.insertToken(record, admission(quota));
 * ```
 */
export type InsertTokenResult = Admission;

/**
 * What {@link TokenStore.rotateToken} writes (R18): the new secret's digest and hint, in place of
 * `expectHash`, which becomes the previous secret until `previousHashUntil`.
 *
 * @example
 * ```ts
 * const change: TokenRotation = { expectHash: token.hash, hash: digest, hint: "kws_…9f2c", previousHashUntil: now + 86_400_000, at: now };
 * ```
 */
export interface TokenRotation {
  /** The digest the caller read: the rotation happens only if it is still the token's current one. */
  expectHash: string;
  /** The new secret's digest. */
  hash: string;
  /** The new secret's hint. */
  hint: string;
  /** Until when (epoch ms, exclusive) the secret of `expectHash` still works. */
  previousHashUntil: number;
  /** When it is rotated (`rotatedAt`). */
  at: number;
}

/** A token together with what its status depends on, for listings. */
export interface TokenListEntry {
  token: TokenRecord;
  /** The display name of the token's subject (user or service user). */
  subjectName: string;
  /** Whether the subject is active, and (user tokens) its current membership epoch. */
  subject: { active: boolean; epoch: string | null };
}

/**
 * The clients seen with a use (opt-in tracking), for {@link TokenStore.recordTokenUse}: most
 * recent first, and how many a token keeps.
 *
 * @example
 * ```ts
 * const seen: ClientsSeen = { seen: [{ ip: "203.0.113.7", userAgent: "curl/8.5", lastSeenAt: now }], max: 5 };
 * ```
 */
export interface ClientsSeen {
  seen: readonly TokenClient[];
  max: number;
}

/** Which tokens to list. */
export interface TokenFilter {
  orgId: string;
  kind?: SubjectKind;
  /** The user's or service user's id. */
  subjectId?: string;
}

/** A member of an organization with the person's record. */
export interface MemberEntry {
  membership: Membership;
  user: User;
}

/** Where a page starts: strictly after this (sort key, id) pair in the listing's order. */
export interface PagePosition {
  key: number;
  id: string;
}

/**
 * One page of tokens (see {@link TokenStore.pageTokens}). Statuses are `tokenStatus` at
 * `now` with `inactivityMs` (R6, R7), as the listing shows them.
 */
export interface TokenPageQuery extends TokenFilter {
  /** The statuses to list (at least one). */
  statuses: readonly TokenView["status"][];
  /** Case-insensitive substring of the token's name or of its subject's display name; `null`: no search. */
  search: string | null;
  sort: TokenSort;
  order: "asc" | "desc";
  /** Start strictly after this position (keyset), `null` for the first page. */
  after: PagePosition | null;
  /** At most this many entries (1 or more). */
  limit: number;
  now: number;
  inactivityMs: number;
  /**
   * Last uses the caller knows of that the store may not have written yet (token id → time; a
   * last-use coalescing layer passes its own): the status, the search and the sort treat each
   * as if recorded (the later of the two), and the entries show it. Absent: none.
   */
  knownUses?: ReadonlyMap<string, number>;
}

/** A page of tokens and how many match the query's filters (statuses, search) in all. */
export interface TokenPage {
  entries: TokenListEntry[];
  total: number;
}

/** One page of an organization's members, ordered by the person's name, then user id (code-unit order). */
export interface MemberPageQuery {
  orgId: string;
  /** The membership statuses to list (at least one). */
  statuses: readonly Membership["status"][];
  /** Case-insensitive substring of the person's name or user id; `null`: no search. */
  search: string | null;
  /** Start strictly after this (name, user id) pair, `null` for the first page. */
  after: { name: string; id: string } | null;
  limit: number;
}

/** A page of members and how many match the query's filters in all. */
export interface MemberPage {
  entries: MemberEntry[];
  total: number;
}

/**
 * The directory part of the store contract: organizations, people and their memberships,
 * permission sets, groups, sites, service users, shares and access rules. Atomic operations
 * state their concurrency contract; the others are single writes or reads.
 *
 * @example
 * ```ts
 * const directory: DirectoryStore = memoryStore();
 * ```
 */
export interface DirectoryStore {
  /** Inserts or replaces an organization. */
  putOrganization(org: Organization): Promise<void>;
  getOrganization(orgId: string): Promise<Organization | null>;
  /** Inserts or replaces a person. */
  putUser(user: User): Promise<void>;
  getUser(userId: string): Promise<User | null>;

  getMembership(orgId: string, userId: string): Promise<Membership | null>;
  /**
   * Atomically reads the membership of `userId` in `orgId` (or `null`), passes it to `update`,
   * and stores what it returns. `update` is pure and may throw to abort, in which case nothing
   * is written and the error propagates.
   *
   * Concurrency: callers on one membership are serialized, each `update` seeing the result of
   * the previous one: of N racing updates none is lost. It is the lock {@link TokenStore.insertToken}
   * takes for a user token, so a deactivation and a creation never interleave.
   */
  updateMembership(
    orgId: string,
    userId: string,
    update: (current: Membership | null) => Membership,
  ): Promise<Membership>;
  /** Every membership of the organization (all statuses), with the person's record. For bookkeeping (seat counts); people see {@link DirectoryStore.pageMembers}. */
  listMembers(orgId: string): Promise<MemberEntry[]>;
  /**
   * One page of the organization's members matching the query, ordered by the person's name
   * then user id (both in code-unit order, `COLLATE "C"` in SQL), and the number matching in
   * all. A person without a record sorts and searches by the user id.
   */
  pageMembers(query: MemberPageQuery): Promise<MemberPage>;

  /** Inserts or replaces a permission set (`updatePermissionSet`; its id and organization never change). */
  putPermissionSet(set: PermissionSet): Promise<void>;
  /**
   * Inserts a permission set unless one with its id exists, in any organization; resolves to
   * whether it inserted (ids are never taken over across organizations).
   *
   * Concurrency: of N racing callers with one id exactly one gets `true`; the others write
   * nothing.
   */
  insertPermissionSet(set: PermissionSet): Promise<boolean>;
  getPermissionSet(id: string): Promise<PermissionSet | null>;
  /** Inserts a group unless one with its id exists (in any organization); whether it inserted. Atomic, as {@link DirectoryStore.insertPermissionSet}. */
  putGroup(group: Group): Promise<boolean>;
  getGroup(id: string): Promise<Group | null>;
  /** Inserts a site unless one with its id exists (in any organization); whether it inserted. Atomic, as {@link DirectoryStore.insertPermissionSet}. A site's parent and path never change. */
  putSite(site: Site): Promise<boolean>;
  getSite(id: string): Promise<Site | null>;

  getServiceUser(id: string): Promise<ServiceUser | null>;
  /**
   * Atomically reads the service user `id` (or `null`), passes it to `update`, stores the
   * result. Same serialization contract as {@link DirectoryStore.updateMembership}.
   */
  updateServiceUser(id: string, update: (current: ServiceUser | null) => ServiceUser): Promise<ServiceUser>;
  /** Every service user of the organization, deleted ones included. */
  listServiceUsers(orgId: string): Promise<ServiceUser[]>;

  /** Inserts a share unless one with its id exists (on any item); whether it inserted. Atomic, as {@link DirectoryStore.insertPermissionSet}. */
  putShare(share: Share): Promise<boolean>;
  /** Deletes a share of an item of `orgId`; `false` if there was none (or it is on another organization's item). */
  deleteShare(orgId: string, shareId: string): Promise<boolean>;
  /** The shares of one item. */
  listShares(item: { orgId: string; type: string; id: string }): Promise<Share[]>;
  /** Inserts an access rule unless one with its id exists (in any organization); whether it inserted. Atomic, as {@link DirectoryStore.insertPermissionSet}. */
  putRule(rule: AccessRule): Promise<boolean>;
  /** Deletes an access rule of `orgId`; `false` if there was none (or it is another organization's). */
  deleteRule(orgId: string, ruleId: string): Promise<boolean>;
  /**
   * R17 (`tokens.previewReach`): what {@link DecisionReads.loadAccess} reads for a token of this
   * subject, without a token — the subject (membership or service user, and permissions) and
   * every share and rule of `itemType` whose grantee could include it, with the paths of the
   * sites they name; the same grantees as `loadAccess`. Never cached: a preview reads fresh state.
   */
  loadSubjectAccess(subject: { orgId: string; kind: SubjectKind; subjectId: string }, query: { itemType: string }): Promise<SubjectAccess>;
}

/** What {@link DirectoryStore.loadSubjectAccess} reads: an `AccessInput` without its token. */
export type SubjectAccess = Pick<AccessInput, "subject" | "shares" | "rules" | "sitePaths">;

/**
 * The token part of the store contract: insertion under the admission rule, listings, revocation and the R6 bookkeeping.
 *
 * @example
 * ```ts
 * const tokens: TokenStore = memoryStore();
 * ```
 */
export interface TokenStore {
  /**
   * Inserts `token` if, and only if, `admit` admits it. Under the quota owner's lock (the
   * (organization, user) pair for user tokens: the membership; the organization for service
   * tokens, all its service users together), the store reads the token's subject state, the
   * owner's tokens with their subjects' states and its own time (`null` without a clock), calls
   * `admit` once with them, and inserts only on `{ ok: true }`; it resolves to what `admit`
   * returned. keyward passes `admission(limits)` (R3, R7); `admit` is pure.
   *
   * Concurrency: callers for one quota owner are serialized, each `admit` seeing every token
   * inserted before it, so of N racing callers past the limit, none succeeds, and of N racing
   * for the last free slot exactly one does; the others write nothing. A caller racing a
   * revocation, deactivation or departure sees it only if it committed first.
   */
  insertToken(token: TokenRecord, admit: AdmissionRule): Promise<Admission>;
  getToken(tokenId: string): Promise<TokenRecord | null>;
  /** Tokens matching the filter, oldest first, whatever their state. For bookkeeping (expiry sweeps, events); listings shown to people use {@link pageTokens}. */
  listTokens(filter: TokenFilter): Promise<TokenListEntry[]>;
  /**
   * One page of the tokens matching the filter, the statuses and the search, in the order of
   * `tokenSortKey(token, sort)` then token id (code-unit order), ascending or descending,
   * starting strictly after `after`; and how many match in all (the position ignored). A token's
   * status is `tokenStatus(token, subject, now, inactivityMs)` with the uses the store knows of
   * merged in, exactly as {@link listTokens} would give it. SQL stores filter, count and sort in
   * the database (keyset pagination, one round trip); the conformance suite checks the result
   * against the core functions.
   */
  pageTokens(query: TokenPageQuery): Promise<TokenPage>;
  /**
   * Sets `revokedAt` (or `deletedAt` when `how` is `"delete"`) if the token is neither revoked
   * nor deleted yet; a revocation that changes the token also records `cause`, when
   * given, as its `revokedCause` (R22). Returns the token after the call and whether this call
   * changed it. `null` if there is no such token.
   *
   * Concurrency: of N racing revocations of one token exactly one reports `changed: true`, and
   * only its cause is recorded.
   */
  revokeToken(
    tokenId: string,
    at: number,
    how: "revoke" | "delete",
    cause?: RevocationCause,
  ): Promise<{ token: TokenRecord; changed: boolean } | null>;
  /**
   * R18: rotates the token's secret, compare-and-set: only if its stored `hash` is still
   * `change.expectHash` and it is neither revoked, deleted nor marked expired, sets
   * `previousHash` to that hash (replacing any earlier previous one), `previousHashUntil`,
   * `rotatedAt = change.at`, `hash` and `hint`. From then on {@link DecisionReads.loadDecision}
   * and {@link DecisionReads.loadAccess} find the token by either digest (the core decides
   * whether the previous one still works). Returns the token after the call and whether this
   * call changed it; `null` if there is no such token.
   *
   * Concurrency: of N racing rotations of one token (the same `expectHash`) exactly one reports
   * `changed: true`; the others write nothing, so their secrets never work.
   */
  rotateToken(tokenId: string, change: TokenRotation): Promise<{ token: TokenRecord; changed: boolean } | null>;
  /**
   * Records that the token was seen expired at `at` (sets `expiredAt` if unset). Returns whether
   * this call set it, so that the expiry event is emitted once.
   *
   * Concurrency: of N racing callers for one token exactly one gets `true`.
   */
  markTokenExpired(tokenId: string, at: number): Promise<boolean>;
  /**
   * R19: sets the `policyExpiresAt` of each listed token (an organization's policy applied to its
   * existing tokens), skipping a token that is revoked, deleted or marked expired (it can never
   * come back). Resolves to the ids it wrote. A decision read after it resolves sees the new end.
   *
   * Concurrency: each token is written atomically (a read sees its old end or its new one, never
   * anything else); racing calls leave one of their values.
   */
  setTokenPolicyExpiry(changes: readonly { tokenId: string; policyExpiresAt: number | null }[]): Promise<string[]>;
  /**
   * Records a successful authentication at `at` (R6). The stored last use only ever grows
   * (`max`), and a token already marked expired is never touched. A store may coalesce these
   * writes (at most one per token per window, default 10 minutes; see the `coalesceUses`
   * layer); then the reads must still account for uses it has not written yet, so a token never
   * expires late.
   *
   * With `clients` (opt-in client tracking), the same write also stores the token's clients:
   * `mergeClients(stored, clients.seen, clients.max)` (`keyward/core`): distinct, most recent
   * first, at most `max`. No other write: a coalescing layer merges the clients of the uses it
   * keeps and passes them with the use it flushes.
   *
   * Concurrency: racing uses of one token leave the largest `at` stored (never a smaller one).
   */
  recordTokenUse(tokenId: string, at: number, clients?: ClientsSeen): Promise<void>;
  /**
   * R20: records that the warning for (`deadline`, `thresholdMs`) was sent, if, and only if, the
   * stored one (`warnedDeadline`, `warnedThresholdMs`) is for another deadline or a larger
   * threshold, or there is none (`warningIsNew` of `keyward/core`). Returns whether this call
   * wrote it, so that each warning is emitted once; `false` for an unknown token.
   *
   * Concurrency: of N racing callers with the same arguments exactly one gets `true` (a
   * conditional write, across processes for a shared store).
   */
  markTokenWarned(tokenId: string, deadline: number, thresholdMs: number): Promise<boolean>;
}

/**
 * The two reads of the store contract: one call (one round trip for SQL stores) for one
 * decision, one for one list filter. Everything `authorize()` and `accessible()` read goes
 * through these two, which is what the `cachedReads` layer caches.
 *
 * @example
 * ```ts
 * const input = await (store satisfies DecisionReads).loadDecision(digest, item);
 * ```
 */
export interface DecisionReads {
  /**
   * Everything a decision needs, in one call (one round trip for SQL stores): the token with
   * this digest as its current or its previous one (R18, {@link TokenStore.rotateToken}), its subject (membership or service user, and permissions), and — when `item`
   * is given — the item's shares whose grantee could include the subject, in the item's order
   * (the grantees of {@link DecisionReads.loadAccess}: the user, its groups, a site of its membership or one
   * below it, its organization; or the service user, its organization including service users;
   * a store may leave out group and site shares of another organization's item, R14), the rules
   * of the item's organization for its type, and the paths of the sites those name. Never the
   * item's other shares: a decision's work must not depend on them, so that a denial does not
   * tell by its timing whether another organization's item exists (R15). The conformance suite
   * checks it. `null` when no token has this digest.
   *
   * `kind`, when given, is the kind the presented token's prefix names (keyward passes it from
   * `authorize()`, `accessible()` and `login()`): a store may then read only that kind's subject
   * (the PostgreSQL store runs a statement that opens only memberships or only service users). A
   * token found under the digest whose stored kind is the other one may then come back without
   * its subject; keyward refuses such a token as `token_unknown` (and emits `token.integrity`)
   * before it looks at the subject. A store may ignore `kind` (the memory store does).
   */
  loadDecision(tokenHash: string, item: ItemRef | null, kind?: SubjectKind): Promise<DecisionInput | null>;

  // ── the read for one list filter ────────────────────────────────────────────────────────
  /**
   * Everything a list filter (`accessible()`, `tokens.reach()`) needs for one item type, in one
   * call (one round trip for SQL stores): the token with this digest (current or previous) and its subject, exactly as
   * {@link DecisionReads.loadDecision} returns them, and every share and access rule of `query.itemType` —
   * on any item, of any organization (R14) — whose grantee is one of:
   * - user token: `user` = the token's user; `group` ∈ the groups of the user's membership in the
   *   token's organization; `site` = a site of that membership or any site below one (a site
   *   whose path contains a member site); `organization` = the token's organization (either
   *   value of `includeServiceUsers`);
   * - service user token: `service_user` = the token's service user; `organization` = the
   *   token's organization with `includeServiceUsers` set.
   *
   * Exactly those (the conformance suite checks it); the membership's status does not matter
   * (the core refuses an inactive subject). `sitePaths` holds the path of every site named by a
   * returned share or rule. `null` when no token has this digest. It must not scan every share:
   * index shares and rules by grantee and item type. `kind` as for {@link DecisionReads.loadDecision}.
   */
  loadAccess(tokenHash: string, query: { itemType: string }, kind?: SubjectKind): Promise<AccessInput | null>;
}

/**
 * Clock and shutdown: what `createKeyward` and the host call around the other parts.
 *
 * @example
 * ```ts
 * await store.close();
 * ```
 */
export interface StoreLifecycle {
  /**
   * Optional: called by `createKeyward` when it is given a `clock` (tests), so that a store
   * with a clock of its own (PostgreSQL: the database's) uses that one instead, for limits and
   * its last-use window too.
   */
  useClock?(clock: () => number): void;

  /**
   * Optional: the same reads and the same use record, answered in the calling tick, for a store
   * whose reads never wait (the memory store). `authorize()`, `accessible()` and `login()` then
   * decide without suspending: no promise but the one they return, nothing allocated per call
   * but the answer. Each must do exactly what its asynchronous twin does (the conformance suite
   * checks it) and throw where that one rejects. Used only when `sync.store` is this very store;
   * a layer that changes what a read or a use does (`cachedReads`, `coalesceUses`) does not pass
   * it on: the layered store is asynchronous.
   */
  readonly sync?: SyncReads;

  /** Releases connections, listeners and timers. */
  close(): Promise<void>;
}

/**
 * {@link DecisionReads} and {@link TokenStore.recordTokenUse}, answered synchronously: the
 * optional `sync` part of a store whose reads never wait ({@link StoreLifecycle.sync}).
 *
 * @example
 * ```ts
 * const input = store.sync?.loadDecision(digest, item) ?? (await store.loadDecision(digest, item));
 * ```
 */
export interface SyncReads {
  /**
   * The store these reads belong to: the object whose `sync` this is. keyward uses them only on
   * that very object, so a wrapper that copies or proxies the store to change a read (an object
   * spread, a `Proxy`) gets the asynchronous reads, and its change is never bypassed.
   */
  readonly store: KeywardStore;
  /** {@link DecisionReads.loadDecision}, answered now. */
  loadDecision(tokenHash: string, item: ItemRef | null, kind?: SubjectKind): DecisionInput | null;
  /** {@link DecisionReads.loadAccess}, answered now. */
  loadAccess(tokenHash: string, query: { itemType: string }, kind?: SubjectKind): AccessInput | null;
  /** {@link TokenStore.recordTokenUse}, done now. */
  recordTokenUse(tokenId: string, at: number, clients?: ClientsSeen): void;
}

/**
 * A storage adapter: the intersection of its parts. Implementations: `memoryStore()`
 * (`keyward/memory`), `postgresStore()` (`keyward/postgres`), or a host's own, checked with the
 * conformance suite (`keyward/testing`); layers (`cachedReads`, `coalesceUses`) take one and
 * return one.
 *
 * @example
 * ```ts
 * const store: KeywardStore = coalesceUses(memoryStore(), { windowMs: 60_000, now: Date.now });
 * ```
 */
export type KeywardStore = DirectoryStore & TokenStore & DecisionReads & StoreLifecycle;

/**
 * Reads that bypass a store, for the conformance suite: what was really written, never through
 * the store's own reads. Required by `describeStoreConformance`; `memoryStore({ backdoor })`
 * and the PostgreSQL tests' raw queries provide one.
 *
 * @example
 * ```ts
 * const backdoor: StoreBackdoor = { readToken: (id) => rawTokenRow(id), readMembership, readServiceUser, dump };
 * ```
 */
export interface StoreBackdoor {
  /** The stored token row, read directly (not through `getToken`). */
  readToken(tokenId: string): Promise<TokenRecord | null>;
  /** The stored membership row, read directly. */
  readMembership(orgId: string, userId: string): Promise<Membership | null>;
  /** The stored service user row, read directly. */
  readServiceUser(id: string): Promise<ServiceUser | null>;
  /** Everything the store holds, as text (to prove no secret is ever stored, R5). */
  dump(): Promise<string>;
}
