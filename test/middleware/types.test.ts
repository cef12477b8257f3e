/**
 * Type-level tests of the middleware (checked by `npm run typecheck`), plus the run-time checks
 * each factory makes once, at start-up: bad options and bad guard specs fail with
 * `invalid_config` before any request.
 */
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createKeyward, KeywardError, type AllowedDecision, type ItemRef } from "../../src/index.js";
import { generateToken } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { decisionOf, keywardExpress } from "../../src/middleware/express.js";
import { keywardFastify } from "../../src/middleware/fastify.js";
import { keywardFetch, type FetchCheck } from "../../src/middleware/fetch.js";
import { keywardHono } from "../../src/middleware/hono.js";

const kw = createKeyward({
  store: memoryStore(),
  actions: {
    "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
    "reports.export": { permission: "reports:export" },
  },
});
const item: ItemRef = { orgId: "acme", type: "inspection", id: "insp_1" };

describe("the decision reaches the handler, typed", () => {
  it("Express: on a guarded route res.locals.keyward is the allowed decision; elsewhere it is optional; decisionOf(res) never is", () => {
    const app = express();
    const guard = keywardExpress(kw);
    app.get("/x/:id", guard({ action: "inspections.view", item: () => item }), (_req, res) => {
      expectTypeOf(res.locals.keyward).toEqualTypeOf<AllowedDecision>();
      expectTypeOf(decisionOf(res)).toEqualTypeOf<AllowedDecision>();
      expectTypeOf(decisionOf(res).subject.name).toBeString();
      res.end();
    });
    app.get("/unguarded", (_req, res) => {
      expectTypeOf(res.locals.keyward).toEqualTypeOf<AllowedDecision | undefined>();
      res.end();
    });
    // @ts-expect-error: an action the host never declared
    expect(() => guard({ action: "inspections.burn", item: () => item })).toThrow(KeywardError);
  });

  it("Fastify: request.keyward is decorated (null on unguarded routes); guard() is a preHandler", async () => {
    const app = Fastify();
    const keyward = keywardFastify(kw);
    await app.register(keyward);
    app.get("/x", { preHandler: keyward.guard({ action: "reports.export" }) }, async (request) => {
      expectTypeOf(request.keyward).toEqualTypeOf<AllowedDecision | null>();
      return request.keyward?.subject.name ?? "";
    });
    expect(app.hasRequestDecorator("keyward")).toBe(true);
    await app.close();
  });

  it("Hono: c.var.keyward and c.get('keyward') are the allowed decision, through the middleware's Variables", () => {
    const app = new Hono();
    const guard = keywardHono(kw);
    app.get("/x/:id", guard({ action: "inspections.view", item: (c) => ({ ...item, id: c.req.param("id") ?? "" }) }), (c) => {
      expectTypeOf(c.var.keyward).toEqualTypeOf<AllowedDecision>();
      expectTypeOf(c.get("keyward")).toEqualTypeOf<AllowedDecision>();
      return c.text(c.var.keyward.subject.name);
    });
  });

  it("Fetch: check() resolves to the decision or a Response; protect() hands the handler the decision", async () => {
    const guard = keywardFetch(kw);
    const r = await guard.check(new Request("http://x/reports"), { action: "reports.export" });
    expectTypeOf(r).toEqualTypeOf<FetchCheck>();
    if (r.ok) expectTypeOf(r.decision).toEqualTypeOf<AllowedDecision>();
    else expectTypeOf(r.response).toEqualTypeOf<Response>();
    expect(r.ok).toBe(false);
    const handler = guard.protect({ action: "reports.export" }, (_request, decision) => {
      expectTypeOf(decision).toEqualTypeOf<AllowedDecision>();
      return new Response(decision.subject.name);
    });
    expectTypeOf(handler).parameter(0).toEqualTypeOf<Request>();
    expect((await handler(new Request("http://x/reports"), undefined)).status).toBe(401);
  });
});

describe("factories validate their options once, at start-up (invalid_config)", () => {
  const factories = {
    express: (o: unknown) => keywardExpress(kw, o as never),
    fastify: (o: unknown) => keywardFastify(kw, o as never),
    hono: (o: unknown) => keywardHono(kw, o as never),
    fetch: (o: unknown) => keywardFetch(kw, o as never),
  };
  it.each(Object.entries(factories))("%s rejects unknown options, a quote in the realm and an unreachableStatus other than 404/403", (_name, make) => {
    for (const bad of [{ realm: 'a"b' }, { unreachableStatus: 401 }, { retryAfterSeconds: -1 }, { exposeReason: true }]) {
      expect(() => make(bad)).toThrow(expect.objectContaining({ code: "invalid_config" }));
    }
    expect(() => make({ realm: "inspections", unreachableStatus: 403, exposeTokenReason: true, retryAfterSeconds: 1 })).not.toThrow();
  });

  it("a guard for an item action needs a way to find the item; an organization-level one takes none", () => {
    const guard = keywardExpress(kw);
    expect(() => guard({ action: "inspections.view" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "guard.item" }));
    expect(() => guard({ action: "reports.export", item: () => item })).toThrow(expect.objectContaining({ code: "invalid_config", field: "guard.item" }));
    expect(() => guard({ action: "inspections.view", item: { orgId: { param: "" } } })).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => guard({ action: "inspections.view", item: { orgId: { param: "org" } } })).not.toThrow();
  });
});

describe("onError sees what the wire never shows", () => {
  it("a loader's error reaches onError (on the wire a plain 404, see the table); a store failure answers 503 and reaches onError, never in the body (R5)", async () => {
    const seen: unknown[] = [];
    const broken = createKeyward({
      store: { ...memoryStore(), loadDecision: () => Promise.reject(new Error("db password=hunter2")) },
      actions: { "reports.export": { permission: "reports:export" } },
    });
    const token = "kwu_" + "0".repeat(49);
    const valid = generateToken("user");
    const guard = keywardFetch(kw, { onError: (e) => seen.push(e) });
    const r = await guard.check(new Request("http://x/i/1", { headers: { authorization: `Bearer ${token}` } }), { action: "inspections.view", item: () => { throw new Error("loader bug"); } });
    expect(r.ok).toBe(false);
    expect(seen).toEqual([expect.objectContaining({ message: "loader bug" })]);
    const down = keywardFetch(broken, { onError: (e) => seen.push(e) });
    const r2 = await down.check(new Request("http://x/r", { headers: { authorization: `Bearer ${valid}` } }), { action: "reports.export" });
    expect(r2.ok).toBe(false);
    if (!r2.ok) {
      expect(r2.response.status).toBe(503);
      expect(await r2.response.text()).not.toContain("hunter2");
    }
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ code: "unavailable" });
  });
});
