/**
 * R6 coalescing of last-use writes for the PostgreSQL store: at most one write per token per
 * window from each instance; uses not written yet are kept in process, merged into every read,
 * and flushed within the window. The window is measured on the store's clock (the database's,
 * or the clock injected for tests), never on the wall clock of this process alone, so that an
 * injected clock that moves a day also flushes what a day makes due.
 * @module
 */
import type { TokenRecord } from "../../core/types.js";
import type { SqlDriver } from "./driver.js";
import type { Queries } from "./sql.js";

/** What this process knows about one token's last use. */
interface UseState {
  /** The last use written (or being written), in keyward time. */
  written: number;
  /** The store's time of that write. */
  at: number;
  /** A later use not written yet. */
  pending: number | null;
}

/** The coalescer of one store. */
export interface UseCoalescer {
  /** A token with the uses this process has not written yet merged in (never for a token marked expired). */
  withUses(t: TokenRecord): TokenRecord;
  /** Records a use at `at` (writes now, or keeps it for the flush). */
  record(tokenId: string, at: number): Promise<void>;
  /** Writes what is due (`force`: everything kept), and waits for writes in flight when forced. */
  tick(force: boolean): Promise<void>;
  /** The uses this process knows of and may not have written yet, as parallel arrays (for listings computed in SQL). */
  known(): { ids: string[]; ats: number[] };
  /** Forgets a token (marked expired: its uses no longer matter). */
  forget(tokenId: string): void;
  /** Stops the timer (call `tick(true)` first to write what is kept). */
  stop(): void;
}

/**
 * Creates the coalescer: `windowMs` 0 writes every use; `now` is the store's clock.
 *
 * @example
 * ```ts
 * const uses = useCoalescer(driver, queries("keyward"), 600_000, () => Date.now());
 * await uses.record("tok_1", Date.now());
 * ```
 */
export function useCoalescer(driver: SqlDriver, q: Queries, windowMs: number, now: () => number): UseCoalescer {
  const uses = new Map<string, UseState>();
  /** Use writes in flight, so that a flush (and `close()`) waits for them too. */
  const inflight = new Set<Promise<unknown>>();
  const writeUse = (tokenId: string, at: number): Promise<unknown> => {
    const p = driver.query(q.recordTokenUse, [tokenId, at]);
    inflight.add(p);
    const done = () => inflight.delete(p);
    p.then(done, done);
    return p;
  };
  const knownUse = (tokenId: string): number | null => {
    const s = uses.get(tokenId);
    if (s === undefined) return null;
    return s.pending !== null && s.pending > s.written ? s.pending : s.written;
  };
  async function flushOne(tokenId: string, s: UseState): Promise<void> {
    const value = s.pending;
    if (value === null) return;
    const next: UseState = { written: Math.max(s.written, value), at: now(), pending: null };
    uses.set(tokenId, next);
    try {
      await writeUse(tokenId, value);
    } catch {
      // Keep it for the next attempt; until then reads still merge it in.
      if (uses.get(tokenId) === next) uses.set(tokenId, { written: s.written, at: s.at, pending: value });
    }
  }
  async function tick(force: boolean): Promise<void> {
    const t = now();
    const pending: Promise<void>[] = [];
    for (const [id, s] of uses) {
      if (s.pending !== null) {
        if (force || t - s.at >= windowMs) pending.push(flushOne(id, s));
      } else if (t - s.at >= windowMs) {
        uses.delete(id);
      }
    }
    if (force) for (const p of inflight) pending.push(p.then(() => {}, () => {}));
    await Promise.all(pending);
  }
  const timer = windowMs > 0 ? setInterval(() => void tick(false), Math.max(50, Math.floor(windowMs / 10))) : undefined;
  (timer as { unref?: () => void } | undefined)?.unref?.();

  return {
    known() {
      const ids: string[] = [];
      const ats: number[] = [];
      for (const id of uses.keys()) {
        const at = knownUse(id);
        if (at !== null && Number.isFinite(at)) {
          ids.push(id);
          ats.push(at);
        }
      }
      return { ids, ats };
    },
    withUses(t) {
      if (t.expiredAt !== null) return t;
      const u = knownUse(t.id);
      return u !== null && Number.isFinite(u) && (t.lastUsedAt === null || u > t.lastUsedAt) ? { ...t, lastUsedAt: u } : t;
    },
    async record(tokenId, at) {
      if (windowMs === 0) {
        await writeUse(tokenId, at);
        return;
      }
      const s = uses.get(tokenId);
      if (s !== undefined && at - s.written < windowMs) {
        // Coalesced: this process wrote a use of this token within the window; keep the later one for the flush.
        if (at > s.written && (s.pending === null || at > s.pending)) s.pending = at;
        return;
      }
      const value = Math.max(at, s?.pending ?? -Infinity, Number.isFinite(s?.written) ? s!.written : -Infinity);
      const next: UseState = { written: value, at: now(), pending: null };
      uses.set(tokenId, next);
      try {
        await writeUse(tokenId, value);
      } catch (e) {
        // Retry at the next use or tick; reads keep merging the value in.
        if (uses.get(tokenId) === next) uses.set(tokenId, { written: -Infinity, at: -Infinity, pending: value });
        throw e;
      }
    },
    tick,
    forget: (tokenId) => void uses.delete(tokenId),
    stop() {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
