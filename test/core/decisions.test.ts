/**
 * Decisions and records (R15, R16), read as a specification: one request per case.
 */
import { describe, expect, it, vi } from "vitest";
import { createKeyward, isForbidden, KeywardError, type KeywardEvent } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { ACTIONS, caught, DAY, THIRTY_DAYS, world, type World } from "./fixture.js";

/** A well-formed token (valid checksum) that was never issued. */
async function unknownToken(): Promise<string> {
  const other = await world();
  return (await other.userToken(other.users.ana.id)).token;
}

describe("R15 decisions: the reasons, in order", () => {
  it("R15 token_malformed comes first, even for an unknown action", async () => {
    const w = await world();
    expect(await w.kw.authorize("kwu_not-a-token", "nope" as never)).toEqual({ allowed: false, reason: "token_malformed", action: "nope" });
  });

  it("R15 token_unknown: a well-formed token this deployment never issued", async () => {
    const w = await world();
    expect(await w.kw.authorize(await unknownToken(), "reports.export")).toEqual({ allowed: false, reason: "token_unknown", action: "reports.export" });
  });

  it("R15 token_revoked comes before token_expired and subject_inactive", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
    w.advance(THIRTY_DAYS);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_revoked");
  });

  it("R15 token_expired comes before subject_inactive", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
    w.advance(THIRTY_DAYS);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_expired");
  });

  it("R15 subject_inactive comes before permission_denied", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.carl.id);
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.carl.id });
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("subject_inactive");
  });

  it("R15 permission_denied comes before access_denied, so a denial never says whether the item exists", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.bob.id);
    expect((await w.kw.authorize(token, "inspections.edit", w.inspection("insp_beta", undefined, "beta"))).reason).toBe("permission_denied");
  });

  it("R15 an unknown action is permission_denied, flagged as the host's configuration error", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ada.id);
    expect(await w.kw.authorize(token, "inspections.archive" as never)).toMatchObject({ allowed: false, reason: "permission_denied", unknownAction: true });
  });

  it("R15 an allowed decision names the subject (kind, id, name), the organization, the token and the grant", async () => {
    const w = await world();
    const item = w.inspection("insp_1");
    const share = await w.kw.directory.share({ item, grantee: { kind: "site", siteId: w.sites.oslo.id }, level: "edit" });
    const { token, record } = await w.userToken(w.users.ana.id);
    expect(await w.kw.authorize(token, "inspections.edit", item)).toEqual({
      allowed: true,
      reason: "allowed",
      action: "inspections.edit",
      subject: { kind: "user", id: "u_ana", name: "Ana Inspector" },
      orgId: "acme",
      tokenId: record.id,
      grant: { source: "share", id: share.id, via: "site", level: "edit", crossOrg: false },
      // R19: a user token's effective expiry after this use: the inactivity deadline from now.
      expiresAt: w.clock.now + THIRTY_DAYS,
    });
  });

  it("R15 an allowed decision of a service token names the service user", async () => {
    const w = await world();
    const { token, record } = await w.serviceToken();
    expect(await w.kw.authorize(token, "reports.export")).toEqual({
      allowed: true,
      reason: "allowed",
      action: "reports.export",
      subject: { kind: "service_user", id: w.bot.id, name: "BI export" },
      orgId: "acme",
      tokenId: record.id,
      // R19: a service token without a date or a policy never expires.
      expiresAt: null,
    });
  });

  it("R15 an allowed cross-organization decision says so in its grant", async () => {
    const w = await world();
    const item = w.inspection("insp_beta", undefined, "beta");
    const share = await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", item)) as unknown).toMatchObject({
      grant: { source: "share", id: share.id, via: "organization", level: "view", crossOrg: true },
    });
  });

  it("R15 a denial after the token is known still names the subject and the token", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.carl.id);
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ subject: { kind: "user", id: "u_carl", name: "Carl Nobody" }, orgId: "acme", tokenId: record.id });
  });

  it("R15 the throwing form throws a KeywardError whose code is the reason, with the action and the item", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const item = w.inspection("insp_1");
    const e = await caught(() => w.kw.assertAuthorized(token, "inspections.view", item));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "access_denied", action: "inspections.view", item: { orgId: "acme", type: "inspection", id: "insp_1" }, visible: false });
    expect(isForbidden(e)).toBe(true);
  });

  it("R15 the throwing form resolves to the allowed decision", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    await expect(w.kw.assertAuthorized(token, "reports.export")).resolves.toMatchObject({ allowed: true, subject: { id: "u_ana" } });
  });
});

