/**
 * The management router through `router.fetch(new Request(…))`: every endpoint, the error
 * mapping, CSRF refusals and permission refusals (R3, R4, R5, R10, R11).
 */
import { createServer } from "node:http";
import { Script } from "node:vm";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { KeywardError } from "../../src/index.js";
import { CSRF_HEADER, managementRouter, toNodeHandler, type ManagedKeyward, type ManagementRouter } from "../../src/manage/index.js";
import { PAGE_SCRIPT } from "../../src/manage/page-assets.js";
import { PASSWORD, world, type World } from "../core/fixture.js";

const ORIGIN = "http://app.test";
const BASE = "/settings/api-tokens";

let w: World;
let router: ManagementRouter;
let errors: unknown[];

beforeEach(async () => {
  w = await world();
  errors = [];
  router = managementRouter(w.kw, {
    basePath: BASE,
    // The host's session, for the tests: who is calling comes from two headers.
    session: (r) => {
      const userId = r.headers.get("x-test-user");
      return userId === null ? null : { userId, orgId: r.headers.get("x-test-org") ?? "acme" };
    },
    permissionSets: (orgId) => (orgId === "acme" ? [{ id: "ps_bot", name: "Bot" }] : []),
    onError: (e) => errors.push(e),
  });
});

interface Call {
  as?: string | null;
  org?: string;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: string;
}

