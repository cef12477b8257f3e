/**
 * The table of outcomes: every denial reason and error code once, with its stage, status, problem
 * code and challenge; everything else derived. The type-level half fails to compile when a reason
 * or code is added in one place and not in the table; the run-time half checks that no code can
 * fall through to a default status.
 */
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { fieldError, forbiddenError, isForbidden, KeywardError, type ForbiddenError } from "../../src/core/errors.js";
import {
  DENIAL_REASONS,
  ERROR_CODES,
  HTTP_PROBLEMS,
  isDenialReason,
  OUTCOMES,
  passedTokenStage,
  problemMeta,
  retryAfterSeconds,
  type AnyProblemCode,
  type DenialReason,
  type KeywardErrorCode,
  type Outcome,
  type TokenDenialReason,
} from "../../src/core/reasons.js";
import type { AccessDenial, DeniedDecision, PermissionDenial, RateLimitedDenial, RateLimitState, SubjectRef, UnknownTokenDenial } from "../../src/core/types.js";
import { decisionProblem, errorProblem, problemFor, resolveHttpOptions, type ProblemCode } from "../../src/http/mapping.js";
import { LEAK_PROBLEM_STATUS, type LeakProblemCode } from "../../src/leaks/index.js";
import { errorResponse, MANAGEMENT_STATUS, RETRY_AFTER_SECONDS, type ManagementProblemCode } from "../../src/manage/problem.js";

const ALL_CODES = Object.keys(OUTCOMES) as KeywardErrorCode[];
/** Every problem code the middleware sends (the `satisfies` fails to compile if one is missing or extra). */
const GUARD_CODES = Object.keys({ missing_credentials: 1, invalid_request: 1, invalid_token: 1, rate_limited: 1, permission_denied: 1, access_denied: 1, not_found: 1, invalid_input: 1, unavailable: 1, internal_error: 1 } satisfies Record<ProblemCode, 1>) as ProblemCode[];
const subject: SubjectRef = { kind: "user", id: "u_ana", name: "Ana" };
const state: RateLimitState = { policy: "default", limit: 3, used: 4, remaining: 0, resetMs: 1_500, windowMs: 60_000 };

/** One denied decision of each reason, as `authorize()` makes them. */
function denial(reason: DenialReason, extra: { visible?: boolean; retryAfterMs?: number } = {}): DeniedDecision {
  const known = { allowed: false, action: "inspections.view", subject, orgId: "acme", tokenId: "tok_1" } as const;
  switch (reason) {
    case "token_malformed":
    case "token_unknown":
      return { allowed: false, reason, action: "inspections.view" };
    case "rate_limited":
      return { ...known, reason, retryAfterMs: extra.retryAfterMs ?? 1_500, rateLimit: state };
    case "permission_denied":
      return { ...known, reason };
    case "access_denied":
      return { ...known, reason, visible: extra.visible ?? false };
    default:
      return { ...known, reason };
  }
}

