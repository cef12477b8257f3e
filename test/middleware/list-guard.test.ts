/**
 * The list guard of each binding: its types (checked by `npm run typecheck`), its checks at
 * declaration (`invalid_config`), and the Fetch helper (`checkList`, `protectList`) answering
 * with the item guards' mapping (R12, R15).
 */
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createKeyward, type AccessFilter, type AllowedAccess, type AllowedDecision } from "../../src/index.js";
import { generateToken } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { accessOf as expressAccessOf, decisionOf, keywardExpress } from "../../src/middleware/express.js";
import { accessOf as fastifyAccessOf, keywardFastify } from "../../src/middleware/fastify.js";
import { keywardFetch, runListGuard, resolveListGuard, resolveHttpOptions, type FetchListCheck } from "../../src/middleware/fetch.js";
import { keywardHono } from "../../src/middleware/hono.js";

const ACTIONS = {
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "assets.view": { permission: "assets:view", access: "view", item: "asset" },
  "reports.export": { permission: "reports:export" },
} as const;

async function world() {
  const state = { down: false };
  const inner = memoryStore();
  const kw = createKeyward({
    store: { ...inner, loadAccess: (...a: Parameters<typeof inner.loadAccess>) => (state.down ? Promise.reject(new Error("db password=hunter2")) : inner.loadAccess(...a)) },
    actions: ACTIONS,
    verifyPassword: () => true,
  });
  const d = kw.directory;
  await d.createOrganization({ id: "acme", name: "Acme" });
  const set = await d.createPermissionSet({ id: "ps", orgId: "acme", name: "Inspector", permissions: ["inspections:view"] });
  await d.upsertUser({ id: "u_ana", name: "Ana" });
  await d.addMember({ orgId: "acme", userId: "u_ana", permissionSetId: set.id });
  await d.share({ item: { orgId: "acme", type: "inspection", id: "i1" }, grantee: { kind: "user", userId: "u_ana" }, level: "view" });
  const ana = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "t", password: "x" });
  const revoked = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "r", password: "x" });
  await kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: "u_ana" });
  return { kw, state, ana: ana.token, revoked: revoked.token };
}

const kwTypes = createKeyward({ store: memoryStore(), actions: ACTIONS });

describe("the list guard hands the handler the filter, typed", () => {
  it("Express: guard.list() types res.locals.keyward.filter; accessOf(res) is the allowed access; decisionOf(res) still works", () => {
    const app = express();
    const guard = keywardExpress(kwTypes);
    app.get("/inspections", guard.list({ action: "inspections.view" }), (_req, res) => {
      expectTypeOf(res.locals.keyward.filter).toEqualTypeOf<AccessFilter>();
      expectTypeOf(expressAccessOf(res)).toEqualTypeOf<AllowedAccess>();
      expectTypeOf(decisionOf(res)).toEqualTypeOf<AllowedDecision>();
      res.json([]);
    });
    // @ts-expect-error: an action the host never declared
    expect(() => guard.list({ action: "inspections.burn" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "list.action" }));
  });

  it("Fastify: keyward.list() is a preHandler; accessOf(request) is the allowed access", async () => {
    const app = Fastify();
    const keyward = keywardFastify(kwTypes);
    await app.register(keyward);
    app.get("/inspections", { preHandler: keyward.list({ action: "inspections.view" }) }, async (request) => {
      expectTypeOf(fastifyAccessOf(request)).toEqualTypeOf<AllowedAccess>();
      expectTypeOf(fastifyAccessOf(request).filter.matches).toEqualTypeOf<AccessFilter["matches"]>();
      return [];
    });
    await app.close();
  });

  it("Hono: guard.list() makes c.var.keyward the allowed access through its Variables", () => {
    const app = new Hono();
    const guard = keywardHono(kwTypes);
    app.get("/inspections", guard.list({ action: "inspections.view" }), (c) => {
      expectTypeOf(c.var.keyward).toEqualTypeOf<AllowedAccess>();
      expectTypeOf(c.get("keyward").filter).toEqualTypeOf<AccessFilter>();
      return c.json([]);
    });
  });

  it("Fetch: checkList() resolves to the access or a Response; protectList() hands the handler the access", () => {
    const guard = keywardFetch(kwTypes);
    expectTypeOf(guard.checkList).returns.resolves.toEqualTypeOf<FetchListCheck>();
    const handler = guard.protectList({ action: "inspections.view" }, (_request, access) => {
      expectTypeOf(access).toEqualTypeOf<AllowedAccess>();
      return Response.json([]);
    });
    expectTypeOf(handler).parameter(0).toEqualTypeOf<Request>();
  });
});

