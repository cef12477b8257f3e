/**
 * Tokens (R1–R11), read as a specification: one request per case, through the public API.
 */
import { inspect } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { KeywardError, tokenPattern, verifyChecksum } from "../../src/index.js";
import { tokenHasher } from "../../src/core.js";
import { caught, DAY, PASSWORD, THIRTY_DAYS, world } from "./fixture.js";

describe("R1 subjects", () => {
  it("R1 a user has a separate membership in each organization: deactivation in one leaves the other working", async () => {
    const w = await world();
    const acmeToken = (await w.userToken(w.users.ana.id, "acme")).token;
    await w.kw.directory.deactivateMember({ orgId: "beta", userId: w.users.ana.id });
    const d = await w.kw.authorize(acmeToken, "reports.export");
    expect(d).toMatchObject({ allowed: true, orgId: "acme", subject: { kind: "user", id: "u_ana" } });
  });

  it("R1 a user's permissions come from the membership of the token's organization", async () => {
    const w = await world();
    const betaToken = (await w.userToken(w.users.ana.id, "beta")).token;
    await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.ana.id, permissionSetId: w.sets.none.id });
    expect((await w.kw.authorize(betaToken, "reports.export")).allowed).toBe(true);
  });

  it("R1 a service user belongs to one organization, with a name and its own permission set", async () => {
    const w = await world();
    const [bot] = await w.kw.serviceUsers.list({ orgId: "acme", actorId: w.users.ada.id });
    expect(bot).toMatchObject({ id: w.bot.id, orgId: "acme", name: "BI export", permissionSetId: w.sets.bot.id });
    expect(await w.kw.serviceUsers.list({ orgId: "beta", actorId: w.users.bea.id })).toEqual([]);
  });

  it("R1 a service user cannot be given a permission set of another organization", async () => {
    const w = await world();
    const e = await caught(() =>
      w.kw.serviceUsers.update({ orgId: "acme", id: w.bot.id, permissionSetId: w.sets.betaAdmin.id, actorId: w.users.ada.id }),
    );
    expect(e).toMatchObject({ code: "not_found", field: "permissionSetId" });
  });
});

describe("R2 one organization per token", () => {
  it("R2 an allowed decision names the token's organization", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id, "beta");
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: true, orgId: "beta" });
  });

  it("R2 a user in two organizations holds two distinct tokens, one per organization", async () => {
    const w = await world();
    const a = await w.userToken(w.users.ana.id, "acme");
    const b = await w.userToken(w.users.ana.id, "beta");
    expect(a.token).not.toBe(b.token);
    expect([a.record.orgId, b.record.orgId]).toEqual(["acme", "beta"]);
  });

  it("R2 an acme token does not reach a beta item shared with a beta group the user belongs to", async () => {
    const w = await world();
    const item = w.inspection("insp_beta", undefined, "beta");
    await w.kw.directory.share({ item, grantee: { kind: "group", groupId: w.groups.betaCrew.id }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id, "acme");
    expect(await w.kw.authorize(token, "inspections.view", item)).toMatchObject({ allowed: false, reason: "access_denied" });
  });

  it("R2 the user's beta token does reach that beta item", async () => {
    const w = await world();
    const item = w.inspection("insp_beta", undefined, "beta");
    await w.kw.directory.share({ item, grantee: { kind: "group", groupId: w.groups.betaCrew.id }, level: "view" });
    const { token } = await w.userToken(w.users.ana.id, "beta");
    expect(await w.kw.authorize(token, "inspections.view", item)).toMatchObject({ allowed: true, orgId: "beta" });
  });
});

