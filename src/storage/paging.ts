/**
 * Keyset paging over an in-memory sequence, for stores that keep their rows in memory: the
 * first `limit` items strictly after a position, in one pass and O(n log limit), without
 * sorting everything.
 * @module
 */
import type { PagePosition } from "./types.js";

/** Code-unit order of strings, as `COLLATE "C"` orders them in SQL (for the ids and names keyward pages by). */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Ascending (key, id) order of token positions.
 *
 * @example
 * ```ts
 * comparePositions({ key: 1, id: "b" }, { key: 1, id: "a" }) // 1
 * ```
 */
export function comparePositions(a: PagePosition, b: PagePosition): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : compareText(a.id, b.id);
}

/**
 * A bounded selection: offer it every matching item with its position; `result()` holds the
 * first `limit` items strictly after `after` in the order of `compare` (ties impossible: ids
 * are part of every position).
 *
 * @example
 * ```ts
 * const page = keysetPage<Row, PagePosition>(10, (a, b) => -comparePositions(a, b), null);
 * for (const r of rows) page.offer(r, { key: r.createdAt, id: r.id });
 * page.result(); // the 10 newest
 * ```
 */
export function keysetPage<T, P>(limit: number, compare: (a: P, b: P) => number, after: P | null) {
  const best: { item: T; at: P }[] = [];
  return {
    offer(item: T, at: P): void {
      if (after !== null && compare(at, after) <= 0) return;
      if (best.length === limit && compare(at, best[best.length - 1]!.at) >= 0) return;
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compare(best[mid]!.at, at) < 0) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, { item, at });
      if (best.length > limit) best.pop();
    },
    result(): T[] {
      return best.map((b) => b.item);
    },
  };
}
