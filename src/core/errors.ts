/**
 * One error class and one map of codes. Every error keyward throws at a caller is a
 * {@link KeywardError} with a stable snake_case `code`; denials of `authorize()` are data
 * (decisions), not errors.
 * @module
 */
import type { DenialReason } from "./types.js";

/**
 * Stable error codes, with the default message for each.
 *
 * @example
 * ```ts
 * ERROR_CODES.token_limit_reached // the default message
 * ```
 */
export const ERROR_CODES = {
  invalid_input: "The input is not valid.",
  invalid_config: "The configuration is not valid.",
  not_found: "Not found.",
  already_exists: "It already exists.",
  token_limit_reached: "The limit of active tokens is reached. Revoke or delete one first.",
  reauthentication_failed: "Re-authentication failed: the password is wrong or missing.",
  login_not_allowed: "Service user tokens cannot be used to log in.",
  service_user_not_allowed:
    "Service users have no groups and no sites: share items with them or name them in a rule.",
  forbidden: "The acting user lacks the permission this needs.",
  unavailable: "The token store is unavailable. Try again later.",
  token_malformed: "The token is malformed.",
  token_unknown: "The token is not known.",
  token_revoked: "The token was revoked or deleted.",
  token_expired: "The token has expired.",
  subject_inactive: "The token's subject is no longer active.",
  rate_limited: "Too many requests for this token's rate limit. Retry after the window resets.",
  permission_denied: "The token's subject lacks the permission for this action.",
  access_denied: "The token's subject has no access to this item at the level the action needs.",
} as const satisfies Record<string, string>;

/** A stable error code. */
export type KeywardErrorCode = keyof typeof ERROR_CODES;

/** Options of a {@link KeywardError}. */
export interface KeywardErrorOptions {
  /** The underlying error (a driver error, a zod error…). */
  cause?: unknown;
  /** For `invalid_input`: the path of the offending field, e.g. `"item.id"`. */
  field?: string;
  /** For authorization failures: the action and item concerned. */
  action?: string;
  item?: { orgId: string; type: string; id: string };
  /** For `access_denied`: whether the item is visible at a lower level. */
  visible?: boolean;
  /** For `token_limit_reached`: the limit that was reached (R3). */
  limit?: number;
  /** For a throttled `reauthentication_failed`: seconds until another attempt is accepted (R4). */
  retryAfter?: number;
  /** For `rate_limited`: milliseconds until a request may succeed again (R21). */
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
  declare readonly limit?: number;
  declare readonly retryAfter?: number;
  declare readonly retryAfterMs?: number;

  constructor(code: KeywardErrorCode, message?: string, options: KeywardErrorOptions = {}) {
    super(message ?? ERROR_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.action !== undefined) this.action = options.action;
    if (options.item !== undefined) this.item = options.item;
    if (options.visible !== undefined) this.visible = options.visible;
    if (options.limit !== undefined) this.limit = options.limit;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
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
  return e instanceof KeywardError && e.action !== undefined && DENIAL_CODES.has(e.code);
}

const DENIAL_CODES: ReadonlySet<string> = new Set([
  "token_malformed",
  "token_unknown",
  "token_revoked",
  "token_expired",
  "subject_inactive",
  "rate_limited",
  "permission_denied",
  "access_denied",
]);

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
