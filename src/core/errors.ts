/**
 * One error class and one map of codes. Every error keyward throws at a caller is a
 * {@link KeywardError} with a stable snake_case `code`; denials of `authorize()` are data
 * (decisions), not errors.
 * @module
 */
import { ERROR_CODES, isDenialReason, type DenialReason, type KeywardErrorCode } from "./reasons.js";
import type { DeniedDecision } from "./types.js";

export { ERROR_CODES, type KeywardErrorCode } from "./reasons.js";

/** Options of a {@link KeywardError}. */
export interface KeywardErrorOptions {
  /** The underlying error (a driver error, a validation error…). */
  cause?: unknown;
  /** For `invalid_input`: the path of the offending field, e.g. `"item.id"`. */
  field?: string;
  /** For authorization failures: the action and item concerned. */
  action?: string;
  item?: { orgId: string; type: string; id: string };
  /** For `access_denied`: whether the item is visible at a lower level. */
  visible?: boolean;
  /** For `permission_denied` and `access_denied`: the token's restriction caused the denial (R17). */
  restricted?: true;
  /** For `token_limit_reached`: the limit that was reached (R3). */
  limit?: number;
  /**
   * Milliseconds until another attempt may succeed: for `rate_limited` (R21) and for a throttled
   * `reauthentication_failed` (R4). An HTTP `Retry-After` is this in whole seconds, rounded up.
   */
  retryAfterMs?: number;
}

/**
 * The error keyward throws. `code` is stable; `message` is for people and never contains a
 * secret (R5).
 *
 * @example
 * ```ts
 * try {
 *   await kw.tokens.createUserToken({ orgId, userId, name: "CI", password });
 * } catch (e) {
 *   if (e instanceof KeywardError && e.code === "token_limit_reached") showLimitDialog();
 *   else throw e;
 * }
 * ```
 */
export class KeywardError extends Error {
  override readonly name = "KeywardError";
  readonly code: KeywardErrorCode;
  declare readonly field?: string;
  declare readonly action?: string;
  declare readonly item?: { orgId: string; type: string; id: string };
  declare readonly visible?: boolean;
  declare readonly restricted?: true;
  declare readonly limit?: number;
  declare readonly retryAfterMs?: number;

  constructor(code: KeywardErrorCode, message?: string, options: KeywardErrorOptions = {}) {
    super(message ?? ERROR_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.action !== undefined) this.action = options.action;
    if (options.item !== undefined) this.item = options.item;
    if (options.visible !== undefined) this.visible = options.visible;
    if (options.restricted === true) this.restricted = true;
    if (options.limit !== undefined) this.limit = options.limit;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** A plain, serialisable form (for logs and problem bodies): code, message and field. */
  toJSON(): { name: string; code: KeywardErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, field: this.field };
  }
}

/**
 * The error `assertAuthorized()` throws for a denial: a {@link KeywardError} whose code is the
 * decision's reason, carrying the action and the item (CASL's `ForbiddenError`, as a returning and a throwing form).
 *
 * @example
 * ```ts
 * try { await kw.assertAuthorized(token, "inspections.edit", item); }
 * catch (e) { if (isForbidden(e)) console.log(e.code, e.action); }
 * ```
 */
export type ForbiddenError = KeywardError & { code: DenialReason; action: string };

/**
 * Whether `e` is the error thrown by `assertAuthorized()` for a denial.
 *
 * @example
 * ```ts
 * if (isForbidden(err) && err.code === "access_denied") return notFound();
 * ```
 */
export function isForbidden(e: unknown): e is ForbiddenError {
  return e instanceof KeywardError && e.action !== undefined && isDenialReason(e.code);
}

/**
 * The error the throwing forms (`assertAuthorized()`, `assertAccessible()`) throw for a denied
 * decision: its reason as the code, the action, the item when there was one, and what the
 * decision's variant carries (`visible` of `access_denied`, `restricted` of a denial the token's
 * restriction caused, `retryAfterMs` of `rate_limited`).
 *
 * @example
 * ```ts
 * const d = await kw.authorize(token, "inspections.edit", item);
 * if (!d.allowed) throw forbiddenError(d, item);
 * ```
 */
export function forbiddenError(decision: DeniedDecision, item?: { orgId: string; type: string; id: string } | null): ForbiddenError {
  const options: KeywardErrorOptions = { action: decision.action };
  if (item) options.item = { orgId: item.orgId, type: item.type, id: item.id };
  if (decision.reason === "access_denied") options.visible = decision.visible;
  if ((decision.reason === "access_denied" || decision.reason === "permission_denied") && decision.restricted) options.restricted = true;
  if (decision.reason === "rate_limited") options.retryAfterMs = decision.retryAfterMs;
  return new KeywardError(decision.reason, undefined, options) as ForbiddenError;
}

/**
 * An `invalid_input` or `invalid_config` error about one field, worded the one way keyward words
 * them: `Invalid input at "<field>": <why>.` / `Invalid configuration at "<field>": <why>.` (no
 * field: no `at …`).
 *
 * @example
 * ```ts
 * throw fieldError("invalid_config", "rateLimit.by", "the key function must return a non-empty string");
 * ```
 */
export function fieldError(code: "invalid_input" | "invalid_config", field: string, why: string, cause?: unknown): KeywardError {
  const what = code === "invalid_input" ? "Invalid input" : "Invalid configuration";
  return new KeywardError(code, `${what}${field ? ` at "${field}"` : ""}: ${why}.`, cause === undefined ? { field } : { field, cause });
}

/**
 * Wraps a storage failure so that it reaches the caller as `unavailable`, with the driver's
 * error as `cause`. Errors that are already {@link KeywardError}s pass through.
 *
 * @example
 * ```ts
 * try { await pool.query(sql) } catch (e) { throw storeFailure(e) }
 * ```
 */
export function storeFailure(e: unknown): KeywardError {
  if (e instanceof KeywardError) return e;
  return new KeywardError("unavailable", undefined, { cause: e });
}
