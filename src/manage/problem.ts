/**
 * Errors of the management endpoints as RFC 9457 `application/problem+json` responses, one
 * stable `code` per case. Messages are for people and never contain a secret (R5).
 * @module
 */
import { KeywardError, type KeywardErrorCode } from "../core/errors.js";
import { buildProblem, problemToResponse, type ProblemDocument } from "../http/mapping.js";

/** Codes the management router adds to keyward's own (HTTP-level situations). */
export type ManagementProblemCode =
  | KeywardErrorCode
  | "session_required"
  | "csrf_rejected"
  | "unsupported_media_type"
  | "payload_too_large"
  | "method_not_allowed"
  | "internal_error";

/** The body of every error response of the management router: keyward's problem shape (`keyward/fetch`'s `ProblemDocument`), with the router's codes. */
export interface ManagementProblem extends ProblemDocument<ManagementProblemCode> {
  /** For `invalid_input` and `reauthentication_failed`: the request field concerned (e.g. `"name"`, `"password"`). */
  field?: string;
  /** For `token_limit_reached`: the limit (R3). */
  limit?: number;
}

/**
 * The HTTP status of each code. `token_limit_reached` is 409 (a conflict with the current
 * state, as in the middleware's mapping); `reauthentication_failed` is 403, not 401: the session is
 * fine, only the password given for this one creation was not (a 401 would make clients log out).
 *
 * @example
 * ```ts
 * MANAGEMENT_STATUS.token_limit_reached // 409
 * ```
 */
export const MANAGEMENT_STATUS: Readonly<Record<ManagementProblemCode, number>> = {
  invalid_input: 400,
  invalid_config: 500,
  not_found: 404,
  already_exists: 409,
  token_limit_reached: 409,
  reauthentication_failed: 403,
  login_not_allowed: 403,
  service_user_not_allowed: 422,
  forbidden: 403,
  unavailable: 503,
  token_malformed: 400,
  token_unknown: 404,
  token_revoked: 409,
  token_expired: 409,
  subject_inactive: 403,
  rate_limited: 429,
  permission_denied: 403,
  access_denied: 403,
  session_required: 401,
  csrf_rejected: 403,
  unsupported_media_type: 415,
  payload_too_large: 413,
  method_not_allowed: 405,
  internal_error: 500,
};

const TITLES: Partial<Record<ManagementProblemCode, string>> = {
  invalid_input: "Invalid input",
  not_found: "Not found",
  already_exists: "Already exists",
  token_limit_reached: "Token limit reached",
  reauthentication_failed: "Password required",
  forbidden: "Not allowed",
  unavailable: "Temporarily unavailable",
  session_required: "Sign-in required",
  csrf_rejected: "Cross-site request refused",
  unsupported_media_type: "Unsupported media type",
  payload_too_large: "Request too large",
  method_not_allowed: "Method not allowed",
  internal_error: "Internal error",
};

/**
 * Seconds a client should wait after a 503 `unavailable` (the `Retry-After` header).
 *
 * @example
 * ```ts
 * if (res.status === 503) setTimeout(retry, RETRY_AFTER_SECONDS * 1000);
 * ```
 */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Builds a problem+json response through the shared builder of `src/http` (the same body shape
 * and headers as the middleware's), with the router's status table, `charset=utf-8`, `nosniff`,
 * and `Retry-After` on `unavailable`. `Cache-Control: no-store` on every one.
 */
export function problemResponse(code: ManagementProblemCode, detail: string, extra: { field?: string; limit?: number; retryAfter?: number; headers?: Record<string, string> } = {}): Response {
  const headers: Record<string, string> = {
    "content-type": "application/problem+json; charset=utf-8",
    "x-content-type-options": "nosniff",
    ...extra.headers,
  };
  if (code === "unavailable") headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  const title = TITLES[code] ?? code.replace(/_/g, " ");
  if (extra.retryAfter !== undefined) headers["retry-after"] = String(extra.retryAfter);
  return problemToResponse(buildProblem(code, MANAGEMENT_STATUS[code], title, detail, { field: extra.field, limit: extra.limit, retryAfter: extra.retryAfter }, headers));
}

/** What the endpoint was doing, to word the message a person reads. */
export type ManagementOperation = "create_user_token" | "create_service_token" | "other";

/**
 * Maps a {@link KeywardError} to its problem response. Messages of keyward's own errors are
 * safe to show (they never carry a secret); two are reworded for the person at the page.
 */
export function errorToProblem(e: KeywardError, operation: ManagementOperation = "other"): Response {
  switch (e.code) {
    case "token_limit_reached": {
      const n = e.limit;
      const detail =
        operation === "create_service_token"
          ? `This organization has reached the limit of ${n ?? "its"} active service user tokens. Revoke or delete one you no longer use, then generate a new one.`
          : `You have reached the limit of ${n ?? "your"} active tokens in this organization. Revoke a token you no longer use, then generate a new one.`;
      return problemResponse("token_limit_reached", detail, n === undefined ? {} : { limit: n });
    }
    case "reauthentication_failed":
      // Throttled (R4): too many wrong passwords; the password was not checked.
      if (e.retryAfter !== undefined) {
        return problemResponse("reauthentication_failed", `Too many wrong passwords. Try again in ${e.retryAfter} seconds.`, { field: "password", retryAfter: e.retryAfter });
      }
      return problemResponse("reauthentication_failed", "The password is missing or not correct. Enter your account's password to generate a token.", { field: "password" });
    case "invalid_config":
      // The host's configuration, not the caller's fault: do not describe it to the caller.
      return problemResponse("invalid_config", "The server is not configured for this operation.");
    case "unavailable":
      return problemResponse("unavailable", "The token store is unavailable. Try again in a few seconds.");
    case "forbidden":
      return e.field === undefined
        ? problemResponse("forbidden", "You do not have the permission this needs. Ask an administrator of your organization.")
        : problemResponse("forbidden", "You cannot give permissions you do not hold yourself.", { field: e.field });
    default:
      return problemResponse(e.code, e.message, e.field === undefined ? {} : { field: e.field });
  }
}
