/**
 * The management endpoints of the token lifecycle (issue 14) through `router.fetch(new Request(…))`:
 * restricted tokens and their reach preview (R17), rotation with a grace period (R18), expiry on
 * creation under the organization's policy (R19), the previews of what a deactivation, a removal
 * or a deletion stops, the member actions, and the clients a token was used from (R20). Every
 * refusal is problem+json naming its field, from the one table of outcomes. Runs on the memory
 * store, on `keyward/postgres` with PGlite, and on the real server when `KEYWARD_PG_URL` is set.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KeywardEvent, KeywardStore } from "../../src/index.js";
import { CSRF_HEADER, managementRouter, type ManagementRouter } from "../../src/manage/index.js";
import { memoryStore } from "../../src/memory.js";
import { DAY, PASSWORD, world, type World } from "../core/fixture.js";
import { pgliteStore, serverStore } from "../storage/postgres/support.js";

const ORIGIN = "http://app.test";
const BASE = "/settings/api-tokens";
const HOUR = 3_600_000;

let w: World;
let router: ManagementRouter;
let errors: unknown[];

function routerOf(kw: World["kw"], members = false): ManagementRouter {
  return managementRouter(kw, {
    basePath: BASE,
    session: (r) => {
      const userId = r.headers.get("x-test-user");
      return userId === null ? null : { userId, orgId: r.headers.get("x-test-org") ?? "acme" };
    },
    members,
    onError: (e) => errors.push(e),
  });
}

const STORES: [string, () => Promise<{ store: KeywardStore; cleanup(): Promise<void> }>][] = [
  ["memory", async () => ({ store: memoryStore(), cleanup: async () => {} })],
  ["postgres (PGlite)", () => pgliteStore()],
  ...(process.env.KEYWARD_PG_URL ? [["postgres (server)", () => serverStore()] as [string, () => Promise<{ store: KeywardStore; cleanup(): Promise<void> }>]] : []),
];

interface Call {
  as?: string;
  org?: string;
  body?: unknown;
  headers?: Record<string, string>;
  via?: ManagementRouter;
}

async function call(method: string, path: string, c: Call = {}) {
  const headers: Record<string, string> = { "x-test-user": c.as ?? "u_ada" };
  if (c.org) headers["x-test-org"] = c.org;
  const unsafe = method !== "GET" && method !== "HEAD";
  if (unsafe) Object.assign(headers, { "content-type": "application/json", [CSRF_HEADER]: "1", origin: ORIGIN });
  Object.assign(headers, c.headers);
  for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
  const res = await (c.via ?? router).fetch(new Request(`${ORIGIN}${BASE}${path}`, { method, headers, ...(unsafe ? { body: JSON.stringify(c.body ?? {}) } : {}) }));
  const text = await res.text();
  return { res, status: res.status, json: text === "" ? null : (JSON.parse(text) as Record<string, any>), text };
}

const iso = (t: number) => new Date(t).toISOString();
const mine = async (as = "u_ada") => (await call("GET", "/api/tokens", { as })).json!.items as Record<string, any>[];
const problemOf = (r: { res: Response; json: Record<string, any> | null }) => ({ type: r.res.headers.get("content-type"), code: r.json?.code, field: r.json?.field });

describe.each(STORES)("the lifecycle endpoints (%s)", (_name, makeStore) => {
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const made = await makeStore();
    cleanup = () => made.cleanup();
    w = await world({ trackClients: true, store: made.store });
    errors = [];
    router = routerOf(w.kw);
  });
  // No endpoint answered a 500 (onError sees exactly those).
  afterEach(async () => {
    await cleanup();
    expect(errors).toEqual([]);
  });

  describe("R19 expiry on creation, under the organization's policy", () => {
    it("R19 a token created with expiresAt lists it as its expiry, caused by the date; the secret works until then and not after", async () => {
      const at = w.clock.now + 10 * DAY;
      const created = await call("POST", "/api/tokens", { body: { name: "Q1 audit", password: PASSWORD, expiresAt: iso(at) } });
      expect(created.status).toBe(201);
      expect(created.json!.record).toMatchObject({ name: "Q1 audit", expiresAt: iso(at), expiryCause: "date" });
      expect((await mine())[0]).toMatchObject({ expiresAt: iso(at), expiryCause: "date" });
      expect((await w.kw.authorize(created.json!.token, "reports.export")).allowed).toBe(true);
      w.advance(10 * DAY);
      expect(await w.kw.authorize(created.json!.token, "reports.export")).toMatchObject({ allowed: false, reason: "token_expired" });
    });

    it("R19 a service token takes an expiry too", async () => {
      const at = w.clock.now + 30 * DAY;
      const created = await call("POST", `/api/service-users/${w.bot.id}/tokens`, { body: { name: "nightly", expiresAt: iso(at) } });
      expect(created.status).toBe(201);
      expect(created.json!.record).toMatchObject({ kind: "service_user", expiresAt: iso(at), expiryCause: "date" });
    });

    it.each([
      ["not a date", "next tuesday", "invalid_input", 400],
      ["a date without its offset", "2026-02-01T00:00:00", "invalid_input", 400],
      ["a date in the past", "2025-12-01T00:00:00Z", "invalid_input", 400],
    ])("R19 %s is refused with 400 invalid_input naming expiresAt, and creates nothing", async (_, expiresAt, code, status) => {
      const r = await call("POST", "/api/tokens", { body: { name: "x", password: PASSWORD, expiresAt } });
      expect(r.status).toBe(status);
      expect(problemOf(r)).toEqual({ type: "application/problem+json; charset=utf-8", code, field: "expiresAt" });
      expect(await mine()).toEqual([]);
    });

    it("R19 /api/me shows the policy; a required expiry missing, or one past the maximum, is 403 policy_violation naming expiresAt, before any password is checked", async () => {
      const policy = { maxLifetimeMs: { user: 30 * DAY, service_user: 90 * DAY }, requireExpiry: true };
      await w.kw.directory.setTokenPolicy({ orgId: "acme", policy });
      expect((await call("GET", "/api/me")).json!.organization.tokenPolicy).toEqual(policy);
      const missing = await call("POST", "/api/tokens", { body: { name: "x", password: "wrong" } });
      expect(missing.status).toBe(403);
      expect(problemOf(missing)).toMatchObject({ code: "policy_violation", field: "expiresAt" });
      const far = await call("POST", "/api/tokens", { body: { name: "x", password: PASSWORD, expiresAt: iso(w.clock.now + 31 * DAY) } });
      expect(problemOf(far)).toMatchObject({ code: "policy_violation", field: "expiresAt" });
      expect(far.json!.detail).toMatch(/30 days/);
      const ok = await call("POST", "/api/tokens", { body: { name: "x", password: PASSWORD, expiresAt: iso(w.clock.now + 29 * DAY) } });
      expect(ok.status).toBe(201);
      expect(await mine()).toHaveLength(1);
    });

    it("R19 an organization without user tokens refuses them with policy_violation naming kind", async () => {
      await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { userTokens: false } });
      const r = await call("POST", "/api/tokens", { body: { name: "x", password: PASSWORD } });
      expect(problemOf(r)).toMatchObject({ code: "policy_violation", field: "kind" });
    });
  });

  describe("R18 rotation with a grace period", () => {
    it("R18 /api/me says the grace cap (7 days by default)", async () => {
      expect((await call("GET", "/api/me")).json!.rotation).toEqual({ maxGraceMs: 7 * DAY });
    });

    it("R18 rotating one of mine answers the new secret once for the same token id; old and new both work during the grace, only the new one after", async () => {
      const created = await call("POST", "/api/tokens", { body: { name: "CI", password: PASSWORD } });
      const old = created.json!.token as string;
      const id = created.json!.record.id as string;
      const r = await call("POST", `/api/tokens/${id}/rotate`, { body: { password: PASSWORD, graceMs: HOUR } });
      expect(r.status).toBe(200);
      expect(r.res.headers.get("cache-control")).toBe("no-store");
      const fresh = r.json!.token as string;
      expect(fresh).toMatch(/^kwu_/);
      expect(fresh).not.toBe(old);
      expect(r.json!.record).toMatchObject({ id, name: "CI", rotatedAt: iso(w.clock.now), previousSecretUntil: iso(w.clock.now + HOUR) });
      const listed = await call("GET", "/api/tokens");
      expect(listed.json!.items[0]).toMatchObject({ id, previousSecretUntil: iso(w.clock.now + HOUR) });
      expect(listed.text).not.toContain(fresh);
      expect(listed.text).not.toContain(old);
      expect(await w.kw.authorize(old, "reports.export")).toMatchObject({ allowed: true, previousSecret: true });
      expect((await w.kw.authorize(fresh, "reports.export")).allowed).toBe(true);
      w.advance(HOUR);
      expect((await w.kw.authorize(old, "reports.export")).allowed).toBe(false);
      expect((await w.kw.authorize(fresh, "reports.export")).allowed).toBe(true);
      expect((await mine())[0]!.previousSecretUntil).toBeNull();
    });

    it("R18 without a grace the previous secret stops at once", async () => {
      const created = await call("POST", "/api/tokens", { body: { name: "CI", password: PASSWORD } });
      const r = await call("POST", `/api/tokens/${created.json!.record.id}/rotate`, { body: { password: PASSWORD } });
      expect(r.json!.record.previousSecretUntil).toBeNull();
      expect((await w.kw.authorize(created.json!.token, "reports.export")).allowed).toBe(false);
      expect((await w.kw.authorize(r.json!.token, "reports.export")).allowed).toBe(true);
    });

    it("R4 R18 a wrong or missing password is 403 reauthentication_failed naming password, and the secret is unchanged", async () => {
      const created = await call("POST", "/api/tokens", { body: { name: "CI", password: PASSWORD } });
      for (const body of [{ password: "hunter2" }, {}]) {
        const r = await call("POST", `/api/tokens/${created.json!.record.id}/rotate`, { body });
        expect(r.status).toBe(403);
        expect(problemOf(r)).toMatchObject({ code: "reauthentication_failed", field: "password" });
        expect(r.json!.detail).toMatch(/rotate the token/);
        expect(r.text).not.toContain("hunter2");
      }
      expect((await w.kw.authorize(created.json!.token, "reports.export")).allowed).toBe(true);
      expect((await mine())[0]!.rotatedAt).toBeNull();
    });

    it("R4 R18 an SSO-only organization rotates without a password", async () => {
      const created = await call("POST", "/api/tokens", { as: "u_sam", org: "sso", body: { name: "SSO" } });
      const r = await call("POST", `/api/tokens/${created.json!.record.id}/rotate`, { as: "u_sam", org: "sso", body: {} });
      expect(r.status).toBe(200);
    });

    it.each([
      ["past the cap", { password: PASSWORD, graceMs: 7 * DAY + 1 }],
      ["negative", { password: PASSWORD, graceMs: -1 }],
      ["not an integer", { password: PASSWORD, graceMs: 1.5 }],
      ["a string", { password: PASSWORD, graceMs: "1h" }],
    ])("R18 a grace %s is 400 invalid_input naming graceMs", async (_, body) => {
      const created = await call("POST", "/api/tokens", { body: { name: "CI", password: PASSWORD } });
      const r = await call("POST", `/api/tokens/${created.json!.record.id}/rotate`, { body });
      expect(r.status).toBe(400);
      expect(problemOf(r)).toMatchObject({ code: "invalid_input", field: "graceMs" });
    });

    it("R11 R18 another person's token is not found on my rotate endpoint; a revoked one is refused; CSRF applies", async () => {
      const ana = await w.userToken("u_ana");
      expect((await call("POST", `/api/tokens/${ana.record.id}/rotate`, { body: { password: PASSWORD } })).status).toBe(404);
      const created = await call("POST", "/api/tokens", { body: { name: "CI", password: PASSWORD } });
      const id = created.json!.record.id as string;
      expect((await call("POST", `/api/tokens/${id}/rotate`, { body: { password: PASSWORD }, headers: { [CSRF_HEADER]: "" } })).json!.code).toBe("csrf_rejected");
      await call("POST", `/api/tokens/${id}/revoke`);
      const r = await call("POST", `/api/tokens/${id}/rotate`, { body: { password: PASSWORD } });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect((await w.kw.authorize(created.json!.token, "reports.export")).allowed).toBe(false);
    });

    it("R11 R18 an administrator rotates a service token (no password); a member without the permission gets 403", async () => {
      const t = await w.serviceToken();
      const r = await call("POST", `/api/service-users/${w.bot.id}/tokens/${t.record.id}/rotate`, { body: { graceMs: DAY } });
      expect(r.status).toBe(200);
      expect(r.json!.token).toMatch(/^kws_/);
      expect(r.json!.record).toMatchObject({ id: t.record.id, previousSecretUntil: iso(w.clock.now + DAY) });
      expect((await w.kw.authorize(t.token, "reports.export")).allowed).toBe(true);
      const refused = await call("POST", `/api/service-users/${w.bot.id}/tokens/${t.record.id}/rotate`, { as: "u_ana", body: {} });
      expect(refused.status).toBe(403);
      expect(refused.json!.code).toBe("forbidden");
    });
  });

  describe("R20 what stops before a member or a service user is ended", () => {
    it("R20 GET /api/service-users/:id/removal lists its live tokens with their last use and clients; nothing changes", async () => {
      const t = await w.serviceToken(w.bot.id, "Power BI");
      w.advance(HOUR);
      await w.kw.authorize(t.token, "reports.export", undefined, { client: { ip: "203.0.113.7", userAgent: "PowerBI/2.1" } });
      // The use is recorded without holding up the decision: wait until the store has it.
      await expect.poll(async () => (await call("GET", `/api/service-users/${w.bot.id}/removal`)).json!.tokens[0].clients.length).toBe(1);
      const r = await call("GET", `/api/service-users/${w.bot.id}/removal`);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        subject: { kind: "service_user", id: w.bot.id, name: "BI export" },
        tokens: [{ id: t.record.id, kind: "service_user", name: "Power BI", lastUsedAt: iso(w.clock.now), clients: [{ ip: "203.0.113.7", userAgent: "PowerBI/2.1", lastSeenAt: iso(w.clock.now) }] }],
      });
      expect(r.text).not.toContain(t.token);
      expect((await w.kw.authorize(t.token, "reports.export")).allowed).toBe(true);
      expect((await call("GET", `/api/service-users/${w.bot.id}/removal`, { as: "u_ana" })).status).toBe(403);
    });

    it("R20 listings carry the clients a token was used from (opt-in tracking)", async () => {
      const t = await w.userToken("u_ada", "acme", "laptop");
      await w.kw.authorize(t.token, "reports.export", undefined, { client: { ip: "198.51.100.4", userAgent: "curl/8.5" } });
      // The use is recorded without holding up the decision: wait until the store has it.
      await expect.poll(async () => (await mine())[0]!.clients).toEqual([{ ip: "198.51.100.4", userAgent: "curl/8.5", lastSeenAt: iso(w.clock.now) }]);
    });

    describe("the member endpoints (members: true)", () => {
      let admin: ManagementRouter;
      beforeEach(() => {
        admin = routerOf(w.kw, true);
      });

      it("members: true without the instance's directory is refused at start-up (invalid_config naming options.members)", () => {
      const { directory: _, ...withoutDirectory } = w.kw;
      expect(() => managementRouter(withoutDirectory, { session: () => null, members: true })).toThrow(expect.objectContaining({ code: "invalid_config", field: "options.members" }));
    });

    it("R11 they do not exist without the option, and need api_tokens:manage with it; /api/me says so", async () => {
        expect((await call("GET", "/api/members")).status).toBe(404);
        expect((await call("GET", "/api/me")).json!.can.manageMembers).toBe(false);
        expect((await call("GET", "/api/me", { via: admin })).json!.can.manageMembers).toBe(true);
        expect((await call("GET", "/api/me", { via: admin, as: "u_ana" })).json!.can.manageMembers).toBe(false);
        for (const [method, path] of [["GET", "/api/members"], ["GET", "/api/members/u_bob/deactivation"], ["POST", "/api/members/u_bob/deactivate"], ["DELETE", "/api/members/u_bob"]] as const) {
          const r = await call(method, path, { via: admin, as: "u_ana" });
          expect(r.status, `${method} ${path}`).toBe(403);
          expect(r.json!.code).toBe("forbidden");
        }
        expect((await w.kw.directory.listMembers({ orgId: "acme" })).items.find((m) => m.user.id === "u_bob")!.membership.status).toBe("active");
      });

      it("R7 R20 preview then deactivate: the preview names the tokens that stop, the action ends exactly those and names the administrator", async () => {
        const ci = await w.userToken("u_ana", "acme", "CI");
        w.advance(2 * HOUR);
        await w.kw.authorize(ci.token, "reports.export");
        const laptop = await w.userToken("u_ana", "acme", "laptop");
        const list = await call("GET", "/api/members", { via: admin });
        expect(list.json!.items).toContainEqual({ id: "u_ana", name: "Ana Inspector", status: "active", self: false });
        expect(list.json!.items).toContainEqual({ id: "u_ada", name: "Ada Admin", status: "active", self: true });
        const preview = await call("GET", "/api/members/u_ana/deactivation", { via: admin });
        expect(preview.json!.subject).toEqual({ kind: "user", id: "u_ana", name: "Ana Inspector" });
        expect(preview.json!.tokens.map((t: { name: string }) => t.name).sort()).toEqual(["CI", "laptop"]);
        const ciUse = async () => (await call("GET", "/api/members/u_ana/deactivation", { via: admin })).json!.tokens.find((t: { name: string }) => t.name === "CI").lastUsedAt;
        await expect.poll(ciUse).toBe(iso(w.clock.now));
        expect((await w.kw.authorize(ci.token, "reports.export")).allowed).toBe(true);
        w.events.length = 0;
        const done = await call("POST", "/api/members/u_ana/deactivate", { via: admin });
        expect(done.status).toBe(204);
        for (const t of [ci, laptop]) expect((await w.kw.authorize(t.token, "reports.export")).allowed).toBe(false);
        const ended = w.events.find((e): e is Extract<KeywardEvent, { type: "subject.tokens_ended" }> => e.type === "subject.tokens_ended")!;
        expect(ended).toMatchObject({ actorId: "u_ada", cause: "deactivated", subject: { id: "u_ana" } });
        expect(ended.tokens.map((t) => t.id).sort()).toEqual([ci.record.id, laptop.record.id].sort());
      });

      it("R7 R20 preview then remove; an administrator cannot end themself here (400 naming userId)", async () => {
        const t = await w.userToken("u_bob", "acme", "export");
        const preview = await call("GET", "/api/members/u_bob/removal", { via: admin });
        expect(preview.json!.tokens).toEqual([{ id: t.record.id, kind: "user", name: "export", lastUsedAt: null, clients: [] }]);
        expect((await call("DELETE", "/api/members/u_bob", { via: admin })).status).toBe(204);
        const left = await w.kw.tokens.listOrganization({ orgId: "acme", actorId: "u_ada", status: "all" });
        expect(left.items.find((x) => x.id === t.record.id)!.status).toBe("subject_inactive");
        for (const [method, path] of [["POST", "/api/members/u_ada/deactivate"], ["DELETE", "/api/members/u_ada"]] as const) {
          const r = await call(method, path, { via: admin });
          expect(r.status).toBe(400);
          expect(problemOf(r)).toMatchObject({ code: "invalid_input", field: "userId" });
        }
      });

      it("R20 the preview of a user who is not a member is not_found", async () => {
        expect((await call("GET", "/api/members/u_nobody/deactivation", { via: admin })).status).toBe(404);
      });
    });
  });

  describe("R17 restricted tokens, previewed before the secret exists", () => {
    it("R17 the preview without a restriction is the caller's full reach; with one, it shrinks to it; nothing is created", async () => {
      const full = await call("POST", "/api/tokens/preview", { body: {} });
      expect(full.status).toBe(200);
      expect(full.json!.subject).toMatchObject({ kind: "user", id: "u_ada" });
      expect(full.json!.permissions).toContain("reports:export");
      expect(full.json!.itemTypes.map((t: { itemType: string }) => t.itemType)).toContain("inspection");
      const narrow = await call("POST", "/api/tokens/preview", { body: { restriction: { permissions: ["inspections:view"], maxLevel: "view" } } });
      expect(narrow.json!.permissions).toEqual(["inspections:view"]);
      expect(narrow.json!.actions).not.toContain("reports.export");
      expect(narrow.json!.actions).toContain("inspections.view");
      expect(await mine()).toEqual([]);
    });

    it("R17 a permission the caller does not hold is refused, in the preview and at creation, with permission_not_held naming restriction.permissions", async () => {
      const restriction = { permissions: ["reports:export"] };
      for (const [path, body] of [["/api/tokens/preview", { restriction }], ["/api/tokens", { name: "x", password: PASSWORD, restriction }]] as const) {
        const r = await call("POST", path, { as: "u_bob", body });
        expect(problemOf(r), path).toMatchObject({ code: "permission_not_held", field: "restriction.permissions" });
        expect(r.json!.status).toBe(r.status);
      }
      expect(await mine("u_bob")).toEqual([]);
    });

    it("R17 a restricted token is created with its restriction, listed with it, and denied (restricted) what it left out", async () => {
      const restriction = { permissions: ["inspections:view"], maxLevel: "view" };
      const created = await call("POST", "/api/tokens", { as: "u_ana", body: { name: "viewer", password: PASSWORD, restriction } });
      expect(created.status).toBe(201);
      expect(created.json!.record.restriction).toMatchObject(restriction);
      expect((await mine("u_ana"))[0]!.restriction).toMatchObject(restriction);
      expect(await w.kw.authorize(created.json!.token, "reports.export")).toMatchObject({ allowed: false, restricted: true });
    });

    it("R17 an administrator previews and creates a restricted service token; another member cannot preview it", async () => {
      const preview = await call("POST", `/api/service-users/${w.bot.id}/tokens/preview`, { body: { restriction: { permissions: ["inspections:view"] } } });
      expect(preview.status).toBe(200);
      expect(preview.json!.subject).toMatchObject({ kind: "service_user", id: w.bot.id });
      expect(preview.json!.permissions).toEqual(["inspections:view"]);
      const created = await call("POST", `/api/service-users/${w.bot.id}/tokens`, { body: { name: "read only", restriction: { permissions: ["inspections:view"] } } });
      expect(created.json!.record.restriction).toMatchObject({ permissions: ["inspections:view"] });
      expect((await call("POST", `/api/service-users/${w.bot.id}/tokens/preview`, { as: "u_ana", body: {} })).status).toBe(403);
    });

    it("R17 a malformed restriction is 400 invalid_input naming its field", async () => {
      const r = await call("POST", "/api/tokens/preview", { body: { restriction: { maxLevel: "owner" } } });
      expect(r.status).toBe(400);
      expect(problemOf(r)).toMatchObject({ code: "invalid_input" });
      expect(r.json!.field).toMatch(/^restriction/);
      expect((await call("POST", "/api/tokens/preview", { body: { restriction: "all" } })).json!.field).toBe("restriction");
    });
  });
});
