/**
 * `keyward/ratelimit`: per-token, per-subject or per-organization rate limits (R21) on
 * `rate-limiter-flexible` — in memory (one process), on PostgreSQL through the host's `pg` pool,
 * or on Redis (`ioredis` or `redis`) — for every binding's `rateLimit` option and for
 * `authorize(…, { rateLimit })`. `rate-limiter-flexible` (and the Redis client) are optional peer
 * dependencies: only this entry imports them.
 *
 * How a request is counted: once, after the token stage and before the permission and access
 * stages (the pipeline calls {@link RateLimit.consume}); a token that does not authenticate
 * touches no counter. One counter per key and fixed window, shared by every instance on the same
 * store; the limit for a request may depend on its action and subject, and is compared with the
 * units used in the window, this request's cost included.
 * @module
 */
import { createHash } from "node:crypto";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { z } from "zod";
import { fieldError, KeywardError } from "../core/errors.js";
import type { RateLimitState } from "../core/types.js";
import type { RateLimitContext, RateLimitGate, RateLimitVerdict } from "../service/rate-gate.js";
import { parseConfig } from "../service/schemas.js";

export type { RateLimitContext, RateLimitGate, RateLimitVerdict } from "../service/rate-gate.js";
export type { RateLimitState } from "../core/types.js";

/** What a limiter store builds: a `rate-limiter-flexible` limiter for one key prefix, number of points and window. */
export interface LimiterSpec {
  /** Prefix of every key (a Redis key is `<keyPrefix>:<key>`; a PostgreSQL row's `key` too). */
  keyPrefix: string;
  /** Points per window. */
  points: number;
  /** The window, in whole seconds. */
  durationSec: number;
  /** Seconds a key stays blocked once past its points (`rate-limiter-flexible`'s `blockDuration`). Default 0. */
  blockDurationSec?: number;
}

/**
 * Where counters live. Build one with {@link memoryLimiterStore}, {@link postgresLimiterStore} or
 * {@link redisLimiterStore} and pass it to {@link rateLimit}; the same store can build other
 * `rate-limiter-flexible` limiters for the host (`store.limiter(spec)`), e.g. to throttle
 * failed re-authentication on the same infrastructure.
 */
export interface LimiterStore {
  readonly kind: "memory" | "postgres" | "redis";
  /** Whether counters are shared by every instance using the same database or server (`false` for memory). */
  readonly shared: boolean;
  /** A `rate-limiter-flexible` limiter on this store (for PostgreSQL, once its table exists). */
  limiter(spec: LimiterSpec): Promise<RateLimiterAbstract>;
}

/**
 * Counters in this process's memory (`RateLimiterMemory`): the default. Not shared: N instances
 * of your app allow N times the limit. For tests, demos and single-process apps.
 *
 * @example
 * ```ts
 * rateLimit({ by: "token", limit: 100, windowMs: 60_000, store: memoryLimiterStore() })
 * ```
 */
export function memoryLimiterStore(): LimiterStore {
  return {
    kind: "memory",
    shared: false,
    limiter: async ({ keyPrefix, points, durationSec, blockDurationSec }) => new RateLimiterMemory({ keyPrefix, points, duration: durationSec, blockDuration: blockDurationSec ?? 0 }),
  };
}

/** What {@link postgresLimiterStore} needs of a `pg` `Pool`: `query`, and `connect` for the table's creation. */
export interface PgPoolLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(...args: any[]): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  connect(): Promise<{ query(...args: any[]): Promise<unknown>; release(err?: Error | boolean): void }>;
}

/** Options of {@link postgresLimiterStore}. */
export interface PostgresLimiterStoreOptions {
  /** Your `pg` `Pool` (the one `postgresStore()` uses, or another): no new infrastructure. */
  pool: PgPoolLike;
  /** The schema of the counters' table. Default `"keyward"` (created if missing). Lowercase letters, digits and `_`. */
  schema?: string;
  /** The table. Default `"rate_limits"`. Lowercase letters, digits and `_`. */
  table?: string;
  /**
   * Create the table (and schema) on first use or with {@link PostgresLimiterStore.migrate}. Default
   * `true`. `false` when your own migrations ran {@link rateLimitTableSql}.
   */
  createTable?: boolean;
  /**
   * Create the table `UNLOGGED` (default `true`): counters skip the write-ahead log, so a request
   * costs no WAL flush (about ten times faster on a busy disk), at the price that a server crash
   * empties the table and standbys do not have it — every key then starts a fresh window once.
   * `false` for a logged table.
   */
  unlogged?: boolean;
}

