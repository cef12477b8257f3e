/**
 * Token and membership lifecycle as pure functions: expiry (R6), deactivation and departure (R7),
 * the one "active" predicate that limits (R3) and decisions (R15) share.
 * @module
 */
import type { ExpiryCause, LoadedSubject, Membership, SubjectKind, TokenClient, TokenPolicy, TokenRecord, TokenView } from "./types.js";

/**
 * 30 days: the default inactivity window of R6.
 *
 * @example
 * ```ts
 * createKeyward({ store, actions, inactivityMs: DEFAULT_INACTIVITY_MS / 2 })
 * ```
 */
export const DEFAULT_INACTIVITY_MS = 30 * 24 * 60 * 60 * 1000;

/** What a token's validity depends on about its subject. */
export interface SubjectState {
  active: boolean;
  /** The membership's current epoch for users; `null` for service users. */
  epoch: string | null;
}

/** Where a token stands (R15's token stage, in its order). */
export type TokenStatus = TokenView["status"];

/**
 * The last successful authentication, or the creation if it was never used (R6).
 *
 * @example
 * ```ts
 * lastActivity(token) + DEFAULT_INACTIVITY_MS // when it expires if unused
 * ```
 */
export function lastActivity(token: TokenRecord): number {
  return token.lastUsedAt === null || token.lastUsedAt < token.createdAt ? token.createdAt : token.lastUsedAt;
}

export type { ExpiryCause } from "./types.js";

/** When a token expires and why: the earliest of its deadlines (R19). */
export interface EffectiveExpiry {
  at: number;
  cause: ExpiryCause;
}

/**
 * R19: the token's effective expiry, the earliest of its date (`expiresAt`), the end of the
 * lifetime its organization's policy allows (`policyExpiresAt`) and, for user tokens, R6's
 * inactivity deadline; `null` when none applies (a service token without date or policy). Of
 * equal deadlines the date names the cause, then the policy. The one predicate that decisions,
 * limits, listings and sweeps use ({@link isExpired}).
 *
 * @example
 * ```ts
 * effectiveExpiry(token, DEFAULT_INACTIVITY_MS) // { at: 1767225600000, cause: "inactivity" }
 * ```
 */
export function effectiveExpiry(token: TokenRecord, inactivityMs: number): EffectiveExpiry | null {
  let at = token.expiresAt ?? null;
  let cause: ExpiryCause = "date";
  const policy = token.policyExpiresAt ?? null;
  if (policy !== null && (at === null || policy < at)) {
    at = policy;
    cause = "policy";
  }
  if (token.kind === "user") {
    const idle = lastActivity(token) + inactivityMs;
    if (at === null || idle < at) return { at: idle, cause: "inactivity" };
  }
  return at === null ? null : { at, cause };
}

/**
 * R6, R19: a token is expired iff `now` has reached its effective expiry
 * ({@link effectiveExpiry}), or once its expiry was recorded. A service token without a date or
 * a policy never expires.
 *
 * @example
 * ```ts
 * isExpired(token, Date.now(), DEFAULT_INACTIVITY_MS)
 * ```
 */
export function isExpired(token: TokenRecord, now: number, inactivityMs: number): boolean {
  if (token.expiredAt !== null) return true;
  // `now` has reached the earliest of the deadlines iff it has reached one of them: compared one
  // by one, no deadline is built (a number made here and returned would be allocated per call).
  const date = token.expiresAt ?? null;
  if (date !== null && now >= date) return true;
  const policy = token.policyExpiresAt ?? null;
  if (policy !== null && now >= policy) return true;
  return token.kind === "user" && now >= lastActivity(token) + inactivityMs;
}

/**
 * When an active user token will expire if unused; `null` for service tokens.
 *
 * @example
 * ```ts
 * new Date(inactivityDeadline(token, DEFAULT_INACTIVITY_MS) ?? Infinity)
 * ```
 */
export function inactivityDeadline(token: TokenRecord, inactivityMs: number): number | null {
  return token.kind === "user" ? lastActivity(token) + inactivityMs : null;
}

/**
 * The subject state of a loaded subject: active, and (for users) the membership epoch.
 *
 * @example
 * ```ts
 * subjectState(input.subject) // { active: true, epoch: "ep_…" }
 * ```
 */
export function subjectState(subject: LoadedSubject): SubjectState {
  if (subject.kind === "user") {
    const m = subject.membership;
    return { active: m !== null && m.status === "active", epoch: m === null ? null : m.epoch };
  }
  return { active: subject.serviceUser !== null && subject.serviceUser.status === "active", epoch: null };
}

