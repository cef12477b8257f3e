/**
 * Every outcome keyward can answer, once: each denial reason of `authorize()` and each error
 * code of {@link KeywardError}, with its stage, its HTTP status, the problem `code` an HTTP
 * answer carries and the `WWW-Authenticate` error where one applies. `DENIAL_REASONS`,
 * `ERROR_CODES`, the middleware's mapping, the management router's and the leak handler's
 * statuses are all derived from {@link OUTCOMES} (and, for the answers that are HTTP-only, from
 * {@link HTTP_PROBLEMS}), so a code cannot be added without its status.
 *
 * Pure data: no I/O.
 * @module
 */

/** The stage of a request that a denial comes from, in the order they are checked (R15, R21). */
export type DenialStage = "token" | "limit" | "permission" | "access";

/**
 * What an error is about: the caller's input, the host's configuration, the current state of
 * the data (a conflict, something missing), a password check, the acting user's permissions,
 * or the store (a failure, never the caller's fault).
 */
export type ErrorStage = "input" | "config" | "state" | "authentication" | "permission" | "store";

/**
 * What an HTTP answer puts in `WWW-Authenticate` (RFC 6750 §3): `"bearer"` the challenge alone
 * (no credentials were sent), or the `error` of the challenge.
 */
export type Challenge = "bearer" | "invalid_request" | "invalid_token" | "insufficient_scope";

/** One row of {@link OUTCOMES}. */
export interface Outcome {
  /** `"denial"`: a reason of a denied decision (data, and the code `assertAuthorized()` throws); `"error"`: a failure only. */
  kind: "denial" | "error";
  stage: DenialStage | ErrorStage;
  /** The HTTP status of an answer for it. */
  status: number;
  /** The `code` of the problem body a guard sends for it (a management answer carries the code itself). */
  problem: string;
  /** The problem's `title`. */
  title: string;
  /** The default message of a {@link KeywardError} with this code; for people, never a secret. */
  message: string;
  /** The `WWW-Authenticate` a guard sends with it, if any. */
  challenge?: Challenge;
  /** Whether the answer carries `Retry-After`. */
  retryAfter?: true;
}

/**
 * The table of outcomes. Denial reasons first, in the order R15 checks them (`rate_limited`,
 * R21's, between the token and the permission stages); then the error codes.
 *
 * `access_denied` is 403 when the subject can see the item at a lower level; an item it cannot
 * reach at all is answered as `not_found` (404) unless the host prefers 403. A denial caused by a
 * token's restriction (R17, `restricted: true`) is always 403 with `insufficient_scope`, whatever
 * `visible` says: the token, not the item, is what falls short.
 *
 * @example
 * ```ts
 * OUTCOMES.token_expired // { kind: "denial", stage: "token", status: 401, problem: "invalid_token", challenge: "invalid_token", … }
 * OUTCOMES.token_limit_reached.status // 409
 * ```
 */
