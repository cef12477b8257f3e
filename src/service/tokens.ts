/**
 * Token management (R3–R11): creation with limits and re-authentication, listings without
 * secrets, revocation and deletion.
 * @module
 */
import { admission } from "../core/admit.js";
import { KeywardError } from "../core/errors.js";
import { dueWarning, effectiveExpiry, inactivityDeadline, isExpired, tokenSortKey, tokenStatus, type ExpiryCause, type SubjectState, type TokenSort, type TokenStatus } from "../core/lifecycle.js";
import { generateToken, tokenHint } from "../core/token-format.js";
import type { KeywardEvent, PreviewedToken, RevocationCause, SubjectKind, SubjectRef, TokenClient, TokenEventFields, TokenRecord, TokenView } from "../core/types.js";
import type { TokenListEntry } from "../storage/types.js";
import type { Context } from "./context.js";
import { DEFAULT_PAGE_SIZE, pageOptions, readTokenCursor, searchOf, statusesOf, statusOption, tokenCursor, type Page } from "./paging.js";
import type {
  ActorInput,
  CreateServiceTokenInput,
  CreateUserTokenInput,
  ListMyTokensInput,
  ListOrganizationTokensInput,
  ListServiceTokensInput,
  ManagementRights,
  SweepExpiredInput,
  TokenActionInput,
  TokenListOptions,
} from "./inputs.js";
import {
  actorSchema,
  createServiceTokenSchema,
  createUserTokenSchema,
  listMyTokensSchema,
  listOrganizationTokensSchema,
  listServiceTokensSchema,
  parseInput,
  sweepExpiredSchema,
  tokenActionSchema,
  tokenStatuses,
} from "./schemas.js";

/** What a creation returns: the secret, shown this once (R5), and the public view. */
export interface CreatedToken {
  /** The token itself. Show it to its owner once; keyward keeps only its digest. */
  token: string;
  record: TokenView;
}

/** What a listing shows when no `status` is given: everything but deleted tokens. */
const NOT_DELETED: readonly TokenStatus[] = ["active", "revoked", "expired", "subject_inactive"];

/** The public view of a listed token (R5: no secret, no digest). */
export function toView(ctx: Context, entry: TokenListEntry, now: number): TokenView {
  const { token } = entry;
  const status = tokenStatus(token, entry.subject, now, ctx.inactivityMs);
  return {
    id: token.id,
    kind: token.kind,
    orgId: token.orgId,
    subjectId: token.subjectId,
    subjectName: entry.subjectName,
    name: token.name,
    hint: token.hint,
    createdAt: token.createdAt,
    createdBy: token.createdBy,
    lastUsedAt: token.lastUsedAt,
    status,
    expiresAt: status === "active" ? inactivityDeadline(token, ctx.inactivityMs) : null,
    clients: clientsOf(token),
    ...(token.revokedCause ? { revokedCause: token.revokedCause } : {}),
  };
}

/** The clients a token keeps (a copy), empty when none were tracked. */
function clientsOf(token: TokenRecord): TokenClient[] {
  return (token.clients ?? []).map((c) => ({ ip: c.ip, userAgent: c.userAgent, lastSeenAt: c.lastSeenAt }));
}

/**
 * Throws `forbidden` unless `actorId` is an active member of `orgId` holding `permission` (R11,
 * R12). Resolves to the actor's current permissions in the organization.
 */
export async function requirePermission(ctx: Context, orgId: string, actorId: string, permission: string): Promise<readonly string[]> {
  const m = await ctx.call(() => ctx.store.getMembership(orgId, actorId));
  if (m === null || m.status !== "active" || m.permissionSetId === null) throw new KeywardError("forbidden");
  const set = await ctx.call(() => ctx.store.getPermissionSet(m.permissionSetId!));
  if (set === null || set.orgId !== orgId || !set.permissions.includes(permission)) throw new KeywardError("forbidden");
  return set.permissions;
}

/**
 * Throws `forbidden` naming `field` unless the permission set `setId` (of `orgId`; `null` is no
 * permission at all) holds nothing beyond `held`: a manager hands out only what they hold
 * themselves. A set of another organization, or none, is `not_found`.
 */
