/**
 * The one pipeline of `authorize()`, `accessible()` and `login()`:
 *
 * 1. parse + checksum (no store read when it fails),
 * 2. digest,
 * 3. ONE store read (a failing store is `unavailable`: fail closed),
 * 4. decide (the pure core; the rate-limit gate first, where the call has one),
 * 5. record the use, or a newly seen expiry,
 * 6. emit the activity event; the telemetry span and metrics wrap the whole call.
 *
 * An operation plugs in only what differs: its read, its decision and its event. No rule lives
 * here: the rules are in `src/core`.
 * @module
 */
import { checkToken, presentedSecret } from "../core/decide.js";
import { fieldError, storeFailure, type KeywardError } from "../core/errors.js";
import { passedTokenStage } from "../core/reasons.js";
import { expiryOf } from "../core/lifecycle.js";
import type { AccessDecision } from "../core/access.js";
import type { Decision, KeywardEvent, LoadedToken, RateLimitState, SubjectKind, SubjectRef } from "../core/types.js";
import type { ClientsSeen, KeywardStore, SyncReads } from "../storage/types.js";
import type { Context } from "./context.js";
import { rateStage, withRateLimit, type RateLimitGate } from "./rate-gate.js";
import type { TelemetryAttributes } from "./telemetry.js";

/**
 * Options of one `authorize()` or `accessible()` call.
 * @example `await kw.authorize(token, "reports.export", null, { request: { method: "GET", path: "/reports" }, rateLimit: limit })`
 */
export interface AuthorizeOptions {
  /** Request details for the activity event (set by the middleware). */
  request?: { method: string; path: string };
  /**
   * R21: a rate limit to count this call against, once, after the token stage and before the
   * permission and access stages (`rateLimit()` of `keyward/ratelimit`; the middleware passes
   * its `rateLimit` option). A token that does not authenticate touches no counter.
   */
  rateLimit?: RateLimitGate;
  /**
   * The client making the request, as the host sees it (the middleware passes the request's
   * address and `User-Agent`): recorded with the token's last use when client tracking is on,
   * and named in the event of a request made with a rotated token's previous secret (R18).
   */
  client?: { ip?: string | null; userAgent?: string | null };
}

/**
 * The answer for a token the pipeline could not find: not well formed (no read), or no token of that kind has its digest.
 * @example `const reason: NotFound = "token_malformed"`
 */
export type NotFound = "token_malformed" | "token_unknown";

/**
 * What every result of the pipeline has: the reason (`allowed` or why not), and the rate-limit state once counted.
 * @example `const v: Verdict = { allowed: false, reason: "token_unknown" }`
 */
export interface Verdict {
  allowed: boolean;
  reason: string;
  rateLimit?: RateLimitState;
}

/**
 * What one operation plugs into the pipeline. `C` is the call's own arguments (validated), `I`
 * what its one read returns, `R` its result. The functions are called once per call, in the
 * pipeline's order; keep them free of I/O other than the read.
 *
 * @example
 * ```ts
 * const LOGIN: Operation<Call, DecisionInput, LoginVerdict> = {
 *   read: (store, digest, _call, kind) => store.loadDecision(digest, null, kind),
 *   decide: (input, now, _call, ctx) => ({ allowed: checkToken(input, now, ctx.inactivityMs) === null, reason: "allowed" }),
 *   notFound: (reason) => ({ allowed: false, reason }),
 *   itemType: () => null,
 *   event: (v, now) => ({ type: "login", at: now, outcome: v.allowed ? "allowed" : "denied", reason: v.reason }),
 * };
 * ```
 */
export interface Operation<C extends Call, I extends LoadedToken, R extends Verdict> {
  /**
   * Step 3: the one read for a digest (`null`: no token has it), from the store's reads or, on a
   * store that has them, its synchronous reads (`store.sync`): the same call on either. `kind`
   * is the kind the token's prefix names, for the store (`loadDecision`'s `kind`).
   */
  read(reads: KeywardStore | SyncReads, digest: string, call: C, kind: SubjectKind): Promise<I | null> | I | null;
  /** Step 4: the decision for a token that was found, at `now` (the pure core). */
  decide(input: I, now: number, call: C, ctx: Context): R;
  /** The result for a token that was not found (or not well formed). */
  notFound(reason: NotFound, call: C): R;
  /** Step 6: the activity event (only built when the host has an event sink). */
  event(result: R, now: number, input: I | null, call: C): KeywardEvent;
  /** R21: the item type the call names, for the rate limiter (`null` for an organization-level action). */
  itemType(call: C): string | null;
}