export const OUTCOMES = {
  token_malformed: { kind: "denial", stage: "token", status: 401, problem: "invalid_token", title: "Invalid token", message: "The token is malformed.", challenge: "invalid_token" },
  token_unknown: { kind: "denial", stage: "token", status: 401, problem: "invalid_token", title: "Invalid token", message: "The token is not known.", challenge: "invalid_token" },
  token_revoked: { kind: "denial", stage: "token", status: 401, problem: "invalid_token", title: "Invalid token", message: "The token was revoked or deleted.", challenge: "invalid_token" },
  token_expired: { kind: "denial", stage: "token", status: 401, problem: "invalid_token", title: "Invalid token", message: "The token has expired.", challenge: "invalid_token" },
  subject_inactive: { kind: "denial", stage: "token", status: 401, problem: "invalid_token", title: "Invalid token", message: "The token's subject is no longer active.", challenge: "invalid_token" },
  rate_limited: { kind: "denial", stage: "limit", status: 429, problem: "rate_limited", title: "Too many requests", message: "Too many requests for this token's rate limit. Retry after the window resets.", retryAfter: true },
  permission_denied: { kind: "denial", stage: "permission", status: 403, problem: "permission_denied", title: "Permission denied", message: "The token's subject lacks the permission for this action.", challenge: "insufficient_scope" },
  access_denied: { kind: "denial", stage: "access", status: 403, problem: "access_denied", title: "Access denied", message: "The token's subject has no access to this item at the level the action needs.", challenge: "insufficient_scope" },
  invalid_input: { kind: "error", stage: "input", status: 400, problem: "invalid_input", title: "Invalid input", message: "The input is not valid." },
  payload_too_large: { kind: "error", stage: "input", status: 413, problem: "payload_too_large", title: "Request too large", message: "The request body is too large." },
  service_user_not_allowed: { kind: "error", stage: "input", status: 422, problem: "service_user_not_allowed", title: "Not for service users", message: "Service users have no groups and no sites: share items with them or name them in a rule." },
  // 422, not 403: the caller may create tokens; only this restriction asks for more than its subject holds (R17).
  permission_not_held: { kind: "error", stage: "input", status: 422, problem: "permission_not_held", title: "Permission not held", message: "A restricted token may only keep permissions its subject holds now." },
  invalid_config: { kind: "error", stage: "config", status: 500, problem: "invalid_config", title: "Server misconfigured", message: "The configuration is not valid." },
  not_found: { kind: "error", stage: "state", status: 404, problem: "not_found", title: "Not found", message: "Not found." },
  already_exists: { kind: "error", stage: "state", status: 409, problem: "already_exists", title: "Already exists", message: "It already exists." },
  conflict: { kind: "error", stage: "state", status: 409, problem: "conflict", title: "Conflict", message: "Another change to it was made at the same time: this one was not. Reload and try again." },
  token_limit_reached: { kind: "error", stage: "state", status: 409, problem: "token_limit_reached", title: "Token limit reached", message: "The limit of active tokens is reached. Revoke or delete one first." },
  // 403, not 401: the session is fine, only the password given for this one operation was not (a 401 would make clients log out).
  reauthentication_failed: { kind: "error", stage: "authentication", status: 403, problem: "reauthentication_failed", title: "Password required", message: "Re-authentication failed: the password is wrong or missing." },
  login_not_allowed: { kind: "error", stage: "authentication", status: 403, problem: "login_not_allowed", title: "Login not allowed", message: "Service user tokens cannot be used to log in." },
  forbidden: { kind: "error", stage: "permission", status: 403, problem: "forbidden", title: "Not allowed", message: "The acting user lacks the permission this needs." },
  // R19: the organization's token policy refuses it (an expiry required or too far, or no user tokens); the error names the field.
  policy_violation: { kind: "error", stage: "permission", status: 403, problem: "policy_violation", title: "Refused by policy", message: "The organization's token policy does not allow this." },
  unavailable: { kind: "error", stage: "store", status: 503, problem: "unavailable", title: "Temporarily unavailable", message: "The token store is unavailable. Try again later.", retryAfter: true },
} as const satisfies Record<string, Outcome>;

type Table = typeof OUTCOMES;

/** A stable error code: every row of {@link OUTCOMES}, denial reasons included (`assertAuthorized()` throws them). */
export type KeywardErrorCode = keyof Table;

/** Why a decision was a denial (R15; `rate_limited` is R21's, between the token and the permission stages, only where a rate limit is configured). */
export type DenialReason = { [K in KeywardErrorCode]: Table[K]["kind"] extends "denial" ? K : never }[KeywardErrorCode];

/** Reasons that mean the token itself does not authenticate (HTTP 401). */
export type TokenDenialReason = { [K in DenialReason]: Table[K]["stage"] extends "token" ? K : never }[DenialReason];

/**
 * The reasons of R15, in the order they are checked.
 *
 * @example
 * ```ts
 * DENIAL_REASONS[0] // "token_malformed"
 * ```
 */
export const DENIAL_REASONS: readonly DenialReason[] = Object.freeze(
  (Object.keys(OUTCOMES) as KeywardErrorCode[]).filter((k): k is DenialReason => OUTCOMES[k].kind === "denial"),
);

/**
 * Stable error codes, with the default message for each.
 *
 * @example
 * ```ts
 * ERROR_CODES.token_limit_reached // the default message
 * ```
 */
