/**
 * `kw.accessible(token, action, itemType)`: what a token can reach, as specifications over the
 * core test world (test/core/fixture.ts): Ana (inspector, region North, group Auditors, also a
 * beta member), Bob (viewer, site Harbour = North › Oslo › Harbour), Carl (no permission set),
 * the "BI export" service user.
 */
import { describe, expect, it } from "vitest";
import { isForbidden, KeywardError, type AccessDecision, type AccessFilter, type DenialReason, type ItemRef } from "../../src/index.js";
import { accessFilter, generateToken } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { caught, DAY, spyStore, THIRTY_DAYS, world, type World } from "../core/fixture.js";

function filterOf(access: AccessDecision): AccessFilter {
  if (!access.allowed) throw new Error(`expected an allowed answer, got ${access.reason}`);
  return access.filter;
}

/** The ids of `items` the filter matches, and checks that authorize() agrees on every one. */
async function reachable(w: World, token: string, action: Parameters<World["kw"]["authorize"]>[1], items: ItemRef[]): Promise<string[]> {
  const filter = filterOf(await w.kw.accessible(token, action, items[0]!.type));
  for (const item of items) expect(filter.matches(item), item.id).toBe((await w.kw.authorize(token, action, item)).allowed);
  return items.filter(filter.matches).map((i) => i.id);
}

