/**
 * Admission of a new token (R3 limits, R7 active subject and membership epoch), written once.
 *
 * A store reads the quota owner's state under the owner's lock and passes it to the rule; it
 * inserts the token only if the rule admits it. The rule is pure: no I/O, no clock (the time is
 * in the limits, or the one the store read).
 * @module
 */
import { isTokenActive, type SubjectState } from "./lifecycle.js";
import type { TokenRecord } from "./types.js";

/**
 * What a token insertion must respect (R3). `now` and `inactivityMs` define "active" (R6).
 *
 * @example
 * ```ts
 * const quota: TokenQuota = { max: 10, now: Date.now(), inactivityMs: 30 * DAY, storeClock: true };
 * ```
 */
export interface TokenQuota {
  /** Maximum number of active tokens of the quota owner, the new one included. */
  max: number;
  now: number;
  inactivityMs: number;
  /**
   * Count at the store's own time instead of `now`, when it read one under the lock
   * ({@link QuotaOwnerState.now}: PostgreSQL's clock), so that every instance counts on one
   * clock. Set by keyward unless it was given a `clock`.
   */
  storeClock?: boolean;
}

/**
 * One token of a quota owner, with the state of its subject, as the store read them.
 *
 * @example
 * ```ts
 * const owned: OwnedToken = { token, subject: { active: true, epoch: "ep1" } };
 * ```
 */
export interface OwnedToken {
  token: TokenRecord;
  subject: SubjectState;
}

/**
 * What a store reads under the quota owner's lock and hands to the admission rule.
 *
 * @example
 * ```ts
 * const owner: QuotaOwnerState = { subject: { active: true, epoch: "ep1" }, tokens: [], now: null };
 * ```
 */
export interface QuotaOwnerState {
  /** The new token's subject: active, and (user tokens) its membership's current epoch. A missing subject is `{ active: false, epoch: null }`. */
  subject: SubjectState;
  /**
   * The quota owner's tokens: for a user token the tokens of that (organization, user); for a
   * service token every service token of the organization. A store may leave out tokens that
   * can never count again (revoked, deleted, marked expired).
   */
  tokens: readonly OwnedToken[];
  /** The store's own time, read under the lock (PostgreSQL: the database's clock), or `null` when it has none. */
  now: number | null;
}

/**
 * The outcome of an admission, and of `insertToken`.
 *
 * @example
 * ```ts
 * if (!(await store.insertToken(record, rule)).ok) throw new Error("refused");
 * ```
 */
export type Admission =
  | { ok: true }
  | { ok: false; reason: "limit_reached" }
  /** The subject is not active, or (user tokens) its membership epoch is not the token's. */
  | { ok: false; reason: "subject_inactive" };

/**
 * The rule a store runs under the quota owner's lock: pure, given the token and the owner's state.
 *
 * @example
 * ```ts
 * const rule: AdmissionRule = (token, owner) => admitToken(token, owner, quota);
 * ```
 */
export type AdmissionRule = (token: TokenRecord, owner: QuotaOwnerState) => Admission;

/**
 * R3 and R7: whether `token` may be inserted for a quota owner in state `owner`. Refuses a
 * subject that is not active or (user tokens) whose membership epoch is not the token's
 * (`subject_inactive`), then counts the owner's tokens that are active with exactly
 * `isTokenActive` (the predicate `authorize()` uses) and refuses at `quota.max` (`limit_reached`).
 *
 * @example
 * ```ts
 * admitToken(token, { subject: { active: true, epoch: "ep1" }, tokens: [], now: null }, { max: 10, now: Date.now(), inactivityMs: DAY * 30 })
 * // { ok: true }
 * ```
 */
export function admitToken(token: TokenRecord, owner: QuotaOwnerState, quota: TokenQuota): Admission {
  if (!owner.subject.active || (token.kind === "user" && token.epoch !== owner.subject.epoch)) return { ok: false, reason: "subject_inactive" };
  const now = quota.storeClock === true && owner.now !== null ? owner.now : quota.now;
  let active = 0;
  for (const c of owner.tokens) if (isTokenActive(c.token, c.subject, now, quota.inactivityMs)) active++;
  return active >= quota.max ? { ok: false, reason: "limit_reached" } : { ok: true };
}

/**
 * The admission rule for `insertToken` with these limits.
 *
 * @example
 * ```ts
 * await store.insertToken(record, admission({ max: 10, now: Date.now(), inactivityMs: DAY * 30 }));
 * ```
 */
export function admission(quota: TokenQuota): AdmissionRule {
  return (token, owner) => admitToken(token, owner, quota);
}