/**
 * The status of a token, checked in R15's order: revoked or deleted, then expired, then whether
 * its subject is (still) active. A user token whose membership epoch changed since its creation
 * is dead for good: the user was deactivated or left in between (R7).
 *
 * @example
 * ```ts
 * tokenStatus(token, { active: true, epoch: token.epoch }, Date.now(), DEFAULT_INACTIVITY_MS) // "active"
 * ```
 */
export function tokenStatus(token: TokenRecord, subject: SubjectState, now: number, inactivityMs: number): TokenStatus {
  if (token.deletedAt !== null) return "deleted";
  if (token.revokedAt !== null) return "revoked";
  if (isExpired(token, now, inactivityMs)) return "expired";
  if (!subject.active) return "subject_inactive";
  if (token.kind === "user" && token.epoch !== subject.epoch) return "subject_inactive";
  return "active";
}

/**
 * R3's "active": not revoked, not deleted, not expired (R6, R7). Limits count with exactly this,
 * and `authorize()` lets a token through its token stage exactly when this holds.
 *
 * @example
 * ```ts
 * isTokenActive(token, subjectState(input.subject), now, DEFAULT_INACTIVITY_MS)
 * ```
 */
export function isTokenActive(token: TokenRecord, subject: SubjectState, now: number, inactivityMs: number): boolean {
  return tokenStatus(token, subject, now, inactivityMs) === "active";
}

/** Fields a host sets when a user joins an organization or their membership is updated. */
export interface MembershipFields {
  permissionSetId?: string | null;
  groupIds?: string[];
  siteIds?: string[];
  seat?: boolean;
}

/**
 * A user joins (or re-joins) an organization, or an active member's fields are updated.
 * Becoming active from any other state starts a new epoch, so tokens from before stay dead (R7).
 *
 * @example
 * ```ts
 * joinMembership(null, "acme", "u_ben", { permissionSetId: "ps_1" }, "ep_1")
 * ```
 */
export function joinMembership(
  current: Membership | null,
  orgId: string,
  userId: string,
  fields: MembershipFields,
  newEpoch: string,
): Membership {
  if (current?.status === "active") return updateMembershipFields(current, fields);
  return {
    orgId,
    userId,
    permissionSetId: fields.permissionSetId ?? null,
    groupIds: fields.groupIds ?? [],
    siteIds: fields.siteIds ?? [],
    seat: fields.seat ?? true,
    status: "active",
    epoch: newEpoch,
  };
}

/**
 * Updates an existing membership's fields without changing its status or epoch.
 *
 * @example
 * ```ts
 * updateMembershipFields(m, { groupIds: ["g_1"] })
 * ```
 */
export function updateMembershipFields(current: Membership, fields: MembershipFields): Membership {
  return {
    ...current,
    permissionSetId: fields.permissionSetId !== undefined ? fields.permissionSetId : current.permissionSetId,
    groupIds: fields.groupIds ?? current.groupIds,
    siteIds: fields.siteIds ?? current.siteIds,
    seat: fields.seat ?? current.seat,
  };
}

/**
 * Deactivates a member (R7). Their tokens stop working at once and for good.
 *
 * @example
 * ```ts
 * deactivateMembership(m).status // "deactivated"
 * ```
 */
export function deactivateMembership(current: Membership): Membership {
  return { ...current, status: "deactivated" };
}

/**
 * Reactivates a deactivated member with a new epoch: old tokens stay dead (R7).
 *
 * @example
 * ```ts
 * reactivateMembership(m, "ep_2").epoch // "ep_2": tokens of the old epoch stay dead
 * ```
 */
export function reactivateMembership(current: Membership, newEpoch: string): Membership {
  if (current.status === "active") return current;
  return { ...current, status: "active", epoch: newEpoch };
}

/**
 * The user leaves the organization (R7): no groups, no sites, no seat; tokens dead for good.
 *
 * @example
 * ```ts
 * leaveMembership(m).status // "left"
 * ```
 */
export function leaveMembership(current: Membership): Membership {
  return { ...current, status: "left", groupIds: [], siteIds: [], seat: false };
}

/** How token listings may be ordered: by creation, last use, or effective expiry (R6, R19). */
export type TokenSort = "created" | "last_used" | "expires";

