/**
 * The decision as it was before the compiled input (issue 17): the oracle of
 * test/core/decide-equivalence.test.ts, kept while both exist. It takes the loaded form
 * (`LoadedDecision`: shares, rules and site paths as records). Do not use outside tests.
 * @module
 */
import { effectiveExpiry, isExpired } from "../../src/core/lifecycle.js";

/** R19 by its definition: the earliest of the date, the policy's end and (user tokens) the inactivity deadline counted from this use. */
function expiryAfter(token: DecisionInput["token"], now: number, inactivityMs: number): number | null {
  const deadlines: number[] = [];
  if (token.expiresAt != null) deadlines.push(token.expiresAt);
  if (token.policyExpiresAt != null) deadlines.push(token.policyExpiresAt);
  if (token.kind === "user") deadlines.push(Math.max(now, token.createdAt, token.lastUsedAt ?? token.createdAt) + inactivityMs);
  return deadlines.length === 0 ? null : Math.min(...deadlines);
}
import type { LoadedDecision as DecisionInput } from "../../src/core/compile.js";
import type {
  AccessLevel,
  AccessRule,
  ActionDefinition,
  Decision,
  DeniedDecision,
  Grantee,
  GrantRef,
  ItemRef,
  LoadedSubject,
  Share,
  SubjectRef,
  TokenDenialReason,
  TokenRecord,
} from "../../src/core/types.js";

/**
 * Numeric rank of each access level: a grant at a rank covers every lower rank (R13).
 *
 * @example
 * ```ts
 * LEVEL_RANK.edit >= LEVEL_RANK.view // true: edit implies view
 * ```
 */
export const LEVEL_RANK: Readonly<Record<AccessLevel, number>> = { view: 1, edit: 2, delete: 3 };
const MAX_RANK = 3;

/**
 * {@link LEVEL_RANK} of a level without a keyed lookup (the hot loops compare interned strings),
 * and 0 for anything that is not a level — a corrupt stored level grants nothing (fail closed).
 * `decide()` and the list filters rank through it.
 *
 * @example
 * ```ts
 * levelRank("edit") // 2
 * ```
 */
export function levelRank(level: AccessLevel): number {
  return level === "view" ? 1 : level === "edit" ? 2 : level === "delete" ? 3 : 0;
}

/** `permissions.includes(permission)` (R12). */
export function hasPermission(permissions: readonly string[], permission: string): boolean {
  return permissions.includes(permission);
}

/**
 * The subject of a loaded decision input, as decisions and events name it (R15, R16).
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
 * R15's token stage: why the token does not authenticate, or `null` when it does.
 * Revoked or deleted → `token_revoked`; expired (R6) → `token_expired`; subject deactivated, gone,
 * or the token from before a deactivation or departure (R7) → `subject_inactive`.
 *
 * @example
 * ```ts
 * checkToken(input, Date.now(), DEFAULT_INACTIVITY_MS) // null, or "token_expired", …
 * ```
 */
export function checkToken(input: DecisionInput, now: number, inactivityMs: number): TokenDenialReason | null {
  const { token, subject } = input;
  if (token.revokedAt !== null || token.deletedAt !== null) return "token_revoked";
  if (isExpired(token, now, inactivityMs)) return "token_expired";
  if (subject.kind !== token.kind) return "token_unknown";
  // `subjectState` inlined (this runs on every decision): active, and for users the token's epoch.
  if (subject.kind === "user") {
    const m = subject.membership;
    return m === null || m.status !== "active" || token.epoch !== m.epoch ? "subject_inactive" : null;
  }
  return subject.serviceUser !== null && subject.serviceUser.status === "active" ? null : "subject_inactive";
}

/**
 * Whether a grantee includes the token's subject (R13, R14).
 * Groups and sites include users only, and only within the item's own organization; a share from
 * another organization must name the token's organization or the subject itself (R14).
 *
 * @example
 * ```ts
 * granteeIncludes({ kind: "group", groupId: "g_1" }, input, false)
 * ```
 */
