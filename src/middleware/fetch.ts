/**
 * `keyward/fetch`: keyward for any Fetch-API runtime (Node, Deno, Bun, Cloudflare Workers…):
 * a `Request` in, the allowed decision or a problem `Response` out. Also re-exports the shared
 * HTTP mapping for hosts that wire another framework themselves.
 * @module
 */
import type { AllowedAccess } from "../core/access.js";
import type { AllowedDecision, DeniedDecision } from "../core/types.js";
import { guardRunner, requestClient, type GuardKeyward, type GuardSpec, type ListGuardSpec } from "../http/guard.js";
import { problemResponse, resolveHttpOptions as resolveOptions, type HttpOptions, type ResolvedHttpOptions } from "../http/mapping.js";

export {
  authorizationValues,
  buildProblem,
  decisionProblem,
  errorProblem,
  extractBearer,
  problemFor,
  problemResponse,
  rateLimitHeaders,
  splitUrl,
  type BearerResult,
  type HttpOptions,
  type HttpProblem,
  type ProblemBody,
  type ProblemCode,
  type ProblemDocument,
  type ResolvedHttpOptions,
} from "../http/mapping.js";
export { guardRunner, requestClient, resolveGuard, resolveListGuard, runGuard, runListGuard } from "../http/guard.js";
export type {
  Binding,
  BoundRequest,
  Granted,
  GuardKeyward,
  GuardRequest,
  GuardResult,
  GuardRunner,
  GuardSpec,
  ItemFromParams,
  ItemLoader,
  ListGuardResult,
  ListGuardSpec,
  RequestClient,
  ResolvedGuard,
  ResolvedListGuard,
} from "../http/guard.js";

/**
 * Validates the middleware options once and applies their defaults (a binding's first step);
 * throws `invalid_config` naming the field.
 *
 * @example
 * ```ts
 * const opts = resolveHttpOptions({ realm: "inspections", unreachableStatus: 404 });
 * ```
 */
export const resolveHttpOptions: (options?: HttpOptions) => ResolvedHttpOptions = (options) => resolveOptions(options);

/** Route parameters a Fetch handler's router found (a Fetch `Request` has none of its own). */
export type FetchParams = Readonly<Record<string, string | undefined>>;

/** A guard spec for the Fetch API: a loader receives the `Request` and the route parameters. */
export type FetchGuardSpec<A extends string> = GuardSpec<A, { request: Request; params: FetchParams }>;

/** The outcome of {@link KeywardFetch.check}: allowed, with the headers to add to your response (the rate-limit headers, R21: see {@link withHeaders}), or the problem `Response`. */
export type FetchCheck = { ok: true; decision: AllowedDecision; headers: Readonly<Record<string, string>> } | { ok: false; response: Response; decision?: DeniedDecision };

/** A Fetch handler, given the allowed decision. */
export type GuardedFetchHandler<Ctx> = (request: Request, keyward: AllowedDecision, ctx: Ctx) => Response | Promise<Response>;

/** The outcome of {@link KeywardFetch.checkList}: allowed, with the headers to add (R21), or the problem `Response`. */
export type FetchListCheck = { ok: true; access: AllowedAccess; headers: Readonly<Record<string, string>> } | { ok: false; response: Response; decision?: DeniedDecision };

/**
 * Adds headers (a check's rate-limit headers, R21) to a handler's `Response`; one with immutable
 * headers (from `fetch()`, `Response.redirect()`) is copied first. `protect()` does it for you.
 *
 * @example
 * ```ts
 * const r = await guard.check(request, spec);
 * if (!r.ok) return r.response;
 * return withHeaders(Response.json(data), r.headers);
 * ```
 */
export function withHeaders(response: Response, headers: Readonly<Record<string, string>>): Response {
  const entries = Object.entries(headers);
  if (entries.length === 0) return response;
  let out = response;
  try {
    for (const [name, value] of entries) out.headers.set(name, value);
  } catch {
    out = new Response(response.body, response);
    for (const [name, value] of entries) out.headers.set(name, value);
  }
  return out;
}

/** A Fetch handler of a list route, given the allowed access (with its filter). */
export type ListFetchHandler<Ctx> = (request: Request, access: AllowedAccess, ctx: Ctx) => Response | Promise<Response>;

