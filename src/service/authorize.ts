/**
 * The hot path: parse, hash, one store read, the pure decision, then the coalesced use record
 * and the activity event. No rule lives here: the rules are in `src/core`.
 * @module
 */
import { checkToken, decide } from "../core/decide.js";
import { KeywardError, storeFailure } from "../core/errors.js";
import type { Decision, DecisionInput, ItemRef, LoadedToken, SubjectKind, SubjectRef, TokenDenialReason, TokenRecord } from "../core/types.js";
import type { Context } from "./context.js";
import { rateStage, type RateLimitGate, type RateStageOutcome } from "./rate-gate.js";
import { checkItem } from "./schemas.js";

/** Options of one `authorize()` call. */
export interface AuthorizeOptions {
  /** Request details for the activity event (set by the middleware). */
  request?: { method: string; path: string };
  /**
   * R21: a rate limit to count this call against, once, after the token stage and before the
   * permission and access stages (`rateLimit()` of `keyward/ratelimit`; the middleware passes
   * its `rateLimit` option). A token that does not authenticate touches no counter.
   */
  rateLimit?: RateLimitGate;
}

/** An authenticated session from a user token (R10). */
export interface Session {
  subject: { kind: "user"; id: string; name: string };
  orgId: string;
  tokenId: string;
}

function itemKey(item: ItemRef): { orgId: string; type: string; id: string } {
  return { orgId: item.orgId, type: item.type, id: item.id };
}

type Loaded = DecisionInput | "token_malformed" | "token_unknown";

/**
 * Reads the decision input for a raw token (`token_malformed` without a store read, `token_unknown`
 * when no token of that kind has the digest). A failure of the store becomes `unavailable`.
 */
async function load(ctx: Context, raw: unknown, item: ItemRef | null): Promise<Loaded> {
  const kind = ctx.parse(raw);
  if (kind === null) return "token_malformed";
  let input: DecisionInput | null;
  try {
    input = await ctx.store.loadDecision(ctx.hash(raw as string), item);
  } catch (e) {
    throw storeFailure(e);
  }
  // A record of the other kind under this digest is an integrity failure: an event, and unknown.
  return input === null || !sameKind(ctx, input.token, kind) ? "token_unknown" : input;
}

const ignore = () => {};

/**
 * Whether the stored token has the kind its prefix names. If not, emits `token.integrity` (the
 * caller then answers `token_unknown`). Shared with `accessible()`.
 */
export function sameKind(ctx: Context, token: TokenRecord, presented: SubjectKind): boolean {
  if (token.kind === presented) return true;
  ctx.emit({ type: "token.integrity", at: ctx.now(), tokenId: token.id, orgId: token.orgId, presentedKind: presented, storedKind: token.kind });
  return false;
}

/** Whether a decision's reason comes after R15's token stage (the token authenticated). Shared with `accessible()`. */
export function passedTokenStage(reason: Decision["reason"]): reason is "allowed" | "rate_limited" | "permission_denied" | "access_denied" {
  return reason === "allowed" || reason === "rate_limited" || reason === "permission_denied" || reason === "access_denied";
}

/**
 * R21, shared with `accessible()`: with a rate limit, and only for a token that passes the token
 * stage (checked by the core's own `checkToken`), count the call once before the later stages.
 * `null` when there is no limit or the token fails its stage (it costs nothing).
 */
export function limitStage(ctx: Context, options: AuthorizeOptions | undefined, input: LoadedToken, action: string, itemType: string | null, now: number): Promise<RateStageOutcome> | null {
  const gate = options?.rateLimit;
  if (gate === undefined || checkToken(input, now, ctx.inactivityMs) !== null) return null;
  return rateStage(ctx, gate, input, action, itemType, options?.request);
}

/** After a successful token stage: record the use (R6), without waiting. Shared with `accessible()`. A failed touch never changes the decision (it can only make the token expire early). */
export function recordUse(ctx: Context, input: LoadedToken, now: number): void {
  try {
    ctx.store.recordTokenUse(input.token.id, now).catch(ignore);
  } catch {
    // A store that throws synchronously instead of rejecting: the same as a failed touch.
  }
}

/** After a failed token stage: record a newly seen expiry once and emit its event (R6, R16). Shared with `accessible()`. */
export async function recordExpiry(ctx: Context, input: LoadedToken, reason: TokenDenialReason, now: number): Promise<void> {
  const { token } = input;
  if (reason === "token_expired" && token.expiredAt === null) {
    let first = false;
    try {
      first = await ctx.store.markTokenExpired(token.id, now);
    } catch {
      return;
    }
    if (first) {
      ctx.emit({
        type: "token.expired",
        at: now,
        tokenId: token.id,
        orgId: token.orgId,
        subject: input.compiled.ref,
        tokenName: token.name,
        cause: "inactivity",
      });
    }
  }
}