export async function requireWithin(ctx: Context, orgId: string, setId: string | null, held: readonly string[], field: string): Promise<void> {
  if (setId === null) return;
  const set = await ctx.call(() => ctx.store.getPermissionSet(setId));
  if (set === null || set.orgId !== orgId) throw new KeywardError("not_found", "No such permission set in this organization.", { field });
  const mine = new Set(held);
  const beyond = set.permissions.filter((p) => !mine.has(p));
  if (beyond.length > 0) {
    throw new KeywardError("forbidden", "That permission set holds permissions you do not hold yourself: you can give a service user only permissions you have.", { field });
  }
}

/** A token lifecycle event (R16); the cause must fit the type (`leaked` for `token.revoked`, the others for `token.expired`). Shared with the leak reports (R22). */
export function tokenEvent(
  type: "token.created" | "token.revoked" | "token.deleted" | "token.expired",
  token: TokenRecord,
  subject: SubjectRef,
  at: number,
  actorId: string | null,
  cause?: ExpiryCause | "subject_inactive" | RevocationCause,
): KeywardEvent {
  return { type, ...tokenEventFields(token, subject, at, actorId), ...(cause ? { cause } : {}) } as KeywardEvent;
}

/** The fields every token event has (R16): never the secret. Shared with the leak reports (R22). */
export function tokenEventFields(token: TokenRecord, subject: SubjectRef, at: number, actorId: string | null): TokenEventFields {
  return { at, tokenId: token.id, orgId: token.orgId, subject, tokenName: token.name, actorId };
}

async function insert(
  ctx: Context,
  kind: SubjectKind,
  orgId: string,
  subject: SubjectRef,
  tokenName: string,
  epoch: string | null,
  createdBy: string | null,
  max: number,
): Promise<CreatedToken> {
  const now = ctx.now();
  const secret = generateToken(kind, ctx.prefixes);
  const record: TokenRecord = {
    id: ctx.newId("tok"),
    kind,
    orgId,
    subjectId: subject.id,
    name: tokenName,
    hash: ctx.hash(secret),
    hint: tokenHint(secret),
    epoch,
    createdAt: now,
    createdBy,
    lastUsedAt: null,
    revokedAt: null,
    deletedAt: null,
    expiredAt: null,
    restriction: null,
    expiresAt: null,
    policyExpiresAt: null,
    previousHash: null,
    previousHashUntil: null,
    rotatedAt: null,
    warnedDeadline: null,
    warnedThresholdMs: null,
    clients: null,
  };
  const result = await ctx.call(() => ctx.store.insertToken(record, admission({ max, now, inactivityMs: ctx.inactivityMs, storeClock: !ctx.clockInjected })));
  if (!result.ok) {
    if (result.reason === "limit_reached") {
      throw new KeywardError(
        "token_limit_reached",
        kind === "user"
          ? `This user already has ${max} active API tokens in this organization. Revoke one first.`
          : `This organization already has ${max} active service user tokens. Revoke one first.`,
        { limit: max },
      );
    }
    throw new KeywardError("forbidden", "The token's subject is not an active member of the organization.");
  }
  ctx.emit(tokenEvent("token.created", record, subject, now, createdBy));
  const view = toView(ctx, { token: record, subjectName: subject.name, subject: { active: true, epoch } }, now);
  return { token: secret, record: view };
}