export const ERROR_CODES: { readonly [K in KeywardErrorCode]: Table[K]["message"] } = Object.freeze(
  Object.fromEntries(Object.entries(OUTCOMES).map(([k, o]) => [k, o.message])) as { [K in KeywardErrorCode]: Table[K]["message"] },
);

/**
 * Whether a code is a denial reason (of a decision, or of the error `assertAuthorized()` throws).
 *
 * @example
 * ```ts
 * isDenialReason("access_denied") // true
 * isDenialReason("forbidden") // false
 * ```
 */
export function isDenialReason(code: string): code is DenialReason {
  return Object.hasOwn(OUTCOMES, code) && OUTCOMES[code as KeywardErrorCode].kind === "denial";
}

/**
 * Whether a decision's reason comes after R15's token stage: the token authenticated (`allowed`,
 * `rate_limited`, `permission_denied`, `access_denied`).
 *
 * @example
 * ```ts
 * passedTokenStage("permission_denied") // true
 * passedTokenStage("token_expired") // false
 * ```
 */
export function passedTokenStage(reason: DenialReason | "allowed"): reason is Exclude<DenialReason, TokenDenialReason> | "allowed" {
  return reason === "allowed" || OUTCOMES[reason].stage !== "token";
}

/**
 * Answers that exist only in HTTP (no decision or error carries them): the bearer extraction's,
 * the generic 500, and the management router's and the leak handler's own.
 *
 * @example
 * ```ts
 * HTTP_PROBLEMS.missing_credentials.status // 401
 * ```
 */
export const HTTP_PROBLEMS = {
  missing_credentials: { status: 401, title: "Authentication required", challenge: "bearer" },
  invalid_request: { status: 400, title: "Invalid request", challenge: "invalid_request" },
  invalid_token: { status: 401, title: "Invalid token", challenge: "invalid_token" },
  internal_error: { status: 500, title: "Internal error" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  session_required: { status: 401, title: "Sign-in required" },
  csrf_rejected: { status: 403, title: "Cross-site request refused" },
  signature_required: { status: 401, title: "Signature required" },
  invalid_signature: { status: 401, title: "Invalid signature" },
  unknown_key: { status: 401, title: "Unknown key" },
} as const satisfies Record<string, Pick<Outcome, "status" | "title" | "challenge">>;

/** A code an HTTP problem body of keyward can carry: an outcome's or an HTTP-only one. */
export type AnyProblemCode = KeywardErrorCode | keyof typeof HTTP_PROBLEMS;

/**
 * The status, title, `WWW-Authenticate` challenge and `Retry-After` of every problem code,
 * outcomes and HTTP-only answers together.
 *
 * @example
 * ```ts
 * problemMeta("unavailable") // { status: 503, title: "Temporarily unavailable", retryAfter: true }
 * ```
 */
export function problemMeta(code: AnyProblemCode): Pick<Outcome, "status" | "title" | "challenge" | "retryAfter"> {
  return Object.hasOwn(OUTCOMES, code) ? OUTCOMES[code as KeywardErrorCode] : HTTP_PROBLEMS[code as keyof typeof HTTP_PROBLEMS];
}

/**
 * The status of each code of a set, as a plain record (the tables the management router and the
 * leak handler publish).
 *
 * @example
 * ```ts
 * statusTable(["not_found", "internal_error"]) // { not_found: 404, internal_error: 500 }
 * ```
 */
export function statusTable<C extends AnyProblemCode>(codes: readonly C[]): Readonly<Record<C, number>> {
  return Object.freeze(Object.fromEntries(codes.map((c) => [c, problemMeta(c).status])) as Record<C, number>);
}

/**
 * The whole seconds of an HTTP `Retry-After` for a wait of `ms` milliseconds: rounded up, and at
 * least 1 (a client retrying at 0 would only be refused again). Every `Retry-After` keyward sends
 * and every "try again in N seconds" it writes comes from here.
 *
 * @example
 * ```ts
 * retryAfterSeconds(1_200) // 2
 * retryAfterSeconds(0) // 1
 * ```
 */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
