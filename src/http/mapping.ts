/**
 * The one mapping of decisions and errors to HTTP that every middleware shares (the table in
 * the README's "Middleware" section): bearer extraction per RFC 6750, `WWW-Authenticate`,
 * RFC 9457 `application/problem+json` bodies with a stable `code`.
 *
 * Framework-free and Web-API-only: the per-framework files (`keyward/express`, `keyward/fastify`,
 * `keyward/hono`, `keyward/fetch`) only translate between their framework and these functions.
 * Nothing here ever echoes a token or another request value into a header or a body (R5).
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import { OUTCOMES, problemMeta, retryAfterSeconds, type AnyProblemCode, type Challenge } from "../core/reasons.js";
import type { DeniedDecision, ExpiryCause, RateLimitState, TokenDenialReason } from "../core/types.js";
import type { RateLimitGate } from "../service/rate-gate.js";
import { parseConfig } from "../service/schemas.js";

/** The problem codes keyward's middleware sends. */
const GUARD_PROBLEMS = ["missing_credentials", "invalid_request", "invalid_token", "rate_limited", "permission_denied", "access_denied", "not_found", "invalid_input", "unavailable", "internal_error"] as const satisfies readonly AnyProblemCode[];

/** The stable `code` of every problem body keyward's middleware sends. */
export type ProblemCode = (typeof GUARD_PROBLEMS)[number];

/**
 * The members every keyward problem body has (RFC 9457 plus the stable `code`), whoever sends it:
 * the middleware ({@link ProblemBody}) or the management router (`keyward/manage`).
 */
export interface ProblemDocument<C extends string = string> {
  /** `urn:keyward:problem:<code>`. */
  type: string;
  title: string;
  status: number;
  code: C;
  /** A sentence for people; never a secret, never a value from the request. */
  detail: string;
}

/** An RFC 9457 problem body, with keyward's stable `code`. */
export interface ProblemBody extends ProblemDocument<ProblemCode> {
  /** For `invalid_token` only, and only with `exposeTokenReason`: the R15 reason. */
  reason?: TokenDenialReason;
  /** R19: with `reason: "token_expired"` (so only with `exposeTokenReason`): which expiry ended the token, and when (ISO-8601 UTC). */
  expiry?: { cause: ExpiryCause; at: string };
  /** For `invalid_input`: the offending field, e.g. `"item.id"`. */
  field?: string;
  /** For `permission_denied` and `access_denied` caused by the token's restriction (R17). */
  restricted?: true;
}

/** An HTTP answer for a denial or a failure: status, headers and body, framework-free. */
export interface HttpProblem<B extends ProblemDocument = ProblemBody> {
  status: number;
  headers: Record<string, string>;
  body: B;
}

/** The headers of every problem answer: the RFC 9457 media type, never cached. */
const PROBLEM_HEADERS = { "content-type": "application/problem+json", "cache-control": "no-store" } as const;

/**
 * Builds a problem answer: the body `{ type: "urn:keyward:problem:<code>", title, status, code,
 * detail, …extra }` (members of `extra` that are `undefined` are left out) and the headers
 * `Content-Type: application/problem+json` and `Cache-Control: no-store`, plus `headers`.
 * The one place keyward shapes a problem; {@link problemFor} and `keyward/manage` both use it.
 *
 * @example
 * ```ts
 * buildProblem("token_limit_reached", 409, "Token limit reached", "You have reached the limit…", { limit: 10 })
 * // { status: 409, headers: { "content-type": "application/problem+json", … }, body: { type: "urn:keyward:problem:token_limit_reached", …, limit: 10 } }
 * ```
 */
export function buildProblem<C extends string, X extends object = Record<never, never>>(
  code: C,
  status: number,
  title: string,
  detail: string,
  extra?: X,
  headers: Record<string, string> = {},
): HttpProblem<ProblemDocument<C> & X> {
  const body: Record<string, unknown> = { type: `urn:keyward:problem:${code}`, title, status, code, detail };
  for (const [k, v] of Object.entries(extra ?? {})) if (v !== undefined) body[k] = v;
  return { status, headers: { ...PROBLEM_HEADERS, ...headers }, body: body as ProblemDocument<C> & X };
}

/**
 * A Web `Response` for a problem answer (Fetch API, Hono, the management router).
 *
 * @example
 * ```ts
 * return problemResponse(problemFor("not_found", opts));
 * ```
 */