describe("the table of outcomes, at the type level", () => {
  it("every reason a denied decision can carry has a row, and every row of kind denial is a reason of a decision", () => {
    expectTypeOf<DeniedDecision["reason"]>().toEqualTypeOf<DenialReason>();
    expectTypeOf<(typeof DENIAL_REASONS)[number]>().toEqualTypeOf<DenialReason>();
    expectTypeOf<TokenDenialReason>().toEqualTypeOf<"token_malformed" | "token_unknown" | "token_revoked" | "token_expired" | "subject_inactive">();
  });

  it("every error code is a row of the table: ERROR_CODES, KeywardErrorCode and the management statuses have exactly its keys", () => {
    expectTypeOf<KeywardErrorCode>().toEqualTypeOf<keyof typeof OUTCOMES>();
    expectTypeOf<keyof typeof ERROR_CODES>().toEqualTypeOf<KeywardErrorCode>();
    expectTypeOf<KeywardErrorCode>().toExtend<ManagementProblemCode>();
    expectTypeOf<keyof typeof MANAGEMENT_STATUS>().toEqualTypeOf<ManagementProblemCode>();
    expectTypeOf<keyof typeof LEAK_PROBLEM_STATUS>().toEqualTypeOf<LeakProblemCode>();
    expectTypeOf(OUTCOMES).toExtend<Record<KeywardErrorCode, Outcome>>();
    expectTypeOf<ProblemCode>().toExtend<AnyProblemCode>();
    // @ts-expect-error a code that is not a row of the table cannot be thrown
    void (() => new KeywardError("no_such_code"));
  });

  it("the problem code of every denial is one the middleware sends", () => {
    expectTypeOf<(typeof OUTCOMES)[DenialReason]["problem"]>().toExtend<ProblemCode>();
  });

  it("R15 a denied decision is a union on reason: each variant has only the fields it has", () => {
    expectTypeOf<Extract<DeniedDecision, { reason: "rate_limited" }>>().toEqualTypeOf<RateLimitedDenial>();
    expectTypeOf<RateLimitedDenial["retryAfterMs"]>().toEqualTypeOf<number>();
    expectTypeOf<RateLimitedDenial["rateLimit"]>().toEqualTypeOf<RateLimitState>();
    expectTypeOf<Extract<DeniedDecision, { reason: "access_denied" }>>().toEqualTypeOf<AccessDenial>();
    expectTypeOf<AccessDenial["visible"]>().toEqualTypeOf<boolean>();
    expectTypeOf<Extract<DeniedDecision, { reason: "permission_denied" }>>().toEqualTypeOf<PermissionDenial>();
    expectTypeOf<UnknownTokenDenial["subject"]>().toEqualTypeOf<undefined>();
    const d = {} as DeniedDecision;
    // @ts-expect-error `visible` is only on access_denied
    void d.visible;
    // @ts-expect-error `retryAfterMs` is only on rate_limited
    void d.retryAfterMs;
    if (d.reason === "access_denied") expectTypeOf(d.visible).toEqualTypeOf<boolean>();
    if (d.reason === "token_revoked") expectTypeOf(d.subject).toEqualTypeOf<SubjectRef>();
    // @ts-expect-error a rate_limited denial says when to retry
    const noWait: DeniedDecision = { allowed: false, reason: "rate_limited", action: "a", subject, orgId: "acme", tokenId: "t", rateLimit: state };
    // @ts-expect-error an unknown token names no subject
    const named: DeniedDecision = { allowed: false, reason: "token_unknown", action: "a", subject };
    void [noWait, named];
  });

  it("the throwing forms' error carries the decision's reason as its code", () => {
    expectTypeOf(forbiddenError).returns.toEqualTypeOf<ForbiddenError>();
    expectTypeOf<ForbiddenError["code"]>().toEqualTypeOf<DenialReason>();
  });
});

