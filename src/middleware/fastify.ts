/**
 * `keyward/fastify`: a Fastify plugin that decorates the request with `request.keyward` (the
 * allowed decision) and route-level `preHandler` guards; `list(spec)` guards a list route and
 * puts the allowed access (with its filter) on `request.keyward` (typed through `accessOf(request)`).
 * management router of `keyward/manage` in a Fastify app.
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyPluginOptions, FastifyReply, FastifyRequest } from "fastify";
import type { AllowedAccess } from "../core/access.js";
import { KeywardError } from "../core/errors.js";
import type { AllowedDecision } from "../core/types.js";
import { guardRunner, requestClient, type GuardKeyward, type GuardSpec, type ListGuardSpec } from "../http/guard.js";
import { authorizationValues, type HttpOptions } from "../http/mapping.js";
import { bodyStream, buildRequest } from "../manage/node.js";
import type { MountableRouter } from "../manage/router.js";

export type { MountableRouter } from "../manage/router.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The allowed keyward decision, set by a keyward guard; `null` on unguarded routes. */
    keyward: AllowedDecision | null;
  }
}

/** A guard spec for Fastify: a loader receives the request (with `request.params`). */
export type FastifyGuardSpec<A extends string> = GuardSpec<A, FastifyRequest>;

/** A keyward `preHandler` hook. */
export type KeywardPreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** What {@link keywardFastify} returns: a plugin to register, with `guard(spec)` for route `preHandler`s. */
export interface KeywardFastifyPlugin<A extends string> {
  (instance: FastifyInstance, options?: FastifyPluginOptions): Promise<void>;
  /** A `preHandler` for one route. */
  guard(spec: FastifyGuardSpec<A>): KeywardPreHandler;
  /** A `preHandler` for a list route: one `accessible()` call; the allowed access on `request.keyward` (read it typed with {@link accessOf}). */
  list(spec: ListGuardSpec<A>): KeywardPreHandler;
}

/**
 * Creates keyward's Fastify plugin. Options are validated once (`invalid_config`); each spec is
 * validated when the route is declared. Register the plugin once (it is not encapsulated, so the
 * decoration is visible everywhere), then put `keyward.guard(spec)` in a route's `preHandler`.
 *
 * @example
 * ```ts
 * import { keywardFastify } from "keyward/fastify";
 * const keyward = keywardFastify(kw, { realm: "inspections" });
 * await app.register(keyward);
 * app.get("/inspections/:id", { preHandler: keyward.guard({ action: "inspections.view", item: (req) => inspections.ref(req.params) }) },
 *   async (request) => ({ viewer: request.keyward?.subject.name }));
 * app.get("/inspections", { preHandler: keyward.list({ action: "inspections.view" }) },
 *   async (request) => inspections.all().filter(accessOf(request).filter.matches));
 * ```
 */
export function keywardFastify<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardFastifyPlugin<A> {
  const guards = guardRunner<A, [FastifyRequest, FastifyReply], FastifyReply | undefined, FastifyRequest>(kw, options, {
    read: (request) => ({
      authorization: authorizationValues(request.raw.rawHeaders),
      method: request.method,
      url: request.url,
      params: request.params as Record<string, string | undefined>,
      raw: request,
      client: requestClient(request.ip, request.headers["user-agent"]),
    }),
    allow(granted, headers, request, reply) {
      void reply.headers(headers);
      request.keyward = granted as AllowedDecision;
      return undefined;
    },
    deny: (problem, _decision, _request, reply) => reply.code(problem.status).headers(problem.headers).send(JSON.stringify(problem.body)),
  });
  const plugin = async function keywardPlugin(instance: FastifyInstance): Promise<void> {
    if (!instance.hasRequestDecorator("keyward")) instance.decorateRequest("keyward", null);
  } as unknown as KeywardFastifyPlugin<A>;
  // What fastify-plugin does: the decoration escapes the plugin's encapsulation context.
  Object.assign(plugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "keyward" });
  plugin.guard = guards.item;
  plugin.list = guards.list;
  return plugin;
}