/**
 * What every call hands the pipeline: its action and its options (the rate limit, the request for the event).
 * @example `const call: Call = { action: "reports.export", options: { request: { method: "GET", path: "/reports" } } }`
 */
export interface Call {
  action: string;
  options: AuthorizeOptions | undefined;
}

const ignore = () => {};

/**
 * Runs one call through the pipeline. Rejects only for a failing store (`unavailable`, with the
 * store's error as `cause`) or a failing rate limiter; a denial is a result.
 *
 * On a store with synchronous reads (`store.sync`, the memory store) the read, the decision and
 * the use record happen in the calling tick: the returned promise is the only one made, unless
 * the call has a rate limit or finds a newly expired token (both wait for a write).
 *
 * @example
 * ```ts
 * const decision = await runPipeline(ctx, AUTHORIZE, rawToken, { action, item, definition, options });
 * ```
 */
export function runPipeline<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, raw: unknown, call: C): Promise<R> {
  // 1. parse + checksum: a token that is not well formed costs no read.
  const kind = ctx.parse(raw);
  if (kind === null) return settled(conclude(ctx, op, call, null, null, ""));
  // 2. digest and 3. the ONE read, failing closed.
  const sync = ctx.sync;
  // The call may be its caller's reused object (authorize()'s): a branch that waits takes a copy.
  if (sync === null) return readThenConclude(ctx, op, { ...call }, kind, ctx.hash(raw as string));
  // A store that finds its digests by their words is handed those: the stored digest it returns
  // is the read's key, and no digest string is made (a parsed token is ASCII, so it always has words).
  const byWords = sync.findDigest !== undefined && ctx.digestWords(raw as string, ctx.digestOut);
  let digest = byWords ? null : ctx.hash(raw as string);
  let input: I | null = null;
  try {
    if (byWords) digest = sync.findDigest!(ctx.digestOut);
    if (digest !== null) input = op.read(sync, digest, call, kind) as I | null;
  } catch (e) {
    return Promise.reject(storeFailure(e));
  }
  return settled(conclude(ctx, op, call, kind, input, digest ?? ""));
}

/*
 * The branches that wait (an asynchronous read, a rate limit, a newly seen expiry) are functions
 * of their own: a function that makes a closure allocates the variables it captures on every
 * call, even when the branch that makes the closure is not taken.
 */

/** Steps 3 to 6 on a store without synchronous reads: the read awaited (failing closed), then {@link conclude}. */
function readThenConclude<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, call: C, kind: SubjectKind, digest: string): Promise<R> {
  return ctx.call(() => op.read(ctx.store, digest, call, kind) as Promise<I | null>).then((input) => conclude(ctx, op, call, kind, input, digest));
}

/** A result as a promise: itself when it already is one. */
function settled<R>(result: R | Promise<R>): Promise<R> {
  return result instanceof Promise ? result : Promise.resolve(result);
}

/**
 * Steps 4 to 6 for what the read found (`input`; `kind` is `null` for a token that is not well
 * formed): the decision, the use record, the event. Synchronous unless the call has a rate limit
 * or records a newly seen expiry.
 */
function conclude<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, call: C, kind: SubjectKind | null, found: I | null, digest: string): R | Promise<R> {
  let input = found;
  if (input !== null && input.token.kind !== kind) {
    // A record of the other kind under this digest is an integrity failure: an event, and unknown.
    const { token } = input;
    ctx.emit({ type: "token.integrity", at: ctx.now(), tokenId: token.id, orgId: token.orgId, presentedKind: kind!, storedKind: token.kind });
    input = null;
  }
  const now = ctx.now(input === null ? undefined : input.now);
  // R18: a rotated token's previous secret works only during its grace period; after, it is unknown.
  let previous = false;
  if (input !== null) {
    const which = presentedSecret(input.token, digest, now);
    if (which === null) input = null;
    else previous = which === "previous";
  }
  if (input === null) return emitted(ctx, op, call, op.notFound(kind === null ? "token_malformed" : "token_unknown", call), now, null);
  // 4. the rate-limit gate (R21) where the call has one, then the decision.
  const gate = call.options?.rateLimit;
  // A branch that waits takes copies of the call and of the read's input: both may be reused
  // objects (authorize()'s call, the memory store's own read), filled in again by the next call.
  if (gate !== undefined && checkToken(input, now, ctx.inactivityMs) === null) return rateLimited(ctx, op, { ...call }, gate, { ...input }, now, previous);
  return recorded(ctx, op, call, input, op.decide(input, now, call, ctx), now, previous);
}

