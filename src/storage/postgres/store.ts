/**
 * The PostgreSQL store: one schema for a real server (`pg`) and for embedded PGlite.
 *
 * Guarantees (README, "Deploying with PostgreSQL"):
 * - Fresh reads by default: every `loadDecision` (and every `loadAccess`, the read of a list
 *   filter) is one statement against the database, so a revocation, deletion, deactivation or
 *   permission removal that resolved on any instance refuses the next `authorize()` on every
 *   instance. `loadAccess` reads shares and rules through the grantee-key indexes of migration 2.
 * - Limits (R3) hold under concurrent creation on several instances: `insertToken` locks the
 *   quota owner's row (the membership for user tokens, the organization for service tokens),
 *   reads the subject and the owner's tokens under the lock with the database's time, runs the
 *   admission rule it was given, inserts only if admitted, commits.
 * - Last use (R6) is coalesced by the `coalesceUses` layer: at most one write per token per
 *   window (default and maximum 10 minutes) from each instance. The write merges with `GREATEST`
 *   and never touches a token marked expired.
 * - An optional decision cache (`cache: { ttlMs ≤ 5000 }`): the `cachedReads` layer over the
 *   leased LISTEN/NOTIFY source (cache.ts, lease.ts), which keeps R11: entries are served only
 *   under a lease renewed through the LISTEN connection, and every change resolves only once
 *   each live lease acknowledged it. Without it, a change still waits for the instances that cache.
 *
 * The store is composed: `coalesceUses(cachedReads(base) or afterChanges(base))`, where the base
 * only stores and reads.
 * - Time: expiry decisions, limit counts and last-use writes use the database's clock, read in
 *   the same statement (`db_now`); a clock given to `useClock()` (tests) replaces it.
 * - Every failure of the driver reaches the caller as `KeywardError("unavailable")` with the
 *   driver's error as `cause`: never an allow.
 * @module
 */
import { KeywardError, storeFailure } from "../../core/errors.js";
import type { SubjectState } from "../../core/lifecycle.js";
import type { AccessInput } from "../../core/access.js";
import type { OwnedToken } from "../../core/admit.js";
import { compileSubject } from "../../core/compile.js";
import type { DecisionInput, GrantIndex, ItemRef, LoadedSubject, SubjectKind, TokenClient } from "../../core/types.js";
import type { KeywardStore, MemberEntry, TokenListEntry } from "../types.js";
import { cachedReads } from "../layers/cached-reads.js";
import { afterChanges } from "../layers/changes.js";
import { coalesceUses } from "../layers/coalesce-uses.js";
import { readBatcher, type ReadBatching, type ReadBatchingOptions } from "./batch.js";
import { leasedInvalidation, MAX_WAIT_LEASES, peersAcknowledged } from "./cache.js";
import { pgDriver, pgliteDriver, type PGliteLike, type PgPoolLike, type Queryable, type SqlDriver } from "./driver.js";
import type { CacheStatus } from "./lease.js";
import { accessRead, bootstrapStatements, channelName, checkSchemaName, decisionRead, DEFAULT_SCHEMA, migrations, params, queries, rows, statementName, type Queries, type ReadKind, type Row, type SubjectRead } from "./sql.js";

export type { CacheStatus } from "./lease.js";

/**
 * 10 minutes: the default and the maximum coalescing window of last-use writes (R6).
 *
 * @example
 * ```ts
 * postgresStore({ pool, lastUseWindowMs: MAX_LAST_USE_WINDOW_MS / 2 })
 * ```
 */
export const MAX_LAST_USE_WINDOW_MS = 10 * 60 * 1000;
/**
 * 5 seconds: the largest staleness bound the decision cache accepts.
 *
 * @example
 * ```ts
 * postgresStore({ pool, cache: { ttlMs: MAX_CACHE_TTL_MS } })
 * ```
 */
export const MAX_CACHE_TTL_MS = 5000;
/**
 * 3 seconds: the default lease of a caching instance (heartbeats every second: 60 writes per
 * minute). The longest a change waits for an instance that died without a word.
 *
 * @example
 * ```ts
 * postgresStore({ pool, cache: { ttlMs: 5000, leaseMs: DEFAULT_LEASE_MS } })
 * ```
 */
