/**
 * R21: the rate-limit stage of the pipeline, between the token stage and the permission and
 * access stages. keyward's pipeline knows only this small interface; `keyward/ratelimit`
 * implements it on `rate-limiter-flexible` (memory, PostgreSQL, Redis), and a host may bring
 * its own. The rule of the stage lives here once, for `authorize()` and `accessible()`:
 * counted exactly once per call that passed the token stage; a failing limiter store is an
 * event and then either a refusal (`unavailable`) or the limiter's own insurance — never an
 * unlimited allow.
 * @module
 */
import { KeywardError } from "../core/errors.js";
import { expiryAfterUse } from "../core/lifecycle.js";
import type { LoadedToken, RateLimitedDenial, RateLimitState, SubjectRef } from "../core/types.js";
import { passedTokenStage, type DenialReason } from "../core/reasons.js";
import type { Context } from "./context.js";

/** What a rate limiter knows of a request: everything the token stage established, before any permission or access check. */
export interface RateLimitContext {
  action: string;
  /** The item type of the call (`authorize()` with an item, `accessible()`), or `null` for an organization-level action. */
  itemType: string | null;
  /** The token's subject: kind, id and display name. */
  subject: SubjectRef;
  /** The token's organization. */
  orgId: string;
  tokenId: string;
  /** The request's method and path without its query, when a middleware made the call. */
  request?: { method: string; path: string };
}

/** A rate limiter's answer for one request. */
export interface RateLimitVerdict {
  /** Whether the request is within the limit. */
  allowed: boolean;
  state: RateLimitState;
  /** Set when the limiter's store failed and its in-process insurance counted the request instead. */
  storeError?: unknown;
}

/**
 * A rate limiter the pipeline can call (R21). `consume` counts the request once and answers;
 * when its store fails and it has no insurance it must reject (throw), never allow.
 * `keyward/ratelimit`'s `rateLimit()` returns one.
 */
export interface RateLimitGate {
  /** The policy's name (the IETF headers' policy item). */
  readonly name: string;
  /** Whether the middleware adds the IETF `RateLimit-Policy` and `RateLimit` headers too. */
  readonly ietfHeaders: boolean;
  consume(ctx: RateLimitContext): Promise<RateLimitVerdict>;
}

/** The outcome of the stage: a refusal (`rate_limited`), or the state to put on the decision the later stages make. */
export type RateStageOutcome = { limited: RateLimitedDenial; state: RateLimitState } | { limited: null; state: RateLimitState };

/**
 * A decision made after the rate-limit stage, with the state of the limit on it (R21). A denial
 * of the token stage is returned as is: a limit is counted only once the token passed its stage.
 *
 * @example
 * ```ts
 * if (stage) decision = withRateLimit(decision, stage.state);
 * ```
 */
export function withRateLimit<D extends { reason: DenialReason | "allowed" }>(decision: D, state: RateLimitState): D {
  return passedTokenStage(decision.reason) ? { ...decision, rateLimit: state } : decision;
}

/** The name or code of an error, for an event: never its message (a driver's message may hold a connection string). */
function errorName(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) return code;
  const cause = (e as { cause?: unknown } | null)?.cause;
  if (e instanceof KeywardError && cause !== undefined) return errorName(cause);
  return e instanceof Error && /^[A-Za-z0-9_.-]{1,64}$/.test(e.name) ? e.name : "error";
}

/**
 * Runs the rate-limit stage for an input whose token passed the token stage: counts the request
 * once, emits `rate_limit.store_failed` when the limiter's store failed (then rethrows as
 * `unavailable`, or goes on with the insurance's answer), and answers a `rate_limited` refusal
 * or the state for the decision.
 */
export async function rateStage(
  ctx: Context,
  gate: RateLimitGate,
  input: LoadedToken,
  action: string,
  itemType: string | null,
  request: { method: string; path: string } | undefined,
  now: number,
): Promise<RateStageOutcome> {
  const subject = input.compiled.ref;
  const { id: tokenId, orgId } = input.token;
  const failed = (fallback: "fail_closed" | "insurance", e: unknown) =>
    ctx.emit({ type: "rate_limit.store_failed", at: ctx.now(), fallback, policy: gate.name, action, tokenId, orgId, subject, error: errorName(e) });
  let verdict: RateLimitVerdict;
  try {
    verdict = await gate.consume({ action, itemType, subject, orgId, tokenId, ...(request ? { request } : {}) });
  } catch (e) {
    if (e instanceof KeywardError && e.code !== "unavailable") throw e; // a host's bug in a limit or key function: a 500, not a store failure
    failed("fail_closed", e);
    throw new KeywardError("unavailable", "The rate limiter's store is unavailable. Try again later.", { cause: e instanceof KeywardError ? (e.cause ?? e) : e });
  }
  if (verdict.storeError !== undefined) failed("insurance", verdict.storeError);
  const { state } = verdict;
  if (verdict.allowed) return { limited: null, state };
  return {
    limited: { allowed: false, reason: "rate_limited", action, subject, orgId, tokenId, retryAfterMs: state.resetMs, expiresAt: expiryAfterUse(input.token, now, ctx.inactivityMs), rateLimit: state },
    state,
  };
}
