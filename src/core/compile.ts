/**
 * The compile step: what a store loaded, turned once into the typed values decisions read —
 * a compiled subject (permissions as a `Set`, grantee keys, the subject as decisions name it)
 * and grants indexed by grantee key with levels as small integers. Pure: the same records always
 * compile to equal values; the results are immutable and may be kept by whoever owns them (the
 * memory store keeps them until a write they depend on).
 * @module
 */
import { granteeKey, siteKey, subjectKeys } from "./grantees.js";
import type {
  AccessRule,
  CompiledGrant,
  CompiledRestriction,
  CompiledSubject,
  DecisionInput,
  Grantee,
  GrantIndex,
  GrantRef,
  LoadedSubject,
  Share,
  SubjectRef,
  TokenRecord,
  TokenRestriction,
} from "./types.js";

export type { CompiledRestriction } from "./types.js";

/**
 * What a decision reads, as records (the form a store loads before compiling): the token, its
 * subject, the shares and rules that could apply to the item, and the paths of the sites they
 * name. {@link compileDecision} turns it into a `DecisionInput`.
 */
export interface LoadedDecision {
  token: TokenRecord;
  subject: LoadedSubject;
  /** Shares on the item (any grantee). Empty when there is no item. */
  shares: readonly Share[];
  /** Access rules of the item's owner organization for its type. Empty when there is no item. */
  rules: readonly AccessRule[];
  /** For every site named by a share or rule above, the site's path (root … site), R13. */
  sitePaths: Readonly<Record<string, readonly string[]>>;
  /** The store's time of the read, when it has a clock of its own (see `DecisionInput.now`). */
  now?: number;
}

/** The path (root … site) of a site by id, or `undefined` when unknown (then a grant to it includes no one). */
export type SitePathOf = (siteId: string) => readonly string[] | undefined;

/**
 * A {@link SitePathOf} reading a record of paths (own properties only).
 *
 * @example
 * ```ts
 * pathsFrom({ s_1: ["s_r", "s_1"] })("s_1") // ["s_r", "s_1"]
 * ```
 */
export function pathsFrom(paths: Readonly<Record<string, readonly string[]>>): SitePathOf {
  return (id) => (Object.prototype.hasOwnProperty.call(paths, id) ? paths[id] : undefined);
}

const EMPTY_SET: ReadonlySet<string> = new Set();

const NO_GRANTS: GrantIndex = Object.freeze({ byKey: new Map<string, readonly CompiledGrant[]>(), bits: 0, entries: Object.freeze([]) });

/**
 * A grantee key's 30-bit hash (FNV-1a, its top 30 bits), a small integer: decisions compare a
 * key's hash before the key, so a grant under another key costs no read of either string.
 *
 * @example
 * ```ts
 * keyHash("g\0grp_1") === keyHash("g\0grp_1") // true
 * ```
 */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < key.length; j++) h = Math.imul(h ^ key.charCodeAt(j), 0x01000193);
  return h >>> 2;
}

/** The one bit of {@link keyBits} for a key of this {@link keyHash}. */
export function hashBit(hash: number): number {
  return 1 << (hash >>> 25);
}

/**
 * A 32-bit summary of grantee keys: for each key one bit, picked by its {@link keyHash}. Equal
 * keys set the same bit, so when a subject's bits and a grant index's bits have none in common,
 * no key is in both: the decision skips the index without a lookup. (Shared bits say nothing:
 * then the keys are compared.)
 *
 * @example
 * ```ts
 * (keyBits(subject.keys) & index.bits) === 0 // no grant of the index is under the subject's keys
 * ```
 */
export function keyBits(keys: readonly string[], count = keys.length): number {
  const hashes = keys.slice(0, count).map(keyHash);
  return hashBits(hashes, 0, hashes.length);
}

/** {@link keyBits} of the keys whose {@link keyHash}es are `hashes[from..to)`. */
function hashBits(hashes: readonly number[], from: number, to: number): number {
  let bits = 0;
  for (let i = from; i < to; i++) bits |= hashBit(hashes[i]!);
  return bits;
}

/** How many grantee keys {@link shared} keeps at most; when full, it starts again. */
const SHARED_KEYS_MAX = 65_536;
const sharedKeys = new Map<string, string>();

