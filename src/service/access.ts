/**
 * "What can this token reach?": `accessible()` (a list filter for one item action) and
 * `tokens.reach()` (an administrator's review of a token). One store read each per item type;
 * the rules are in `src/core/access.ts`.
 * @module
 */
import { z } from "zod";
import { decideAccess, describeReach, type AccessDecision, type AccessInput, type AllowedAccess, type Reach } from "../core/access.js";
import { KeywardError, storeFailure } from "../core/errors.js";
import { subjectState } from "../core/lifecycle.js";
import type { LoadedToken, TokenDenialReason, TokenView } from "../core/types.js";
import { limitStage, passedTokenStage, recordExpiry, recordUse, sameKind, type AuthorizeOptions } from "./authorize.js";
import type { Context } from "./context.js";
import { id, parseInput } from "./schemas.js";
import { requirePermission, toView } from "./tokens.js";

/**
 * `accessible(token, action, itemType)` (R12–R15): the filter of the items of `itemType` the
 * token's subject may act on with `action`, or the refusal `authorize()` gives that token for
 * that action. Records the use (R6) and emits an `authorization` event (R16) like `authorize()`.
 * Throws only for misuse (`invalid_input`) or a failing store (`unavailable`).
 */
export async function accessible(
  ctx: Context,
  rawToken: unknown,
  action: string,
  itemType: string,
  options?: AuthorizeOptions,
): Promise<AccessDecision> {
  if (typeof action !== "string") throw new KeywardError("invalid_input", 'Invalid input at "action": expected a string.', { field: "action" });
  const type = parseInput(id, itemType, "itemType");
  const definition = ctx.actions.get(action);
  if (definition !== undefined && definition.access === undefined) {
    throw new KeywardError("invalid_input", `Invalid input at "action": "${action}" is an organization-level action; a list filter needs an item action.`, { field: "action" });
  }
  if (definition !== undefined && definition.item !== type) {
    throw new KeywardError("invalid_input", `Invalid input at "itemType": action "${action}" acts on items of type "${definition.item}".`, { field: "itemType" });
  }
  let result: AccessDecision;
  const kind = ctx.parse(rawToken);
  let input: AccessInput | null = null;
  if (kind !== null) {
    try {
      input = await ctx.store.loadAccess(ctx.hash(rawToken as string), { itemType: type });
    } catch (e) {
      throw storeFailure(e);
    }
  }
  const now = ctx.now(input?.now);
  if (kind === null) result = { allowed: false, reason: "token_malformed", action };
  // A record of the other kind under this digest is an integrity failure: an event, and unknown, as in authorize().
  else if (input === null || !sameKind(ctx, input.token, kind)) result = { allowed: false, reason: "token_unknown", action };
  else {
    const limit = limitStage(ctx, options, input, action, type, now);
    const stage = limit === null ? null : await limit;
    if (stage?.limited) result = stage.limited;
    else {
      result = decideAccess(input, action, definition, type, now, { inactivityMs: ctx.inactivityMs });
      if (stage) result = { ...result, rateLimit: stage.state };
    }
    if (passedTokenStage(result.reason)) recordUse(ctx, input, now);
    else await recordExpiry(ctx, input, result.reason as TokenDenialReason, now);
  }
  if (ctx.hasSink) {
    ctx.emit({
      type: "authorization",
      at: now,
      outcome: result.allowed ? "allowed" : "denied",
      reason: result.reason,
      action,
      itemType: type,
      ...(result.tokenId === undefined ? {} : { tokenId: result.tokenId, orgId: result.orgId!, subject: result.subject! }),
      ...(options?.request ? { request: options.request } : {}),
    });
  }
  return result;
}

/** The throwing form of {@link accessible}: the allowed answer, or a forbidden `KeywardError` whose code is the reason. */
export async function assertAccessible(
  ctx: Context,
  rawToken: unknown,
  action: string,
  itemType: string,
  options?: AuthorizeOptions,
): Promise<AllowedAccess> {
  const result = await accessible(ctx, rawToken, action, itemType, options);
  if (result.allowed) return result;
  throw new KeywardError(result.reason, undefined, { action, ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) });
}

const reachSchema = z.object({ orgId: id, tokenId: id, actorId: id }).strict();

/** The answer of `tokens.reach()`: the token's public view (no secret, R5) and everything it can reach. */
export interface TokenReach extends Reach {
  token: TokenView;
}

/**
 * Everything a token can reach (R11–R14), for review before or after it is used: its subject,
 * whether it works, its permissions and actions, and per declared item type the shares and rules
 * it can use. The actor is the token's own user, or holds the token-management permission (user
 * tokens) or the service-user management permission (service tokens). Reads only: it records no
 * use and changes nothing.
 */
export async function reach(ctx: Context, input: z.input<typeof reachSchema>): Promise<TokenReach> {
  const { orgId, tokenId, actorId } = parseInput(reachSchema, input);
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  const own = token !== null && token.kind === "user" && token.subjectId === actorId && token.orgId === orgId;
  if (!own) {
    const permission = token?.kind === "service_user" ? ctx.permissions.manageServiceUsers : ctx.permissions.manageTokens;
    await requirePermission(ctx, orgId, actorId, permission);
  }
  if (token === null || token.orgId !== orgId || token.deletedAt !== null) throw new KeywardError("not_found", "No such token.");
  const types = [...new Set([...ctx.actions.values()].flatMap((d) => (d.item === undefined ? [] : [d.item])))];
  const inputs = new Map<string, AccessInput>();
  let base: LoadedToken | null = null;
  for (const itemType of types) {
    const loaded = await ctx.call(() => ctx.store.loadAccess(token.hash, { itemType }));
    if (loaded === null) throw new KeywardError("not_found", "No such token.");
    inputs.set(itemType, loaded);
    base ??= loaded;
  }
  base ??= await ctx.call(() => ctx.store.loadDecision(token.hash, null));
  if (base === null) throw new KeywardError("not_found", "No such token.");
  const now = ctx.now();
  const described = describeReach(inputs, base, ctx.actions, now, { inactivityMs: ctx.inactivityMs });
  const subjectName = described.subject.name;
  return { token: toView(ctx, { token: base.token, subjectName, subject: subjectState(base.subject) }, now), ...described };
}
