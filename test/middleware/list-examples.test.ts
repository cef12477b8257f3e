/**
 * The example API's list endpoints over real sockets, on Express, Fastify and Hono: each list
 * answers exactly the rows `authorize()` allows one by one (R12–R14), from ONE `accessible()`
 * call; refusals are the item guards' own answers (R15: 401 for a revoked or expired token, 403
 * without the permission, 503 when the store fails); and the administrator's reach endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS, PASSWORDS, seedInspections, type Action } from "../../examples/inspections-api/seed.js";
import { createKeyward, type KeywardEvent, type KeywardStore } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { exampleStarters } from "../support/servers.js";

const DAY = 86_400_000;
const passwords = new Map([...PASSWORDS, ["u_gus", "globex gus"], ["u_dan", "dan dan"]]);

/** A memory store that counts its reads and can be switched off (503). */
function countingStore() {
  const inner = memoryStore();
  const state = { down: false, loadAccess: 0, loadDecision: 0 };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "loadAccess" || prop === "loadDecision") {
          state[prop]++;
          if (state.down) return Promise.reject(new Error("ECONNREFUSED 10.0.0.7:5432 password=hunter2"));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as KeywardStore;
  return { store, state };
}

async function setup() {
  let now = Date.UTC(2026, 10, 2, 9, 0);
  const events: KeywardEvent[] = [];
  const { store, state } = countingStore();
  const kw = createKeyward({ store, clock: () => now, actions: ACTIONS, verifyPassword: (u, p) => passwords.get(u) === p, onEvent: (e) => events.push(e) });
  const seeded = await seedInspections(kw);
  const { db, acme, globex, bi } = seeded;
  const d = kw.directory;
  // Gus works at Globex; Acme shares its Oslo inspection with all of Globex (R14).
  const globexStaff = await d.createPermissionSet({ id: "ps_globex", orgId: globex.id, name: "Partner staff", permissions: ["templates:view", "inspections:view", "assets:view"] });
  await d.upsertUser({ id: "u_gus", name: "Gus Globex" });
  await d.addMember({ orgId: globex.id, userId: "u_gus", permissionSetId: globexStaff.id });
  await d.share({ item: { orgId: acme.id, type: "inspection", id: "insp_1042" }, grantee: { kind: "organization", orgId: globex.id }, level: "view" });
  // Dan may view templates only.
  const templatesOnly = await d.createPermissionSet({ id: "ps_templates", orgId: acme.id, name: "Templates only", permissions: ["templates:view"] });
  await d.upsertUser({ id: "u_dan", name: "Dan Dahl" });
  await d.addMember({ orgId: acme.id, userId: "u_dan", permissionSetId: templatesOnly.id, siteIds: ["site_oslo"] });

  const user = async (userId: string, orgId = acme.id, name = "t") => kw.tokens.createUserToken({ orgId, userId, name, password: passwords.get(userId)! });
  const expired = (await user("u_cleo", acme.id, "old laptop")).token;
  now += 31 * DAY; // never used: expired from inactivity (R6)
  const revoked = await user("u_ben", acme.id, "revoked");
  await kw.tokens.revoke({ orgId: acme.id, tokenId: revoked.record.id, actorId: "u_ben" });
  const ben = await user("u_ben");
  const tokens = {
    ben: ben.token,
    cleo: (await user("u_cleo")).token,
    ada: (await user("u_ada")).token,
    gus: (await user("u_gus", globex.id)).token,
    dan: (await user("u_dan")).token,
    bot: (await kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "t", actorId: "u_ada" })).token,
    revoked: revoked.token,
    expired,
  };
  return { kw, db, state, events, tokens, benTokenId: ben.record.id };
}
type World = Awaited<ReturnType<typeof setup>>;

const LISTS = [
  { path: "/templates", action: "templates.view", type: "template", item: "/templates/tpl_safety" },
  { path: "/inspections", action: "inspections.view", type: "inspection", item: "/inspections/insp_1042" },
  { path: "/assets", action: "assets.view", type: "asset", item: "/assets/asset_forklift_7" },
] as const satisfies readonly { path: string; action: Action; type: string; item: string }[];

