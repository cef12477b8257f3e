/**
 * The framework-free guard: bearer extraction, finding the item, `authorize()`, and the mapping
 * of the outcome to HTTP. Every middleware calls {@link runGuard} with what its framework hands
 * it, and writes the result back.
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import type { AccessDecision, AllowedAccess } from "../core/access.js";
import type { ActionDefinition, AllowedDecision, Decision, DeniedDecision, ItemRef, RateLimitState } from "../core/types.js";
import type { AuthorizeOptions } from "../service/authorize.js";
import { parseConfig } from "../service/schemas.js";
import { decisionProblem, errorProblem, expiryHeaders, extractBearer, problemFor, rateLimitHeaders, resolveHttpOptions, splitUrl, type HttpProblem, type ResolvedHttpOptions } from "./mapping.js";

/** What a guard needs of a keyward instance: `authorize()`, `accessible()` (list guards) and the declared actions. */
export interface GuardKeyward<A extends string = string> {
  authorize(token: unknown, action: A, item?: ItemRef | null, opts?: AuthorizeOptions): Promise<Decision>;
  accessible(token: unknown, action: A, itemType: string, opts?: AuthorizeOptions): Promise<AccessDecision>;
  readonly actions: ReadonlyMap<A, ActionDefinition>;
}

/**
 * The item of a route from its parameters: `id` and (optionally) `orgId` name route parameters;
 * a fixed `orgId` string serves single-tenant routes. `type` defaults to the action's item type.
 */
export interface ItemFromParams {
  /** The route parameter holding the item's id. Default `"id"`. */
  id?: string;
  /** The owner organization: a fixed id, or `{ param }` naming a route parameter. */
  orgId: string | { param: string };
  /** The item type. Default: the type the action acts on. */
  type?: string;
}

/**
 * An async loader: returns the item (with its owner organization and the attributes rules test),
 * or `null`/`undefined` when there is none. A loader that returns nothing or throws answers 404
 * `not_found` (a `KeywardError` `unavailable` it throws answers 503).
 */
export type ItemLoader<Req> = (req: Req) => ItemRef | null | undefined | Promise<ItemRef | null | undefined>;

/** A route-level guard: the action, and how to find the item (omit for organization-level actions). */
export interface GuardSpec<A extends string, Req> {
  action: A;
  item?: ItemFromParams | ItemLoader<Req>;
}

/** A guard spec after validation. */
export interface ResolvedGuard<Req> {
  action: string;
  /** The action's item type, or `null` for an organization-level action. */
  itemType: string | null;
  find: ((req: Req, params: Readonly<Record<string, string | undefined>>) => Promise<ItemRef | null | undefined> | ItemRef | null | undefined) | null;
}

const paramName = z.string().min(1).max(100);
const specSchema = z
  .object({
    action: z.string().min(1).max(200),
    item: z
      .union([
        z.function(),
        z
          .object({
            id: paramName.optional(),
            orgId: z.union([z.string().min(1).max(200), z.object({ param: paramName }).strict()]),
            type: z.string().min(1).max(200).optional(),
          })
          .strict(),
      ])
      .optional(),
  })
  .strict();

/**
 * Validates a guard spec once, when the route is declared: the action must be one the host
 * declared, item actions need a way to find the item and organization-level actions must not
 * have one. Throws `invalid_config`.
 *
 * @example
 * ```ts
 * const g = resolveGuard(kw, { action: "inspections.view", item: { orgId: { param: "org" } } });
 * ```
 */
export function resolveGuard<A extends string, Req>(kw: GuardKeyward<A>, spec: GuardSpec<A, Req>): ResolvedGuard<Req> {
  const parsed: z.output<typeof specSchema> = parseConfig(specSchema, spec, "guard");
  const definition = kw.actions.get(spec.action);
  if (definition === undefined) {
    throw new KeywardError("invalid_config", `Invalid configuration at "guard.action": "${parsed.action}" is not a declared action.`, { field: "guard.action" });
  }
  const itemType = definition.access === undefined ? null : (definition.item ?? null);
  if (itemType !== null && spec.item === undefined) {
    throw new KeywardError("invalid_config", `Invalid configuration at "guard.item": action "${parsed.action}" acts on an item; say how to find it (route params or a loader).`, { field: "guard.item" });
  }
  if (itemType === null && spec.item !== undefined) {
    throw new KeywardError("invalid_config", `Invalid configuration at "guard.item": action "${parsed.action}" is organization-level and takes no item.`, { field: "guard.item" });
  }
  const source = spec.item;
  let find: ResolvedGuard<Req>["find"] = null;
  if (typeof source === "function") {
    find = (req) => source(req);
  } else if (source !== undefined) {
    const idParam = source.id ?? "id";
    const type = source.type ?? itemType!;
    const org = source.orgId;
    find = (_req, params) => ({ orgId: typeof org === "string" ? org : (params[org.param] as string), type, id: params[idParam] as string });
  }
  return { action: spec.action, itemType, find };
}