describe("R16 activity log", () => {
  const ofType = <T extends KeywardEvent["type"]>(events: KeywardEvent[], type: T) =>
    events.filter((e): e is KeywardEvent & { type: T } => e.type === type);

  it("R16 creating a user token emits token.created naming the person, the token, the organization and the time", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id);
    expect(ofType(w.events, "token.created")).toEqual([
      { type: "token.created", at: w.clock.now, tokenId: record.id, orgId: "acme", subject: { kind: "user", id: "u_ana", name: "Ana Inspector" }, tokenName: "laptop", actorId: "u_ana" },
    ]);
  });

  it("R16 creating a service token emits token.created naming the service user (not the admin), with the admin as actor", async () => {
    const w = await world();
    const { record } = await w.serviceToken();
    expect(ofType(w.events, "token.created")).toEqual([
      expect.objectContaining({ tokenId: record.id, subject: { kind: "service_user", id: w.bot.id, name: "BI export" }, actorId: "u_ada" }),
    ]);
  });

  it("R16 a revocation emits token.revoked with the actor", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id);
    w.advance(DAY);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    expect(ofType(w.events, "token.revoked")).toEqual([
      expect.objectContaining({ at: w.clock.now, tokenId: record.id, subject: { kind: "user", id: "u_ana", name: "Ana Inspector" }, actorId: "u_ana" }),
    ]);
  });

  it("R16 an administrator's deletion emits token.deleted naming the token's owner and the administrator", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id);
    await w.kw.tokens.delete({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id });
    expect(ofType(w.events, "token.deleted")).toEqual([
      expect.objectContaining({ tokenId: record.id, subject: { kind: "user", id: "u_ana", name: "Ana Inspector" }, actorId: "u_ada" }),
    ]);
  });

  it("R16 expiry by inactivity emits token.expired (cause inactivity) once, when it is first seen", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    w.advance(THIRTY_DAYS);
    await w.kw.authorize(token, "reports.export");
    await w.kw.authorize(token, "reports.export");
    expect(ofType(w.events, "token.expired")).toEqual([
      expect.objectContaining({ tokenId: record.id, cause: "inactivity", subject: { kind: "user", id: "u_ana", name: "Ana Inspector" }, at: w.clock.now }),
    ]);
  });

  it.each([
    ["deactivation", (w: World) => w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id })],
    ["departure", (w: World) => w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id })],
  ])("R16 a %s emits token.expired (cause subject_inactive) for each of the user's live tokens, and no other", async (_label, change) => {
    const w = await world();
    const a = await w.userToken(w.users.ana.id, "acme", "a");
    const b = await w.userToken(w.users.ana.id, "acme", "b");
    const revoked = await w.userToken(w.users.ana.id, "acme", "revoked");
    await w.userToken(w.users.ana.id, "beta", "beta");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.ana.id });
    await change(w);
    const expired = ofType(w.events, "token.expired");
    expect(expired.map((e) => e.tokenId).sort()).toEqual([a.record.id, b.record.id].sort());
    for (const e of expired) expect(e).toMatchObject({ cause: "subject_inactive", subject: { name: "Ana Inspector" } });
  });

  it("R16 deleting a service user emits token.expired (cause subject_inactive) for its tokens, naming the service user", async () => {
    const w = await world();
    const { record } = await w.serviceToken();
    await w.kw.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.ada.id });
    expect(ofType(w.events, "token.expired")).toEqual([
      expect.objectContaining({ tokenId: record.id, cause: "subject_inactive", subject: { kind: "service_user", id: w.bot.id, name: "BI export" } }),
    ]);
  });

  it("R16 every decision, allowed or denied, emits one authorization event", async () => {
    const w = await world();
    const user = await w.userToken(w.users.ana.id);
    const carl = await w.userToken(w.users.carl.id);
    const item = w.inspection("insp_1");
    const decisions = [
      await w.kw.authorize(user.token, "reports.export"),
      await w.kw.authorize(user.token, "inspections.view", item),
      await w.kw.authorize(carl.token, "reports.export"),
      await w.kw.authorize("garbage", "reports.export"),
      await w.kw.authorize(await unknownToken(), "reports.export"),
    ];
    const events = ofType(w.events, "authorization");
    expect(events.map((e) => [e.outcome, e.reason])).toEqual(decisions.map((d) => [d.allowed ? "allowed" : "denied", d.reason]));
  });

  it("R16 an allowed decision's event names the subject, the token, the action, the item, the grant and the time", async () => {
    const w = await world();
    const item = w.inspection("insp_1", { siteId: "site_oslo" });
    const share = await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
    const { token, record } = await w.userToken(w.users.ana.id);
    w.advance(DAY);
    w.events.length = 0;
    await w.kw.authorize(token, "inspections.view", item, { request: { method: "GET", path: "/inspections/insp_1" } });
    expect(w.events).toEqual([
      {
        type: "authorization",
        at: w.clock.now,
        outcome: "allowed",
        reason: "allowed",
        action: "inspections.view",
        item: { orgId: "acme", type: "inspection", id: "insp_1" },
        tokenId: record.id,
        orgId: "acme",
        subject: { kind: "user", id: "u_ana", name: "Ana Inspector" },
        grant: { source: "share", id: share.id, via: "user", level: "view", crossOrg: false },
        request: { method: "GET", path: "/inspections/insp_1" },
      },
    ]);
  });

  it("R16 a service token's decision event names the service user, not the admin who created it", async () => {
    const w = await world();
    const { token, record } = await w.serviceToken();
    w.events.length = 0;
    await w.kw.authorize(token, "templates.view", { orgId: "acme", type: "template", id: "tpl" });
    expect(w.events).toEqual([
      expect.objectContaining({ outcome: "denied", reason: "permission_denied", tokenId: record.id, subject: { kind: "service_user", id: w.bot.id, name: "BI export" } }),
    ]);
  });

  it("R16 a denial of an unknown or malformed token is recorded without a subject", async () => {
    const w = await world();
    await w.kw.authorize("kwu_short", "reports.export");
    expect(w.events).toEqual([{ type: "authorization", at: w.clock.now, outcome: "denied", reason: "token_malformed", action: "reports.export" }]);
  });

  it("R16 a login emits a login event, allowed for a user token and denied for a service token", async () => {
    const w = await world();
    const user = await w.userToken(w.users.ana.id);
    const svc = await w.serviceToken();
    w.events.length = 0;
    await w.kw.login(user.token);
    await caught(() => w.kw.login(svc.token));
    expect(w.events).toEqual([
      expect.objectContaining({ type: "login", outcome: "allowed", tokenId: user.record.id, subject: { kind: "user", id: "u_ana", name: "Ana Inspector" } }),
      expect.objectContaining({ type: "login", outcome: "denied", reason: "login_not_allowed", tokenId: svc.record.id, subject: { kind: "service_user", id: w.bot.id, name: "BI export" } }),
    ]);
  });

  it("R16 an event sink that throws does not change the decision; the error goes to onEventError", async () => {
    const onEventError = vi.fn();
    const kw = createKeyward({
      store: memoryStore(),
      actions: ACTIONS,
      onEvent: () => {
        throw new Error("audit log down");
      },
      onEventError,
    });
    expect(await kw.authorize("kwu_x", "reports.export")).toMatchObject({ allowed: false, reason: "token_malformed" });
    expect(onEventError).toHaveBeenCalledTimes(1);
  });
});
