/**
 * The PostgreSQL store's read batching (`readBatching`): fresh reads that find the limit of
 * statements in flight wait and leave together as one statement.
 * - The batcher alone, model-based: never more statements in flight than the limit, no read
 *   waiting while a slot is free, a statement carries only reads asked before it was sent (so
 *   each is as fresh as a read of its own, R11), at most `maxBatch` of one kind, each read gets
 *   its own answer, and a failed statement fails exactly its reads.
 * - On PGlite (and the real server when KEYWARD_PG_URL is set): batched answers equal the
 *   answers of reads sent alone, for decisions with and without an item, list filters, unknown
 *   secrets and a rotated-away secret in its grace period (R15, R18), list reads in a transaction
 *   with JIT off; a revocation that
 *   resolved before a read was asked refuses it even when the read waited behind a statement of
 *   the same token (R11); a failed batch rejects its reads with `unavailable` and nothing else
 *   (fail closed).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createKeyward, KeywardError } from "../../../src/index.js";
import { postgresStore, type Queryable, type SqlDriver } from "../../../src/postgres.js";
import { readBatcher } from "../../../src/storage/postgres/batch.js";
import { ACTIONS, caught, DAY, PASSWORD, world } from "../../core/fixture.js";
import { eventually, PG_URL, pgliteStore, serverStore, type TestStore } from "./support.js";

const settle = () => new Promise((r) => setImmediate(r));

describe("the read batcher (model-based)", () => {
  type Kind = "a" | "b";
  /** A statement the fake driver received and has not answered. */
  interface Sent {
    kind: Kind;
    reads: number[];
    sentAt: number;
    /** Whether it was answered with an error. */
    failed?: boolean;
    answer(fail: boolean): void;
  }

  const command = fc.oneof(
    fc.record({ ask: fc.constantFrom<Kind>("a", "b") }),
    fc.record({ answer: fc.nat(), fail: fc.boolean() }),
  );

  it("R11 never more than maxInFlight statements; no read waits while a slot is free; a statement carries only reads asked before it was sent, of one kind, at most maxBatch; each read gets its own answer or its statement's error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.array(command, { maxLength: 60 }), async (maxInFlight, maxBatch, commands) => {
        let step = 0;
        const running: Sent[] = [];
        const statements: Sent[] = [];
        const askedAt = new Map<number, number>();
        const settled = new Map<number, { value?: string; error?: unknown }>();
        const waitingBehind = (): number => askedAt.size - settled.size - running.reduce((n, s) => n + s.reads.length, 0);
        const kind = (k: Kind) => ({
          one: (read: number) =>
            new Promise<string>((resolve, reject) => {
              const s: Sent = { kind: k, reads: [read], sentAt: step, answer: (fail) => (fail ? reject(new Error(`failed ${read}`)) : resolve(`${k}:${read}`)) };
              running.push(s);
              statements.push(s);
            }),
          many: (reads: readonly number[]) =>
            new Promise<string[]>((resolve, reject) => {
              const s: Sent = { kind: k, reads: [...reads], sentAt: step, answer: (fail) => (fail ? reject(new Error(`failed ${reads.join(",")}`)) : resolve(reads.map((r) => `${k}:${r}`))) };
              running.push(s);
              statements.push(s);
            }),
        });
        const batcher = readBatcher({ maxInFlight, maxBatch }, { a: kind("a"), b: kind("b") });
        let next = 0;
        const kindOf = new Map<number, Kind>();
        const ask = (k: Kind) => {
          const id = next++;
          askedAt.set(id, step);
          kindOf.set(id, k);
          batcher.read(k, id).then(
            (value) => settled.set(id, { value }),
            (error: unknown) => settled.set(id, { error }),
          );
        };
        const check = () => {
          expect(running.length).toBeLessThanOrEqual(maxInFlight);
          expect(batcher.inFlight()).toBe(running.length);
          // Work-conserving: a read waits only while every slot is taken.
          if (waitingBehind() > 0) expect(running.length).toBe(maxInFlight);
        };
        for (const c of commands) {
          step++;
          if ("ask" in c) ask(c.ask);
          else if (running.length > 0) {
            const s = running.splice(c.answer % running.length, 1)[0]!;
            s.answer(c.fail);
            s.failed = c.fail;
          }
          await settle();
          check();
        }
        while (running.length > 0) {
          step++;
          const s = running.shift()!;
          s.answer(false);
          await settle();
          check();
        }
        expect(settled.size).toBe(next);
        const carried = new Map<number, Sent>();
        for (const s of statements) {
          expect(s.reads.length).toBeLessThanOrEqual(maxBatch);
          for (const r of s.reads) {
            expect(carried.has(r)).toBe(false);
            carried.set(r, s);
            expect(kindOf.get(r)).toBe(s.kind);
            // Fresh: the read was asked at or before the step its statement was sent in.
            expect(askedAt.get(r)!).toBeLessThanOrEqual(s.sentAt);
          }
        }
        for (let id = 0; id < next; id++) {
          const s = carried.get(id)!;
          if (s.failed) expect(settled.get(id)!.error).toBeInstanceOf(Error);
          else expect(settled.get(id)).toEqual({ value: `${kindOf.get(id)}:${id}` });
        }
      }),
      { numRuns: 300 },
    );
  });

  it("sends the queue waiting longest first, and a queue longer than maxBatch in several statements", async () => {
    const sent: string[] = [];
    const answers: (() => void)[] = [];
    const kind = (k: string) => ({
      one: (p: number) => new Promise<number>((resolve) => (sent.push(`${k}[${p}]`), answers.push(() => resolve(p)))),
      many: (ps: readonly number[]) => new Promise<number[]>((resolve) => (sent.push(`${k}[${ps.join(",")}]`), answers.push(() => resolve([...ps])))),
    });
    const b = readBatcher({ maxInFlight: 1, maxBatch: 2 }, { x: kind("x"), y: kind("y") });
    const all = [b.read("x", 0), b.read("y", 1), b.read("x", 2), b.read("y", 3), b.read("y", 4), b.read("x", 5)];
    while (answers.length > 0) {
      answers.shift()!();
      await settle();
    }
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sent).toEqual(["x[0]", "y[1,3]", "x[2,5]", "y[4]"]);
  });
});