describe("R3 limits", () => {
  it("R3 the eleventh active user token of a user in an organization fails with token_limit_reached", async () => {
    const w = await world();
    for (let i = 0; i < 10; i++) await w.userToken(w.users.ana.id, "acme", `t${i}`);
    const e = await caught(() => w.userToken(w.users.ana.id, "acme", "one too many"));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "token_limit_reached" });
  });

  it("R3 a refused creation creates nothing", async () => {
    const w = await world();
    for (let i = 0; i < 10; i++) await w.userToken(w.users.ana.id, "acme", `t${i}`);
    await caught(() => w.userToken(w.users.ana.id, "acme", "one too many"));
    const mine = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    expect(mine).toHaveLength(10);
    expect(mine.map((t) => t.name)).not.toContain("one too many");
    expect(w.events.filter((e) => e.type === "token.created")).toHaveLength(10);
  });

  it("R3 the user limit is per organization: ten in acme leave room in beta", async () => {
    const w = await world();
    for (let i = 0; i < 10; i++) await w.userToken(w.users.ana.id, "acme", `t${i}`);
    await expect(w.userToken(w.users.ana.id, "beta")).resolves.toMatchObject({ record: { orgId: "beta" } });
  });

  it("R3 the user limit is per user: Ana's ten leave room for Bob", async () => {
    const w = await world();
    for (let i = 0; i < 10; i++) await w.userToken(w.users.ana.id, "acme", `t${i}`);
    await expect(w.userToken(w.users.bob.id)).resolves.toMatchObject({ record: { subjectId: "u_bob" } });
  });

  it("R3 the twenty-first active service token of an organization fails, counted over all its service users", async () => {
    const w = await world();
    const other = await w.kw.serviceUsers.create({ orgId: "acme", name: "Backup", permissionSetId: w.sets.bot.id, actorId: w.users.ada.id });
    for (let i = 0; i < 10; i++) await w.serviceToken(w.bot.id, `bi${i}`);
    for (let i = 0; i < 10; i++) await w.serviceToken(other.id, `backup${i}`);
    expect(await caught(() => w.serviceToken(other.id, "21st"))).toMatchObject({ code: "token_limit_reached" });
    expect((await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.ada.id })).items).toHaveLength(20);
  });

  it.each([
    ["revoked", async (w: Awaited<ReturnType<typeof world>>, id: string) => w.kw.tokens.revoke({ orgId: "acme", tokenId: id, actorId: w.users.ana.id })],
    ["deleted", async (w: Awaited<ReturnType<typeof world>>, id: string) => w.kw.tokens.delete({ orgId: "acme", tokenId: id, actorId: w.users.ada.id })],
  ])("R3 a %s token no longer counts toward the limit", async (_label, end) => {
    const w = await world();
    const first = await w.userToken(w.users.ana.id, "acme", "first");
    for (let i = 1; i < 10; i++) await w.userToken(w.users.ana.id, "acme", `t${i}`);
    await end(w, first.record.id);
    await expect(w.userToken(w.users.ana.id, "acme", "replacement")).resolves.toBeDefined();
  });

  it("R3 a token expired by inactivity no longer counts toward the limit", async () => {
    const w = await world();
    for (let i = 0; i < 10; i++) await w.userToken(w.users.ana.id, "acme", `t${i}`);
    w.advance(THIRTY_DAYS);
    await expect(w.userToken(w.users.ana.id, "acme", "fresh")).resolves.toBeDefined();
  });

  it.each([
    ["user", { userTokensPerUser: 2 }, 2],
    ["service", { serviceTokensPerOrg: 3 }, 3],
  ] as const)("R3 the %s limit is configurable", async (kind, limits, max) => {
    const w = await world({ limits });
    const create = (i: number) => (kind === "user" ? w.userToken(w.users.ana.id, "acme", `t${i}`) : w.serviceToken(w.bot.id, `t${i}`));
    for (let i = 0; i < max; i++) await create(i);
    expect(await caught(() => create(max))).toMatchObject({ code: "token_limit_reached" });
  });

  it("R3 of 25 concurrent creations for a user, exactly 10 succeed and the others fail with token_limit_reached", async () => {
    const w = await world();
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => w.userToken(w.users.ana.id, "acme", `race${i}`)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "token_limit_reached" });
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toHaveLength(10);
  });
});