/** What {@link keywardFetch} returns. */
export interface KeywardFetch<A extends string> {
  /** Checks one request: resolves to the allowed decision, or to the problem `Response` to return. Declare each spec once (a constant): it is validated the first time it is seen. */
  check(request: Request, spec: FetchGuardSpec<A>, params?: FetchParams): Promise<FetchCheck>;
  /**
   * Wraps a Fetch handler with a guard; `params` picks the route parameters out of the request
   * (or the handler's second argument) when the item comes from them.
   */
  protect<Ctx = unknown>(spec: FetchGuardSpec<A> & { params?: (request: Request, ctx: Ctx) => FetchParams }, handler: GuardedFetchHandler<Ctx>): (request: Request, ctx: Ctx) => Promise<Response>;
  /** Checks one request of a list route (one `accessible()` call): resolves to the allowed access (with its filter), or to the problem `Response`. Declare each spec once (a constant). */
  checkList(request: Request, spec: ListGuardSpec<A>): Promise<FetchListCheck>;
  /** Wraps a list route's Fetch handler with a list guard; the spec is validated now. */
  protectList<Ctx = unknown>(spec: ListGuardSpec<A>, handler: ListFetchHandler<Ctx>): (request: Request, ctx: Ctx) => Promise<Response>;
}

/**
 * Creates keyward's Fetch-API guard. Options are validated once (`invalid_config`).
 *
 * @example
 * ```ts
 * import { keywardFetch } from "keyward/fetch";
 * const guard = keywardFetch(kw, { realm: "inspections" });
 * export default {
 *   fetch: guard.protect({ action: "reports.export" }, (request, { subject }) => Response.json({ hello: subject.name })),
 * };
 * const list = guard.protectList({ action: "inspections.view" }, (request, { filter }) => Response.json(inspections.filter(filter.matches)));
 * ```
 */
export function keywardFetch<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardFetch<A> {
  const guards = guardRunner<A, [Request, FetchParams], FetchCheck | FetchListCheck, { request: Request; params: FetchParams }>(kw, options, {
    // A Fetch Request carries no peer address: the user agent only.
    read: (request, params) => ({ authorization: request.headers.get("authorization"), method: request.method, url: request.url, params, raw: { request, params }, client: requestClient(null, request.headers.get("user-agent")) }),
    allow: (granted, headers) => ("filter" in granted ? { ok: true, access: granted, headers } : { ok: true, decision: granted, headers }),
    deny: (problem, decision) => (decision === undefined ? { ok: false, response: problemResponse(problem) } : { ok: false, response: problemResponse(problem), decision }),
  });
  type Check = (request: Request, params: FetchParams) => Promise<FetchCheck | FetchListCheck>;
  // Each spec is validated the first time it is seen, then its guard is reused (one cache per kind: a spec may serve both).
  const memo = <S extends object>(make: (spec: S) => Check) => {
    const seen = new WeakMap<S, Check>();
    return (spec: S): Check => {
      let g = seen.get(spec);
      if (g === undefined) seen.set(spec, (g = make(spec)));
      return g;
    };
  };
  const item = memo((s: FetchGuardSpec<A>) => guards.item({ action: s.action, ...(s.item === undefined ? {} : { item: s.item }) }));
  const list = memo((s: ListGuardSpec<A>) => guards.list(s));
  const check = (request: Request, spec: FetchGuardSpec<A>, params: FetchParams = {}) => item(spec)(request, params) as Promise<FetchCheck>;
  const checkList = (request: Request, spec: ListGuardSpec<A>) => list(spec)(request, {}) as Promise<FetchListCheck>;
  return {
    check,
    checkList,
    protectList(spec, handler) {
      list(spec); // validate now, at declaration
      return async function keywardProtectedList(request, ctx) {
        const r = await checkList(request, spec);
        return r.ok ? withHeaders(await handler(request, r.access, ctx), r.headers) : r.response;
      };
    },
    protect(spec, handler) {
      const { params: pick, ...rest } = spec;
      const guardSpec = rest as FetchGuardSpec<A>;
      item(guardSpec); // validate now, at declaration
      return async function keywardProtected(request, ctx) {
        const r = await check(request, guardSpec, pick ? pick(request, ctx) : {});
        return r.ok ? withHeaders(await handler(request, r.decision, ctx), r.headers) : r.response;
      };
    },
  };
}
