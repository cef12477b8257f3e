/**
 * The PostgreSQL store on a real server (KEYWARD_PG_URL), where several connections and several
 * instances exist: consistency across instances (R11), the opt-in cache and its listener
 * (R11), limits under races (R3), faults that fail closed (lost connections, exhausted pools, timeouts).
 * Without a URL these suites cannot run (PGlite has one connection); under CI that fails loudly.
 */
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKeyward, KeywardError, type Keyward } from "../../../src/index.js";
import { isTokenActive } from "../../../src/core/lifecycle.js";
import type { TokenView } from "../../../src/core/types.js";
import { pgDriver, postgresStore, type PostgresStore, type SqlDriver } from "../../../src/postgres.js";
import { ACTIONS, caught, PASSWORD, T0, world, type World } from "../../core/fixture.js";
import { counting, eventually, IN_CI, newPool, PG_URL, secondInstance, serverStore, type CountingDriver } from "./support.js";

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the race, multi-instance and fault suites run against the real server", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the PostgreSQL server suites would silently not run");
  });
}

type Server = Awaited<ReturnType<typeof serverStore>>;

/** Instance A (the fixture world on its own pool) and instance B (another pool, same schema, same clock). */
async function twoInstances(bOptions: { cache?: { ttlMs: number }; driver?: (pool: pg.Pool) => SqlDriver } = {}) {
  const a = await serverStore({ pool: { max: 12 } });
  const w = await world({ store: a.store });
  const poolB = newPool({ max: 12 });
  const driverB = counting(bOptions.driver ? bOptions.driver(poolB) : pgDriver(poolB));
  const storeB = postgresStore({ driver: driverB, schema: a.schema, ...(bOptions.cache ? { cache: bOptions.cache } : {}) });
  const kwB = createKeyward({ store: storeB, actions: ACTIONS, clock: () => w.clock.now, verifyPassword: (_u, p) => p === PASSWORD });
  return {
    a,
    w,
    kwA: w.kw,
    kwB,
    storeB,
    driverB,
    async close() {
      await storeB.close();
      await poolB.end();
      await a.cleanup();
    },
  };
}

