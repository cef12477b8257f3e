/**
 * "What can this token reach?": list filters (R13, R14) and the administrator's review of a
 * token, as pure functions of what the store loaded and an explicit `now`. They decide through
 * the same functions as `decide()` — {@link refusal} for the token and permission stages,
 * {@link granteeIncludes} for grantees, {@link ruleMatches} for conditions, {@link levelRank} for
 * levels — so a filter and `authorize()` cannot drift apart.
 * @module
 */
import { compileSubject, grantCounts, granteeCounts, itemKeyOf, levelRank, normalizeRestriction, scopeRefuses, type CompiledRestriction, type LoadedDecision } from "./compile.js";
import { checkToken, LEVEL_RANK, refusal, ruleMatches } from "./decide.js";
import { granteeIncludes } from "./grantees.js";
import { expiryAfterUse } from "./lifecycle.js";
import { fieldError, KeywardError } from "./errors.js";
import { filterToSql, type SqlCondition, type ToSqlOptions } from "./filter-sql.js";
import { ACCESS_LEVELS } from "./types.js";
import type {
  AccessLevel,
  AccessRule,
  ActionDefinition,
  CompiledSubject,
  Grantee,
  GranteeKind,
  ItemRef,
  RateLimitedDenial,
  RefusalDecision,
  Share,
  SubjectRef,
  RateLimitState,
  TokenDenialReason,
  TokenRestriction,
} from "./types.js";

/**
 * What a list filter needs, read from the store in one call (`KeywardStore.loadAccess`): the
 * token and its subject as for a decision, and — instead of one item's shares — every share and
 * access rule of one item type whose grantee could include the subject, with the paths of the
 * sites they name.
 */
export interface AccessInput extends LoadedDecision {
  /** Shares of the item type, on any item of any organization, whose grantee could include the subject. */
  shares: readonly Share[];
  /** Access rules of the item type, of any organization, whose grantee could include the subject. */
  rules: readonly AccessRule[];
  /** The subject compiled (`compileSubject`): what the stages and the grantee match read. */
  compiled: CompiledSubject;
}

/**
 * Compiles what a store loaded for a list filter: the records with their compiled subject.
 *
 * @example
 * ```ts
 * const input = compileAccess({ token, subject, shares, rules, sitePaths });
 * ```
 */
export function compileAccess(loaded: LoadedDecision): AccessInput {
  return { ...loaded, compiled: compileSubject(loaded) };
}

/** The path (root … site) of a site grantee from the input, or `null` (not a site, or an unknown one). */
function sitePathOf(input: Pick<AccessInput, "sitePaths">, grantee: Grantee): readonly string[] | null {
  if (grantee.kind !== "site") return null;
  return Object.prototype.hasOwnProperty.call(input.sitePaths, grantee.siteId) ? input.sitePaths[grantee.siteId]! : null;
}

/** The ids of the items a restriction lists of one organization and type, sorted (R17). */
function listedIds(r: CompiledRestriction, orgId: string, itemType: string): string[] {
  if (r.items.size === 0) return [];
  const prefix = itemKeyOf(orgId, itemType, "");
  const ids: string[] = [];
  for (const key of r.items) if (key.startsWith(prefix)) ids.push(key.slice(prefix.length));
  return ids.sort();
}

/** Whether a share's or rule's grantee includes the input's subject (R13, R14), the site's path read from the input. */
function includes(input: AccessInput, grantee: Grantee, crossOrg: boolean): boolean {
  const paths = input.sitePaths;
  const path = grantee.kind === "site" && Object.prototype.hasOwnProperty.call(paths, grantee.siteId) ? paths[grantee.siteId] : undefined;
  return granteeIncludes(input.compiled, grantee, path, crossOrg);
}

/**
 * A list filter as plain data: JSON- and `structuredClone`-safe. `accessFilter(data)` gives it
 * back its methods. A filter's data is frozen: one filter may be handed to many calls.
 */
export interface AccessFilterData {
  /** The item type the filter is about; it matches no item of another type. */
  readonly itemType: string;
  /** The access level the action needs (R13): every grant below is left out. */
  readonly level: AccessLevel;
  /** Items shared with the subject at `level` or above, by owner organization (sorted). */
  readonly shared: readonly { readonly orgId: string; readonly ids: readonly string[] }[];
  /**
   * Access rules covering the subject at `level` or above: an item of `orgId` whose attributes
   * meet every condition (attribute ∈ values) matches. No conditions: every item of `orgId`.
   * With `ids` (a restricted token's, R17: a rule that counts only on the items its restriction
   * lists), only the items of `orgId` with one of these ids, and then the conditions.
   */
  readonly rules: readonly { readonly id: string; readonly orgId: string; readonly conditions: Readonly<Record<string, readonly string[]>>; readonly ids?: readonly string[] }[];
}

