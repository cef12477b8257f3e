/**
 * `keyward/fastify`: a Fastify plugin that decorates the request with `request.keyward` (the
 * allowed decision) and route-level `preHandler` guards.
 * @module
 */
import type { FastifyInstance, FastifyPluginOptions, FastifyReply, FastifyRequest } from "fastify";
import type { AllowedDecision } from "../core/types.js";
import { resolveGuard, runGuard, type GuardKeyward, type GuardSpec } from "../http/guard.js";
import { authorizationValues, resolveHttpOptions, splitUrl, type HttpOptions } from "../http/mapping.js";

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
 * ```
 */
export function keywardFastify<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardFastifyPlugin<A> {
  const opts = resolveHttpOptions(options);
  const plugin = async function keywardPlugin(instance: FastifyInstance): Promise<void> {
    if (!instance.hasRequestDecorator("keyward")) instance.decorateRequest("keyward", null);
  } as unknown as KeywardFastifyPlugin<A>;
  // What fastify-plugin does: the decoration escapes the plugin's encapsulation context.
  Object.assign(plugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "keyward" });
  plugin.guard = (spec) => {
    const guard = resolveGuard(kw, spec);
    return async function keywardPreHandler(request, reply) {
      const { path, search } = splitUrl(request.url);
      const r = await runGuard(kw as GuardKeyward, guard, opts, {
        authorization: authorizationValues(request.raw.rawHeaders),
        method: request.method,
        path,
        search,
        params: (request.params ?? {}) as Record<string, string | undefined>,
        raw: request,
      });
      if (r.ok) {
        request.keyward = r.decision;
        return undefined;
      }
      return reply.code(r.problem.status).headers(r.problem.headers).send(JSON.stringify(r.problem.body));
    };
  };
  return plugin;
}