/** Step 4 behind the rate-limit gate (R21): counted once, then the decision unless the limit refused; then {@link recorded}. */
function rateLimited<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, call: C, gate: RateLimitGate, loaded: I, now: number, previous: boolean): Promise<R> {
  return rateStage(ctx, gate, loaded, call.action, op.itemType(call), call.options?.request, now).then((stage) => {
    const result = stage.limited === null ? (withRateLimit(op.decide(loaded, now, call, ctx) as R & { reason: "allowed" }, stage.state) as R) : (stage.limited as unknown as R);
    return recorded(ctx, op, call, loaded, result, now, previous);
  });
}

/** 5. Records the use, or a newly seen expiry (the one wait of a call without a rate limit); then 6. */
function recorded<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, call: C, input: I, decided: R, now: number, previous: boolean): R | Promise<R> {
  if (passedTokenStage(decided.reason as never)) {
    recordUse(ctx, input, now, call.options?.client);
    if (previous) {
      // The event's sink may call authorize() again, which fills the memory store's reused input
      // in anew: what follows the event reads a copy taken before it.
      const kept = { ...input };
      return emitted(ctx, op, call, previousSecretUsed(ctx, decided, input, now, call), now, kept);
    }
  } else if (decided.reason === "token_expired" && input.token.expiredAt === null) {
    return expiredThenEmitted(ctx, op, { ...call }, { ...input }, decided, now);
  }
  return emitted(ctx, op, call, decided, now, input);
}

/** A newly seen expiry recorded (awaited), then 6. */
function expiredThenEmitted<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, call: C, input: I, result: R, now: number): Promise<R> {
  return recordExpiry(ctx, input, now).then(() => emitted(ctx, op, call, result, now, input));
}

/** 6. Emits the call's event (built only when the host has a sink) and hands the result on. */
function emitted<C extends Call, I extends LoadedToken, R extends Verdict>(ctx: Context, op: Operation<C, I, R>, call: C, result: R, now: number, input: I | null): R {
  if (ctx.hasSink) ctx.emit(op.event(result, now, input, call));
  return result;
}

/** How often `token.previous_secret_used` is emitted at most, per token and instance: an hour. */
export const PREVIOUS_SECRET_EVENT_WINDOW_MS = 3_600_000;

/**
 * R18: a call authenticated with a rotated token's previous secret. An allowed result says so
 * (`previousSecret: true`); `token.previous_secret_used` names the token and the client, at most
 * once per token per {@link PREVIOUS_SECRET_EVENT_WINDOW_MS} on this instance.
 */
function previousSecretUsed<R extends Verdict>(ctx: Context, result: R, input: LoadedToken, now: number, call: Call): R {
  const { token } = input;
  const seen = ctx.previousSecretEvents;
  const last = seen.get(token.id);
  if (ctx.hasSink && (last === undefined || now - last >= PREVIOUS_SECRET_EVENT_WINDOW_MS || now < last)) {
    if (seen.size >= 10_000) for (const [id, at] of seen) if (now - at >= PREVIOUS_SECRET_EVENT_WINDOW_MS) seen.delete(id);
    seen.set(token.id, now);
    const client = call.options?.client;
    ctx.emit({
      type: "token.previous_secret_used",
      at: now,
      tokenId: token.id,
      orgId: token.orgId,
      subject: input.compiled.ref,
      tokenName: token.name,
      graceUntil: token.previousHashUntil!,
      ...(client === undefined ? {} : { client: { ip: client.ip ?? null, userAgent: client.userAgent ?? null } }),
    });
  }
  return result.allowed ? { ...result, previousSecret: true } : result;
}

/** Most characters kept of a client's address and user agent (both come from the request: bounded). */
const MAX_IP = 64;
const MAX_USER_AGENT = 256;

/** A client field as kept: a non-empty string, cut to `max` characters, or `null`. */
function clientField(value: unknown, max: number): string | null {
  if (typeof value !== "string") return null;
  const v = value.trim();
  return v.length === 0 ? null : v.slice(0, max);
}

/**
 * The client of a use as the store keeps it (opt-in tracking), or `undefined` when tracking is
 * off or the call named no client.
 */
function clientSeen(ctx: Context, client: AuthorizeOptions["client"], now: number): ClientsSeen | undefined {
  const track = ctx.trackClients;
  if (track === null || client == null || typeof client !== "object") return undefined;
  const ip = clientField(client.ip, MAX_IP);
  const userAgent = clientField(client.userAgent, MAX_USER_AGENT);
  if (ip === null && userAgent === null) return undefined;
  return { seen: [{ ip, userAgent, lastSeenAt: now }], max: track.max };
}