/**
 * The allowed access (with its filter) of a list-guarded route; throws (a bug in the host's
 * wiring) on a route without a `list()` guard.
 *
 * @example
 * ```ts
 * app.get("/assets", { preHandler: keyward.list({ action: "assets.view" }) }, async (request) => assets.filter(accessOf(request).filter.matches));
 * ```
 */
export function accessOf(request: FastifyRequest): AllowedAccess {
  const d = request.keyward as Partial<AllowedAccess> | null;
  if (d === null || typeof d.filter?.matches !== "function") throw new KeywardError("invalid_config", "No keyward list filter on this request: is the route guarded with keyward.list()?");
  return d as AllowedAccess;
}

/** Options of {@link managementPlugin} and {@link mountManagement}. */
export interface FastifyManagementOptions {
  /** The public origin (`https://app.example.com`) the request URL is built on (the router's same-origin check compares `Origin` with it). Default: the `Host` header over `request.protocol`. */
  origin?: string;
  /**
   * Most bytes of a body these routes read, in bytes. Default 1 MiB. The body is not parsed by
   * Fastify: the router reads the stream itself and stops at its own `maxBodyBytes` (16 KiB)
   * with a 413 problem, so this matters only for a router allowing more.
   */
  bodyLimit?: number;
}

/** Where the management plugin's content-type parser leaves the unread body stream. */
const STREAM = Symbol("keyward.managementBody");

const MANAGEMENT_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/**
 * A Fastify plugin serving a management router at its `basePath`. It is encapsulated: inside it,
 * the body of any content type is handed to the router as raw bytes (so the router itself checks
 * the JSON, the CSRF header and the size), and the app's own parsers elsewhere are untouched.
 *
 * @example
 * ```ts
 * import { managementPlugin } from "keyward/fastify";
 * await app.register(managementPlugin(router));
 * ```
 */
export function managementPlugin(router: MountableRouter, options: FastifyManagementOptions = {}): (instance: FastifyInstance) => Promise<void> {
  const base = router.basePath;
  return async function keywardManagement(instance: FastifyInstance): Promise<void> {
    instance.removeAllContentTypeParsers();
    // The body is not read here: the router reads the stream itself and stops at its own limit.
    instance.addContentTypeParser("*", (_request, payload, done) => done(null, { [STREAM]: payload }));
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const origin = options.origin ?? `${request.protocol}://${request.headers.host ?? "localhost"}`;
      const payload = (request.body as { [STREAM]?: IncomingMessage } | undefined)?.[STREAM];
      const body = payload === undefined ? null : bodyStream(payload, options.bodyLimit ?? 1_048_576);
      const fetchRequest = buildRequest(request.raw, body?.stream ?? null, { origin, url: request.url });
      const response = await router.fetch(fetchRequest);
      // A body read in part is left on the connection: it cannot carry another request.
      if (body !== null && body.state.started && !body.state.ended) void reply.header("connection", "close");
      reply.code(response.status);
      const cookies = typeof response.headers.getSetCookie === "function" ? response.headers.getSetCookie() : [];
      response.headers.forEach((value, key) => {
        if (key !== "set-cookie") void reply.header(key, value);
      });
      if (cookies.length > 0) void reply.header("set-cookie", cookies);
      if (request.method === "HEAD" || response.body === null) return reply.send();
      return reply.send(Buffer.from(await response.arrayBuffer()));
    };
    instance.route({ method: [...MANAGEMENT_METHODS], url: base === "" ? "/" : base, exposeHeadRoute: false, handler });
    instance.route({ method: [...MANAGEMENT_METHODS], url: `${base}/*`, exposeHeadRoute: false, handler });
  };
}

/**
 * Mounts a management router (`keyward/manage`) on a Fastify app at its `basePath`: the pages and
 * the JSON endpoints, with the router's own CSRF checks and problem answers. Await it (it is
 * `app.register(managementPlugin(router, options))`).
 *
 * @example
 * ```ts
 * import { managementRouter } from "keyward/manage";
 * import { mountManagement } from "keyward/fastify";
 *
 * await mountManagement(app, managementRouter(kw, { basePath: "/settings/api-tokens", session: readSession }));
 * ```
 */
export function mountManagement(app: FastifyInstance, router: MountableRouter, options: FastifyManagementOptions = {}): PromiseLike<unknown> {
  return app.register(managementPlugin(router, options));
}