describe("the table of outcomes, at run time", () => {
  it("R15 the denial reasons are the table's denial rows, in the order they are checked", () => {
    expect(DENIAL_REASONS).toEqual(["token_malformed", "token_unknown", "token_revoked", "token_expired", "subject_inactive", "rate_limited", "permission_denied", "access_denied"]);
    const order = ["token", "limit", "permission", "access"];
    const stages = DENIAL_REASONS.map((r) => order.indexOf(OUTCOMES[r].stage));
    expect(stages.every((s) => s >= 0)).toBe(true);
    expect([...stages].sort((a, b) => a - b)).toEqual(stages);
  });

  it.each(ALL_CODES)("%s has a status, a problem code, a title and a default message", (code) => {
    const o: Outcome = OUTCOMES[code];
    expect(o.status).toBeGreaterThanOrEqual(400);
    expect(o.status).toBeLessThan(600);
    expect(o.problem).toMatch(/^[a-z_]+$/);
    expect(o.title.length).toBeGreaterThan(0);
    expect(ERROR_CODES[code]).toBe(o.message);
    // R5 and item 8 of the redesign: a default message names no rule number.
    expect(o.message).not.toMatch(/\bR\d+\b/);
    expect(new KeywardError(code).message).toBe(o.message);
  });

  it("every code any handler answers with has its own status: none can fall through to a default", () => {
    for (const code of ALL_CODES) expect(MANAGEMENT_STATUS[code]).toBe(OUTCOMES[code].status);
    for (const [code, status] of Object.entries(MANAGEMENT_STATUS)) expect(status).toBe(problemMeta(code as ManagementProblemCode).status);
    for (const [code, status] of Object.entries(LEAK_PROBLEM_STATUS)) expect(status).toBe(problemMeta(code as LeakProblemCode).status);
    for (const code of Object.keys(HTTP_PROBLEMS) as (keyof typeof HTTP_PROBLEMS)[]) expect(problemMeta(code).status).toBe(HTTP_PROBLEMS[code].status);
    expect(Object.keys(MANAGEMENT_STATUS)).toHaveLength(ALL_CODES.length + 5);
  });

  it("the statuses of the HTTP table: 401 for the token stage, 429 for a limit, 403 for permission and access, 503 for a store", () => {
    expect(DENIAL_REASONS.map((r) => [r, OUTCOMES[r].status, OUTCOMES[r].problem])).toEqual([
      ["token_malformed", 401, "invalid_token"],
      ["token_unknown", 401, "invalid_token"],
      ["token_revoked", 401, "invalid_token"],
      ["token_expired", 401, "invalid_token"],
      ["subject_inactive", 401, "invalid_token"],
      ["rate_limited", 429, "rate_limited"],
      ["permission_denied", 403, "permission_denied"],
      ["access_denied", 403, "access_denied"],
    ]);
    expect([OUTCOMES.unavailable.status, OUTCOMES.token_limit_reached.status, OUTCOMES.reauthentication_failed.status, OUTCOMES.payload_too_large.status]).toEqual([503, 409, 403, 413]);
  });

  it("isDenialReason and passedTokenStage read the table", () => {
    for (const code of ALL_CODES) expect(isDenialReason(code)).toBe(OUTCOMES[code].kind === "denial");
    expect(isDenialReason("allowed")).toBe(false);
    expect(isDenialReason("toString")).toBe(false);
    for (const r of DENIAL_REASONS) expect(passedTokenStage(r)).toBe(OUTCOMES[r].stage !== "token");
    expect(passedTokenStage("allowed")).toBe(true);
  });

  it("Retry-After seconds are the milliseconds rounded up, at least 1, and never fall as the wait grows", () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (a, b) => {
        const s = retryAfterSeconds(a);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s * 1000).toBeGreaterThanOrEqual(a);
        expect(s === 1 || (s - 1) * 1000 < a).toBe(true);
        if (a <= b) expect(retryAfterSeconds(b)).toBeGreaterThanOrEqual(s);
      }),
    );
  });
});

describe("the guard's mapping is the table's", () => {
  it.each(GUARD_CODES)("problemFor(%s) answers the table's status and title, with its challenge", (code) => {
    const opts = resolveHttpOptions({ realm: "inspections" });
    const p = problemFor(code, opts);
    const meta = problemMeta(code);
    expect(p.status).toBe(meta.status);
    expect(p.body).toMatchObject({ code, status: meta.status, title: meta.title, type: `urn:keyward:problem:${code}` });
    const challenge = p.headers["www-authenticate"];
    if (meta.challenge === undefined) expect(challenge).toBeUndefined();
    else if (meta.challenge === "bearer") expect(challenge).toBe('Bearer realm="inspections"');
    else expect(challenge).toBe(`Bearer realm="inspections", error="${meta.challenge}"`);
    expect(p.headers["retry-after"] !== undefined).toBe(meta.retryAfter === true);
  });

  it("R15 R21 every denied decision is answered with its row: status, problem code and challenge (an unreachable item as not_found unless the host prefers 403)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DENIAL_REASONS),
        fc.boolean(),
        fc.nat(3_600_000),
        fc.constantFrom(404 as const, 403 as const),
        fc.boolean(),
        (reason, visible, retryAfterMs, unreachableStatus, exposeTokenReason) => {
          const opts = resolveHttpOptions({ unreachableStatus, exposeTokenReason });
          const d = denial(reason, { visible, retryAfterMs });
          const p = decisionProblem(d, opts);
          const row = reason === "access_denied" && !visible && unreachableStatus === 404 ? OUTCOMES.not_found : OUTCOMES[reason];
          expect(p.status).toBe(row.status);
          expect(p.body.code).toBe(row.problem);
          const challenge = "challenge" in row ? row.challenge : undefined;
          if (challenge === undefined) expect(p.headers["www-authenticate"]).toBeUndefined();
          else expect(p.headers["www-authenticate"]).toContain(`error="${challenge}"`);
          if (reason === "rate_limited") expect(p.headers["retry-after"]).toBe(String(retryAfterSeconds(retryAfterMs)));
          expect(p.body.reason).toBe(exposeTokenReason && OUTCOMES[reason].stage === "token" ? reason : undefined);
        },
      ),
    );
  });

  it("a thrown error: invalid_input is 400 naming the field, unavailable 503, anything else a 500 that says nothing of the cause", () => {
    const seen: unknown[] = [];
    const opts = resolveHttpOptions({ onError: (e: unknown) => seen.push(e) });
    expect(errorProblem(new KeywardError("invalid_input", undefined, { field: "item.id" }), opts)).toMatchObject({ status: 400, body: { code: "invalid_input", field: "item.id" } });
    expect(errorProblem(new KeywardError("unavailable"), opts)).toMatchObject({ status: 503, headers: { "retry-after": "5" }, body: { code: "unavailable" } });
    expect(errorProblem(new Error("secret connection string"), opts)).toMatchObject({ status: 500, body: { code: "internal_error", detail: "The request could not be authorized." } });
    expect(seen).toHaveLength(2);
  });
});