/**
 * Records the use (R6) without waiting, with the client when tracking is on (the same write). A
 * failed touch never changes the decision (it can only make the token expire early).
 */
function recordUse(ctx: Context, input: LoadedToken, now: number, client: AuthorizeOptions["client"]): void {
  try {
    const seen = clientSeen(ctx, client, now);
    const sync = ctx.sync;
    if (sync !== null) sync.recordTokenUse(input.token.id, now, seen);
    else (seen === undefined ? ctx.store.recordTokenUse(input.token.id, now) : ctx.store.recordTokenUse(input.token.id, now, seen)).catch(ignore);
  } catch {
    // A store that throws synchronously instead of rejecting: the same as a failed touch.
  }
}

/** Records a newly seen expiry once and emits its event with the expiry's cause (R6, R16, R19). */
async function recordExpiry(ctx: Context, input: LoadedToken, now: number): Promise<void> {
  const { token } = input;
  let first = false;
  try {
    first = await ctx.store.markTokenExpired(token.id, now);
  } catch {
    return;
  }
  if (first) {
    ctx.emit({ type: "token.expired", at: now, tokenId: token.id, orgId: token.orgId, subject: input.compiled.ref, tokenName: token.name, cause: expiryOf(token, now, ctx.inactivityMs).cause });
  }
}

/**
 * The `authorization` event (R16) of `authorize()` and `accessible()`: `target` names the item
 * (`{ item }`) or the item type listed (`{ itemType }`).
 *
 * @example
 * ```ts
 * ctx.emit(authorizationEvent(decision, now, call, { itemType: "inspection" }));
 * ```
 */
export function authorizationEvent(d: Decision | AccessDecision, now: number, call: Call, target: { item?: { orgId: string; type: string; id: string }; itemType?: string }): KeywardEvent {
  return {
    type: "authorization",
    at: now,
    outcome: d.allowed ? "allowed" : "denied",
    reason: d.reason,
    action: call.action,
    ...target,
    ...(d.tokenId === undefined ? {} : { tokenId: d.tokenId, orgId: d.orgId!, subject: d.subject! }),
    ...(d.allowed && "grant" in d && d.grant ? { grant: d.grant } : {}),
    ...(call.options?.request ? { request: call.options.request } : {}),
  };
}

// ── telemetry: a layer around the whole call (validation included) ──

/** What a result says to telemetry: never the secret, never the digest. */
interface Described {
  allowed: boolean;
  reason: string;
  subject?: SubjectRef | undefined;
  tokenId?: string | undefined;
  orgId?: string | undefined;
}

/** The span's and the metrics' attributes of a finished decision. */
export function describeDecision(d: Described): TelemetryAttributes {
  const a: TelemetryAttributes = { "keyward.outcome": d.allowed ? "allowed" : "denied", "keyward.reason": d.reason };
  if (d.subject !== undefined) a["keyward.subject.kind"] = d.subject.kind;
  if (d.tokenId !== undefined) a["keyward.token.id"] = d.tokenId;
  if (d.orgId !== undefined) a["keyward.org.id"] = d.orgId;
  return a;
}

/**
 * Runs a decision call under telemetry (a span, the decisions counter and the duration
 * histogram) when the instance has it; otherwise runs it as is.
 *
 * @example
 * ```ts
 * return observed(ctx, "authorize", action, item?.type, () => runPipeline(ctx, AUTHORIZE, raw, call), describeDecision);
 * ```
 */
export function observed<R>(
  ctx: Context,
  operation: "authorize" | "accessible" | "login",
  action: string,
  itemType: string | undefined,
  run: () => Promise<R>,
  describe: (result: R) => TelemetryAttributes,
): Promise<R> {
  const t = ctx.telemetry;
  if (t === null) return run();
  const attributes: TelemetryAttributes = typeof itemType !== "string" ? { "keyward.action": String(action) } : { "keyward.action": String(action), "keyward.item.type": itemType };
  return t.decision(operation, attributes, run, describe);
}

/**
 * The misuse of a call: `invalid_input` naming the field.
 *
 * @example
 * ```ts
 * if (typeof action !== "string") throw misuse("action", "expected a string");
 * ```
 */
export function misuse(field: string, message: string): KeywardError {
  return fieldError("invalid_input", field, message);
}