/** A sort key that no token reaches: a token that never expires (a service token without a date or a policy) sorts after every expiry. */
export const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The number a listing sorts a token by (ties broken by the token id, in code-unit order):
 * `created` its creation; `last_used` its last use, `-1` when never used; `expires` its effective
 * expiry ({@link effectiveExpiry}: the earliest of its date, its policy's end and, for user
 * tokens, its inactivity deadline), {@link NEVER} when none applies. A SQL store mirrors this in
 * its `ORDER BY` (`LEAST(expires_at, policy_expires_at, inactivity deadline)`); the conformance
 * suite checks it against this function.
 *
 * @example
 * ```ts
 * tokens.sort((a, b) => tokenSortKey(a, "expires", DEFAULT_INACTIVITY_MS) - tokenSortKey(b, "expires", DEFAULT_INACTIVITY_MS))
 * ```
 */
export function tokenSortKey(token: TokenRecord, sort: TokenSort, inactivityMs: number): number {
  if (sort === "created") return token.createdAt;
  if (sort === "last_used") return token.lastUsedAt ?? -1;
  return effectiveExpiry(token, inactivityMs)?.at ?? NEVER;
}

/**
 * R19: the effective expiry a token has right after a use at `at` (for a user token the inactivity
 * deadline moves with each use; a date or a policy's end does not): what an allowed decision
 * reports as `expiresAt` and the middleware sends as `API-Token-Expiration`. `null`: it never
 * expires.
 *
 * @example
 * ```ts
 * expiryAfterUse(token, now, DEFAULT_INACTIVITY_MS) // now + 30 days for an unrestricted user token
 * ```
 */
export function expiryAfterUse(token: TokenRecord, at: number, inactivityMs: number): number | null {
  // effectiveExpiry's earliest deadline, with the use at `at` counted as the last activity.
  let deadline = token.expiresAt ?? null;
  const policy = token.policyExpiresAt ?? null;
  if (policy !== null && (deadline === null || policy < deadline)) deadline = policy;
  if (token.kind === "user") {
    const idle = Math.max(at, lastActivity(token)) + inactivityMs;
    if (deadline === null || idle < deadline) deadline = idle;
  }
  return deadline;
}

/**
 * R19: which expiry ended an expired token, and when: its {@link effectiveExpiry} when that has
 * passed at `now`; for a token whose expiry was recorded earlier (`expiredAt`) and whose fields
 * name no deadline that passed, the inactivity cause at the recorded time.
 *
 * @example
 * ```ts
 * expiryOf(token, now, DEFAULT_INACTIVITY_MS) // { cause: "date", at: 1767225600000 }
 * ```
 */
export function expiryOf(token: TokenRecord, now: number, inactivityMs: number): EffectiveExpiry {
  const e = effectiveExpiry(token, inactivityMs);
  if (e !== null && e.at <= Math.max(token.expiredAt ?? now, now)) return e;
  return { at: token.expiredAt ?? now, cause: "inactivity" };
}

/** 14 days: by default a tightened policy applied to existing tokens ends none sooner than this from now (R19), the first warning threshold of R20. */
export const DEFAULT_POLICY_NOTICE_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * R19: the longest lifetime `policy` allows a token of `kind`, in ms; `null` when it sets none.
 *
 * @example
 * ```ts
 * policyMaxLifetime({ maxLifetimeMs: { service_user: 90 * DAY } }, "service_user") // 7776000000
 * ```
 */
export function policyMaxLifetime(policy: TokenPolicy | null | undefined, kind: SubjectKind): number | null {
  return policy?.maxLifetimeMs?.[kind] ?? null;
}

/**
 * R19: the `policyExpiresAt` an existing token gets when `policy` is applied to it at `now`
 * (`existing: "apply"`): its creation plus the kind's maximum (`null` without one) — but never
 * sooner than `now + noticeMs`, unless the token was already due to end sooner than that under
 * its previous policy (then it keeps that end): a tightening never ends a token without notice.
 *
 * @example
 * ```ts
 * appliedPolicyExpiry(token, { maxLifetimeMs: { user: DAY } }, now, 14 * DAY) // now + 14 days for an old token
 * ```
 */
export function appliedPolicyExpiry(token: TokenRecord, policy: TokenPolicy | null, now: number, noticeMs: number): number | null {
  const max = policyMaxLifetime(policy, token.kind);
  if (max === null) return null;
  const computed = token.createdAt + max;
  const floor = now + noticeMs;
  if (computed >= floor) return computed;
  const previous = token.policyExpiresAt ?? null;
  return Math.max(computed, previous !== null && previous < floor ? previous : floor);
}