export function problemResponse(problem: HttpProblem<ProblemDocument>): Response {
  return new Response(JSON.stringify(problem.body), { status: problem.status, headers: problem.headers });
}

/** Options shared by every middleware. */
export interface HttpOptions {
  /** The `realm` of `WWW-Authenticate`. Default `"api"`. */
  realm?: string;
  /**
   * Status for an item the subject cannot reach at all (another organization, no share or rule,
   * or no such item): 404 `not_found` by default, so nothing tells whether it exists; 403
   * `access_denied` if the host prefers.
   */
  unreachableStatus?: 404 | 403;
  /** Put the precise R15 reason of an `invalid_token` (e.g. `token_expired`) on the wire. Default `false`. */
  exposeTokenReason?: boolean;
  /** `Retry-After` seconds of a 503 `unavailable`. Default 5. */
  retryAfterSeconds?: number;
  /** Observes errors that became a 500 `internal_error` or a 503 `unavailable`, and errors a loader threw (answered 404), for the host's logs. */
  onError?: (error: unknown) => void;
  /**
   * R21: count every guarded request against this limit (`rateLimit()` of `keyward/ratelimit`),
   * once, after the token stage and before the permission and access stages. Past it: 429
   * `rate_limited` with `Retry-After`; on every answer after the token stage, `X-RateLimit-*`
   * headers (and, opted in, the IETF `RateLimit-Policy` and `RateLimit`).
   */
  rateLimit?: RateLimitGate;
  /**
   * R19: the response header that carries the token's effective expiry (ISO-8601 UTC, e.g.
   * `2026-12-31T00:00:00.000Z`) on every answer after the token stage: allowed requests, and
   * `permission_denied`, `access_denied`, `rate_limited`. For a user token it moves with each
   * use. Not sent for a token that never expires. Default `"API-Token-Expiration"`; `false`: none.
   */
  expiryHeader?: string | false;
}

/** {@link HttpOptions} with every default applied. */
export interface ResolvedHttpOptions {
  realm: string;
  unreachableStatus: 404 | 403;
  exposeTokenReason: boolean;
  retryAfterSeconds: number;
  onError: ((error: unknown) => void) | undefined;
  rateLimit: RateLimitGate | undefined;
  /** The expiry header's name in lower case, or `null` when switched off. */
  expiryHeader: string | null;
}

/** A quoted-string of RFC 9110 without quotes, backslashes or control characters. */
const realmSchema = z.string().min(1).max(200).regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, "must be printable ASCII without quotes or backslashes");

/**
 * The zod schema of {@link HttpOptions}; {@link resolveHttpOptions} applies it.
 *
 * @example
 * ```ts
 * httpOptionsSchema.safeParse({ unreachableStatus: 401 }).success // false
 * ```
 */
export const httpOptionsSchema = z
  .object({
    realm: realmSchema.optional(),
    unreachableStatus: z.union([z.literal(404), z.literal(403)]).optional(),
    exposeTokenReason: z.boolean().optional(),
    retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
    onError: z.function().optional(),
    rateLimit: z
      .custom<RateLimitGate>(
        (g) => typeof g === "object" && g !== null && typeof (g as RateLimitGate).consume === "function" && typeof (g as RateLimitGate).name === "string",
        "expected a rate limit: rateLimit({ by, limit, windowMs }) from keyward/ratelimit",
      )
      .optional(),
    expiryHeader: z
      .union([z.literal(false), z.string().min(1).max(100).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "must be an HTTP header name")])
      .optional(),
  })
  .strict();

/** The default name of the expiry header (R19), as GitHub's `github-authentication-token-expiration`. */
export const DEFAULT_EXPIRY_HEADER = "API-Token-Expiration";

/**
 * R19: the expiry header of an answer after the token stage: `{ [name]: ISO-8601 UTC }`, or no
 * header when switched off or the token never expires (`expiresAt` null or absent).
 *
 * @example
 * ```ts
 * expiryHeaders(Date.UTC(2026, 11, 31), opts) // { "api-token-expiration": "2026-12-31T00:00:00.000Z" }
 * ```
 */
export function expiryHeaders(expiresAt: number | null | undefined, opts: ResolvedHttpOptions): Readonly<Record<string, string>> {
  if (opts.expiryHeader === null || expiresAt === null || expiresAt === undefined) return NO_HEADERS;
  return { [opts.expiryHeader]: new Date(expiresAt).toISOString() };
}

