/**
 * Where a read cache learns of changes, and how a change waits for the other caches: a small
 * interface with two implementations, PostgreSQL LISTEN/NOTIFY with leases (`keyward/postgres`,
 * used by its `cache` option) and {@link inProcessInvalidation} for stores of one process (the
 * memory store, or a host's own).
 * @module
 */

/**
 * State of a read cache: `up` serves cached entries; `connecting`/`down` bypass them; `off` without a cache.
 *
 * @example
 * ```ts
 * if (store.cacheStatus() !== "up") log.warn("reads are fresh: the cache is bypassed");
 * ```
 */
export type CacheStatus = "off" | "connecting" | "up" | "down";

/**
 * An invalidation source for the `cachedReads` layer.
 *
 * @example
 * ```ts
 * const source: InvalidationSource = inProcessInvalidation().source();
 * source.start(() => entries.clear());
 * ```
 */
export interface InvalidationSource {
  /**
   * Starts delivering (called once, by the cache): `invalidate` drops every cached entry. It is
   * called for every change made elsewhere, and whenever the source may have missed one
   * (a reconnection, a lost lease).
   */
  start(invalidate: () => void): void;
  /** Whether cached entries may be served now (PostgreSQL: its listener is connected and its lease valid). */
  serving(): boolean;
  /**
   * After a change committed through this instance (its own entries already dropped): resolves
   * once no other cache can still serve what the change invalidated; rejects when that cannot
   * be known in time (the change is then reported as `unavailable`).
   */
  changed(): Promise<void>;
  status(): CacheStatus;
  /** Stops listening; the cache stops serving. */
  close(): Promise<void>;
}

/**
 * Caches of one process that invalidate one another (see {@link inProcessInvalidation}).
 *
 * @example
 * ```ts
 * const group: InProcessInvalidation = inProcessInvalidation();
 * ```
 */
export interface InProcessInvalidation {
  /** A source for one cache: a change through any cache of this group drops the entries of all of them before it resolves. */
  source(): InvalidationSource;
}

/**
 * Invalidation inside one process: every cache made with a source of this group is dropped,
 * synchronously, by a change through any of them. Always `up` (until closed). For the memory
 * store (one process by nature) or a host's own store, when every write goes through a cache of
 * this group: a write made around them (to the store below, or from another process) is not
 * seen until an entry's `ttlMs` runs out.
 *
 * @example
 * ```ts
 * const group = inProcessInvalidation();
 * const store = cachedReads(memoryStore(), { invalidation: group.source(), ttlMs: 1000 });
 * ```
 */
export function inProcessInvalidation(): InProcessInvalidation {
  const caches = new Set<() => void>();
  return {
    source() {
      let mine: (() => void) | null = null;
      let open = true;
      return {
        start(invalidate) {
          mine = invalidate;
          caches.add(invalidate);
        },
        serving: () => open,
        async changed() {
          for (const invalidate of caches) invalidate();
        },
        status: () => (open ? "up" : "down"),
        async close() {
          open = false;
          if (mine !== null) caches.delete(mine);
        },
      };
    },
  };
}
