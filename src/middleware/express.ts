/**
 * `keyward/express`: route-level guards for Express 4 and 5. The allowed decision (subject,
 * organization, token id, grant) is put on `res.locals.keyward` for the handler and its logs;
 * a list guard (`guard.list(spec)`) puts the allowed access there, with its filter.
 * `mountManagement()` serves the management router of `keyward/manage` in an Express app.
 * @module
 */
import type { IRouter, NextFunction, Request, RequestHandler, Response } from "express";
import type { ParamsDictionary, Query as ParsedQs } from "express-serve-static-core";
import { KeywardError } from "../core/errors.js";
import type { AllowedAccess } from "../core/access.js";
import type { AllowedDecision } from "../core/types.js";
import { guardRunner, requestClient, type GuardKeyward, type GuardSpec, type ListGuardSpec } from "../http/guard.js";
import { authorizationValues, type HttpOptions, type HttpProblem } from "../http/mapping.js";
import { serveNode, type NodeHandlerOptions } from "../manage/node.js";
import type { MountableRouter } from "../manage/router.js";

export type { MountableRouter } from "../manage/router.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The allowed keyward decision, set by a keyward guard (absent on unguarded routes). */
      keyward?: AllowedDecision;
    }
  }
}

/** A guard spec for Express: a loader receives the request (with `req.params`) and the response. */
export type ExpressGuardSpec<A extends string> = GuardSpec<A, { req: Request; res: Response }>;

/** The locals a guarded handler sees. */
export interface KeywardLocals {
  keyward: AllowedDecision;
}

/** The locals a list-guarded handler sees: the allowed access, with the filter of the items the subject may list. */
export interface KeywardListLocals {
  keyward: AllowedAccess;
}

/** What {@link keywardExpress} returns: call it with a spec to get a route handler; `list(spec)` for a list route. */
export interface KeywardExpressGuard<A extends string> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (spec: ExpressGuardSpec<A>): RequestHandler<ParamsDictionary, any, any, ParsedQs, KeywardLocals & Record<string, any>>;
  /** A list route's guard: one `accessible()` call; the allowed access (with `filter`) on `res.locals.keyward`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  list(spec: ListGuardSpec<A>): RequestHandler<ParamsDictionary, any, any, ParsedQs, KeywardListLocals & Record<string, any>>;
}

/**
 * Creates keyward's Express guard factory. Options are validated once (`invalid_config`); each
 * spec is validated when the route is declared.
 *
 * @example
 * ```ts
 * import { keywardExpress, decisionOf } from "keyward/express";
 * const guard = keywardExpress(kw, { realm: "inspections" });
 * app.get("/inspections/:id", guard({ action: "inspections.view", item: ({ req }) => inspections.ref(req.params.id) }), (req, res) => {
 *   res.json({ viewer: decisionOf(res).subject.name });
 * });
 * app.get("/inspections", guard.list({ action: "inspections.view" }), (req, res) => {
 *   res.json(inspections.all().filter(res.locals.keyward.filter.matches));
 * });
 * ```
 */