/** A same-origin browser request, as the page sends it. */
function request(method: string, path: string, c: Call = {}): Request {
  const headers: Record<string, string> = {};
  if (c.as !== null) headers["x-test-user"] = c.as ?? "u_ada";
  if (c.org) headers["x-test-org"] = c.org;
  const unsafe = method !== "GET" && method !== "HEAD";
  if (unsafe) {
    headers["content-type"] = "application/json";
    headers[CSRF_HEADER] = "1";
    headers.origin = ORIGIN;
    headers["sec-fetch-site"] = "same-origin";
  }
  Object.assign(headers, c.headers);
  for (const [k, v] of Object.entries(headers)) if (v === "") delete headers[k];
  const body = unsafe ? (c.raw ?? JSON.stringify(c.body ?? {})) : undefined;
  return new Request(`${ORIGIN}${BASE}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

async function call(method: string, path: string, c: Call = {}) {
  const res = await router.fetch(request(method, path, c));
  const text = await res.text();
  const json = text === "" ? null : (JSON.parse(text) as Record<string, any>);
  return { res, status: res.status, json, text };
}

const generate = (name = "CI", c: Call = {}) => call("POST", "/api/tokens", { body: { name, password: PASSWORD }, ...c });

describe("my tokens (R10, R4, R5)", () => {
  it("R10 lists the caller's own tokens with name, hint, created, last used and inactivity expiry, and nobody else's", async () => {
    await w.userToken("u_ada", "acme", "laptop");
    await w.userToken("u_ana", "acme", "ana's");
    const { status, json, res } = await call("GET", "/api/tokens");
    expect(status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(json!.items).toHaveLength(1);
    const t = json!.items[0];
    expect(t).toEqual({
      id: expect.stringMatching(/^tok_/),
      kind: "user",
      name: "laptop",
      hint: expect.stringMatching(/^kwu_/),
      owner: { id: "u_ada", name: "Ada Admin" },
      status: "active",
      createdAt: new Date(w.clock.now).toISOString(),
      createdBy: "u_ada",
      lastUsedAt: null,
      expiresAt: new Date(w.clock.now + 30 * 86_400_000).toISOString(),
      expiryCause: "inactivity",
      restriction: null,
      rotatedAt: null,
      previousSecretUntil: null,
      clients: [],
    });
  });

  it("R5 generating returns the secret once (201, Cache-Control: no-store); the listing never carries it", async () => {
    const { status, json, res } = await generate("CI");
    expect(status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(json!.token).toMatch(/^kwu_/);
    expect(json!.record).toMatchObject({ name: "CI", status: "active" });
    expect((await w.kw.authorize(json!.token, "reports.export")).allowed).toBe(true);
    const list = await call("GET", "/api/tokens");
    expect(list.text).not.toContain(json!.token);
    expect(list.text).not.toContain("hash");
  });

  it.each([
    ["a wrong password", { name: "CI", password: "hunter2" }],
    ["no password", { name: "CI" }],
    ["an empty password", { name: "CI", password: "" }],
  ])("R4 %s is refused with 403 reauthentication_failed naming the password field, and creates nothing", async (_, body) => {
    const { status, json, text } = await call("POST", "/api/tokens", { body });
    expect(status).toBe(403);
    expect(json).toMatchObject({ code: "reauthentication_failed", field: "password", status: 403 });
    expect(text).not.toContain("hunter2");
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ada" })).items).toEqual([]);
  });

  it("R4 an SSO-only organization generates without a password", async () => {
    const me = await call("GET", "/api/me", { as: "u_sam", org: "sso" });
    expect(me.json!.organization).toEqual({ id: "sso", name: "SSO Only Ltd", ssoOnly: true, tokenPolicy: null });
    const { status, json } = await call("POST", "/api/tokens", { as: "u_sam", org: "sso", body: { name: "SSO laptop" } });
    expect(status).toBe(201);
    expect((await w.kw.login(json!.token)).subject.id).toBe("u_sam");
  });

  it("R3 the 11th active token is refused with 409 token_limit_reached and a message a person can act on", async () => {
    for (let i = 1; i <= 10; i++) expect((await generate(`t${i}`)).status).toBe(201);
    const { status, json } = await generate("t11");
    expect(status).toBe(409);
    expect(json).toMatchObject({ code: "token_limit_reached", limit: 10 });
    expect(json!.detail).toMatch(/^You have reached the limit of 10 active tokens/);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ada" })).items).toHaveLength(10);
  });

  it.each([
    ["no name", { password: PASSWORD }, "name"],
    ["a blank name", { name: "   ", password: PASSWORD }, "name"],
    ["a name with a control character", { name: "a\u0000b", password: PASSWORD }, "name"],
    ["a name that is not a string", { name: 42, password: PASSWORD }, "name"],
    ["an unknown field", { name: "x", password: PASSWORD, orgId: "beta" }, ""],
  ])("refuses %s with 400 invalid_input naming the field", async (_, body, field) => {
    const { status, json } = await call("POST", "/api/tokens", { body });
    expect(status).toBe(400);
    expect(json!.code).toBe("invalid_input");
    if (field) expect(json!.field).toBe(field);
  });

  it("refuses a body that is not JSON with 400 invalid_input on the body", async () => {
    const { status, json } = await call("POST", "/api/tokens", { raw: "{name:" });
    expect(status).toBe(400);
    expect(json).toMatchObject({ code: "invalid_input", field: "body" });
  });

  it("R11 revoking one of mine answers 204 and the next request with it is refused", async () => {
    const { token, record } = await w.userToken("u_ada");
    const { status } = await call("POST", `/api/tokens/${record.id}/revoke`);
    expect(status).toBe(204);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_revoked");
    const list = await call("GET", "/api/tokens");
    expect(list.json!.items[0].status).toBe("revoked");
  });

  it("R11 revoking somebody else's token answers 404 (nothing leaks) and leaves it working", async () => {
    const { token, record } = await w.userToken("u_ana");
    const { status, json } = await call("POST", `/api/tokens/${record.id}/revoke`);
    expect(status).toBe(404);
    expect(json!.code).toBe("not_found");
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });
});

describe("the administrator's API tokens (R11)", () => {
  it("R11 lists every user token of the organization with its owner and last use", async () => {
    await w.userToken("u_ada", "acme", "ada's");
    const { token } = await w.userToken("u_ana", "acme", "ana's");
    w.advance(60_000);
    await w.kw.authorize(token, "reports.export");
    await w.userToken("u_bea", "beta", "beta's");
    const { status, json } = await call("GET", "/api/organization/tokens");
    expect(status).toBe(200);
    const byName = Object.fromEntries(json!.items.map((t: any) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(["ada's", "ana's"]);
    expect(byName["ana's"].owner).toEqual({ id: "u_ana", name: "Ana Inspector" });
    expect(byName["ana's"].lastUsedAt).toBe(new Date(w.clock.now).toISOString());
  });

  it("R11 deleting a user's token answers 204; that integration is refused and the token leaves the listing", async () => {
    const { token, record } = await w.userToken("u_ana");
    const { status } = await call("DELETE", `/api/organization/tokens/${record.id}`);
    expect(status).toBe(204);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(false);
    expect((await call("GET", "/api/organization/tokens")).json!.items).toEqual([]);
  });

  it("R11 a service token cannot be deleted through the user-token endpoint (404)", async () => {
    const { token, record } = await w.serviceToken();
    expect((await call("DELETE", `/api/organization/tokens/${record.id}`)).status).toBe(404);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R11 a non-administrator probing the user-token delete with a service token id gets 403, not 404 (nothing learnt)", async () => {
    const { record } = await w.serviceToken();
    expect((await call("DELETE", `/api/organization/tokens/${record.id}`, { as: "u_ana" })).status).toBe(403);
  });

  it("R11 another organization's token is not found", async () => {
    const { token, record } = await w.userToken("u_bea", "beta");
    expect((await call("DELETE", `/api/organization/tokens/${record.id}`)).status).toBe(404);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R11 /api/me says what the caller may manage", async () => {
    expect((await call("GET", "/api/me")).json!.can).toEqual({ manageTokens: true, manageServiceUsers: true, manageMembers: false });
    expect((await call("GET", "/api/me", { as: "u_ana" })).json!.can).toEqual({ manageTokens: false, manageServiceUsers: false, manageMembers: false });
  });
});

describe("service users and their tokens (R1, R3, R8, R11)", () => {
  it("R11 lists service users, each with its tokens", async () => {
    await w.serviceToken(w.bot.id, "nightly");
    const { status, json } = await call("GET", "/api/service-users");
    expect(status).toBe(200);
    expect(json!.serviceUsers).toHaveLength(1);
    expect(json!.serviceUsers[0]).toMatchObject({ id: "svc_bi", name: "BI export", permissionSetId: "ps_bot" });
    expect(json!.serviceUsers[0].tokens.map((t: any) => [t.name, t.kind, t.expiresAt])).toEqual([["nightly", "service_user", null]]);
  });

  it("R11 creates a service user, generates its token once (no-store), revokes and deletes tokens, deletes it", async () => {
    const created = await call("POST", "/api/service-users", { body: { name: "Zapier", permissionSetId: "ps_bot" } });
    expect(created.status).toBe(201);
    const suId = created.json!.serviceUser.id as string;
    const t1 = await call("POST", `/api/service-users/${suId}/tokens`, { body: { name: "zap 1" } });
    expect(t1.status).toBe(201);
    expect(t1.res.headers.get("cache-control")).toBe("no-store");
    expect(t1.json!.token).toMatch(/^kws_/);
    const t2 = await call("POST", `/api/service-users/${suId}/tokens`, { body: { name: "zap 2" } });
    expect((await w.kw.authorize(t1.json!.token, "reports.export")).allowed).toBe(true);

    const list = await call("GET", `/api/service-users/${suId}/tokens`);
    expect(list.json!.items.map((t: any) => t.name).sort()).toEqual(["zap 1", "zap 2"]);
    expect(list.text).not.toContain(t1.json!.token);

    expect((await call("POST", `/api/service-users/${suId}/tokens/${t1.json!.record.id}/revoke`)).status).toBe(204);
    expect((await w.kw.authorize(t1.json!.token, "reports.export")).reason).toBe("token_revoked");
    expect((await call("DELETE", `/api/service-users/${suId}/tokens/${t1.json!.record.id}`)).status).toBe(204);
    expect((await call("GET", `/api/service-users/${suId}/tokens`)).json!.items.map((t: any) => t.name)).toEqual(["zap 2"]);

    expect((await call("DELETE", `/api/service-users/${suId}`)).status).toBe(204);
    expect((await w.kw.authorize(t2.json!.token, "reports.export")).allowed).toBe(false);
    expect((await call("GET", "/api/service-users")).json!.serviceUsers.map((s: any) => s.id)).toEqual(["svc_bi"]);
  });

  it("R11 a token is acted on only under its own service user (404 otherwise)", async () => {
    const other = await w.kw.serviceUsers.create({ orgId: "acme", name: "Other", actorId: "u_ada" });
    const { token, record } = await w.serviceToken();
    expect((await call("POST", `/api/service-users/${other.id}/tokens/${record.id}/revoke`)).status).toBe(404);
    expect((await call("DELETE", `/api/service-users/${other.id}/tokens/${record.id}`)).status).toBe(404);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R3 the 21st active service token of the organization is refused with 409 and the organization's limit", async () => {
    for (let i = 1; i <= 20; i++) expect((await call("POST", "/api/service-users/svc_bi/tokens", { body: { name: `s${i}` } })).status).toBe(201);
    const { status, json } = await call("POST", "/api/service-users/svc_bi/tokens", { body: { name: "s21" } });
    expect(status).toBe(409);
    expect(json).toMatchObject({ code: "token_limit_reached", limit: 20 });
    expect(json!.detail).toMatch(/limit of 20 active service user tokens/);
  });

  it("R11 an unknown service user is 404; a permission set the page does not offer (here: of another organization) is 400 naming the field (issue 11 #1)", async () => {
    expect((await call("POST", "/api/service-users/svc_nope/tokens", { body: { name: "x" } })).status).toBe(404);
    const bad = await call("POST", "/api/service-users", { body: { name: "X", permissionSetId: "ps_beta_admin" } });
    expect(bad.status).toBe(400);
    expect(bad.json!.field).toBe("permissionSetId");
  });

  it("offers the host's permission sets to administrators", async () => {
    expect((await call("GET", "/api/permission-sets")).json).toEqual({ permissionSets: [{ id: "ps_bot", name: "Bot" }] });
  });
});

describe("permission refusals (R11, R12)", () => {
  const adminOnly: [string, string, unknown?][] = [
    ["GET", "/api/organization/tokens"],
    ["DELETE", "/api/organization/tokens/TOKEN"],
    ["GET", "/api/service-users"],
    ["POST", "/api/service-users", { name: "Sneaky" }],
    ["DELETE", "/api/service-users/svc_bi"],
    ["GET", "/api/service-users/svc_bi/tokens"],
    ["POST", "/api/service-users/svc_bi/tokens", { name: "sneaky" }],
    ["POST", "/api/service-users/svc_bi/tokens/SVCTOKEN/revoke"],
    ["DELETE", "/api/service-users/svc_bi/tokens/SVCTOKEN"],
    ["GET", "/api/permission-sets"],
  ];
  it.each(adminOnly)("R11 %s %s is 403 forbidden for a member without the management permission, and changes nothing", async (method, path, body) => {
    const user = await w.userToken("u_ada");
    const svc = await w.serviceToken();
    const p = path.replace("SVCTOKEN", svc.record.id).replace("TOKEN", user.record.id);
    for (const as of ["u_ana", "u_carl"]) {
      const { status, json } = await call(method, p, { as, body });
      expect(status).toBe(403);
      expect(json!.code).toBe("forbidden");
    }
    expect((await w.kw.authorize(user.token, "reports.export")).allowed).toBe(true);
    expect((await w.kw.authorize(svc.token, "reports.export")).allowed).toBe(true);
    expect((await w.kw.serviceUsers.list({ orgId: "acme", actorId: "u_ada" })).map((s) => s.name)).toEqual(["BI export"]);
  });

  it("R11 the administrator of another organization cannot reach this one's tokens (session org decides)", async () => {
    const { token, record } = await w.userToken("u_ana");
    const { status } = await call("DELETE", `/api/organization/tokens/${record.id}`, { as: "u_bea", org: "beta" });
    expect(status).toBe(404);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R7 a deactivated member can neither list nor generate", async () => {
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: "u_ana" });
    expect((await call("POST", "/api/tokens", { as: "u_ana", body: { name: "x", password: PASSWORD } })).status).toBe(403);
  });

  it("without a session every API route is 401 session_required", async () => {
    for (const [method, path] of [["GET", "/api/me"], ["GET", "/api/tokens"], ["POST", "/api/tokens"]] as const) {
      const { status, json } = await call(method, path, { as: null, body: { name: "x", password: PASSWORD } });
      expect(status).toBe(401);
      expect(json!.code).toBe("session_required");
    }
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ada" })).items).toEqual([]);
  });
});

describe("CSRF: state-changing requests must be same-origin JSON with the custom header", () => {
  const body = { name: "CI", password: PASSWORD };
  it.each([
    ["a form content type", { "content-type": "application/x-www-form-urlencoded" }, 415, "unsupported_media_type"],
    ["text/plain (a no-preflight fetch)", { "content-type": "text/plain" }, 415, "unsupported_media_type"],
    ["no content type", { "content-type": "" }, 415, "unsupported_media_type"],
    ["no custom header", { [CSRF_HEADER]: "" }, 403, "csrf_rejected"],
    ["another Origin", { origin: "http://evil.test" }, 403, "csrf_rejected"],
    ["a null Origin", { origin: "null" }, 403, "csrf_rejected"],
    ["Sec-Fetch-Site cross-site without Origin", { origin: "", "sec-fetch-site": "cross-site" }, 403, "csrf_rejected"],
    ["Sec-Fetch-Site same-site without Origin", { origin: "", "sec-fetch-site": "same-site" }, 403, "csrf_rejected"],
  ])("refuses %s and creates nothing", async (_, headers, status, code) => {
    const r = await call("POST", "/api/tokens", { body, headers });
    expect(r.status).toBe(status);
    expect(r.json!.code).toBe(code);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ada" })).items).toEqual([]);
  });

  it("refuses a cross-origin revoke and deletion too", async () => {
    const { token, record } = await w.userToken("u_ana");
    const mine = await w.userToken("u_ada");
    expect((await call("DELETE", `/api/organization/tokens/${record.id}`, { headers: { origin: "http://evil.test" } })).status).toBe(403);
    expect((await call("POST", `/api/tokens/${mine.record.id}/revoke`, { headers: { origin: "http://evil.test" } })).status).toBe(403);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    expect((await w.kw.authorize(mine.token, "reports.export")).allowed).toBe(true);
  });

  it("accepts a non-browser client (no Origin, no Sec-Fetch-Site) that sends JSON and the header", async () => {
    expect((await call("POST", "/api/tokens", { body, headers: { origin: "", "sec-fetch-site": "" } })).status).toBe(201);
  });

  it("accepts an origin listed in allowedOrigins", async () => {
    router = managementRouter(w.kw, { basePath: BASE, session: () => ({ orgId: "acme", userId: "u_ada" }), allowedOrigins: ["https://admin.app.test"] });
    expect((await call("POST", "/api/tokens", { body, headers: { origin: "https://admin.app.test" } })).status).toBe(201);
    expect((await call("POST", "/api/tokens", { body, headers: { origin: "https://other.app.test" } })).status).toBe(403);
  });

  it("a GET never changes anything: POST-only routes answer 405 with Allow", async () => {
    const { res, json } = await call("GET", "/api/tokens/tok_x/revoke");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(json!.code).toBe("method_not_allowed");
  });
});

describe("R5 no secret outside its creation response", () => {
  it("R5 a canary secret appears in no listing, no error and nothing reported to onError", async () => {
    const mine = await generate("canary");
    const svc = await call("POST", "/api/service-users/svc_bi/tokens", { body: { name: "canary bot" } });
    const secrets = [mine.json!.token as string, svc.json!.token as string];
    const bodies: string[] = [];
    for (const [method, path, body] of [
      ["GET", "/api/me"],
      ["GET", "/api/tokens"],
      ["GET", "/api/organization/tokens"],
      ["GET", "/api/service-users"],
      ["GET", "/api/service-users/svc_bi/tokens"],
      ["POST", "/api/tokens", { name: secrets[0], password: "wrong" }],
      ["POST", "/api/tokens", { name: "x", password: secrets[0] }],
      ["POST", `/api/tokens/${secrets[0]}/revoke`],
      ["DELETE", `/api/organization/tokens/${secrets[1]}`],
    ] as [string, string, unknown?][]) {
      bodies.push((await call(method, path, { body })).text);
    }
    const all = bodies.join("\n") + JSON.stringify(errors);
    for (const secret of secrets) expect(all).not.toContain(secret);
    expect(bodies.join("")).toContain("canary bot");
  });
});

describe("failures and edges", () => {
  it("a host without verifyPassword gets 500 invalid_config (reported to onError), not a token", async () => {
    const bare = await world({ verifyPassword: undefined });
    // world() always installs a password check; build a keyward whose options lack it.
    const { createKeyward } = await import("../../src/index.js");
    const kw = createKeyward({ store: bare.store, actions: {} });
    router = managementRouter(kw, { session: () => ({ orgId: "acme", userId: "u_ada" }), onError: (e) => errors.push(e) });
    const r = await router.fetch(
      new Request(`${ORIGIN}/api/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", [CSRF_HEADER]: "1", origin: ORIGIN },
        body: JSON.stringify({ name: "x", password: PASSWORD }),
      }),
    );
    expect(r.status).toBe(500);
    expect((await r.json()).code).toBe("invalid_config");
    expect(errors).toHaveLength(1);
    expect((await kw.tokens.listMine({ orgId: "acme", userId: "u_ada" })).items).toEqual([]);
  });

  it("accepts any keyward instance, whatever its actions (types)", () => {
    expectTypeOf(w.kw).toExtend<ManagedKeyward>();
    expectTypeOf(managementRouter(w.kw, { session: () => null }).fetch).returns.resolves.toEqualTypeOf<Response>();
  });

  it("a failing store answers 503 unavailable with Retry-After, reported to onError (every 5xx is)", async () => {
    (w.store as { pageTokens: unknown }).pageTokens = () => Promise.reject(new Error("connection refused: password=secret"));
    const { res, json, text } = await call("GET", "/api/tokens");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(json!.code).toBe("unavailable");
    expect(text).not.toContain("connection refused");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "unavailable" });
  });

  it("a caller's error (4xx) is not reported to onError", async () => {
    expect((await call("DELETE", "/api/organization/tokens/tok_nope")).status).toBe(404);
    expect((await call("DELETE", "/api/organization/tokens/tok_nope", { as: "u_ana" })).status).toBe(403);
    expect((await call("POST", "/api/tokens", { raw: "{" })).status).toBe(400);
    expect(errors).toEqual([]);
  });

  it("a throwing session hook is a 500 internal_error with a generic message, reported to onError", async () => {
    router = managementRouter(w.kw, {
      session: () => {
        throw new Error("db down");
      },
      onError: (e) => errors.push(e),
    });
    const r = await router.fetch(new Request(`${ORIGIN}/api/tokens`));
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(JSON.parse(text).code).toBe("internal_error");
    expect(text).not.toContain("db down");
    expect(errors).toHaveLength(1);
  });

  it("paths outside basePath and unknown paths are 404 problems", async () => {
    expect((await router.fetch(new Request(`${ORIGIN}/elsewhere/api/tokens`))).status).toBe(404);
    expect((await call("GET", "/api/nope")).status).toBe(404);
    expect((await call("GET", "/nope")).status).toBe(404);
  });

  it("rejects a body larger than maxBodyBytes with 413", async () => {
    const r = await call("POST", "/api/tokens", { raw: JSON.stringify({ name: "x".repeat(20_000), password: PASSWORD }) });
    expect(r.status).toBe(413);
    expect(r.json!.code).toBe("payload_too_large");
  });

  it("invalid options are invalid_config naming the field", () => {
    expect(() => managementRouter(w.kw, {} as never)).toThrow(KeywardError);
    try {
      managementRouter(w.kw, { session: () => null, basePath: "no-slash" });
    } catch (e) {
      expect((e as KeywardError).code).toBe("invalid_config");
      expect((e as KeywardError).field).toBe("options.basePath");
    }
  });
});

