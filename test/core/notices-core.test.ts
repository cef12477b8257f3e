/**
 * R20's pure part (`keyward/core`): which warning is due for a token at a time (`dueWarning`),
 * when a recorded warning leaves another to send (`warningIsNew`), and how a token's clients
 * merge (`mergeClients`); and that the PostgreSQL store's one UPDATE mirrors `mergeClients`
 * (PGlite, random inputs).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_WARNING_THRESHOLDS_MS, dueWarning, effectiveExpiry, mergeClients, warningIsNew } from "../../src/core.js";
import { admission } from "../../src/core/admit.js";
import type { TokenClient, TokenRecord } from "../../src/index.js";
import { pgliteStore, type TestStore } from "../storage/postgres/support.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const INACTIVITY = 30 * DAY;

function token(over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: "tok_1", kind: "user", orgId: "acme", subjectId: "u_ana", name: "CI", hash: "h", hint: "kwu_…abcd", epoch: "ep1",
    createdAt: T0, createdBy: "u_ana", lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null, ...over,
  };
}

const tokenArb = fc.record({
  kind: fc.constantFrom("user" as const, "service_user" as const),
  lastUsedAt: fc.option(fc.integer({ min: T0, max: T0 + 40 * DAY }), { nil: null }),
  expiresAt: fc.option(fc.integer({ min: T0 + DAY, max: T0 + 60 * DAY }), { nil: null }),
  policyExpiresAt: fc.option(fc.integer({ min: T0 + DAY, max: T0 + 60 * DAY }), { nil: null }),
  warnedDeadline: fc.option(fc.integer({ min: T0, max: T0 + 80 * DAY }), { nil: null }),
  warnedThresholdMs: fc.option(fc.constantFrom(...DEFAULT_WARNING_THRESHOLDS_MS), { nil: null }),
});
const thresholdsArb = fc.uniqueArray(fc.integer({ min: 1, max: 20 * DAY }), { minLength: 0, maxLength: 4 });

describe("R20 dueWarning (pure)", () => {
  it("R20 default thresholds are 14, 3 and 1 days", () => {
    expect(DEFAULT_WARNING_THRESHOLDS_MS).toEqual([14 * DAY, 3 * DAY, DAY]);
  });

  it("R20 a user token created at T0: the 14-day warning from day 16, the 3-day from day 27, none once expired", () => {
    const t = token();
    const at = (days: number) => dueWarning(t, T0 + days * DAY, INACTIVITY, DEFAULT_WARNING_THRESHOLDS_MS);
    expect(at(15.9)).toBeNull();
    expect(at(16)).toEqual({ deadline: T0 + 30 * DAY, cause: "inactivity", thresholdMs: 14 * DAY });
    expect(at(27)).toMatchObject({ thresholdMs: 3 * DAY });
    expect(at(29.5)).toMatchObject({ thresholdMs: DAY });
    expect(at(30)).toBeNull();
    expect(dueWarning({ ...t, warnedDeadline: T0 + 30 * DAY, warnedThresholdMs: 3 * DAY }, T0 + 28 * DAY, INACTIVITY, DEFAULT_WARNING_THRESHOLDS_MS)).toBeNull();
    // A service token with a date: cause "date".
    expect(dueWarning(token({ kind: "service_user", epoch: null, expiresAt: T0 + 10 * DAY }), T0, INACTIVITY, DEFAULT_WARNING_THRESHOLDS_MS)).toEqual({ deadline: T0 + 10 * DAY, cause: "date", thresholdMs: 14 * DAY });
  });

  it("R20 law: a due warning is for the effective expiry, still ahead, with the smallest threshold reached, and not one already recorded", () => {
    fc.assert(
      fc.property(tokenArb, thresholdsArb, fc.integer({ min: T0, max: T0 + 70 * DAY }), (over, thresholds, now) => {
        const t = token({ ...over, epoch: over.kind === "user" ? "ep1" : null });
        const due = dueWarning(t, now, INACTIVITY, thresholds);
        const expiry = effectiveExpiry(t, INACTIVITY);
        const reached = expiry === null || now >= expiry.at ? [] : thresholds.filter((x) => now >= expiry.at - x);
        if (reached.length === 0) {
          expect(due).toBeNull();
          return;
        }
        const smallest = Math.min(...reached);
        if (!warningIsNew(t, expiry!.at, smallest)) {
          expect(due).toBeNull();
          return;
        }
        expect(due).toEqual({ deadline: expiry!.at, cause: expiry!.cause, thresholdMs: smallest });
        // Once recorded, it is not due again at any later time before the deadline moves.
        const recorded = { ...t, warnedDeadline: due!.deadline, warnedThresholdMs: due!.thresholdMs };
        const later = dueWarning(recorded, now + 1, INACTIVITY, thresholds);
        if (later !== null) expect(later.thresholdMs).toBeLessThan(due!.thresholdMs);
      }),
      { numRuns: 500 },
    );
  });

  it("R20 warningIsNew: another deadline or a smaller threshold, or none recorded", () => {
    expect(warningIsNew({}, T0, DAY)).toBe(true);
    expect(warningIsNew({ warnedDeadline: T0, warnedThresholdMs: 3 * DAY }, T0, DAY)).toBe(true);
    expect(warningIsNew({ warnedDeadline: T0, warnedThresholdMs: 3 * DAY }, T0, 3 * DAY)).toBe(false);
    expect(warningIsNew({ warnedDeadline: T0, warnedThresholdMs: 3 * DAY }, T0, 14 * DAY)).toBe(false);
    expect(warningIsNew({ warnedDeadline: T0, warnedThresholdMs: 3 * DAY }, T0 + 1, 14 * DAY)).toBe(true);
  });
});

const clientArb = fc.record({
  ip: fc.option(fc.constantFrom("203.0.113.7", "198.51.100.2", "::1", "null"), { nil: null }),
  userAgent: fc.option(fc.constantFrom("curl/8.5", "PowerBI/2.1", "Zapier", ""), { nil: null }),
  lastSeenAt: fc.integer({ min: T0, max: T0 + 10 * DAY }),
});
const key = (c: TokenClient) => JSON.stringify([c.ip, c.userAgent]);

describe("client tracking: mergeClients (pure)", () => {
  it("law: distinct by (ip, user agent) with each one's latest time, most recent first, at most max, nothing invented", () => {
    fc.assert(
      fc.property(fc.array(clientArb, { maxLength: 8 }), fc.array(clientArb, { maxLength: 4 }), fc.integer({ min: 1, max: 6 }), (current, seen, max) => {
        const out = mergeClients(current, seen, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(new Set(out.map(key)).size).toBe(out.length);
        for (let i = 1; i < out.length; i++) expect(out[i]!.lastSeenAt).toBeLessThanOrEqual(out[i - 1]!.lastSeenAt);
        const all = [...seen, ...current];
        for (const c of out) expect(c.lastSeenAt).toBe(Math.max(...all.filter((x) => key(x) === key(c)).map((x) => x.lastSeenAt)));
        // Exactly the `max` most recent distinct clients are kept.
        const latest = [...new Set(all.map(key))].map((k) => Math.max(...all.filter((x) => key(x) === k).map((x) => x.lastSeenAt))).sort((a, b) => b - a);
        expect(out.map((c) => c.lastSeenAt)).toEqual(latest.slice(0, max));
      }),
      { numRuns: 300 },
    );
  });

  it("law: merging uses in batches (the coalescing layer) keeps what merging them one by one keeps", () => {
    fc.assert(
      fc.property(fc.array(clientArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 5 }), (uses, cut, max) => {
        // Uses arrive in time order, each at a distinct time.
        const seen = uses.map((c, i) => ({ ...c, lastSeenAt: T0 + i }));
        const oneByOne = seen.reduce<TokenClient[]>((acc, c) => mergeClients(acc, [c], max), []);
        const k = Math.min(cut, seen.length);
        const batch = (cs: TokenClient[]) => cs.reduce<TokenClient[]>((acc, c) => mergeClients(acc, [c], max), []);
        const inTwo = mergeClients(batch(seen.slice(0, k)), batch(seen.slice(k)), max);
        expect(inTwo).toEqual(oneByOne);
      }),
      { numRuns: 300 },
    );
  });
});

describe("client tracking: the PostgreSQL store's UPDATE mirrors mergeClients (PGlite)", () => {
  let t: TestStore;
  let n = 0;
  beforeAll(async () => {
    t = await pgliteStore();
    await t.store.putOrganization({ id: "acme", name: "Acme", ssoOnly: false });
    await t.store.updateMembership("acme", "u_ana", () => ({ orgId: "acme", userId: "u_ana", permissionSetId: null, groupIds: [], siteIds: [], status: "active", seat: true, epoch: "ep1" }));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it("law: for random stored and seen clients, the row holds mergeClients(stored, seen, max)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(clientArb, { maxLength: 6 }), fc.array(clientArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 5 }), async (current, seen, max) => {
        n++;
        const record = token({ id: `tok_m_${n}`, hash: `h_m_${n}`, clients: current });
        expect((await t.store.insertToken(record, admission({ max: 10_000, now: T0, inactivityMs: INACTIVITY, storeClock: false }))).ok).toBe(true);
        await t.store.recordTokenUse(record.id, T0 + DAY, { seen, max });
        expect((await t.backdoor.readToken(record.id))!.clients).toEqual(mergeClients(current, seen, max));
      }),
      { numRuns: 40 },
    );
  });
});
