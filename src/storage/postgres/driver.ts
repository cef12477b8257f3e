/**
 * The driver behind the PostgreSQL store: a tiny interface (`query`, `transaction`, optional
 * `listen`) and two adapters of a few lines each, for a `pg` `Pool` and for PGlite. The adapters
 * use structural types, so importing `keyward/postgres` pulls neither driver's types or code.
 * @module
 */
import type { Row } from "./sql.js";

/** What runs one statement. */
export interface Queryable {
  /**
   * Runs one statement with `$n` parameters and resolves to its rows. With `name`, the statement
   * may be prepared once per connection under that name and executed without re-planning (the
   * `pg` adapter does; PGlite plans every call). One name always stands for one text.
   */
  query(text: string, params?: readonly unknown[], name?: string): Promise<Row[]>;
}

/** A running LISTEN subscription. */
export interface Subscription {
  /** Runs one statement on the listening connection itself (the cache's heartbeat: proof that this connection is alive). */
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Stops listening and releases the connection. */
  close(): Promise<void>;
}

/** Options of {@link SqlDriver.listen}. */
export interface ListenOptions {
  /** `application_name` of the listening connection, so that it can be told apart in `pg_stat_activity`. */
  applicationName?: string;
}

/**
 * The driver interface of the PostgreSQL store. `query` is one round trip; `transaction` runs
 * `fn` on one connection between `BEGIN` and `COMMIT` (`ROLLBACK` when `fn` throws).
 *
 * @example
 * ```ts
 * const driver = pgDriver(new Pool({ connectionString }));
 * await driver.transaction(async (tx) => tx.query("SELECT 1"));
 * ```
 */
export interface SqlDriver extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Listens on `channel` on a dedicated connection. `onNotify` gets each payload; `onLost` is
   * called once if that connection is lost (after which the subscription is dead: listen again).
   */
  listen?(channel: string, onNotify: (payload: string) => void, onLost: (error: unknown) => void, options?: ListenOptions): Promise<Subscription>;
  /** Closes what the driver owns (called by the store's `close()` only if the store owns the driver). */
  close?(): Promise<void>;
}

// ── pg ───────────────────────────────────────────────────────────────────────────────────────

/** The part of a `pg` client the store uses. */
export interface PgClientLike {
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: Row[] }>;
  release(err?: Error | boolean): void;
  on(event: "notification", listener: (message: { channel: string; payload?: string | undefined }) => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  removeListener(event: "error", listener: (err: Error) => void): unknown;
}

/** The part of a `pg` `Pool` the store uses. */
export interface PgPoolLike {
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: Row[] }>;
  connect(): Promise<PgClientLike>;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "connect", listener: (client: PgClientLike) => void): unknown;
  listenerCount?(event: "error"): number;
  end(): Promise<void>;
}

/** Options of {@link pgDriver}. */
export interface PgDriverOptions {
  /**
   * Per-statement timeout in milliseconds: a statement that takes longer fails (and the store
   * answers `unavailable`). Enforced by the server: every connection the pool opens after
   * `pgDriver()` runs `SET statement_timeout` first, and each transaction `SET LOCAL
   * statement_timeout`, so an abandoned statement does not keep a backend waiting. The client
   * gives up too (`query_timeout`), a grace period later (half the timeout, at least 250 ms), if
   * the server does not answer at all. Create the driver before the pool's first query. Default: none.
   */
  statementTimeoutMs?: number;
}

/** How much later than the server the client gives up on a statement (the server's cancel normally answers first). */
export function clientGraceMs(timeoutMs: number): number {
  return Math.max(250, Math.floor(timeoutMs / 2));
}

