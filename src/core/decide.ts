/**
 * The decision, as a pure function of what the store loaded and an explicit `now` (R12–R15).
 * No I/O, no clock, no store: property tests call it directly.
 * @module
 */
import { grantCounts, hashBit, levelRank, scopeRefuses } from "./compile.js";
import { expiryAfterUse, expiryOf, isExpired } from "./lifecycle.js";
import type {
  AccessLevel,
  AccessRule,
  ActionDefinition,
  CompiledGrant,
  CompiledRestriction,
  CompiledSubject,
  Decision,
  DecisionInput,
  RefusalDecision,
  GrantRef,
  GrantIndex,
  ItemRef,
  TokenDenialReason,
  TokenRecord,
} from "./types.js";

export { levelRank, subjectRef } from "./compile.js";

/**
 * Numeric rank of each access level: a grant at a rank covers every lower rank (R13).
 *
 * @example
 * ```ts
 * LEVEL_RANK.edit >= LEVEL_RANK.view // true: edit implies view
 * ```
 */
export const LEVEL_RANK: Readonly<Record<AccessLevel, number>> = { view: 1, edit: 2, delete: 3 };

/**
 * `permissions.includes(permission)` (R12), for a permission list as records hold it (decisions
 * read the compiled subject's `Set`).
 *
 * @example
 * ```ts
 * hasPermission(["inspections:view"], "inspections:view") // true
 * ```
 */
export function hasPermission(permissions: readonly string[], permission: string): boolean {
  return permissions.includes(permission);
}

/** What the token stage reads: the token and its compiled subject. */
export interface TokenStageInput {
  token: TokenRecord;
  compiled: CompiledSubject;
}

/**
 * R15's token stage: why the token does not authenticate, or `null` when it does.
 * Revoked or deleted → `token_revoked`; expired (R6) → `token_expired`; subject deactivated, gone,
 * or the token from before a deactivation or departure (R7) → `subject_inactive`.
 *
 * @example
 * ```ts
 * checkToken(input, Date.now(), DEFAULT_INACTIVITY_MS) // null, or "token_expired", …
 * ```
 */
export function checkToken(input: TokenStageInput, now: number, inactivityMs: number): Exclude<TokenDenialReason, "token_malformed"> | null {
  const { token, compiled } = input;
  if (token.revokedAt !== null || token.deletedAt !== null) return "token_revoked";
  if (isExpired(token, now, inactivityMs)) return "token_expired";
  if (compiled.kind !== token.kind) return "token_unknown";
  return !compiled.active || (token.kind === "user" && token.epoch !== compiled.epoch) ? "subject_inactive" : null;
}

/**
 * Which of the token's secrets a presented digest is (R18), the first test of R15's token stage:
 * `"current"`, `"previous"` while a rotation's grace period lasts (`now < previousHashUntil`), or
 * `null` — the secret does not (or no longer) authenticate, and the call answers `token_unknown`
 * as if it did not exist. Stores find a token by either digest; this decides. The one place,
 * used by `authorize()`, `accessible()` and `login()` (their shared pipeline).
 *
 * @example
 * ```ts
 * presentedSecret(input.token, digest, now) // "current", "previous" or null
 * ```
 */
export function presentedSecret(token: TokenRecord, digest: string, now: number): "current" | "previous" | null {
  if (digest === token.hash) return "current";
  const until = token.previousHashUntil;
  return digest === token.previousHash && until != null && now < until ? "previous" : null;
}

/**
 * Whether an access rule's conditions hold for the item: every condition's attribute is one of its values.
 *
 * @example
 * ```ts
 * ruleMatches(rule, { orgId: "acme", type: "inspection", id: "i_1", attributes: { siteId: "oslo" } })
 * ```
 */
export function ruleMatches(rule: Pick<AccessRule, "orgId" | "itemType" | "conditions">, item: ItemRef): boolean {
  if (rule.orgId !== item.orgId || rule.itemType !== item.type) return false;
  for (const key in rule.conditions) {
    const value = item.attributes?.[key];
    if (value === undefined || !rule.conditions[key]!.includes(value)) return false;
  }
  return true;
}