describe.each(Object.entries(exampleStarters))("examples/inspections-api list endpoints on %s", (_name, start) => {
  let s: World;
  let server: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    s = await setup();
    server = await start(s);
  });
  afterAll(async () => {
    await server?.close();
  });
  const get = async (path: string, token?: string) => {
    const r = await fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await r.text();
    return { status: r.status, text, json: text === "" ? null : (JSON.parse(text) as unknown), www: r.headers.get("www-authenticate"), retry: r.headers.get("retry-after"), type: r.headers.get("content-type") };
  };
  /** The ids authorize() allows one item at a time, over every row of the host's table. */
  const allowedIds = async (token: string, action: Action, type: "template" | "inspection" | "asset") => {
    const table = type === "template" ? s.db.templates : type === "inspection" ? s.db.inspections : s.db.assets;
    const ids: string[] = [];
    for (const id of table.keys()) if ((await s.kw.authorize(token, action, s.db.ref(type, id))).allowed) ids.push(id);
    return ids.sort();
  };
  const listedIds = async (path: string, token: string) => {
    const r = await get(path, token);
    expect(r.status).toBe(200);
    return (r.json as { id: string }[]).map((row) => row.id).sort();
  };

  it.each(["ben", "cleo", "ada", "bot", "gus"] as const)("R13 R14: every list for %s's token is exactly the rows authorize() allows one by one", async (who) => {
    for (const list of LISTS) {
      expect(await listedIds(list.path, s.tokens[who]), `${who} ${list.path}`).toEqual(await allowedIds(s.tokens[who], list.action, list.type));
    }
  });

  it("R13: the lists tell the story — a user through his group, site and a partner's share; a service user through its own shares only", async () => {
    expect(await listedIds("/templates", s.tokens.ben)).toEqual(["tpl_partner_checklist", "tpl_safety"]);
    expect(await listedIds("/inspections", s.tokens.ben)).toEqual(["insp_1042"]);
    expect(await listedIds("/assets", s.tokens.ben)).toEqual(["asset_forklift_7"]);
    // Groups, sites and organization-wide shares without includeServiceUsers give a service user nothing (R9).
    expect(await listedIds("/templates", s.tokens.bot)).toEqual(["tpl_safety"]);
    expect(await listedIds("/inspections", s.tokens.bot)).toEqual(["insp_1043"]);
    expect(await listedIds("/assets", s.tokens.bot)).toEqual([]);
  });

  it("R14: a cross-organization share lists the other organization's row and nothing else of it", async () => {
    expect(await listedIds("/inspections", s.tokens.gus)).toEqual(["insp_1042"]);
    expect(await listedIds("/templates", s.tokens.gus)).toEqual([]);
    expect(await listedIds("/assets", s.tokens.gus)).toEqual([]);
  });

  it("a list request makes ONE accessible() call: one loadAccess, no loadDecision, one authorization event with the item type and path", async () => {
    const before = { ...s.state };
    s.events.length = 0;
    expect((await get("/inspections", s.tokens.cleo)).status).toBe(200);
    expect(s.state.loadAccess - before.loadAccess).toBe(1);
    expect(s.state.loadDecision - before.loadDecision).toBe(0);
    expect(s.events).toEqual([expect.objectContaining({ type: "authorization", outcome: "allowed", action: "inspections.view", itemType: "inspection", request: { method: "GET", path: "/inspections" } })]);
  });

  it.each(["revoked", "expired"] as const)("R15: a %s token gets the item guards' 401, byte for byte", async (which) => {
    for (const list of LISTS) {
      const [listed, item] = [await get(list.path, s.tokens[which]), await get(list.item, s.tokens[which])];
      expect(listed.status).toBe(401);
      expect(listed.json).toMatchObject({ code: "invalid_token", status: 401 });
      expect(listed.www).toBe('Bearer realm="inspections", error="invalid_token"');
      expect([listed.status, listed.text, listed.www, listed.type]).toEqual([item.status, item.text, item.www, item.type]);
    }
  });

  it("R12: a subject without the view permission gets the item guards' 403 permission_denied; with it, a list", async () => {
    for (const path of ["/inspections", "/assets"]) {
      const listed = await get(path, s.tokens.dan);
      expect(listed.status).toBe(403);
      expect(listed.json).toMatchObject({ code: "permission_denied" });
      expect(listed.www).toBe('Bearer realm="inspections", error="insufficient_scope"');
      const item = await get(`${path}/${path === "/assets" ? "asset_forklift_7" : "insp_1042"}`, s.tokens.dan);
      expect([listed.status, listed.text, listed.www]).toEqual([item.status, item.text, item.www]);
    }
    expect(await listedIds("/templates", s.tokens.dan)).toEqual(["tpl_partner_checklist"]); // Globex's share with all of Acme's users
    expect(await listedIds("/templates", s.tokens.dan)).toEqual(await allowedIds(s.tokens.dan, "templates.view", "template"));
  });

  it("no token is 401 missing_credentials; a token in the query string is 400 and never looked up", async () => {
    const none = await get("/inspections");
    expect([none.status, none.www]).toEqual([401, 'Bearer realm="inspections"']);
    const before = s.state.loadAccess;
    const inQuery = await get(`/inspections?access_token=${s.tokens.ben}`);
    expect(inQuery.status).toBe(400);
    expect(inQuery.json).toMatchObject({ code: "invalid_request" });
    expect(s.state.loadAccess).toBe(before);
  });

  it("a failing store is 503 with Retry-After, like the item guards, and its error never reaches the body", async () => {
    s.state.down = true;
    try {
      const [listed, item] = [await get("/inspections", s.tokens.ben), await get("/inspections/insp_1042", s.tokens.ben)];
      expect([listed.status, listed.retry]).toEqual([503, "5"]);
      expect(listed.json).toMatchObject({ code: "unavailable" });
      expect(listed.text).toBe(item.text);
      expect(listed.text).not.toContain("hunter2");
    } finally {
      s.state.down = false;
    }
  });

  it("R11: an administrator reviews what a token can reach, without its secret (R5); others get 403, unknown ids 404", async () => {
    const r = await get(`/admin/tokens/${s.benTokenId}/reach`, s.tokens.ada);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(s.tokens.ben);
    const body = r.json as { token: { id: string }; refusal: unknown; actions: string[]; itemTypes: { itemType: string; grants: { source: string; via: string; crossOrg: boolean }[] }[] };
    expect(body.token.id).toBe(s.benTokenId);
    expect(body.refusal).toBeNull();
    expect(body.actions).toContain("inspections.edit");
    expect(body.actions).not.toContain("tokens.manage");
    const templates = body.itemTypes.find((t) => t.itemType === "template")!;
    expect(templates.grants).toEqual(expect.arrayContaining([expect.objectContaining({ source: "share", via: "group" }), expect.objectContaining({ source: "share", via: "organization", crossOrg: true })]));
    const denied = await get(`/admin/tokens/${s.benTokenId}/reach`, s.tokens.ben);
    expect([denied.status, (denied.json as { code: string }).code]).toEqual([403, "permission_denied"]);
    const missing = await get("/admin/tokens/tok_nothing_here/reach", s.tokens.ada);
    expect([missing.status, (missing.json as { code: string }).code]).toEqual([404, "not_found"]);
  });
});