/**
 * Validates and resolves the middleware options once (a factory's first step). Throws
 * `invalid_config` naming the field.
 *
 * @example
 * ```ts
 * const opts = resolveHttpOptions({ realm: "inspections", unreachableStatus: 404 });
 * ```
 */
export function resolveHttpOptions(options: unknown = {}, extra: z.ZodRawShape = {}): ResolvedHttpOptions {
  const schema = Object.keys(extra).length === 0 ? httpOptionsSchema : httpOptionsSchema.extend(extra);
  const o = parseConfig(schema, options ?? {}, "options") as HttpOptions;
  return {
    realm: o.realm ?? "api",
    unreachableStatus: o.unreachableStatus ?? 404,
    exposeTokenReason: o.exposeTokenReason ?? false,
    retryAfterSeconds: o.retryAfterSeconds ?? 5,
    onError: o.onError,
    rateLimit: o.rateLimit,
    expiryHeader: o.expiryHeader === false ? null : (o.expiryHeader ?? DEFAULT_EXPIRY_HEADER).toLowerCase(),
  };
}

/** The fixed `detail` of each problem the middleware sends; status, title and headers come from the table of outcomes. */
const DETAILS: Record<ProblemCode, string> = {
  missing_credentials: "Send an API token in the Authorization header: `Authorization: Bearer <token>`.",
  invalid_request: "Send exactly one API token, once, in the Authorization header as `Bearer <token>`; never in the URL.",
  invalid_token: "The API token is malformed, unknown, revoked or expired, or its subject is no longer active.",
  rate_limited: "This token has used up its rate limit for now. Retry after the number of seconds in `Retry-After`.",
  permission_denied: "The token's subject lacks the permission for this action.",
  access_denied: "The token's subject has no access to this item at the level this action needs.",
  not_found: "No such item.",
  invalid_input: "The item named by this request is not valid.",
  unavailable: "Authorization is temporarily unavailable. Try again later; the token may still be valid.",
  internal_error: "The request could not be authorized.",
};

/** The `detail` of a denial the token's restriction caused (R17). */
const RESTRICTED_DETAIL = "The token's restriction does not allow this action here, although its subject may: use a token that allows it.";

/** The `WWW-Authenticate` of a challenge (RFC 6750 §3): no error code without credentials; the R15 reason as `error_description` only when the host exposes it. */
function challengeHeader(realm: string, challenge: Challenge, reason: TokenDenialReason | undefined): string {
  const head = `Bearer realm="${realm}"`;
  if (challenge === "bearer") return head;
  return `${head}, error="${challenge}"${reason ? `, error_description="${reason}"` : ""}`;
}

/**
 * Builds the problem for one code: status, title and `WWW-Authenticate` from the table of
 * outcomes, `Retry-After` where it applies (`unavailable`: the option's seconds; `rate_limited`:
 * `retryAfterMs` in whole seconds), and the fixed body.
 *
 * @example
 * ```ts
 * problemFor("missing_credentials", opts) // { status: 401, headers: { "www-authenticate": 'Bearer realm="api"' }, body }
 * ```
 */
export function problemFor(code: ProblemCode, opts: ResolvedHttpOptions, extra: { reason?: TokenDenialReason; field?: string; retryAfterMs?: number; restricted?: true } = {}): HttpProblem {
  const { status, title, challenge, retryAfter } = problemMeta(code);
  const headers: Record<string, string> = {};
  if (challenge !== undefined) headers["www-authenticate"] = challengeHeader(opts.realm, challenge, code === "invalid_token" ? extra.reason : undefined);
  if (code === "unavailable") headers["retry-after"] = String(opts.retryAfterSeconds);
  else if (retryAfter) headers["retry-after"] = String(retryAfterSeconds(extra.retryAfterMs ?? 0));
  const detail = extra.restricted ? RESTRICTED_DETAIL : DETAILS[code];
  return buildProblem(code, status, title, detail, { reason: extra.reason, field: extra.field, restricted: extra.restricted }, headers);
}

