/**
 * R17 restricted tokens, rule by rule, on the memory store and `keyward/postgres` (PGlite, and the
 * server when KEYWARD_PG_URL is set): creation checks and normalisation, the scope refusal and the
 * narrowed access stage with their `restricted` flag, the list filter, `reach()` and
 * `previewReach()`, and the login refusal. The laws are in test/filters/core-law.test.ts and
 * test/filters/property.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { KeywardError, type KeywardStore, type TokenRestriction } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { pgliteStore, PG_URL, serverStore } from "../storage/postgres/support.js";
import { caught, PASSWORD, world, type World } from "./fixture.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const stores: { name: string; make: () => Promise<KeywardStore> }[] = [
  { name: "memory", make: async () => memoryStore() },
  {
    name: "postgres (PGlite)",
    make: async () => {
      const t = await pgliteStore();
      cleanups.push(() => t.cleanup());
      return t.store;
    },
  },
];
if (PG_URL !== undefined) {
  stores.push({
    name: "postgres (server)",
    make: async () => {
      const t = await serverStore();
      cleanups.push(() => t.cleanup());
      return t.store;
    },
  });
}

/** Ana's restricted token in acme (Ana: inspector, site North, group Auditors). */
function restrictedToken(w: World, restriction: TokenRestriction | null, userId = w.users.ana.id) {
  return w.kw.tokens.createUserToken({ orgId: w.orgs.acme.id, userId, name: "restricted", password: PASSWORD, restriction });
}