export const DEFAULT_LEASE_MS = 3000;
/**
 * 10 seconds: the longest lease a caching instance may take.
 *
 * @example
 * ```ts
 * postgresStore({ pool, cache: { ttlMs: 5000, leaseMs: MAX_LEASE_MS } })
 * ```
 */
export const MAX_LEASE_MS = 10_000;

/**
 * The default read batching: up to 4 reads at once, then queued ones leave together, up to 64
 * in one statement.
 *
 * @example
 * ```ts
 * postgresStore({ pool, readBatching: { ...DEFAULT_READ_BATCHING, maxInFlight: 8 } }) // a pool of 20 on a larger server
 * ```
 */
export const DEFAULT_READ_BATCHING: Readonly<Required<ReadBatchingOptions>> = Object.freeze({ maxInFlight: 4, maxBatch: 64 });

/** Where the store's connections come from: exactly one of `driver`, `pool`, `pglite`. */
export type PostgresConnection =
  | { driver: SqlDriver; pool?: never; pglite?: never }
  | { pool: PgPoolLike; driver?: never; pglite?: never }
  | { pglite: PGliteLike; driver?: never; pool?: never };

/**
 * Options of {@link postgresStore}.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { pool, schema: "auth", statementTimeoutMs: 2000, cache: { ttlMs: 1000 } };
 * ```
 */
export type PostgresStoreOptions = PostgresConnection & {
  /** The schema of keyward's tables (created by `migrate()`). Default `"keyward"`. */
  schema?: string;
  /** With `pool` or `pglite`: the per-statement timeout (see `pgDriver`). Default: none. */
  statementTimeoutMs?: number;
  /**
   * R6 coalescing window in milliseconds: a token's last use is written at most once per window
   * by each instance. Default and maximum: 10 minutes. `0` writes every use.
   */
  lastUseWindowMs?: number;
  /**
   * Opt-in decision cache (`loadDecision`, `loadAccess`). `ttlMs` (at most 5000) is the longest
   * an entry is kept. Entries are served only while this instance's lease is valid (`leaseMs`,
   * 100 to 10,000, default 3000, renewed every third of it through the listening connection,
   * whose `application_name` is `applicationName` (default `"keyward-cache"`) and the
   * instance id); every change, on any instance, resolves only once each live lease
   * acknowledged it (R11). Needs a driver with `listen` (both adapters have one). Default: no
   * cache, every decision reads fresh state.
   */
  cache?: { ttlMs: number; maxEntries?: number; leaseMs?: number; applicationName?: string };
  /**
   * Fresh reads sent together under load: while `maxInFlight` of them (default 4) are running,
   * further ones wait and then leave as one statement per kind (up to `maxBatch`, default 64),
   * which costs the server far less than as many statements. A read never joins a statement
   * already sent, so it is as fresh as a read of its own; a single caller never waits. A batch of
   * list reads runs in a transaction with JIT off. `false` sends every read alone. Default: on.
   */
  readBatching?: ReadBatchingOptions | false;
  /** Called on every transition of the cache's status (`connecting`, `up`, `down`). */
  onCacheStatus?: (status: CacheStatus) => void;
  /** Whether `close()` also closes the driver (ends the pool, closes PGlite). Default `false`. */
  closeDriver?: boolean;
};


/**
 * The PostgreSQL store: a {@link KeywardStore} plus migrations and a few operational calls.
 *
 * @example
 * ```ts
 * const store: PostgresStore = postgresStore({ pool });
 * await store.migrate();
 * process.on("SIGTERM", () => store.close()); // writes the last uses kept in process
 * ```
 */
export interface PostgresStore extends KeywardStore {
  /** The schema in use. */
  readonly schema: string;
  /** Applies the missing migrations (idempotent; concurrent callers are serialized). Resolves to the versions applied now. */
  migrate(): Promise<number[]>;
  /** Writes every last use kept in process now (also done within the window, and by `close()`). */
  flushTokenUses(): Promise<void>;
  /** `off` without a cache; `up` while the lease is held; `connecting`/`down` while the cache is bypassed. */
  cacheStatus(): CacheStatus;
  /**
   * Counts of the decision cache since the store was created: reads served from it (`hits`) and
   * reads it could not serve (`misses`: not cached, expired, or the cache bypassed while its
   * listener is down). Both stay 0 without `cache`. keyward's telemetry reports them as
   * `keyward.store.cache.hits` / `.misses`.
   */
  cacheStats(): { hits: number; misses: number };
  /**
   * Replaces the database's clock for expiry, limits and the last-use window (`createKeyward`
   * passes its `clock` option here: an injected clock is for tests).
   */
  useClock(clock: () => number): void;
}