/**
 * `authorize(token, action, item?)` (R12–R15). Resolves to a decision; throws only for invalid
 * input (`invalid_input`) or a failing store (`unavailable`), never allowing on failure.
 */
export async function authorize(
  ctx: Context,
  rawToken: unknown,
  action: string,
  item?: ItemRef | null,
  options?: AuthorizeOptions,
): Promise<Decision> {
  if (typeof action !== "string") throw new KeywardError("invalid_input", 'Invalid input at "action": expected a string.', { field: "action" });
  const checked = item === undefined || item === null ? null : checkItem(item);
  const definition = ctx.actions.get(action);
  if (definition?.access !== undefined && checked === null) {
    throw new KeywardError("invalid_input", `Invalid input at "item": action "${action}" acts on an item of type "${definition.item}".`, { field: "item" });
  }
  if (definition !== undefined && definition.access !== undefined && checked !== null && checked.type !== definition.item) {
    throw new KeywardError("invalid_input", `Invalid input at "item.type": action "${action}" acts on items of type "${definition.item}".`, { field: "item.type" });
  }
  const loaded = await load(ctx, rawToken, definition?.access === undefined ? null : checked);
  const now = ctx.now(typeof loaded === "string" ? undefined : loaded.now);
  let decision: Decision;
  if (typeof loaded === "string") {
    decision = { allowed: false, reason: loaded, action };
  } else {
    const limit = limitStage(ctx, options, loaded, action, checked?.type ?? null, now);
    const stage = limit === null ? null : await limit;
    if (stage?.limited) decision = stage.limited;
    else {
      decision = decide(loaded, action, definition, checked, now, { inactivityMs: ctx.inactivityMs });
      if (stage) decision = { ...decision, rateLimit: stage.state };
    }
    if (passedTokenStage(decision.reason)) recordUse(ctx, loaded, now);
    else await recordExpiry(ctx, loaded, decision.reason as TokenDenialReason, now);
  }
  if (ctx.hasSink) {
    ctx.emit({
      type: "authorization",
      at: now,
      outcome: decision.allowed ? "allowed" : "denied",
      reason: decision.reason,
      action,
      ...(checked === null ? {} : { item: itemKey(checked) }),
      ...(decision.tokenId === undefined ? {} : { tokenId: decision.tokenId, orgId: decision.orgId!, subject: decision.subject! }),
      ...(decision.allowed && decision.grant ? { grant: decision.grant } : {}),
      ...(options?.request ? { request: options.request } : {}),
    });
  }
  return decision;
}

/** The throwing form: resolves to the allowed decision, or throws a forbidden {@link KeywardError}. */
export async function assertAuthorized(
  ctx: Context,
  rawToken: unknown,
  action: string,
  item?: ItemRef | null,
  options?: AuthorizeOptions,
): Promise<Extract<Decision, { allowed: true }>> {
  const d = await authorize(ctx, rawToken, action, item, options);
  if (d.allowed) return d;
  throw new KeywardError(d.reason, undefined, {
    action,
    ...(item ? { item: itemKey(item) } : {}),
    ...(d.visible === undefined ? {} : { visible: d.visible }),
    ...(d.retryAfterMs === undefined ? {} : { retryAfterMs: d.retryAfterMs }),
  });
}

/**
 * Logs in with a user token (R10); a service user token cannot (R9, `login_not_allowed`).
 * Throws a {@link KeywardError} whose code is the reason when the token does not authenticate.
 */
export async function login(ctx: Context, rawToken: unknown): Promise<Session> {
  const loaded = await load(ctx, rawToken, null);
  const now = ctx.now(typeof loaded === "string" ? undefined : loaded.now);
  let reason: string;
  let subject: SubjectRef | undefined;
  if (typeof loaded === "string") {
    reason = loaded;
  } else {
    const tokenReason = checkToken(loaded, now, ctx.inactivityMs);
    if (tokenReason === null) recordUse(ctx, loaded, now);
    else await recordExpiry(ctx, loaded, tokenReason, now);
    subject = loaded.compiled.ref;
    reason = tokenReason ?? (loaded.token.kind === "service_user" ? "login_not_allowed" : "allowed");
  }
  const token = typeof loaded === "string" ? undefined : loaded.token;
  ctx.emit({
    type: "login",
    at: now,
    outcome: reason === "allowed" ? "allowed" : "denied",
    reason,
    ...(token && subject ? { tokenId: token.id, orgId: token.orgId, subject } : {}),
  });
  if (reason !== "allowed" || token === undefined || subject === undefined) {
    throw new KeywardError(reason as TokenDenialReason | "login_not_allowed");
  }
  return { subject: subject as Session["subject"], orgId: token.orgId, tokenId: token.id };
}