/** Creates a user token (R3, R4, R5, R10). */
export async function createUserToken(ctx: Context, input: CreateUserTokenInput): Promise<CreatedToken> {
  const { orgId, userId, name: tokenName, password } = parseInput(createUserTokenSchema, input);
  const org = await ctx.call(() => ctx.store.getOrganization(orgId));
  if (org === null) throw new KeywardError("not_found", "No such organization.");
  const [user, membership] = await ctx.call(() => Promise.all([ctx.store.getUser(userId), ctx.store.getMembership(orgId, userId)]));
  if (user === null || membership === null || membership.status !== "active") {
    throw new KeywardError("forbidden", "Only an active member of the organization can create a user token.");
  }
  if (!org.ssoOnly) {
    if (ctx.verifyPassword === undefined) {
      throw new KeywardError("invalid_config", "Creating user tokens needs the verifyPassword option unless the organization is SSO-only.", { field: "options.verifyPassword" });
    }
    let ok = false;
    if (typeof password === "string" && password.length > 0) {
      const verify = ctx.verifyPassword;
      const check = async () => {
        try {
          return (await verify(userId, password)) === true;
        } catch (e) {
          // A failing hook is not a wrong password: the check could not be made (fail closed).
          throw new KeywardError("unavailable", "The password could not be checked: the token was not created.", { cause: e });
        }
      };
      // R4's throttle: past the failures allowed, refused without asking the hook.
      ok = ctx.reauth === null ? await check() : await ctx.reauth.check(orgId, userId, check);
    }
    if (!ok) throw new KeywardError("reauthentication_failed");
  }
  const subject: SubjectRef = { kind: "user", id: user.id, name: user.name };
  return insert(ctx, "user", orgId, subject, tokenName, membership.epoch, userId, ctx.limits.userTokensPerUser);
}

/** Creates a service user token (R3, R5, R8, R11). The actor needs the service-user management permission. */
export async function createServiceToken(ctx: Context, input: CreateServiceTokenInput): Promise<CreatedToken> {
  const { orgId, serviceUserId, name: tokenName, actorId } = parseInput(createServiceTokenSchema, input);
  const held = await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
  const su = await ctx.call(() => ctx.store.getServiceUser(serviceUserId));
  if (su === null || su.orgId !== orgId || su.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "serviceUserId" });
  // A token acts with its service user's permissions: minting one hands them out.
  await requireWithin(ctx, orgId, su.permissionSetId, held, "serviceUserId");
  const subject: SubjectRef = { kind: "service_user", id: su.id, name: su.name };
  return insert(ctx, "service_user", orgId, subject, tokenName, null, actorId, ctx.limits.serviceTokensPerOrg);
}

/** The order a sort lists in when no `order` is given: oldest first, most recently used first, soonest to expire first. */
const DEFAULT_ORDER: Record<TokenSort, "asc" | "desc"> = { created: "asc", last_used: "desc", expires: "asc" };

async function list(
  ctx: Context,
  filter: { orgId: string; kind: SubjectKind; subjectId?: string },
  options: TokenListOptions,
): Promise<Page<TokenView>> {
  const sort = options.sort ?? "created";
  const order = options.order ?? DEFAULT_ORDER[sort];
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const after = options.cursor === undefined || options.cursor === null ? null : readTokenCursor(options.cursor, sort, order);
  const now = ctx.now();
  const query = {
    ...filter,
    statuses: statusesOf(options.status, tokenStatuses, NOT_DELETED),
    search: searchOf(options.search),
    sort,
    order,
    after,
    // One more than asked: whether there is a next page, without a second query.
    limit: limit + 1,
    now,
    inactivityMs: ctx.inactivityMs,
  };
  const page = await ctx.call(() => ctx.store.pageTokens(query));
  const shown = page.entries.slice(0, limit);
  const last = shown[shown.length - 1];
  const nextCursor = page.entries.length > limit && last !== undefined ? tokenCursor({ sort, order, key: tokenSortKey(last.token, sort), id: last.token.id }) : null;
  return { items: shown.map((e) => toView(ctx, e, now)), nextCursor, total: page.total };
}

/**
 * A user's own tokens in one organization (R10, R11), one page at a time: what their settings
 * page lists. Deleted tokens are listed only when `status` asks for them.
 */
export async function listMine(ctx: Context, input: ListMyTokensInput): Promise<Page<TokenView>> {
  const v = parseInput(listMyTokensSchema, input);
  return list(ctx, { orgId: v.orgId, kind: "user", subjectId: v.userId }, v);
}

/** The user tokens of the organization, with their owners, one page at a time, for an administrator (R11). */
export async function listOrganization(ctx: Context, input: ListOrganizationTokensInput): Promise<Page<TokenView>> {
  const v = parseInput(listOrganizationTokensSchema, input);
  await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageTokens);
  return list(ctx, { orgId: v.orgId, kind: "user" }, v);
}

