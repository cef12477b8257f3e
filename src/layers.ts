/**
 * `keyward/layers`: layers over any store (`(store) => store`) — the read cache with its
 * invalidation source, and last-use coalescing (R6). The PostgreSQL store composes them itself
 * (its `cache` and `lastUseWindowMs` options); the memory store and a host's own store can use
 * them directly.
 *
 * @example
 * ```ts
 * import { createKeyward } from "keyward";
 * import { memoryStore } from "keyward/memory";
 * import { cachedReads, coalesceUses, inProcessInvalidation } from "keyward/layers";
 *
 * const store = coalesceUses(cachedReads(memoryStore(), { invalidation: inProcessInvalidation().source(), ttlMs: 1000 }), { windowMs: 60_000 });
 * const kw = createKeyward({ store, actions });
 * ```
 * @module
 */
export {
  cachedReads,
  coalesceUses,
  inProcessInvalidation,
  afterChanges,
  type CachedReadsOptions,
  type CachedStore,
  type CoalescedStore,
  type CoalesceUsesOptions,
  type ChangeHooks,
  type CacheStatus,
  type InProcessInvalidation,
  type InvalidationSource,
} from "./storage/layers/index.js";
