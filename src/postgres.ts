/**
 * `keyward/postgres`: the PostgreSQL store, for a real server (the `pg` driver, a `Pool`) and for
 * PGlite (`@electric-sql/pglite`, PostgreSQL in WebAssembly, in-process). Both drivers are
 * optional peer dependencies: install the one you use.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createKeyward } from "keyward";
 * import { postgresStore } from "keyward/postgres";
 *
 * const store = postgresStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate();
 * const kw = createKeyward({ store, actions });
 * ```
 * @module
 */
export {
  postgresStore,
  migrate,
  MAX_CACHE_TTL_MS,
  MAX_LAST_USE_WINDOW_MS,
  DEFAULT_LEASE_MS,
  MAX_LEASE_MS,
  DEFAULT_READ_BATCHING,
  type CacheStatus,
  type PostgresConnection,
  type PostgresStore,
  type PostgresStoreOptions,
} from "./storage/postgres/store.js";
export {
  pgDriver,
  pgliteDriver,
  type PgClientLike,
  type PgDriverOptions,
  type PgPoolLike,
  type PGliteDriverOptions,
  type PGliteLike,
  type PGliteTransactionLike,
  type Queryable,
  type SqlDriver,
  type Subscription,
  type ListenOptions,
} from "./storage/postgres/driver.js";
export type { ReadBatchingOptions } from "./storage/postgres/batch.js";
export { checkSchemaName, DEFAULT_SCHEMA, migrationSql, migrations, type Migration, type Row } from "./storage/postgres/sql.js";