/** A PostgreSQL limiter store. */
export interface PostgresLimiterStore extends LimiterStore {
  readonly kind: "postgres";
  /**
   * Creates the schema and table if missing, once per store, under a transaction-level advisory
   * lock (so instances starting together neither race nor fail on `CREATE TABLE IF NOT EXISTS`)
   * with a 5 s `lock_timeout` and `statement_timeout` (so it never hangs). Run it at start-up to
   * find a permission problem early; otherwise the first request does it. A failure is retried by
   * the next call.
   */
  migrate(): Promise<void>;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The SQL of the counters' table, for your own migration tool (then `createTable: false`). The
 * columns are the ones `rate-limiter-flexible`'s `RateLimiterPostgres` reads and writes.
 *
 * @example
 * ```ts
 * await pool.query(rateLimitTableSql({ schema: "keyward", table: "rate_limits" }));
 * ```
 */
export function rateLimitTableSql(options: { schema?: string; table?: string; unlogged?: boolean } = {}): string {
  const schema = options.schema ?? "keyward";
  const table = options.table ?? "rate_limits";
  const unlogged = options.unlogged ?? true;
  if (!IDENT.test(schema) || !IDENT.test(table)) throw new KeywardError("invalid_config", "Rate-limit schema and table names must be lowercase letters, digits and `_`.", { field: "store" });
  return `CREATE SCHEMA IF NOT EXISTS "${schema}";
CREATE ${unlogged ? "UNLOGGED " : ""}TABLE IF NOT EXISTS "${schema}"."${table}" (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);`;
}

/**
 * Counters in a PostgreSQL table through your `pg` pool (`RateLimiterPostgres`): one upsert per
 * request, shared by every instance on the database. Expired rows are deleted every 5 minutes by
 * each instance (rows expired over an hour ago). Window boundaries use each instance's clock.
 *
 * @example
 * ```ts
 * const store = postgresLimiterStore({ pool });
 * await store.migrate(); // optional: otherwise the first request creates the table
 * const limit = rateLimit({ by: "organization", limit: 1000, windowMs: 60_000, store });
 * ```
 */
export function postgresLimiterStore(options: PostgresLimiterStoreOptions): PostgresLimiterStore {
  const schema = options.schema ?? "keyward";
  const table = options.table ?? "rate_limits";
  const sql = rateLimitTableSql({ schema, table, unlogged: options.unlogged ?? true });
  if (typeof options.pool?.query !== "function" || typeof options.pool.connect !== "function") {
    throw new KeywardError("invalid_config", "postgresLimiterStore needs a pg Pool (`pool`).", { field: "store.pool" });
  }
  const { pool } = options;
  let ready: Promise<void> | null = options.createTable === false ? Promise.resolve() : null;
  const migrate = (): Promise<void> => {
    ready ??= (async () => {
      const client = await pool.connect();
      let failed: Error | undefined;
      try {
        await client.query("BEGIN");
        await client.query("SET LOCAL lock_timeout = '5s'");
        await client.query("SET LOCAL statement_timeout = '5s'");
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`keyward:${schema}.${table}`]);
        await client.query(sql);
        await client.query("COMMIT");
      } catch (e) {
        failed = e as Error;
        await client.query("ROLLBACK").catch(() => {});
        throw e;
      } finally {
        client.release(failed);
      }
    })().catch((e: unknown) => {
      ready = null; // the next call tries again
      throw e;
    });
    return ready;
  };
  return {
    kind: "postgres",
    shared: true,
    migrate,
    async limiter({ keyPrefix, points, durationSec, blockDurationSec }) {
      await migrate();
      return new RateLimiterPostgres({
        storeClient: pool,
        storeType: "pool",
        schemaName: schema,
        tableName: table,
        tableCreated: true,
        keyPrefix,
        points,
        duration: durationSec,
        blockDuration: blockDurationSec ?? 0,
      });
    },
  };
}

/** Options of {@link redisLimiterStore}. */
export interface RedisLimiterStoreOptions {
  /** An `ioredis` client (`new Redis(url)`) or a connected `redis` (node-redis 4+) client. */
  client: unknown;
  /** A client of the `redis` package (node-redis): detected for most clients; set it when detection fails. */
  nodeRedis?: boolean;
}

/**
 * Counters on Redis (`RateLimiterRedis`: one Lua script per request, atomic), shared by every
 * instance on the server. The first request waits for an `ioredis` client's first connection
 * (within the limit's `timeoutMs`); afterwards a client that is not connected is refused at once
 * (no queue of commands waiting for a reconnection): the limit's `onStoreError` decides what
 * happens then.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * const store = redisLimiterStore({ client: new Redis(process.env.REDIS_URL!) });
 * ```
 */