/** A driver that can hold the answers of the store's read statements until released, and fail its batched ones. */
function controlled(inner: SqlDriver) {
  let gate: Promise<void> | null = null;
  let open = () => {};
  const c = {
    batches: [] as unknown[][][],
    /** Read statements that ran and whose answers were held. */
    heldAnswers: 0,
    failBatches: false,
    /** Answers of read statements sent from now wait until `release()` (the statements run at once). */
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      gate = null;
      open();
    },
    /** The statements of each transaction, in order. */
    transactions: [] as string[][],
    driver: null as unknown as SqlDriver,
  };
  const run = async (on: Queryable, text: string, params?: readonly unknown[], name?: string) => {
    const held = (text.includes("decision_read") || text.includes("access_read")) && gate;
    if (text.includes("kw_q")) {
      c.batches.push(params as unknown[][]);
      if (c.failBatches) throw new Error("connection reset by peer");
    }
    const found = await on.query(text, params, name);
    // The statement ran; its answer waits.
    if (held) {
      c.heldAnswers++;
      await held;
    }
    return found;
  };
  c.driver = {
    ...inner,
    query: (text, params, name) => run(inner, text, params, name),
    transaction: (fn) =>
      inner.transaction((tx) => {
        const statements: string[] = [];
        c.transactions.push(statements);
        return fn({ query: (text, params, name) => (statements.push(text), run(tx, text, params, name)) });
      }),
  };
  return c;
}

const targets: [string, typeof pgliteStore][] = [["PGlite", pgliteStore]];
if (PG_URL !== undefined) targets.push(["pg Pool", serverStore]);

