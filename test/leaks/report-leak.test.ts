/**
 * R22 through `kw.tokens.reportLeak({ secret: secret, found: found })`: a real token is revoked at once with the
 * cause `leaked` and its owner is told by events; a string that is not a well-formed token with
 * a valid checksum is discarded without a store read.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createKeyward, type KeywardEvent } from "../../src/index.js";
import { generateToken, tokenParser } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { ACTIONS, caught, spyStore, world } from "../core/fixture.js";
import { PG_URL, pgliteStore, serverStore, type TestStore } from "../storage/postgres/support.js";

const parse = tokenParser();
const FOUND = { source: "content", url: "https://example.com/acme/repo/blob/abc/config.yml" };

describe("tokens.reportLeak (R22)", () => {
  it("R22 revokes a real user token at once with the cause leaked, and the next request is refused", async () => {
    const w = await world();
    const { token, record } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    w.events.length = 0;

    const result = await w.kw.tokens.reportLeak({ secret: token, found: FOUND });

    expect(result).toEqual({ outcome: "revoked", tokenId: record.id, orgId: "acme", subject: { kind: "user", id: "u_ana", name: "Ana Inspector" } });
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
    expect((await w.store.getToken(record.id))!.revokedCause).toBe("leaked");
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" })).items[0]).toMatchObject({ status: "revoked", revokedCause: "leaked" });
  });

  it("R22 R16 tells the owner: token.revoked (cause leaked, no actor) then token.leaked naming the token, its subject and where it was found", async () => {
    const w = await world();
    const { token, record } = await w.serviceToken();
    w.events.length = 0;
    await w.kw.tokens.reportLeak({ secret: token, found: FOUND });
    const subject = { kind: "service_user", id: "svc_bi", name: "BI export" };
    expect(w.events).toEqual([
      { type: "token.revoked", at: w.clock.now, tokenId: record.id, orgId: "acme", subject, tokenName: "nightly export", actorId: null, cause: "leaked" },
      { type: "token.leaked", at: w.clock.now, tokenId: record.id, orgId: "acme", subject, tokenName: "nightly export", actorId: null, found: FOUND, revoked: true },
    ]);
    expect(JSON.stringify(w.events)).not.toContain(token);
  });

  it("R22 an already revoked or deleted token: already_revoked, no second token.revoked, but the owner still hears of the leak", async () => {
    const w = await world();
    const a = await w.userToken(w.users.ana.id);
    const b = await w.userToken(w.users.ana.id, "acme", "second");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: a.record.id, actorId: "u_ana" });
    await w.kw.tokens.delete({ orgId: "acme", tokenId: b.record.id, actorId: "u_ada" });
    w.events.length = 0;
    expect(await w.kw.tokens.reportLeak({ secret: a.token, found: FOUND })).toMatchObject({ outcome: "already_revoked", tokenId: a.record.id });
    expect(await w.kw.tokens.reportLeak({ secret: b.token, found: FOUND })).toMatchObject({ outcome: "already_revoked", tokenId: b.record.id });
    expect(w.events.map((e) => [e.type, (e as { revoked?: boolean }).revoked])).toEqual([
      ["token.leaked", false],
      ["token.leaked", false],
    ]);
    // The earlier revocation keeps its own (absent) cause.
    expect((await w.store.getToken(a.record.id))!.revokedCause ?? null).toBeNull();
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" })).items.find((t) => t.id === a.record.id)).not.toHaveProperty("revokedCause");
  });

  it("R22 a second report of the same leak changes nothing", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.tokens.reportLeak({ secret: token, found: FOUND })).outcome).toBe("revoked");
    expect((await w.kw.tokens.reportLeak({ secret: token, found: FOUND })).outcome).toBe("already_revoked");
  });

  it("R22 a well-formed token no record has is unknown, after exactly one store read", async () => {
    const inner = memoryStore();
    const { store, calls } = spyStore(inner);
    const kw = createKeyward({ store, actions: ACTIONS });
    expect(await kw.tokens.reportLeak({ secret: generateToken("user"), found: FOUND })).toEqual({ outcome: "unknown" });
    expect(calls).toEqual(["loadDecision"]);
  });

  it("R22 property: any string that is not a well-formed token with a valid checksum is discarded with zero store reads", async () => {
    const { store, calls } = spyStore(memoryStore());
    const kw = createKeyward({ store, actions: ACTIONS });
    const real = generateToken("user");
    const mutated = fc.tuple(fc.nat({ max: real.length - 1 }), fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")).map(([i, c]) => real.slice(0, i) + c + real.slice(i + 1)).filter((s) => s !== real);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), mutated, fc.constant(real.slice(0, -1)), fc.constant(`${real}0`), fc.anything()), async (s) => {
        fc.pre(parse(s) === null);
        // Not only strings: whatever a caller passes at run time, a non-token is malformed, never an error.
        expect(await kw.tokens.reportLeak({ secret: s as string, found: FOUND })).toEqual({ outcome: "malformed" });
      }),
      { numRuns: 300 },
    );
    expect(calls).toEqual([]);
  });

  it("R22 a token of another deployment's prefixes is malformed here (no store read)", async () => {
    const { store, calls } = spyStore(memoryStore());
    const kw = createKeyward({ store, actions: ACTIONS, prefixes: { user: "acmeu", service_user: "acmes" } });
    expect(await kw.tokens.reportLeak({ secret: generateToken("user"), found: FOUND })).toEqual({ outcome: "malformed" });
    expect(calls).toEqual([]);
  });

  it("rejects a bad location with invalid_input, before anything else", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const e = await caught(() => w.kw.tokens.reportLeak({ secret: token, found: { source: "", url: "" } }));
    expect(e).toMatchObject({ code: "invalid_input", field: "found.source" });
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: true });
  });

  it("a failing store fails closed: unavailable, never a silent success", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const { store } = spyStore(w.store, { revokeToken: () => Promise.reject(new Error("connection reset")) });
    const kw = createKeyward({ store, actions: ACTIONS });
    expect(await caught(() => kw.tokens.reportLeak({ secret: token, found: FOUND }))).toMatchObject({ code: "unavailable" });
  });

  it("events never carry the secret or its digest", async () => {
    const events: KeywardEvent[] = [];
    const store = memoryStore();
    const w = await world({ store });
    const kw = createKeyward({ store, actions: ACTIONS, onEvent: (e) => events.push(e) });
    const { token, record } = await w.userToken(w.users.ana.id);
    await kw.tokens.reportLeak({ secret: token, found: FOUND });
    const digest = (await store.getToken(record.id))!.hash;
    expect(events.length).toBe(2);
    expect(JSON.stringify(events)).not.toContain(token);
    expect(JSON.stringify(events)).not.toContain(digest);
  });
});

describe.each([
  ["PGlite", () => pgliteStore()],
  ...(PG_URL === undefined ? [] : [["the PostgreSQL server", () => serverStore()] as const]),
] as const)("R22 reportLeak on the PostgreSQL store (%s)", (_name, make) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("R22 revokes at once with the cause leaked in the row, and the next authorize() is refused", async () => {
    t = await make();
    const w = await world({ store: t.store });
    const { token, record } = await w.userToken(w.users.ana.id);
    expect(await w.kw.tokens.reportLeak({ secret: token, found: FOUND })).toMatchObject({ outcome: "revoked", tokenId: record.id });
    expect((await t.backdoor.readToken(record.id))!.revokedCause).toBe("leaked");
    const other = createKeyward({ store: t.store, actions: ACTIONS });
    expect(await other.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
    expect(await w.kw.tokens.reportLeak({ secret: token, found: FOUND })).toMatchObject({ outcome: "already_revoked" });
  });
});