/**
 * Whether a compiled grant covers the item: a share is on it, a rule is of its organization and
 * type and its conditions hold ({@link ruleMatches}).
 */
function covers(g: CompiledGrant, item: ItemRef): boolean {
  if (g.orgId !== item.orgId || g.itemType !== item.type) return false;
  if (g.conditions === null) return g.itemId === item.id;
  for (const key in g.conditions) {
    const value = item.attributes?.[key];
    if (value === undefined || !g.conditions[key]!.includes(value)) return false;
  }
  return true;
}

/** How many (key, grant) entries an index may have for a decision to walk them rather than look up each of the subject's keys. */
const WALK_ENTRIES = 16;

/**
 * The strongest grant of `index` under the subject's keys that covers the item and ranks above
 * `above`, the first (lowest order) of equal rank; `null` when none does. Reads only the grants
 * under the subject's keys (on another organization's item only the keys that hold across
 * organizations, R14). Its work is bounded by the larger of 16 and the subject's number of keys,
 * whatever the number of the item's grants: a small index is walked (comparing hashes), a
 * larger one looked up by the subject's keys. Allocates nothing.
 *
 * @example
 * ```ts
 * strongestGrant(input.shares, input.compiled, item, false, 0)?.rank // 2
 * ```
 */
export function strongestGrant(index: GrantIndex, subject: CompiledSubject, item: ItemRef, crossOrg: boolean, above: number): CompiledGrant | null {
  const mine = crossOrg ? subject.acrossKeyBits : subject.keyBits;
  // No key of the index is one of the subject's: nothing to look up.
  if ((index.bits & mine) === 0) return null;
  const keys = subject.keys;
  const n = crossOrg ? subject.acrossCount : keys.length;
  const entries = index.entries;
  let best: CompiledGrant | null = null;
  let bestRank = above;
  if (entries.length <= 3 * (n > WALK_ENTRIES ? n : WALK_ENTRIES)) {
    // A small index: its entries, each (hash, key, grant). An entry is read further only when
    // its hash is one of the subject's (the first three inline, the others in `hashes`), and its
    // key compared only then (hashes may collide; keys are mostly one string, compared as such).
    for (let i = 0; i < entries.length; i += 3) {
      const hash = entries[i] as number;
      const bit = hashBit(hash);
      if ((mine & bit) === 0) continue;
      let key: string | null;
      if (hash === subject.hash0) key = subject.key0;
      else if (n > 1 && hash === subject.hash1) key = subject.key1;
      else if (n > 2 && hash === subject.hash2) key = subject.key2;
      else {
        const p = n <= 3 || (subject.restKeyBits & bit) === 0 ? -1 : keyOfHash(subject.hashes, 3, n, hash);
        if (p < 0) continue;
        key = keys[p]!;
      }
      const g = entries[i + 2] as CompiledGrant;
      if (g.rank < bestRank || (g.rank === bestRank && (best === null || g.order >= best.order))) continue;
      if (!covers(g, item)) continue;
      const entryKey = entries[i + 1] as string;
      if (entryKey !== key && keyOfKey(keys, n, entryKey) < 0) continue;
      best = g;
      bestRank = g.rank;
    }
    return best;
  }
  // A large one: each of the subject's keys looked up. At most `n` lookups, whatever the number
  // of the item's grants.
  for (let i = 0; i < n; i++) {
    const list = index.byKey.get(keys[i]!);
    if (list === undefined) continue;
    for (let j = 0; j < list.length; j++) {
      const g = list[j]!;
      if (g.rank < bestRank || (g.rank === bestRank && (best === null || g.order >= best.order))) continue;
      if (!covers(g, item)) continue;
      best = g;
      bestRank = g.rank;
    }
  }
  return best;
}

/** The position of the first of `hashes[from..n)` equal to `hash`, or -1. */
function keyOfHash(hashes: readonly number[], from: number, n: number, hash: number): number {
  for (let p = from; p < n; p++) if (hashes[p] === hash) return p;
  return -1;
}