describe("accessible(): the items a token's subject may act on", () => {
  it("R13 a user reaches items shared with them directly, through their groups, their sites (a site above a shared one covers it), and their organization", async () => {
    const w = await world();
    const { ana, bob } = w.users;
    const d = w.kw.directory;
    const items = ["direct", "group", "oslo", "harbour", "north", "south", "org", "bob_only", "nothing"].map((id) => w.inspection(id));
    const share = (id: string, grantee: Parameters<typeof d.share>[0]["grantee"]) => d.share({ item: { orgId: "acme", type: "inspection", id }, grantee, level: "view" });
    await share("direct", { kind: "user", userId: ana.id });
    await share("group", { kind: "group", groupId: w.groups.auditors.id });
    await share("oslo", { kind: "site", siteId: w.sites.oslo.id });
    await share("harbour", { kind: "site", siteId: w.sites.harbour.id });
    await share("north", { kind: "site", siteId: w.sites.north.id });
    await share("south", { kind: "site", siteId: w.sites.south.id });
    await share("org", { kind: "organization", orgId: "acme", includeServiceUsers: false });
    await share("bob_only", { kind: "user", userId: bob.id });
    const anaToken = (await w.userToken(ana.id)).token;
    const bobToken = (await w.userToken(bob.id)).token;
    expect(await reachable(w, anaToken, "inspections.view", items)).toEqual(["direct", "group", "oslo", "harbour", "north", "org"]);
    // Bob is a member of Harbour only: a share naming North or Oslo (above Harbour) does not cover him.
    expect(await reachable(w, bobToken, "inspections.view", items)).toEqual(["harbour", "org", "bob_only"]);
  });

  it("R13 only grants at the action's level or above count: view shares are not in the edit filter", async () => {
    const w = await world();
    const { ana } = w.users;
    for (const [id, level] of [["v", "view"], ["e", "edit"], ["x", "delete"]] as const) {
      await w.kw.directory.share({ item: { orgId: "acme", type: "inspection", id }, grantee: { kind: "user", userId: ana.id }, level });
    }
    const token = (await w.userToken(ana.id)).token;
    const items = ["v", "e", "x"].map((id) => w.inspection(id));
    expect(await reachable(w, token, "inspections.view", items)).toEqual(["v", "e", "x"]);
    expect(await reachable(w, token, "inspections.edit", items)).toEqual(["e", "x"]);
    expect(await reachable(w, token, "inspections.delete", items)).toEqual(["x"]);
    expect(filterOf(await w.kw.accessible(token, "inspections.edit", "inspection")).level).toBe("edit");
  });

  it("R13 access rules give every item whose attributes meet all conditions; an item without the attribute never matches", async () => {
    const w = await world();
    const { ana } = w.users;
    await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: [w.sites.oslo.id, w.sites.south.id], templateId: ["tpl_a"] }, grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "edit" });
    const token = (await w.userToken(ana.id)).token;
    const items = [
      w.inspection("both", { siteId: w.sites.oslo.id, templateId: "tpl_a" }),
      w.inspection("south", { siteId: w.sites.south.id, templateId: "tpl_a" }),
      w.inspection("wrong_template", { siteId: w.sites.oslo.id, templateId: "tpl_b" }),
      w.inspection("no_template", { siteId: w.sites.oslo.id }),
      w.inspection("bare"),
    ];
    expect(await reachable(w, token, "inspections.edit", items)).toEqual(["both", "south"]);
    const filter = filterOf(await w.kw.accessible(token, "inspections.edit", "inspection"));
    expect(filter.rules).toEqual([{ id: expect.any(String), orgId: "acme", conditions: { siteId: [w.sites.oslo.id, w.sites.south.id], templateId: ["tpl_a"] } }]);
    expect(filter.shared).toEqual([]);
  });

  it("R13 R9 a service user reaches only what names it or its whole organization including service users; groups and sites never", async () => {
    const w = await world();
    const d = w.kw.directory;
    const share = (id: string, grantee: Parameters<typeof d.share>[0]["grantee"]) => d.share({ item: { orgId: "acme", type: "inspection", id }, grantee, level: "view" });
    await share("named", { kind: "service_user", serviceUserId: w.bot.id });
    await share("org_with", { kind: "organization", orgId: "acme", includeServiceUsers: true });
    await share("org_without", { kind: "organization", orgId: "acme", includeServiceUsers: false });
    await share("group", { kind: "group", groupId: w.groups.auditors.id });
    await share("site", { kind: "site", siteId: w.sites.north.id });
    const token = (await w.serviceToken()).token;
    const items = ["named", "org_with", "org_without", "group", "site"].map((id) => w.inspection(id));
    expect(await reachable(w, token, "inspections.view", items)).toEqual(["named", "org_with"]);
  });

  it("R14 another organization's items are reachable only through shares naming the token's organization or the subject; its groups and sites give nothing across", async () => {
    const w = await world();
    const { ana } = w.users;
    const d = w.kw.directory;
    const share = (id: string, grantee: Parameters<typeof d.share>[0]["grantee"]) => d.share({ item: { orgId: "beta", type: "inspection", id }, grantee, level: "view" });
    await share("to_acme", { kind: "organization", orgId: "acme", includeServiceUsers: false });
    await share("to_ana", { kind: "user", userId: ana.id });
    // Ana is in beta's crew and beta's site: that gives her beta token access, not her acme token.
    await share("to_crew", { kind: "group", groupId: w.groups.betaCrew.id });
    await share("to_beta_site", { kind: "site", siteId: w.sites.betaSite.id });
    await share("to_beta", { kind: "organization", orgId: "beta", includeServiceUsers: false });
    const items = ["to_acme", "to_ana", "to_crew", "to_beta_site", "to_beta"].map((id) => w.inspection(id, undefined, "beta"));
    const acmeToken = (await w.userToken(ana.id, "acme")).token;
    const betaToken = (await w.userToken(ana.id, "beta")).token;
    expect(await reachable(w, acmeToken, "inspections.view", items)).toEqual(["to_acme", "to_ana"]);
    expect(await reachable(w, betaToken, "inspections.view", items)).toEqual(["to_ana", "to_crew", "to_beta_site", "to_beta"]);
    const filter = filterOf(await w.kw.accessible(acmeToken, "inspections.view", "inspection"));
    expect(filter.shared).toEqual([{ orgId: "beta", ids: ["to_acme", "to_ana"] }]);
  });

  it("R13 a subject with no access gets an empty filter that matches nothing (not a denial)", async () => {
    const w = await world();
    const token = (await w.userToken(w.users.ana.id)).token;
    const access = await w.kw.accessible(token, "inspections.view", "inspection");
    expect(access).toMatchObject({ allowed: true, reason: "allowed", subject: { kind: "user", id: w.users.ana.id, name: "Ana Inspector" }, orgId: "acme" });
    const filter = filterOf(access);
    expect(filter.matches(w.inspection("anything"))).toBe(false);
    expect(filter.toSql({ columns: { orgId: "org_id", id: "id" } })).toEqual({ text: "FALSE", values: [] });
  });

  it("R12 a change of shares or permissions applies to the next filter", async () => {
    const w = await world();
    const { ana } = w.users;
    const s = await w.kw.directory.share({ item: { orgId: "acme", type: "inspection", id: "i_1" }, grantee: { kind: "user", userId: ana.id }, level: "view" });
    const token = (await w.userToken(ana.id)).token;
    expect(filterOf(await w.kw.accessible(token, "inspections.view", "inspection")).matches(w.inspection("i_1"))).toBe(true);
    await w.kw.directory.unshare({ orgId: "acme", id: s.id });
    expect(filterOf(await w.kw.accessible(token, "inspections.view", "inspection")).matches(w.inspection("i_1"))).toBe(false);
    await w.kw.directory.updateMember({ orgId: "acme", userId: ana.id, permissionSetId: w.sets.none.id });
    expect(await w.kw.accessible(token, "inspections.view", "inspection")).toMatchObject({ allowed: false, reason: "permission_denied" });
  });
});