/**
 * The HTTP answer for a denied decision (R15's reasons → status):
 * token reasons → 401 `invalid_token`; `permission_denied` → 403; `access_denied` → 403 when the
 * item is visible at a lower level, else 404 `not_found` (or 403 with `unreachableStatus: 403`);
 * a denial the token's restriction caused (`restricted`, R17) → 403 `insufficient_scope` with
 * `restricted: true` in the body, whatever `visible` says.
 *
 * @example
 * ```ts
 * const d = await kw.authorize(token, "inspections.edit", item);
 * if (!d.allowed) return send(decisionProblem(d, opts));
 * ```
 */
export function decisionProblem(decision: DeniedDecision, opts: ResolvedHttpOptions): HttpProblem {
  switch (decision.reason) {
    case "rate_limited":
      return problemFor(OUTCOMES.rate_limited.problem, opts, { retryAfterMs: decision.retryAfterMs });
    case "permission_denied":
      return problemFor(OUTCOMES.permission_denied.problem, opts, decision.restricted ? RESTRICTED : {});
    case "access_denied":
      if (decision.restricted) return problemFor(OUTCOMES.access_denied.problem, opts, RESTRICTED);
      return decision.visible || opts.unreachableStatus === 403 ? problemFor(OUTCOMES.access_denied.problem, opts) : problemFor("not_found", opts);
    default: {
      const problem = problemFor(OUTCOMES[decision.reason].problem, opts, opts.exposeTokenReason ? { reason: decision.reason } : {});
      // R19: where the reason is exposed, an expiry says its cause too.
      if (!opts.exposeTokenReason || decision.reason !== "token_expired" || decision.expiry === undefined) return problem;
      return { ...problem, body: { ...problem.body, expiry: { cause: decision.expiry.cause, at: new Date(decision.expiry.at).toISOString() } } };
    }
  }
}