describe("the pages", () => {
  it.each([["/", "My API tokens", "mine"], ["/admin", "API tokens", "admin"]])("GET %s serves the page with a strict CSP, no inline script", async (path, title, page) => {
    const r = await router.fetch(new Request(`${ORIGIN}${BASE}${path}`));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    const html = await r.text();
    expect(html).toContain(`<title>${title}</title>`);
    expect(html).toContain(`data-page="${page}"`);
    expect(html).toContain(`src="${BASE}/assets/manage.js"`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
  });

  it("serves the script and stylesheet; the script is valid JavaScript", async () => {
    const js = await router.fetch(new Request(`${ORIGIN}${BASE}/assets/manage.js`));
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await js.text()).toBe(PAGE_SCRIPT);
    expect(() => new Script(PAGE_SCRIPT)).not.toThrow();
    expect((await router.fetch(new Request(`${ORIGIN}${BASE}/assets/manage.css`))).status).toBe(200);
    expect((await router.fetch(new Request(`${ORIGIN}${BASE}/assets/other.js`))).status).toBe(404);
  });

  it("pages: false serves the JSON endpoints only", async () => {
    router = managementRouter(w.kw, { session: () => ({ orgId: "acme", userId: "u_ada" }), pages: false });
    expect((await router.fetch(new Request(`${ORIGIN}/`))).status).toBe(404);
    expect((await router.fetch(new Request(`${ORIGIN}/api/tokens`))).status).toBe(200);
  });
});

