/**
 * Cache leases: how a change waits until no instance can still serve what it invalidates (R11;
 * the README's "Deploying with PostgreSQL").
 *
 * Protocol (every time is the database's clock, in microseconds):
 * - A caching instance LISTENs on the schema's channel on a dedicated connection and sends its
 *   heartbeat ON THAT CONNECTION (`leaseHeartbeat`): the heartbeat renews its lease row
 *   (`expires_us` = now + lease) and returns when it started (`started_us`). Serving from the
 *   cache is allowed only while the last lease renewal is valid by the local monotonic clock
 *   (measured from when that heartbeat was SENT, so never later than the database's view).
 * - PostgreSQL delivers the notifications of every transaction that committed before a
 *   statement started on the listening connection before that statement's response, and the
 *   driver hands them to the cache (which drops its entries) before it resolves the statement.
 *   So once heartbeat k has resolved, every change committed before `started_us(k)` has been
 *   applied; heartbeat k+1 records `acked_us = started_us(k)`. A notification asks for two
 *   heartbeats at once, so a change is acknowledged within two round trips of the listener.
 * - A change (any write that notifies) commits, then reads the time `t0` and waits until every
 *   live lease other than its own instance's has `acked_us ≥ t0` — or has run out. If some
 *   have not, that same statement notifies `ack`, which makes every listener send two
 *   heartbeats at once (the first starts after `t0`, the second acknowledges it).
 * - Listener death is detected by the lease: a dead connection cannot renew it, so the instance
 *   stops serving from the cache when its lease runs out by its own clock, and changes stop
 *   waiting for it when the lease runs out by the database's.
 * Sequence numbers are not used as acknowledgements because their order is not commit order.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { SqlDriver, Subscription } from "./driver.js";
import type { Queries, Row } from "./sql.js";
import { rows, statementName } from "./sql.js";

import type { CacheStatus } from "../layers/invalidation.js";

export type { CacheStatus };

/**
 * After a change committed: resolves once every live lease other than `selfId` has
 * acknowledged it (or run out). One round trip when no other instance caches; rejects after
 * `maxWaitMs` (then the caller reports the store as unavailable).
 */
export async function awaitAcknowledged(driver: SqlDriver, q: Queries, selfId: string | null, maxWaitMs: number): Promise<void> {
  let first: Row;
  try {
    first = (await driver.query(q.changeStart, [selfId], statementName(q.changeStart)))[0] as Row;
  } catch (e) {
    // A schema before migration 4 has no leases, so no instance can cache it.
    if ((e as { code?: unknown } | null)?.code === "42P01") return;
    throw e;
  }
  if (rows.num(first.pending) === 0) return;
  const t0 = String(first.t0);
  const pendingName = statementName(q.changePending);
  const deadline = performance.now() + maxWaitMs;
  for (let attempt = 0; ; attempt++) {
    // Back-to-back for the first polls (an acknowledgement takes two round trips of the listener), then back off to 5 ms.
    if (attempt >= 2) await new Promise((r) => setTimeout(r, Math.min(5, attempt - 1)));
    const r = (await driver.query(q.changePending, [selfId, t0], pendingName))[0] as Row;
    if (rows.num(r.pending) === 0) return;
    if (performance.now() > deadline) throw new Error(`a change was not acknowledged by every caching instance within ${maxWaitMs} ms`);
  }
}

/** Options of {@link cacheLease}. */
export interface LeaseOptions {
  driver: SqlDriver;
  channel: string;
  q: Queries;
  /** Lease duration (ms); heartbeats every third of it. */
  leaseMs: number;
  /** `application_name` prefix of the listening connection; the instance id is appended. */
  applicationName: string;
  /** Drops every cached entry (a notification, or the listener was (re)connected or lost). */
  invalidate(): void;
  /** Status transitions. */
  onStatus(status: CacheStatus): void;
}

/** A running lease. */
export interface Lease {
  readonly instanceId: string;
  /** Whether cached entries may be served now: listener connected, lease valid by the local clock. */
  serving(): boolean;
  status(): CacheStatus;
  close(): Promise<void>;
}

/**
 * Starts the listener and its lease (see the module's protocol).
 *
 * @example
 * ```ts
 * const lease = cacheLease({ driver, channel: "keyward_keyward", q, leaseMs: 3000, applicationName: "keyward-cache", invalidate, onStatus });
 * if (lease.serving()) { ... }
 * ```
 */