export function granteeIncludes(
  grantee: Grantee,
  input: DecisionInput,
  crossOrg: boolean,
): boolean {
  const { subject, token } = input;
  switch (grantee.kind) {
    case "user":
      return subject.kind === "user" && grantee.userId === token.subjectId;
    case "service_user":
      return subject.kind === "service_user" && grantee.serviceUserId === token.subjectId;
    case "organization":
      return grantee.orgId === token.orgId && (subject.kind === "user" || grantee.includeServiceUsers);
    case "group":
      return !crossOrg && subject.kind === "user" && subject.membership !== null && subject.membership.groupIds.includes(grantee.groupId);
    case "site": {
      if (crossOrg || subject.kind !== "user" || subject.membership === null) return false;
      const path = input.sitePaths[grantee.siteId];
      if (path === undefined) return false;
      const mine = subject.membership.siteIds;
      for (let i = 0; i < path.length; i++) if (mine.includes(path[i]!)) return true;
      return false;
    }
  }
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
 * Whether a share includes the token's subject (R13, R14), whatever item it is on: its grantee,
 * judged as cross-organization when the shared item's owner is not the token's organization.
 * `bestGrant` (one item) and `decideAccess` (a list filter) both decide through it.
 *
 * @example
 * ```ts
 * shareIncludes(input, share) // true when the share gives the subject something
 * ```
 */
export function shareIncludes(input: DecisionInput, share: Share): boolean {
  return granteeIncludes(share.grantee, input, share.item.orgId !== input.token.orgId);
}

/**
 * Whether an access rule includes the token's subject (R13, R14): its grantee, judged as
 * cross-organization when the rule's organization is not the token's. Whether it covers an item
 * is {@link ruleMatches}.
 *
 * @example
 * ```ts
 * ruleIncludes(input, rule) && ruleMatches(rule, item)
 * ```
 */
export function ruleIncludes(input: DecisionInput, rule: AccessRule): boolean {
  return granteeIncludes(rule.grantee, input, rule.orgId !== input.token.orgId);
}

/**
 * The strongest grant that includes the subject on this item, from its shares and the rules that
 * match it, or `null` when none does (R13, R14).
 *
 * @example
 * ```ts
 * bestGrant(input, item)?.level // "edit"
 * ```
 */
export function bestGrant(input: DecisionInput, item: ItemRef): GrantRef | null {
  const crossOrg = item.orgId !== input.token.orgId;
  // The first share (then rule) of the highest rank wins; nothing outranks `delete`, so stop there.
  let bestShare: Share | null = null;
  let bestRule: AccessRule | null = null;
  let bestRank = 0;
  const shares = input.shares;
  for (let i = 0; i < shares.length && bestRank < MAX_RANK; i++) {
    const share = shares[i]!;
    const rank = levelRank(share.level);
    if (rank <= bestRank) continue;
    // The grantee first: most shares do not include the subject, and then the item key is not compared.
    if (!shareIncludes(input, share)) continue;
    const key = share.item;
    if (key.id !== item.id || key.type !== item.type || key.orgId !== item.orgId) continue;
    bestShare = share;
    bestRank = rank;
  }
  const rules = input.rules;
  for (let i = 0; i < rules.length && bestRank < MAX_RANK; i++) {
    const rule = rules[i]!;
    const rank = levelRank(rule.level);
    if (rank <= bestRank) continue;
    if (!ruleMatches(rule, item) || !ruleIncludes(input, rule)) continue;
    bestRule = rule;
    bestRank = rank;
  }
  if (bestRule !== null) return { source: "rule", id: bestRule.id, via: bestRule.grantee.kind, level: bestRule.level, crossOrg };
  if (bestShare !== null) return { source: "share", id: bestShare.id, via: bestShare.grantee.kind, level: bestShare.level, crossOrg };
  return null;
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
  input: DecisionInput,
  action: string,
  definition: ActionDefinition | undefined,
  now: number,
  options: { inactivityMs: number },
): DeniedDecision | null {
  const { token } = input;
  const tokenReason = checkToken(input, now, options.inactivityMs);
  if (tokenReason === "token_unknown") return { allowed: false, reason: tokenReason, action };
  // The subject is named only in a refusal: when both stages pass, the caller names it once.
  if (tokenReason === "token_expired") {
    const e = effectiveExpiry(token, options.inactivityMs);
    const expiry = e !== null && e.at <= Math.max(now, token.expiredAt ?? now) ? e : { at: token.expiredAt ?? now, cause: "inactivity" as const };
    return { allowed: false, reason: tokenReason, action, subject: subjectRef(input.subject, token), orgId: token.orgId, tokenId: token.id, expiry };
  }
  if (tokenReason !== null) {
    return { allowed: false, reason: tokenReason as "token_revoked" | "subject_inactive", action, subject: subjectRef(input.subject, token), orgId: token.orgId, tokenId: token.id };
  }
  const expiresAt = expiryAfter(token, now, options.inactivityMs);
  if (definition === undefined) {
    return { allowed: false, reason: "permission_denied", action, subject: subjectRef(input.subject, token), orgId: token.orgId, tokenId: token.id, unknownAction: true, expiresAt };
  }
  if (!hasPermission(input.subject.permissions, definition.permission)) {
    return { allowed: false, reason: "permission_denied", action, subject: subjectRef(input.subject, token), orgId: token.orgId, tokenId: token.id, expiresAt };
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
  const subject = subjectRef(input.subject, token);
  const expiresAt = expiryAfter(token, now, options.inactivityMs);
  if (def.access === undefined) {
    return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id, expiresAt };
  }
  const grant = item === null || item.type !== def.item ? null : bestGrant(input, item);
  if (grant === null || levelRank(grant.level) < levelRank(def.access)) {
    return {
      allowed: false,
      reason: "access_denied",
      action,
      subject,
      orgId: token.orgId,
      tokenId: token.id,
      visible: grant !== null,
      expiresAt,
    };
  }
  return { allowed: true, reason: "allowed", action, subject, orgId: token.orgId, tokenId: token.id, grant, expiresAt };
}
