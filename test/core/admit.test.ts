/**
 * The admission rule (R3, R7) as laws over random quota owners: a store runs it under the owner's
 * lock, so these laws are what every store's `insertToken` keeps.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admitToken, type OwnedToken, type QuotaOwnerState } from "../../src/core/admit.js";
import { isTokenActive } from "../../src/core/lifecycle.js";
import type { TokenRecord } from "../../src/core/types.js";

const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const T0 = Date.UTC(2026, 3, 1);
const when = fc.integer({ min: T0 - 45 * DAY, max: T0 });
const maybe = (a: fc.Arbitrary<number>, freq: number) => fc.option(a, { nil: null, freq });

let n = 0;
const token = (over: Partial<TokenRecord> = {}): TokenRecord => ({
  id: `tok_${++n}`, kind: "user", orgId: "org", subjectId: "u_1", name: "t", hash: `h_${n}`, hint: "…", epoch: "ep1",
  createdAt: T0, createdBy: null, lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null, ...over,
});
const owned: fc.Arbitrary<OwnedToken> = fc
  .record({
    epoch: fc.constantFrom("ep1", "ep1", "ep0"),
    createdAt: when,
    lastUsedAt: maybe(when, 2),
    revokedAt: maybe(fc.constant(T0 - DAY), 4),
    deletedAt: maybe(fc.constant(T0 - DAY), 5),
    expiredAt: maybe(fc.constant(T0 - DAY), 5),
    active: fc.boolean(),
  })
  .map(({ active, ...t }) => ({ token: token(t), subject: { active: active || t.epoch === "ep1", epoch: "ep1" } }));
const owner = (tokens: OwnedToken[], over: Partial<QuotaOwnerState> = {}): QuotaOwnerState => ({ subject: { active: true, epoch: "ep1" }, tokens, now: null, ...over });
const activeCount = (tokens: OwnedToken[], now: number) => tokens.filter((c) => isTokenActive(c.token, c.subject, now, WINDOW)).length;

describe("admitToken (R3, R7)", () => {
  it("R3 admitting one token at a time up to the limit admits exactly the free slots, then refuses with limit_reached", () => {
    fc.assert(
      fc.property(fc.array(owned, { maxLength: 10 }), fc.integer({ min: 0, max: 12 }), (initial, max) => {
        const tokens = [...initial];
        let admitted = 0;
        for (let i = 0; i < 15; i++) {
          const next = token();
          const r = admitToken(next, owner(tokens), { max, now: T0, inactivityMs: WINDOW });
          if (!r.ok) {
            expect(r).toEqual({ ok: false, reason: "limit_reached" });
            continue;
          }
          admitted++;
          tokens.push({ token: next, subject: { active: true, epoch: "ep1" } });
        }
        expect(admitted).toBe(Math.max(0, Math.min(15, max - activeCount(initial, T0))));
      }),
    );
  });

  it("R3 tokens that are not active (revoked, deleted, expired, of an old epoch) never change the answer", () => {
    fc.assert(
      fc.property(fc.array(owned, { maxLength: 10 }), fc.integer({ min: 0, max: 6 }), (tokens, max) => {
        const onlyActive = tokens.filter((c) => isTokenActive(c.token, c.subject, T0, WINDOW));
        const quota = { max, now: T0, inactivityMs: WINDOW };
        expect(admitToken(token(), owner(tokens), quota)).toEqual(admitToken(token(), owner(onlyActive), quota));
      }),
    );
  });

  it("R7 a subject that is not active, or a user token of another epoch, is refused as subject_inactive whatever the count", () => {
    fc.assert(
      fc.property(fc.array(owned, { maxLength: 6 }), fc.integer({ min: 0, max: 20 }), fc.boolean(), (tokens, max, inactive) => {
        const quota = { max, now: T0, inactivityMs: WINDOW };
        const r = inactive
          ? admitToken(token(), owner(tokens, { subject: { active: false, epoch: "ep1" } }), quota)
          : admitToken(token({ epoch: "ep0" }), owner(tokens), quota);
        expect(r).toEqual({ ok: false, reason: "subject_inactive" });
      }),
    );
  });

  it("R3 counts at the store's time when asked (storeClock) and the store read one, else at the caller's", () => {
    // Idle for the whole window by the store's clock, a day short of it by the caller's.
    const idle: OwnedToken = { token: token({ createdAt: T0 - WINDOW }), subject: { active: true, epoch: "ep1" } };
    const quota = { max: 1, now: T0 - DAY, inactivityMs: WINDOW };
    expect(admitToken(token(), owner([idle], { now: T0 }), { ...quota, storeClock: true })).toEqual({ ok: true });
    expect(admitToken(token(), owner([idle], { now: T0 }), quota)).toEqual({ ok: false, reason: "limit_reached" });
    expect(admitToken(token(), owner([idle], { now: null }), { ...quota, storeClock: true })).toEqual({ ok: false, reason: "limit_reached" });
  });
});
