/**
 * "What can this token reach?": `accessible()` (a list filter for one item action) and
 * `tokens.reach()` (an administrator's review of a token). One store read each per item type;
 * the rules are in `src/core/access.ts`.
 * @module
 */
import { z } from "zod";
import { decideAccess, describeReach, type AccessDecision, type AccessInput, type AllowedAccess, type Reach } from "../core/access.js";
import { compileSubject } from "../core/compile.js";
import { forbiddenError, KeywardError } from "../core/errors.js";
import { subjectState } from "../core/lifecycle.js";
import type { ActionDefinition, DecisionInput, LoadedToken, TokenRecord, TokenView } from "../core/types.js";
import type { PreviewReachInput } from "./inputs.js";
import type { Context } from "./context.js";
import { authorizationEvent, describeDecision, misuse, observed, runPipeline, type AuthorizeOptions, type Call, type Operation } from "./pipeline.js";
import { checkId, id, parseInput, previewReachSchema } from "./schemas.js";
import { checkRestriction, requirePermission, requireWithin, toView } from "./tokens.js";

interface AccessCall extends Call {
  itemType: string;
  definition: ActionDefinition | undefined;
}

const ACCESSIBLE: Operation<AccessCall, AccessInput, AccessDecision> = {
  read: (store, digest, c, kind) => store.loadAccess(digest, { itemType: c.itemType }, kind),
  decide: (input, now, c, ctx) => decideAccess(input, c.action, c.definition, c.itemType, now, ctx),
  notFound: (reason, c) => ({ allowed: false, reason, action: c.action }),
  itemType: (c) => c.itemType,
  event: (result, now, _input, c) => authorizationEvent(result, now, c, { itemType: c.itemType }),
};

/**
 * `accessible(token, action, itemType)` (R12–R15): the filter of the items of `itemType` the
 * token's subject may act on with `action`, or the refusal `authorize()` gives that token for
 * that action. The same pipeline as `authorize()`: it records the use (R6) and emits an
 * `authorization` event (R16). Throws only for misuse (`invalid_input`) or a failing store
 * (`unavailable`).
 */
export function accessible(ctx: Context, rawToken: unknown, action: string, itemType: string, options?: AuthorizeOptions): Promise<AccessDecision> {
  return ctx.telemetry === null ? accessibleNow(ctx, rawToken, action, itemType, options) : accessibleObserved(ctx, rawToken, action, itemType, options);
}

/** `accessible()` under telemetry, apart so that {@link accessible} makes no closure (its captured variables would be allocated on every call). */
function accessibleObserved(ctx: Context, rawToken: unknown, action: string, itemType: string, options: AuthorizeOptions | undefined): Promise<AccessDecision> {
  return observed(ctx, "accessible", action, itemType, () => accessibleNow(ctx, rawToken, action, itemType, options), describeDecision);
}

/** `accessible()` without telemetry: invalid input rejects (never throws), like everything after it. */
function accessibleNow(ctx: Context, rawToken: unknown, action: string, itemType: string, options: AuthorizeOptions | undefined): Promise<AccessDecision> {
  try {
    if (typeof action !== "string") throw misuse("action", "expected a string");
    const type = checkId(itemType, "itemType");
    const definition = ctx.actions.get(action);
    if (definition !== undefined && definition.access === undefined) throw misuse("action", `"${action}" is an organization-level action; a list filter needs an item action`);
    if (definition !== undefined && definition.item !== type) throw misuse("itemType", `action "${action}" acts on items of type "${definition.item}"`);
    return runPipeline(ctx, ACCESSIBLE, rawToken, { action, options, itemType: type, definition });
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The throwing form of {@link accessible}: the allowed answer, or a forbidden `KeywardError` whose code is the reason. */
export async function assertAccessible(ctx: Context, rawToken: unknown, action: string, itemType: string, options?: AuthorizeOptions): Promise<AllowedAccess> {
  const result = await accessible(ctx, rawToken, action, itemType, options);
  if (result.allowed) return result;
  throw forbiddenError(result);
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
  const types = declaredItemTypes(ctx);
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

/** The item types of the declared item actions. */
function declaredItemTypes(ctx: Context): string[] {
  return [...new Set([...ctx.actions.values()].flatMap((d) => (d.item === undefined ? [] : [d.item])))];
}

/**
 * R17: what a token of this subject with this restriction would reach now, before it exists (the
 * token page's picker): the same answer as {@link reach}, for a made-up token created now (its
 * `token` view has an empty `id`, `name` and `hint`). The actor needs the rights creating such a
 * token needs — the user themself (an active member) for a user token; the service-user
 * management permission, and every permission of the service user's set, for a service token —
 * and the restriction is checked as creation checks it (`permission_not_held`, `invalid_input`).
 * Reads only; nothing is written, no secret exists.
 */
export async function previewReach(ctx: Context, input: PreviewReachInput): Promise<TokenReach> {
  const { orgId, actorId, subject, restriction: asked } = parseInput(previewReachSchema, input);
  if (subject.kind === "user") {
    const m = await ctx.call(() => ctx.store.getMembership(orgId, subject.id));
    if (subject.id !== actorId || m === null || m.status !== "active") {
      throw new KeywardError("forbidden", "Only an active member of the organization can preview a user token of their own.");
    }
  } else {
    const held = await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
    const su = await ctx.call(() => ctx.store.getServiceUser(subject.id));
    if (su === null || su.orgId !== orgId || su.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "subject.id" });
    await requireWithin(ctx, orgId, su.permissionSetId, held, "subject.id");
  }
  const restriction = await checkRestriction(ctx, orgId, subject, asked);
  const ref = { orgId, kind: subject.kind, subjectId: subject.id };
  const types = declaredItemTypes(ctx);
  // With no item type declared, the subject alone (an item type no grant has: ids are never empty).
  const loaded = await Promise.all((types.length === 0 ? [""] : types).map((itemType) => ctx.call(() => ctx.store.loadSubjectAccess(ref, { itemType }))));
  const first = loaded[0]!;
  const now = ctx.now();
  const token: TokenRecord = {
    id: "",
    kind: subject.kind,
    orgId,
    subjectId: subject.id,
    name: "",
    hash: "",
    hint: "",
    epoch: first.subject.kind === "user" ? (first.subject.membership?.epoch ?? null) : null,
    createdAt: now,
    createdBy: actorId,
    lastUsedAt: null,
    revokedAt: null,
    deletedAt: null,
    expiredAt: null,
    restriction,
  };
  const compiled = compileSubject({ token, subject: first.subject });
  const inputs = new Map<string, AccessInput>();
  types.forEach((itemType, i) => inputs.set(itemType, { ...loaded[i]!, token, compiled }));
  const described = describeReach(inputs, { token, subject: first.subject, compiled }, ctx.actions, now, { inactivityMs: ctx.inactivityMs });
  return { token: toView(ctx, { token, subjectName: described.subject.name, subject: subjectState(first.subject) }, now), ...described };
}