/**
 * One string for each grantee key that compiled subjects and grant indexes use: a key found in
 * both is then one object, which the decision compares without reading its characters. Bounded
 * (a cache: a key that is not the kept one still compares equal, only by its characters).
 */
function shared(key: string): string {
  const kept = sharedKeys.get(key);
  if (kept !== undefined) return kept;
  if (sharedKeys.size >= SHARED_KEYS_MAX) sharedKeys.clear();
  sharedKeys.set(key, key);
  return key;
}

/** A frozen permission list (a store's own, kept for many subjects) → its one compiled set. */
const permissionSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/**
 * A permission list as a `Set`. A frozen list cannot change, so its set is
 * made once and shared by every subject that holds the same list (the memory store hands every
 * member of a permission set the set's one frozen list): a few sets that stay in the processor's
 * caches instead of one per subject. A list that is not frozen (a decoded row) gets its own.
 */
function permissionSetOf(permissions: readonly string[]): ReadonlySet<string> {
  if (!Object.isFrozen(permissions)) return new Set(permissions);
  let set = permissionSets.get(permissions);
  if (set === undefined) permissionSets.set(permissions, (set = new Set(permissions)));
  return set;
}

/**
 * The subject as decisions name it (R15, R16): the user's name, or the service user's (its id
 * when it is gone).
 *
 * @example
 * ```ts
 * subjectRef(input.subject, input.token) // { kind: "user", id: "u_ben", name: "Ben Berg" }
 * ```
 */
export function subjectRef(subject: LoadedSubject, token: TokenRecord): SubjectRef {
  if (subject.kind === "user") return { kind: "user", id: subject.user.id, name: subject.user.name };
  return { kind: "service_user", id: token.subjectId, name: subject.serviceUser?.name ?? token.subjectId };
}

/**
 * Compiles a token's subject once for many decisions: its permissions as a `Set` (R12), whether
 * it is active and its epoch (R7), its grantee keys (R13, R14) and its frozen reference.
 *
 * @example
 * ```ts
 * const compiled = compileSubject({ token, subject });
 * compiled.permissions.has("inspections:view")
 * ```
 */
export function compileSubject(loaded: { token: TokenRecord; subject: LoadedSubject }): CompiledSubject {
  const { token, subject } = loaded;
  const found = subjectKeys(loaded);
  const across = found.across.map(shared);
  const local = found.local.map(shared);
  const m = subject.kind === "user" ? subject.membership : null;
  const active = subject.kind === "user" ? m !== null && m.status === "active" : subject.serviceUser !== null && subject.serviceUser.status === "active";
  const keys = Object.freeze([...across, ...local]);
  const hashes = Object.freeze(keys.map(keyHash));
  // The fields every decision reads come first: a compiled subject spans a few cache lines.
  return Object.freeze({
    kind: subject.kind,
    active,
    epoch: m === null ? null : m.epoch,
    permissions: permissionSetOf(subject.permissions),
    // R17: the token's restriction, compiled with the subject (a token's restriction never changes).
    restriction: token.restriction == null ? null : compileRestriction(token.restriction),
    ref: Object.freeze(subjectRef(subject, token)),
    keyBits: hashBits(hashes, 0, keys.length),
    acrossKeyBits: hashBits(hashes, 0, across.length),
    restKeyBits: hashBits(hashes, 3, keys.length),
    acrossCount: across.length,
    key0: keys.length > 0 ? keys[0]! : null,
    key1: keys.length > 1 ? keys[1]! : null,
    key2: keys.length > 2 ? keys[2]! : null,
    hash0: keys.length > 0 ? hashes[0]! : -1,
    hash1: keys.length > 1 ? hashes[1]! : -1,
    hash2: keys.length > 2 ? hashes[2]! : -1,
    keys,
    hashes,
    orgId: token.orgId,
    subjectId: token.subjectId,
    groups: m === null || m.groupIds.length === 0 ? EMPTY_SET : new Set(m.groupIds),
    sites: m === null || m.siteIds.length === 0 ? EMPTY_SET : new Set(m.siteIds),
  });
}

/**
 * A level as a small integer (R13): view 1, edit 2, delete 3, and 0 for anything that is not a
 * level — a corrupt stored level grants nothing (fail closed).
 *
 * @example
 * ```ts
 * levelRank("edit") // 2
 * ```
 */
