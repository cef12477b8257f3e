/**
 * R21 across instances: several OS processes, each an instance with its own keyward, share one
 * limit on the real PostgreSQL (KEYWARD_PG_URL) or Redis (KEYWARD_REDIS_URL) and together allow
 * exactly the limit in a window. Without a URL a suite cannot run; under CI that fails loudly.
 * Also: the real clients' failures (a server that does not answer) fail closed, or fall back to
 * the insurance, with an event.
 */
import { fork, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresLimiterStore, rateLimit, redisLimiterStore, type LimiterStore } from "../../src/ratelimit/index.js";
import { caught, world } from "../core/fixture.js";
import { IN_CI, PG_URL } from "../storage/postgres/support.js";

const REDIS_URL = process.env.KEYWARD_REDIS_URL || undefined;
const here = dirname(fileURLToPath(import.meta.url));

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the shared-limit suite runs against the real PostgreSQL", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the shared PostgreSQL limit would silently not be tested");
  });
}
if (REDIS_URL === undefined && IN_CI) {
  it("has KEYWARD_REDIS_URL set, so the shared-limit suite runs against the real Redis", () => {
    throw new Error("CI is set but KEYWARD_REDIS_URL is not: the shared Redis limit would silently not be tested");
  });
}

const unique = () => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

