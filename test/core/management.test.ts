/**
 * What a management page asks of the instance instead of the store: the caller's rights (R11,
 * R12) as booleans, their profile, and whether a token id names a live token of an organization
 * and subject. None of them refuses, so none emits `management.refused`.
 */
import { describe, expect, it } from "vitest";
import { memoryStore } from "../../src/memory.js";
import { caught, world } from "./fixture.js";

describe("managementRights and managementProfile", () => {
  it("R11 R12 answer what the actor holds, as booleans, and refuse nothing (no management.refused event)", async () => {
    const w = await world();
    expect(await w.kw.managementRights({ orgId: "acme", actorId: "u_ada" })).toEqual({ manageTokens: true, manageServiceUsers: true });
    expect(await w.kw.managementRights({ orgId: "acme", actorId: "u_ana" })).toEqual({ manageTokens: false, manageServiceUsers: false });
    // Carl is a member without a permission set; Bea belongs to another organization.
    expect(await w.kw.managementRights({ orgId: "acme", actorId: "u_carl" })).toEqual({ manageTokens: false, manageServiceUsers: false });
    expect(await w.kw.managementRights({ orgId: "acme", actorId: "u_bea" })).toEqual({ manageTokens: false, manageServiceUsers: false });
    expect(w.events.filter((e) => e.type === "management.refused")).toEqual([]);
  });

  it("R7 a deactivated administrator holds nothing", async () => {
    const w = await world();
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: "u_ada" });
    expect(await w.kw.managementRights({ orgId: "acme", actorId: "u_ada" })).toEqual({ manageTokens: false, manageServiceUsers: false });
  });

  it("the profile names the user, the organization and the rights; an unknown user or organization is not_found", async () => {
    const w = await world();
    expect(await w.kw.managementProfile({ orgId: "sso", actorId: "u_sam" })).toEqual({
      user: { id: "u_sam", name: w.users.sam.name },
      organization: { id: "sso", name: "SSO Only Ltd", ssoOnly: true, tokenPolicy: null },
      can: { manageTokens: false, manageServiceUsers: false },
      holds: { groups: [], sites: [] },
    });
    expect(await caught(() => w.kw.managementProfile({ orgId: "acme", actorId: "u_nobody" }))).toMatchObject({ code: "not_found" });
    expect(await caught(() => w.kw.managementProfile({ orgId: "nowhere", actorId: "u_ada" }))).toMatchObject({ code: "not_found" });
    expect(await caught(() => w.kw.managementProfile({ orgId: "", actorId: "u_ada" }))).toMatchObject({ code: "invalid_input", field: "orgId" });
  });

  it("R17 R19 the profile holds the member's groups and sites by name (a restricted token's picker) and the organization's token policy; a former member holds none", async () => {
    const w = await world();
    const ana = await w.kw.managementProfile({ orgId: "acme", actorId: "u_ana" });
    expect(ana.holds).toEqual({ groups: [{ id: "grp_auditors", name: "Auditors" }], sites: [{ id: "site_north", name: "North" }] });
    expect(ana.organization.tokenPolicy).toBeNull();
    const policy = { maxLifetimeMs: { user: 90 * 86_400_000 }, requireExpiry: true };
    await w.kw.directory.setTokenPolicy({ orgId: "acme", policy });
    expect((await w.kw.managementProfile({ orgId: "acme", actorId: "u_ana" })).organization.tokenPolicy).toEqual(policy);
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: "u_ana" });
    expect((await w.kw.managementProfile({ orgId: "acme", actorId: "u_ana" })).holds).toEqual({ groups: [], sites: [] });
  });

  it("a failing store is unavailable, with the store's error as cause (fail closed)", async () => {
    const inner = memoryStore();
    const w = await world({ store: inner });
    const boom = new Error("connection refused");
    const spy = inner.getMembership;
    inner.getMembership = () => Promise.reject(boom);
    try {
      expect(await caught(() => w.kw.managementRights({ orgId: "acme", actorId: "u_ada" }))).toMatchObject({ code: "unavailable", cause: boom });
    } finally {
      inner.getMembership = spy;
    }
  });
});

describe("tokens.belongsTo", () => {
  it("is true exactly for a live token of that organization, kind and subject", async () => {
    const w = await world();
    const mine = await w.userToken("u_ana");
    const bot = await w.serviceToken();
    const theirs = await w.userToken("u_bea", "beta");
    const is = (input: Parameters<typeof w.kw.tokens.belongsTo>[0]) => w.kw.tokens.belongsTo(input);
    expect(await is({ orgId: "acme", tokenId: mine.record.id, kind: "user" })).toBe(true);
    expect(await is({ orgId: "acme", tokenId: mine.record.id, kind: "user", subjectId: "u_ana" })).toBe(true);
    expect(await is({ orgId: "acme", tokenId: mine.record.id, kind: "user", subjectId: "u_bob" })).toBe(false);
    expect(await is({ orgId: "acme", tokenId: mine.record.id, kind: "service_user" })).toBe(false);
    expect(await is({ orgId: "acme", tokenId: bot.record.id, kind: "service_user", subjectId: w.bot.id })).toBe(true);
    expect(await is({ orgId: "acme", tokenId: theirs.record.id, kind: "user" })).toBe(false);
    expect(await is({ orgId: "acme", tokenId: "tok_none", kind: "user" })).toBe(false);
    // A revoked token is still the organization's (it is listed); a deleted one is not.
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: mine.record.id, actorId: "u_ana" });
    expect(await is({ orgId: "acme", tokenId: mine.record.id, kind: "user" })).toBe(true);
    await w.kw.tokens.delete({ orgId: "acme", tokenId: mine.record.id, actorId: "u_ada" });
    expect(await is({ orgId: "acme", tokenId: mine.record.id, kind: "user" })).toBe(false);
  });

  it("checks its input (invalid_input naming the field)", async () => {
    const w = await world();
    expect(await caught(() => w.kw.tokens.belongsTo({ orgId: "acme", tokenId: "t", kind: "robot" as never }))).toMatchObject({ code: "invalid_input", field: "kind" });
  });
});