/** A list filter: its data, plus `matches` for in-memory lists and `toSql` for the host's table. */
export interface AccessFilter extends AccessFilterData {
  /** Whether the subject may act on this item with the filter's action: exactly `authorize(...).allowed` at the filter's time. */
  matches(item: ItemRef): boolean;
  /** The filter as a parameterized PostgreSQL condition over the host's columns. */
  toSql(options: ToSqlOptions): SqlCondition;
}

/** The answer of `accessible()` when the token may list: who, and the filter. */
export interface AllowedAccess {
  allowed: true;
  reason: "allowed";
  action: string;
  subject: SubjectRef;
  orgId: string;
  tokenId: string;
  filter: AccessFilter;
  /** R19: the token's effective expiry after this use; `null` when it never expires (as {@link AllowedDecision.expiresAt}). */
  expiresAt: number | null;
  /** Where this token stands against the configured rate limit (R21); absent without one. */
  rateLimit?: RateLimitState;
  /** R18: present when the token was presented with its previous secret, during a rotation's grace period. */
  previousSecret?: true;
}

/**
 * The answer of `accessible()`: the filter, or the same refusal `authorize()` gives the token for
 * that action (R15's token reasons, then `permission_denied`). Never `access_denied`: a subject
 * with no access gets an empty filter.
 */
export type AccessDecision = AllowedAccess | RefusalDecision | RateLimitedDenial;

