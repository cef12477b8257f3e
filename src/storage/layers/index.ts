/**
 * Layers over any store (`(store) => store`): last-use coalescing and the read cache with its
 * invalidation source. Each takes a `KeywardStore` — the memory store, PostgreSQL, a host's own —
 * and returns one.
 *
 * @example
 * ```ts
 * import { memoryStore } from "keyward/memory";
 * import { cachedReads, coalesceUses, inProcessInvalidation } from "keyward/layers";
 * const store = coalesceUses(cachedReads(memoryStore(), { invalidation: inProcessInvalidation().source(), ttlMs: 1000 }), { windowMs: 60_000 });
 * ```
 * @module
 */
export { cachedReads, type CachedReadsOptions, type CachedStore } from "./cached-reads.js";
export { coalesceUses, type CoalescedStore, type CoalesceUsesOptions } from "./coalesce-uses.js";
export { afterChanges, type ChangeHooks } from "./changes.js";
export { inProcessInvalidation, type CacheStatus, type InProcessInvalidation, type InvalidationSource } from "./invalidation.js";
export { CHANGE_METHODS, DIRECTORY_METHODS, READ_METHODS, TOKEN_METHODS } from "./forward.js";