describe("R4 re-authentication", () => {
  it("R4 creating a user token checks the user's password through the host's hook", async () => {
    const verifyPassword = vi.fn((_userId: string, password: string) => password === PASSWORD);
    const w = await world({ verifyPassword });
    await w.userToken(w.users.ana.id);
    expect(verifyPassword).toHaveBeenCalledWith("u_ana", PASSWORD);
  });

  it.each([
    ["a wrong password", "hunter2"],
    ["a missing password", undefined],
    ["an empty password", ""],
  ])("R4 %s fails with reauthentication_failed", async (_label, password) => {
    const w = await world();
    const e = await caught(() => w.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "x", ...(password === undefined ? {} : { password }) }));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "reauthentication_failed" });
  });

  it.each([
    ["a wrong password", "hunter2"],
    ["a missing password", undefined],
  ])("R4 %s creates nothing", async (_label, password) => {
    const w = await world();
    await caught(() => w.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "x", ...(password === undefined ? {} : { password }) }));
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toEqual([]);
    expect(w.events.filter((e) => e.type === "token.created")).toEqual([]);
  });

  it.each([
    ["throws", () => { throw new Error("identity provider down"); }],
    ["rejects", () => Promise.reject(new Error("identity provider down"))],
  ])("R4 a hook that %s is unavailable (the password could not be checked, not a wrong one), with its error as cause, and creates nothing", async (_label, hook) => {
    const w = await world({ verifyPassword: hook as unknown as () => boolean });
    const e = await caught(() => w.userToken(w.users.ana.id));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "unavailable" });
    expect(((e as KeywardError).cause as Error).message).toBe("identity provider down");
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toEqual([]);
    expect(w.events.filter((ev) => ev.type === "token.created")).toEqual([]);
  });

  it("R4 a hook answering a truthy non-boolean does not count as success", async () => {
    const w = await world({ verifyPassword: (() => "yes") as unknown as () => boolean });
    expect(await caught(() => w.userToken(w.users.ana.id))).toMatchObject({ code: "reauthentication_failed" });
  });

  it("R4 an organization with password logins but no hook configured is a configuration error, and creates nothing", async () => {
    const { createKeyward } = await import("../../src/index.js");
    const w = await world();
    const noHook = createKeyward({ store: w.store, actions: {} });
    expect(await caught(() => noHook.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "x", password: PASSWORD }))).toMatchObject({ code: "invalid_config" });
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toEqual([]);
  });

  it("R4 an SSO-only organization asks no password: the hook is not called", async () => {
    const verifyPassword = vi.fn(() => false);
    const w = await world({ verifyPassword });
    const created = await w.kw.tokens.createUserToken({ orgId: "sso", userId: w.users.sam.id, name: "cli" });
    expect(created.record).toMatchObject({ orgId: "sso", subjectId: "u_sam", status: "active" });
    expect(verifyPassword).not.toHaveBeenCalled();
  });

  it("R4 service tokens need no password (they are created by someone managing service users)", async () => {
    const verifyPassword = vi.fn(() => false);
    const w = await world({ verifyPassword });
    await expect(w.serviceToken()).resolves.toBeDefined();
    expect(verifyPassword).not.toHaveBeenCalled();
  });
});

