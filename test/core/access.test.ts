/**
 * Permissions and access (R12–R14), read as a specification: one request per case.
 */
import { describe, expect, it } from "vitest";
import type { Grantee } from "../../src/index.js";
import { caught, world, type World } from "./fixture.js";

describe("R12 permissions", () => {
  it("R12 a subject without the action's permission is denied with permission_denied", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.carl.id);
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "permission_denied" });
  });

  it("R12 removing a user's permission applies to the very next request", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.ana.id, permissionSetId: w.sets.viewer.id });
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("permission_denied");
  });

  it("R12 granting a user a permission applies to the very next request", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.carl.id);
    await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.carl.id, permissionSetId: w.sets.inspector.id });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R12 editing the permission set itself applies to every holder's next request", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    await w.kw.directory.updatePermissionSet({ orgId: "acme", id: w.sets.inspector.id, permissions: ["inspections:view"] });
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("permission_denied");
  });

  it("R12 a service token uses its service user's permission set, and a change to it applies to the next request", async () => {
    const w = await world();
    const { token } = await w.serviceToken();
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    await w.kw.serviceUsers.update({ orgId: "acme", id: w.bot.id, permissionSetId: w.sets.viewer.id, actorId: w.users.ada.id });
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("permission_denied");
  });

  it("R12 a service token does not get the permissions of the admin who created it", async () => {
    const w = await world();
    const { token } = await w.serviceToken();
    expect((await w.kw.authorize(token, "templates.view", { orgId: "acme", type: "template", id: "tpl_1" })).reason).toBe("permission_denied");
  });

  it("R12 the permission is checked before access: a shared item still needs the permission", async () => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "delete" });
    const { token } = await w.userToken(w.users.bob.id);
    expect((await w.kw.authorize(token, "inspections.delete", item)).reason).toBe("permission_denied");
  });

  it("R12 managing tokens is a permission like any other: granting it lets a user list the organization's tokens", async () => {
    const w = await world();
    await w.kw.directory.updatePermissionSet({ orgId: "acme", id: w.sets.viewer.id, permissions: ["inspections:view", "api_tokens:manage"] });
    await expect(w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.bob.id })).resolves.toEqual({ items: [], nextCursor: null, total: 0 });
  });

  it("R12 managing tokens is a permission like any other: withdrawing it forbids the next listing", async () => {
    const w = await world();
    await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.ada.id, permissionSetId: w.sets.inspector.id });
    expect(await caught(() => w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id }))).toMatchObject({ code: "forbidden" });
  });
});

type GranteeOf = (w: World) => Grantee;