const RESTRICTED = { restricted: true } as const;

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The rate-limit headers of an answer after the token stage (R21), from the state on the
 * decision: `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Used` and
 * `X-RateLimit-Reset` (the end of the window, in epoch seconds, as GitHub's API), and with
 * `ietf` the structured fields of the IETF draft (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "<policy>";q=<limit>;w=<window seconds>` and
 * `RateLimit: "<policy>";r=<remaining>;t=<seconds to reset>`. No state (no limit, or the token
 * failed its stage): no headers.
 *
 * @example
 * ```ts
 * rateLimitHeaders({ policy: "default", limit: 100, used: 58, remaining: 42, resetMs: 30_000, windowMs: 60_000 }, true, 1_700_000_000_000)
 * // { "x-ratelimit-limit": "100", "x-ratelimit-remaining": "42", "x-ratelimit-used": "58", "x-ratelimit-reset": "1700000030",
 * //   "ratelimit-policy": '"default";q=100;w=60', ratelimit: '"default";r=42;t=30' }
 * ```
 */
export function rateLimitHeaders(state: RateLimitState | undefined, ietf = false, now: number = Date.now()): Readonly<Record<string, string>> {
  if (state === undefined) return NO_HEADERS;
  const headers: Record<string, string> = {
    "x-ratelimit-limit": String(state.limit),
    "x-ratelimit-remaining": String(state.remaining),
    "x-ratelimit-used": String(state.used),
    "x-ratelimit-reset": String(Math.ceil((now + state.resetMs) / 1000)),
  };
  if (ietf) {
    headers["ratelimit-policy"] = `"${state.policy}";q=${state.limit};w=${Math.round(state.windowMs / 1000)}`;
    headers["ratelimit"] = `"${state.policy}";r=${state.remaining};t=${Math.ceil(state.resetMs / 1000)}`;
  }
  return headers;
}

/**
 * The HTTP answer for an error thrown while authorizing: `unavailable` → 503 with `Retry-After`,
 * `invalid_input` (a bad item, e.g. an over-long id in the route) → 400 naming the field, and
 * anything else → a generic 500 with no detail of the cause (RFC 9457 §5).
 *
 * @example
 * ```ts
 * try { … } catch (e) { return send(errorProblem(e, opts)); }
 * ```
 */
export function errorProblem(error: unknown, opts: ResolvedHttpOptions): HttpProblem {
  if (error instanceof KeywardError && error.code === "invalid_input") {
    return problemFor("invalid_input", opts, error.field ? { field: error.field } : {});
  }
  opts.onError?.(error);
  if (error instanceof KeywardError && error.code === "unavailable") return problemFor("unavailable", opts);
  return problemFor("internal_error", opts);
}

/** The outcome of {@link extractBearer}. */
export type BearerResult =
  | { ok: true; token: string }
  | { ok: false; code: "missing_credentials" | "invalid_request" };

const MISSING = { ok: false, code: "missing_credentials" } as const;
const JOINED_BEARER = /,[ \t]*bearer(?:[ \t]|$)/i;
const INVALID = { ok: false, code: "invalid_request" } as const;

/** Whether a query string (with or without its `?`) carries `access_token`, however encoded. */
function queryHasToken(search: string | undefined): boolean {
  if (search === undefined || search.length <= 1) return false;
  return new URLSearchParams(search).has("access_token");
}

/**
 * Extracts the bearer token of a request per RFC 6750 §2.1 (`"Bearer" 1*SP b64token`):
 * - no `Authorization` header, or another scheme (`Basic`, `Token`…) → `missing_credentials`;
 * - the scheme is case-insensitive (RFC 9110 §11.1);
 * - two `Authorization` headers, a comma-joined value (two credentials), an empty token, a tab
 *   or whitespace inside, or an `access_token` in the query string (also next to a header) →
 *   `invalid_request`; a query-string token is never returned, so never looked up.
 *
 * The token's own characters are not checked here: anything that is not a keyward token is
 * `token_malformed` in `authorize()` (401 `invalid_token`), with no hashing and no store call.
 *
 * @param authorization every `Authorization` value of the request (Node's `rawHeaders` keep duplicates), or the joined value.
 * @param search the URL's query string (`"?a=b"`), if any.
 * @example
 * ```ts
 * extractBearer(["Bearer kwu_…"], "") // { ok: true, token: "kwu_…" }
 * extractBearer(["Bearer a", "Bearer b"]) // { ok: false, code: "invalid_request" }
 * ```
 */
export function extractBearer(authorization: string | readonly string[] | null | undefined, search?: string): BearerResult {
  const values = authorization === null || authorization === undefined ? [] : typeof authorization === "string" ? [authorization] : authorization;
  if (queryHasToken(search)) return INVALID;
  if (values.length === 0) return MISSING;
  if (values.length > 1) return INVALID;
  const value = values[0]!;
  let end = 0;
  while (end < value.length && value[end] !== " " && value[end] !== "\t") end++;
  const scheme = value.slice(0, end);
  if (scheme.length === 0) return value.length === 0 ? MISSING : INVALID;
  if (scheme.length !== 6 || scheme.toLowerCase() !== "bearer") {
    // Another scheme (its auth-params may hold commas: `Digest a=1, b=2`), unless a bearer
    // credential follows a comma: two headers that a Fetch `Headers` joined into one value.
    return value.includes(",") && JOINED_BEARER.test(value) ? INVALID : MISSING;
  }
  let start = end;
  while (start < value.length && value[start] === " ") start++;
  if (start === end || start === value.length) return INVALID; // "Bearer", "Bearer\t…", "Bearer   "
  const token = value.slice(start);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x2c || c < 0x20 || c === 0x7f) return INVALID;
  }
  return { ok: true, token };
}

/**
 * Every value of the `Authorization` header in Node's `rawHeaders` (Node's `headers` keep only
 * the first of two, so two headers could hide one).
 *
 * @example
 * ```ts
 * authorizationValues(req.rawHeaders) // ["Bearer a", "Bearer b"]
 * ```
 */
export function authorizationValues(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === "authorization") out.push(rawHeaders[i + 1]!);
  }
  return out;
}

/**
 * Splits a request target into its path (for logs and activity events: never the query, which
 * may hold a misplaced token) and its query string.
 *
 * @example
 * ```ts
 * splitUrl("/inspections/1?access_token=x") // { path: "/inspections/1", search: "?access_token=x" }
 * ```
 */
export function splitUrl(url: string): { path: string; search: string } {
  let from = 0;
  const scheme = url.charCodeAt(0) === 0x2f ? -1 : url.indexOf("://"); // origin-form targets start with "/"
  if (scheme !== -1) {
    const slash = url.indexOf("/", scheme + 3);
    from = slash === -1 ? url.length : slash;
  }
  const q = url.indexOf("?", from);
  const hash = url.indexOf("#", from);
  const stop = hash === -1 ? url.length : hash;
  if (q === -1 || q > stop) return { path: url.slice(from, stop) || "/", search: "" };
  return { path: url.slice(from, q) || "/", search: url.slice(q, stop) };
}