export function redisLimiterStore(options: RedisLimiterStoreOptions): LimiterStore {
  const client = options.client as { defineCommand?: unknown; sendCommand?: unknown } | null | undefined;
  if (typeof client !== "object" || client === null) throw new KeywardError("invalid_config", "redisLimiterStore needs a Redis client (`client`).", { field: "store.client" });
  // An ioredis client still making its first connection: wait for it (bounded by the limit's
  // `timeoutMs`), so that the first requests after start-up are not refused as "not ready".
  const connecting = client as { status?: unknown; once?: (event: string, f: () => void) => unknown };
  const ready = async () => {
    if ((connecting.status === "connecting" || connecting.status === "connect") && typeof connecting.once === "function") {
      await new Promise<void>((resolve) => connecting.once!("ready", resolve));
    }
  };
  return {
    kind: "redis",
    shared: true,
    limiter: async ({ keyPrefix, points, durationSec, blockDurationSec }) =>
      (await ready(),
      new RateLimiterRedis({
        storeClient: client,
        rejectIfRedisNotReady: true,
        ...(options.nodeRedis ? { useRedisPackage: true } : {}),
        keyPrefix,
        points,
        duration: durationSec,
        blockDuration: blockDurationSec ?? 0,
      })),
  };
}

/** A number, or a function of the request's {@link RateLimitContext} giving one. */
export type PerRequest<T> = T | ((ctx: RateLimitContext) => T);

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /**
   * What shares a counter: every request with the same `token`; the same `subject` (a user or
   * service user, in the token's organization, over all its tokens); the same `organization`; or
   * the key your function returns (a non-empty string; keys over 180 characters are hashed).
   */
  by: "token" | "subject" | "organization" | ((ctx: RateLimitContext) => string);
  /** Units allowed per window: a positive integer, or a function of the action and subject (per action, per subject kind…). */
  limit: PerRequest<number>;
  /** The window in milliseconds: whole seconds, from 1 s to 1 day. Fixed windows: the count starts again when the window of a key's first request ends. */
  windowMs: number;
  /** Units one request uses: a non-negative integer, or a function. Default 1. */
  cost?: PerRequest<number>;
  /** Where counters live. Default {@link memoryLimiterStore} (one process). */
  store?: LimiterStore;
  /**
   * When the store fails (or takes longer than `timeoutMs`): `"fail-closed"` (default) refuses
   * the request (503 `unavailable` with `Retry-After`); `"insurance"` counts it in this process
   * instead (`RateLimiterMemory`), with the limit divided by `insuranceInstances`. Either way
   * the `rate_limit.store_failed` event says so.
   */
  onStoreError?: "fail-closed" | "insurance";
  /** How many instances share the limit: the insurance allows `ceil(limit / insuranceInstances)` per instance. Default 1. */
  insuranceInstances?: number;
  /** Milliseconds to wait for the store before treating it as failed. Default 1000. */
  timeoutMs?: number;
  /** The IETF `RateLimit-Policy` and `RateLimit` headers (opt-in), next to the `X-RateLimit-*` ones. */
  headers?: { ietf?: boolean };
  /** The policy's name: in the IETF headers and events, and in the default key prefix. Default `"default"`. */
  name?: string;
  /** Prefix of the keys in the store. Default `"keyward:rl:<name>"`. */
  keyPrefix?: string;
}

/** A configured rate limit: pass it as a binding's `rateLimit` option, or to `authorize(…, { rateLimit })`. */
export interface RateLimit extends RateLimitGate {
  readonly windowMs: number;
  readonly store: LimiterStore;
  /** Counts one request (the pipeline calls it once, after the token stage) and answers. Rejects when the store fails without insurance. */
  consume(ctx: RateLimitContext): Promise<RateLimitVerdict>;
}

const perRequestInt = (min: number) => z.union([z.number().int().min(min).max(1_000_000_000), z.function()]);
const optionsSchema = z
  .object({
    by: z.union([z.enum(["token", "subject", "organization"]), z.function()]),
    limit: perRequestInt(1),
    windowMs: z.number().int().min(1000).max(86_400_000).refine((n) => n % 1000 === 0, "must be whole seconds"),
    cost: perRequestInt(0).optional(),
    store: z.custom<LimiterStore>((s) => typeof s === "object" && s !== null && typeof (s as LimiterStore).limiter === "function", "expected a limiter store").optional(),
    onStoreError: z.enum(["fail-closed", "insurance"]).optional(),
    insuranceInstances: z.number().int().min(1).max(10_000).optional(),
    timeoutMs: z.number().int().min(1).max(60_000).optional(),
    headers: z.object({ ietf: z.boolean().optional() }).strict().optional(),
    name: z.string().regex(/^[a-z0-9_-]{1,32}$/, "must be 1–32 lowercase letters, digits, `_` or `-`").optional(),
    keyPrefix: z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/, "must be 1–64 letters, digits, `_`, `:`, `.` or `-`").optional(),
  })
  .strict();