/** The position of `key` among the subject's first `n` keys, or -1 (after a hash matched a key that is not it). */
function keyOfKey(keys: readonly string[], n: number, key: string): number {
  for (let p = 0; p < n; p++) if (keys[p] === key) return p;
  return -1;
}

/**
 * The strongest grant that includes the subject on this item, from its shares and the rules that
 * match it, or `null` when none does (R13, R14): of equal levels the first share, and a rule only
 * when it ranks strictly higher than every share. Allocates nothing.
 *
 * @example
 * ```ts
 * bestGrant(input, item)?.rank // 2: edit
 * ```
 */
export function bestGrant(input: DecisionInput, item: ItemRef): CompiledGrant | null {
  const crossOrg = item.orgId !== input.token.orgId;
  const share = strongestGrant(input.shares, input.compiled, item, crossOrg, 0);
  return strongestGrant(input.rules, input.compiled, item, crossOrg, share === null ? 0 : share.rank) ?? share;
}

/**
 * R17: the strongest grant of `index` that includes the subject, covers the item, ranks above
 * `above` and that the restriction lets through ({@link grantCounts}); the first of equal rank.
 * The restricted tokens' path: it reads the grants under the subject's keys one key at a time.
 */
function strongestCountedGrant(index: GrantIndex, subject: CompiledSubject, item: ItemRef, crossOrg: boolean, above: number, r: CompiledRestriction): CompiledGrant | null {
  const n = crossOrg ? subject.acrossCount : subject.keys.length;
  let best: CompiledGrant | null = null;
  for (let i = 0; i < n; i++) {
    for (const g of index.byKey.get(subject.keys[i]!) ?? []) {
      const better = best === null ? g.rank > above : g.rank > best.rank || (g.rank === best.rank && g.order < best.order);
      if (better && covers(g, item) && grantCounts(r, g.grantee, g.sitePath, item.orgId, item.type, item.id)) best = g;
    }
  }
  return best;
}

/** R17: {@link bestGrant} among the grants a restriction lets through. */
function bestCountedGrant(input: DecisionInput, item: ItemRef, r: CompiledRestriction): CompiledGrant | null {
  const crossOrg = item.orgId !== input.token.orgId;
  const share = strongestCountedGrant(input.shares, input.compiled, item, crossOrg, 0, r);
  return strongestCountedGrant(input.rules, input.compiled, item, crossOrg, share === null ? 0 : share.rank, r) ?? share;
}

/**
 * R17: the access stage of a restricted token (after {@link refusal} passed, its scope included):
 * only the grants the restriction lets through count (its level cap needs no test here: the scope
 * stage refused every action above it). A denial says `restricted` only when the same token
 * without its restriction would have been allowed.
 */
function decideRestricted(input: DecisionInput, action: string, def: ActionDefinition & { access: AccessLevel }, item: ItemRef | null, r: CompiledRestriction, expiresAt: number | null): Decision {
  const { token } = input;
  const subject = input.compiled.ref;
  const onType = item !== null && item.type === def.item;
  const found = onType ? bestCountedGrant(input, item, r) : null;
  const need = levelRank(def.access);
  if (found !== null && found.rank >= need) {
    return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id, grant: found.orgId === token.orgId ? found.ref : found.crossRef, expiresAt };
  }
  const unrestricted = onType ? bestGrant(input, item) : null;
  const restricted = unrestricted !== null && unrestricted.rank >= need;
  return { allowed: false, reason: "access_denied", action, subject, orgId: token.orgId, tokenId: token.id, visible: found !== null, expiresAt, ...(restricted ? { restricted: true as const } : {}) };
}

/**
 * R15's first stages, shared by `decide()` and `decideAccess()` so that the two cannot refuse
 * differently: the token stage ({@link checkToken}), then the permission (R12; an action the host
 * did not declare is `permission_denied` with `unknownAction`). `null` when both pass.
 *
 * @example
 * ```ts
 * const denied = refusal(input, "inspections.view", definition, now, { inactivityMs });
 * if (denied) return denied;
 * ```
 */