describe.each(stores)("R17 restricted tokens on the $name store", ({ make }) => {
  async function setup() {
    const w = await world({ store: await make() });
    const d = w.kw.directory;
    const acme = w.orgs.acme.id;
    // i_north: shared with the Auditors group (edit); i_oslo: shared with the site Oslo (edit); i_ana: shared with Ana (delete).
    await d.share({ item: { orgId: acme, type: "inspection", id: "i_north" }, grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "edit" });
    await d.share({ item: { orgId: acme, type: "inspection", id: "i_oslo" }, grantee: { kind: "site", siteId: w.sites.oslo.id }, level: "edit" });
    await d.share({ item: { orgId: acme, type: "inspection", id: "i_ana" }, grantee: { kind: "user", userId: w.users.ana.id }, level: "delete" });
    // A rule: every acme member may view inspections of site South.
    await d.addRule({ orgId: acme, itemType: "inspection", conditions: { siteId: [w.sites.south.id] }, grantee: { kind: "organization", orgId: acme }, level: "view" });
    return w;
  }

  it("R17 creation stores the restriction normalised (sorted, no duplicates) and shows it in the view; {} and null are full access", async () => {
    const w = await setup();
    const created = await restrictedToken(w, { permissions: ["inspections:view", "inspections:edit", "inspections:view"], maxLevel: "edit", groupIds: [w.groups.auditors.id] });
    expect(created.record.restriction).toEqual({ permissions: ["inspections:edit", "inspections:view"], maxLevel: "edit", groupIds: [w.groups.auditors.id] });
    const listed = await w.kw.tokens.listMine({ orgId: w.orgs.acme.id, userId: w.users.ana.id });
    expect(listed.items.find((t) => t.id === created.record.id)!.restriction).toEqual(created.record.restriction);
    expect((await restrictedToken(w, {})).record.restriction).toBeNull();
    expect((await restrictedToken(w, null)).record.restriction).toBeNull();
    expect((await w.userToken(w.users.ana.id)).record.restriction).toBeNull();
  });

  it("R17 creation refuses a permission the subject does not hold now: permission_not_held naming restriction.permissions, nothing written", async () => {
    const w = await setup();
    const e = await caught(() => restrictedToken(w, { permissions: ["inspections:view"] }, w.users.carl.id));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "permission_not_held", field: "restriction.permissions" });
    const bob = await caught(() => restrictedToken(w, { permissions: ["inspections:view", "inspections:edit"] }, w.users.bob.id));
    expect(bob).toMatchObject({ code: "permission_not_held", field: "restriction.permissions" });
    expect((bob as Error).message).toContain('"inspections:edit"');
    const svc = await caught(() => w.kw.tokens.createServiceToken({ orgId: w.orgs.acme.id, serviceUserId: w.bot.id, name: "x", actorId: w.users.ada.id, restriction: { permissions: ["templates:view"] } }));
    expect(svc).toMatchObject({ code: "permission_not_held", field: "restriction.permissions" });
    for (const userId of [w.users.carl.id, w.users.bob.id]) expect((await w.kw.tokens.listMine({ orgId: w.orgs.acme.id, userId })).items).toEqual([]);
  });

  it("R17 creation refuses a bad shape, a group or site the user is not in, and any group or site on a service token: invalid_input naming the field", async () => {
    const w = await setup();
    const cases: [TokenRestriction, string][] = [
      [{ maxLevel: "delete" } as unknown as TokenRestriction, "restriction.maxLevel"],
      [{ permissions: "inspections:view" } as unknown as TokenRestriction, "restriction.permissions"],
      [{ items: [{ orgId: "acme", type: "inspection" }] } as unknown as TokenRestriction, "restriction.items.0.id"],
      [{ color: "red" } as unknown as TokenRestriction, "restriction"],
      [{ groupIds: ["grp_beta_crew"] }, "restriction.groupIds"],
      [{ siteIds: [w.sites.south.id] }, "restriction.siteIds"],
      [{ siteIds: ["no_such_site"] }, "restriction.siteIds"],
    ];
    for (const [restriction, field] of cases) {
      const e = await caught(() => restrictedToken(w, restriction));
      expect(e, field).toMatchObject({ code: "invalid_input", field });
    }
    // A site below a member site is fine (Ana is in North; Oslo is below it).
    expect((await restrictedToken(w, { siteIds: [w.sites.oslo.id] })).record.restriction).toEqual({ siteIds: [w.sites.oslo.id] });
    const svc = await caught(() => w.kw.tokens.createServiceToken({ orgId: w.orgs.acme.id, serviceUserId: w.bot.id, name: "x", actorId: w.users.ada.id, restriction: { groupIds: [w.groups.auditors.id] } }));
    expect(svc).toMatchObject({ code: "invalid_input", field: "restriction.groupIds" });
  });

  it("R17 R15 a scope refusal (permission, item type, level above maxLevel) is permission_denied with restricted; what the subject lacks is not flagged", async () => {
    const w = await setup();
    const acme = w.orgs.acme.id;
    const item = w.inspection("i_ana");
    const viewOnly = (await restrictedToken(w, { maxLevel: "view" })).token;
    expect(await w.kw.authorize(viewOnly, "inspections.view", item)).toMatchObject({ allowed: true });
    expect(await w.kw.authorize(viewOnly, "inspections.edit", item)).toMatchObject({ allowed: false, reason: "permission_denied", restricted: true });
    // Organization-level actions are narrowed by permissions only.
    expect(await w.kw.authorize(viewOnly, "reports.export", null)).toMatchObject({ allowed: true });
    const noExport = (await restrictedToken(w, { permissions: ["inspections:view"] })).token;
    expect(await w.kw.authorize(noExport, "reports.export", null)).toMatchObject({ allowed: false, reason: "permission_denied", restricted: true });
    const templatesOnly = (await restrictedToken(w, { itemTypes: ["template"] })).token;
    expect(await w.kw.authorize(templatesOnly, "inspections.view", item)).toMatchObject({ allowed: false, reason: "permission_denied", restricted: true });
    // Bob lacks inspections:edit himself: his restricted token's refusal is the subject's, not the restriction's.
    const bob = (await restrictedToken(w, { maxLevel: "view" }, w.users.bob.id)).token;
    const d = await w.kw.authorize(bob, "inspections.edit", w.inspection("i_x"));
    expect(d).toMatchObject({ allowed: false, reason: "permission_denied" });
    expect(d).not.toHaveProperty("restricted");
    expect(await w.kw.authorize(viewOnly, "inspections.view", { orgId: acme, type: "inspection", id: "nowhere" })).not.toHaveProperty("restricted");
  });

  it("R17 R13 only grants through the listed groups, sites (or below) or on the listed items count; access_denied says restricted only when the subject could", async () => {
    const w = await setup();
    const viaGroup = (await restrictedToken(w, { groupIds: [w.groups.auditors.id] })).token;
    expect(await w.kw.authorize(viaGroup, "inspections.edit", w.inspection("i_north"))).toMatchObject({ allowed: true, grant: { via: "group" } });
    expect(await w.kw.authorize(viaGroup, "inspections.edit", w.inspection("i_oslo"))).toMatchObject({ allowed: false, reason: "access_denied", visible: false, restricted: true });
    expect(await w.kw.authorize(viaGroup, "inspections.view", w.inspection("i_south", { siteId: w.sites.south.id }))).toMatchObject({ reason: "access_denied", restricted: true });
    const nowhere = await w.kw.authorize(viaGroup, "inspections.view", w.inspection("i_nowhere"));
    expect(nowhere).toMatchObject({ reason: "access_denied", visible: false });
    expect(nowhere).not.toHaveProperty("restricted");
    // North is listed: Oslo is below it.
    const viaNorth = (await restrictedToken(w, { siteIds: [w.sites.north.id] })).token;
    expect(await w.kw.authorize(viaNorth, "inspections.edit", w.inspection("i_oslo"))).toMatchObject({ allowed: true, grant: { via: "site" } });
    expect(await w.kw.authorize(viaNorth, "inspections.edit", w.inspection("i_north"))).toMatchObject({ allowed: false, restricted: true });
    // Listed items: any grant counts there, and nowhere else.
    const oneItem = (await restrictedToken(w, { items: [{ orgId: w.orgs.acme.id, type: "inspection", id: "i_south" }] })).token;
    expect(await w.kw.authorize(oneItem, "inspections.view", w.inspection("i_south", { siteId: w.sites.south.id }))).toMatchObject({ allowed: true, grant: { source: "rule" } });
    expect(await w.kw.authorize(oneItem, "inspections.view", w.inspection("i_ana"))).toMatchObject({ allowed: false, restricted: true });
    // The item was listed but the subject cannot edit it: the subject's denial, not flagged.
    const denied = await w.kw.authorize(oneItem, "inspections.edit", w.inspection("i_south", { siteId: w.sites.south.id }));
    expect(denied).toMatchObject({ reason: "access_denied", visible: true });
    expect(denied).not.toHaveProperty("restricted");
  });

  it("R17 R12 the restriction is intersected with the subject's current state: a permission or group the subject loses is gone from the token at once", async () => {
    const w = await setup();
    const token = (await restrictedToken(w, { permissions: ["inspections:edit", "inspections:view"], groupIds: [w.groups.auditors.id] })).token;
    expect((await w.kw.authorize(token, "inspections.edit", w.inspection("i_north"))).allowed).toBe(true);
    await w.kw.directory.removeFrom({ orgId: w.orgs.acme.id, subjectId: w.users.ana.id, groupId: w.groups.auditors.id });
    expect(await w.kw.authorize(token, "inspections.edit", w.inspection("i_north"))).toMatchObject({ allowed: false, reason: "access_denied" });
    await w.kw.directory.updatePermissionSet({ orgId: w.orgs.acme.id, id: w.sets.inspector.id, permissions: ["templates:view"] });
    const d = await w.kw.authorize(token, "inspections.view", w.inspection("i_ana"));
    expect(d).toMatchObject({ allowed: false, reason: "permission_denied" });
    expect(d).not.toHaveProperty("restricted");
  });

  it("R17 accessible(): the filter holds only what the restriction lets through, in matches and toSql; a scope refusal is the same refusal", async () => {
    const w = await setup();
    const acme = w.orgs.acme.id;
    const token = (await restrictedToken(w, { groupIds: [w.groups.auditors.id], items: [{ orgId: acme, type: "inspection", id: "i_south" }] })).token;
    const access = await w.kw.accessible(token, "inspections.view", "inspection");
    if (!access.allowed) throw new Error("expected a filter");
    const { filter } = access;
    expect(filter.shared).toEqual([{ orgId: acme, ids: ["i_north"] }]);
    expect(filter.rules).toEqual([expect.objectContaining({ orgId: acme, conditions: { siteId: [w.sites.south.id] }, ids: ["i_south"] })]);
    expect(filter.matches(w.inspection("i_south", { siteId: w.sites.south.id }))).toBe(true);
    expect(filter.matches(w.inspection("i_other", { siteId: w.sites.south.id }))).toBe(false);
    expect(filter.matches(w.inspection("i_oslo"))).toBe(false);
    const sql = filter.toSql({ columns: { orgId: "org_id", id: "id", attributes: { siteId: "site_id" } } });
    expect(sql.text).toBe('(("org_id" = $1 AND "id" = ANY($2)) OR ("org_id" = $5 AND "id" = ANY($4) AND "site_id" IS NOT NULL AND "site_id" = ANY($3)))');
    expect(sql.values).toEqual([acme, ["i_north"], [w.sites.south.id], ["i_south"], acme]);
    const viewOnly = (await restrictedToken(w, { maxLevel: "view" })).token;
    expect(await w.kw.accessible(viewOnly, "inspections.edit", "inspection")).toMatchObject({ allowed: false, reason: "permission_denied", restricted: true });
  });

  it("R17 login() refuses a restricted user token: login_not_allowed saying why", async () => {
    const w = await setup();
    const token = (await restrictedToken(w, { maxLevel: "view" })).token;
    const e = await caught(() => w.kw.login(token));
    expect(e).toMatchObject({ code: "login_not_allowed" });
    expect((e as Error).message).toMatch(/restricted token/);
    expect(await w.kw.login((await w.userToken(w.users.ana.id)).token)).toMatchObject({ subject: { id: w.users.ana.id } });
  });

  it("R17 reach() and previewReach() give the restricted reach: permissions, actions and grants narrowed, levels capped, the restriction named", async () => {
    const w = await setup();
    const acme = w.orgs.acme.id;
    const restriction: TokenRestriction = { maxLevel: "view", groupIds: [w.groups.auditors.id], items: [{ orgId: acme, type: "inspection", id: "i_south" }] };
    const created = await restrictedToken(w, restriction);
    const reach = await w.kw.tokens.reach({ orgId: acme, tokenId: created.record.id, actorId: w.users.ana.id });
    expect(reach.restriction).toEqual(restriction);
    expect(reach.token.restriction).toEqual(restriction);
    expect(reach.actions).toEqual(["inspections.view", "templates.view", "reports.export"]);
    const inspections = reach.itemTypes.find((t) => t.itemType === "inspection")!;
    expect(inspections.actions).toEqual(["inspections.view"]);
    // Both capped at view (of equal level, grants are in id order).
    expect(inspections.grants.map((g) => [g.source, g.via, g.level, g.ids ?? null, g.actions]).sort()).toEqual([
      ["rule", "organization", "view", ["i_south"], ["inspections.view"]],
      ["share", "group", "view", null, ["inspections.view"]],
    ]);
    const preview = await w.kw.tokens.previewReach({ orgId: acme, actorId: w.users.ana.id, subject: { kind: "user", id: w.users.ana.id }, restriction });
    const { token: previewToken, ...previewRest } = preview;
    const { token: _token, ...reachRest } = reach;
    expect(previewRest).toEqual(reachRest);
    expect(previewToken).toMatchObject({ id: "", status: "active", restriction, subjectId: w.users.ana.id });
    // Without a restriction, the preview is the full reach of a new token.
    const full = await w.kw.tokens.previewReach({ orgId: acme, actorId: w.users.ana.id, subject: { kind: "user", id: w.users.ana.id } });
    expect(full.restriction).toBeNull();
    expect(full.itemTypes.find((t) => t.itemType === "inspection")!.grants.map((g) => g.level)).toEqual(["delete", "edit", "edit", "view"]);
  });

  it("R17 previewReach() needs the rights creating such a token needs, and checks the restriction as creation does", async () => {
    const w = await setup();
    const acme = w.orgs.acme.id;
    expect(await caught(() => w.kw.tokens.previewReach({ orgId: acme, actorId: w.users.ada.id, subject: { kind: "user", id: w.users.ana.id } }))).toMatchObject({ code: "forbidden" });
    expect(await caught(() => w.kw.tokens.previewReach({ orgId: acme, actorId: w.users.ana.id, subject: { kind: "service_user", id: w.bot.id } }))).toMatchObject({ code: "forbidden" });
    expect(await caught(() => w.kw.tokens.previewReach({ orgId: acme, actorId: w.users.bob.id, subject: { kind: "user", id: w.users.bob.id }, restriction: { permissions: ["inspections:edit"] } }))).toMatchObject({
      code: "permission_not_held",
      field: "restriction.permissions",
    });
    const bot = await w.kw.tokens.previewReach({ orgId: acme, actorId: w.users.ada.id, subject: { kind: "service_user", id: w.bot.id }, restriction: { permissions: ["inspections:view"] } });
    expect(bot).toMatchObject({ subject: { kind: "service_user", id: w.bot.id }, refusal: null, permissions: ["inspections:view"], actions: ["inspections.view"] });
  });
});
