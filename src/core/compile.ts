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
  CompiledSubject,
  DecisionInput,
  Grantee,
  GrantIndex,
  GrantRef,
  LoadedSubject,
  Share,
  SubjectRef,
  TokenRecord,
} from "./types.js";

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
const NO_GRANTS: GrantIndex = Object.freeze({ byKey: new Map<string, readonly CompiledGrant[]>(), keys: Object.freeze([]), lists: Object.freeze([]) });

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
  const { across, local } = subjectKeys(loaded);
  const m = subject.kind === "user" ? subject.membership : null;
  const active = subject.kind === "user" ? m !== null && m.status === "active" : subject.serviceUser !== null && subject.serviceUser.status === "active";
  return Object.freeze({
    kind: subject.kind,
    orgId: token.orgId,
    subjectId: token.subjectId,
    ref: Object.freeze(subjectRef(subject, token)),
    permissions: new Set(subject.permissions),
    active,
    epoch: m === null ? null : m.epoch,
    keys: Object.freeze([...across, ...local]),
    acrossCount: across.length,
    keySet: new Set([...across, ...local]),
    acrossKeySet: new Set(across),
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

function refs(source: "share" | "rule", id: string, grantee: Grantee, level: string): [GrantRef, GrantRef] {
  const base = { source, id, via: grantee.kind, level: level as GrantRef["level"] };
  return [Object.freeze({ ...base, crossOrg: false }), Object.freeze({ ...base, crossOrg: true })];
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
  if (list === undefined) byKey.set(key, [grant]);
  else if (list[list.length - 1] !== grant) list.push(grant);
}

function frozenIndex(byKey: Map<string, CompiledGrant[]>): GrantIndex {
  if (byKey.size === 0) return NO_GRANTS;
  for (const list of byKey.values()) Object.freeze(list);
  return Object.freeze({ byKey, keys: Object.freeze([...byKey.keys()]), lists: Object.freeze([...byKey.values()]) });
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
    const grant: CompiledGrant = Object.freeze({ source: "share", id: share.id, rank, order: i, orgId: key.orgId, itemType: key.type, itemId: key.id, conditions: null, ref, crossRef });
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
    const grant: CompiledGrant = Object.freeze({ source: "rule", id: rule.id, rank, order: i, orgId: rule.orgId, itemType: rule.itemType, itemId: null, conditions: rule.conditions, ref, crossRef });
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