describe("R5 shown once", () => {
  it("R5 creation returns the secret once, in the token format, with a checksum", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    expect(token).toMatch(/^kwu_[0-9A-Za-z]{49}$/);
    expect(verifyChecksum(token)).toBe(true);
    expect(token.match(tokenPattern({ global: true }))).toEqual([token]);
  });

  it("R5 the store keeps only the SHA-256 digest of the token, never the token", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    const stored = await w.store.getToken(record.id);
    expect(stored?.hash).toBe(tokenHasher()(token));
    expect(Object.values(stored ?? {})).not.toContain(token);
  });

  it("R5 with a pepper the stored digest is the HMAC, not the plain SHA-256", async () => {
    const w = await world({ pepper: "server-side pepper" });
    const { token, record } = await w.userToken(w.users.ana.id);
    const stored = await w.store.getToken(record.id);
    expect(stored?.hash).toBe(tokenHasher("server-side pepper")(token));
    expect(stored?.hash).not.toBe(tokenHasher()(token));
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R5 the secret (canary) never appears in listings, events, errors or the store's listings, however serialized", async () => {
    const w = await world();
    const user = await w.userToken(w.users.ana.id);
    const service = await w.serviceToken();
    const canaries = [user.token, service.token];
    // Use the tokens every way a host would: allowed, denied, login, failures, revocation, expiry.
    const item = w.inspection("insp_1");
    const seen: unknown[] = [];
    for (const t of canaries) {
      seen.push(await w.kw.authorize(t, "reports.export"));
      seen.push(await w.kw.authorize(t, "inspections.view", item));
      seen.push(await w.kw.authorize(t, "templates.view", { orgId: "acme", type: "template", id: "tpl" }));
      seen.push(await caught(() => w.kw.assertAuthorized(t, "inspections.edit", item)));
      seen.push(await w.kw.login(t).catch((e: unknown) => e));
      seen.push(await caught(() => w.kw.authorize(t, "inspections.view", { orgId: "acme", type: "inspection", id: "" })));
    }
    seen.push((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items);
    seen.push((await w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id })).items);
    seen.push((await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.ada.id })).items);
    seen.push(await w.store.listTokens({ orgId: "acme" }));
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: user.record.id, actorId: w.users.ana.id });
    w.advance(THIRTY_DAYS);
    seen.push(await w.kw.authorize(user.token, "reports.export"));
    seen.push(w.events);
    const dumps = seen.flatMap((s) => [JSON.stringify(s), inspect(s, { depth: Infinity, showHidden: true })]);
    // Errors: their message and toJSON form too.
    for (const s of seen) if (s instanceof Error) dumps.push(s.message, String(s.stack), JSON.stringify(s));
    for (const canary of canaries) {
      const body = canary.slice(4);
      for (const dump of dumps) expect(dump).not.toContain(body);
    }
  });

  it("R5 listings show a hint and the public id, never the secret or its digest", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    const [listed] = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    const stored = await w.store.getToken(record.id);
    expect(listed).toMatchObject({ id: record.id, hint: `kwu_…${token.slice(-4)}` });
    expect(Object.keys(listed ?? {})).not.toContain("hash");
    expect(JSON.stringify(listed)).not.toContain(stored!.hash);
  });
});

describe("R6 inactivity expiry", () => {
  it("R6 a never-used user token works until 30 days minus 1 ms after its creation", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(THIRTY_DAYS - 1);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R6 a never-used user token is expired exactly 30 days after its creation", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(THIRTY_DAYS);
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_expired" });
  });

  it("R6 each successful use restarts the 30 days", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(20 * DAY);
    await w.kw.authorize(token, "reports.export");
    w.advance(THIRTY_DAYS - 1);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R6 a use 5 minutes after another still counts: 30 days + 1 minute after the first use the token works", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    await w.kw.authorize(token, "reports.export");
    w.advance(5 * 60_000);
    await w.kw.authorize(token, "reports.export");
    w.advance(THIRTY_DAYS - 4 * 60_000);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R6 a denial for a missing permission still counts as a use (the token authenticated)", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.carl.id);
    w.advance(10 * DAY);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("permission_denied");
    w.advance(THIRTY_DAYS - 1);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("permission_denied");
  });

  it("R6 an expired token never works again, even when used right after", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(THIRTY_DAYS);
    await w.kw.authorize(token, "reports.export");
    w.advance(1);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_expired");
    expect(await caught(() => w.kw.login(token))).toMatchObject({ code: "token_expired" });
  });

  it("R6 a service user token does not expire from inactivity, even after 400 days", async () => {
    const w = await world();
    const { token } = await w.serviceToken();
    w.advance(400 * DAY);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R6 the inactivity window is configurable", async () => {
    const w = await world({ inactivityMs: DAY });
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(DAY);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_expired");
  });

  it("R6 a clock stepping backwards does not extend a token's life", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    w.advance(THIRTY_DAYS);
    await w.kw.authorize(token, "reports.export");
    w.advance(-DAY);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_expired");
  });

  it("R6 listings say when an active user token will expire, and that service tokens do not", async () => {
    const w = await world();
    const user = await w.userToken(w.users.ana.id);
    const service = await w.serviceToken();
    expect(user.record.expiresAt).toBe(w.clock.now + THIRTY_DAYS);
    expect(service.record.expiresAt).toBeNull();
  });
});