describe("R13 access", () => {
  it.each<[string, GranteeOf]>([
    ["the user", (w) => ({ kind: "user", userId: w.users.ana.id })],
    ["a group the user is in", (w) => ({ kind: "group", groupId: w.groups.auditors.id })],
    ["a site the user is a member of", (w) => ({ kind: "site", siteId: w.sites.north.id })],
    ["a site below the user's site (nested sites)", (w) => ({ kind: "site", siteId: w.sites.harbour.id })],
    ["the whole organization", () => ({ kind: "organization", orgId: "acme", includeServiceUsers: false })],
  ])("R13 a share to %s gives the user access", async (_label, grantee) => {
    const w = await world();
    const item = w.inspection("insp_1");
    const share = await w.kw.directory.share({ item, grantee: grantee(w), level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    expect(await w.kw.authorize(token, "inspections.view", item)).toMatchObject({
      allowed: true,
      grant: { source: "share", id: share.id, via: grantee(w).kind, level: "view", crossOrg: false },
    });
  });

  it.each<[string, GranteeOf]>([
    ["another user", (w) => ({ kind: "user", userId: w.users.ana.id })],
    ["a group the user is not in", (w) => ({ kind: "group", groupId: w.groups.auditors.id })],
    ["a site above the user's site", (w) => ({ kind: "site", siteId: w.sites.north.id })],
    ["a sibling site", (w) => ({ kind: "site", siteId: w.sites.south.id })],
    ["another organization", () => ({ kind: "organization", orgId: "beta", includeServiceUsers: false })],
  ])("R13 a share to %s gives Bob nothing: access_denied", async (_label, grantee) => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee: grantee(w), level: "view" });
    const { token } = await w.userToken(w.users.bob.id);
    expect(await w.kw.authorize(token, "inspections.view", item)).toMatchObject({ allowed: false, reason: "access_denied", visible: false });
  });

  it("R13 an item with no share and no rule is denied with access_denied", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    expect(await w.kw.authorize(token, "inspections.view", w.inspection("insp_nobody"))).toMatchObject({ reason: "access_denied", visible: false });
  });

  it("R13 a share of one item type does not reach an item of another type with the same id", async () => {
    const w = await world();
    await w.kw.directory.share({ item: { orgId: "acme", type: "template", id: "x1" }, grantee: { kind: "user", userId: w.users.ana.id }, level: "delete" });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("x1"))).reason).toBe("access_denied");
  });

  it.each([
    ["view", "inspections.view", true],
    ["view", "inspections.edit", false],
    ["view", "inspections.delete", false],
    ["edit", "inspections.view", true],
    ["edit", "inspections.edit", true],
    ["edit", "inspections.delete", false],
    ["delete", "inspections.view", true],
    ["delete", "inspections.edit", true],
    ["delete", "inspections.delete", true],
  ] as const)("R13 a %s share → %s allowed: %s (view < edit < delete)", async (level, action, allowed) => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.ana.id }, level });
    const { token } = await w.userToken(w.users.ana.id);
    const d = await w.kw.authorize(token, action, item);
    expect(d.allowed).toBe(allowed);
    if (!allowed) expect(d).toMatchObject({ reason: "access_denied", visible: true });
  });

  it("R13 the strongest of several applicable grants is the one that counts", async () => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
    const strong = await w.kw.directory.share({ item, grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "edit" });
    const { token } = await w.userToken(w.users.ana.id);
    expect(await w.kw.authorize(token, "inspections.edit", item)).toMatchObject({ allowed: true, grant: { id: strong.id, via: "group", level: "edit" } });
  });

  it.each([
    ["matches its condition", { siteId: "site_oslo" }, true],
    ["matches one of the condition's values", { siteId: "site_harbour" }, true],
    ["has another value", { siteId: "site_south" }, false],
    ["lacks the attribute", undefined, false],
  ])("R13 an access rule covers an item that %s", async (_label, attributes, allowed) => {
    const w = await world();
    const rule = await w.kw.directory.addRule({
      orgId: "acme",
      itemType: "inspection",
      conditions: { siteId: ["site_oslo", "site_harbour"] },
      grantee: { kind: "user", userId: w.users.bob.id },
      level: "view",
    });
    const { token } = await w.userToken(w.users.bob.id);
    const d = await w.kw.authorize(token, "inspections.view", w.inspection("insp_1", attributes));
    expect(d.allowed).toBe(allowed);
    if (allowed) expect(d).toMatchObject({ grant: { source: "rule", id: rule.id, via: "user" } });
  });

  it("R13 a rule with several conditions needs all of them", async () => {
    const w = await world();
    await w.kw.directory.addRule({
      orgId: "acme",
      itemType: "inspection",
      conditions: { siteId: ["site_oslo"], templateId: ["tpl_fire"] },
      grantee: { kind: "site", siteId: w.sites.oslo.id },
      level: "edit",
    });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.edit", w.inspection("i1", { siteId: "site_oslo", templateId: "tpl_fire" }))).allowed).toBe(true);
    expect((await w.kw.authorize(token, "inspections.edit", w.inspection("i2", { siteId: "site_oslo", templateId: "tpl_gas" }))).allowed).toBe(false);
  });

  it("R13 a rule with no conditions covers every item of its type in its organization", async () => {
    const w = await world();
    await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("anything"))).allowed).toBe(true);
    expect((await w.kw.authorize(token, "templates.view", { orgId: "acme", type: "template", id: "anything" })).allowed).toBe(false);
  });

  it("R13 removing a rule applies to the next request", async () => {
    const w = await world();
    const rule = await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    await w.kw.directory.removeRule({ orgId: "acme", id: rule.id });
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("i1"))).reason).toBe("access_denied");
  });

  it("R13 unsharing applies to the next request", async () => {
    const w = await world();
    const item = w.inspection("insp_1");
    const share = await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", item)).allowed).toBe(true);
    await w.kw.directory.unshare({ orgId: share.item.orgId, id: share.id });
    expect((await w.kw.authorize(token, "inspections.view", item)).reason).toBe("access_denied");
  });

  it.each([
    ["group", { groupId: "grp_auditors" }, { kind: "group", groupId: "grp_auditors" }],
    ["site", { siteId: "site_north" }, { kind: "site", siteId: "site_oslo" }],
  ] as const)("R13 leaving a %s applies to the next request: access is inherited live, never copied into the token", async (_label, where, grantee) => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    await w.kw.directory.removeFrom({ orgId: "acme", subjectId: w.users.ana.id, ...where });
    expect((await w.kw.authorize(token, "inspections.view", item)).reason).toBe("access_denied");
  });

  it("R13 joining a group applies to the next request", async () => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    const { token } = await w.userToken(w.users.bob.id);
    await w.kw.directory.addTo({ orgId: "acme", subjectId: w.users.bob.id, groupId: w.groups.auditors.id });
    expect((await w.kw.authorize(token, "inspections.view", item)).allowed).toBe(true);
  });

  describe("R13 service users get access only through shares and rules that name them or the organization including service users", () => {
    it.each<[string, boolean, GranteeOf]>([
      ["a share to the service user", true, (w) => ({ kind: "service_user", serviceUserId: w.bot.id })],
      ["a share to the organization including service users", true, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: true })],
      ["a share to the organization without service users", false, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: false })],
      ["a share to a group", false, (w) => ({ kind: "group", groupId: w.groups.auditors.id })],
      ["a share to a site", false, (w) => ({ kind: "site", siteId: w.sites.north.id })],
      ["a share to the admin who created it", false, (w) => ({ kind: "user", userId: w.users.ada.id })],
    ])("R13 %s → allowed: %s", async (_label, allowed, grantee) => {
      const w = await world();
      const item = w.inspection("insp_1");
      await w.kw.directory.share({ item, grantee: grantee(w), level: "edit" });
      const { token } = await w.serviceToken();
      const d = await w.kw.authorize(token, "inspections.edit", item);
      expect(d.allowed).toBe(allowed);
      if (!allowed) expect(d.reason).toBe("access_denied");
    });

    it.each<[string, boolean, GranteeOf]>([
      ["a rule naming the service user", true, (w) => ({ kind: "service_user", serviceUserId: w.bot.id })],
      ["a rule for the organization including service users", true, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: true })],
      ["a rule for the organization without service users", false, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: false })],
      ["a rule for a site", false, (w) => ({ kind: "site", siteId: w.sites.north.id })],
    ])("R13 %s → allowed: %s", async (_label, allowed, grantee) => {
      const w = await world();
      await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", grantee: grantee(w), level: "view" });
      const { token } = await w.serviceToken();
      expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_1"))).allowed).toBe(allowed);
    });

    it("R13 a share to the organization including service users also gives its users access", async () => {
      const w = await world();
      const item = w.inspection("insp_1");
      await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: true }, level: "view" });
      const { token } = await w.userToken(w.users.bob.id);
      expect((await w.kw.authorize(token, "inspections.view", item)).allowed).toBe(true);
    });
  });
});