export function cacheLease(o: LeaseOptions): Lease {
  const instanceId = randomUUID();
  const appName = `${o.applicationName}:${instanceId.slice(0, 8)}`.slice(0, 63);
  let status: CacheStatus = "connecting";
  let sub: Subscription | null = null;
  /** Bumped on every (re)connection: heartbeats of an older connection are ignored. */
  let session = 0;
  let validUntil = -Infinity;
  /** `started_us` of the last heartbeat resolved on this connection, or "0" before the first. */
  let verified = "0";
  let wanted = 0;
  let beating = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expiry: ReturnType<typeof setTimeout> | undefined;

  const setStatus = (s: CacheStatus) => {
    if (s === status) return;
    status = s;
    try {
      o.onStatus(s);
    } catch {
      // a failing hook must not break the cache
    }
  };
  const lost = (mine: number) => {
    if (mine !== session || closed) return;
    session++;
    const old = sub;
    sub = null;
    validUntil = -Infinity;
    o.invalidate();
    setStatus("down");
    void old?.close().catch(() => {});
    schedule(20);
  };
  const beat = async (): Promise<void> => {
    if (beating) return;
    beating = true;
    try {
      while (wanted > 0 && sub !== null && !closed) {
        wanted--;
        const mine = session;
        const s = sub;
        const sent = performance.now();
        let r: Row | undefined;
        try {
          r = (await s.query(o.q.leaseHeartbeat, [instanceId, o.leaseMs, verified, appName]))[0];
        } catch {
          lost(mine);
          return;
        }
        if (mine !== session || r === undefined) continue;
        verified = String(r.started_us);
        validUntil = sent + o.leaseMs;
        setStatus("up");
        armExpiry();
      }
    } finally {
      beating = false;
    }
  };
  const request = (n: number) => {
    wanted = Math.max(wanted, n);
    void beat();
  };
  /** Emits `down` when the lease runs out without a renewal (a stuck connection). */
  const armExpiry = () => {
    if (expiry !== undefined) clearTimeout(expiry);
    expiry = setTimeout(() => {
      if (!closed && performance.now() >= validUntil && status === "up") {
        o.invalidate();
        setStatus("down");
      }
    }, Math.max(1, validUntil - performance.now()));
    (expiry as { unref?: () => void }).unref?.();
  };
  const periodic = () => {
    if (closed) return;
    request(1);
    timer = setTimeout(periodic, Math.max(10, Math.floor(o.leaseMs / 3)));
    (timer as { unref?: () => void }).unref?.();
  };

  async function connect(delay: number): Promise<void> {
    if (closed || o.driver.listen === undefined) return;
    const mine = ++session;
    try {
      const s = await o.driver.listen(o.channel, (payload) => {
        // A change: drop everything now. Either way (a change, or a writer asking): acknowledge within two heartbeats.
        if (mine !== session) return;
        if (payload !== "ack") o.invalidate();
        request(2);
      }, () => lost(mine), { applicationName: appName });
      if (closed || mine !== session) {
        await s.close();
        return;
      }
      sub = s;
      verified = "0";
      // Listening from here on: what committed before is not in the cache after this flush.
      o.invalidate();
      void o.driver.query(o.q.leasePrune).catch(() => {});
      request(2);
    } catch {
      if (mine !== session) return;
      setStatus("down");
      schedule(Math.min(5000, Math.max(100, delay * 2)));
    }
  }
  function schedule(delay: number): void {
    if (closed) return;
    const t = setTimeout(() => void connect(delay), delay);
    (t as { unref?: () => void }).unref?.();
  }
  void connect(100);
  periodic();

  return {
    instanceId,
    serving: () => status === "up" && sub !== null && performance.now() < validUntil,
    status: () => status,
    async close() {
      closed = true;
      session++;
      if (timer !== undefined) clearTimeout(timer);
      if (expiry !== undefined) clearTimeout(expiry);
      validUntil = -Infinity;
      o.invalidate();
      status = "down";
      const s = sub;
      sub = null;
      try {
        await o.driver.query(o.q.leaseRelease, [instanceId]);
      } catch {
        // it runs out by itself
      }
      await s?.close().catch(() => {});
    },
  };
}
