/**
 * Edges of the lifecycle: expiry events for tokens nobody presents again (R6, R16), and a user
 * who left is no longer a member to deactivate or reactivate (R7).
 */
import { describe, expect, it } from "vitest";
import { KeywardError } from "../../src/index.js";
import { DAY, THIRTY_DAYS, world } from "./fixture.js";

describe("R16 expiry events without a request", () => {
  it("R16 sweepExpired records an idle token's expiry once and emits token.expired (cause inactivity)", async () => {
    const w = await world();
    const idle = await w.userToken(w.users.ana.id, "acme", "idle");
    w.advance(10 * DAY);
    const used = await w.userToken(w.users.ana.id, "acme", "used");
    w.advance(THIRTY_DAYS - 10 * DAY);
    expect(await w.kw.tokens.sweepExpired({ orgId: "acme" })).toBe(1);
    expect(await w.kw.tokens.sweepExpired({ orgId: "acme" })).toBe(0);
    const expired = w.events.filter((e) => e.type === "token.expired");
    expect(expired).toEqual([expect.objectContaining({ tokenId: idle.record.id, cause: "inactivity", subject: { kind: "user", id: "u_ana", name: "Ana Inspector" } })]);
    expect((await w.kw.authorize(idle.token, "reports.export")).reason).toBe("token_expired");
    expect((await w.kw.authorize(used.token, "reports.export")).allowed).toBe(true);
    // Presenting it again does not announce it a second time.
    expect(w.events.filter((e) => e.type === "token.expired")).toHaveLength(1);
  });

  it("R16 sweepExpired leaves revoked tokens and tokens of deactivated users alone (their event was already emitted)", async () => {
    const w = await world();
    const revoked = await w.userToken(w.users.ana.id, "acme", "revoked");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.ana.id });
    await w.userToken(w.users.bob.id, "acme", "bob");
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.bob.id });
    const before = w.events.filter((e) => e.type === "token.expired").length;
    w.advance(THIRTY_DAYS);
    expect(await w.kw.tokens.sweepExpired({ orgId: "acme" })).toBe(0);
    expect(w.events.filter((e) => e.type === "token.expired")).toHaveLength(before);
  });
});

describe("R7 a user who left is not a member", () => {
  it.each([
    ["deactivateMember", "deactivateMember"],
    ["reactivateMember", "reactivateMember"],
    ["updateMember", "updateMember"],
  ] as const)("R7 %s on a user who left fails with not_found and leaves them out of the user list", async (_label, method) => {
    const w = await world();
    await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id });
    const err = await w.kw.directory[method]({ orgId: "acme", userId: w.users.ana.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeywardError);
    expect((err as KeywardError).code).toBe("not_found");
    const listed = (await w.kw.directory.listMembers({ orgId: "acme" })).items.map((m) => m.user.id);
    expect(listed).not.toContain(w.users.ana.id);
  });

  it("R7 removing a user who already left changes nothing", async () => {
    const w = await world();
    const first = await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id });
    const again = await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id });
    expect(again).toEqual(first);
  });
});
