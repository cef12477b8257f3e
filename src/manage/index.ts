/**
 * `keyward/manage`: token management endpoints and pages (R3–R11) on the Fetch API, and a
 * `node:http` adapter.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { managementRouter, toNodeHandler } from "keyward/manage";
 *
 * const router = managementRouter(kw, {
 *   basePath: "/settings/api-tokens",
 *   session: async (request) => mySessions.read(request), // { orgId, userId } | null
 * });
 * createServer(toNodeHandler(router)).listen(3000); // then open /settings/api-tokens/
 * // in Express, Fastify or Hono: mountManagement(app, router) from keyward/express, keyward/fastify, keyward/hono
 * ```
 * @module
 */
export {
  managementRouter,
  tokenJson,
  CSRF_HEADER,
  type ManagementOptions,
  type ManagementRouter,
  type ManagementSession,
  type ManagedKeyward,
  type MountableRouter,
  type TokenJson,
} from "./router.js";
export { MANAGEMENT_STATUS, RETRY_AFTER_SECONDS, type ManagementProblem, type ManagementProblemCode } from "./problem.js";
export { toNodeHandler, toRequest, writeResponse, serveNode, buildRequest, type NodeHandlerOptions, type FetchHandler } from "./node.js";
