/**
 * The layers over any store (`(store) => store`): the read cache with an invalidation source, and
 * last-use coalescing. The memory store with both layers, and a host-style store (a class with
 * prototype methods), each pass the conformance suite; the layers' own behaviour is checked
 * through keyward (R6, R11) with a spy on the store below.
 */
import { describe, expect, it } from "vitest";
import { admission } from "../../src/core/admit.js";
import { createKeyward } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { cachedReads } from "../../src/storage/layers/cached-reads.js";
import { coalesceUses } from "../../src/storage/layers/coalesce-uses.js";
import { inProcessInvalidation } from "../../src/storage/layers/invalidation.js";
import type { DecisionReads, DirectoryStore, KeywardStore, StoreBackdoor, TokenStore } from "../../src/storage/types.js";
import { describeStoreConformance } from "../../src/testing/index.js";
import { ACTIONS, DAY, MINUTE, PASSWORD, THIRTY_DAYS, world } from "../core/fixture.js";

/** Both layers over `store`: coalescing outside, the cache inside (uses are merged into cached reads too). */
const layered = (store: KeywardStore, group = inProcessInvalidation(), windowMs = 10 * MINUTE) =>
  coalesceUses(cachedReads(store, { invalidation: group.source(), ttlMs: 5000 }), { windowMs });

describeStoreConformance("memory, with the read cache and last-use coalescing", async () => {
  let backdoor!: StoreBackdoor;
  const store = layered(memoryStore({ backdoor: (b) => (backdoor = b) }));
  return { store, backdoor, cleanup: () => store.close() };
});