export function refusal(
  input: TokenStageInput,
  action: string,
  definition: ActionDefinition | undefined,
  now: number,
  options: { inactivityMs: number },
): RefusalDecision | null {
  const { token } = input;
  const tokenReason = checkToken(input, now, options.inactivityMs);
  if (tokenReason === "token_unknown") return { allowed: false, reason: tokenReason, action };
  // The subject is named only in a refusal: when both stages pass, the caller names it once.
  if (tokenReason === "token_expired") {
    // R19: which expiry ended it.
    return { allowed: false, reason: tokenReason, action, subject: input.compiled.ref, orgId: token.orgId, tokenId: token.id, expiry: expiryOf(token, now, options.inactivityMs) };
  }
  if (tokenReason !== null) {
    return { allowed: false, reason: tokenReason, action, subject: input.compiled.ref, orgId: token.orgId, tokenId: token.id };
  }
  if (definition === undefined) {
    const expiresAt = expiryAfterUse(token, now, options.inactivityMs);
    return { allowed: false, reason: "permission_denied", action, subject: input.compiled.ref, orgId: token.orgId, tokenId: token.id, unknownAction: true, expiresAt };
  }
  if (!input.compiled.permissions.has(definition.permission)) {
    const expiresAt = expiryAfterUse(token, now, options.inactivityMs);
    return { allowed: false, reason: "permission_denied", action, subject: input.compiled.ref, orgId: token.orgId, tokenId: token.id, expiresAt };
  }
  // R17: a full-access token (no restriction) stops here; a restricted one may leave the action out.
  if (input.compiled.restriction !== null && scopeRefuses(input.compiled.restriction, definition)) {
    const expiresAt = expiryAfterUse(token, now, options.inactivityMs);
    return { allowed: false, reason: "permission_denied", action, subject: input.compiled.ref, orgId: token.orgId, tokenId: token.id, restricted: true, expiresAt };
  }
  return null;
}

/**
 * Decides one request: R15's reasons in order — the token stage, then the permission (R12), then
 * access to the item (R13, R14). Pure: the same input and `now` always give the same decision.
 *
 * `definition` is the host's definition of `action`, or `undefined` when the host declared no
 * such action (then the decision is `permission_denied` with `unknownAction`: fail closed).
 *
 * @example
 * ```ts
 * const d = decide(input, "inspections.edit", { permission: "inspections:edit", access: "edit", item: "inspection" }, item, now, { inactivityMs });
 * if (d.allowed) console.log(d.subject.name, d.grant);
 * ```
 */
export function decide(
  input: DecisionInput,
  action: string,
  definition: ActionDefinition | undefined,
  item: ItemRef | null,
  now: number,
  options: { inactivityMs: number },
): Decision {
  const { token } = input;
  const denied = refusal(input, action, definition, now, options);
  if (denied !== null) return denied;
  // refusal() returned null, so the action is declared.
  const def = definition as ActionDefinition;
  const subject = input.compiled.ref;
  // R19: the effective expiry after this use (a user token's inactivity deadline moves with it).
  const expiresAt = expiryAfterUse(token, now, options.inactivityMs);
  if (def.access === undefined) {
    return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id, expiresAt };
  }
  // R17: a restricted token's access stage is apart; a full-access token's is unchanged.
  const restriction = input.compiled.restriction;
  if (restriction !== null) return decideRestricted(input, action, def as ActionDefinition & { access: AccessLevel }, item, restriction, expiresAt);
  const found = item === null || item.type !== def.item ? null : bestGrant(input, item);
  if (found === null || found.rank < levelRank(def.access)) {
    return {
      allowed: false,
      reason: "access_denied",
      action,
      subject,
      orgId: token.orgId,
      tokenId: token.id,
      visible: found !== null,
      expiresAt,
    };
  }
  const grant = found.orgId === token.orgId ? found.ref : found.crossRef;
  return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id, grant, expiresAt };
}
