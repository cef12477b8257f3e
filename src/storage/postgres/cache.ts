/**
 * PostgreSQL's invalidation source for the `cachedReads` layer: LISTEN/NOTIFY on the schema's
 * channel under a lease (lease.ts), and the wait of a change for every other caching instance.
 * Nothing here knows the store's records.
 * @module
 */
import type { InvalidationSource } from "../layers/invalidation.js";
import type { SqlDriver } from "./driver.js";
import { awaitAcknowledged, cacheLease, type CacheStatus, type Lease } from "./lease.js";
import type { Queries } from "./sql.js";

/** How long a change waits for acknowledgements at most, in leases (then `unavailable`). */
const MAX_WAIT_LEASES = 3;

/**
 * Without a cache of its own: what a change waits for (the caching instances of other processes;
 * one extra round trip when there are none).
 *
 * @example
 * ```ts
 * const store = afterChanges(base, { changed: peersAcknowledged(driver, queries("keyward"), 30_000) });
 * ```
 */
export function peersAcknowledged(driver: SqlDriver, q: Queries, maxWaitMs: number): () => Promise<void> {
  return () => awaitAcknowledged(driver, q, null, maxWaitMs);
}

/**
 * Options of {@link leasedInvalidation}.
 *
 * @example
 * ```ts
 * const o: LeasedInvalidationOptions = { driver, q, channel: channelName("keyward"), leaseMs: 3000, applicationName: "keyward-cache" };
 * ```
 */
export interface LeasedInvalidationOptions {
  driver: SqlDriver;
  q: Queries;
  channel: string;
  leaseMs: number;
  applicationName: string;
  onStatus?: (status: CacheStatus) => void;
}

/**
 * The leased source: the cache serves only while the lease is valid and the listener alive; a
 * notification drops every entry; a change resolves once every other live lease acknowledged it.
 * The lease starts with `start()`.
 *
 * @example
 * ```ts
 * const source = leasedInvalidation({ driver, q, channel, leaseMs: 3000, applicationName: "keyward-cache" });
 * const store = cachedReads(base, { invalidation: source, ttlMs: 5000 });
 * ```
 */
export function leasedInvalidation(o: LeasedInvalidationOptions): InvalidationSource {
  let lease: Lease | null = null;
  return {
    start(invalidate) {
      lease = cacheLease({
        driver: o.driver,
        channel: o.channel,
        q: o.q,
        leaseMs: o.leaseMs,
        applicationName: o.applicationName,
        invalidate,
        onStatus: (s) => o.onStatus?.(s),
      });
    },
    serving: () => lease !== null && lease.serving(),
    changed: () => awaitAcknowledged(o.driver, o.q, lease?.instanceId ?? null, MAX_WAIT_LEASES * o.leaseMs),
    status: () => lease?.status() ?? "connecting",
    close: async () => lease?.close(),
  };
}

export { MAX_WAIT_LEASES };