describe("R7 user lifecycle", () => {
  it.each([
    ["deactivated", (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id })],
    ["removed from the organization", (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id })],
  ])("R7 a user token stops working when its user is %s", async (_label, change) => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    await change(w);
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "subject_inactive" });
  });

  it.each([
    [
      "reactivation",
      async (w: Awaited<ReturnType<typeof world>>) => {
        await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
        await w.kw.directory.reactivateMember({ orgId: "acme", userId: w.users.ana.id });
      },
    ],
    [
      "re-invitation after leaving",
      async (w: Awaited<ReturnType<typeof world>>) => {
        await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id });
        await w.kw.directory.addMember({ orgId: "acme", userId: w.users.ana.id, permissionSetId: w.sets.inspector.id });
      },
    ],
    [
      "re-invitation after deactivation",
      async (w: Awaited<ReturnType<typeof world>>) => {
        await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
        await w.kw.directory.addMember({ orgId: "acme", userId: w.users.ana.id, permissionSetId: w.sets.inspector.id });
      },
    ],
  ])("R7 %s does not revive the user's old token", async (_label, change) => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    await change(w);
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "subject_inactive" });
  });

  it("R7 after reactivation the user can create a new token that works", async () => {
    const w = await world();
    await w.userToken(w.users.ana.id);
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
    await w.kw.directory.reactivateMember({ orgId: "acme", userId: w.users.ana.id });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R7 a deactivated user cannot create a user token", async () => {
    const w = await world();
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
    expect(await caught(() => w.userToken(w.users.ana.id))).toMatchObject({ code: "forbidden" });
  });

  it("R7 dead tokens show as subject_inactive in the user's own list and free their slots", async () => {
    const w = await world({ limits: { userTokensPerUser: 1 } });
    const old = await w.userToken(w.users.ana.id);
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
    await w.kw.directory.reactivateMember({ orgId: "acme", userId: w.users.ana.id });
    await w.userToken(w.users.ana.id, "acme", "new");
    const mine = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    expect(mine.find((t) => t.id === old.record.id)?.status).toBe("subject_inactive");
  });
});

describe("R8 stability of service tokens", () => {
  it.each([
    ["is deactivated", (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ada.id })],
    ["leaves the organization", (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ada.id })],
    ["loses every permission", (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.updateMember({ orgId: "acme", userId: w.users.ada.id, permissionSetId: w.sets.none.id })],
    ["is renamed", (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.upsertUser({ id: w.users.ada.id, name: "Ada Former" })],
  ])("R8 a service token keeps working when the admin who created it %s", async (_label, change) => {
    const w = await world();
    const item = w.inspection("insp_1");
    await w.kw.directory.share({ item, grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "edit" });
    const { token } = await w.serviceToken();
    const before = await w.kw.authorize(token, "inspections.edit", item);
    await change(w);
    expect(await w.kw.authorize(token, "inspections.edit", item)).toEqual(before);
    expect(before.allowed).toBe(true);
  });

  it("R8 a service token keeps working when every user of the organization is deactivated", async () => {
    const w = await world();
    const { token } = await w.serviceToken();
    for (const u of [w.users.ada, w.users.ana, w.users.bob, w.users.carl]) await w.kw.directory.deactivateMember({ orgId: "acme", userId: u.id });
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: true, subject: { kind: "service_user", name: "BI export" } });
  });

  it("R8 the creator is recorded on the service token for the audit trail", async () => {
    const w = await world();
    const { record } = await w.serviceToken();
    expect(record).toMatchObject({ kind: "service_user", createdBy: "u_ada", subjectName: "BI export" });
  });
});

