/**
 * `kw.tokens.reach()`: an administrator's review of everything a token can reach, before or
 * after it is used, without its secret.
 */
import { describe, expect, it } from "vitest";
import { caught, world, type World } from "../core/fixture.js";

async function anaWithGrants(w: World) {
  const d = w.kw.directory;
  const { ana } = w.users;
  await d.share({ id: "sh_direct", item: { orgId: "acme", type: "inspection", id: "i_1" }, grantee: { kind: "user", userId: ana.id }, level: "edit" });
  await d.share({ id: "sh_group", item: { orgId: "acme", type: "inspection", id: "i_2" }, grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
  await d.share({ id: "sh_beta", item: { orgId: "beta", type: "inspection", id: "b_1" }, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: true }, level: "view" });
  await d.share({ id: "sh_bob", item: { orgId: "acme", type: "inspection", id: "i_3" }, grantee: { kind: "user", userId: w.users.bob.id }, level: "delete" });
  await d.addRule({ id: "rul_oslo", orgId: "acme", itemType: "inspection", conditions: { siteId: [w.sites.oslo.id] }, grantee: { kind: "site", siteId: w.sites.oslo.id }, level: "delete" });
  await d.share({ id: "sh_tpl", item: { orgId: "acme", type: "template", id: "t_1" }, grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "view" });
  return w.userToken(ana.id);
}

describe("tokens.reach(): everything a token can reach", () => {
  it("R12 R13 R14 lists the subject, its permissions and actions, and per item type every grant it can use with the actions each enables — before first use, without the secret", async () => {
    const w = await world();
    const { token, record } = await anaWithGrants(w);
    const reach = await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id });
    expect(reach.subject).toEqual({ kind: "user", id: w.users.ana.id, name: "Ana Inspector" });
    expect(reach.refusal).toBeNull();
    expect(reach.token).toMatchObject({ id: record.id, status: "active", lastUsedAt: null });
    expect(reach.permissions).toEqual([...w.sets.inspector.permissions].sort());
    expect(reach.actions).toEqual(["inspections.view", "inspections.edit", "inspections.delete", "templates.view", "reports.export"]);
    const inspections = reach.itemTypes.find((t) => t.itemType === "inspection")!;
    expect(inspections.actions).toEqual(["inspections.view", "inspections.edit", "inspections.delete"]);
    expect(inspections.grants).toEqual([
      { source: "rule", id: "rul_oslo", via: "site", level: "delete", orgId: "acme", crossOrg: false, conditions: { siteId: [w.sites.oslo.id] }, actions: ["inspections.view", "inspections.edit", "inspections.delete"] },
      { source: "share", id: "sh_direct", via: "user", level: "edit", orgId: "acme", crossOrg: false, item: { orgId: "acme", type: "inspection", id: "i_1" }, actions: ["inspections.view", "inspections.edit"] },
      { source: "share", id: "sh_beta", via: "organization", level: "view", orgId: "beta", crossOrg: true, item: { orgId: "beta", type: "inspection", id: "b_1" }, actions: ["inspections.view"] },
      { source: "share", id: "sh_group", via: "group", level: "view", orgId: "acme", crossOrg: false, item: { orgId: "acme", type: "inspection", id: "i_2" }, actions: ["inspections.view"] },
    ]);
    expect(reach.itemTypes.find((t) => t.itemType === "template")).toEqual({ itemType: "template", actions: ["templates.view"], grants: [] });
    const json = JSON.stringify(reach);
    expect(json).not.toContain(token);
    expect(json).not.toContain(token.slice(4, 40));
    expect(json).not.toContain('"hash"');
  });

  it("R12 a grant the subject lacks the permission to use enables no action; the reach agrees with accessible()", async () => {
    const w = await world();
    await anaWithGrants(w);
    const { token, record } = await w.userToken(w.users.bob.id);
    const reach = await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id });
    const inspections = reach.itemTypes.find((t) => t.itemType === "inspection")!;
    expect(inspections.actions).toEqual(["inspections.view"]);
    // Bob is in Harbour, below Oslo: a rule naming Oslo covers members of Oslo and above, not him (R13 nesting).
    // His delete share enables only what his viewer permissions allow.
    expect(inspections.grants.map((g) => [g.id, g.level, g.actions])).toEqual([["sh_bob", "delete", ["inspections.view"]], ["sh_beta", "view", ["inspections.view"]]]);
    const access = await w.kw.accessible(token, "inspections.view", "inspection");
    if (!access.allowed) throw new Error("expected a filter");
    expect(access.filter.shared.flatMap((s) => s.ids.map((id) => `${s.orgId}/${id}`)).sort()).toEqual(inspections.grants.filter((g) => g.item).map((g) => `${g.item!.orgId}/${g.item!.id}`).sort());
    expect(access.filter.rules).toEqual([]);
  });

  it("R13 a service token's reach has only what names it or includes service users; it needs the service-user management permission", async () => {
    const w = await world();
    await anaWithGrants(w);
    const { record } = await w.serviceToken();
    const reach = await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id });
    expect(reach.subject).toEqual({ kind: "service_user", id: w.bot.id, name: "BI export" });
    expect(reach.itemTypes.map((t) => [t.itemType, t.grants.map((g) => g.id)])).toEqual([["inspection", ["sh_beta"]], ["template", ["sh_tpl"]]]);
    // The bot's permission set has no templates:view: the share enables nothing.
    expect(reach.itemTypes[1]!.grants[0]!.actions).toEqual([]);
    expect(await caught(() => w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id }))).toMatchObject({ code: "forbidden" });
  });

  it("R10 R11 a user may review their own token; another member without the token-management permission may not", async () => {
    const w = await world();
    const { record } = await anaWithGrants(w);
    expect((await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id })).subject.id).toBe(w.users.ana.id);
    expect(await caught(() => w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id }))).toMatchObject({ code: "forbidden" });
  });

  it("R2 a token of another organization, or none, is not_found for an administrator", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id, "beta");
    expect(await caught(() => w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id }))).toMatchObject({ code: "not_found" });
    expect(await caught(() => w.kw.tokens.reach({ orgId: "acme", tokenId: "tok_nope", actorId: w.users.ada.id }))).toMatchObject({ code: "not_found" });
  });

  it("R6 R11 after use the review records no use of its own; a revoked token reaches nothing and says why", async () => {
    const w = await world();
    const { token, record } = await anaWithGrants(w);
    await w.kw.authorize(token, "inspections.view", w.inspection("i_1"));
    const usedAt = w.clock.now;
    w.advance(60_000);
    const before = await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    expect(before.token.lastUsedAt).toBe(usedAt);
    expect(before.itemTypes[0]!.grants).toHaveLength(4);
    expect((await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id })).token.lastUsedAt).toBe(usedAt);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    const after = await w.kw.tokens.reach({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id });
    expect(after).toMatchObject({ refusal: "token_revoked", permissions: [], actions: [], token: { status: "revoked" } });
    expect(after.itemTypes.every((t) => t.grants.length === 0 && t.actions.length === 0)).toBe(true);
  });
});