/** The service user tokens of the organization (or of one service user), one page at a time, for whoever manages service users (R11). */
export async function listServiceTokens(ctx: Context, input: ListServiceTokensInput): Promise<Page<TokenView>> {
  const v = parseInput(listServiceTokensSchema, input);
  await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
  return list(ctx, { orgId: v.orgId, kind: "service_user", ...(v.serviceUserId === undefined ? {} : { subjectId: v.serviceUserId }) }, v);
}

async function subjectOf(ctx: Context, token: TokenRecord): Promise<SubjectRef> {
  if (token.kind === "user") {
    const u = await ctx.call(() => ctx.store.getUser(token.subjectId));
    return { kind: "user", id: token.subjectId, name: u?.name ?? token.subjectId };
  }
  const su = await ctx.call(() => ctx.store.getServiceUser(token.subjectId));
  return { kind: "service_user", id: token.subjectId, name: su?.name ?? token.subjectId };
}

async function endToken(ctx: Context, token: TokenRecord, actorId: string, how: "revoke" | "delete"): Promise<void> {
  const now = ctx.now();
  const result = await ctx.call(() => ctx.store.revokeToken(token.id, now, how));
  if (result === null) throw new KeywardError("not_found", "No such token.");
  if (result.changed) {
    ctx.emit(tokenEvent(how === "revoke" ? "token.revoked" : "token.deleted", result.token, await subjectOf(ctx, result.token), now, actorId));
  }
}

/**
 * Revokes a token (R11). A user revokes their own user tokens; service user tokens are revoked
 * by whoever manages service users. Takes effect for the next request. Idempotent.
 */
export async function revoke(ctx: Context, input: TokenActionInput): Promise<void> {
  const { orgId, tokenId, actorId } = parseInput(tokenActionSchema, input);
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  // Not found, another organization's, or not the actor's: the same answer, so nothing leaks.
  if (token === null || token.orgId !== orgId || token.deletedAt !== null) throw new KeywardError("not_found", "No such token.");
  if (token.kind === "user") {
    if (token.subjectId !== actorId) throw new KeywardError("not_found", "No such token.");
  } else {
    // An actor who may not manage it gets the answer of an unknown id: a 403 would tell them it exists.
    try {
      await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
    } catch (e) {
      if (e instanceof KeywardError && e.code === "forbidden") throw new KeywardError("not_found", "No such token.");
      throw e;
    }
  }
  await endToken(ctx, token, actorId, "revoke");
}

/**
 * Deletes a token as an administrator (R11): any user token of the organization (with the token
 * management permission) or any service user token (with the service-user management permission).
 * Takes effect for the next request; the token no longer appears in listings.
 */
export async function deleteToken(ctx: Context, input: TokenActionInput): Promise<void> {
  const { orgId, tokenId, actorId } = parseInput(tokenActionSchema, input);
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  const permission = token?.kind === "service_user" ? ctx.permissions.manageServiceUsers : ctx.permissions.manageTokens;
  await requirePermission(ctx, orgId, actorId, permission);
  if (token === null || token.orgId !== orgId || token.deletedAt !== null) throw new KeywardError("not_found", "No such token.");
  await endToken(ctx, token, actorId, "delete");
}

/**
 * The tokens of a subject that are active for the subject state `state` at `at`: what its
 * deactivation, departure or deletion ends (R7). The one selection of both the notice and the
 * preview (R20), so that a preview lists exactly what the action then ends.
 */
export function endingTokens(ctx: Context, entries: readonly TokenListEntry[], state: SubjectState, at: number): TokenListEntry[] {
  return entries.filter((e) => tokenStatus(e.token, state, at, ctx.inactivityMs) === "active");
}

/** R20: a preview's view of a token that an action would end: no secret, no digest. */
export function previewedToken(token: TokenRecord): PreviewedToken {
  return { id: token.id, name: token.name, kind: token.kind, lastUsedAt: token.lastUsedAt, clients: clientsOf(token) };
}

