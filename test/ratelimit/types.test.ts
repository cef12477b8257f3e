/** R21 at the type level: `rate_limited` is in every table of outcomes, and the options are typed. */
import { describe, expect, expectTypeOf, it } from "vitest";
import { DENIAL_REASONS, ERROR_CODES, type DenialReason, type KeywardErrorCode, type RateLimitState } from "../../src/index.js";
import type { HttpOptions, ProblemCode } from "../../src/http/mapping.js";
import { MANAGEMENT_STATUS } from "../../src/manage/problem.js";
import type { FetchCheck } from "../../src/middleware/fetch.js";
import { rateLimit, type RateLimitContext, type RateLimitOptions } from "../../src/ratelimit/index.js";

describe("R21 rate_limited in the tables of outcomes", () => {
  it("R21 rate_limited is a denial reason, checked after the token reasons and before permission_denied", () => {
    expect(DENIAL_REASONS.indexOf("rate_limited")).toBe(DENIAL_REASONS.indexOf("subject_inactive") + 1);
    expect(DENIAL_REASONS.indexOf("rate_limited")).toBe(DENIAL_REASONS.indexOf("permission_denied") - 1);
  });

  it("every denial reason is an error code (assertAuthorized throws it), with a message, a management status and (rate_limited) a problem code", () => {
    expectTypeOf<DenialReason>().toExtend<KeywardErrorCode>();
    expectTypeOf<"rate_limited">().toExtend<ProblemCode>();
    for (const r of DENIAL_REASONS) {
      expect(typeof ERROR_CODES[r]).toBe("string");
      expect(MANAGEMENT_STATUS[r]).toBeGreaterThanOrEqual(400);
    }
    expect(MANAGEMENT_STATUS.rate_limited).toBe(429);
  });

  it("the options are typed: functions of the request's context, a rate limit where a binding takes one, headers on an allowed check", () => {
    expectTypeOf<Parameters<Extract<RateLimitOptions["limit"], (ctx: never) => number>>[0]>().toEqualTypeOf<RateLimitContext>();
    expectTypeOf<RateLimitContext["subject"]["kind"]>().toEqualTypeOf<"user" | "service_user">();
    expectTypeOf(rateLimit({ by: "token", limit: 1, windowMs: 1000 })).toExtend<NonNullable<HttpOptions["rateLimit"]>>();
    expectTypeOf<Extract<FetchCheck, { ok: true }>["headers"]>().toEqualTypeOf<Readonly<Record<string, string>>>();
    expectTypeOf<RateLimitState["remaining"]>().toEqualTypeOf<number>();
    // @ts-expect-error "ip" is not a way to key a limit
    expect(() => rateLimit({ by: "ip", limit: 1, windowMs: 1000 })).toThrow();
  });
});
