/**
 * Test support for the PostgreSQL store: a fresh schema per test on PGlite (one instance per
 * test file) and on the real server (when KEYWARD_PG_URL is set), raw back-door reads, and a
 * driver that counts round trips.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { pgDriver, pgliteDriver, postgresStore, type PostgresStore, type PostgresStoreOptions, type SqlDriver } from "../../../src/postgres.js";
import { rows } from "../../../src/storage/postgres/sql.js";
import type { Backdoor } from "../../../src/testing/index.js";

/** The server URL, or undefined: then the server suites do not run (and fail loudly under CI). */
export const PG_URL = process.env.KEYWARD_PG_URL || undefined;
export const IN_CI = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";

let n = 0;
/** A schema name no other test uses. */
export function freshSchema(): string {
  n++;
  return `kw_t_${process.pid}_${n}_${Math.random().toString(36).slice(2, 8)}`;
}

let pglite: PGlite | undefined;
/** One PGlite instance per test file (starting one takes a while); tests isolate by schema. */
export async function sharedPglite(): Promise<PGlite> {
  pglite ??= await PGlite.create();
  return pglite;
}

/** A new pool on the test server. */
export function newPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 4, ...options });
  pool.on("error", () => {});
  return pool;
}

/** Counts the calls a store makes through its driver. */
export interface CountingDriver extends SqlDriver {
  queries: string[];
  transactions: number;
  reset(): void;
}

export function counting(inner: SqlDriver): CountingDriver {
  const d: CountingDriver = {
    queries: [],
    transactions: 0,
    reset() {
      d.queries.length = 0;
      d.transactions = 0;
    },
    query(text, params) {
      d.queries.push(text);
      return inner.query(text, params);
    },
    transaction(fn) {
      d.transactions++;
      return inner.transaction((tx) => fn({ query: (text, params) => (d.queries.push(text), tx.query(text, params)) }));
    },
    ...(inner.listen ? { listen: inner.listen.bind(inner) } : {}),
    ...(inner.close ? { close: inner.close.bind(inner) } : {}),
  };
  return d;
}

/** Raw reads of one schema, bypassing the store. */
export function backdoor(raw: SqlDriver, schema: string): Backdoor & { count(table: string): Promise<number> } {
  return {
    async readToken(id) {
      const r = (await raw.query(`SELECT * FROM "${schema}".tokens WHERE id = $1`, [id]))[0];
      return r === undefined ? null : rows.token(r);
    },
    async readMembership(orgId, userId) {
      const r = (await raw.query(`SELECT * FROM "${schema}".memberships WHERE org_id = $1 AND user_id = $2`, [orgId, userId]))[0];
      return r === undefined ? null : rows.membership(r);
    },
    async readServiceUser(id) {
      const r = (await raw.query(`SELECT * FROM "${schema}".service_users WHERE id = $1`, [id]))[0];
      return r === undefined ? null : rows.serviceUser(r);
    },
    async dump() {
      const tables = ["organizations", "users", "memberships", "permission_sets", "groups", "sites", "service_users", "shares", "rules", "tokens"];
      const parts: string[] = [];
      for (const t of tables) parts.push(JSON.stringify(await raw.query(`SELECT * FROM "${schema}".${t}`)));
      return parts.join("\n");
    },
    async count(table) {
      return rows.num((await raw.query(`SELECT count(*) AS n FROM "${schema}".${table}`))[0]!.n);
    },
  };
}

/** A migrated store on a fresh schema, with its raw driver and a cleanup that drops the schema. */
export interface TestStore {
  store: PostgresStore;
  schema: string;
  raw: SqlDriver;
  driver: CountingDriver;
  backdoor: ReturnType<typeof backdoor>;
  cleanup(): Promise<void>;
}

type Extra = Omit<PostgresStoreOptions, "driver" | "pool" | "pglite" | "schema">;

export async function pgliteStore(extra: Extra = {}, schema = freshSchema()): Promise<TestStore> {
  const db = await sharedPglite();
  const raw = pgliteDriver(db);
  const driver = counting(pgliteDriver(db, extra.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: extra.statementTimeoutMs }));
  const store = postgresStore({ ...extra, driver, schema });
  await store.migrate();
  return {
    store,
    schema,
    raw,
    driver,
    backdoor: backdoor(raw, schema),
    async cleanup() {
      await store.close();
      await raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

export async function serverStore(extra: Extra & { pool?: pg.PoolConfig } = {}, schema = freshSchema()): Promise<TestStore & { pool: pg.Pool; rawPool: pg.Pool }> {
  const { pool: poolConfig, ...rest } = extra;
  const pool = newPool(poolConfig);
  const rawPool = newPool({ max: 2 });
  const raw = pgDriver(rawPool);
  const driver = counting(pgDriver(pool, rest.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: rest.statementTimeoutMs }));
  const store = postgresStore({ ...rest, driver, schema });
  await store.migrate();
  return {
    store,
    schema,
    raw,
    driver,
    pool,
    rawPool,
    backdoor: backdoor(raw, schema),
    async cleanup() {
      try {
        await store.close();
      } catch {
        // a test may have broken the pool on purpose
      }
      await pool.end().catch(() => {});
      await raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await rawPool.end();
    },
  };
}

/** Another store (another "instance") on the same schema with its own pool. */
export function secondInstance(schema: string, extra: Extra & { pool?: pg.PoolConfig } = {}): { store: PostgresStore; pool: pg.Pool; close(): Promise<void> } {
  const { pool: poolConfig, ...rest } = extra;
  const pool = newPool(poolConfig);
  const store = postgresStore({ ...rest, pool, schema });
  return {
    store,
    pool,
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

/** Polls `f` until it holds (for asynchronous events such as a listener reconnecting), failing after `ms`. */
export async function eventually(f: () => boolean | Promise<boolean>, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