describe("R9 service users are not people", () => {
  it("R9 a service token cannot log in: login_not_allowed", async () => {
    const w = await world();
    const { token } = await w.serviceToken();
    const e = await caught(() => w.kw.login(token));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "login_not_allowed" });
  });

  it("R9 service users are not in the organization's user list", async () => {
    const w = await world();
    await w.serviceToken();
    const ids = (await w.kw.directory.listMembers({ orgId: "acme" })).items.map((m) => m.user.id);
    expect(ids).toEqual(expect.arrayContaining(["u_ada", "u_ana", "u_bob", "u_carl"]));
    expect(ids).not.toContain(w.bot.id);
  });

  it("R9 service users do not count toward seats", async () => {
    const w = await world();
    const before = await w.kw.directory.seatCount({ orgId: "acme" });
    await w.kw.serviceUsers.create({ orgId: "acme", name: "Another bot", actorId: w.users.ada.id });
    await w.serviceToken();
    expect(await w.kw.directory.seatCount({ orgId: "acme" })).toBe(before);
    expect(before).toBe(4);
  });

  it.each([
    ["a group", { groupId: "grp_auditors" }],
    ["a site", { siteId: "site_north" }],
  ])("R9 adding a service user to %s fails with service_user_not_allowed", async (_label, where) => {
    const w = await world();
    const e = await caught(() => w.kw.directory.addTo({ orgId: "acme", subjectId: w.bot.id, ...where }));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "service_user_not_allowed" });
  });
});

describe("R10 user tokens are personal", () => {
  it("R10 a user token logs in as its user", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    expect(await w.kw.login(token)).toEqual({ subject: { kind: "user", id: "u_ana", name: "Ana Inspector" }, orgId: "acme", tokenId: record.id });
  });

  it("R10 a user token is listed in its user's own settings, and only there", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items.map((t) => t.id)).toEqual([record.id]);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.bob.id })).items).toEqual([]);
    expect((await w.kw.tokens.listMine({ orgId: "beta", userId: w.users.ana.id })).items).toEqual([]);
  });

  it("R10 a user with three tokens counts as one seat", async () => {
    const w = await world();
    const before = await w.kw.directory.seatCount({ orgId: "acme" });
    for (const name of ["laptop", "ci", "phone"]) await w.userToken(w.users.ana.id, "acme", name);
    expect(await w.kw.directory.seatCount({ orgId: "acme" })).toBe(before);
  });
});

