/**
 * The same small app on each framework, for the shared HTTP table: the same routes, the same
 * guards, the same answers. Each `start*` listens on a loopback port (port 0) and returns the
 * base URL and a `close()`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import type { AllowedAccess, AllowedDecision, ItemRef, Keyward } from "../../src/index.js";
import { accessOf as expressAccessOf, keywardExpress } from "../../src/middleware/express.js";
import { accessOf as fastifyAccessOf, keywardFastify } from "../../src/middleware/fastify.js";
import { keywardFetch, type FetchParams } from "../../src/middleware/fetch.js";
import { keywardHono } from "../../src/middleware/hono.js";
import type { HttpOptions } from "../../src/http/mapping.js";
import { rateLimit, type LimiterStore, type RateLimitContext } from "../../src/ratelimit/index.js";
import type { Action } from "../core/fixture.js";
import { listen, type Running } from "../support/servers.js";
export type { Running };

/** What every app needs: keyward, and the host's own inspections (id → item). */
export interface AppDeps {
  kw: Keyward<Action>;
  inspections: ReadonlyMap<string, ItemRef>;
}

export const REALM = "kw-test";
export const OPTIONS: HttpOptions = { realm: REALM, retryAfterSeconds: 7 };
/** The `/strict` routes: unreachable items answer 403, and a 401 says why. */
export const STRICT: HttpOptions = { realm: REALM, retryAfterSeconds: 7, unreachableStatus: 403, exposeTokenReason: true };

/** A limiter store whose server is down (and whose error message holds a secret that must not leak). */
const DOWN: LimiterStore = {
  kind: "redis",
  shared: true,
  limiter: () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:6379 password=hunter2"), { code: "ECONNREFUSED" })),
};

/** R21: 2 requests per minute per organization and per route bucket (the path's second segment), so each table row has its own counter. */
function limited(extra: Partial<Parameters<typeof rateLimit>[0]> = {}): HttpOptions {
  const bucket = (ctx: RateLimitContext) => `${ctx.request?.path.split("/")[2] ?? ""}:${ctx.orgId}`;
  return { ...OPTIONS, rateLimit: rateLimit({ by: bucket, limit: 2, windowMs: 60_000, ...extra }) };
}

/** The rate-limited variants of the routes: counted (`/limited`), with the IETF headers (`/ietf`), on a store that is down (`/down`, fail closed) or insured (`/insured`). */
function limitedOptions() {
  return { limited: limited(), ietf: limited({ headers: { ietf: true } }), down: limited({ store: DOWN }), insured: limited({ store: DOWN, onStoreError: "insurance" }) };
}
export const LIMITED_PREFIXES = ["limited", "ietf", "down", "insured"] as const;

/** What a guarded handler answers: enough to check the decision reached it. */
export function ok(d: AllowedDecision, id?: string) {
  return { ok: true, id: id ?? null, subject: d.subject.name, kind: d.subject.kind, orgId: d.orgId, tokenId: d.tokenId };
}

/** What a list-guarded handler answers: the subject, and the ids of the host's inspections the filter matches. */
export function listed(access: AllowedAccess, inspections: ReadonlyMap<string, ItemRef>) {
  return { ...ok(access), ids: [...inspections.values()].filter((i) => access.filter.matches(i)).map((i) => i.id).sort() };
}

function boom(): never {
  throw new Error("the host's database is on fire");
}


export function startExpress({ kw, inspections }: AppDeps): Promise<Running> {
  const app = express();
  const guard = keywardExpress(kw, OPTIONS);
  const strict = keywardExpress(kw, STRICT);
  const load = ({ req }: { req: express.Request }) => inspections.get(String(req.params.id));
  app.get("/inspections/:id", guard({ action: "inspections.view", item: load }), (req, res) => res.json(ok(res.locals.keyward!, String(req.params.id))));
  app.put("/inspections/:id", guard({ action: "inspections.edit", item: load }), (req, res) => res.json(ok(res.locals.keyward!, String(req.params.id))));
  app.get("/strict/inspections/:id", strict({ action: "inspections.view", item: load }), (req, res) => res.json(ok(res.locals.keyward!, String(req.params.id))));
  app.get("/orgs/:orgId/inspections/:id", guard({ action: "inspections.view", item: { orgId: { param: "orgId" } } }), (req, res) => res.json(ok(res.locals.keyward!, String(req.params.id))));
  app.get("/broken/:id", guard({ action: "inspections.view", item: boom }), (_req, res) => res.json(ok(res.locals.keyward!)));
  app.get("/reports", guard({ action: "reports.export" }), (_req, res) => res.json(ok(res.locals.keyward!)));
  app.get("/inspections", guard.list({ action: "inspections.view" }), (_req, res) => res.json(listed(expressAccessOf(res), inspections)));
  for (const [prefix, options] of Object.entries(limitedOptions())) {
    const g = keywardExpress(kw, options);
    app.get(`/${prefix}/:bucket/inspections/:id`, g({ action: "inspections.view", item: load }), (req, res) => res.json(ok(res.locals.keyward!, String(req.params.id))));
    app.put(`/${prefix}/:bucket/inspections/:id`, g({ action: "inspections.edit", item: load }), (req, res) => res.json(ok(res.locals.keyward!, String(req.params.id))));
    app.get(`/${prefix}/:bucket/inspections`, g.list({ action: "inspections.view" }), (_req, res) => res.json(listed(expressAccessOf(res), inspections)));
  }
  return listen(createServer(app));
}