describe("toNodeHandler", () => {
  let server: ReturnType<typeof createServer> | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(): Promise<string> {
    server = createServer(toNodeHandler(router));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const a = server.address() as { port: number };
    return `http://127.0.0.1:${a.port}`;
  }

  it("serves the router over node:http: a same-origin POST creates a token; a cross-origin one is refused", async () => {
    const origin = await serve();
    const headers = { "content-type": "application/json", [CSRF_HEADER]: "1", "x-test-user": "u_ada", origin };
    const ok = await fetch(`${origin}${BASE}/api/tokens`, { method: "POST", headers, body: JSON.stringify({ name: "node", password: PASSWORD }) });
    expect(ok.status).toBe(201);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(((await ok.json()) as { token: string }).token).toMatch(/^kwu_/);
    const evil = await fetch(`${origin}${BASE}/api/tokens`, { method: "POST", headers: { ...headers, origin: "http://evil.test" }, body: "{}" });
    expect(evil.status).toBe(403);
    const head = await fetch(`${origin}${BASE}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("keeps several Set-Cookie headers apart and refuses an oversized body with 413", async () => {
    router = {
      basePath: "",
      fetch: async (r) => {
        const h = new Headers();
        h.append("set-cookie", "a=1");
        h.append("set-cookie", "b=2");
        return new Response(await r.text(), { headers: h });
      },
    };
    const origin = await serve();
    const r = await fetch(origin, { method: "POST", body: "hello" });
    expect(r.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await r.text()).toBe("hello");
    server!.close();
    server = createServer(toNodeHandler(router, { maxBodyBytes: 10 }));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const big = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { method: "POST", body: "x".repeat(100) });
    expect(big.status).toBe(413);
  });
});

describe("listings page through the query string (issue 11 finding 6)", () => {
  it("R11 GET /api/organization/tokens takes limit, cursor, status, search, sort and order, and answers { items, nextCursor, total }", async () => {
    for (const [user, name] of [["u_ana", "alpha"], ["u_ana", "beta"], ["u_bob", "gamma"]] as const) {
      await w.kw.tokens.createUserToken({ orgId: "acme", userId: user, name, password: PASSWORD });
      w.advance(1000);
    }
    const first = await call("GET", "/api/organization/tokens?limit=2&order=desc");
    expect(first.status).toBe(200);
    expect(first.json!.total).toBe(3);
    expect(first.json!.items.map((t: { name: string }) => t.name)).toEqual(["gamma", "beta"]);
    const second = await call("GET", `/api/organization/tokens?limit=2&order=desc&cursor=${first.json!.nextCursor}`);
    expect(second.json).toMatchObject({ items: [{ name: "alpha" }], nextCursor: null, total: 3 });
    const bob = await call("GET", `/api/organization/tokens?search=${encodeURIComponent(w.users.bob.name.toLowerCase())}`);
    expect(bob.json!.items.map((t: { name: string }) => t.name)).toEqual(["gamma"]);
    const revoked = await call("GET", "/api/organization/tokens?status=revoked,deleted");
    expect(revoked.json).toEqual({ items: [], nextCursor: null, total: 0 });
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=ten", "limit"],
    ["status=gone", "status"],
    ["sort=name", "sort"],
    ["cursor=%%%", "cursor"],
  ])("a bad listing parameter (%s) is 400 invalid_input naming %s", async (q, field) => {
    const { status, json } = await call("GET", `/api/tokens?${q}`);
    expect(status).toBe(400);
    expect(json!.code).toBe("invalid_input");
    expect(String(json!.field)).toContain(field);
  });

  it("GET /api/me tells the page the R3 limit, so it can say \"3 of 10 active tokens\"", async () => {
    expect((await call("GET", "/api/me")).json!.limits).toEqual({ userTokens: 10 });
  });
});