/** Why a subject's tokens ended, and who did it: the notice's own fields (R20). */
export interface SubjectEnding {
  orgId: string;
  subject: SubjectRef;
  actorId: string | null;
  cause: "deactivated" | "left" | "deleted";
}

/**
 * For every token of a subject that was active (`before`) just before the subject was
 * deactivated, left, or was deleted: `token.expired` (cause `subject_inactive`, R7, R16); then
 * one `subject.tokens_ended` notice listing them all (R20), none when no token ended.
 */
export function emitSubjectEnded(ctx: Context, entries: readonly TokenListEntry[], before: SubjectState, at: number, ending: SubjectEnding): void {
  const ended = endingTokens(ctx, entries, before, at);
  for (const e of ended) ctx.emit(tokenEvent("token.expired", e.token, ending.subject, at, null, "subject_inactive"));
  if (ended.length === 0) return;
  ctx.emit({
    type: "subject.tokens_ended",
    at,
    orgId: ending.orgId,
    subject: ending.subject,
    actorId: ending.actorId,
    cause: ending.cause,
    tokens: ended.map(({ token: t }) => ({ id: t.id, name: t.name, kind: t.kind, lastUsedAt: t.lastUsedAt })),
  });
}

/**
 * What {@link sweep} did: how many expiries it recorded (each announced once with
 * `token.expired`) and how many warnings it sent (`token.expiring`, R20).
 *
 * @example
 * ```ts
 * const { expired, warned }: SweepResult = await kw.tokens.sweep({ orgId: "acme" });
 * ```
 */
export interface SweepResult {
  expired: number;
  warned: number;
}

/**
 * One pass over the organization's tokens (R6, R19, R20): each token that was otherwise alive
 * (not revoked or deleted, its subject active) and has reached its effective expiry without
 * anyone presenting it since gets its expiry recorded and its `token.expired` event, once; each
 * one whose expiry is at most a threshold away gets `token.expiring`, once per threshold per
 * deadline (`dueWarning`: the smallest threshold reached). Both are conditional writes in the
 * store, so sweeps running at once, in one process or several, send each event once.
 */
export async function sweep(ctx: Context, input: SweepExpiredInput): Promise<SweepResult> {
  const { orgId } = parseInput(sweepExpiredSchema, input);
  const entries = await ctx.call(() => ctx.store.listTokens({ orgId }));
  const now = ctx.now();
  const result: SweepResult = { expired: 0, warned: 0 };
  for (const e of entries) {
    const { token } = e;
    // Only tokens that were otherwise alive: revoked, deleted or dead-by-deactivation tokens had their event already.
    if (token.expiredAt !== null || token.revokedAt !== null || token.deletedAt !== null) continue;
    if (!e.subject.active || (token.kind === "user" && token.epoch !== e.subject.epoch)) continue;
    const subject: SubjectRef = { kind: token.kind, id: token.subjectId, name: e.subjectName };
    if (isExpired(token, now, ctx.inactivityMs)) {
      if (!(await ctx.call(() => ctx.store.markTokenExpired(token.id, now)))) continue;
      result.expired++;
      ctx.emit(tokenEvent("token.expired", token, subject, now, null, effectiveExpiry(token, ctx.inactivityMs)?.cause ?? "inactivity"));
      continue;
    }
    const due = dueWarning(token, now, ctx.inactivityMs, ctx.warningThresholdsMs);
    if (due === null || !(await ctx.call(() => ctx.store.markTokenWarned(token.id, due.deadline, due.thresholdMs)))) continue;
    result.warned++;
    ctx.emit({ type: "token.expiring", ...tokenEventFields(token, subject, now, null), cause: due.cause, expiresAt: due.deadline, thresholdMs: due.thresholdMs });
  }
  return result;
}

/**
 * Records and announces the expiry of tokens nobody presented since they expired: {@link sweep}'s
 * `expired` (it sends the warnings too). Kept for hosts that called it before `sweep` existed.
 */
export async function sweepExpired(ctx: Context, input: SweepExpiredInput): Promise<number> {
  return (await sweep(ctx, input)).expired;
}