describe("R11 revoke and delete", () => {
  it("R11 a user revokes their own token and the next request is refused", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
  });

  it("R11 revoking twice is harmless and reports one revocation", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    expect(w.events.filter((e) => e.type === "token.revoked")).toHaveLength(1);
  });

  it("R11 two concurrent revocations of one token both succeed and report one revocation", async () => {
    const w = await world();
    const { record } = await w.userToken(w.users.ana.id);
    const revoke = () => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
    await Promise.all([revoke(), revoke()]);
    expect(w.events.filter((e) => e.type === "token.revoked")).toHaveLength(1);
  });

  it("R11 a user cannot revoke someone else's token: not_found, and it keeps working", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    expect(await caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id }))).toMatchObject({ code: "not_found" });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R11 an administrator lists every user token in the organization, and no service token there", async () => {
    const w = await world();
    const a = await w.userToken(w.users.ana.id);
    const b = await w.userToken(w.users.bob.id);
    await w.userToken(w.users.ana.id, "beta");
    await w.serviceToken();
    const all = (await w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id })).items;
    expect(all.map((t) => t.id).sort()).toEqual([a.record.id, b.record.id].sort());
  });

  it("R11 an administrator deletes a user's token: the next request is refused and it is no longer listed", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.tokens.delete({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id });
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toEqual([]);
    expect((await w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id })).items).toEqual([]);
  });

  it.each([
    ["a viewer", "u_bob"],
    ["a member without permission set", "u_carl"],
    ["the token's own user without the permission", "u_ana"],
  ])("R11 %s cannot list the organization's tokens: forbidden", async (_label, actorId) => {
    const w = await world();
    await w.userToken(w.users.ana.id);
    expect(await caught(() => w.kw.tokens.listOrganization({ orgId: "acme", actorId }))).toMatchObject({ code: "forbidden" });
  });

  it.each([
    ["a viewer", "u_bob"],
    ["the token's own user (who may only revoke)", "u_ana"],
  ])("R11 %s cannot delete a token: forbidden, and nothing is deleted", async (_label, actorId) => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    expect(await caught(() => w.kw.tokens.delete({ orgId: "acme", tokenId: record.id, actorId }))).toMatchObject({ code: "forbidden" });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    expect(w.events.filter((e) => e.type === "token.deleted")).toEqual([]);
  });

  it.each([
    ["naming its own organization", "beta", "not_found"],
    ["naming the token's organization", "acme", "forbidden"],
  ])("R11 another organization's administrator cannot delete a token, %s", async (_label, orgId, code) => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    expect(await caught(() => w.kw.tokens.delete({ orgId, tokenId: record.id, actorId: w.users.bea.id }))).toMatchObject({ code });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toHaveLength(1);
  });

  it("R11 a deactivated administrator can no longer delete tokens", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ada.id });
    expect(await caught(() => w.kw.tokens.delete({ orgId: "acme", tokenId: record.id, actorId: w.users.ada.id }))).toMatchObject({ code: "forbidden" });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R11 an administrator manages service users and their tokens: list, revoke, delete the service user", async () => {
    const w = await world();
    const a = await w.serviceToken(w.bot.id, "a");
    w.advance(1000); // listings order by creation time, then by id
    const b = await w.serviceToken(w.bot.id, "b");
    expect((await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.ada.id })).items.map((t) => t.id)).toEqual([a.record.id, b.record.id]);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: a.record.id, actorId: w.users.ada.id });
    expect((await w.kw.authorize(a.token, "reports.export")).reason).toBe("token_revoked");
    await w.kw.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.ada.id });
    expect((await w.kw.authorize(b.token, "reports.export")).reason).toBe("subject_inactive");
  });

  it.each([
    ["create a service user", (w: Awaited<ReturnType<typeof world>>) => w.kw.serviceUsers.create({ orgId: "acme", name: "Rogue", actorId: w.users.bob.id })],
    ["create a service token", (w: Awaited<ReturnType<typeof world>>) => w.serviceToken(w.bot.id, "x", w.users.bob.id)],
    ["list service tokens", (w: Awaited<ReturnType<typeof world>>) => w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.bob.id })],
    ["remove a service user", (w: Awaited<ReturnType<typeof world>>) => w.kw.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.bob.id })],
  ])("R11 a user without the service-user permission cannot %s: forbidden", async (_label, act) => {
    const w = await world();
    expect(await caught(() => act(w))).toMatchObject({ code: "forbidden" });
  });

  it("R11 a user without the permission cannot revoke a service token (not_found, as an unknown id: issue 11 #9), and it keeps working", async () => {
    const w = await world();
    const { token, record } = await w.serviceToken();
    expect(await caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id }))).toMatchObject({ code: "not_found" });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });
});
