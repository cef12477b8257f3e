/**
 * The management router mounted through each framework integration — `mountManagement` of
 * `keyward/express`, `keyward/fastify` and `keyward/hono` — on a real server on a loopback port,
 * driven by real HTTP: the same table for the three (R3, R4, R5, R10, R11, CSRF).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { CSRF_HEADER, managementRouter, type ManagementRouter } from "../../src/manage/index.js";
import { managementMiddleware, mountManagement as mountExpress } from "../../src/middleware/express.js";
import { mountManagement as mountFastify } from "../../src/middleware/fastify.js";
import { mountManagement as mountHono } from "../../src/middleware/hono.js";
import { PASSWORD, world, type World } from "../core/fixture.js";
import { listen, type Running } from "../support/servers.js";

const BASE = "/settings/api-tokens";



/** The host's session for the tests: the cookie `sid` names the user, in acme. */
function routerFor(w: World): ManagementRouter {
  return managementRouter(w.kw, {
    basePath: BASE,
    session: (request) => {
      const sid = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.get("cookie") ?? "")?.[1];
      return sid === undefined ? null : { orgId: "acme", userId: sid };
    },
  });
}

/** Each framework: the router mounted, next to one route of the host's own that reads a JSON body with the framework's parser. */
const frameworks: Record<string, (router: ManagementRouter) => Promise<Running>> = {
  express: async (router) => {
    const app = express();
    mountExpress(app, router);
    app.use(express.json());
    app.post("/host/echo", (req, res) => res.json({ echoed: req.body }));
    return listen(createServer(app));
  },
  fastify: async (router) => {
    const app = Fastify();
    await mountFastify(app, router);
    app.post("/host/echo", async (request) => ({ echoed: request.body }));
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  hono: async (router) => {
    const app = new Hono();
    mountHono(app, router);
    app.post("/host/echo", async (c) => c.json({ echoed: await c.req.json() }));
    return listen(createServer(getRequestListener(app.fetch)));
  },
};

describe.each(Object.entries(frameworks))("the management router mounted on %s, over HTTP", (_name, start) => {
  let w: World;
  let server: Running;
  beforeEach(async () => {
    w = await world();
    server = await start(routerFor(w));
  });
  afterEach(async () => {
    await server?.close();
  });

  /** A same-origin request as the page sends it, signed in as `as` (null: no session). */
  async function call(method: string, path: string, o: { as?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = {};
    if (o.as !== null) headers.cookie = `sid=${o.as ?? "u_ana"}`;
    const unsafe = method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
    if (unsafe) Object.assign(headers, { "content-type": "application/json", [CSRF_HEADER]: "1", origin: server.url });
    Object.assign(headers, o.headers);
    for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
    const res = await fetch(`${server.url}${BASE}${path}`, { method, headers, ...(unsafe ? { body: o.raw ?? JSON.stringify(o.body ?? {}) } : {}) });
    const text = await res.text();
    return { res, status: res.status, text, json: text === "" || !(res.headers.get("content-type") ?? "").includes("json") ? null : (JSON.parse(text) as Record<string, any>) };
  }
  const generate = (as = "u_ana", name = "CI") => call("POST", "/api/tokens", { as, body: { name, password: PASSWORD } });

  it("serves the page at the base path, with and without its trailing slash, and HEAD without a body", async () => {
    for (const path of ["/", ""]) {
      const page = await call("GET", path);
      expect(page.status).toBe(200);
      expect(page.res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.res.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(page.text).toContain("<html");
    }
    const head = await call("HEAD", "/admin");
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    const asset = await call("GET", "/assets/nope.js");
    expect(asset.status).toBe(404);
    expect(asset.json).toMatchObject({ code: "not_found", type: "urn:keyward:problem:not_found" });
  });

  it("R10 R4 R5 lists, generates (the secret in the creation response only) and lists again", async () => {
    const empty = await call("GET", "/api/tokens");
    expect(empty.status).toBe(200);
    expect(empty.res.headers.get("cache-control")).toBe("no-store");
    expect(empty.json).toEqual({ items: [], nextCursor: null, total: 0 });

    const created = await generate();
    expect(created.status).toBe(201);
    const secret = created.json!.token as string;
    expect(secret).toMatch(/^kwu_/);
    expect(created.json!.record).toMatchObject({ name: "CI", owner: { id: "u_ana", name: "Ana Inspector" }, status: "active" });
    expect((await w.kw.authorize(secret, "reports.export")).allowed).toBe(true);

    const listed = await call("GET", "/api/tokens");
    expect(listed.json!.items).toHaveLength(1);
    expect(listed.json!.items[0].hint).toBe(`kwu_…${secret.slice(-4)}`);
    expect(listed.text).not.toContain(secret);
  });

  it("R4 the body reaches the router as sent: a wrong password is 403 reauthentication_failed, broken JSON is 400 invalid_input", async () => {
    const wrong = await call("POST", "/api/tokens", { body: { name: "CI", password: "nope" } });
    expect(wrong.status).toBe(403);
    expect(wrong.json).toMatchObject({ code: "reauthentication_failed", field: "password" });
    const broken = await call("POST", "/api/tokens", { raw: "{ not json" });
    expect(broken.status).toBe(400);
    expect(broken.json).toMatchObject({ code: "invalid_input", field: "body" });
    const extra = await call("POST", "/api/tokens", { body: { name: "CI", password: PASSWORD, orgId: "beta" } });
    expect(extra.status).toBe(400);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" })).items).toEqual([]);
  });

  it("R10 revokes one of mine (204); the token is refused from then on", async () => {
    const created = await generate();
    const revoked = await call("POST", `/api/tokens/${created.json!.record.id}/revoke`);
    expect(revoked.status).toBe(204);
    expect(revoked.text).toBe("");
    expect(await w.kw.authorize(created.json!.token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
  });

  it("R11 an administrator deletes a user's token (204); that integration is refused", async () => {
    const created = await generate("u_ana", "Zapier");
    const all = await call("GET", "/api/organization/tokens", { as: "u_ada" });
    expect(all.status).toBe(200);
    expect(all.json!.items.map((t: { owner: { name: string } }) => t.owner.name)).toEqual(["Ana Inspector"]);
    const deleted = await call("DELETE", `/api/organization/tokens/${created.json!.record.id}`, { as: "u_ada" });
    expect(deleted.status).toBe(204);
    expect((await w.kw.authorize(created.json!.token, "reports.export")).allowed).toBe(false);
  });

  it("CSRF: no custom header, a foreign Origin, or a form's content type is refused, and nothing is created", async () => {
    const noHeader = await call("POST", "/api/tokens", { body: { name: "x", password: PASSWORD }, headers: { [CSRF_HEADER]: "" } });
    expect(noHeader.status).toBe(403);
    expect(noHeader.json).toMatchObject({ code: "csrf_rejected" });
    const foreign = await call("POST", "/api/tokens", { body: { name: "x", password: PASSWORD }, headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.json).toMatchObject({ code: "csrf_rejected" });
    const form = await call("POST", "/api/tokens", { raw: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(415);
    expect(form.json).toMatchObject({ code: "unsupported_media_type" });
    const preflight = await call("OPTIONS", "/api/tokens", { headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(405);
    expect(preflight.res.headers.get("access-control-allow-origin")).toBeNull();
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" })).items).toEqual([]);
  });

  it("R11 a member without api_tokens:manage is refused (403 forbidden) and the token stays; no session is 401", async () => {
    const adas = await generate("u_ada", "admin scripts");
    const list = await call("GET", "/api/organization/tokens");
    expect(list.status).toBe(403);
    expect(list.json).toMatchObject({ code: "forbidden", status: 403 });
    const del = await call("DELETE", `/api/organization/tokens/${adas.json!.record.id}`);
    expect(del.status).toBe(403);
    expect((await w.kw.authorize(adas.json!.token, "reports.export")).allowed).toBe(true);
    const anonymous = await call("GET", "/api/tokens", { as: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ code: "session_required" });
  });

  it("leaves the host's own routes and body parsing alone", async () => {
    const res = await fetch(`${server.url}/host/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: 1 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echoed: { a: 1 } });
  });
});

describe("keyward/express mountManagement after express.json()", () => {
  let w: World;
  let server: Running;
  beforeAll(async () => {
    w = await world();
    const app = express();
    app.use(express.json());
    mountExpress(app, routerFor(w));
    server = await listen(createServer(app));
  });
  afterAll(async () => {
    await server?.close();
  });

  it("R4 the body a parser already read is handed on: generate works, and an unknown field is still refused", async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}${BASE}/api/tokens`, { method: "POST", headers: { cookie: "sid=u_ana", "content-type": "application/json", [CSRF_HEADER]: "1", origin: server.url }, body: JSON.stringify(body) });
    const created = await post({ name: "after json()", password: PASSWORD });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { record: { name: string } }).record.name).toBe("after json()");
    const refused = await post({ name: "x", password: PASSWORD, userId: "u_ada" });
    expect(refused.status).toBe(400);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" })).items).toHaveLength(1);
  });
});

describe("keyward/express managementMiddleware in a sub-router", () => {
  it("R10 the router sees the full public path (req.originalUrl): mounted at /settings inside a sub-router at /org", async () => {
    const w = await world();
    const router = managementRouter(w.kw, { basePath: "/org/settings", session: () => ({ orgId: "acme", userId: "u_ana" }) });
    const app = express();
    const sub = express.Router();
    sub.use("/settings", managementMiddleware(router));
    app.use("/org", sub);
    const server = await listen(createServer(app));
    try {
      const r = await fetch(`${server.url}/org/settings/api/me`);
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ user: { id: "u_ana" } });
      expect((await fetch(`${server.url}/org/settings/`)).headers.get("content-type")).toBe("text/html; charset=utf-8");
    } finally {
      await server.close();
    }
  });
});

describe("mountManagement types", () => {
  it("returns the app it was given (Express, Hono) and a thenable (Fastify)", () => {
    expectTypeOf(mountExpress<express.Express>).returns.toEqualTypeOf<express.Express>();
    expectTypeOf(mountHono<Hono>).returns.toEqualTypeOf<Hono>();
    expectTypeOf(mountFastify).returns.toMatchTypeOf<PromiseLike<unknown>>();
    expectTypeOf(mountExpress).parameter(1).toMatchTypeOf<{ basePath: string; fetch(request: Request): Promise<Response> }>();
    const notCalled = () => {
      // @ts-expect-error a bare Fetch handler has no basePath to mount at
      mountExpress(express(), { fetch: async () => new Response() });
      // @ts-expect-error Hono's mount takes a Hono app, not an Express one
      mountHono(express(), { basePath: "/x", fetch: async () => new Response() });
    };
    expect(typeof notCalled).toBe("function");
  });
});