/** A host's own store, written as a class (methods on the prototype), here keeping its data in a memory store. */
class HostStore implements KeywardStore {
  readonly #inner: KeywardStore;
  constructor(inner: KeywardStore) {
    this.#inner = inner;
  }
  putOrganization(...a: Parameters<DirectoryStore["putOrganization"]>) { return this.#inner.putOrganization(...a); }
  getOrganization(...a: Parameters<DirectoryStore["getOrganization"]>) { return this.#inner.getOrganization(...a); }
  putUser(...a: Parameters<DirectoryStore["putUser"]>) { return this.#inner.putUser(...a); }
  getUser(...a: Parameters<DirectoryStore["getUser"]>) { return this.#inner.getUser(...a); }
  getMembership(...a: Parameters<DirectoryStore["getMembership"]>) { return this.#inner.getMembership(...a); }
  updateMembership(...a: Parameters<DirectoryStore["updateMembership"]>) { return this.#inner.updateMembership(...a); }
  listMembers(...a: Parameters<DirectoryStore["listMembers"]>) { return this.#inner.listMembers(...a); }
  pageMembers(...a: Parameters<DirectoryStore["pageMembers"]>) { return this.#inner.pageMembers(...a); }
  putPermissionSet(...a: Parameters<DirectoryStore["putPermissionSet"]>) { return this.#inner.putPermissionSet(...a); }
  insertPermissionSet(...a: Parameters<DirectoryStore["insertPermissionSet"]>) { return this.#inner.insertPermissionSet(...a); }
  getPermissionSet(...a: Parameters<DirectoryStore["getPermissionSet"]>) { return this.#inner.getPermissionSet(...a); }
  putGroup(...a: Parameters<DirectoryStore["putGroup"]>) { return this.#inner.putGroup(...a); }
  getGroup(...a: Parameters<DirectoryStore["getGroup"]>) { return this.#inner.getGroup(...a); }
  putSite(...a: Parameters<DirectoryStore["putSite"]>) { return this.#inner.putSite(...a); }
  getSite(...a: Parameters<DirectoryStore["getSite"]>) { return this.#inner.getSite(...a); }
  getServiceUser(...a: Parameters<DirectoryStore["getServiceUser"]>) { return this.#inner.getServiceUser(...a); }
  updateServiceUser(...a: Parameters<DirectoryStore["updateServiceUser"]>) { return this.#inner.updateServiceUser(...a); }
  listServiceUsers(...a: Parameters<DirectoryStore["listServiceUsers"]>) { return this.#inner.listServiceUsers(...a); }
  putShare(...a: Parameters<DirectoryStore["putShare"]>) { return this.#inner.putShare(...a); }
  deleteShare(...a: Parameters<DirectoryStore["deleteShare"]>) { return this.#inner.deleteShare(...a); }
  listShares(...a: Parameters<DirectoryStore["listShares"]>) { return this.#inner.listShares(...a); }
  putRule(...a: Parameters<DirectoryStore["putRule"]>) { return this.#inner.putRule(...a); }
  deleteRule(...a: Parameters<DirectoryStore["deleteRule"]>) { return this.#inner.deleteRule(...a); }
  loadSubjectAccess(...a: Parameters<DirectoryStore["loadSubjectAccess"]>) { return this.#inner.loadSubjectAccess(...a); }
  insertToken(...a: Parameters<TokenStore["insertToken"]>) { return this.#inner.insertToken(...a); }
  getToken(...a: Parameters<TokenStore["getToken"]>) { return this.#inner.getToken(...a); }
  listTokens(...a: Parameters<TokenStore["listTokens"]>) { return this.#inner.listTokens(...a); }
  pageTokens(...a: Parameters<TokenStore["pageTokens"]>) { return this.#inner.pageTokens(...a); }
  revokeToken(...a: Parameters<TokenStore["revokeToken"]>) { return this.#inner.revokeToken(...a); }
  rotateToken(...a: Parameters<TokenStore["rotateToken"]>) { return this.#inner.rotateToken(...a); }
  markTokenExpired(...a: Parameters<TokenStore["markTokenExpired"]>) { return this.#inner.markTokenExpired(...a); }
  recordTokenUse(...a: Parameters<TokenStore["recordTokenUse"]>) { return this.#inner.recordTokenUse(...a); }
  setTokenPolicyExpiry(...a: Parameters<TokenStore["setTokenPolicyExpiry"]>) { return this.#inner.setTokenPolicyExpiry(...a); }
  markTokenWarned(...a: Parameters<TokenStore["markTokenWarned"]>) { return this.#inner.markTokenWarned(...a); }
  loadDecision(...a: Parameters<DecisionReads["loadDecision"]>) { return this.#inner.loadDecision(...a); }
  loadAccess(...a: Parameters<DecisionReads["loadAccess"]>) { return this.#inner.loadAccess(...a); }
  close() { return this.#inner.close(); }
}

describeStoreConformance("a host's own store (a class), with the read cache and last-use coalescing", async () => {
  let backdoor!: StoreBackdoor;
  const store = layered(new HostStore(memoryStore({ backdoor: (b) => (backdoor = b) })));
  return { store, backdoor, cleanup: () => store.close() };
});

/** A host store that counts the calls of two methods before doing them. */
class CountingStore extends HostStore {
  readonly calls = { loadDecision: 0, recordTokenUse: 0 };
  override loadDecision(...a: Parameters<DecisionReads["loadDecision"]>) {
    this.calls.loadDecision++;
    return super.loadDecision(...a);
  }
  override recordTokenUse(...a: Parameters<TokenStore["recordTokenUse"]>) {
    this.calls.recordTokenUse++;
    return super.recordTokenUse(...a);
  }
}
function counted(inner: KeywardStore) {
  const spy = new CountingStore(inner);
  return { spy, calls: spy.calls };
}

describe("the read cache layer (cachedReads)", () => {
  it("serves a repeated decision from the cache: one read of the store below, then hits", async () => {
    const { spy, calls } = counted(memoryStore());
    const store = cachedReads(spy, { invalidation: inProcessInvalidation().source(), ttlMs: 5000 });
    const w = await world({ store });
    const { token } = await w.userToken(w.users.ana.id);
    const before = calls.loadDecision;
    for (let i = 0; i < 5; i++) expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    expect(calls.loadDecision - before).toBe(1);
    expect(store.cacheStats()).toMatchObject({ hits: 4 });
    expect(store.cacheStatus()).toBe("up");
  });

  it.each([
    ["revocation", async (w: Awaited<ReturnType<typeof world>>, id: string) => w.kw.tokens.revoke({ orgId: "acme", tokenId: id, actorId: w.users.ana.id })],
    ["deactivation", async (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id })],
    ["permission removal", async (w: Awaited<ReturnType<typeof world>>) => w.kw.directory.updatePermissionSet({ orgId: "acme", id: w.sets.inspector.id, permissions: ["inspections:view"] })],
    // R18: a rotation without grace ends the old secret at once, on every instance.
    ["rotation", async (w: Awaited<ReturnType<typeof world>>, id: string): Promise<void> => {
      await w.kw.tokens.rotate({ orgId: "acme", tokenId: id, actorId: w.users.ana.id, password: PASSWORD });
    }],
  ] as const)("R11 R18 a %s through one instance refuses the next request on another instance of the process, whose decision was cached", async (_name, change) => {
    const shared = memoryStore();
    const group = inProcessInvalidation();
    const a = cachedReads(shared, { invalidation: group.source(), ttlMs: 5000 });
    const b = cachedReads(shared, { invalidation: group.source(), ttlMs: 5000 });
    const w = await world({ store: a });
    const kwB = createKeyward({ store: b, actions: ACTIONS, clock: () => w.clock.now, verifyPassword: (_u, p) => p === PASSWORD });
    const { token, record } = await w.userToken(w.users.ana.id);
    expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
    expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
    expect(b.cacheStats().hits).toBeGreaterThan(0);
    await change(w, record.id);
    expect((await kwB.authorize(token, "reports.export")).allowed).toBe(false);
  });

  it("a miss (unknown digest) is never cached, and a source that is not serving bypasses the cache", async () => {
    const { spy, calls } = counted(memoryStore());
    const source = inProcessInvalidation().source();
    const store = cachedReads(spy, { invalidation: source, ttlMs: 5000 });
    await store.loadDecision("nope", null);
    await store.loadDecision("nope", null);
    expect(calls.loadDecision).toBe(2);
    await store.close();
    expect(store.cacheStatus()).toBe("down");
  });

  it("a change whose wait fails is reported as unavailable (fails closed), after it was written", async () => {
    const inner = memoryStore();
    const store = cachedReads(inner, {
      invalidation: { start() {}, serving: () => true, changed: () => Promise.reject(new Error("no acknowledgement")), status: () => "up", close: async () => {} },
      ttlMs: 5000,
    });
    await expect(store.putUser({ id: "u_1", name: "Ana" })).rejects.toMatchObject({ code: "unavailable" });
    expect(await inner.getUser("u_1")).toEqual({ id: "u_1", name: "Ana" });
  });
});

describe("the last-use coalescing layer (coalesceUses)", () => {
  it("R6 writes at most one use per token per window, merges the kept one into every read, and writes it on flush", async () => {
    const { spy, calls } = counted(memoryStore());
    const store = coalesceUses(spy, { windowMs: 10 * MINUTE });
    const w = await world({ store });
    const { token, record } = await w.userToken(w.users.ana.id);
    for (let i = 0; i < 4; i++) {
      w.advance(MINUTE);
      expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    }
    expect(calls.recordTokenUse).toBe(1);
    const last = w.clock.now;
    expect((await store.getToken(record.id))!.lastUsedAt).toBe(last);
    expect((await spy.getToken(record.id))!.lastUsedAt).toBe(last - 3 * MINUTE);
    expect((await store.listTokens({ orgId: "acme", subjectId: w.users.ana.id }))[0]!.token.lastUsedAt).toBe(last);
    await store.flushTokenUses();
    expect(calls.recordTokenUse).toBe(2);
    expect((await spy.getToken(record.id))!.lastUsedAt).toBe(last);
  });

  it("R3 R6 a kept use counts in admission and listings: a token idle by the store's record but used in process stays active", async () => {
    const { spy } = counted(memoryStore());
    const store = coalesceUses(spy, { windowMs: 10 * MINUTE });
    const w = await world({ store, limits: { userTokensPerUser: 1 } });
    const { token, record } = await w.userToken(w.users.ana.id);
    // Used now (written), then again just before the store's record would make it idle (kept, not written).
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    w.advance(5 * MINUTE);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    w.advance(THIRTY_DAYS - 2 * MINUTE);
    // By the store's own record the token is idle 30 days and 3 minutes; by the kept use, 29 days 23 hours 58 minutes.
    expect((await spy.getToken(record.id))!.lastUsedAt).toBe(record.createdAt);
    await expect(w.userToken(w.users.ana.id, "acme", "second")).rejects.toMatchObject({ code: "token_limit_reached" });
    const page = await store.pageTokens({ orgId: "acme", statuses: ["active"], search: null, sort: "created", order: "asc", after: null, limit: 10, now: w.clock.now, inactivityMs: THIRTY_DAYS, subjectId: w.users.ana.id, kind: "user" });
    expect(page.entries.map((e) => e.token.id)).toEqual([record.id]);
    const stored = (await spy.getToken(record.id))!;
    expect(await store.insertToken({ ...stored, id: "tok_x", hash: "h_x" }, admission({ max: 1, now: w.clock.now, inactivityMs: THIRTY_DAYS }))).toEqual({ ok: false, reason: "limit_reached" });
    w.advance(DAY);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(false);
  });

  it("client tracking: the clients seen within the window are kept with the pending use, merged into listings, and written with it; a failed flush keeps them", async () => {
    const { spy, calls } = counted(memoryStore());
    const store = coalesceUses(spy, { windowMs: 10 * MINUTE });
    const w = await world({ store, trackClients: { max: 3 } });
    const { token, record } = await w.userToken(w.users.ana.id);
    const use = async (userAgent: string) => {
      w.advance(MINUTE);
      await w.kw.authorize(token, "reports.export", null, { client: { ip: "192.0.2.1", userAgent } });
    };
    await use("a/1");
    await use("b/1");
    await use("c/1");
    await use("b/1");
    expect(calls.recordTokenUse).toBe(1); // only the first use: no write per client
    expect((await spy.getToken(record.id))!.clients!.map((c) => c.userAgent)).toEqual(["a/1"]);
    expect((await store.getToken(record.id))!.clients!.map((c) => c.userAgent)).toEqual(["b/1", "c/1", "a/1"]);
    // The write below fails once: the pending use and its clients stay for the next attempt.
    const write = spy.recordTokenUse.bind(spy);
    let fail = true;
    spy.recordTokenUse = (...a) => (fail ? ((fail = false), Promise.reject(new Error("down"))) : write(...a));
    await store.flushTokenUses();
    expect((await store.getToken(record.id))!.clients!.map((c) => c.userAgent)).toEqual(["b/1", "c/1", "a/1"]);
    await store.flushTokenUses();
    const row = (await spy.getToken(record.id))!;
    expect(row.lastUsedAt).toBe(w.clock.now);
    expect(row.clients).toEqual([
      { ip: "192.0.2.1", userAgent: "b/1", lastSeenAt: w.clock.now },
      { ip: "192.0.2.1", userAgent: "c/1", lastSeenAt: w.clock.now - MINUTE },
      { ip: "192.0.2.1", userAgent: "a/1", lastSeenAt: w.clock.now - 3 * MINUTE },
    ]);
  });

  it("close() writes the uses kept, then closes the store below", async () => {
    const { spy, calls } = counted(memoryStore());
    const store = coalesceUses(spy, { windowMs: 10 * MINUTE });
    const w = await world({ store });
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.authorize(token, "reports.export");
    w.advance(MINUTE);
    await w.kw.authorize(token, "reports.export");
    expect(calls.recordTokenUse).toBe(1);
    await store.close();
    expect(calls.recordTokenUse).toBe(2);
    expect((await spy.getToken(record.id))!.lastUsedAt).toBe(w.clock.now);
  });
});