/** Points of the underlying limiter: never reached, since keyward compares the count with the request's own limit (which may vary per request). Fits PostgreSQL's `integer`. */
const COUNT_ONLY = 2_147_483_647;

class TimeoutError extends Error {
  override readonly name = "timeout";
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`The rate limiter's store did not answer within ${ms} ms.`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function keyFor(by: RateLimitOptions["by"], ctx: RateLimitContext): string {
  let key: unknown;
  switch (by) {
    case "token":
      return `t:${ctx.tokenId}`;
    case "subject":
      key = `s:${ctx.orgId}:${ctx.subject.kind}:${ctx.subject.id}`;
      break;
    case "organization":
      return `o:${ctx.orgId}`;
    default:
      key = by(ctx);
      if (typeof key !== "string" || key.length === 0) throw fieldError("invalid_config", "rateLimit.by", "the key function must return a non-empty string");
      key = `k:${key}`;
  }
  const k = key as string;
  return k.length <= 180 ? k : `h:${createHash("sha256").update(k).digest("base64url")}`;
}

function intFor(value: PerRequest<number>, ctx: RateLimitContext, field: "limit" | "cost", min: number): number {
  const n = typeof value === "function" ? value(ctx) : value;
  if (!Number.isInteger(n) || n < min || n > 1_000_000_000) {
    throw fieldError("invalid_config", `rateLimit.${field}`, `expected an integer from ${min} to 1000000000 for action "${ctx.action}"`);
  }
  return n;
}

/**
 * Builds a rate limit (R21), validated once (`invalid_config` naming the field). Give it to a
 * binding's `rateLimit` option (every guard of that factory counts against it) or to
 * `authorize(…, { rateLimit })`.
 *
 * @example
 * ```ts
 * import { rateLimit } from "keyward/ratelimit";
 * const guard = keywardExpress(kw, {
 *   rateLimit: rateLimit({
 *     by: "token",
 *     limit: ({ action, subject }) => (action === "reports.export" ? 10 : subject.kind === "service_user" ? 1000 : 300),
 *     windowMs: 60_000,
 *     headers: { ietf: true },
 *   }),
 * });
 * ```
 */
export function rateLimit(options: RateLimitOptions): RateLimit {
  const o: z.output<typeof optionsSchema> = parseConfig(optionsSchema, options, "rateLimit");
  const name = o.name ?? "default";
  const store = options.store ?? memoryLimiterStore();
  const windowMs = o.windowMs;
  const spec: LimiterSpec = { keyPrefix: o.keyPrefix ?? `keyward:rl:${name}`, points: COUNT_ONLY, durationSec: windowMs / 1000 };
  const timeoutMs = o.timeoutMs ?? 1000;
  const insured = o.onStoreError === "insurance" && store.kind !== "memory";
  const instances = o.insuranceInstances ?? 1;
  const { by, limit, cost = 1 } = options;
  let primary: Promise<RateLimiterAbstract> | null = null;
  const limiter = (): Promise<RateLimiterAbstract> => {
    primary ??= store.limiter(spec).catch((e: unknown) => {
      primary = null; // e.g. the table could not be created: try again on the next request
      throw e;
    });
    return primary;
  };
  const insurance = insured ? new RateLimiterMemory({ keyPrefix: spec.keyPrefix, points: COUNT_ONLY, duration: spec.durationSec }) : null;
  const counted = async (p: Promise<RateLimiterRes>): Promise<RateLimiterRes> => {
    try {
      return await p;
    } catch (e) {
      if (e instanceof RateLimiterRes) return e; // over the (unreachable) points: still a count
      throw e;
    }
  };
  const state = (res: RateLimiterRes, applied: number): RateLimitState => {
    const used = res.consumedPoints;
    const resetMs = res.msBeforeNext >= 0 ? Math.min(res.msBeforeNext, windowMs) : windowMs;
    return { policy: name, limit: applied, used, remaining: Math.max(applied - used, 0), resetMs, windowMs };
  };
  return {
    name,
    ietfHeaders: o.headers?.ietf ?? false,
    windowMs,
    store,
    async consume(ctx) {
      const key = keyFor(by, ctx);
      const applied = intFor(limit, ctx, "limit", 1);
      const units = intFor(cost, ctx, "cost", 0);
      let res: RateLimiterRes;
      try {
        const run = limiter().then((l) => counted(l.consume(key, units)));
        res = store.kind === "memory" ? await run : await withTimeout(run, timeoutMs);
      } catch (e) {
        if (insurance === null) throw e;
        const local = Math.ceil(applied / instances);
        const r = state(await counted(insurance.consume(key, units)), local);
        return { allowed: r.used <= local, state: r, storeError: e };
      }
      const r = state(res, applied);
      return { allowed: r.used <= applied, state: r };
    },
  };
}