describe.each(targets)("read batching on %s", (_name, make) => {
  const open: TestStore[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.cleanup();
  });
  /** A world on a fresh schema, its store batching through a controlled driver (one statement in flight), and a keyward on a store that sends each read alone. */
  const setUp = async () => {
    const t = await make({ readBatching: false });
    open.push(t);
    const w = await world({ store: t.store });
    const c = controlled(t.raw);
    const batched = postgresStore({ driver: c.driver, schema: t.schema, readBatching: { maxInFlight: 1, maxBatch: 64 } });
    batched.useClock(() => w.clock.now);
    const kw = createKeyward({ store: batched, actions: ACTIONS, clock: () => w.clock.now, verifyPassword: () => true });
    open.unshift({ ...t, cleanup: () => batched.close() });
    return { t, w, c, batched, kw };
  };

  it("R15 R18 answers of reads sent together equal those of reads sent alone: decisions with and without an item, list filters, unknown and rotated-away secrets", async () => {
    const { t, w, c, kw } = await setUp();
    const item = w.inspection("i_1", { siteId: w.sites.harbour.id });
    await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "edit" });
    await w.kw.directory.share({ item: w.inspection("i_2"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    await w.kw.directory.share({ item: w.inspection("i_3"), grantee: { kind: "site", siteId: w.sites.oslo.id }, level: "view" });
    await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: [w.sites.harbour.id] }, grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "view" });
    const ana = await w.userToken(w.users.ana.id);
    const bob = await w.userToken(w.users.bob.id);
    const svc = await w.serviceToken();
    const revoked = await w.userToken(w.users.ada.id);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.ada.id });
    const old = await w.userToken(w.users.bob.id, "acme", "old");
    await w.kw.tokens.rotate({ orgId: "acme", tokenId: old.record.id, actorId: w.users.bob.id, password: PASSWORD, graceMs: DAY });
    // A well-formed secret that no token has, as its current digest or its previous one.
    const gone = await w.userToken(w.users.ana.id, "acme", "gone");
    await t.raw.query(`DELETE FROM "${t.schema}".tokens WHERE id = $1`, [gone.record.id]);
    // Secrets that find no row by the current digest first and in between, so that a batch's rows are not in its reads' order.
    const secrets = [old.token, ana.token, gone.token, bob.token, svc.token, old.token, revoked.token, "kw_not_a_token_at_all_0000000000000000000000000"];
    const items = [item, w.inspection("i_2"), w.inspection("i_3"), w.inspection("i_9"), w.inspection("b_1", undefined, "beta"), undefined];
    const calls: (() => Promise<unknown>)[] = [];
    const alone: (() => Promise<unknown>)[] = [];
    for (const it of items) {
      for (const secret of secrets) {
        for (const action of it === undefined ? (["reports.export"] as const) : (["inspections.view", "inspections.edit"] as const)) {
          calls.push(() => kw.authorize(secret, action, it));
          alone.push(() => w.kw.authorize(secret, action, it));
        }
      }
    }
    for (const secret of secrets) {
      calls.push(() => kw.accessible(secret, "inspections.view", "inspection").catch((e: unknown) => (e as KeywardError).code));
      alone.push(() => w.kw.accessible(secret, "inspections.view", "inspection").catch((e: unknown) => (e as KeywardError).code));
    }
    const expected = [];
    for (const f of alone) expected.push(await f());
    // One statement held in flight: every other call waits, then they leave in batches of their kind.
    c.hold();
    const together = calls.map((f) => f());
    await settle();
    c.release();
    expect(await Promise.all(together)).toEqual(expected);
    // Each kind of read left in batches: decisions with an item (4 parameters), without one (1), list reads (2).
    expect(new Set(c.batches.map((b) => b.length))).toEqual(new Set([4, 1, 2]));
    // A batch of list reads runs in a transaction that first turns JIT off (its estimate can pass jit_above_cost).
    const listBatches = c.transactions.filter((tx) => tx.some((text) => text.includes("kw_q") && text.includes("access_read")));
    expect(listBatches.length).toBeGreaterThan(0);
    for (const tx of listBatches) expect(tx[0]).toBe("SET LOCAL jit = off");
    expect(Math.max(...c.batches.map((b) => (b[0] as unknown[]).length))).toBeGreaterThan(10);
  });

  it("R11 a revocation that resolved before a read was asked refuses it, even when the read waited behind a statement of the same token", async () => {
    const { w, c, kw } = await setUp();
    const item = w.inspection("i_1");
    await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
    for (let round = 0; round < 5; round++) {
      const { token, record } = await w.userToken(w.users.bob.id, "acme", `laptop ${round}`);
      c.hold();
      const before = kw.authorize(token, "inspections.view", item);
      const held = c.heldAnswers;
      await eventually(() => c.heldAnswers > held, 5000, "the first read to run");
      await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id });
      const after = [kw.authorize(token, "inspections.view", item), kw.authorize(token, "reports.export"), kw.accessible(token, "inspections.view", "inspection")];
      await settle();
      c.release();
      expect((await before).allowed).toBe(true);
      const [a, b, list] = await Promise.all(after);
      expect(a).toMatchObject({ allowed: false, reason: "token_revoked" });
      expect(b).toMatchObject({ allowed: false, reason: "token_revoked" });
      expect(list).toMatchObject({ allowed: false, reason: "token_revoked" });
    }
  });

  it("a batch that fails rejects each of its reads with unavailable (never an allow); the statement in flight and later reads are answered", async () => {
    const { w, c, kw } = await setUp();
    const item = w.inspection("i_1");
    await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
    const { token } = await w.userToken(w.users.bob.id);
    c.hold();
    const first = kw.authorize(token, "inspections.view", item);
    const queued = [kw.authorize(token, "inspections.view", item), kw.authorize(token, "inspections.view", item), kw.authorize(token, "inspections.view", item)];
    await settle();
    c.failBatches = true;
    c.release();
    expect((await first).allowed).toBe(true);
    for (const q of queued) {
      const e = await caught(() => q);
      expect(e).toBeInstanceOf(KeywardError);
      expect(e).toMatchObject({ code: "unavailable" });
    }
    expect(c.batches).toHaveLength(1);
    expect((c.batches[0]![0] as unknown[]).length).toBe(3);
    c.failBatches = false;
    expect((await kw.authorize(token, "inspections.view", item)).allowed).toBe(true);
  });

  it("R18 reads of a batch that find no token by their current digest try their previous one together, in one more statement", async () => {
    const { t, w, c, kw } = await setUp();
    const first = await w.userToken(w.users.ana.id, "acme", "first");
    const gone = [];
    for (let i = 0; i < 5; i++) gone.push(await w.userToken(w.users.ana.id, "acme", `gone ${i}`));
    await t.raw.query(`DELETE FROM "${t.schema}".tokens WHERE id = ANY($1)`, [gone.map((g) => g.record.id)]);
    c.hold();
    const held = kw.authorize(first.token, "reports.export");
    const queued = gone.map((g) => kw.authorize(g.token, "reports.export"));
    await settle();
    c.release();
    expect((await held).allowed).toBe(true);
    for (const d of await Promise.all(queued)) expect(d).toMatchObject({ allowed: false, reason: "token_unknown" });
    // One statement by the current digests, one by the previous digests: each carrying the five reads.
    expect(c.batches.map((b) => (b[0] as unknown[]).length)).toEqual([5, 5]);
  });

  it("readBatching is checked: whole numbers from 1 to 1000, or false", async () => {
    const t = await make();
    open.push(t);
    for (const [readBatching, field] of [
      [{ maxInFlight: 0 }, "readBatching.maxInFlight"],
      [{ maxInFlight: 1.5 }, "readBatching.maxInFlight"],
      [{ maxBatch: 1001 }, "readBatching.maxBatch"],
      ["yes", "readBatching"],
      [null, "readBatching"],
    ] as const) {
      expect(() => postgresStore({ driver: t.raw, schema: t.schema, readBatching: readBatching as never })).toThrow(expect.objectContaining({ code: "invalid_config", field }));
    }
    expect(() => postgresStore({ driver: t.raw, schema: t.schema, readBatching: { maxInFlight: 1000, maxBatch: 1 } })).not.toThrow();
  });
});