function invalid(field: string, why: string): KeywardError {
  return fieldError("invalid_input", field, why);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * Gives plain filter data (e.g. parsed back from JSON) its methods. Validates the shape and
 * throws `invalid_input` naming the field.
 *
 * @example
 * ```ts
 * const copy = accessFilter(JSON.parse(JSON.stringify(filter)));
 * items.filter(copy.matches);
 * ```
 */
export function accessFilter(data: AccessFilterData): AccessFilter {
  if (typeof data !== "object" || data === null) throw invalid("filter", "expected an object");
  if (typeof data.itemType !== "string") throw invalid("filter.itemType", "expected a string");
  if (!(ACCESS_LEVELS as readonly string[]).includes(data.level)) throw invalid("filter.level", "expected view, edit or delete");
  if (!Array.isArray(data.shared) || !data.shared.every((s) => typeof s?.orgId === "string" && isStringArray(s.ids))) {
    throw invalid("filter.shared", "expected [{ orgId, ids }]");
  }
  if (
    !Array.isArray(data.rules) ||
    !data.rules.every(
      (r) =>
        typeof r?.id === "string" &&
        typeof r.orgId === "string" &&
        typeof r.conditions === "object" &&
        r.conditions !== null &&
        Object.values(r.conditions).every(isStringArray) &&
        (r.ids === undefined || isStringArray(r.ids)),
    )
  ) {
    throw invalid("filter.rules", "expected [{ id, orgId, conditions, ids? }]");
  }
  const plain: AccessFilterData = {
    itemType: data.itemType,
    level: data.level,
    shared: data.shared.map((s) => ({ orgId: s.orgId, ids: [...s.ids] })),
    rules: data.rules.map((r) => ({
      id: r.id,
      orgId: r.orgId,
      conditions: Object.fromEntries(Object.entries(r.conditions).map(([k, v]) => [k, [...(v as readonly string[])]])),
      ...(r.ids === undefined ? {} : { ids: [...r.ids] }),
    })),
  };
  const ids = new Map(plain.shared.map((s) => [s.orgId, new Set(s.ids)]));
  const rulesByOrg = new Map<string, (Pick<AccessRule, "orgId" | "itemType" | "conditions"> & { ids: ReadonlySet<string> | null })[]>();
  for (const r of plain.rules) {
    const list = rulesByOrg.get(r.orgId) ?? [];
    list.push({ orgId: r.orgId, itemType: plain.itemType, conditions: r.conditions, ids: r.ids === undefined ? null : new Set(r.ids) });
    rulesByOrg.set(r.orgId, list);
  }
  const itemType = plain.itemType;
  const matches = (item: ItemRef): boolean => {
    if (item.type !== itemType) return false;
    if (ids.get(item.orgId)?.has(item.id)) return true;
    const rules = rulesByOrg.get(item.orgId);
    if (rules !== undefined) for (const rule of rules) if ((rule.ids === null || rule.ids.has(item.id)) && ruleMatches(rule, item)) return true;
    return false;
  };
  // The methods are not enumerable: the object stays plain data for JSON and structuredClone.
  // Frozen through and through: one filter may be handed to many calls (see filterFor).
  for (const s of plain.shared) Object.freeze(Object.freeze(s).ids);
  for (const r of plain.rules) {
    for (const v of Object.values(Object.freeze(r).conditions)) Object.freeze(v);
    Object.freeze(r.conditions);
    if (r.ids !== undefined) Object.freeze(r.ids);
  }
  Object.freeze(plain.shared);
  Object.freeze(plain.rules);
  return Object.freeze(
    Object.defineProperties(plain, {
      matches: { value: matches, enumerable: false },
      toSql: { value: (options: ToSqlOptions) => filterToSql(plain, options), enumerable: false },
    }),
  ) as AccessFilter;
}

function checkDefinition(definition: ActionDefinition, itemType: string, action: string): AccessLevel {
  if (definition.access === undefined || definition.item === undefined) {
    throw invalid("action", `"${action}" is an organization-level action; a list filter needs an item action`);
  }
  if (definition.item !== itemType) throw invalid("itemType", `action "${action}" acts on items of type "${definition.item}", not "${itemType}"`);
  return definition.access;
}

/**
 * The list filter of one token for one item action (R12–R15): the items of `itemType` the
 * subject may act on with `action`, or the refusal `decide()` gives that token for that action.
 * Pure: the same input and `now` always give the same answer; for every item `i` of the type,
 * `filter.matches(i) === decide(inputFor(i), action, definition, i, now).allowed`.
 *
 * `definition` is the host's definition of `action` (`undefined`: not declared →
 * `permission_denied` with `unknownAction`). A declared action must be an item action on
 * `itemType`, or this throws `invalid_input`.
 *
 * @example
 * ```ts
 * const access = decideAccess(input, "inspections.view", actions["inspections.view"], "inspection", Date.now(), { inactivityMs });
 * if (access.allowed) inspections.filter(access.filter.matches);
 * ```
 */
export function decideAccess(
  input: AccessInput,
  action: string,
  definition: ActionDefinition | undefined,
  itemType: string,
  now: number,
  options: { inactivityMs: number },
): AccessDecision {
  const level = definition === undefined ? undefined : checkDefinition(definition, itemType, action);
  const denied = refusal(input, action, definition, now, options);
  if (denied !== null) return denied;
  const { token } = input;
  return { allowed: true, reason: "allowed", action, subject: input.compiled.ref, orgId: token.orgId, tokenId: token.id, filter: filterFor(input, itemType, level!), expiresAt: expiryAfterUse(token, now, options.inactivityMs) };
}

/** A filter built from frozen grant lists, with what it was built from (besides the shares it is kept under). */
interface BuiltFilter {
  rules: readonly AccessRule[];
  compiled: CompiledSubject;
  sitePaths: AccessInput["sitePaths"];
  orgId: string;
  itemType: string;
  level: AccessLevel;
  filter: AccessFilter;
}
/** How many filters are kept per frozen share list (one per subject, item type and level it was read for). */
const BUILT_PER_LIST = 4;
/** Filters built from frozen share lists, by list: the next call with the same lists, subject and level gets the same (frozen) filter. */
const builtFilters = new WeakMap<readonly Share[], BuiltFilter[]>();

/**
 * The filter of an allowed {@link decideAccess}. A pure function of the input's shares, rules,
 * compiled subject and site paths, the token's organization, the item type and the level: when
 * the store hands frozen lists (the memory store hands the same frozen lists until a write
 * changes them), the filter built for them is kept and handed out again, so a repeated call
 * costs no work and no allocation per share.
 */
function filterFor(input: AccessInput, itemType: string, level: AccessLevel): AccessFilter {
  const { shares, rules, compiled, sitePaths } = input;
  const orgId = input.token.orgId;
  const reusable = Object.isFrozen(shares) && Object.isFrozen(rules) && Object.isFrozen(sitePaths);
  let built = reusable ? builtFilters.get(shares) : undefined;
  if (built !== undefined) {
    for (const b of built) {
      if (b.rules === rules && b.compiled === compiled && b.sitePaths === sitePaths && b.orgId === orgId && b.itemType === itemType && b.level === level) return b.filter;
    }
  }
  const filter = buildFilter(input, itemType, level);
  if (reusable) {
    if (built === undefined) builtFilters.set(shares, (built = []));
    if (built.length >= BUILT_PER_LIST) built.shift();
    built.push({ rules, compiled, sitePaths, orgId, itemType, level, filter });
  }
  return filter;
}

/** Builds the filter of {@link filterFor}: the items shared with the subject at `level` or above, and the rules that include it. */
function buildFilter(input: AccessInput, itemType: string, level: AccessLevel): AccessFilter {
  const need = LEVEL_RANK[level];
  const { token } = input;
  // R17: a restricted token counts only the grants its restriction lets through.
  const r = input.compiled.restriction;
  const shared = new Map<string, Set<string>>();
  const shares = input.shares;
  for (let i = 0; i < shares.length; i++) {
    const share = shares[i]!;
    if (share.item.type !== itemType || levelRank(share.level) < need || !includes(input, share.grantee, share.item.orgId !== token.orgId)) continue;
    if (r !== null && !grantCounts(r, share.grantee, sitePathOf(input, share.grantee), share.item.orgId, share.item.type, share.item.id)) continue;
    let ids = shared.get(share.item.orgId);
    if (ids === undefined) shared.set(share.item.orgId, (ids = new Set()));
    ids.add(share.item.id);
  }
  const rules: { id: string; orgId: string; conditions: Record<string, string[]>; ids?: string[] }[] = [];
  const ruleList = input.rules;
  for (let i = 0; i < ruleList.length; i++) {
    const rule = ruleList[i]!;
    if (rule.itemType !== itemType || levelRank(rule.level) < need || !includes(input, rule.grantee, rule.orgId !== token.orgId)) continue;
    const conditions = Object.fromEntries(Object.entries(rule.conditions).map(([k, v]) => [k, [...v]]));
    if (r === null || !r.scoped || granteeCounts(r, rule.grantee, sitePathOf(input, rule.grantee))) {
      rules.push({ id: rule.id, orgId: rule.orgId, conditions });
      continue;
    }
    // Otherwise the rule counts only on the listed items of its organization and type.
    const ids = listedIds(r, rule.orgId, itemType);
    if (ids.length > 0) rules.push({ id: rule.id, orgId: rule.orgId, conditions, ids });
  }
  rules.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return accessFilter({
    itemType,
    level,
    shared: [...shared.keys()].sort().map((orgId) => ({ orgId, ids: [...shared.get(orgId)!].sort() })),
    rules,
  });
}

/** One grant a token can use (`tokens.reach`): a share or an access rule that includes its subject. */
export interface ReachGrant {
  source: "share" | "rule";
  /** The share's or rule's id. */
  id: string;
  /** Through which kind of grantee it includes the subject. */
  via: GranteeKind;
  level: AccessLevel;
  /** The organization that owns the item (share) or the rule. */
  orgId: string;
  /** Whether that organization is not the token's (R14). */
  crossOrg: boolean;
  /** For a share: the item. */
  item?: { orgId: string; type: string; id: string };
  /** For a rule: its conditions (empty: every item of the type in `orgId`). */
  conditions?: Record<string, string[]>;
  /**
   * For a rule a restricted token can use only on the items its restriction lists (R17): their
   * ids (of `orgId` and this type). Absent: the rule counts on every item it covers.
   */
  ids?: string[];
  /** The declared actions on this item type that the grant enables: the subject holds their permission and the grant's level suffices. */
  actions: string[];
}

/** What a token can reach on one item type. */
export interface ReachItemType {
  itemType: string;
  /** The declared actions on this type whose permission the subject holds. */
  actions: string[];
  /** Every share and rule of this type that includes the subject, strongest first. */
  grants: ReachGrant[];
}

/** Everything a token can reach, without its secret (`tokens.reach`). */
export interface Reach {
  subject: SubjectRef;
  /**
   * R17: the token's restriction (normalised), or `null` for a full-access token. Everything
   * below is already narrowed by it: the permissions, the actions, and the grants (each grant's
   * `level` capped at the restriction's `maxLevel`).
   */
  restriction: TokenRestriction | null;
  /** `null` when the token works; otherwise why it does not (R15) — then it reaches nothing. */
  refusal: TokenDenialReason | null;
  /** The permissions of the subject's permission set (R12). Empty when the token does not work. */
  permissions: string[];
  /** The declared actions the token may perform (the permission is held), organization-level and item actions. */
  actions: string[];
  /** Per item type of the declared item actions. */
  itemTypes: ReachItemType[];
}

/**
 * Everything a token can reach (R12–R14), from one `AccessInput` per item type (all for the same
 * token), at `now`: its subject, whether it works, its permissions, the declared actions it may
 * perform, and per item type every grant that includes the subject with the actions each enables.
 *
 * @example
 * ```ts
 * const reach = describeReach(new Map([["inspection", input]]), actions, Date.now(), { inactivityMs });
 * reach.itemTypes[0].grants // [{ source: "share", via: "group", level: "edit", actions: ["inspections.view", "inspections.edit"], … }]
 * ```
 */
export function describeReach(
  inputs: ReadonlyMap<string, AccessInput>,
  base: { token: AccessInput["token"]; subject: AccessInput["subject"]; compiled: CompiledSubject },
  actions: ReadonlyMap<string, ActionDefinition>,
  now: number,
  options: { inactivityMs: number },
): Reach {
  const subject = base.compiled.ref;
  const restriction = normalizeRestriction(base.token.restriction);
  const reason = checkToken(base, now, options.inactivityMs);
  const types = [...new Set([...actions.values()].flatMap((d) => (d.item === undefined ? [] : [d.item])))].sort();
  if (reason !== null) {
    return { subject, restriction, refusal: reason, permissions: [], actions: [], itemTypes: types.map((itemType) => ({ itemType, actions: [], grants: [] })) };
  }
  // R17: the restriction narrows what the subject holds now, never the other way round.
  const r = base.compiled.restriction;
  const held = new Set(base.subject.permissions);
  const permitted = [...actions.entries()].filter(([, d]) => held.has(d.permission) && !scopeRefuses(r, d));
  const cap = (level: AccessLevel): AccessLevel => (r === null || LEVEL_RANK[level] <= r.maxRank ? level : ACCESS_LEVELS[r.maxRank - 1]!);
  const itemTypes = types.map((itemType): ReachItemType => {
    const typeActions = permitted.filter(([, d]) => d.item === itemType && d.access !== undefined);
    const enabled = (level: AccessLevel) => typeActions.filter(([, d]) => LEVEL_RANK[d.access!] <= LEVEL_RANK[level]).map(([name]) => name);
    if (r !== null && r.itemTypes !== null && !r.itemTypes.has(itemType)) return { itemType, actions: [], grants: [] };
    const input = inputs.get(itemType);
    const grants: ReachGrant[] = [];
    for (const share of input?.shares ?? []) {
      if (share.item.type !== itemType || !includes(input!, share.grantee, share.item.orgId !== base.token.orgId)) continue;
      if (r !== null && !grantCounts(r, share.grantee, sitePathOf(input!, share.grantee), share.item.orgId, share.item.type, share.item.id)) continue;
      const crossOrg = share.item.orgId !== base.token.orgId;
      const level = cap(share.level);
      grants.push({ source: "share", id: share.id, via: share.grantee.kind, level, orgId: share.item.orgId, crossOrg, item: { ...share.item }, actions: enabled(level) });
    }
    for (const rule of input?.rules ?? []) {
      if (rule.itemType !== itemType || !includes(input!, rule.grantee, rule.orgId !== base.token.orgId)) continue;
      const whole = r === null || !r.scoped || granteeCounts(r, rule.grantee, sitePathOf(input!, rule.grantee));
      const ids = whole ? [] : listedIds(r!, rule.orgId, itemType);
      if (!whole && ids.length === 0) continue;
      const conditions = Object.fromEntries(Object.entries(rule.conditions).map(([k, v]) => [k, [...v]]));
      const level = cap(rule.level);
      grants.push({
        source: "rule",
        id: rule.id,
        via: rule.grantee.kind,
        level,
        orgId: rule.orgId,
        crossOrg: rule.orgId !== base.token.orgId,
        conditions,
        ...(whole ? {} : { ids }),
        actions: enabled(level),
      });
    }
    grants.sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { itemType, actions: typeActions.map(([name]) => name), grants };
  });
  const permissions = [...held].filter((p) => r === null || r.permissions === null || r.permissions.has(p)).sort();
  return { subject, restriction, refusal: null, permissions, actions: permitted.map(([name]) => name), itemTypes };
}