describe("the management router's and the leak handler's error answers are one function", () => {
  it.each(ALL_CODES)("a KeywardError %s is answered with the table's status and its code; reported to onError only when a 5xx", async (code) => {
    const reported: unknown[] = [];
    const e = new KeywardError(code);
    const res = errorResponse(e, (x) => reported.push(x));
    expect(res.status).toBe(OUTCOMES[code].status);
    expect(res.headers.get("content-type")).toBe("application/problem+json; charset=utf-8");
    expect(((await res.json()) as { code: string }).code).toBe(code);
    expect(reported).toEqual(OUTCOMES[code].status >= 500 ? [e] : []);
    if (code === "unavailable") expect(res.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
  });

  it("anything else is a generic 500 internal_error, reported", async () => {
    const reported: unknown[] = [];
    const res = errorResponse(new TypeError("postgres://user:secret@db"), (x) => reported.push(x));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("secret");
    expect(JSON.parse(text)).toMatchObject({ code: "internal_error" });
    expect(reported).toHaveLength(1);
  });

  it("R4 a throttled re-authentication carries retryAfterMs in the body and Retry-After in whole seconds", async () => {
    const res = errorResponse(new KeywardError("reauthentication_failed", undefined, { retryAfterMs: 61_001 }), () => {});
    expect(res.status).toBe(403);
    expect(res.headers.get("retry-after")).toBe("62");
    expect(await res.json()).toMatchObject({ code: "reauthentication_failed", field: "password", retryAfterMs: 61_001 });
  });
});

describe("errors built from outcomes", () => {
  it("R15 the throwing forms' error: the reason as code, the action and item, visible for access_denied, retryAfterMs for rate_limited", () => {
    const item = { orgId: "acme", type: "inspection", id: "insp_1", attributes: { siteId: "oslo" } };
    const access = forbiddenError(denial("access_denied", { visible: true }), item);
    expect(access).toMatchObject({ code: "access_denied", action: "inspections.view", item: { orgId: "acme", type: "inspection", id: "insp_1" }, visible: true });
    expect(access.item).not.toHaveProperty("attributes");
    expect(isForbidden(access)).toBe(true);
    const limited = forbiddenError(denial("rate_limited", { retryAfterMs: 2_000 }));
    expect(limited).toMatchObject({ code: "rate_limited", retryAfterMs: 2_000 });
    expect(limited).not.toHaveProperty("item");
    expect(limited).not.toHaveProperty("visible");
    expect(forbiddenError(denial("token_expired"))).not.toHaveProperty("retryAfterMs");
    expect(isForbidden(new KeywardError("forbidden", undefined, { action: "a" }))).toBe(false);
  });

  it("fieldError words invalid_input and invalid_config the one way, naming the field", () => {
    const cause = new Error("x");
    expect(fieldError("invalid_config", "rateLimit.by", "the key function must return a non-empty string")).toMatchObject({
      code: "invalid_config",
      field: "rateLimit.by",
      message: 'Invalid configuration at "rateLimit.by": the key function must return a non-empty string.',
    });
    const input = fieldError("invalid_input", "item.id", "expected a string", cause);
    expect(input).toMatchObject({ code: "invalid_input", field: "item.id", message: 'Invalid input at "item.id": expected a string.' });
    expect(input.cause).toBe(cause);
  });
});