describe("accessible(): refusals are authorize()'s (R15)", () => {
  const refusals: [DenialReason, (w: World) => Promise<string>][] = [
    ["token_malformed", async () => "kwu_definitely-not-a-token"],
    ["token_unknown", async () => generateToken("user")],
    ["token_revoked", async (w: World) => {
      const { token, record } = await w.userToken(w.users.ana.id);
      await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
      return token;
    }],
    ["token_expired", async (w: World) => {
      const { token } = await w.userToken(w.users.ana.id);
      w.advance(THIRTY_DAYS);
      return token;
    }],
    ["subject_inactive", async (w: World) => {
      const { token } = await w.userToken(w.users.ana.id);
      await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
      return token;
    }],
    ["permission_denied", async (w: World) => (await w.userToken(w.users.carl.id)).token],
  ];
  it.each(refusals)("R15 %s: the same reason as authorize() gives for any item", async (reason, make) => {
    const w = await world();
    const token = await make(w);
    const access = await w.kw.accessible(token, "inspections.view", "inspection");
    const decision = await w.kw.authorize(token, "inspections.view", w.inspection("i_1"));
    expect(access).toMatchObject({ allowed: false, reason });
    expect(access).toEqual({ ...decision, action: "inspections.view" });
    expect("filter" in access).toBe(false);
  });

  it("R15 token reasons come before permission_denied: an expired token of a user without the permission is token_expired", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.carl.id);
    w.advance(THIRTY_DAYS + DAY);
    expect(await w.kw.accessible(token, "inspections.view", "inspection")).toMatchObject({ allowed: false, reason: "token_expired" });
  });

  it("R15 an action the host did not declare is permission_denied with unknownAction, as in authorize()", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const access = await w.kw.accessible(token, "inspections.archive" as never, "inspection");
    expect(access).toMatchObject({ allowed: false, reason: "permission_denied", unknownAction: true });
  });

  it("assertAccessible() resolves to the filter, or throws a forbidden KeywardError carrying the reason and the action", async () => {
    const w = await world();
    const ana = (await w.userToken(w.users.ana.id)).token;
    const carl = (await w.userToken(w.users.carl.id)).token;
    expect((await w.kw.assertAccessible(ana, "inspections.view", "inspection")).filter.itemType).toBe("inspection");
    const e = await caught(() => w.kw.assertAccessible(carl, "inspections.view", "inspection"));
    expect(isForbidden(e)).toBe(true);
    expect(e).toMatchObject({ code: "permission_denied", action: "inspections.view" });
  });
});

