/**
 * Last-use coalescing (R6) as a layer over any store: at most one `recordTokenUse` per token per
 * window from this process; uses not written yet (and the clients seen with them, when client
 * tracking is on: written with the use, never on their own) are kept here, merged into every read (and into
 * what the admission rule counts), and flushed within the window. The window is measured on the
 * clock given (the store's: PostgreSQL's, or one injected for tests), never on this process's
 * wall clock alone, so that an injected clock that moves a day also flushes what a day makes due.
 * @module
 */
import { mergeClients } from "../../core/lifecycle.js";
import type { TokenRecord } from "../../core/types.js";
import type { ClientsSeen, KeywardStore, TokenListEntry } from "../types.js";
import { forward } from "./forward.js";

/**
 * Options of {@link coalesceUses}.
 *
 * @example
 * ```ts
 * const options: CoalesceUsesOptions = { windowMs: 60_000, now: Date.now };
 * ```
 */
export interface CoalesceUsesOptions {
  /** At most one write per token per window (ms); `0` writes every use. */
  windowMs: number;
  /** The clock of the window. Default `Date.now`. */
  now?: () => number;
}

/**
 * A store with coalesced last uses.
 *
 * @example
 * ```ts
 * const store: CoalescedStore = coalesceUses(memoryStore(), options); await store.flushTokenUses();
 * ```
 */
export interface CoalescedStore extends KeywardStore {
  /** Writes every use kept in process now (also done within the window, and by `close()`). */
  flushTokenUses(): Promise<void>;
}

/** What this process knows about one token's last use. */
interface UseState {
  /** The last use written (or being written), in keyward time. */
  written: number;
  /** The clock's time of that write. */
  at: number;
  /** A later use not written yet. */
  pending: number | null;
  /** Clients seen (opt-in tracking) not written yet: written with the next use written. */
  clients: ClientsSeen | null;
}

/** The clients of two batches of uses, `later` the more recent. */
function mergeSeen(earlier: ClientsSeen | null | undefined, later: ClientsSeen | null | undefined): ClientsSeen | null {
  if (later == null) return earlier ?? null;
  if (earlier == null) return later;
  return { seen: mergeClients(earlier.seen, later.seen, later.max), max: later.max };
}

/**
 * Wraps `store` so that its last-use writes are coalesced. `close()` writes what is kept, then
 * closes `store`.
 *
 * @example
 * ```ts
 * import { memoryStore } from "keyward/memory";
 * import { coalesceUses } from "keyward/layers";
 * const store = coalesceUses(memoryStore(), { windowMs: 60_000 });
 * process.on("SIGTERM", () => store.close()); // writes the uses kept in process
 * ```
 */