export function levelRank(level: string): number {
  return level === "view" ? 1 : level === "edit" ? 2 : level === "delete" ? 3 : 0;
}

/** A share as the compile step reads it: a `Share`, or a decoded row without its item (then given separately). */
export interface ShareSource {
  id: string;
  grantee: Grantee;
  level: string;
  item?: { orgId: string; type: string; id: string };
}

/** An access rule as the compile step reads it. */
export interface RuleSource {
  id: string;
  orgId: string;
  itemType: string;
  conditions: Readonly<Record<string, readonly string[]>>;
  grantee: Grantee;
  level: string;
}

/** The two frozen references of a grant (own organization, across), each a plain object literal: a spread of a shared base costs far more per grant. */
function refs(source: "share" | "rule", id: string, grantee: Grantee, level: string): [GrantRef, GrantRef] {
  const via = grantee.kind;
  const l = level as GrantRef["level"];
  return [Object.freeze({ source, id, via, level: l, crossOrg: false }), Object.freeze({ source, id, via, level: l, crossOrg: true })];
}

/** Adds `grant` under every key it is found by (R13: a site grant under every site of its path). */
function file(byKey: Map<string, CompiledGrant[]>, grant: CompiledGrant, grantee: Grantee, pathOf: SitePathOf): void {
  if (grantee.kind === "site") {
    const path = pathOf(grantee.siteId);
    if (path !== undefined) for (let i = 0; i < path.length; i++) push(byKey, siteKey(path[i]!), grant);
    return;
  }
  push(byKey, granteeKey(grantee), grant);
}

function push(byKey: Map<string, CompiledGrant[]>, key: string, grant: CompiledGrant): void {
  const list = byKey.get(key);
  if (list === undefined) byKey.set(shared(key), [grant]);
  else if (list[list.length - 1] !== grant) list.push(grant);
}

function frozenIndex(byKey: Map<string, CompiledGrant[]>): GrantIndex {
  if (byKey.size === 0) return NO_GRANTS;
  const entries: (number | string | CompiledGrant)[] = [];
  let bits = 0;
  for (const [key, list] of byKey) {
    Object.freeze(list);
    const hash = keyHash(key);
    bits |= hashBit(hash);
    for (const g of list) entries.push(hash, key, g);
  }
  return Object.freeze({ byKey, bits, entries: Object.freeze(entries) });
}

/**
 * Compiles shares into a grant index by grantee key, in their order (of equal levels the first
 * names the grant). A share of a level that is not one grants nothing and is left out. `item`
 * gives the item of shares that do not carry theirs (a decoded row).
 *
 * @example
 * ```ts
 * const index = compileShares(await store.listShares(item), pathsFrom(paths));
 * ```
 */
export function compileShares(shares: readonly ShareSource[], pathOf: SitePathOf, item?: { orgId: string; type: string; id: string }): GrantIndex {
  if (shares.length === 0) return NO_GRANTS;
  const byKey = new Map<string, CompiledGrant[]>();
  for (let i = 0; i < shares.length; i++) {
    const share = shares[i]!;
    const rank = levelRank(share.level);
    if (rank === 0) continue;
    const key = share.item ?? item;
    if (key === undefined) continue;
    const [ref, crossRef] = refs("share", share.id, share.grantee, share.level);
    const sitePath = share.grantee.kind === "site" ? (pathOf(share.grantee.siteId) ?? null) : null;
    const grant: CompiledGrant = Object.freeze({ source: "share", id: share.id, rank, order: i, orgId: key.orgId, itemType: key.type, itemId: key.id, conditions: null, grantee: share.grantee, sitePath, ref, crossRef });
    file(byKey, grant, share.grantee, pathOf);
  }
  return frozenIndex(byKey);
}

/**
 * Compiles access rules into a grant index by grantee key, in their order. A rule of a level that
 * is not one grants nothing and is left out.
 *
 * @example
 * ```ts
 * const index = compileRules(rules, pathsFrom(paths));
 * ```
 */