/** The read batching settings from the option (`null`: off), each value checked. */
function readBatchingOf(option: ReadBatchingOptions | false | undefined): ReadBatching | null {
  if (option === false) return null;
  if (option !== undefined && (typeof option !== "object" || option === null)) {
    throw new KeywardError("invalid_config", "Invalid configuration at \"readBatching\": use false or { maxInFlight, maxBatch }.", { field: "readBatching" });
  }
  const setting = (field: "maxInFlight" | "maxBatch", fallback: number, max: number): number => {
    const v = option?.[field] ?? fallback;
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw new KeywardError("invalid_config", `Invalid configuration at "readBatching.${field}": use a whole number from 1 to ${max}.`, { field: `readBatching.${field}` });
    }
    return v;
  };
  return { maxInFlight: setting("maxInFlight", DEFAULT_READ_BATCHING.maxInFlight, 1000), maxBatch: setting("maxBatch", DEFAULT_READ_BATCHING.maxBatch, 1000) };
}

/** A client as stored (JSON): exactly its three fields. */
const clientJson = (c: TokenClient): TokenClient => ({ ip: c.ip, userAgent: c.userAgent, lastSeenAt: c.lastSeenAt });

function driverOf(options: PostgresStoreOptions): SqlDriver {
  const timeout = options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs };
  if (options.driver !== undefined) return options.driver;
  if (options.pool !== undefined) return pgDriver(options.pool, timeout);
  if (options.pglite !== undefined) return pgliteDriver(options.pglite, timeout);
  throw new KeywardError("invalid_config", "Invalid configuration: postgresStore needs one of `driver`, `pool` or `pglite`.", { field: "driver" });
}

/**
 * Applies the missing migrations of `schema` in one transaction, under a transaction-level
 * advisory lock so that instances starting together do not race. Idempotent.
 *
 * @example
 * ```ts
 * import { migrate } from "keyward/postgres";
 * await migrate({ pool }, { schema: "auth" }); // [1] the first time, [] afterwards
 * ```
 */
export async function migrate(connection: PostgresConnection, options: { schema?: string } = {}): Promise<number[]> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const driver = driverOf(connection);
  const q = queries(schema);
  try {
    return await driver.transaction(async (tx) => {
      await tx.query(q.lockMigrations, [`keyward:migrate:${schema}`]);
      for (const statement of bootstrapStatements(schema)) await tx.query(statement);
      const done = new Set((await tx.query(q.appliedMigrations)).map((r) => rows.num(r.version)));
      const applied: number[] = [];
      for (const m of migrations(schema)) {
        if (done.has(m.version)) continue;
        for (const statement of m.statements) await tx.query(statement);
        await tx.query(q.recordMigration, [m.version, m.name]);
        applied.push(m.version);
      }
      return applied;
    });
  } catch (e) {
    throw storeFailure(e);
  }
}

