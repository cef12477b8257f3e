/**
 * R18 rotation with a grace period, read as a specification through the public API: the same
 * token id with a new secret, the rights of a revocation and the password of a creation (R4), no
 * slot (R3), a bounded grace never past the token's own expiry, and the previous secret visible
 * in the decision and in an event. Runs on the memory store and on `keyward/postgres` (PGlite).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createKeyward, DEFAULT_MAX_GRACE_MS, type KeywardEvent, type KeywardStore } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { pgliteStore } from "../storage/postgres/support.js";
import { ACTIONS, caught, DAY, MINUTE, PASSWORD, T0, THIRTY_DAYS, world, type World } from "./fixture.js";

type Of<T extends KeywardEvent["type"]> = Extract<KeywardEvent, { type: T }>;
const HOUR = 60 * MINUTE;

const STORES: [string, () => Promise<KeywardStore>][] = [
  ["memory", async () => memoryStore()],
  [
    "postgres (PGlite)",
    async () => (await pgliteStore()).store,
  ],
];

const rotateService = (w: World, tokenId: string, graceMs?: number) =>
  w.kw.tokens.rotate({ orgId: "acme", tokenId, actorId: w.users.ada.id, ...(graceMs === undefined ? {} : { graceMs }) });

describe.each(STORES)("R18 rotation (%s)", (_name, makeStore) => {
  const make = async () => world({ store: await makeStore() });

  it("R18 a rotation keeps the token's id, name, last use and kind prefix, with a new secret and hint; the events name the same token", async () => {
    const w = await make();
    const old = await w.serviceToken();
    w.advance(MINUTE);
    expect((await w.kw.authorize(old.token, "reports.export")).allowed).toBe(true);
    w.advance(MINUTE);
    const fresh = await rotateService(w, old.record.id);
    expect(fresh.record).toMatchObject({ id: old.record.id, name: "nightly export", createdAt: T0, lastUsedAt: T0 + MINUTE, rotatedAt: T0 + 2 * MINUTE, previousSecretUntil: null, status: "active" });
    expect(fresh.token.slice(0, 4)).toBe("kws_");
    expect(fresh.token).not.toBe(old.token);
    expect(fresh.record.hint).not.toBe(old.record.hint);
    const d = await w.kw.authorize(fresh.token, "reports.export");
    expect(d).toMatchObject({ allowed: true, tokenId: old.record.id });
    expect(d).not.toHaveProperty("previousSecret");
    const rotated = w.events.find((e): e is Of<"token.rotated"> => e.type === "token.rotated");
    expect(rotated).toEqual({ type: "token.rotated", at: T0 + 2 * MINUTE, tokenId: old.record.id, orgId: "acme", subject: { kind: "service_user", id: w.bot.id, name: "BI export" }, tokenName: "nightly export", actorId: w.users.ada.id, graceUntil: null });
    expect(JSON.stringify(w.events)).not.toContain(fresh.token);
  });

  it("R18 without a grace period (the default) the previous secret stops at once: token_unknown, as if it never existed, and no use is recorded", async () => {
    const w = await make();
    const old = await w.serviceToken();
    await rotateService(w, old.record.id);
    w.events.length = 0;
    expect(await w.kw.authorize(old.token, "reports.export")).toEqual({ allowed: false, reason: "token_unknown", action: "reports.export" });
    expect(await w.kw.accessible(old.token, "inspections.view", "inspection")).toEqual({ allowed: false, reason: "token_unknown", action: "inspections.view" });
    expect(w.events.map((e) => e.type)).toEqual(["authorization", "authorization"]);
    const [view] = (await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.ada.id })).items;
    expect(view!.lastUsedAt).toBeNull();
  });

  it("R18 during the grace period both secrets work; a decision, a list filter and a login with the previous one say so; at its end only the new one works", async () => {
    const w = await make();
    const old = await w.userToken(w.users.ana.id);
    const fresh = await w.kw.tokens.rotate({ orgId: "acme", tokenId: old.record.id, actorId: w.users.ana.id, password: PASSWORD, graceMs: DAY });
    expect(fresh.record.previousSecretUntil).toBe(T0 + DAY);
    expect(await w.kw.authorize(old.token, "reports.export")).toMatchObject({ allowed: true, tokenId: old.record.id, previousSecret: true });
    expect(await w.kw.accessible(old.token, "inspections.view", "inspection")).toMatchObject({ allowed: true, previousSecret: true });
    expect(await w.kw.login(old.token)).toMatchObject({ tokenId: old.record.id });
    // A denial after the token stage still authenticated: the token's, without the flag.
    expect(await w.kw.authorize(old.token, "inspections.view", w.inspection("nothing"))).toMatchObject({ allowed: false, reason: "access_denied" });
    w.advance(DAY - 1);
    expect((await w.kw.authorize(old.token, "reports.export")).allowed).toBe(true);
    w.advance(1);
    expect((await w.kw.authorize(old.token, "reports.export")).reason).toBe("token_unknown");
    expect(await caught(() => w.kw.login(old.token))).toMatchObject({ code: "token_unknown" });
    expect((await w.kw.authorize(fresh.token, "reports.export")).allowed).toBe(true);
    const [view] = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    expect(view).toMatchObject({ id: old.record.id, rotatedAt: T0, previousSecretUntil: null });
  });

  it("R18 the grace period never outlasts the token: a user token's previous secret ends with its inactivity deadline", async () => {
    const w = await make();
    const old = await w.userToken(w.users.ana.id);
    w.advance(THIRTY_DAYS - DAY);
    const fresh = await w.kw.tokens.rotate({ orgId: "acme", tokenId: old.record.id, actorId: w.users.ana.id, password: PASSWORD, graceMs: 7 * DAY });
    expect(fresh.record.previousSecretUntil).toBe(T0 + THIRTY_DAYS);
    expect(w.events.find((e) => e.type === "token.rotated")).toMatchObject({ graceUntil: T0 + THIRTY_DAYS });
  });

  it("R18 the previous secret's use is announced with the client, at most once per token per hour", async () => {
    const w = await make();
    const old = await w.serviceToken();
    await rotateService(w, old.record.id, 3 * DAY);
    const client = { ip: "203.0.113.9", userAgent: "PowerBI/2.1" };
    await w.kw.authorize(old.token, "reports.export", null, { client });
    await w.kw.authorize(old.token, "reports.export", null, { client });
    w.advance(HOUR - 1);
    await w.kw.accessible(old.token, "inspections.view", "inspection");
    w.advance(1);
    await w.kw.authorize(old.token, "reports.export");
    const used = w.events.filter((e): e is Of<"token.previous_secret_used"> => e.type === "token.previous_secret_used");
    expect(used).toEqual([
      { type: "token.previous_secret_used", at: T0, tokenId: old.record.id, orgId: "acme", subject: { kind: "service_user", id: w.bot.id, name: "BI export" }, tokenName: "nightly export", graceUntil: T0 + 3 * DAY, client },
      { type: "token.previous_secret_used", at: T0 + HOUR, tokenId: old.record.id, orgId: "acme", subject: { kind: "service_user", id: w.bot.id, name: "BI export" }, tokenName: "nightly export", graceUntil: T0 + 3 * DAY },
    ]);
  });

  it("R18 R22 a leaked previous secret revokes its token during the grace period; past it, the report is unknown and the token lives on", async () => {
    const w = await make();
    const found = { source: "scanner", url: "https://paste.example/1" };
    const graced = await w.serviceToken(undefined, "graced");
    await rotateService(w, graced.record.id, DAY);
    expect(await w.kw.tokens.reportLeak({ secret: graced.token, found })).toMatchObject({ outcome: "revoked", tokenId: graced.record.id });
    const ended = await w.serviceToken(undefined, "ended");
    const next = await rotateService(w, ended.record.id);
    expect(await w.kw.tokens.reportLeak({ secret: ended.token, found })).toEqual({ outcome: "unknown" });
    expect((await w.kw.authorize(next.token, "reports.export")).allowed).toBe(true);
  });

  it("R18 a second rotation during a grace period replaces the previous secret: only one previous secret exists", async () => {
    const w = await make();
    const first = await w.serviceToken();
    const second = await rotateService(w, first.record.id, DAY);
    const third = await rotateService(w, first.record.id, DAY);
    expect((await w.kw.authorize(first.token, "reports.export")).reason).toBe("token_unknown");
    expect(await w.kw.authorize(second.token, "reports.export")).toMatchObject({ allowed: true, previousSecret: true });
    expect(await w.kw.authorize(third.token, "reports.export")).toMatchObject({ allowed: true });
  });

  it("R18 R4 a user token's rotation asks the user's password (and counts its failures in creation's throttle); an SSO-only organization's does not", async () => {
    const w = await make();
    const { record } = await w.userToken(w.users.ana.id);
    const ask = (password?: string) => w.kw.tokens.rotate({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id, ...(password === undefined ? {} : { password }) });
    expect(await caught(() => ask())).toMatchObject({ code: "reauthentication_failed" });
    // A missing password asks nobody and is no attempt; five wrong ones are creation's limit.
    for (let i = 0; i < 5; i++) expect(await caught(() => ask("wrong"))).toMatchObject({ code: "reauthentication_failed" });
    // Creation's throttle (5 failures): now even the right password is refused without asking.
    expect(await caught(() => w.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "x", password: PASSWORD }))).toMatchObject({ code: "reauthentication_failed" });
    expect(await caught(() => ask(PASSWORD))).toMatchObject({ code: "reauthentication_failed" });
    const sso = await w.kw.tokens.createUserToken({ orgId: "sso", userId: w.users.sam.id, name: "sso" });
    expect((await w.kw.tokens.rotate({ orgId: "sso", tokenId: sso.record.id, actorId: w.users.sam.id })).record.id).toBe(sso.record.id);
  });

  it("R18 R11 rights as for a revocation: a user their own user token, a service-user manager a service token; anyone else gets not_found", async () => {
    const w = await make();
    const mine = await w.userToken(w.users.ana.id);
    const bots = await w.serviceToken();
    const refused = [
      () => w.kw.tokens.rotate({ orgId: "acme", tokenId: mine.record.id, actorId: w.users.ada.id, password: PASSWORD }),
      () => w.kw.tokens.rotate({ orgId: "acme", tokenId: bots.record.id, actorId: w.users.ana.id }),
      () => w.kw.tokens.rotate({ orgId: "beta", tokenId: mine.record.id, actorId: w.users.ana.id, password: PASSWORD }),
      () => w.kw.tokens.rotate({ orgId: "acme", tokenId: "tok_nope", actorId: w.users.ana.id, password: PASSWORD }),
    ];
    for (const f of refused) expect(await caught(f)).toMatchObject({ code: "not_found" });
    expect(w.events.filter((e) => e.type === "management.refused").map((e) => (e as Of<"management.refused">).operation)).toEqual(Array(4).fill("tokens.rotate"));
    expect((await w.kw.authorize(mine.token, "reports.export")).allowed).toBe(true);
    expect((await w.kw.authorize(bots.token, "reports.export")).allowed).toBe(true);
  });

  it("R18 R11 a service token's new secret acts with its service user's permissions: a manager who lacks one of them is forbidden (as at creation), and nothing changes", async () => {
    const w = await make();
    const bots = await w.serviceToken();
    const managersOnly = await w.kw.directory.createPermissionSet({ orgId: "acme", name: "Managers only", permissions: ["service_users:manage"] });
    await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.carl.id, permissionSetId: managersOnly.id });
    expect(await caught(() => w.kw.tokens.rotate({ orgId: "acme", tokenId: bots.record.id, actorId: w.users.carl.id }))).toMatchObject({ code: "forbidden", field: "tokenId" });
    expect(await w.kw.authorize(bots.token, "reports.export")).not.toHaveProperty("previousSecret");
    expect(w.events.filter((e) => e.type === "token.rotated")).toEqual([]);
  });

  it("R18 R3 a rotation takes no slot: a user at the limit rotates, and still cannot create one more", async () => {
    const w = await make();
    const tokens = [];
    for (let i = 0; i < 10; i++) tokens.push(await w.userToken(w.users.ana.id, "acme", `t${i}`));
    const fresh = await w.kw.tokens.rotate({ orgId: "acme", tokenId: tokens[0]!.record.id, actorId: w.users.ana.id, password: PASSWORD, graceMs: DAY });
    expect((await w.kw.authorize(fresh.token, "reports.export")).allowed).toBe(true);
    expect(await caught(() => w.userToken(w.users.ana.id, "acme", "eleventh"))).toMatchObject({ code: "token_limit_reached" });
  });

  it("R18 a revoked, expired or orphaned token cannot be rotated (the token stage's reason as the code), a deleted one is not_found; nothing changes", async () => {
    const w = await make();
    const revoked = await w.userToken(w.users.ana.id, "acme", "revoked");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.ana.id });
    const deleted = await w.userToken(w.users.ana.id, "acme", "deleted");
    await w.kw.tokens.delete({ orgId: "acme", tokenId: deleted.record.id, actorId: w.users.ada.id });
    const idle = await w.userToken(w.users.bob.id, "acme", "idle");
    const rotate = (tokenId: string, actorId: string) => w.kw.tokens.rotate({ orgId: "acme", tokenId, actorId, password: PASSWORD });
    expect(await caught(() => rotate(revoked.record.id, w.users.ana.id))).toMatchObject({ code: "token_revoked" });
    expect(await caught(() => rotate(deleted.record.id, w.users.ana.id))).toMatchObject({ code: "not_found" });
    w.advance(THIRTY_DAYS);
    expect(await caught(() => rotate(idle.record.id, w.users.bob.id))).toMatchObject({ code: "token_expired" });
    const bots = await w.serviceToken();
    await w.kw.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.ada.id });
    expect(await caught(() => rotateService(w, bots.record.id))).toMatchObject({ code: "subject_inactive" });
    expect(w.events.filter((e) => e.type === "token.rotated")).toEqual([]);
  });

  it("R18 graceMs is an integer from 0 to rotation.maxGraceMs (default 7 days): otherwise invalid_input naming graceMs, and nothing changes", async () => {
    const w = await make();
    const old = await w.serviceToken();
    expect(DEFAULT_MAX_GRACE_MS).toBe(7 * DAY);
    for (const graceMs of [7 * DAY + 1, -1, 1.5, Number.NaN]) {
      expect(await caught(() => rotateService(w, old.record.id, graceMs))).toMatchObject({ code: "invalid_input", field: "graceMs" });
    }
    expect(await caught(() => w.kw.tokens.rotate({ orgId: "acme", tokenId: old.record.id, actorId: w.users.ada.id, graceMs: "1d" } as never))).toMatchObject({ code: "invalid_input", field: "graceMs" });
    expect((await w.kw.authorize(old.token, "reports.export")).allowed).toBe(true);
    expect((await rotateService(w, old.record.id, 7 * DAY)).record.previousSecretUntil).toBe(T0 + 7 * DAY);
  });
});

describe("R18 the rotation option", () => {
  it("R18 createKeyward({ rotation: { maxGraceMs } }) caps the grace; a bad value is invalid_config naming it", async () => {
    const kw = createKeyward({ store: memoryStore(), actions: ACTIONS, rotation: { maxGraceMs: HOUR } });
    await kw.directory.createOrganization({ id: "o", name: "O" });
    await kw.directory.upsertUser({ id: "u", name: "U" });
    const ps = await kw.directory.createPermissionSet({ orgId: "o", name: "M", permissions: ["service_users:manage", "reports:export"] });
    await kw.directory.addMember({ orgId: "o", userId: "u", permissionSetId: ps.id });
    const su = await kw.serviceUsers.create({ orgId: "o", name: "Bot", permissionSetId: ps.id, actorId: "u" });
    const { record } = await kw.tokens.createServiceToken({ orgId: "o", serviceUserId: su.id, name: "b", actorId: "u" });
    expect(await caught(() => kw.tokens.rotate({ orgId: "o", tokenId: record.id, actorId: "u", graceMs: HOUR + 1 }))).toMatchObject({ code: "invalid_input", field: "graceMs" });
    expect((await kw.tokens.rotate({ orgId: "o", tokenId: record.id, actorId: "u", graceMs: HOUR })).record.id).toBe(record.id);
    for (const maxGraceMs of [-1, 0.5, "7d"]) {
      expect(() => createKeyward({ store: memoryStore(), actions: ACTIONS, rotation: { maxGraceMs: maxGraceMs as number } })).toThrow(expect.objectContaining({ code: "invalid_config", field: "options.rotation.maxGraceMs" }));
    }
  });
});

describe.each(STORES)("R18 law (%s): after any rotations and clock steps, exactly the current secret and the last previous one (in grace) authenticate", (name, makeStore) => {
  it("R18 property over random sequences of rotations with random graces and clock steps", async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("rotate" as const), graceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 7 * DAY })) }),
      fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 3 * DAY }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const w = await world({ store: await makeStore() });
        const first = await w.serviceToken();
        const issued = [first.token];
        let current = first.token;
        let previous: { token: string; until: number } | null = null;
        for (const s of steps) {
          if (s.kind === "wait") w.advance(s.ms);
          else {
            const next = await rotateService(w, first.record.id, s.graceMs);
            previous = { token: current, until: w.clock.now + s.graceMs };
            current = next.token;
            issued.push(current);
          }
          for (const secret of issued) {
            const d = await w.kw.authorize(secret, "reports.export");
            const works = secret === current || (previous !== null && secret === previous.token && w.clock.now < previous.until);
            expect(d.allowed).toBe(works);
            if (works) expect(d).toMatchObject({ tokenId: first.record.id, ...(secret === current ? {} : { previousSecret: true }) });
            else expect(d.reason).toBe("token_unknown");
            if (secret === current) expect(d).not.toHaveProperty("previousSecret");
          }
        }
      }),
      { numRuns: name === "memory" ? 40 : 8 },
    );
  }, 120_000);
});
