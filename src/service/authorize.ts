/**
 * `authorize()` and `login()`: what they plug into the one pipeline (`pipeline.ts`), which parses,
 * hashes, reads once, decides, records the use and emits. No rule lives here: the rules are in
 * `src/core`.
 * @module
 */
import { checkToken, decide } from "../core/decide.js";
import { forbiddenError, KeywardError } from "../core/errors.js";
import type { ActionDefinition, Decision, DecisionInput, ItemRef, SubjectRef, TokenDenialReason, TokenRecord } from "../core/types.js";
import { authorizationEvent, describeDecision, misuse, observed, runPipeline, type AuthorizeOptions, type Call, type Operation, type Verdict } from "./pipeline.js";
import type { Context } from "./context.js";
import { checkItem } from "./schemas.js";

export type { AuthorizeOptions } from "./pipeline.js";

/** An authenticated session from a user token (R10). */
export interface Session {
  subject: { kind: "user"; id: string; name: string };
  orgId: string;
  tokenId: string;
}

function itemKey(item: ItemRef): { orgId: string; type: string; id: string } {
  return { orgId: item.orgId, type: item.type, id: item.id };
}

/** What `authorize()` hands the pipeline: the action, its options, the checked item and the action's definition. */
export interface AuthorizeCall extends Call {
  item: ItemRef | null;
  definition: ActionDefinition | undefined;
}

const AUTHORIZE: Operation<AuthorizeCall, DecisionInput, Decision> = {
  // Only an item action reads the item's shares and rules.
  read: (store, digest, c, kind) => store.loadDecision(digest, c.definition?.access === undefined ? null : c.item, kind),
  decide: (input, now, c, ctx) => decide(input, c.action, c.definition, c.item, now, ctx),
  notFound: (reason, c) => ({ allowed: false, reason, action: c.action }),
  itemType: (c) => c.item?.type ?? null,
  event: (d, now, _input, c) => authorizationEvent(d, now, c, c.item === null ? {} : { item: itemKey(c.item) }),
};

/**
 * `authorize(token, action, item?)` (R12–R15). Resolves to a decision; throws only for invalid
 * input (`invalid_input`) or a failing store (`unavailable`), never allowing on failure.
 */
export function authorize(ctx: Context, rawToken: unknown, action: string, item?: ItemRef | null, options?: AuthorizeOptions): Promise<Decision> {
  return ctx.telemetry === null ? authorizeNow(ctx, rawToken, action, item, options) : authorizeObserved(ctx, rawToken, action, item, options);
}

/**
 * `authorize()` under telemetry. Apart from {@link authorize} because a function that makes a
 * closure allocates the closure's variables on every call, even when the branch that makes it
 * is not taken (72 bytes per `authorize()` when this closure lived there).
 */
function authorizeObserved(ctx: Context, rawToken: unknown, action: string, item: ItemRef | null | undefined, options: AuthorizeOptions | undefined): Promise<Decision> {
  return observed(ctx, "authorize", action, item?.type, () => authorizeNow(ctx, rawToken, action, item, options), describeDecision);
}