/** 14, 3 and 1 days: when R20's `token.expiring` warnings are due by default, before a token's effective expiry. */
export const DEFAULT_WARNING_THRESHOLDS_MS: readonly number[] = Object.freeze([14, 3, 1].map((d) => d * 24 * 60 * 60 * 1000));

/** A warning due for a token (R20): the deadline it is for, why the token expires then, and the threshold reached. */
export interface DueWarning {
  /** The effective expiry the warning is for (epoch ms). */
  deadline: number;
  cause: ExpiryCause;
  /** The smallest threshold reached: the deadline is at most this many ms away. */
  thresholdMs: number;
}

/**
 * R20: whether a warning recorded for (`warnedDeadline`, `warnedThresholdMs`) leaves a warning
 * for (`deadline`, `thresholdMs`) still to send: yes iff none was sent, it was for another
 * deadline (a used user token's deadline moved), or for a larger threshold. The condition a
 * store's `markTokenWarned` writes under.
 *
 * @example
 * ```ts
 * warningIsNew({ warnedDeadline: d, warnedThresholdMs: 3 * DAY }, d, DAY) // true: 1 day is closer than 3
 * ```
 */
export function warningIsNew(
  warned: { warnedDeadline?: number | null; warnedThresholdMs?: number | null },
  deadline: number,
  thresholdMs: number,
): boolean {
  const at = warned.warnedDeadline ?? null;
  const threshold = warned.warnedThresholdMs ?? null;
  return at !== deadline || threshold === null || thresholdMs < threshold;
}

/**
 * R20: the warning due for `token` at `now`, or `null`. Due when its effective expiry
 * ({@link effectiveExpiry}) is still ahead and at most a threshold away: the smallest such
 * threshold (a sweep that ran late skips the larger ones), unless that one, or a smaller one, was
 * already sent for this deadline. Pure: the caller checks the token is active, and records the
 * warning with a conditional write (`markTokenWarned`) so that each is sent once.
 *
 * @example
 * ```ts
 * dueWarning(token, Date.now(), DEFAULT_INACTIVITY_MS, DEFAULT_WARNING_THRESHOLDS_MS) // { deadline, cause: "inactivity", thresholdMs: 259200000 }
 * ```
 */
export function dueWarning(token: TokenRecord, now: number, inactivityMs: number, thresholdsMs: readonly number[]): DueWarning | null {
  const expiry = effectiveExpiry(token, inactivityMs);
  if (expiry === null || now >= expiry.at) return null;
  let due: number | null = null;
  for (const t of thresholdsMs) if (now >= expiry.at - t && (due === null || t < due)) due = t;
  if (due === null || !warningIsNew(token, expiry.at, due)) return null;
  return { deadline: expiry.at, cause: expiry.cause, thresholdMs: due };
}

/** 5: how many distinct clients a token keeps when client tracking is on without a `max`. */
export const DEFAULT_TRACKED_CLIENTS = 5;

/**
 * The clients a token keeps after a use (opt-in tracking): `seen` and `current` together,
 * distinct by (ip, user agent) keeping each one's latest `lastSeenAt`, most recent first (of equal
 * times, `seen` before `current`, each in its order), at most `max`. A store applies this with
 * its last-use write; a SQL store mirrors it in its `UPDATE`.
 *
 * @example
 * ```ts
 * mergeClients(token.clients ?? [], [{ ip: "203.0.113.7", userAgent: "curl/8.5", lastSeenAt: now }], 5)
 * ```
 */
export function mergeClients(current: readonly TokenClient[], seen: readonly TokenClient[], max: number): TokenClient[] {
  const all = [...seen, ...current].map((c, i) => ({ c, i }));
  const best = new Map<string, { c: TokenClient; i: number }>();
  for (const x of all) {
    const key = JSON.stringify([x.c.ip, x.c.userAgent]);
    const b = best.get(key);
    if (b === undefined || x.c.lastSeenAt > b.c.lastSeenAt) best.set(key, x);
  }
  return [...best.values()]
    .sort((a, b) => b.c.lastSeenAt - a.c.lastSeenAt || a.i - b.i)
    .slice(0, max)
    .map(({ c }) => ({ ip: c.ip, userAgent: c.userAgent, lastSeenAt: c.lastSeenAt }));
}
