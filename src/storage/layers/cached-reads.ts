/**
 * The read cache as a layer over any store: `loadDecision` and `loadAccess` are served from
 * memory while the invalidation source allows it, and every change drops the entries and
 * resolves only once the source says no other cache can still serve what it invalidated (R11).
 * @module
 */
import type { AccessInput } from "../../core/access.js";
import type { DecisionInput, ItemRef, SubjectKind } from "../../core/types.js";
import type { KeywardStore } from "../types.js";
import { afterChanges } from "./changes.js";
import type { CacheStatus, InvalidationSource } from "./invalidation.js";

/** The part of a cache key that names the kind a read was asked for (empty: either kind). */
const kindKey = (kind: SubjectKind | undefined): string => (kind === "user" ? "u" : kind === "service_user" ? "s" : "");

/**
 * Options of {@link cachedReads}.
 *
 * @example
 * ```ts
 * const options: CachedReadsOptions = { invalidation: inProcessInvalidation().source(), ttlMs: 1000, maxEntries: 5000 };
 * ```
 */
export interface CachedReadsOptions {
  /** Where changes are learnt of and waited for. */
  invalidation: InvalidationSource;
  /** How long an entry is served at most (ms, more than 0). */
  ttlMs: number;
  /** Entries kept at most (the oldest goes first). Default 10,000. */
  maxEntries?: number;
  /**
   * The store's current time, put in the `now` of an entry served from the cache that has one
   * (so that a cached entry is judged at the time of the request, not of its read); `null`
   * keeps the entry's own. Default: keep it.
   */
  now?: () => number | null;
}

/**
 * A store with a read cache: the contract plus the cache's status and counts.
 *
 * @example
 * ```ts
 * const store: CachedStore = cachedReads(memoryStore(), options); store.cacheStats(); // { hits: 0, misses: 0 }
 * ```
 */
export interface CachedStore extends KeywardStore {
  /** `up` while entries may be served; `connecting`/`down` while every read is fresh. */
  cacheStatus(): CacheStatus;
  /** Reads served from the cache (`hits`) and reads it could not serve (`misses`: not cached, expired, or bypassed). */
  cacheStats(): { hits: number; misses: number };
}

/**
 * Wraps `store` with a read cache. A read is only cached if no change was seen while it ran; a
 * miss (`null`) is never cached.
 *
 * @example
 * ```ts
 * import { memoryStore } from "keyward/memory";
 * import { cachedReads, inProcessInvalidation } from "keyward/layers";
 * const store = cachedReads(memoryStore(), { invalidation: inProcessInvalidation().source(), ttlMs: 1000 });
 * ```
 */
export function cachedReads(store: KeywardStore, options: CachedReadsOptions): CachedStore {
  const { invalidation: source, ttlMs } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { value: unknown; expires: number }>();
  let generation = 0;
  const invalidate = () => {
    entries.clear();
    generation++;
  };
  const counts = { hits: 0, misses: 0 };
  const restamp = options.now;

  async function read<T extends DecisionInput | AccessInput>(key: string, fresh: () => Promise<T | null>): Promise<T | null> {
    if (!source.serving()) {
      counts.misses++;
      return fresh();
    }
    const now = performance.now();
    const hit = entries.get(key);
    if (hit !== undefined && hit.expires > now) {
      counts.hits++;
      const value = hit.value as T;
      const at = value.now === undefined || restamp === undefined ? null : restamp();
      return at === null ? value : { ...value, now: at };
    }
    counts.misses++;
    const before = generation;
    const value = await fresh();
    if (value !== null && before === generation && source.serving()) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { value, expires: now + ttlMs });
    }
    return value;
  }

  const changing = afterChanges(store, {
    async changed() {
      invalidate();
      await source.changed();
    },
    expired: invalidate,
  });
  source.start(invalidate);
  return {
    ...changing,
    // The kind a read names is in its key (a read of one kind may leave out the other kind's subject).
    loadDecision: (tokenHash: string, item: ItemRef | null, kind?: SubjectKind) =>
      read(item === null ? `${tokenHash}\0${kindKey(kind)}` : `${tokenHash}\0${kindKey(kind)}\0${item.orgId}\0${item.type}\0${item.id}`, () => store.loadDecision(tokenHash, item, kind)),
    // The key's \x01 keeps list-filter entries apart from decision entries (whose separator is \0).
    loadAccess: (tokenHash: string, query: { itemType: string }, kind?: SubjectKind) =>
      read(`${tokenHash}\x01${kindKey(kind)}\x01${query.itemType}`, () => store.loadAccess(tokenHash, query, kind)),
    cacheStatus: () => source.status(),
    cacheStats: () => ({ ...counts }),
    async close() {
      try {
        invalidate();
        await source.close();
      } finally {
        await store.close();
      }
    },
  };
}