/** What a framework hands the guard about one request. */
export interface GuardRequest<Req> {
  /** Every `Authorization` value (Node `rawHeaders`), or the joined value (Fetch `Headers`). */
  authorization: string | readonly string[] | null | undefined;
  method: string;
  /** The path without the query. */
  path: string;
  /** The query string, with its `?`, if any. */
  search: string;
  params: Readonly<Record<string, string | undefined>>;
  /** The framework's own request object, given to a loader. */
  raw: Req;
  /** The client making the request (its address, its `User-Agent`): recorded with the token's use when client tracking is on. */
  client?: RequestClient;
}

/**
 * The client of one request as a binding reads it: the peer address (the framework's, which
 * honours its own proxy settings) and the `User-Agent` header; `null` for what it cannot tell.
 * @example `const client: RequestClient = { ip: req.ip ?? null, userAgent: req.headers["user-agent"] ?? null }`
 */
export interface RequestClient {
  ip: string | null;
  userAgent: string | null;
}

/**
 * A binding's {@link RequestClient} from what its framework gives: each a string or `null`
 * (anything else, an empty string included, is `null`).
 * @example `requestClient(req.ip, req.headers["user-agent"])`
 */
export function requestClient(ip: unknown, userAgent: unknown): RequestClient {
  return { ip: typeof ip === "string" && ip !== "" ? ip : null, userAgent: typeof userAgent === "string" && userAgent !== "" ? userAgent : null };
}

/**
 * The outcome of {@link runGuard}: the allowed decision with the headers to add to the handler's
 * response (the rate-limit headers, R21; empty without a limit), or the problem to send (its
 * headers include them; with the denied decision, if one was made).
 */
export type GuardResult =
  | { ok: true; decision: AllowedDecision; headers: Readonly<Record<string, string>> }
  | { ok: false; problem: HttpProblem; decision?: DeniedDecision };

/** The options of the one `authorize()`/`accessible()` call of a guard: the request for the event, the rate limit (R21) and the client (recorded when tracking is on). */
function callOptions(opts: ResolvedHttpOptions, method: string, path: string, client: RequestClient | undefined): AuthorizeOptions {
  const options: AuthorizeOptions = opts.rateLimit === undefined ? { request: { method, path } } : { request: { method, path }, rateLimit: opts.rateLimit };
  if (client !== undefined && (client.ip !== null || client.userAgent !== null)) options.client = client;
  return options;
}

/** The mapping of a refusal after the token stage, with its rate-limit headers (R21). */
function refused(decision: DeniedDecision, opts: ResolvedHttpOptions): HttpProblem {
  const problem = decisionProblem(decision, opts);
  // R19: past the token stage the token authenticated, so the answer names its expiry.
  const expiresAt = "expiresAt" in decision ? decision.expiresAt : undefined;
  if (decision.rateLimit === undefined && (expiresAt === undefined || expiresAt === null || opts.expiryHeader === null)) return problem;
  return { ...problem, headers: { ...problem.headers, ...rateLimitHeaders(decision.rateLimit, opts.rateLimit?.ietfHeaders), ...expiryHeaders(expiresAt, opts) } };
}

/** The headers of an allowed answer: the rate-limit state (R21) and the token's expiry (R19). */
function grantedHeaders(granted: { rateLimit?: RateLimitState | undefined; expiresAt: number | null }, opts: ResolvedHttpOptions): Readonly<Record<string, string>> {
  const limit = rateLimitHeaders(granted.rateLimit, opts.rateLimit?.ietfHeaders);
  if (opts.expiryHeader === null || granted.expiresAt === null) return limit;
  return { ...limit, ...expiryHeaders(granted.expiresAt, opts) };
}

/** An id no item can have: a missing item is authorized against it, so "no such item" looks exactly like "not yours" (404), after the token and permission checks. */
const NOWHERE = "keyward:no-such-item";

/**
 * Runs one guard for one request: extract the bearer token (never from the query), find the
 * item, `authorize()` with the request's method and path for the activity event, and map the
 * outcome. The token is checked before a missing item answers 404, so an unauthenticated client
 * cannot tell which items exist; a loader that throws is treated as a missing item.
 *
 * @example
 * ```ts
 * const r = await runGuard(kw, guard, opts, { authorization, method, path, search, params, raw: req });
 * if (!r.ok) send(r.problem);
 * ```
 */