export function compileRules(rules: readonly RuleSource[], pathOf: SitePathOf): GrantIndex {
  if (rules.length === 0) return NO_GRANTS;
  const byKey = new Map<string, CompiledGrant[]>();
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const rank = levelRank(rule.level);
    if (rank === 0) continue;
    const [ref, crossRef] = refs("rule", rule.id, rule.grantee, rule.level);
    const sitePath = rule.grantee.kind === "site" ? (pathOf(rule.grantee.siteId) ?? null) : null;
    const grant: CompiledGrant = Object.freeze({ source: "rule", id: rule.id, rank, order: i, orgId: rule.orgId, itemType: rule.itemType, itemId: null, conditions: rule.conditions, grantee: rule.grantee, sitePath, ref, crossRef });
    file(byKey, grant, rule.grantee, pathOf);
  }
  return frozenIndex(byKey);
}

/**
 * The empty grant index (no item, or nothing shared).
 *
 * @example
 * ```ts
 * const input = { token, subject, compiled, shares: noGrants(), rules: noGrants() };
 * ```
 */
export function noGrants(): GrantIndex {
  return NO_GRANTS;
}

/**
 * Every grant of an index, once each, in order: for reviews and tests (decisions look grants up by key).
 *
 * @example
 * ```ts
 * grantsOf(input.shares).map((g) => g.id) // ["sh_1", "sh_2"]
 * ```
 */
export function grantsOf(index: GrantIndex): CompiledGrant[] {
  const seen = new Set<CompiledGrant>();
  for (const list of index.byKey.values()) for (const g of list) seen.add(g);
  return [...seen].sort((a, b) => a.order - b.order);
}

/**
 * The grants of an index that a decision reads for this subject, once each, in order: those under
 * its grantee keys (on another organization's item, `crossOrg`, only the keys that hold across
 * organizations, R14). What `decide()` reads, for stores' tests and reviews.
 *
 * @example
 * ```ts
 * grantsUnder(input.shares, input.compiled, false).map((g) => g.id) // ["sh_user", "sh_group"]
 * ```
 */
export function grantsUnder(index: GrantIndex, subject: CompiledSubject, crossOrg: boolean): CompiledGrant[] {
  const seen = new Set<CompiledGrant>();
  const n = crossOrg ? subject.acrossCount : subject.keys.length;
  for (let i = 0; i < n; i++) for (const g of index.byKey.get(subject.keys[i]!) ?? []) seen.add(g);
  return [...seen].sort((a, b) => a.order - b.order);
}

/**
 * Compiles a {@link LoadedDecision} into a `DecisionInput` (a host's own store can load records
 * and call this; tests build inputs with it).
 *
 * @example
 * ```ts
 * const d = decide(compileDecision({ token, subject, shares, rules, sitePaths: {} }), action, definition, item, now, { inactivityMs });
 * ```
 */
export function compileDecision(loaded: LoadedDecision): DecisionInput {
  const pathOf = pathsFrom(loaded.sitePaths);
  return {
    token: loaded.token,
    subject: loaded.subject,
    compiled: compileSubject(loaded),
    shares: compileShares(loaded.shares, pathOf),
    rules: compileRules(loaded.rules, pathOf),
    ...(loaded.now === undefined ? {} : { now: loaded.now }),
  };
}

// ── R17: restrictions ──


/**
 * The key of an item in {@link CompiledRestriction.items}.
 *
 * @example
 * ```ts
 * itemKeyOf("acme", "inspection", "i_1") // "acme\u0000inspection\u0000i_1"
 * ```
 */
