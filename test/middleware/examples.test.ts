/**
 * Smoke tests of the examples: each inspections app starts on a loopback port and answers a few
 * real requests as the story says; `npm run demo` runs to the end, exits 0, and never prints a
 * full token.
 */
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS, PASSWORDS, seedInspections } from "../../examples/inspections-api/seed.js";
import { createKeyward, tokenPattern } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { exampleStarters } from "../support/servers.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

async function setup() {
  const kw = createKeyward({ store: memoryStore(), actions: ACTIONS, verifyPassword: (u, p) => PASSWORDS.get(u) === p });
  const seeded = await seedInspections(kw);
  const ben = (await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: "t", password: PASSWORDS.get("u_ben")! })).token;
  const bot = (await kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: seeded.bi.id, name: "t", actorId: "u_ada" })).token;
  return { kw, db: seeded.db, ben, bot };
}

describe.each(Object.entries(exampleStarters))("examples/inspections-api on %s", (_name, start) => {
  let s: Awaited<ReturnType<typeof setup>>;
  let server: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    s = await setup();
    server = await start(s);
  });
  afterAll(async () => {
    await server?.close();
  });
  const get = (path: string, token?: string, method = "GET") =>
    fetch(`${server.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("Ben reads Oslo's inspection through his North region (R13), as himself", async () => {
    const r = await get("/inspections/insp_1042", s.ben);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: "insp_1042", actingAs: "Ben Berg" });
  });

  it("the service user reaches only what is shared with it (R13): the template yes, the inspection 404", async () => {
    expect((await get("/templates/tpl_safety", s.bot)).status).toBe(200);
    const r = await get("/inspections/insp_1042", s.bot);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ code: "not_found" });
  });

  it("Ben may not manage users (403 permission_denied); no token is 401 with the realm", async () => {
    expect(await (await get("/users", s.ben)).json()).toMatchObject({ code: "permission_denied", status: 403 });
    const r = await get("/assets/asset_forklift_7");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Bearer realm="inspections"');
  });

  it("R10 R12 the token management pages are mounted: Ben signs in (dev session), generates a token with his password, and the API accepts it as Ben", async () => {
    const login = await fetch(`${server.url}/settings/api-tokens/dev/login?as=ben`, { redirect: "manual" });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await fetch(`${server.url}/settings/api-tokens/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await (await fetch(`${server.url}/settings/api-tokens/api/me`, { headers: { cookie } })).json()).toMatchObject({ user: { id: "u_ben", name: "Ben Berg" } });
    const created = await fetch(`${server.url}/settings/api-tokens/api/tokens`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "x-keyward-csrf": "1", origin: server.url },
      body: JSON.stringify({ name: "from the page", password: PASSWORDS.get("u_ben") }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    expect(await (await get("/inspections/insp_1042", token)).json()).toMatchObject({ id: "insp_1042", actingAs: "Ben Berg" });
    expect((await fetch(`${server.url}/settings/api-tokens/api/tokens`)).status).toBe(401); // no session
  });

  it("a partner's private template is 404, like one that does not exist (R14)", async () => {
    expect((await get("/templates/tpl_partner_checklist", s.ben)).status).toBe(200);
    expect((await get("/templates/tpl_internal", s.ben)).status).toBe(404);
    expect((await get("/templates/tpl_nothing", s.ben)).status).toBe(404);
  });
});

describe("npm run demo", () => {
  it("plays the walkthrough over HTTP, ends at the management pages and prints their address, exits 0, and prints token hints only (R5)", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/inspections-api/walkthrough.ts"], { cwd: root, timeout: 30_000 });
    expect(stdout).toContain("$ curl -H 'Authorization: Bearer kwu_…");
    for (const status of ["200 OK", "401 Unauthorized", "403 Forbidden", "404 Not Found", "400 Bad Request", "204 No Content"]) expect(stdout).toContain(`HTTP/1.1 ${status}`);
    expect(stdout).toContain("token_limit_reached");
    // The list step: the same endpoint, two tokens, two different lists (R13).
    expect(stdout).toMatch(/\$API\/inspections {3}# Ben\nHTTP\/1\.1 200 OK\n\[\{"id":"insp_1042"[^\n]*\}\]\n/);
    expect(stdout).toMatch(/\$API\/inspections {3}# BI export\nHTTP\/1\.1 200 OK\n\[\{"id":"insp_1043"[^\n]*\}\]\n/);
    expect(stdout).toContain("Cleo Costa/\"Backup\" (inactivity)");
    // R18: the rotated service token's old secret works during its 1-day grace, and is unknown 2 days later; the new one works throughout.
    expect(stdout).toMatch(/# BI export, old secret\nHTTP\/1\.1 200 OK\n[^\n]*\n# the decision says so: previousSecret=true/);
    expect(stdout).toMatch(/# BI export, old secret\nHTTP\/1\.1 401 Unauthorized\n/);
    expect(stdout).toContain("1 token.rotated, 1 token.previous_secret_used");
    // R20: the sweep's warning, the preview, and the one notice of the deactivation.
    expect(stdout).toMatch(/token\.expiring[^\n]*Ben Berg · "Power BI \(new\)" · inactivity · expires [^\n]*the 3-day warning/);
    expect(stdout).toMatch(/previewDeactivation → 1 integration\(s\) stop: "Power BI \(new\)", used 28 days ago by Microsoft\.PowerBI\/2\.130/);
    expect(stdout).toMatch(/subject\.tokens_ended[^\n]*Ben Berg deactivated by u_ada: "Power BI \(new\)"/);
    // R17: the restricted token views, and its edit is 403 insufficient_scope with restricted.
    expect(stdout).toMatch(/\$API\/inspections\/insp_1042 {3}# Ben·Oslo dashboard\nHTTP\/1\.1 200 OK\n/);
    expect(stdout).toMatch(/-X PUT [^\n]*\$API\/inspections\/insp_1042 {3}# Ben·Oslo dashboard\nHTTP\/1\.1 403 Forbidden\nWWW-Authenticate: Bearer realm="inspections", error="insufficient_scope"\n\{"code":"permission_denied","title":"Permission denied","restricted":true\}/);
    expect(stdout).toMatch(/secrets in the activity log: none · on this screen: none/);
    expect(stdout).toContain("Token management page: http://127.0.0.1:8787/settings/api-tokens/");
    expect(stdout).toMatch(/\$ curl \$API\/settings\/api-tokens\/api\/tokens .*\nHTTP\/1\.1 401 Unauthorized/);
    expect(stdout).toMatch(/"owner":"Ben Berg","name":"Power BI","hint":"kwu_…/);
    expect(stdout.match(tokenPattern({ global: true })) ?? []).toEqual([]);
  });
});
