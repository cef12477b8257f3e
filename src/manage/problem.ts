/**
 * Errors of the management endpoints as RFC 9457 `application/problem+json` responses, one
 * stable `code` per case. Messages are for people and never contain a secret (R5).
 * @module
 */
import { KeywardError, type KeywardErrorCode } from "../core/errors.js";
import { ERROR_CODES, OUTCOMES, problemMeta, retryAfterSeconds, statusTable, type AnyProblemCode } from "../core/reasons.js";
import { buildProblem, problemResponse, type ProblemDocument } from "../http/mapping.js";

/** The HTTP-level answers of the management router, next to keyward's error codes. */
const ROUTER_CODES = ["session_required", "csrf_rejected", "unsupported_media_type", "method_not_allowed", "internal_error"] as const satisfies readonly AnyProblemCode[];

/** Codes the management router answers with: keyward's error codes and its HTTP-level situations. */
export type ManagementProblemCode = KeywardErrorCode | (typeof ROUTER_CODES)[number];

/** The body of every error response of the management router: keyward's problem shape (`keyward/fetch`'s `ProblemDocument`), with the router's codes. */
export interface ManagementProblem extends ProblemDocument<ManagementProblemCode> {
  /** For `invalid_input` and `reauthentication_failed`: the request field concerned (e.g. `"name"`, `"password"`). */
  field?: string;
  /** For `token_limit_reached`: the limit (R3). */
  limit?: number;
  /** For a throttled `reauthentication_failed`: milliseconds until another attempt is accepted (R4); `Retry-After` says it in seconds. */
  retryAfterMs?: number;
}

/**
 * The HTTP status of each code, from keyward's table of outcomes: e.g. `token_limit_reached` is
 * 409 (a conflict with the current state); `reauthentication_failed` is 403, not 401: the
 * session is fine, only the password given for this one creation was not (a 401 would make
 * clients log out).
 *
 * @example
 * ```ts
 * MANAGEMENT_STATUS.token_limit_reached // 409
 * ```
 */
export const MANAGEMENT_STATUS: Readonly<Record<ManagementProblemCode, number>> = statusTable<ManagementProblemCode>([
  ...(Object.keys(ERROR_CODES) as KeywardErrorCode[]),
  ...ROUTER_CODES,
]);

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
 * and headers as the middleware's), with the status and title of keyward's table of outcomes,
 * `charset=utf-8`, `nosniff`, and `Retry-After` on `unavailable` (or from `retryAfterMs`).
 * `Cache-Control: no-store` on every one. The management router and the leak handler answer
 * through it.
 *
 * @example
 * ```ts
 * managementProblem("method_not_allowed", "Use POST.", { headers: { allow: "POST" } }) // 405
 * ```
 */
export function managementProblem(code: AnyProblemCode, detail: string, extra: { field?: string; limit?: number; retryAfterMs?: number; headers?: Record<string, string> } = {}): Response {
  const headers: Record<string, string> = {
    "content-type": "application/problem+json; charset=utf-8",
    "x-content-type-options": "nosniff",
    ...extra.headers,
  };
  if (code === "unavailable") headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  if (extra.retryAfterMs !== undefined) headers["retry-after"] = String(retryAfterSeconds(extra.retryAfterMs));
  const { status, title } = problemMeta(code);
  return problemResponse(buildProblem(code, status, title, detail, { field: extra.field, limit: extra.limit, retryAfterMs: extra.retryAfterMs }, headers));
}

/** What the endpoint was doing, to word the message a person reads. */
export type ManagementOperation = "create_user_token" | "create_service_token" | "rotate_token" | "other";

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
      return managementProblem("token_limit_reached", detail, n === undefined ? {} : { limit: n });
    }
    case "reauthentication_failed":
      // Throttled (R4): too many wrong passwords; the password was not checked.
      if (e.retryAfterMs !== undefined) {
        return managementProblem("reauthentication_failed", `Too many wrong passwords. Try again in ${retryAfterSeconds(e.retryAfterMs)} seconds.`, { field: "password", retryAfterMs: e.retryAfterMs });
      }
      return managementProblem(
        "reauthentication_failed",
        `The password is missing or not correct. Enter your account's password to ${operation === "rotate_token" ? "rotate the token" : "generate a token"}.`,
        { field: "password" },
      );
    case "invalid_config":
      // The host's configuration, not the caller's fault: do not describe it to the caller.
      return managementProblem("invalid_config", "The server is not configured for this operation.");
    case "unavailable":
      return managementProblem("unavailable", "The token store is unavailable. Try again in a few seconds.");
    case "forbidden":
      return e.field === undefined
        ? managementProblem("forbidden", "You do not have the permission this needs. Ask an administrator of your organization.")
        : managementProblem("forbidden", "You cannot give permissions you do not hold yourself.", { field: e.field });
    default:
      return managementProblem(e.code, e.message, e.field === undefined ? {} : { field: e.field });
  }
}

/**
 * A handler's `fetch` (the management router, the leak handler): `handle(request)`, with any
 * error it throws answered by {@link errorResponse} and reported to `onError` when it is a 5xx.
 *
 * @example
 * ```ts
 * return { basePath, fetch: answering(handle, options.onError) };
 * ```
 */
export function answering(handle: (request: Request) => Promise<Response>, onError: ((error: unknown, request: Request) => void) | undefined): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await handle(request);
    } catch (e) {
      return errorResponse(e, (x) => onError?.(x, request));
    }
  };
}

/**
 * The answer of a handler (the management router, the leak handler) for an error it caught:
 * keyward's own errors through {@link errorToProblem}, anything else a generic 500
 * `internal_error` that says nothing of the cause. `report` sees every error answered with a 5xx
 * (a host's bug, its configuration, a store failure), for the host's logs.
 *
 * @example
 * ```ts
 * try { return await handle(request); }
 * catch (e) { return errorResponse(e, (x) => options.onError?.(x, request)); }
 * ```
 */
export function errorResponse(e: unknown, report: (error: unknown) => void, operation: ManagementOperation = "other"): Response {
  if (!(e instanceof KeywardError)) {
    report(e);
    return managementProblem("internal_error", "Something went wrong on the server.");
  }
  if (OUTCOMES[e.code].status >= 500) report(e);
  return errorToProblem(e, operation);
}
