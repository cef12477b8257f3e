/**
 * `keyward/hono`: route-level guards for Hono. The allowed decision is the context variable
 * `keyward`, typed through the middleware's `Variables` (`c.var.keyward` in the handler); a list
 * guard (`guard.list(spec)`) sets the allowed access, with its filter.
 * `mountManagement()` serves the management router of `keyward/manage` in a Hono app.
 * @module
 */
import type { Context, Hono, MiddlewareHandler, Next } from "hono";
import type { AllowedAccess } from "../core/access.js";
import type { AllowedDecision } from "../core/types.js";
import { guardRunner, requestClient, type Granted, type GuardKeyward, type GuardSpec, type ListGuardSpec } from "../http/guard.js";
import { problemResponse, type HttpOptions } from "../http/mapping.js";
import type { MountableRouter } from "../manage/router.js";

export type { MountableRouter } from "../manage/router.js";

/** The variables a keyward guard sets. */
export interface KeywardVariables {
  keyward: AllowedDecision;
}

/** The Hono environment of a guarded route. */
export interface KeywardEnv {
  Variables: KeywardVariables;
}

/** A guard spec for Hono: a loader receives the context (`c.req.param("id")`). */
export type HonoGuardSpec<A extends string> = GuardSpec<A, Context>;

/** The variables a keyward list guard sets: the allowed access, with the filter. */
export interface KeywardListVariables {
  keyward: AllowedAccess;
}

/** The Hono environment of a list-guarded route. */
export interface KeywardListEnv {
  Variables: KeywardListVariables;
}

/** What {@link keywardHono} returns: call it with a spec to get a middleware; `list(spec)` for a list route. */
export interface KeywardHonoGuard<A extends string> {
  (spec: HonoGuardSpec<A>): MiddlewareHandler<KeywardEnv>;
  /** A list route's middleware: one `accessible()` call; `c.var.keyward` is the allowed access (with `filter`). */
  list(spec: ListGuardSpec<A>): MiddlewareHandler<KeywardListEnv>;
}

/**
 * Creates keyward's Hono guard factory. Options are validated once (`invalid_config`); each spec
 * is validated when the route is declared.
 *
 * @example
 * ```ts
 * import { keywardHono } from "keyward/hono";
 * const guard = keywardHono(kw, { realm: "inspections" });
 * app.get("/inspections/:id", guard({ action: "inspections.view", item: (c) => inspections.ref(c.req.param("id")) }),
 *   (c) => c.json({ viewer: c.var.keyward.subject.name }));
 * app.get("/inspections", guard.list({ action: "inspections.view" }), (c) => c.json(inspections.all().filter(c.var.keyward.filter.matches)));
 * ```
 */
export function keywardHono<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardHonoGuard<A> {
  const guards = guardRunner(kw, options, {
    read: (c: Context<GrantedEnv>, _next: Next) => ({
      authorization: c.req.header("authorization"),
      method: c.req.method,
      url: c.req.url,
      params: c.req.param(),
      raw: c as Context,
      // The address on @hono/node-server (its `env.incoming`); other runtimes give none here.
      client: requestClient((c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming?.socket?.remoteAddress, c.req.header("user-agent")),
    }),
    async allow(granted, headers, c, next): Promise<Response | undefined> {
      c.set("keyward", granted);
      await next();
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      return undefined;
    },
    deny: (problem) => problemResponse(problem),
  });
  const guard = (spec: HonoGuardSpec<A>) => guards.item(spec) as MiddlewareHandler<KeywardEnv>;
  guard.list = (spec: ListGuardSpec<A>) => guards.list(spec) as MiddlewareHandler<KeywardListEnv>;
  return guard;
}

/** The environment the runner sets: either guard's variable. */
interface GrantedEnv {
  Variables: { keyward: Granted };
}

/**
 * Mounts a management router (`keyward/manage`) on a Hono app at its `basePath`: every method
 * on the path and below it goes to `router.fetch(c.req.raw)`, the original `Request`. Mount it
 * before any middleware that reads the body of these requests.
 *
 * @example
 * ```ts
 * import { managementRouter } from "keyward/manage";
 * import { mountManagement } from "keyward/hono";
 *
 * const app = new Hono();
 * mountManagement(app, managementRouter(kw, { basePath: "/settings/api-tokens", session: readSession }));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function mountManagement<T extends Hono<any, any, any>>(app: T, router: MountableRouter): T {
  const handler = (c: Context) => router.fetch(c.req.raw);
  const base = router.basePath;
  app.all(base === "" ? "/" : base, handler);
  app.all(`${base}/*`, handler);
  return app;
}