describe("accessible(): misuse, failures and records", () => {
  it.each([
    ["an organization-level action", "reports.export", "inspection", "action"],
    ["an item type the action does not act on", "inspections.view", "template", "itemType"],
    ["an item type that is not an identifier", "inspections.view", "", "itemType"],
  ] as const)("throws invalid_input for %s", async (_what, action, itemType, field) => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const e = await caught(() => w.kw.accessible(token, action, itemType));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "invalid_input", field });
  });

  it("a malformed token costs no store read", async () => {
    const spy = spyStore(memoryStore());
    const w = await world({ store: spy.store });
    spy.calls.length = 0;
    await w.kw.accessible("kwu_bad", "inspections.view", "inspection");
    expect(spy.calls).toEqual([]);
  });

  it("a failing store gives unavailable, never a filter", async () => {
    const spy = spyStore(memoryStore(), { loadAccess: () => Promise.reject(new Error("connection reset")) });
    const w = await world({ store: spy.store });
    const { token } = await w.userToken(w.users.ana.id);
    const e = await caught(() => w.kw.accessible(token, "inspections.view", "inspection"));
    expect(e).toMatchObject({ code: "unavailable" });
  });

  it("R16 emits an authorization event naming the subject, the action and the item type listed, never the secret", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    w.events.length = 0;
    await w.kw.accessible(token, "inspections.view", "inspection");
    expect(w.events).toEqual([
      { type: "authorization", at: w.clock.now, outcome: "allowed", reason: "allowed", action: "inspections.view", itemType: "inspection", tokenId: record.id, orgId: "acme", subject: { kind: "user", id: w.users.ana.id, name: "Ana Inspector" } },
    ]);
    expect(JSON.stringify(w.events)).not.toContain(token);
  });

  it("R6 listing counts as use: a token listed on day 20 still works on day 40, and an expired one records its expiry once", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(20 * DAY);
    expect((await w.kw.accessible(token, "inspections.view", "inspection")).allowed).toBe(true);
    w.advance(20 * DAY);
    expect((await w.kw.accessible(token, "inspections.view", "inspection")).allowed).toBe(true);
    w.advance(THIRTY_DAYS);
    w.events.length = 0;
    await w.kw.accessible(token, "inspections.view", "inspection");
    await w.kw.accessible(token, "inspections.view", "inspection");
    expect(w.events.filter((e) => e.type === "token.expired")).toHaveLength(1);
  });

  it("the filter is plain data: JSON and structuredClone keep it, accessFilter() gives it its methods back, and refuses a malformed one", async () => {
    const w = await world();
    await w.kw.directory.share({ item: { orgId: "acme", type: "inspection", id: "i_1" }, grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    const filter = filterOf(await w.kw.accessible(token, "inspections.view", "inspection"));
    const data = { itemType: "inspection", level: "view", shared: [{ orgId: "acme", ids: ["i_1"] }], rules: [] };
    expect(JSON.parse(JSON.stringify(filter))).toEqual(data);
    expect(structuredClone(filter)).toEqual(data);
    expect(accessFilter(structuredClone(filter)).matches(w.inspection("i_1"))).toBe(true);
    expect(() => accessFilter({ ...data, shared: [{ orgId: "acme", ids: [1] }] } as never)).toThrow(expect.objectContaining({ code: "invalid_input", field: "filter.shared" }));
    expect(() => accessFilter({ ...data, level: "admin" } as never)).toThrow(expect.objectContaining({ code: "invalid_input", field: "filter.level" }));
  });
});
