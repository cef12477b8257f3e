/**
 * The read cache of the PostgreSQL store as a small layer: `read` goes through it, `changed`
 * follows every change. Two implementations: {@link freshReads} (no cache: every read is fresh,
 * but a change still waits for the instances that do cache) and {@link leasedCache} (the opt-in
 * cache, served only under a valid lease; see lease.ts). Nothing here knows the store's records.
 * @module
 */
import type { SqlDriver } from "./driver.js";
import { awaitAcknowledged, cacheLease, type CacheStatus, type Lease } from "./lease.js";
import type { Queries } from "./sql.js";

/** The layer between the store's reads and its changes. */
export interface ReadLayer {
  /** The value under `key`: cached when allowed, else `fresh()` (which may then be cached; `null` never is). */
  read<T>(key: string, fresh: () => Promise<T | null>): Promise<T | null>;
  /** After a change committed: drop local entries; resolve once no instance can serve what the change invalidated. */
  changed(): Promise<void>;
  /** After a change that needs no waiting (one every instance also sees by itself): drop local entries. */
  dropLocal(): void;
  status(): CacheStatus;
  /** Reads served from the cache (`hits`) and reads it could not serve (`misses`); both 0 without a cache. */
  stats(): { hits: number; misses: number };
  close(): Promise<void>;
}

/** How long a change waits for acknowledgements at most, in leases (then `unavailable`). */
const MAX_WAIT_LEASES = 3;

/**
 * No cache: every read is fresh. A change still waits for the caching instances of other
 * processes (one extra round trip when there are none).
 *
 * @example
 * ```ts
 * const layer = freshReads(driver, queries("keyward"), 10_000);
 * ```
 */
export function freshReads(driver: SqlDriver, q: Queries, maxWaitMs: number): ReadLayer {
  return {
    read: (_key, fresh) => fresh(),
    changed: () => awaitAcknowledged(driver, q, null, maxWaitMs),
    dropLocal() {},
    status: () => "off",
    stats: () => ({ hits: 0, misses: 0 }),
    close: async () => {},
  };
}

/** Options of {@link leasedCache}. */
export interface LeasedCacheOptions {
  driver: SqlDriver;
  q: Queries;
  channel: string;
  /** How long an entry is served at most (ms). */
  ttlMs: number;
  maxEntries: number;
  leaseMs: number;
  applicationName: string;
  onStatus?: (status: CacheStatus) => void;
}

/**
 * The opt-in cache: entries are served only while the lease is valid and the listener alive;
 * a notification drops every entry; a read is only cached if nothing was dropped while it ran.
 *
 * @example
 * ```ts
 * const layer = leasedCache({ driver, q, channel, ttlMs: 5000, maxEntries: 10_000, leaseMs: 3000, applicationName: "keyward-cache" });
 * ```
 */
export function leasedCache(o: LeasedCacheOptions): ReadLayer {
  const entries = new Map<string, { value: unknown; expires: number }>();
  let generation = 0;
  const invalidate = () => {
    entries.clear();
    generation++;
  };
  const lease: Lease = cacheLease({
    driver: o.driver,
    channel: o.channel,
    q: o.q,
    leaseMs: o.leaseMs,
    applicationName: o.applicationName,
    invalidate,
    onStatus: (s) => o.onStatus?.(s),
  });
  const counts = { hits: 0, misses: 0 };
  return {
    async read<T>(key: string, fresh: () => Promise<T | null>): Promise<T | null> {
      if (!lease.serving()) {
        counts.misses++;
        return fresh();
      }
      const now = performance.now();
      const hit = entries.get(key);
      if (hit !== undefined && hit.expires > now) {
        counts.hits++;
        return hit.value as T;
      }
      counts.misses++;
      const before = generation;
      const value = await fresh();
      if (value !== null && before === generation && lease.serving()) {
        if (entries.size >= o.maxEntries) entries.delete(entries.keys().next().value as string);
        entries.set(key, { value, expires: now + o.ttlMs });
      }
      return value;
    },
    async changed() {
      invalidate();
      await awaitAcknowledged(o.driver, o.q, lease.instanceId, MAX_WAIT_LEASES * o.leaseMs);
    },
    dropLocal: invalidate,
    status: () => lease.status(),
    stats: () => ({ ...counts }),
    close: () => lease.close(),
  };
}

export { MAX_WAIT_LEASES };
