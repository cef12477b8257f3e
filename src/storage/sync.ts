/**
 * Synchronous twins of store methods, internal to keyward: a store whose method does all its
 * work synchronously inside its promise (the memory store) attaches the same work without the
 * promise to the method itself, and `authorize()` calls that twin when the store's method is
 * still that very function. A wrapped or replaced method (a spy, a proxy, `{ ...store,
 * loadDecision }`) is a different function without a twin, so it is always called as written.
 * @module
 */

/** The property key of a method's synchronous twin (`Symbol.for`: the same in every bundle). */
export const SYNC: unique symbol = Symbol.for("keyward.sync") as never;

/** A method that may carry its synchronous twin. */
export type MaybeSync<A extends unknown[], R> = ((...args: A) => Promise<R>) & { [SYNC]?: (...args: A) => R };

/**
 * Attaches `sync` to `method` as its synchronous twin (not enumerable) and returns `method`.
 *
 * @example
 * ```ts
 * const loadDecision = withSync(async (h, i) => loadNow(h, i), loadNow);
 * ```
 */
export function withSync<A extends unknown[], R>(method: (...args: A) => Promise<R>, sync: (...args: A) => R): MaybeSync<A, R> {
  Object.defineProperty(method, SYNC, { value: sync });
  return method as MaybeSync<A, R>;
}