/** `authorize()` without telemetry: invalid input rejects (never throws), like everything after it. */
function authorizeNow(ctx: Context, rawToken: unknown, action: string, item: ItemRef | null | undefined, options: AuthorizeOptions | undefined): Promise<Decision> {
  try {
    if (typeof action !== "string") throw misuse("action", "expected a string");
    const checked = item === undefined || item === null ? null : checkItem(item);
    const definition = ctx.actions.get(action);
    if (definition?.access !== undefined && checked === null) throw misuse("item", `action "${action}" acts on an item of type "${definition.item}"`);
    if (definition?.access !== undefined && checked !== null && checked.type !== definition.item) {
      throw misuse("item.type", `action "${action}" acts on items of type "${definition.item}"`);
    }
    if (definition !== undefined && definition.access === undefined && checked !== null) {
      throw misuse("item", `action "${action}" is an organization-level action and takes no item`);
    }
    // The instance's one call object, filled in (no object per call); taken while in use, so a
    // call made from inside this one (an event sink) makes its own. The pipeline copies it
    // before any wait: once `runPipeline` returns, nothing reads it.
    const spare = ctx.spareCall;
    if (spare === null) return runPipeline(ctx, AUTHORIZE, rawToken, { action, options, item: checked, definition });
    ctx.spareCall = null;
    spare.action = action;
    spare.options = options;
    spare.item = checked;
    spare.definition = definition;
    try {
      return runPipeline(ctx, AUTHORIZE, rawToken, spare);
    } finally {
      spare.options = undefined;
      spare.item = null;
      ctx.spareCall = spare;
    }
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The throwing form: resolves to the allowed decision, or throws a forbidden {@link KeywardError}. */
export async function assertAuthorized(ctx: Context, rawToken: unknown, action: string, item?: ItemRef | null, options?: AuthorizeOptions): Promise<Extract<Decision, { allowed: true }>> {
  const d = await authorize(ctx, rawToken, action, item, options);
  if (d.allowed) return d;
  throw forbiddenError(d, item);
}

/** What `login()` decides: the session, or why not. */
interface LoginVerdict extends Verdict {
  reason: TokenDenialReason | "login_not_allowed" | "allowed";
  token?: TokenRecord;
  subject?: SubjectRef;
}

const LOGIN: Operation<Call, DecisionInput, LoginVerdict> = {
  read: (store, digest, _c, kind) => store.loadDecision(digest, null, kind),
  decide(input, now, _c, ctx) {
    // R9: a service token never logs in; R17: nor a restricted user token (a session would do everything its user can).
    const refused = input.token.kind === "service_user" || input.token.restriction != null;
    const reason = checkToken(input, now, ctx.inactivityMs) ?? (refused ? "login_not_allowed" : "allowed");
    return { allowed: reason === "allowed", reason, token: input.token, subject: input.compiled.ref };
  },
  notFound: (reason) => ({ allowed: false, reason }),
  itemType: () => null,
  event: (v, now) => ({
    type: "login",
    at: now,
    outcome: v.allowed ? "allowed" : "denied",
    reason: v.reason,
    ...(v.token && v.subject ? { tokenId: v.token.id, orgId: v.token.orgId, subject: v.subject } : {}),
  }),
};

const LOGIN_CALL: Call = { action: "login", options: undefined };

/** A login's span: the subject only for a session (a refusal names the reason alone). */
function describeLogin(v: LoginVerdict): ReturnType<typeof describeDecision> {
  return v.allowed ? describeDecision({ allowed: true, reason: v.reason, subject: v.subject, tokenId: v.token?.id, orgId: v.token?.orgId }) : describeDecision({ allowed: false, reason: v.reason });
}

/** Why a token that authenticates may not log in: a service token (R9), or a restricted user token (R17). */
const RESTRICTED_LOGIN = "A restricted token cannot be used to log in: a session would allow everything its user can, not only what the token allows.";

/**
 * Logs in with a user token (R10); a service user token cannot (R9, `login_not_allowed`), nor a
 * restricted user token (R17, `login_not_allowed`).
 * Throws a {@link KeywardError} whose code is the reason when the token does not authenticate.
 */
export async function login(ctx: Context, rawToken: unknown): Promise<Session> {
  const v = await observed(ctx, "login", "login", undefined, () => runPipeline(ctx, LOGIN, rawToken, LOGIN_CALL), describeLogin);
  if (!v.allowed || v.token === undefined || v.subject === undefined) {
    const restricted = v.reason === "login_not_allowed" && v.token?.kind === "user";
    throw new KeywardError(v.reason as TokenDenialReason | "login_not_allowed", restricted ? RESTRICTED_LOGIN : undefined);
  }
  return { subject: v.subject as Session["subject"], orgId: v.token.orgId, tokenId: v.token.id };
}