export async function runGuard<Req>(kw: GuardKeyward, guard: ResolvedGuard<Req>, opts: ResolvedHttpOptions, req: GuardRequest<Req>): Promise<GuardResult> {
  const bearer = extractBearer(req.authorization, req.search);
  if (!bearer.ok) return { ok: false, problem: problemFor(bearer.code, opts) };
  try {
    let item: ItemRef | null = null;
    if (guard.find !== null) {
      try {
        item = (await guard.find(req.raw, req.params)) ?? null;
      } catch (e) {
        if (e instanceof KeywardError && e.code === "unavailable") throw e;
        opts.onError?.(e); // the host's bug or outage: visible in its logs, a plain 404 on the wire
        item = null;
      }
      if (item === null) item = { orgId: NOWHERE, type: guard.itemType!, id: NOWHERE };
    }
    const decision = await kw.authorize(bearer.token, guard.action, item, callOptions(opts, req.method, req.path, req.client));
    if (decision.allowed) return { ok: true, decision, headers: grantedHeaders(decision, opts) };
    return { ok: false, problem: refused(decision, opts), decision };
  } catch (e) {
    return { ok: false, problem: errorProblem(e, opts) };
  }
}

/**
 * A list guard: an item action, for a route that lists items of its type. The guard makes one
 * `accessible()` call and hands the handler the filter; `itemType` defaults to the action's and,
 * if given, must be it.
 */
export interface ListGuardSpec<A extends string> {
  action: A;
  itemType?: string;
}

/** A list guard spec after validation. */
export interface ResolvedListGuard {
  action: string;
  itemType: string;
}

const listSpecSchema = z.object({ action: z.string().min(1).max(200), itemType: z.string().min(1).max(200).optional() }).strict();

/**
 * Validates a list guard spec once, when the route is declared: the action must be one the host
 * declared and act on items (of `itemType`, when given). Throws `invalid_config`.
 *
 * @example
 * ```ts
 * const g = resolveListGuard(kw, { action: "inspections.view" }); // { action, itemType: "inspection" }
 * ```
 */
export function resolveListGuard<A extends string>(kw: GuardKeyward<A>, spec: ListGuardSpec<A>): ResolvedListGuard {
  const parsed: z.output<typeof listSpecSchema> = parseConfig(listSpecSchema, spec, "list");
  const definition = kw.actions.get(spec.action);
  if (definition === undefined) {
    throw new KeywardError("invalid_config", `Invalid configuration at "list.action": "${parsed.action}" is not a declared action.`, { field: "list.action" });
  }
  if (definition.access === undefined || definition.item === undefined) {
    throw new KeywardError("invalid_config", `Invalid configuration at "list.action": action "${parsed.action}" is organization-level; a list guard needs an item action.`, { field: "list.action" });
  }
  if (parsed.itemType !== undefined && parsed.itemType !== definition.item) {
    throw new KeywardError("invalid_config", `Invalid configuration at "list.itemType": action "${parsed.action}" acts on items of type "${definition.item}".`, { field: "list.itemType" });
  }
  return { action: spec.action, itemType: definition.item };
}

/** The outcome of {@link runListGuard}: the allowed access (with its filter) and the headers to add (R21), or the problem to send. */
export type ListGuardResult =
  | { ok: true; access: AllowedAccess; headers: Readonly<Record<string, string>> }
  | { ok: false; problem: HttpProblem; decision?: DeniedDecision };

/**
 * Runs one list guard for one request: extract the bearer token as {@link runGuard} does, make
 * ONE `accessible()` call (with the request's method and path for the activity event) and map a
 * refusal with the same table as the item guards: token reasons → 401, `permission_denied` → 403,
 * a failing store → 503. A subject without access to any item is allowed, with an empty filter.
 *
 * @example
 * ```ts
 * const r = await runListGuard(kw, resolveListGuard(kw, { action: "inspections.view" }), opts, { authorization, method, path, search });
 * if (r.ok) rows.filter((row) => r.access.filter.matches(row)); else send(r.problem);
 * ```
 */
export async function runListGuard(
  kw: GuardKeyward,
  guard: ResolvedListGuard,
  opts: ResolvedHttpOptions,
  req: Pick<GuardRequest<unknown>, "authorization" | "method" | "path" | "search" | "client">,
): Promise<ListGuardResult> {
  const bearer = extractBearer(req.authorization, req.search);
  if (!bearer.ok) return { ok: false, problem: problemFor(bearer.code, opts) };
  try {
    const access = await kw.accessible(bearer.token, guard.action, guard.itemType, callOptions(opts, req.method, req.path, req.client));
    if (access.allowed) return { ok: true, access, headers: grantedHeaders(access, opts) };
    return { ok: false, problem: refused(access, opts), decision: access };
  } catch (e) {
    return { ok: false, problem: errorProblem(e, opts) };
  }
}

/**
 * What a binding reads of one request: the `Authorization` values, the method, the URL (path and query, or absolute), the route parameters, and the framework's own request for a loader.
 * @example `const r: BoundRequest<Request> = { authorization: request.headers.get("authorization"), method: request.method, url: request.url, params: {}, raw: request }`
 */