export function keywardExpress<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardExpressGuard<A> {
  const guards = guardRunner(kw, options, {
    read: (req: Request, res: Response, _next: NextFunction) => ({
      authorization: authorizationValues(req.rawHeaders),
      method: req.method,
      url: req.originalUrl ?? req.url,
      params: req.params as Record<string, string | undefined>,
      raw: { req, res },
      client: requestClient(req.ip ?? req.socket?.remoteAddress, req.headers["user-agent"]),
    }),
    allow(granted, headers, _req, res, next): void {
      res.set(headers);
      res.locals.keyward = granted as AllowedDecision;
      next();
    },
    deny: (problem: HttpProblem, _decision, _req, res): void => void res.status(problem.status).set(problem.headers).send(JSON.stringify(problem.body)),
  });
  // Express 4 does not wait for a returned promise: a failure goes to `next`.
  const handler = (run: (req: Request, res: Response, next: NextFunction) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => void run(req, res, next).catch(next);
  const guard = (spec: ExpressGuardSpec<A>) => handler(guards.item(spec)) as unknown as ReturnType<KeywardExpressGuard<A>>;
  guard.list = (spec: ListGuardSpec<A>) => handler(guards.list(spec)) as unknown as ReturnType<KeywardExpressGuard<A>["list"]>;
  return guard;
}

/**
 * The allowed decision of a guarded route; throws (a bug in the host's wiring) on an unguarded one.
 *
 * @example
 * ```ts
 * app.get("/me", guard({ action: "reports.export" }), (req, res) => res.json(decisionOf(res).subject));
 * ```
 */
export function decisionOf(res: Response): AllowedDecision {
  const d = res.locals.keyward;
  if (d === undefined) throw new KeywardError("invalid_config", "No keyward decision on this response: is the route guarded?");
  return d;
}

/**
 * The allowed access (with its filter) of a list-guarded route; throws (a bug in the host's
 * wiring) on a route without a list guard.
 *
 * @example
 * ```ts
 * app.get("/assets", guard.list({ action: "assets.view" }), (req, res) => res.json(assets.filter(accessOf(res).filter.matches)));
 * ```
 */
export function accessOf(res: Response): AllowedAccess {
  const d = res.locals.keyward as Partial<AllowedAccess> | undefined;
  if (d === undefined || typeof d.filter?.matches !== "function") throw new KeywardError("invalid_config", "No keyward list filter on this response: is the route guarded with guard.list()?");
  return d as AllowedAccess;
}

/** Options of {@link managementMiddleware} and {@link mountManagement}. */
export type ExpressManagementOptions = NodeHandlerOptions;

/** Whether a body parser (`express.json()`…) already read the request's stream. */
function bodyConsumed(req: Request): boolean {
  return req.readableEnded || (req.complete && !req.readable);
}

/** The bytes of a body a parser already read: JSON re-encoded, a raw `Buffer` or text as they are. */
function parsedBody(body: unknown): Uint8Array<ArrayBuffer> | null {
  if (body === undefined || body === null) return null;
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (typeof body === "string") return new TextEncoder().encode(body);
  return new TextEncoder().encode(JSON.stringify(body));
}

/**
 * An Express handler serving a management router: the request under the router's `basePath`
 * becomes a Fetch `Request` (from `req.originalUrl`, the full path, so it works under
 * `app.use(path, …)` and in a sub-router: there, mount it at the path inside the sub-router and
 * give the router the full public `basePath`), and the router's `Response` is written back. Mount it before `express.json()` if
 * you can; if a body parser already read the stream, its parsed body is re-encoded (JSON), so
 * the router still sees the request.
 *
 * @example
 * ```ts
 * import { managementMiddleware } from "keyward/express";
 * app.use(router.basePath, managementMiddleware(router));
 * ```
 */
export function managementMiddleware(router: MountableRouter, options: ExpressManagementOptions = {}): RequestHandler {
  return function keywardManagement(req: Request, res: Response): void {
    const url = req.originalUrl ?? req.url;
    const method = req.method.toUpperCase();
    const body = method === "GET" || method === "HEAD" || !bodyConsumed(req) ? undefined : parsedBody((req as { body?: unknown }).body);
    void serveNode(router, req, res, { ...options, url, ...(body === undefined ? {} : { body }) });
  };
}

/**
 * Mounts a management router (`keyward/manage`) on an Express app at its `basePath`: the pages
 * and the JSON endpoints, with the router's own CSRF checks and problem answers. (In a
 * sub-router mounted elsewhere, use {@link managementMiddleware} at the path inside it.)
 *
 * @example
 * ```ts
 * import { managementRouter } from "keyward/manage";
 * import { mountManagement } from "keyward/express";
 *
 * const app = express();
 * mountManagement(app, managementRouter(kw, { basePath: "/settings/api-tokens", session: readSession }));
 * app.use(express.json()); // the host's own routes after
 * ```
 */
export function mountManagement<T extends IRouter>(app: T, router: MountableRouter, options: ExpressManagementOptions = {}): T {
  app.use(router.basePath === "" ? "/" : router.basePath, managementMiddleware(router, options));
  return app;
}