export function coalesceUses(store: KeywardStore, options: CoalesceUsesOptions): CoalescedStore {
  const { windowMs } = options;
  const now = options.now ?? Date.now;
  const uses = new Map<string, UseState>();
  /** Use writes in flight, so that a flush (and `close()`) waits for them too. */
  const inflight = new Set<Promise<unknown>>();
  const writeUse = (tokenId: string, at: number, clients: ClientsSeen | null): Promise<void> => {
    const p = clients === null ? store.recordTokenUse(tokenId, at) : store.recordTokenUse(tokenId, at, clients);
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
  /** A token with the uses this process has not written yet merged in (never for a token marked expired); for listings, their clients too. */
  const withUses = (t: TokenRecord, listing = false): TokenRecord => {
    if (t.expiredAt !== null) return t;
    const u = knownUse(t.id);
    const used = u !== null && Number.isFinite(u) && (t.lastUsedAt === null || u > t.lastUsedAt) ? { ...t, lastUsedAt: u } : t;
    const seen = listing ? uses.get(t.id)?.clients : null;
    return seen == null ? used : { ...used, clients: mergeClients(t.clients ?? [], seen.seen, seen.max) };
  };
  const entryWithUses = (e: TokenListEntry): TokenListEntry => {
    const token = withUses(e.token, true);
    return token === e.token ? e : { ...e, token };
  };
  async function flushOne(tokenId: string, s: UseState): Promise<void> {
    // Clients seen without a later use go with the last use written (the store keeps the larger).
    const value = s.pending ?? (s.clients !== null && Number.isFinite(s.written) ? s.written : null);
    if (value === null) return;
    const next: UseState = { written: Math.max(s.written, value), at: now(), pending: null, clients: null };
    uses.set(tokenId, next);
    try {
      await writeUse(tokenId, value, s.clients);
    } catch {
      // Keep it for the next attempt; until then reads still merge it in.
      if (uses.get(tokenId) === next) uses.set(tokenId, { written: s.written, at: s.at, pending: value, clients: s.clients });
    }
  }
  async function tick(force: boolean): Promise<void> {
    const t = now();
    const pending: Promise<void>[] = [];
    for (const [id, s] of uses) {
      if (s.pending !== null || s.clients !== null) {
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

  /** The uses this process knows of and may not have written yet. */
  function known(): Map<string, number> {
    const out = new Map<string, number>();
    for (const id of uses.keys()) {
      const at = knownUse(id);
      if (at !== null && Number.isFinite(at)) out.set(id, at);
    }
    return out;
  }

  async function record(tokenId: string, at: number, clients?: ClientsSeen): Promise<void> {
    const seen = clients === undefined || clients.seen.length === 0 ? null : clients;
    if (windowMs === 0) return writeUse(tokenId, at, seen);
    const s = uses.get(tokenId);
    if (s !== undefined && at - s.written < windowMs) {
      // Coalesced: this process wrote a use of this token within the window; keep the later one (and the clients) for the flush.
      if (at > s.written && (s.pending === null || at > s.pending)) s.pending = at;
      if (seen !== null) s.clients = mergeSeen(s.clients, seen);
      return;
    }
    const value = Math.max(at, s?.pending ?? -Infinity, Number.isFinite(s?.written) ? s!.written : -Infinity);
    const all = mergeSeen(s?.clients, seen);
    const next: UseState = { written: value, at: now(), pending: null, clients: null };
    uses.set(tokenId, next);
    try {
      await writeUse(tokenId, value, all);
    } catch (e) {
      // Retry at the next use or tick; reads keep merging the value in.
      if (uses.get(tokenId) === next) uses.set(tokenId, { written: -Infinity, at: -Infinity, pending: value, clients: all });
      throw e;
    }
  }

  /** A read's result with the uses merged into its token (the same object when nothing changes). */
  const merged = <T extends { token: TokenRecord }>(d: T | null): T | null => {
    if (d === null) return null;
    const token = withUses(d.token);
    return token === d.token ? d : { ...d, token };
  };

  return {
    ...forward(store),
    insertToken: (token, admit) =>
      store.insertToken(token, (t, owner) => admit(t, { ...owner, tokens: owner.tokens.map((c) => ({ ...c, token: withUses(c.token) })) })),
    getToken: async (tokenId) => {
      const t = await store.getToken(tokenId);
      return t === null ? null : withUses(t, true);
    },
    listTokens: async (filter) => (await store.listTokens(filter)).map(entryWithUses),
    pageTokens: async (query) => {
      // The uses this process knows of and may not have written yet: the status and sort see them as listTokens does.
      const mine = known();
      for (const [id, at] of query.knownUses ?? []) if (!(mine.get(id)! >= at)) mine.set(id, at);
      const page = await store.pageTokens({ ...query, knownUses: mine });
      return { ...page, entries: page.entries.map(entryWithUses) };
    },
    revokeToken: async (tokenId, at, how, cause) => {
      const r = await store.revokeToken(tokenId, at, how, cause);
      return r === null ? null : { ...r, token: withUses(r.token) };
    },
    rotateToken: async (tokenId, change) => {
      const r = await store.rotateToken(tokenId, change);
      return r === null ? null : { ...r, token: withUses(r.token) };
    },
    markTokenExpired: async (tokenId, at) => {
      const changed = await store.markTokenExpired(tokenId, at);
      uses.delete(tokenId);
      return changed;
    },
    recordTokenUse: record,
    loadDecision: async (tokenHash, item, kind) => merged(await store.loadDecision(tokenHash, item, kind)),
    loadAccess: async (tokenHash, query, kind) => merged(await store.loadAccess(tokenHash, query, kind)),
    flushTokenUses: () => tick(true),
    async close() {
      if (timer !== undefined) clearInterval(timer);
      try {
        await tick(true);
      } finally {
        await store.close();
      }
    },
  };
}