function isServerError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Adapts a `pg` `Pool`. Each `query` is one pooled round trip; a transaction holds one client.
 * A client that failed (lost connection, timeout) is destroyed, not returned to the pool. The
 * adapter adds an `error` listener to the pool, so that an idle client whose backend dies does
 * not crash the process (the pool drops that client by itself).
 *
 * `listen` holds one client of the pool for as long as the subscription lives.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2000 });
 * const store = postgresStore({ driver: pgDriver(pool, { statementTimeoutMs: 2000 }) });
 * ```
 */
export function pgDriver(pool: PgPoolLike, options: PgDriverOptions = {}): SqlDriver {
  const timeout = options.statementTimeoutMs === undefined ? undefined : Math.max(1, Math.floor(options.statementTimeoutMs));
  if ((pool.listenerCount?.("error") ?? 0) === 0) pool.on("error", () => {});
  if (timeout !== undefined) {
    // Server-side: queued on the new connection before any statement of the store.
    pool.on("connect", (client) => {
      client.query({ text: `SET statement_timeout = ${timeout}` }).catch(() => {});
    });
  }
  const config = (text: string, params?: readonly unknown[], name?: string) => {
    const c: { text: string; values?: unknown[]; name?: string; query_timeout?: number } = { text };
    if (params !== undefined) c.values = [...params];
    if (name !== undefined) c.name = name;
    if (timeout !== undefined) c.query_timeout = timeout + clientGraceMs(timeout);
    return c;
  };
  return {
    async query(text, params, name) {
      return (await pool.query(config(text, params, name))).rows;
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client whose backend dies emits "error": without a listener that would crash the process.
      const onError = (e: Error) => {
        broken = e;
      };
      client.on("error", onError);
      try {
        await client.query(config("BEGIN"));
        if (timeout !== undefined) await client.query(config(`SET LOCAL statement_timeout = ${timeout}`));
        const result = await fn({ query: async (text, params, name) => (await client.query(config(text, params, name))).rows });
        await client.query(config("COMMIT"));
        return result;
      } catch (e) {
        // A client-side failure (lost connection, client timeout) leaves the client unusable:
        // destroy it. A server error (a SQLSTATE) leaves it fine after a ROLLBACK.
        if (!isServerError(e)) {
          broken = e instanceof Error ? e : new Error(String(e));
          throw e;
        }
        try {
          await client.query(config("ROLLBACK"));
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw e;
      } finally {
        client.removeListener("error", onError);
        client.release(broken ?? false);
      }
    },
    async listen(channel, onNotify, onLost, listenOptions) {
      const client = await pool.connect();
      let done = false;
      const lost = (e: unknown) => {
        if (done) return;
        done = true;
        client.release(e instanceof Error ? e : new Error("listener connection ended"));
        onLost(e);
      };
      client.on("notification", (m) => {
        if (m.channel === channel) onNotify(m.payload ?? "");
      });
      client.on("error", lost);
      client.on("end", () => lost(new Error("listener connection ended")));
      try {
        if (listenOptions?.applicationName !== undefined) {
          await client.query({ text: "SELECT set_config('application_name', $1, false)", values: [listenOptions.applicationName] });
        }
        await client.query({ text: `LISTEN ${quoteIdent(channel)}` });
      } catch (e) {
        done = true;
        client.release(e instanceof Error ? e : true);
        throw e;
      }
      return {
        async query(text, params) {
          if (done) throw new Error("listener connection ended");
          return (await client.query(config(text, params))).rows;
        },
        async close() {
          if (done) return;
          done = true;
          try {
            await client.query({ text: `UNLISTEN ${quoteIdent(channel)}` });
            if (listenOptions?.applicationName !== undefined) await client.query({ text: "RESET application_name" });
            client.release();
          } catch (e) {
            client.release(e instanceof Error ? e : true);
          }
        },
      };
    },
    close: () => pool.end(),
  };
}

// ── PGlite ───────────────────────────────────────────────────────────────────────────────────

/** The part of a PGlite transaction the store uses. */
export interface PGliteTransactionLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The part of a PGlite instance (`@electric-sql/pglite`) the store uses. */
export interface PGliteLike extends PGliteTransactionLike {
  transaction<T>(fn: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>;
  listen(channel: string, callback: (payload: string) => void): Promise<(tx?: never) => Promise<void>>;
  close(): Promise<void>;
}

/** Options of {@link pgliteDriver}. */
export interface PGliteDriverOptions {
  /**
   * Rejects a call that takes longer than this (milliseconds). PGlite runs in-process and cannot
   * cancel a statement: the caller gets `unavailable`; a read finishes in the background, a
   * transaction is rolled back.
   */
  statementTimeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`statement timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Adapts PGlite: PostgreSQL in WebAssembly, in-process (one connection; PGlite serializes
 * calls). Statement names are ignored: PGlite's `query()` runs the unnamed statement of the
 * extended protocol, planned on every call, and `EXECUTE name($1)` cannot take parameters there;
 * being in-process, it has no round trip to save. `new PGlite()` is in memory; `new PGlite("./data")` persists to a directory.
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * const store = postgresStore({ driver: pgliteDriver(new PGlite("./keyward-data")) });
 * await store.migrate();
 * ```
 */
export function pgliteDriver(db: PGliteLike, options: PGliteDriverOptions = {}): SqlDriver {
  const timeout = options.statementTimeoutMs;
  const run = async (q: PGliteTransactionLike, text: string, params?: readonly unknown[]) =>
    (await q.query(text, params === undefined ? undefined : [...params])).rows as Row[];
  return {
    query: (text, params) => withTimeout(run(db, text, params), timeout),
    transaction(fn) {
      if (timeout === undefined) return db.transaction((tx) => fn({ query: (text, params) => run(tx, text, params) }));
      // On timeout the caller is answered at once and the transaction is made to roll back (its
      // next statement fails, or it throws before COMMIT): a timed-out write never lands later.
      // Once `fn` has finished in time, the COMMIT decides and the caller waits for it.
      let timedOut = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = () => new Error(`transaction timed out after ${timeout} ms`);
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(late());
        }, timeout);
      });
      const work = db
        .transaction(async (tx) => {
          const result = await fn({ query: (text, params) => (timedOut ? Promise.reject(late()) : run(tx, text, params)) });
          if (timedOut) throw late();
          clearTimeout(timer);
          return result;
        })
        .finally(() => clearTimeout(timer));
      return Promise.race([work, expired]);
    },
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, onNotify);
      return { query: (text, params) => run(db, text, params), close: () => unlisten() };
    },
    close: () => db.close(),
  };
}