describe("R14 cross-organization content", () => {
  const betaItem = (w: World) => w.inspection("insp_beta", undefined, "beta");

  it.each<[string, string, boolean, GranteeOf]>([
    ["the token's whole organization", "u_bob", true, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: false })],
    ["the subject itself", "u_ana", true, (w) => ({ kind: "user", userId: w.users.ana.id })],
    ["another user of the token's organization", "u_bob", false, (w) => ({ kind: "user", userId: w.users.ana.id })],
    ["its own group, even one the user is in", "u_ana", false, (w) => ({ kind: "group", groupId: w.groups.betaCrew.id })],
    ["its own site, even one the user is in", "u_ana", false, (w) => ({ kind: "site", siteId: w.sites.betaSite.id })],
    ["its own organization", "u_ana", false, () => ({ kind: "organization", orgId: "beta", includeServiceUsers: true })],
  ])("R14 beta shares an item with %s → an acme token (%s) allowed: %s", async (_label, userId, allowed, grantee) => {
    const w = await world();
    const item = betaItem(w);
    await w.kw.directory.share({ item, grantee: grantee(w), level: "view" });
    const { token } = await w.userToken(userId);
    const d = await w.kw.authorize(token, "inspections.view", item);
    expect(d.allowed).toBe(allowed);
    if (d.allowed) expect(d).toMatchObject({ orgId: "acme", grant: { crossOrg: true } });
    else expect(d).toMatchObject({ reason: "access_denied", visible: false });
  });

  it.each<[string, boolean, GranteeOf]>([
    ["the service user itself", true, (w) => ({ kind: "service_user", serviceUserId: w.bot.id })],
    ["the token's organization including service users", true, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: true })],
    ["the token's organization without service users", false, () => ({ kind: "organization", orgId: "acme", includeServiceUsers: false })],
  ])("R14 beta shares an item with %s → acme's service token allowed: %s", async (_label, allowed, grantee) => {
    const w = await world();
    const item = betaItem(w);
    await w.kw.directory.share({ item, grantee: grantee(w), level: "view" });
    const { token } = await w.serviceToken();
    expect((await w.kw.authorize(token, "inspections.view", item)).allowed).toBe(allowed);
  });

  it("R14 a rule of beta naming acme reaches acme's tokens", async () => {
    const w = await world();
    await w.kw.directory.addRule({ orgId: "beta", itemType: "inspection", grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
    const { token } = await w.userToken(w.users.bob.id);
    expect(await w.kw.authorize(token, "inspections.view", betaItem(w))).toMatchObject({ allowed: true, grant: { source: "rule", crossOrg: true } });
  });

  it("R14 a rule of acme never reaches a beta item", async () => {
    const w = await world();
    await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", grantee: { kind: "organization", orgId: "acme", includeServiceUsers: true }, level: "delete" });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", betaItem(w))).reason).toBe("access_denied");
  });

  it("R14 the permission check still uses the token's own organization: no acme permission, no access to beta's shared item", async () => {
    const w = await world();
    const item = betaItem(w);
    await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
    const { token } = await w.userToken(w.users.carl.id);
    expect((await w.kw.authorize(token, "inspections.view", item)).reason).toBe("permission_denied");
  });

  it("R14 a permission held in beta does not count for the acme token", async () => {
    const w = await world();
    const item = betaItem(w);
    await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
    await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.ana.id, permissionSetId: w.sets.none.id });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", item)).reason).toBe("permission_denied");
  });

  it("R14 a beta item shared with someone else and one that does not exist get the same denial", async () => {
    const w = await world();
    await w.kw.directory.share({ item: betaItem(w), grantee: { kind: "user", userId: w.users.bea.id }, level: "delete" });
    const { token } = await w.userToken(w.users.ana.id);
    const existing = await w.kw.authorize(token, "inspections.view", betaItem(w));
    const missing = await w.kw.authorize(token, "inspections.view", w.inspection("insp_beta_nope", undefined, "beta"));
    expect(existing).toEqual(missing);
  });

  it("R14 a cross-organization share applies at its level only", async () => {
    const w = await world();
    const item = betaItem(w);
    await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    expect(await w.kw.authorize(token, "inspections.edit", item)).toMatchObject({ reason: "access_denied", visible: true });
  });
});
