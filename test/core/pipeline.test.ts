/**
 * One pipeline serves `authorize()`, `accessible()` and `login()`: the same token costs the same
 * store work and gets the same token-stage answer from each (R6, R10, R15, R16).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KeywardStore } from "../../src/index.js";
import { generateToken } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { spyStore, THIRTY_DAYS, world } from "./fixture.js";

/** A world whose store records the calls made after set-up; tokens of every kind of fate. */
async function spied() {
  const spy = spyStore(memoryStore());
  const w = await world({ store: spy.store });
  const live = (await w.userToken(w.users.ana.id)).token;
  const revoked = await w.userToken(w.users.bob.id);
  await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.bob.id });
  spy.calls.length = 0;
  w.events.length = 0;
  return { ...w, calls: spy.calls, live, revoked: revoked.token };
}

type World = Awaited<ReturnType<typeof spied>>;

/** The three operations, each answering with the reason its token got. */
const operations = {
  authorize: async (w: World, token: unknown) => (await w.kw.authorize(token, "inspections.view", w.inspection("i_1"))).reason,
  accessible: async (w: World, token: unknown) => (await w.kw.accessible(token, "inspections.view", "inspection")).reason,
  login: (w: World, token: unknown) =>
    w.kw.login(token).then(
      () => "allowed",
      (e: { code: string }) => e.code,
    ),
} as const;

const READS = new Set<keyof KeywardStore>(["loadDecision", "loadAccess"]);
const reads = (calls: string[]) => calls.filter((c) => READS.has(c as keyof KeywardStore)).length;

describe("one pipeline for authorize(), accessible() and login()", () => {
  it.each(Object.keys(operations) as (keyof typeof operations)[])("R15 %s: anything that is not a well-formed token costs no store read", async (name) => {
    const w = await spied();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.anything()), async (token) => {
        w.calls.length = 0;
        expect(await operations[name](w, token)).toBe("token_malformed");
        expect(w.calls).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it.each(Object.keys(operations) as (keyof typeof operations)[])("R15 %s: a well-formed token costs exactly one store read", async (name) => {
    const w = await spied();
    for (const token of [w.live, w.revoked, generateToken("user"), generateToken("service_user")]) {
      w.calls.length = 0;
      await operations[name](w, token);
      expect(reads(w.calls)).toBe(1);
    }
  });

  it("R6 R15 R16 the token stage answers alike in all three: unknown, revoked, expired (recorded once, one event)", async () => {
    const w = await spied();
    for (const op of Object.values(operations)) {
      expect(await op(w, generateToken("user"))).toBe("token_unknown");
      expect(await op(w, w.revoked)).toBe("token_revoked");
    }
    w.advance(THIRTY_DAYS + 1);
    w.events.length = 0;
    const expired = await Promise.all(Object.values(operations).map((op) => op(w, w.live)));
    expect(expired).toEqual(["token_expired", "token_expired", "token_expired"]);
    expect(w.events.filter((e) => e.type === "token.expired")).toHaveLength(1);
    expect(w.events.filter((e) => e.type === "authorization" || e.type === "login").map((e) => e.type).sort()).toEqual(["authorization", "authorization", "login"]);
  });

  it("R6 a use is recorded by each of the three, so each one keeps the token alive", async () => {
    const w = await spied();
    for (const op of Object.values(operations)) {
      w.advance(THIRTY_DAYS - 1);
      expect(["allowed", "access_denied"]).toContain(await op(w, w.live));
    }
    w.advance(THIRTY_DAYS - 1);
    expect(await operations.login(w, w.live)).toBe("allowed");
  });
});

describe("synchronous reads (store.sync)", () => {
  it("R15 on a store with synchronous reads, authorize(), accessible() and login() read it synchronously and call none of its asynchronous reads", async () => {
    const w = await spied();
    expect(w.store.sync?.store).toBe(w.store);
    for (const name of Object.keys(operations) as (keyof typeof operations)[]) {
      w.calls.length = 0;
      const pending = operations[name](w, w.live);
      // Read and use record happened before the call returned: nothing waited for the store.
      expect([...w.calls].sort(), name).toEqual([name === "accessible" ? "loadAccess" : "loadDecision", "recordTokenUse"].sort());
      expect(["allowed", "access_denied"]).toContain(await pending);
      expect(w.calls, name).toHaveLength(2);
    }
  });

  it("R15 a store copied or proxied to change a read is never bypassed: its own read is used, not the original's sync", async () => {
    const inner = memoryStore();
    let reads = 0;
    const copied: KeywardStore = { ...inner, loadDecision: (digest, item) => (reads++, inner.loadDecision(digest, item)) };
    expect(copied.sync?.store).toBe(inner);
    const w = await world({ store: copied });
    const { token } = await w.userToken(w.users.ana.id);
    reads = 0;
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("i_1"))).reason).not.toBe("token_unknown");
    expect(reads).toBe(1);
  });

  it("R15 a synchronous read that throws fails closed: unavailable, with the cause, never an allow", async () => {
    const inner = memoryStore();
    const boom = new Error("disk on fire");
    let failing = false;
    const sync = inner.sync!;
    const store: KeywardStore = { ...inner };
    Object.assign(store, {
      sync: {
        store,
        loadDecision: (d: string, i: Parameters<typeof sync.loadDecision>[1]) => {
          if (failing) throw boom;
          return sync.loadDecision(d, i);
        },
        loadAccess: (d: string, q: { itemType: string }) => {
          if (failing) throw boom;
          return sync.loadAccess(d, q);
        },
        recordTokenUse: sync.recordTokenUse,
      },
    });
    const w = await world({ store });
    const { token } = await w.userToken(w.users.ana.id);
    failing = true;
    for (const call of [() => w.kw.authorize(token, "inspections.view", w.inspection("i_1")), () => w.kw.accessible(token, "inspections.view", "inspection"), () => w.kw.login(token)]) {
      const e = (await call().then(
        () => null,
        (x: unknown) => x,
      )) as { code?: string; cause?: unknown } | null;
      expect(e?.code).toBe("unavailable");
      expect(e?.cause).toBe(boom);
    }
  });
});