/** Starts `n` instances, lets them all go at once, and sums what they were allowed. */
async function instances(n: number, env: Record<string, string>): Promise<{ allowed: number; limited: number; other: number }> {
  const children: ChildProcess[] = [];
  try {
    const ready: Promise<void>[] = [];
    const done: Promise<{ allowed: number; limited: number; other: number }>[] = [];
    for (let i = 0; i < n; i++) {
      const child = fork(join(here, "worker.ts"), [], { execArgv: ["--import", "tsx"], env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      children.push(child);
      let first = true;
      ready.push(new Promise((resolve, reject) => (child.once("message", () => resolve()), child.once("exit", (code) => reject(new Error(`instance ${i} exited with ${code}`))))));
      done.push(
        new Promise((resolve, reject) => {
          child.on("message", (m) => {
            if (first) first = false;
            else resolve(m as { allowed: number; limited: number; other: number });
          });
          child.once("exit", (code) => code !== 0 && reject(new Error(`instance ${i} exited with ${code}`)));
        }),
      );
    }
    await Promise.all(ready);
    for (const child of children) child.send("go");
    const counts = await Promise.all(done);
    return counts.reduce((a, c) => ({ allowed: a.allowed + c.allowed, limited: a.limited + c.limited, other: a.other + c.other }));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

describe.runIf(PG_URL !== undefined)("R21 on the real PostgreSQL: instances share one limit", () => {
  const schemas: string[] = [];
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  });

  it("R21 four processes, 40 requests each against a limit of 50 per organization, allow exactly 50 — and create the table together without a race", async () => {
    const schema = `kwrl_${unique()}`;
    schemas.push(schema);
    const sum = await instances(4, { STORE: "postgres", URL: PG_URL!, SCHEMA: schema, KEY_PREFIX: `kwrl:${unique()}`, LIMIT: "50", REQUESTS: "40" });
    expect(sum).toEqual({ allowed: 50, limited: 110, other: 0 });
  }, 60_000);

  it("R21 migrate() is idempotent and safe from several instances at once; the table is UNLOGGED unless asked otherwise", async () => {
    const schema = `kwrl_${unique()}`;
    schemas.push(schema);
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: PG_URL, max: 2 }));
    try {
      await Promise.all(pools.flatMap((pool) => [postgresLimiterStore({ pool, schema }).migrate(), postgresLimiterStore({ pool, schema }).migrate()]));
      const { rows } = await pools[0]!.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'rate_limits'", [schema]);
      expect(rows[0].n).toBe(1);
      const persistence = async (sch: string) => (await pools[0]!.query("SELECT c.relpersistence AS p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'rate_limits'", [sch])).rows[0].p;
      expect(await persistence(schema)).toBe("u"); // UNLOGGED by default: no WAL flush per request
      const logged = `kwrl_${unique()}`;
      schemas.push(logged);
      await postgresLimiterStore({ pool: pools[1]!, schema: logged, unlogged: false }).migrate();
      expect(await persistence(logged)).toBe("p");
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

describe.runIf(REDIS_URL !== undefined)("R21 on the real Redis: instances share one limit", () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    const client = new Redis(REDIS_URL!);
    for (const p of prefixes) {
      const keys = await client.keys(`${p}:*`);
      if (keys.length > 0) await client.del(...keys);
    }
    await client.quit();
  });

  it("R21 four processes, 40 requests each against a limit of 50 per organization, allow exactly 50", async () => {
    const prefix = `kwrl:${unique()}`;
    prefixes.push(prefix);
    const sum = await instances(4, { STORE: "redis", URL: REDIS_URL!, KEY_PREFIX: prefix, LIMIT: "50", REQUESTS: "40" });
    expect(sum).toEqual({ allowed: 50, limited: 110, other: 0 });
  }, 60_000);

  it("R21 the first request right after start-up waits for the client's first connection instead of failing closed", async () => {
    const prefix = `kwrl:${unique()}`;
    prefixes.push(prefix);
    const client = new Redis(REDIS_URL!); // still connecting
    try {
      const w = await world();
      const { token } = await w.userToken(w.users.ana.id);
      expect(client.status).not.toBe("ready");
      const limit = rateLimit({ by: "token", limit: 1, windowMs: 60_000, store: redisLimiterStore({ client }), keyPrefix: prefix, timeoutMs: 5000 });
      const first = w.kw.authorize(token, "reports.export", null, { rateLimit: limit });
      expect((await first).reason).toBe("allowed");
      expect((await w.kw.authorize(token, "reports.export", null, { rateLimit: limit })).reason).toBe("rate_limited");
      expect(w.events.filter((e) => e.type === "rate_limit.store_failed")).toEqual([]);
    } finally {
      await client.quit();
    }
  });
});

describe("R21 real clients whose server does not answer: fail closed by default, insurance when chosen, an event either way", () => {
  const dead: { name: string; store: () => { store: LimiterStore; close: () => Promise<unknown> } }[] = [
    {
      name: "Redis (ioredis, nothing listening)",
      store: () => {
        const client = new Redis({ host: "127.0.0.1", port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on("error", () => {});
        return { store: redisLimiterStore({ client }), close: async () => client.disconnect() };
      },
    },
    {
      name: "PostgreSQL (pg Pool, nothing listening)",
      store: () => {
        const pool = new pg.Pool({ host: "127.0.0.1", port: 1, user: "postgres", password: "hunter2", connectionTimeoutMillis: 500 });
        pool.on("error", () => {});
        return { store: postgresLimiterStore({ pool, schema: "kwrl_dead" }), close: () => pool.end() };
      },
    },
  ];
  it.each(dead)("$name", async ({ store: make }) => {
    const { store, close } = make();
    try {
      const w = await world();
      const { token } = await w.userToken(w.users.ana.id);
      const closed = rateLimit({ by: "token", limit: 2, windowMs: 60_000, store, keyPrefix: `kwrl:${unique()}` });
      const e = await caught(() => w.kw.authorize(token, "reports.export", null, { rateLimit: closed }));
      expect(e).toMatchObject({ code: "unavailable" });
      const insured = rateLimit({ by: "token", limit: 2, windowMs: 60_000, store, onStoreError: "insurance", keyPrefix: `kwrl:${unique()}` });
      const ds = [];
      for (let i = 0; i < 3; i++) ds.push((await w.kw.authorize(token, "reports.export", null, { rateLimit: insured })).reason);
      expect(ds).toEqual(["allowed", "allowed", "rate_limited"]);
      const failed = w.events.filter((ev) => ev.type === "rate_limit.store_failed").map((ev) => (ev as { fallback: string }).fallback);
      expect(failed).toEqual(["fail_closed", "insurance", "insurance", "insurance"]);
      expect(JSON.stringify(w.events)).not.toContain("hunter2");
    } finally {
      await close();
    }
  }, 30_000);
});