export interface BoundRequest<Raw> {
  /** Every `Authorization` value (Node `rawHeaders`, see `authorizationValues`), or the joined value (Fetch `Headers`). */
  authorization: string | readonly string[] | null | undefined;
  method: string;
  /** The request target (`/path?query`) or an absolute URL. */
  url: string;
  params: Readonly<Record<string, string | undefined>> | undefined;
  /** What a loader of this framework receives. */
  raw: Raw;
  /** The request's client: its address (when the framework knows it) and `User-Agent`. */
  client?: RequestClient;
}

/**
 * What a guard lets through: the allowed decision (an item guard) or the allowed access with its filter (a list guard).
 * @example `const rows = "filter" in granted ? all.filter(granted.filter.matches) : all`
 */
export type Granted = AllowedDecision | AllowedAccess;

/**
 * A framework binding: three small functions the one guard runner calls. `Args` are the
 * framework's middleware arguments (`(req, res, next)`, `(c, next)`, …), `Out` what its
 * middleware returns.
 *
 * @example
 * ```ts
 * const binding: Binding<[Request], Response | null, Request> = {
 *   read: (request) => ({ authorization: request.headers.get("authorization"), method: request.method, url: request.url, params: {}, raw: request }),
 *   allow: () => null,
 *   deny: (problem) => problemResponse(problem),
 * };
 * ```
 */
export interface Binding<Args extends unknown[], Out, Raw> {
  /** Request in: headers, URL and route parameters. */
  read(...args: Args): BoundRequest<Raw>;
  /** Allow: attach what was granted to the framework's request (and the rate-limit headers, R21, to its response), then go on. */
  allow(granted: Granted, headers: Readonly<Record<string, string>>, ...args: Args): Out | Promise<Out>;
  /** Deny: write the problem response (`decision` is the denial, when one was made). */
  deny(problem: HttpProblem, decision: DeniedDecision | undefined, ...args: Args): Out | Promise<Out>;
}

/**
 * The guards of one binding: `item(spec)` for a route acting on one item (or an organization-level action), `list(spec)` for a list route.
 * @example `app.get("/inspections", guards.list({ action: "inspections.view" }), handler)`
 */
export interface GuardRunner<A extends string, Args extends unknown[], Out, Raw> {
  /** Validates the spec now (`invalid_config`) and returns the route's middleware. */
  item(spec: GuardSpec<A, Raw>): (...args: Args) => Promise<Out>;
  /** Validates the list spec now (`invalid_config`) and returns the list route's middleware: one `accessible()` call. */
  list(spec: ListGuardSpec<A>): (...args: Args) => Promise<Out>;
}

const NO_PARAMS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/**
 * The one guard runner: a framework binding gives it how to read a request, how to allow and how
 * to deny; it validates the options once, each spec when its route is declared, and runs
 * {@link runGuard} or {@link runListGuard} for each request. A new framework is these three
 * functions.
 *
 * @example
 * ```ts
 * const guards = guardRunner(kw, options, {
 *   read: (req: Req) => ({ authorization: req.headers.authorization, method: req.method, url: req.url, params: req.params, raw: req }),
 *   allow: (granted, headers, req: Req) => { req.keyward = granted; },
 *   deny: (problem, _decision, req: Req) => req.reply(problem.status, problem.headers, JSON.stringify(problem.body)),
 * });
 * router.get("/reports", guards.item({ action: "reports.export" }), handler);
 * ```
 */
export function guardRunner<A extends string, Args extends unknown[], Out, Raw>(kw: GuardKeyward<A>, options: unknown, binding: Binding<Args, Out, Raw>): GuardRunner<A, Args, Out, Raw> {
  const opts = resolveHttpOptions(options);
  const { read, allow, deny } = binding;
  const any = kw as GuardKeyward;
  return {
    item(spec) {
      const guard = resolveGuard(kw, spec);
      return async (...args): Promise<Out> => {
        const r = read(...args);
        const { path, search } = splitUrl(r.url);
        const result = await runGuard(any, guard, opts, { authorization: r.authorization, method: r.method, path, search, params: r.params ?? NO_PARAMS, raw: r.raw, client: r.client });
        return (result.ok ? allow(result.decision, result.headers, ...args) : deny(result.problem, result.decision, ...args));
      };
    },
    list(spec) {
      const guard = resolveListGuard(kw, spec);
      return async (...args): Promise<Out> => {
        const r = read(...args);
        const { path, search } = splitUrl(r.url);
        const result = await runListGuard(any, guard, opts, { authorization: r.authorization, method: r.method, path, search, client: r.client });
        return (result.ok ? allow(result.access, result.headers, ...args) : deny(result.problem, result.decision, ...args));
      };
    },
  };
}