describe.runIf(PG_URL !== undefined)("several instances on one PostgreSQL server", () => {
  let env: Awaited<ReturnType<typeof twoInstances>>;
  afterEach(async () => {
    await env?.close();
  });

  it("renames racing membership writes on two instances (and an older instance's plain INSERT): no write fails (no deadlock) and every membership ends with the user's name", async () => {
    env = await twoInstances();
    const { w, kwA, kwB } = env;
    const user = w.users.carl.id;
    const orgs = [];
    for (let i = 0; i < 6; i++) orgs.push(await kwA.directory.createOrganization({ id: `race_${i}`, name: `Race ${i}` }));
    for (let round = 0; round < 40; round++) {
      const org = orgs[round % orgs.length]!.id;
      const joined = round < orgs.length;
      // One instance renames while the other adds the user to an organization (or changes that membership).
      const results = await Promise.allSettled([
        kwA.directory.upsertUser({ id: user, name: `Carl ${round}` }),
        joined ? kwB.directory.addMember({ orgId: org, userId: user }) : kwB.directory.updateMember({ orgId: org, userId: user, seat: round % 2 === 0 }),
        kwB.directory.updateMember({ orgId: "acme", userId: user, seat: round % 2 === 1 }),
        kwB.directory.upsertUser({ id: user, name: `Carl ${round}b` }),
        // A membership written as version 6 wrote it (an older instance during a rolling deploy).
        env.a.raw.query(
          `INSERT INTO "${env.a.schema}".memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch) VALUES ($1, $2, NULL, '{}', '{}', 'active', false, 'e')`,
          [`old_${round}`, user],
        ),
      ]);
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      const names = await env.a.raw.query(`SELECT DISTINCT m.user_name = u.name AS same FROM "${env.a.schema}".memberships m JOIN "${env.a.schema}".users u ON u.id = m.user_id WHERE m.user_id = $1`, [user]);
      expect(names).toEqual([{ same: true }]);
    }
  });

  it("R11 after a revocation resolves on one instance, the next authorize() on the other is refused: 200 of 200 times", async () => {
    env = await twoInstances();
    const { w, kwA, kwB } = env;
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const { token, record } = await w.userToken(w.users.ana.id);
      expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
      await kwA.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
      if ((await kwB.authorize(token, "reports.export")).reason === "token_revoked") refused++;
    }
    expect(refused).toBe(200);
  });

  it("R7 R11 R12 R13 an admin deletion, a deactivation, a departure, a permission removal and an unshare on one instance refuse the next authorize() on the other", async () => {
    env = await twoInstances();
    const { w, kwA, kwB } = env;
    const item = w.inspection("i_42");
    const share = await kwA.directory.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });

    const deleted = await w.userToken(w.users.ana.id);
    expect((await kwB.authorize(deleted.token, "reports.export")).allowed).toBe(true);
    await kwA.tokens.delete({ orgId: "acme", tokenId: deleted.record.id, actorId: w.users.ada.id });
    expect(await kwB.authorize(deleted.token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });

    const bob = await w.userToken(w.users.bob.id);
    expect((await kwB.authorize(bob.token, "inspections.view", item)).allowed).toBe(true);
    await kwA.directory.unshare({ orgId: share.item.orgId, id: share.id });
    expect(await kwB.authorize(bob.token, "inspections.view", item)).toMatchObject({ allowed: false, reason: "access_denied" });

    const ana = await w.userToken(w.users.ana.id);
    expect((await kwB.authorize(ana.token, "reports.export")).allowed).toBe(true);
    await kwA.directory.updatePermissionSet({ orgId: "acme", id: w.sets.inspector.id, permissions: ["inspections:view"] });
    expect(await kwB.authorize(ana.token, "reports.export")).toMatchObject({ allowed: false, reason: "permission_denied" });
    await kwA.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
    expect(await kwB.authorize(ana.token, "inspections.view", w.inspection("i_1"))).toMatchObject({ allowed: false, reason: "subject_inactive" });

    const ada = await w.userToken(w.users.ada.id);
    expect((await kwB.authorize(ada.token, "reports.export")).allowed).toBe(true);
    await kwA.directory.removeMember({ orgId: "acme", userId: w.users.ada.id });
    expect(await kwB.authorize(ada.token, "reports.export")).toMatchObject({ allowed: false, reason: "subject_inactive" });
  });

  it("R8 R11 removing a service user on one instance refuses its token on the other at once", async () => {
    env = await twoInstances();
    const { w, kwA, kwB } = env;
    const svc = await w.serviceToken();
    expect((await kwB.authorize(svc.token, "reports.export")).allowed).toBe(true);
    await kwA.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.ada.id });
    expect(await kwB.authorize(svc.token, "reports.export")).toMatchObject({ allowed: false, reason: "subject_inactive" });
  });

  it("R13 R14 a share, an unshare and a group change on one instance show in the next accessible() on the other", async () => {
    env = await twoInstances();
    const { w, kwA, kwB } = env;
    const { token } = await w.userToken(w.users.ana.id);
    const shared = async () => {
      const a = await kwB.accessible(token, "inspections.view", "inspection");
      if (!a.allowed) throw new Error(a.reason);
      return a.filter.shared;
    };
    expect(await shared()).toEqual([]);
    const share = await kwA.directory.share({ item: w.inspection("i_1"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    await kwA.directory.share({ item: w.inspection("i_2", undefined, "beta"), grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
    expect(await shared()).toEqual([{ orgId: "acme", ids: ["i_1"] }, { orgId: "beta", ids: ["i_2"] }]);
    await kwA.directory.unshare({ orgId: share.item.orgId, id: share.id });
    expect(await shared()).toEqual([{ orgId: "beta", ids: ["i_2"] }]);
    await kwA.directory.share({ item: w.inspection("i_3"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    await kwA.directory.updateMember({ orgId: "acme", userId: w.users.ana.id, groupIds: [] });
    expect(await shared()).toEqual([{ orgId: "beta", ids: ["i_2"] }]);
  });

  describe("the opt-in decision cache", () => {
    it("R11 a repeated decision makes no round trip; a revocation on another instance is seen through NOTIFY well before the staleness bound", async () => {
      env = await twoInstances({ cache: { ttlMs: 5000 } });
      const { w, kwA, kwB, storeB, driverB } = env;
      await eventually(() => (storeB as PostgresStore).cacheStatus() === "up", 5000, "the listener");
      const { token, record } = await w.userToken(w.users.ana.id);
      expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
      await storeB.flushTokenUses();
      driverB.reset();
      expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
      expect(driverB.queries.filter((q) => q.includes("decision_read"))).toHaveLength(0);
      await kwA.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
      // Refused within 2 s, with a 5 s bound: the NOTIFY invalidated the entry, not its expiry.
      await eventually(async () => (await kwB.authorize(token, "reports.export")).reason === "token_revoked", 2000, "the invalidation");
    });

    it("R11 R13 a cached list filter makes no round trip; an unshare on another instance is seen through NOTIFY well before the staleness bound", async () => {
      env = await twoInstances({ cache: { ttlMs: 5000 } });
      const { w, kwA, kwB, storeB, driverB } = env;
      await eventually(() => storeB.cacheStatus() === "up", 5000, "the listener");
      const share = await kwA.directory.share({ item: w.inspection("i_1"), grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
      const { token } = await w.userToken(w.users.ana.id);
      const ids = async () => {
        const a = await kwB.accessible(token, "inspections.view", "inspection");
        if (!a.allowed) throw new Error(a.reason);
        return a.filter.shared.flatMap((x) => x.ids);
      };
      expect(await ids()).toEqual(["i_1"]);
      await storeB.flushTokenUses();
      driverB.reset();
      expect(await ids()).toEqual(["i_1"]);
      expect(driverB.queries.filter((q) => q.includes("access_read"))).toHaveLength(0);
      await kwA.directory.unshare({ orgId: share.item.orgId, id: share.id });
      await eventually(async () => (await ids()).length === 0, 2000, "the invalidation");
    });

    it("R11 a write on the same instance drops its cache at once", async () => {
      env = await twoInstances({ cache: { ttlMs: 5000 } });
      const { w, kwB, storeB } = env;
      await eventually(() => storeB.cacheStatus() === "up", 5000, "the listener");
      const { token, record } = await w.userToken(w.users.ana.id);
      expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
      await kwB.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
      expect(await kwB.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
    });

    it("R11 when the listener's backend is killed (pg_terminate_backend) the cache is flushed and bypassed: a change made meanwhile is seen at once; caching resumes after reconnecting", async () => {
      // B's driver lets the first LISTEN through and holds any re-LISTEN until released, so the change lands while B is without a listener.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let listens = 0;
      env = await twoInstances({
        cache: { ttlMs: 5000 },
        driver: (pool) => {
          const inner = pgDriver(pool);
          return {
            ...inner,
            async listen(channel, onNotify, onLost, options) {
              if (listens++ > 0) await gate;
              return inner.listen!(channel, onNotify, onLost, options);
            },
          };
        },
      });
      const { a, w, kwA, kwB, storeB, driverB } = env;
      await eventually(() => storeB.cacheStatus() === "up", 5000, "the listener");
      const { token } = await w.userToken(w.users.ana.id);
      expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true); // cached now

      const killed = await a.raw.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1 AND pid <> pg_backend_pid()`,
        ["keyward-cache:%"],
      );
      expect(killed).toHaveLength(1);
      await eventually(() => storeB.cacheStatus() === "down", 5000, "the listener to be seen down");

      await kwA.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
      driverB.reset();
      expect(await kwB.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "subject_inactive" });
      expect(driverB.queries.filter((q) => q.includes("decision_read"))).toHaveLength(1);

      release();
      await eventually(() => storeB.cacheStatus() === "up", 5000, "the listener to reconnect");
      const other = await w.userToken(w.users.bob.id);
      expect((await kwB.authorize(other.token, "reports.export")).allowed).toBe(false); // Bob lacks reports:export; not cached either way
      const ada = await w.userToken(w.users.ada.id);
      await kwB.authorize(ada.token, "reports.export");
      await storeB.flushTokenUses();
      driverB.reset();
      expect((await kwB.authorize(ada.token, "reports.export")).allowed).toBe(true);
      expect(driverB.queries.filter((q) => q.includes("decision_read"))).toHaveLength(0);
    });
  });
});

describe.runIf(PG_URL !== undefined)("migrations on the server", () => {
  it("four instances migrating one fresh schema at once: one applies versions 1 to 7, the others find nothing to do", async () => {
    const schema = `kw_t_mig_${Math.random().toString(36).slice(2, 8)}`;
    const pools = Array.from({ length: 4 }, () => newPool({ max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => postgresStore({ pool, schema }).migrate()));
      expect(results.filter((r) => r.length > 0)).toEqual([[1, 2, 3, 4, 5, 6, 7]]);
      expect(results.filter((r) => r.length === 0)).toHaveLength(3);
    } finally {
      await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      for (const p of pools) await p.end();
    }
  });
});

describe.runIf(PG_URL !== undefined)("R3 limits under races on the server (separate connections, two instances)", () => {
  let env: Awaited<ReturnType<typeof twoInstances>>;
  beforeEach(async () => {
    env = await twoInstances();
  });
  afterEach(async () => {
    await env.close();
  });

  const outcome = (results: PromiseSettledResult<unknown>[]) => ({
    ok: results.filter((r) => r.status === "fulfilled").length,
    limit: results.filter((r) => r.status === "rejected" && (r.reason as KeywardError).code === "token_limit_reached").length,
  });

  async function activeCount(w: World, filter: { kind: "user" | "service_user"; subjectId?: string }): Promise<number> {
    const entries = await w.store.listTokens({ orgId: "acme", ...filter });
    return entries.filter((e) => isTokenActive(e.token, e.subject, w.clock.now, 30 * 86_400_000)).length;
  }

  it("R3 at 9 of 10 active user tokens, 20 concurrent creations split over two instances: exactly one succeeds, 30 of 30 times", async () => {
    const { w, kwA, kwB } = env;
    for (let rep = 0; rep < 30; rep++) {
      const userId = `u_race_${rep}`;
      await kwA.directory.upsertUser({ id: userId, name: `Racer ${rep}` });
      await kwA.directory.addMember({ orgId: "acme", userId, permissionSetId: w.sets.inspector.id });
      for (let i = 0; i < 9; i++) await kwA.tokens.createUserToken({ orgId: "acme", userId, name: `t${i}`, password: PASSWORD });
      const racers = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? kwA : kwB).tokens.createUserToken({ orgId: "acme", userId, name: `race${i}`, password: PASSWORD }),
      );
      expect(outcome(await Promise.allSettled(racers))).toEqual({ ok: 1, limit: 19 });
      expect(await activeCount(w, { kind: "user", subjectId: userId })).toBe(10);
    }
  });

  it("R3 at 19 of 20 active service tokens of the organization, 21 concurrent creations over two instances: exactly one succeeds, 30 of 30 times", async () => {
    const { w, kwA, kwB } = env;
    const svc2 = await kwA.serviceUsers.create({ id: "svc_two", orgId: "acme", name: "Second bot", permissionSetId: w.sets.bot.id, actorId: w.users.ada.id });
    for (let rep = 0; rep < 30; rep++) {
      // Start each round from zero active service tokens (a raw write: set-up, not the subject of the test).
      await env.a.raw.query(`UPDATE "${env.a.schema}".tokens SET deleted_at = $1 WHERE kind = 'service_user' AND deleted_at IS NULL`, [w.clock.now]);
      for (let i = 0; i < 19; i++) {
        await kwA.tokens.createServiceToken({ orgId: "acme", serviceUserId: i % 2 ? w.bot.id : svc2.id, name: `s${i}`, actorId: w.users.ada.id });
      }
      const racers = Array.from({ length: 21 }, (_, i) =>
        (i % 2 === 0 ? kwA : kwB).tokens.createServiceToken({ orgId: "acme", serviceUserId: i % 3 ? w.bot.id : svc2.id, name: `race${i}`, actorId: w.users.ada.id }),
      );
      expect(outcome(await Promise.allSettled(racers))).toEqual({ ok: 1, limit: 20 });
      expect(await activeCount(w, { kind: "service_user" })).toBe(20);
    }
  });

  it("R3 creations racing a revocation at the limit keep active ≤ 10, and at most the one freed slot is taken (20 repetitions)", async () => {
    const { w, kwA, kwB } = env;
    const userId = w.users.ana.id;
    const records: TokenView[] = [];
    for (let i = 0; i < 10; i++) records.push((await kwA.tokens.createUserToken({ orgId: "acme", userId, name: `t${i}`, password: PASSWORD })).record);
    for (let rep = 0; rep < 20; rep++) {
      const victim = records.shift()!;
      const racers = [
        kwA.tokens.revoke({ orgId: "acme", tokenId: victim.id, actorId: userId }),
        ...Array.from({ length: 6 }, (_, i) => (i % 2 ? kwA : kwB).tokens.createUserToken({ orgId: "acme", userId, name: `r${rep}.${i}`, password: PASSWORD })),
      ];
      const results: PromiseSettledResult<unknown>[] = await Promise.allSettled(racers);
      expect(results[0]!.status).toBe("fulfilled");
      const created = results.slice(1).filter((r) => r.status === "fulfilled");
      expect(created.length).toBeLessThanOrEqual(1);
      expect(await activeCount(w, { kind: "user", subjectId: userId })).toBeLessThanOrEqual(10);
      for (const r of created) records.push((r as PromiseFulfilledResult<{ record: TokenView }>).value.record);
      // Refill to the limit for the next round.
      while ((await activeCount(w, { kind: "user", subjectId: userId })) < 10) {
        records.push((await kwA.tokens.createUserToken({ orgId: "acme", userId, name: `refill${rep}`, password: PASSWORD })).record);
      }
    }
  });
});

describe.runIf(PG_URL !== undefined)("faults on the server fail closed", () => {
  let s: Server;
  let w: World;
  let kw: Keyward<keyof typeof ACTIONS>;
  const open: { end(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.end().catch(() => {});
    await s.cleanup();
  });

  /** Holds an ACCESS EXCLUSIVE lock on a table of the schema from another connection until `release()`. */
  async function lockTable(table: string) {
    const client = await s.rawPool.connect();
    await client.query("BEGIN");
    await client.query(`LOCK TABLE "${s.schema}".${table} IN ACCESS EXCLUSIVE MODE`);
    return {
      async release() {
        await client.query("ROLLBACK");
        client.release();
      },
    };
  }

  it("a connection lost in the middle of authorize() (backend killed) rejects with unavailable and the driver's error as cause, never an allow", async () => {
    s = await serverStore();
    w = await world({ store: s.store });
    kw = w.kw;
    const { token } = await w.userToken(w.users.ana.id);
    expect((await kw.authorize(token, "reports.export")).allowed).toBe(true);
    const lock = await lockTable("tokens");
    const pending = kw.authorize(token, "reports.export").then(
      (d) => ({ resolved: d }),
      (e: unknown) => ({ rejected: e }),
    );
    // pg_stat_activity keeps the first 1 KiB of a statement's text: the decision read is known by its start.
    await eventually(async () => {
      const r = await s.raw.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'SELECT json_build_array(t.tj, %'`,
      );
      return r.length === 1;
    }, 5000, "authorize() to block on the lock");
    const result = await pending;
    await lock.release();
    expect(result).toHaveProperty("rejected");
    const e = (result as { rejected: unknown }).rejected;
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "unavailable" });
    expect((e as KeywardError).cause).toBeInstanceOf(Error);
    // The pool recovers: the next call works.
    expect((await kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("an exhausted pool (connectionTimeoutMillis) rejects authorize() with unavailable, never an allow", async () => {
    s = await serverStore({ pool: { max: 1, connectionTimeoutMillis: 200 } });
    w = await world({ store: s.store });
    const { token } = await w.userToken(w.users.ana.id);
    await s.store.flushTokenUses();
    const held = await s.pool.connect();
    try {
      const e = await caught(() => w.kw.authorize(token, "reports.export"));
      expect(e).toBeInstanceOf(KeywardError);
      expect(e).toMatchObject({ code: "unavailable", cause: expect.objectContaining({ message: expect.stringMatching(/timeout/i) }) });
    } finally {
      held.release();
    }
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("a statement timeout rejects authorize() with unavailable; a creation that times out leaves no row", async () => {
    s = await serverStore({ statementTimeoutMs: 300 });
    w = await world({ store: s.store });
    const { token } = await w.userToken(w.users.ana.id);
    await s.store.flushTokenUses();
    let lock = await lockTable("tokens");
    try {
      expect(await caught(() => w.kw.authorize(token, "reports.export"))).toMatchObject({ code: "unavailable" });
    } finally {
      await lock.release();
    }
    const before = await s.backdoor.count("tokens");
    lock = await lockTable("memberships");
    try {
      expect(await caught(() => w.userToken(w.users.bob.id))).toMatchObject({ code: "unavailable" });
    } finally {
      await lock.release();
    }
    expect(await s.backdoor.count("tokens")).toBe(before);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("a creation whose backend is killed before commit leaves no row", async () => {
    s = await serverStore();
    w = await world({ store: s.store });
    const before = await s.backdoor.count("tokens");
    // Hold Bob's membership row so the creation blocks inside its transaction, then kill it there.
    const client = await s.rawPool.connect();
    await client.query("BEGIN");
    await client.query(`SELECT 1 FROM "${s.schema}".memberships WHERE org_id = 'acme' AND user_id = 'u_bob' FOR UPDATE`);
    const pending = w.userToken(w.users.bob.id).then(() => "created", (e: unknown) => e);
    await eventually(async () => {
      const r = await s.raw.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%' AND pid <> $1`,
        [(client as unknown as { processID: number }).processID],
      );
      return r.length === 1;
    }, 5000, "the creation to block");
    const result = await pending;
    await client.query("ROLLBACK");
    client.release();
    expect(result).toMatchObject({ code: "unavailable" });
    expect(await s.backdoor.count("tokens")).toBe(before);
  });
});

void T0;