/**
 * Creates the PostgreSQL store. Run `migrate()` once (at deploy or start-up) before use.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createKeyward } from "keyward";
 * import { postgresStore } from "keyward/postgres";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 });
 * const store = postgresStore({ pool, statementTimeoutMs: 2000 });
 * await store.migrate();
 * const kw = createKeyward({ store, actions });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const driver = driverOf(options);
  const q = queries(schema);
  const windowMs = options.lastUseWindowMs ?? MAX_LAST_USE_WINDOW_MS;
  if (!Number.isFinite(windowMs) || windowMs < 0 || windowMs > MAX_LAST_USE_WINDOW_MS) {
    throw new KeywardError("invalid_config", `Invalid configuration at "lastUseWindowMs": use 0 to ${MAX_LAST_USE_WINDOW_MS} ms.`, { field: "lastUseWindowMs" });
  }
  const cacheTtl = options.cache?.ttlMs;
  if (cacheTtl !== undefined && (!Number.isFinite(cacheTtl) || cacheTtl <= 0 || cacheTtl > MAX_CACHE_TTL_MS)) {
    throw new KeywardError("invalid_config", `Invalid configuration at "cache.ttlMs": the staleness bound must be 1 to ${MAX_CACHE_TTL_MS} ms.`, { field: "cache.ttlMs" });
  }
  if (cacheTtl !== undefined && driver.listen === undefined) {
    throw new KeywardError("invalid_config", "Invalid configuration at \"cache\": the driver cannot LISTEN, so the cache could not be invalidated.", { field: "cache" });
  }
  const maxEntries = options.cache?.maxEntries ?? 10_000;
  const leaseMs = options.cache?.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isFinite(leaseMs) || leaseMs < 100 || leaseMs > MAX_LEASE_MS) {
    throw new KeywardError("invalid_config", `Invalid configuration at "cache.leaseMs": use 100 to ${MAX_LEASE_MS} ms.`, { field: "cache.leaseMs" });
  }
  const batching = readBatchingOf(options.readBatching);
  /** The reads by the current digest and by the previous one, each a named prepared statement. */
  type Read = "loadDecision" | "loadDecisionNoItem" | "loadAccess";
  /** The statements of the reads of a token of either kind, and of each kind (`ReadKind`). */
  const readSets: Record<ReadKind, Queries["ofKind"][SubjectKind]> = {
    any: q,
    user: q.ofKind.user,
    service_user: q.ofKind.service_user,
  };
  /** The row of one read by its current digest, and only when no token has that, by its previous one (R18's grace period). */
  const named = (set: (typeof readSets)[ReadKind], read: Read) => {
    const text = set[read];
    const previous = set.byPreviousDigest[read];
    const name = statementName(text);
    const previousName = statementName(previous);
    return async (params: readonly string[]): Promise<Row | undefined> =>
      (await driver.query(text, params, name))[0] ?? (await driver.query(previous, params, previousName))[0];
  };
  /** A read's key: the read and the kind of token it loads (`loadDecision/user`). */
  type ReadKey = `${Read}/${ReadKind}`;
  const READS: readonly Read[] = ["loadDecision", "loadDecisionNoItem", "loadAccess"];
  const KINDS: readonly ReadKind[] = ["any", "user", "service_user"];
  const each = <T>(f: (read: Read, kind: ReadKind) => T): Record<ReadKey, T> =>
    Object.fromEntries(READS.flatMap((read) => KINDS.map((kind) => [`${read}/${kind}`, f(read, kind)]))) as Record<ReadKey, T>;
  const readAlone = each((read, kind) => named(readSets[kind], read));
  /** The rows of many reads of `text` (a batched read) in one statement, in the reads' order; undefined where no token has the digest. */
  const inOneStatement = (text: string) => {
    const name = statementName(text);
    return async (on: Queryable, reads: readonly (readonly string[])[]): Promise<(Row | undefined)[]> => {
      const columns = reads[0]!.map((_, k) => reads.map((p) => p[k]!));
      const found: (Row | undefined)[] = new Array(reads.length);
      for (const r of await on.query(text, columns, name)) found[rows.num(r.kw_o) - 1] = r;
      return found;
    };
  };
  /** A read alone, and many in one statement; the reads that find nothing by their current digest then try their previous one, together in one more. */
  const batchable = (read: Read, kind: ReadKind, run: <T>(f: (on: Queryable) => Promise<T>) => Promise<T>) => {
    const current = inOneStatement(readSets[kind].batched[read]);
    const previous = inOneStatement(readSets[kind].batched.byPreviousDigest[read]);
    const many = (reads: readonly (readonly string[])[]): Promise<(Row | undefined)[]> =>
      run(async (on) => {
        const found = await current(on, reads);
        const missing: number[] = [];
        for (let i = 0; i < reads.length; i++) if (found[i] === undefined) missing.push(i);
        if (missing.length > 0) {
          const again = await previous(on, missing.map((i) => reads[i]!));
          for (let k = 0; k < missing.length; k++) found[missing[k]!] = again[k];
        }
        return found;
      });
    return { one: readAlone[`${read}/${kind}`], many };
  };
  /**
   * A batch of list reads runs in a transaction with JIT off: a list read's plan is estimated
   * from the subject's grantee keys (thousands of rows per key on a large directory), so a batch
   * of them can pass PostgreSQL's `jit_above_cost` and pay tens of milliseconds of compilation.
   * A batch of decision reads is estimated at a few index lookups per read (about 800 for 64)
   * and runs as one statement. Reads of different kinds of token are never in one batch.
   */
  const batcher =
    batching === null
      ? null
      : readBatcher(
          batching,
          each((read, kind) =>
            batchable(read, kind, read !== "loadAccess" ? (f) => f(driver) : (f) =>
              driver.transaction(async (tx) => {
                await tx.query("SET LOCAL jit = off");
                return f(tx);
              })),
          ),
        );
  /**
   * The row of `read` for the token whose digest is `params[0]`: by its current digest, and only
   * when no token has that, by its previous one (R18's grace period) — a second round trip that
   * only an unknown secret or a rotated-away one pays. Under load, sent with other reads of its
   * kind (`readBatching`). `kind`: the kind of token the caller presented, when it knows it.
   */
  /** A read's `kind` argument as the store uses it: a kind of token, or anything else (omitted) for either kind. */
  const kindOf = (kind: unknown): SubjectKind | undefined => (kind === "user" || kind === "service_user" ? kind : undefined);
  function readByDigest(read: Read, params: string[], kind: SubjectKind | undefined): Promise<Row | undefined> {
    const key: ReadKey = `${read}/${kind ?? "any"}`;
    return batcher === null ? readAlone[key](params) : batcher.read(key, params);
  }

  // ── errors: every driver failure becomes `unavailable`; an update callback's own error passes through ──
  async function guard<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw storeFailure(e);
    }
  }
  async function updating<T>(run: (own: (f: () => T) => T) => Promise<T>): Promise<T> {
    let ownError: { e: unknown } | null = null;
    try {
      return await run((f) => {
        try {
          return f();
        } catch (e) {
          ownError = { e };
          throw e;
        }
      });
    } catch (e) {
      if (ownError !== null && (ownError as { e: unknown }).e === e) throw e;
      throw storeFailure(e);
    }
  }

  // ── time: the database's (learnt from every fresh read), or the injected clock ──
  let injected: (() => number) | null = null;
  /** The database's clock minus this process's, as of the last fresh read. */
  let dbOffset = 0;
  const storeNow = () => (injected !== null ? injected() : Date.now() + dbOffset);
  const learnt = (dbNow: unknown): number => {
    const t = rows.num(dbNow);
    dbOffset = t - Date.now();
    return t;
  };

  // ── reads ──
  /** A decision's input from a read: the subject compiled, the database's clock learnt. */
  function decisionInput(read: SubjectRead & { shares: GrantIndex; rules: GrantIndex }): DecisionInput {
    const { token, subject, shares, rules } = read;
    const compiled = compileSubject({ token, subject });
    return read.dbNow === undefined ? { token, subject, compiled, shares, rules } : { now: learnt(read.dbNow), token, subject, compiled, shares, rules };
  }

  /**
   * Whether a read's subject is a user without a membership row: the read brings the user's name
   * with the membership (migration 7), so such a subject has none. keyward never makes one (a
   * membership is never deleted); a store written to directly can.
   */
  const unnamed = (subject: LoadedSubject): boolean => subject.kind === "user" && subject.membership === null;

  /** The read with its subject named as the users table names it ({@link unnamed}): one more statement. */
  async function withUserName<R extends { subject: LoadedSubject }>(read: R): Promise<R> {
    const subject = read.subject;
    if (subject.kind !== "user") return read;
    const r = (await driver.query(q.getUser, [subject.user.id]))[0];
    return r === undefined ? read : { ...read, subject: { ...subject, user: rows.user(r) } };
  }

  async function freshDecision(tokenHash: string, item: ItemRef | null, kind: SubjectKind | undefined): Promise<DecisionInput | null> {
    const found = item === null ? await readByDigest("loadDecisionNoItem", [tokenHash], kind) : await readByDigest("loadDecision", [tokenHash, item.orgId, item.type, item.id], kind);
    if (found === undefined) return null;
    const read = decisionRead(found.decision_read, item === null ? null : { orgId: item.orgId, type: item.type, id: item.id });
    return decisionInput(unnamed(read.subject) ? await withUserName(read) : read);
  }

  async function freshAccess(tokenHash: string, itemType: string, kind: SubjectKind | undefined): Promise<AccessInput | null> {
    const found = await readByDigest("loadAccess", [tokenHash, itemType], kind);
    if (found === undefined) return null;
    const read = accessRead(found.access_read, itemType);
    const { token, subject, dbNow, shares, rules, sitePaths } = unnamed(read.subject) ? await withUserName(read) : read;
    const compiled = compileSubject({ token, subject });
    return dbNow === undefined ? { token, subject, compiled, shares, rules, sitePaths } : { now: learnt(dbNow), token, subject, compiled, shares, rules, sitePaths };
  }

  const subjectStateOfRow = (r: Row, kind: string): SubjectState =>
    kind === "user"
      ? { active: r.m_status === "active", epoch: rows.strOrNull(r.m_epoch) }
      : { active: r.su_status === "active", epoch: null };

  /** Runs `update` on the row locked by `lock`; when there is no row, serializes on an advisory lock first. */
  async function lockedUpdate<T>(
    tx: Queryable,
    lock: string,
    lockParams: unknown[],
    key: string,
    map: (r: Row) => T,
  ): Promise<T | null> {
    let found = await tx.query(lock, lockParams);
    if (found[0] === undefined) {
      await tx.query(q.lockKey, [key]);
      found = await tx.query(lock, lockParams);
    }
    return found[0] === undefined ? null : map(found[0]);
  }

  /** Only stores and reads: no coalescing, no cache, no waiting for other instances (the layers add those). */
  const base: KeywardStore = {
    useClock(clock) {
      injected = clock;
    },

    putOrganization: (org) => guard(async () => void (await driver.query(q.putOrganization, params.organization(org)))),
    getOrganization: (orgId) => guard(async () => {
      const r = (await driver.query(q.getOrganization, [orgId]))[0];
      return r === undefined ? null : rows.organization(r);
    }),
    putUser: (user) => guard(async () => void (await driver.query(q.putUser, params.user(user)))),
    getUser: (userId) => guard(async () => {
      const r = (await driver.query(q.getUser, [userId]))[0];
      return r === undefined ? null : rows.user(r);
    }),
    getMembership: (orgId, userId) => guard(async () => {
      const r = (await driver.query(q.getMembership, [orgId, userId]))[0];
      return r === undefined ? null : rows.membership(r);
    }),
    updateMembership: (orgId, userId, update) =>
      updating(async (own) =>
        driver.transaction(async (tx) => {
          // The user's row before the membership's (migration 7's trigger takes both): a rename takes them in that order.
          await tx.query(q.shareUser, [userId]);
          const current = await lockedUpdate(tx, q.lockMembership, [orgId, userId], `${schema}:membership:${orgId}:${userId}`, rows.membership);
          const next = own(() => update(current));
          await tx.query(q.putMembership, params.membership(next));
          return { ...next, groupIds: [...next.groupIds], siteIds: [...next.siteIds] };
      }),
      ),
    listMembers: (orgId) => guard(async () =>
      (await driver.query(q.listMembers, [orgId])).map((r): MemberEntry => {
        const membership = rows.membership(r);
        return { membership, user: { id: membership.userId, name: r.user_name === null ? membership.userId : rows.str(r.user_name) } };
      }),
    ),
    pageMembers: (query) => guard(async () => {
      const found = await driver.query(q.pageMembers, [query.orgId, [...query.statuses], query.search, query.after?.name ?? null, query.after?.id ?? null, query.limit]);
      const total = found.length === 0 ? 0 : Number(found[0]!.total);
      const entries = found
        .filter((r) => r.user_id !== null)
        .map((r): MemberEntry => {
          const membership = rows.membership(r);
          return { membership, user: { id: membership.userId, name: rows.str(r.user_name) } };
        });
      return { entries, total };
    }),
    putPermissionSet: (set) => guard(async () => void (await driver.query(q.putPermissionSet, params.permissionSet(set)))),
    insertPermissionSet: (set) => guard(async () => (await driver.query(q.insertPermissionSet, params.permissionSet(set))).length > 0),
    getPermissionSet: (id) => guard(async () => {
      const r = (await driver.query(q.getPermissionSet, [id]))[0];
      return r === undefined ? null : rows.permissionSet(r);
    }),
    putGroup: (group) => guard(async () => (await driver.query(q.putGroup, params.group(group))).length > 0),
    getGroup: (id) => guard(async () => {
      const r = (await driver.query(q.getGroup, [id]))[0];
      return r === undefined ? null : rows.group(r);
    }),
    putSite: (site) => guard(async () => (await driver.query(q.putSite, params.site(site))).length > 0),
    getSite: (id) => guard(async () => {
      const r = (await driver.query(q.getSite, [id]))[0];
      return r === undefined ? null : rows.site(r);
    }),
    getServiceUser: (id) => guard(async () => {
      const r = (await driver.query(q.getServiceUser, [id]))[0];
      return r === undefined ? null : rows.serviceUser(r);
    }),
    updateServiceUser: (id, update) =>
      updating(async (own) =>
        driver.transaction(async (tx) => {
          const current = await lockedUpdate(tx, q.lockServiceUser, [id], `${schema}:service_user:${id}`, rows.serviceUser);
          const next = own(() => update(current));
          await tx.query(q.putServiceUser, params.serviceUser(next));
          return { ...next };
      }),
      ),
    listServiceUsers: (orgId) => guard(async () => (await driver.query(q.listServiceUsers, [orgId])).map(rows.serviceUser)),
    putShare: (share) => guard(async () => (await driver.query(q.putShare, params.share(share))).length > 0),
    deleteShare: (orgId, shareId) => guard(async () => (await driver.query(q.deleteShare, [orgId, shareId])).length > 0),
    listShares: (item) => guard(async () => (await driver.query(q.listShares, [item.orgId, item.type, item.id])).map(rows.share)),
    putRule: (rule) => guard(async () => (await driver.query(q.putRule, params.rule(rule))).length > 0),
    deleteRule: (orgId, ruleId) => guard(async () => (await driver.query(q.deleteRule, [orgId, ruleId])).length > 0),

    insertToken: (token, admit) =>
      updating((own) =>
        driver.transaction(async (tx) => {
          /** The subject's state, and the database's time read under the lock (the injected clock's, in tests). */
          let subject: SubjectState;
          let at: unknown;
          let owned: OwnedToken[];
          if (token.kind === "user") {
            // The quota owner is the membership row: lock it (also serializes with deactivation).
            const m = (await tx.query(q.lockMembership, [token.orgId, token.subjectId]))[0];
            subject = m === undefined ? { active: false, epoch: null } : { active: m.status === "active", epoch: rows.str(m.epoch) };
            at = m?.db_now;
            owned = (await tx.query(q.userQuotaTokens, [token.orgId, token.subjectId])).map((r) => ({ token: rows.token(r), subject }));
          } else {
            // The quota owner is the organization row (all its service users together).
            const org = await tx.query(q.lockOrganization, [token.orgId]);
            if (org.length === 0) await tx.query(q.lockKey, [`${schema}:service_quota:${token.orgId}`]);
            const su = (await tx.query(q.shareServiceUser, [token.subjectId]))[0];
            subject = { active: su !== undefined && su.status === "active", epoch: null };
            at = su?.db_now;
            owned = (await tx.query(q.serviceQuotaTokens, [token.orgId])).map((r) => ({ token: rows.token(r), subject: subjectStateOfRow(r, "service_user") }));
          }
          const now = injected !== null ? injected() : at === undefined || at === null ? null : learnt(at);
          const admitted = own(() => admit(token, { subject, tokens: owned, now }));
          if (admitted.ok) await tx.query(q.insertToken, params.token(token));
          return admitted;
        }),
      ),
    getToken: (tokenId) => guard(async () => {
      const r = (await driver.query(q.getToken, [tokenId]))[0];
      return r === undefined ? null : rows.token(r);
    }),
    listTokens: (filter) => guard(async () =>
      (await driver.query(q.listTokens, [filter.orgId, filter.kind ?? null, filter.subjectId ?? null])).map((r): TokenListEntry => {
        const token = rows.token(r);
        return { token, subjectName: rows.str(r.subject_name), subject: subjectStateOfRow(r, token.kind) };
      }),
    ),
    pageTokens: (query) => guard(async () => {
      // The uses the caller knows of (the coalescing layer's): the status and sort see them as if written.
      const known = query.knownUses ?? new Map<string, number>();
      const found = await driver.query(q.pageTokens[`${query.sort}:${query.order}`], [
        query.orgId, query.kind ?? null, query.subjectId ?? null, [...query.statuses], query.search, query.now, query.inactivityMs,
        query.after?.key ?? null, query.after?.id ?? null, query.limit, [...known.keys()], [...known.values()],
      ]);
      const total = found.length === 0 ? 0 : Number(found[0]!.total);
      const entries = found
        .filter((r) => r.id !== null)
        .map((r): TokenListEntry => {
          const token = rows.token(r);
          return { token, subjectName: rows.str(r.subject_name), subject: subjectStateOfRow(r, token.kind) };
        });
      return { entries, total };
    }),
    revokeToken: (tokenId, at, how, cause) =>
      guard(() =>
        driver.transaction(async (tx) => {
          const r = (await tx.query(q.lockToken, [tokenId]))[0];
          if (r === undefined) return null;
          const token = rows.token(r);
          const changed = how === "delete" ? token.deletedAt === null : token.deletedAt === null && token.revokedAt === null;
          if (!changed) return { token, changed };
          if (how === "delete") await tx.query(q.deleteToken, [tokenId, at]);
          else await tx.query(q.revokeToken, [tokenId, at, cause ?? null]);
          const next = how === "delete" ? { ...token, deletedAt: at } : { ...token, revokedAt: at, ...(cause === undefined ? {} : { revokedCause: cause }) };
          return { token: next, changed };
        }),
      ),
    rotateToken: (tokenId, change) =>
      guard(async () => {
        const r = (await driver.query(q.rotateToken, [tokenId, change.expectHash, change.hash, change.previousHashUntil, change.at, change.hint]))[0];
        if (r !== undefined) return { token: rows.token(r), changed: true };
        const now = (await driver.query(q.getToken, [tokenId]))[0];
        return now === undefined ? null : { token: rows.token(now), changed: false };
      }),
    markTokenExpired: (tokenId, at) => guard(async () => (await driver.query(q.markTokenExpired, [tokenId, at])).length > 0),
    setTokenPolicyExpiry: (changes) =>
      guard(async () =>
        changes.length === 0
          ? []
          : (await driver.query(q.setTokenPolicyExpiry, [changes.map((c) => c.tokenId), changes.map((c) => c.policyExpiresAt)])).map((r) => rows.str(r.id)),
      ),
    recordTokenUse: (tokenId, at, clients) =>
      guard(async () =>
        void (await (clients === undefined || clients.seen.length === 0
          ? driver.query(q.recordTokenUse, [tokenId, at])
          : driver.query(q.recordTokenUseWithClients, [tokenId, at, JSON.stringify(clients.seen.map(clientJson)), clients.max]))),
      ),
    markTokenWarned: (tokenId, deadline, thresholdMs) => guard(async () => (await driver.query(q.markTokenWarned, [tokenId, deadline, thresholdMs])).length > 0),

    loadDecision: (tokenHash, item, kind) => guard(() => freshDecision(tokenHash, item, kindOf(kind))),
    loadAccess: (tokenHash, query, kind) => guard(() => freshAccess(tokenHash, query.itemType, kindOf(kind))),
    loadSubjectAccess: (subject, query) =>
      guard(async () => {
        const found = (await driver.query(q.loadSubjectAccess, ["preview", query.itemType, subject.kind, subject.orgId, subject.subjectId]))[0];
        if (found === undefined) throw new Error("loadSubjectAccess returned no row");
        const read = accessRead(found.access_read, query.itemType);
        const { subject: loaded, shares, rules, sitePaths } = unnamed(read.subject) ? await withUserName(read) : read;
        return { subject: loaded, shares, rules, sitePaths };
      }),

    async close() {
      if (options.closeDriver === true) await driver.close?.();
    },
  };

  // ── the layers: the read cache (or, without one, waiting for the instances that cache), then R6 coalescing ──
  const cached =
    cacheTtl === undefined
      ? null
      : cachedReads(base, {
          invalidation: leasedInvalidation({
            driver,
            q,
            channel: channelName(schema),
            leaseMs,
            applicationName: options.cache?.applicationName ?? "keyward-cache",
            ...(options.onCacheStatus ? { onStatus: options.onCacheStatus } : {}),
          }),
          ttlMs: cacheTtl,
          maxEntries,
          // A cached entry is judged at the store's time now, not at the time it was read.
          now: () => (injected === null ? storeNow() : null),
        });
  const reads = cached ?? afterChanges(base, { changed: peersAcknowledged(driver, q, MAX_WAIT_LEASES * MAX_LEASE_MS) });
  const layered = coalesceUses(reads, { windowMs, now: storeNow });
  return {
    ...layered,
    schema,
    migrate: () => migrate({ driver }, { schema }),
    cacheStatus: () => cached?.cacheStatus() ?? "off",
    cacheStats: () => cached?.cacheStats() ?? { hits: 0, misses: 0 },
    useClock(clock) {
      injected = clock;
    },
  };
}
