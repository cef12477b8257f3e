/**
 * Issue 11 #3 (R2, R13, R14): directory ids are safe per tenant. Every create* refuses an id
 * already in use — in its own organization or another — with `already_exists`, and the other
 * organization keeps working; every call that changes or removes a directory object by id names
 * the organization and finds nothing in another one.
 */
import { afterEach, expect, it } from "vitest";
import { caught, world, type World } from "../core/fixture.js";
import { describeStores, type StoreUnderTest } from "./stores.js";

describeStores("issue 11 #3 directory ids are per-tenant safe", (make) => {
  let t: StoreUnderTest;
  let w: World;
  afterEach(async () => t.cleanup());

  it.each([
    ["createGroup", (w: World) => w.kw.directory.createGroup({ id: "grp_auditors", orgId: "beta", name: "Taken" })],
    ["createSite", (w: World) => w.kw.directory.createSite({ id: "site_north", orgId: "beta", name: "Taken" })],
    ["createPermissionSet", (w: World) => w.kw.directory.createPermissionSet({ id: "ps_inspector", orgId: "beta", name: "Taken", permissions: [] })],
    ["createPermissionSet (an id its own organization uses)", (w: World) => w.kw.directory.createPermissionSet({ id: "ps_viewer", orgId: "acme", name: "Again", permissions: ["api_tokens:manage"] })],
  ])("issue 11 #3 %s with a used id is already_exists, and the organization using it keeps working", async (_label, act) => {
    t = await make();
    w = await world({ store: t.store });
    await w.kw.directory.share({ id: "shr_1", item: w.inspection("insp_1"), grantee: { kind: "group", groupId: "grp_auditors" }, level: "view" });
    await w.kw.directory.addRule({ id: "rul_1", orgId: "acme", itemType: "inspection", conditions: { siteId: ["site_oslo"] }, grantee: { kind: "site", siteId: "site_north" }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    const { token: bobs } = await w.userToken(w.users.bob.id);
    expect(await caught(() => act(w))).toMatchObject({ code: "already_exists", field: "id" });
    // Ana (Auditors, North, inspector) and Bob (viewer) still reach what they reached
    expect((await w.kw.authorize(token, "inspections.edit", w.inspection("insp_2", { siteId: "site_oslo" }))).reason).toBe("access_denied");
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_1"))).allowed).toBe(true);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_2", { siteId: "site_oslo" }))).allowed).toBe(true);
    expect((await w.kw.authorize(bobs, "inspections.view", w.inspection("insp_3", { siteId: "site_oslo" }))).reason).toBe("access_denied");
    expect((await t.store.getPermissionSet("ps_viewer"))?.permissions).toEqual(["inspections:view"]);
  });

  it("issue 11 #3 share and addRule with a used id are already_exists and the existing share and rule stay", async () => {
    t = await make();
    w = await world({ store: t.store });
    await w.kw.directory.share({ id: "shr_1", item: w.inspection("insp_1"), grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
    await w.kw.directory.addRule({ id: "rul_1", orgId: "acme", itemType: "inspection", grantee: { kind: "user", userId: w.users.bob.id }, level: "view", conditions: { siteId: ["site_south"] } });
    const taken = await caught(() => w.kw.directory.share({ id: "shr_1", item: { orgId: "beta", type: "inspection", id: "b_1" }, grantee: { kind: "organization", orgId: "beta" }, level: "delete" }));
    expect(taken).toMatchObject({ code: "already_exists", field: "id" });
    expect(await caught(() => w.kw.directory.addRule({ id: "rul_1", orgId: "beta", itemType: "inspection", grantee: { kind: "organization", orgId: "beta" }, level: "delete" }))).toMatchObject({ code: "already_exists" });
    const { token } = await w.userToken(w.users.bob.id);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_1"))).allowed).toBe(true);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_9", { siteId: "site_south" }))).allowed).toBe(true);
    expect(await w.kw.directory.listShares({ orgId: "beta", type: "inspection", id: "b_1" })).toEqual([]);
  });

  it("issue 11 #3 unshare and removeRule take { orgId, id }: another organization's share or rule is not found (false) and stays", async () => {
    t = await make();
    w = await world({ store: t.store });
    const share = await w.kw.directory.share({ item: w.inspection("insp_1"), grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
    const rule = await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", grantee: { kind: "user", userId: w.users.bob.id }, level: "view", conditions: { siteId: ["site_south"] } });
    expect(await w.kw.directory.unshare({ orgId: "beta", id: share.id })).toBe(false);
    expect(await w.kw.directory.removeRule({ orgId: "beta", id: rule.id })).toBe(false);
    const { token } = await w.userToken(w.users.bob.id);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_1"))).allowed).toBe(true);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_9", { siteId: "site_south" }))).allowed).toBe(true);
    expect(await w.kw.directory.unshare({ orgId: "acme", id: share.id })).toBe(true);
    expect(await w.kw.directory.removeRule({ orgId: "acme", id: rule.id })).toBe(true);
  });

  it("issue 11 #3 updatePermissionSet and removeFrom name the organization: another one's set, group or site is not_found", async () => {
    t = await make();
    w = await world({ store: t.store });
    expect(await caught(() => w.kw.directory.updatePermissionSet({ orgId: "beta", id: "ps_admin", permissions: [] }))).toMatchObject({ code: "not_found", field: "id" });
    expect((await t.store.getPermissionSet("ps_admin"))?.permissions).toContain("api_tokens:manage");
    expect(await caught(() => w.kw.directory.removeFrom({ orgId: "acme", subjectId: w.users.ana.id, groupId: "grp_beta_crew" }))).toMatchObject({ code: "not_found", field: "groupId" });
    expect(await caught(() => w.kw.directory.removeFrom({ orgId: "acme", subjectId: w.users.ana.id, siteId: "site_beta" }))).toMatchObject({ code: "not_found", field: "siteId" });
  });
});