export async function startFastify({ kw, inspections }: AppDeps): Promise<Running> {
  // Fastify answers 414 itself for a parameter over 100 characters; raised here so the table
  // exercises keyward's own check of the item.
  const app = Fastify({ maxParamLength: 1000 });
  const keyward = keywardFastify(kw, OPTIONS);
  const strict = keywardFastify(kw, STRICT);
  await app.register(keyward);
  type P = { Params: { id: string } };
  const load = (request: { params: unknown }) => inspections.get((request.params as { id: string }).id);
  app.get<P>("/inspections/:id", { preHandler: keyward.guard({ action: "inspections.view", item: load }) }, async (request) => ok(request.keyward!, request.params.id));
  app.put<P>("/inspections/:id", { preHandler: keyward.guard({ action: "inspections.edit", item: load }) }, async (request) => ok(request.keyward!, request.params.id));
  app.get<P>("/strict/inspections/:id", { preHandler: strict.guard({ action: "inspections.view", item: load }) }, async (request) => ok(request.keyward!, request.params.id));
  app.get<P>("/orgs/:orgId/inspections/:id", { preHandler: keyward.guard({ action: "inspections.view", item: { orgId: { param: "orgId" } } }) }, async (request) => ok(request.keyward!, request.params.id));
  app.get("/broken/:id", { preHandler: keyward.guard({ action: "inspections.view", item: boom }) }, async (request) => ok(request.keyward!));
  app.get("/reports", { preHandler: keyward.guard({ action: "reports.export" }) }, async (request) => ok(request.keyward!));
  app.get("/inspections", { preHandler: keyward.list({ action: "inspections.view" }) }, async (request) => listed(fastifyAccessOf(request), inspections));
  for (const [prefix, options] of Object.entries(limitedOptions())) {
    const g = keywardFastify(kw, options);
    app.get<P>(`/${prefix}/:bucket/inspections/:id`, { preHandler: g.guard({ action: "inspections.view", item: load }) }, async (request) => ok(request.keyward!, request.params.id));
    app.put<P>(`/${prefix}/:bucket/inspections/:id`, { preHandler: g.guard({ action: "inspections.edit", item: load }) }, async (request) => ok(request.keyward!, request.params.id));
    app.get(`/${prefix}/:bucket/inspections`, { preHandler: g.list({ action: "inspections.view" }) }, async (request) => listed(fastifyAccessOf(request), inspections));
  }
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export function startHono({ kw, inspections }: AppDeps): Promise<Running> {
  const app = new Hono();
  const guard = keywardHono(kw, OPTIONS);
  const strict = keywardHono(kw, STRICT);
  const load = (c: { req: { param(name: string): string | undefined } }) => inspections.get(c.req.param("id") ?? "");
  app.get("/inspections/:id", guard({ action: "inspections.view", item: load }), (c) => c.json(ok(c.var.keyward, c.req.param("id"))));
  app.put("/inspections/:id", guard({ action: "inspections.edit", item: load }), (c) => c.json(ok(c.var.keyward, c.req.param("id"))));
  app.get("/strict/inspections/:id", strict({ action: "inspections.view", item: load }), (c) => c.json(ok(c.var.keyward, c.req.param("id"))));
  app.get("/orgs/:orgId/inspections/:id", guard({ action: "inspections.view", item: { orgId: { param: "orgId" } } }), (c) => c.json(ok(c.var.keyward, c.req.param("id"))));
  app.get("/broken/:id", guard({ action: "inspections.view", item: boom }), (c) => c.json(ok(c.var.keyward)));
  app.get("/reports", guard({ action: "reports.export" }), (c) => c.json(ok(c.var.keyward)));
  app.get("/inspections", guard.list({ action: "inspections.view" }), (c) => c.json(listed(c.var.keyward, inspections)));
  for (const [prefix, options] of Object.entries(limitedOptions())) {
    const g = keywardHono(kw, options);
    app.get(`/${prefix}/:bucket/inspections/:id`, g({ action: "inspections.view", item: load }), (c) => c.json(ok(c.var.keyward, c.req.param("id"))));
    // a handler returning its own Response: the headers reach it too
    app.put(`/${prefix}/:bucket/inspections/:id`, g({ action: "inspections.edit", item: load }), (c) => Response.json(ok(c.var.keyward, c.req.param("id"))));
    app.get(`/${prefix}/:bucket/inspections`, g.list({ action: "inspections.view" }), (c) => c.json(listed(c.var.keyward, inspections)));
  }
  return listen(createServer(getRequestListener(app.fetch)));
}

/** A plain Fetch handler with a ten-line router, served through `@hono/node-server`'s Node adapter. */
export function startFetch({ kw, inspections }: AppDeps): Promise<Running> {
  const guard = keywardFetch(kw, OPTIONS);
  const strict = keywardFetch(kw, STRICT);
  const load = ({ params }: { params: FetchParams }) => inspections.get(params.id ?? "");
  const json = (body: unknown) => Response.json(body);
  const routes: [method: string, pattern: RegExp, handler: (request: Request, params: FetchParams) => Promise<Response>][] = [];
  const route = (method: string, pattern: RegExp, handler: (request: Request, params: FetchParams) => Promise<Response>) => routes.push([method, pattern, handler]);
  const view = guard.protect({ action: "inspections.view", item: load, params: (_r, p: FetchParams) => p }, (_r, d, params: FetchParams) => json(ok(d, params.id)));
  const edit = guard.protect({ action: "inspections.edit", item: load, params: (_r, p: FetchParams) => p }, (_r, d, params: FetchParams) => json(ok(d, params.id)));
  const strictView = strict.protect({ action: "inspections.view", item: load, params: (_r, p: FetchParams) => p }, (_r, d, params: FetchParams) => json(ok(d, params.id)));
  const byParams = guard.protect({ action: "inspections.view", item: { orgId: { param: "orgId" } }, params: (_r, params: FetchParams) => params }, (_r, d, params: FetchParams) => json(ok(d, params.id)));
  const broken = guard.protect({ action: "inspections.view", item: boom }, (_r, d) => json(ok(d)));
  const reports = guard.protect({ action: "reports.export" }, (_r, d) => json(ok(d)));
  const list = guard.protectList({ action: "inspections.view" }, (_r, access) => json(listed(access, inspections)));
  route("GET", /^\/inspections\/(?<id>[^/]+)$/, (r, p) => view(r, p));
  route("PUT", /^\/inspections\/(?<id>[^/]+)$/, (r, p) => edit(r, p));
  route("GET", /^\/strict\/inspections\/(?<id>[^/]+)$/, (r, p) => strictView(r, p));
  route("GET", /^\/orgs\/(?<orgId>[^/]+)\/inspections\/(?<id>[^/]+)$/, (r, p) => byParams(r, p));
  route("GET", /^\/broken\/(?<id>[^/]+)$/, (r, p) => broken(r, p));
  route("GET", /^\/reports$/, (r, p) => reports(r, p));
  route("GET", /^\/inspections$/, (r) => list(r, undefined));
  for (const [prefix, options] of Object.entries(limitedOptions())) {
    const g = keywardFetch(kw, options);
    const v = g.protect({ action: "inspections.view", item: load, params: (_r, p: FetchParams) => p }, (_r, d, params: FetchParams) => json(ok(d, params.id)));
    const e = g.protect({ action: "inspections.edit", item: load, params: (_r, p: FetchParams) => p }, (_r, d, params: FetchParams) => json(ok(d, params.id)));
    const l = g.protectList({ action: "inspections.view" }, (_r, access) => json(listed(access, inspections)));
    route("GET", new RegExp(`^/${prefix}/[^/]+/inspections/(?<id>[^/]+)$`), (r, p) => v(r, p));
    route("PUT", new RegExp(`^/${prefix}/[^/]+/inspections/(?<id>[^/]+)$`), (r, p) => e(r, p));
    route("GET", new RegExp(`^/${prefix}/[^/]+/inspections$`), (r) => l(r, undefined));
  }
  async function fetchHandler(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    for (const [method, pattern, handler] of routes) {
      const m = method === request.method ? pattern.exec(path) : null;
      if (m) {
        const params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]));
        return handler(request, params);
      }
    }
    return new Response("no route", { status: 404 });
  }
  return listen(createServer(getRequestListener(fetchHandler)));
}