describe("a list guard is checked once, at declaration (invalid_config)", () => {
  const makers = {
    express: (spec: unknown) => keywardExpress(kwTypes).list(spec as never),
    fastify: (spec: unknown) => keywardFastify(kwTypes).list(spec as never),
    hono: (spec: unknown) => keywardHono(kwTypes).list(spec as never),
    fetch: (spec: unknown) => keywardFetch(kwTypes).protectList(spec as never, () => new Response()),
  };
  it.each(Object.entries(makers))("%s: an organization-level action, another item type, an undeclared action or an unknown key fail; an item action passes", (_name, make) => {
    expect(() => make({ action: "reports.export" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "list.action" }));
    expect(() => make({ action: "inspections.view", itemType: "asset" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "list.itemType" }));
    expect(() => make({ action: "nope.view" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "list.action" }));
    expect(() => make({ action: "inspections.view", item: () => null })).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => make({ action: "inspections.view" })).not.toThrow();
    expect(() => make({ action: "inspections.view", itemType: "inspection" })).not.toThrow();
  });
  it("accessOf() on a route without a list guard is a wiring bug (invalid_config), also after an item guard", () => {
    expect(() => expressAccessOf({ locals: {} } as never)).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => expressAccessOf({ locals: { keyward: { allowed: true, subject: {} } } } as never)).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => fastifyAccessOf({ keyward: null } as never)).toThrow(expect.objectContaining({ code: "invalid_config" }));
  });
  it("resolveListGuard names the action's item type", () => {
    expect(resolveListGuard(kwTypes, { action: "assets.view" })).toEqual({ action: "assets.view", itemType: "asset" });
  });
});

describe("keyward/fetch list guard: the item guards' answers", () => {
  const req = (token?: string, url = "http://x/inspections") => new Request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("R13: allowed with the filter of the shared items only", async () => {
    const { kw, ana } = await world();
    const r = await keywardFetch(kw).checkList(req(ana), { action: "inspections.view" });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.access.filter.matches({ orgId: "acme", type: "inspection", id: "i1" })).toBe(true);
      expect(r.access.filter.matches({ orgId: "acme", type: "inspection", id: "i2" })).toBe(false);
      expect(r.access.subject.name).toBe("Ana");
    }
  });

  it("R15 R12: revoked → 401 invalid_token, no permission → 403 permission_denied, no token → 401, query token → 400; with the denied decision where one was made", async () => {
    const { kw, ana, revoked } = await world();
    const guard = keywardFetch(kw, { realm: "r" });
    const cases: [Request, string, number, string, string | undefined][] = [
      [req(revoked), "inspections.view", 401, "invalid_token", "token_revoked"],
      [req(ana), "assets.view", 403, "permission_denied", "permission_denied"],
      [req(), "inspections.view", 401, "missing_credentials", undefined],
      [req(undefined, `http://x/inspections?access_token=${ana}`), "inspections.view", 400, "invalid_request", undefined],
      [req(generateToken("user")), "inspections.view", 401, "invalid_token", "token_unknown"],
    ];
    for (const [request, action, status, code, reason] of cases) {
      const r = await guard.checkList(request, { action: action as "inspections.view" });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.response.status).toBe(status);
      expect(await r.response.json()).toMatchObject({ code, status });
      expect(r.decision?.reason).toBe(reason);
    }
  });

  it("a failing store → 503 unavailable with Retry-After; onError sees the cause, the body never does", async () => {
    const { kw, state, ana } = await world();
    const seen: unknown[] = [];
    const handler = keywardFetch(kw, { onError: (e) => seen.push(e), retryAfterSeconds: 9 }).protectList({ action: "inspections.view" }, () => Response.json(["never"]));
    state.down = true;
    const res = await handler(req(ana), undefined);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("9");
    expect(await res.text()).not.toContain("hunter2");
    expect(seen).toEqual([expect.objectContaining({ code: "unavailable" })]);
  });

  it("protectList() runs the handler only when allowed, with the access", async () => {
    const { kw, ana, revoked } = await world();
    const handler = keywardFetch(kw).protectList({ action: "inspections.view" }, (_r, access) => Response.json(["i1", "i2"].filter((id) => access.filter.matches({ orgId: "acme", type: "inspection", id }))));
    expect(await (await handler(req(ana), undefined)).json()).toEqual(["i1"]);
    expect((await handler(req(revoked), undefined)).status).toBe(401);
  });

  it("runListGuard is the shared piece: the same result for a joined Authorization value", async () => {
    const { kw, ana } = await world();
    const opts = resolveHttpOptions({});
    const guard = resolveListGuard(kw, { action: "inspections.view" });
    const r = await runListGuard(kw, guard, opts, { authorization: `Bearer ${ana}, Bearer ${ana}`, method: "GET", path: "/i", search: "" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.body.code).toBe("invalid_request");
  });
});