export function itemKeyOf(orgId: string, type: string, id: string): string {
  return `${orgId}\0${type}\0${id}`;
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * A restriction in its one stored form (R17): every list sorted and without duplicates, empty
 * lists and an absent `maxLevel` left out; a restriction that restricts nothing (`{}`) is `null`
 * (a full-access token). Pure; does not validate (the service validates its input).
 *
 * @example
 * ```ts
 * normalizeRestriction({ permissions: ["b", "a", "a"], groupIds: [] }) // { permissions: ["a", "b"] }
 * normalizeRestriction({}) // null
 * ```
 */
export function normalizeRestriction(r: TokenRestriction | null | undefined): TokenRestriction | null {
  if (r === null || r === undefined) return null;
  const out: { -readonly [K in keyof TokenRestriction]: TokenRestriction[K] } = {};
  if (r.permissions !== undefined) out.permissions = sortedUnique(r.permissions);
  if (r.maxLevel !== undefined) out.maxLevel = r.maxLevel;
  if (r.itemTypes !== undefined) out.itemTypes = sortedUnique(r.itemTypes);
  if (r.groupIds !== undefined && r.groupIds.length > 0) out.groupIds = sortedUnique(r.groupIds);
  if (r.siteIds !== undefined && r.siteIds.length > 0) out.siteIds = sortedUnique(r.siteIds);
  if (r.items !== undefined && r.items.length > 0) {
    const byKey = new Map(r.items.map((i) => [itemKeyOf(i.orgId, i.type, i.id), { orgId: i.orgId, type: i.type, id: i.id }]));
    out.items = [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }
  return Object.keys(out).length === 0 ? null : out;
}

/**
 * Compiles a restriction for decisions (R17). An empty `permissions` or `itemTypes` list allows
 * nothing of that kind (the restriction as stored is normalised: see {@link normalizeRestriction}).
 *
 * @example
 * ```ts
 * compileRestriction({ maxLevel: "view" }).maxRank // 1
 * ```
 */
export function compileRestriction(r: TokenRestriction): CompiledRestriction {
  const groups = new Set(r.groupIds ?? []);
  const sites = new Set(r.siteIds ?? []);
  const items = new Set((r.items ?? []).map((i) => itemKeyOf(i.orgId, i.type, i.id)));
  return Object.freeze({
    permissions: r.permissions === undefined ? null : new Set(r.permissions),
    maxRank: r.maxLevel === undefined ? 3 : levelRank(r.maxLevel),
    itemTypes: r.itemTypes === undefined ? null : new Set(r.itemTypes),
    scoped: groups.size + sites.size + items.size > 0,
    groups,
    sites,
    items,
  });
}


/**
 * Whether a grant counts for a restricted token (R17), given that it includes the subject: always
 * when the restriction names no group, site or item; otherwise when its grantee is a listed group,
 * or a listed site or a site below one (`sitePath`, root … site), or the item is a listed one.
 *
 * @example
 * ```ts
 * grantCounts(r, { kind: "group", groupId: "g_1" }, null, item.orgId, item.type, item.id)
 * ```
 */
export function grantCounts(r: CompiledRestriction, grantee: Grantee, sitePath: readonly string[] | null | undefined, orgId: string, type: string, id: string): boolean {
  if (!r.scoped) return true;
  if (r.items.size > 0 && r.items.has(itemKeyOf(orgId, type, id))) return true;
  return granteeCounts(r, grantee, sitePath);
}

/**
 * Whether a grant's grantee alone lets it through a restriction that names groups, sites or
 * items (R17): a listed group, or a listed site or a site below one (`sitePath`, root … site).
 * Whatever the item. (A restriction that names none lets every grant through: test `scoped` first.)
 *
 * @example
 * ```ts
 * granteeCounts(r, { kind: "site", siteId: "s_oslo" }, ["s_north", "s_oslo"]) // true when r lists s_north
 * ```
 */
export function granteeCounts(r: CompiledRestriction, grantee: Grantee, sitePath: readonly string[] | null | undefined): boolean {
  if (grantee.kind === "group") return r.groups.has(grantee.groupId);
  if (grantee.kind === "site" && sitePath !== null && sitePath !== undefined) {
    for (let i = 0; i < sitePath.length; i++) if (r.sites.has(sitePath[i]!)) return true;
  }
  return false;
}

/**
 * R17's scope stage, after the subject's permission (R12): whether the restriction leaves the
 * action out — its permission, its item type, or the level it needs. `null` for a full-access
 * token's or an action the restriction allows. Organization-level actions are narrowed by the
 * permissions only.
 *
 * @example
 * ```ts
 * scopeRefuses(input.compiled.restriction, { permission: "inspections:edit", access: "edit", item: "inspection" }) // true under maxLevel "view"
 * ```
 */
export function scopeRefuses(r: CompiledRestriction | null, definition: { permission: string; access?: string; item?: string }): boolean {
  if (r === null) return false;
  if (r.permissions !== null && !r.permissions.has(definition.permission)) return true;
  if (definition.item !== undefined && r.itemTypes !== null && !r.itemTypes.has(definition.item)) return true;
  return definition.access !== undefined && levelRank(definition.access) > r.maxRank;
}
