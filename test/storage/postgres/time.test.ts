/**
 * Time and timeouts of the PostgreSQL store: decisions, limit counts and last-use writes on the
 * database's clock (read in the same statement), an injected clock for tests that the last-use
 * window follows too, and a statement timeout the server enforces.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKeyward } from "../../../src/index.js";
import { pgliteDriver, postgresStore, type PostgresStore } from "../../../src/postgres.js";
import { coalesceUses } from "../../../src/storage/layers/coalesce-uses.js";
import { ACTIONS, caught, DAY, PASSWORD, THIRTY_DAYS, world } from "../../core/fixture.js";
import { eventually, IN_CI, PG_URL, pgliteStore, serverStore, sharedPglite, type TestStore } from "./support.js";

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the database-clock and statement-timeout suites run", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the database-clock and statement-timeout suites would silently not run");
  });
}

// On the server only: PGlite runs in-process, so its clock is this process's clock.
describe.runIf(PG_URL !== undefined)("the database's clock on the server, for an instance whose own clock is off", () => {
  let t: TestStore | undefined;
  let other: PostgresStore | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await other?.close();
    other = undefined;
    await t?.cleanup();
    t = undefined;
  });
  const make = (extra?: Parameters<typeof serverStore>[0]) => serverStore(extra);
  /** Another instance on the same schema, without an injected clock. */
  const instance = (s: TestStore, extra: { lastUseWindowMs?: number } = {}) => (other = postgresStore({ driver: s.raw, schema: s.schema, ...extra }));

  /** The database's clock now, in epoch ms. */
  const dbNow = async (s: TestStore) => Number((await s.raw.query("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS n"))[0]!.n);

  it("R6 an instance whose own clock runs a day slow still refuses a token idle 30 days and an hour by the database's clock", async () => {
    t = await make();
    const w = await world({ store: t.store });
    const { token, record } = await w.userToken(w.users.ana.id);
    // A keyward without an injected clock, on a process whose clock is a day behind the database's.
    const real = Date.now;
    vi.spyOn(Date, "now").mockImplementation(() => real() - DAY);
    const kw = createKeyward({ store: instance(t), actions: ACTIONS });
    const idleSince = (await dbNow(t)) - THIRTY_DAYS - 3_600_000;
    await t.raw.query(`UPDATE "${t.schema}".tokens SET created_at = $2, last_used_at = $2 WHERE id = $1`, [record.id, idleSince]);
    expect(await kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_expired" });
    // The expiry is recorded at the database's time, not the process's.
    const stored = await t.backdoor.readToken(record.id);
    expect(stored!.expiredAt).toBeGreaterThanOrEqual(idleSince + THIRTY_DAYS);
  });

  it("R3 R6 limits count on the database's clock: a token idle 30 days and an hour by it frees its slot, whatever the process's clock says", async () => {
    t = await make();
    const w = await world({ store: t.store, limits: { userTokensPerUser: 1 } });
    const first = await w.userToken(w.users.ana.id);
    const real = Date.now;
    vi.spyOn(Date, "now").mockImplementation(() => real() - DAY);
    const kw = createKeyward({ store: instance(t), actions: ACTIONS, limits: { userTokensPerUser: 1 }, verifyPassword: (_u, p) => p === PASSWORD });
    const create = () => kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "second", password: PASSWORD });
    // Idle 29 days by the database's clock: still active, the slot is taken.
    await t.raw.query(`UPDATE "${t.schema}".tokens SET created_at = $2, last_used_at = $2 WHERE id = $1`, [first.record.id, (await dbNow(t)) - 29 * DAY]);
    expect(await caught(create)).toMatchObject({ code: "token_limit_reached" });
    // Idle 30 days and an hour by the database's clock (29 days by the process's): expired, the slot is free.
    await t.raw.query(`UPDATE "${t.schema}".tokens SET created_at = $2, last_used_at = $2 WHERE id = $1`, [first.record.id, (await dbNow(t)) - THIRTY_DAYS - 3_600_000]);
    expect((await create()).token).toMatch(/^kwu_/);
  });

  it("R6 the last use written by authorize() is the database's time", async () => {
    t = await make({ lastUseWindowMs: 0 });
    const w = await world({ store: t.store });
    w.clock.now = await dbNow(t); // a token created now, so that it is not idle by the database's clock
    const { token, record } = await w.userToken(w.users.ana.id);
    const real = Date.now;
    vi.spyOn(Date, "now").mockImplementation(() => real() + DAY);
    const store = instance(t, { lastUseWindowMs: 0 });
    const kw = createKeyward({ store, actions: ACTIONS });
    const before = await dbNow(t);
    expect((await kw.authorize(token, "reports.export")).allowed).toBe(true);
    await store.flushTokenUses();
    const used = (await t.backdoor.readToken(record.id))!.lastUsedAt!;
    expect(used).toBeGreaterThanOrEqual(before);
    expect(used).toBeLessThan(before + DAY / 2); // not the process's clock, a day fast
  });
});

describe("R6 coalesced last uses follow the store's clock (an injected one in tests)", { timeout: 90_000 }, () => {
  it("a use kept for the window is written once the injected clock has moved past the window, without any wall time passing", async () => {
    const db = await sharedPglite();
    const t = await pgliteStore();
    try {
      const w = await world({ store: t.store });
      const { record } = await w.userToken(w.users.ana.id);
      let now = w.clock.now;
      // The layer over a store of the same schema that writes every use it is given; its timer under test control.
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      const uses = coalesceUses(postgresStore({ pglite: db, schema: t.schema, lastUseWindowMs: 0 }), { windowMs: 600_000, now: () => now });
      try {
        await uses.recordTokenUse(record.id, now); // written at once
        await uses.recordTokenUse(record.id, now + 60_000); // kept: within the window
        await vi.advanceTimersByTimeAsync(60_000); // a tick of the layer's timer: nothing is due on its clock
        expect((await t.backdoor.readToken(record.id))!.lastUsedAt).toBe(now);
        now += 600_000; // the clock moves ten minutes; no wall time passes
        await vi.advanceTimersByTimeAsync(60_000);
        await eventually(async () => (await t.backdoor.readToken(record.id))!.lastUsedAt === w.clock.now + 60_000, 5_000, "the kept use written by the timer");
      } finally {
        vi.useRealTimers();
        await uses.close();
      }
    } finally {
      await t.cleanup();
    }
  });
});

describe.runIf(PG_URL !== undefined)("statementTimeoutMs on the server", () => {
  it("the server cancels a statement that waits past the timeout: once the caller got unavailable, no backend of the store is still waiting on the lock", async () => {
    const s = await serverStore({ statementTimeoutMs: 300, pool: { max: 6 } });
    try {
      const w = await world({ store: s.store });
      const { token, record } = await w.userToken(w.users.ana.id);
      await s.store.flushTokenUses();
      const client = await s.rawPool.connect();
      await client.query("BEGIN");
      await client.query(`LOCK TABLE "${s.schema}".tokens IN ACCESS EXCLUSIVE MODE`);
      try {
        // Reads outside a transaction and a transaction, six at once, all blocked by the lock.
        const calls = [
          ...Array.from({ length: 4 }, () => caught(() => w.kw.authorize(token, "reports.export"))),
          ...Array.from({ length: 2 }, () => caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id }))),
        ];
        for (const e of await Promise.all(calls)) expect(e).toMatchObject({ code: "unavailable" });
        const waiting = await client.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        expect(waiting.rows[0].n).toBe(0);
      } finally {
        await client.query("ROLLBACK");
        client.release();
      }
      expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    } finally {
      await s.cleanup();
    }
  });
});
