/**
 * Token management (R3–R11): creation with limits and re-authentication, listings without
 * secrets, revocation and deletion.
 * @module
 */
import { admission } from "../core/admit.js";
import { fieldError, KeywardError } from "../core/errors.js";
import { checkToken } from "../core/decide.js";
import { dueWarning, effectiveExpiry, expiryOf, isExpired, policyMaxLifetime, subjectState, tokenSortKey, tokenStatus, type SubjectState, type TokenSort, type TokenStatus } from "../core/lifecycle.js";
import { generateToken, tokenHint } from "../core/token-format.js";
import { normalizeRestriction } from "../core/compile.js";
import type { ExpiryCause, KeywardEvent, Organization, PreviewedToken, RevocationCause, SubjectKind, SubjectRef, TokenClient, TokenEventFields, TokenRecord, TokenRestriction, TokenView } from "../core/types.js";
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
  RotateTokenInput,
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
  rotateTokenSchema,
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

/** A token's restriction as views show it (R17): a copy, `null` for a full-access token. */
function restrictionView(r: TokenRestriction | null | undefined): TokenRestriction | null {
  if (r === null || r === undefined) return null;
  return normalizeRestriction(r);
}

/** The public view of a listed token (R5: no secret, no digest). */
export function toView(ctx: Context, entry: TokenListEntry, now: number): TokenView {
  const { token } = entry;
  const status = tokenStatus(token, entry.subject, now, ctx.inactivityMs);
  // R19: an active token's effective expiry and its cause; none for a dead token.
  const expiry = status === "active" ? effectiveExpiry(token, ctx.inactivityMs) : null;
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
    expiresAt: expiry === null ? null : expiry.at,
    expiryCause: expiry === null ? null : expiry.cause,
    rotatedAt: token.rotatedAt ?? null,
    previousSecretUntil: status === "active" && token.previousHashUntil != null && now < token.previousHashUntil ? token.previousHashUntil : null,
    clients: clientsOf(token),
    restriction: restrictionView(token.restriction),
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
  type: "token.created" | "token.revoked" | "token.deleted" | "token.expired" | "token.rotated",
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
  expiry: { expiresAt: number | null; policyExpiresAt: number | null },
  now: number,
  restriction: TokenRestriction | null = null,
): Promise<CreatedToken> {
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
    restriction,
    expiresAt: expiry.expiresAt,
    policyExpiresAt: expiry.policyExpiresAt,
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

/**
 * R19: the expiry fields of a new token of `kind` in `org` at `now`: its date (`expiresAt`, which
 * must be after now and, under a policy with a maximum, no later than now + the maximum), and the
 * end its organization's policy allows (creation + the maximum). Throws `invalid_input` or
 * `policy_violation` naming the field; `userTokens: false` refuses user tokens (`kind`).
 */
export function creationExpiry(org: Organization, kind: SubjectKind, expiresAt: number | undefined, now: number): { expiresAt: number | null; policyExpiresAt: number | null } {
  const policy = org.tokenPolicy ?? null;
  if (kind === "user" && policy?.userTokens === false) {
    throw new KeywardError("policy_violation", "This organization does not allow user tokens: ask for a service user instead.", { field: "kind" });
  }
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new KeywardError("invalid_input", `Invalid input at "expiresAt": the expiry must be after now.`, { field: "expiresAt" });
  }
  if (expiresAt === undefined && policy?.requireExpiry === true) {
    throw new KeywardError("policy_violation", "This organization requires an expiry date on every token.", { field: "expiresAt" });
  }
  const max = policyMaxLifetime(policy, kind);
  if (max !== null && expiresAt !== undefined && expiresAt > now + max) {
    throw new KeywardError("policy_violation", `This organization allows tokens to live at most ${Math.floor(max / 86_400_000)} days: choose an earlier expiry.`, { field: "expiresAt" });
  }
  return { expiresAt: expiresAt ?? null, policyExpiresAt: max === null ? null : now + max };
}

/**
 * R4: checks the user's password with the host's `verifyPassword`, under the throttle of
 * failures, unless the organization is SSO-only; throws `reauthentication_failed` when it is
 * wrong or missing. Shared by creation and rotation (R18).
 */
async function reauthenticate(ctx: Context, org: Organization, userId: string, password: string | undefined, outcome: "created" | "rotated"): Promise<void> {
  if (org.ssoOnly) return;
  if (ctx.verifyPassword === undefined) {
    throw new KeywardError("invalid_config", "Creating or rotating user tokens needs the verifyPassword option unless the organization is SSO-only.", { field: "options.verifyPassword" });
  }
  let ok = false;
  if (typeof password === "string" && password.length > 0) {
    const verify = ctx.verifyPassword;
    const check = async () => {
      try {
        return (await verify(userId, password)) === true;
      } catch (e) {
        // A failing hook is not a wrong password: the check could not be made (fail closed).
        throw new KeywardError("unavailable", `The password could not be checked: the token was not ${outcome}.`, { cause: e });
      }
    };
    // R4's throttle: past the failures allowed, refused without asking the hook.
    ok = ctx.reauth === null ? await check() : await ctx.reauth.check(org.id, userId, check);
  }
  if (!ok) throw new KeywardError("reauthentication_failed");
}

/** Creates a user token (R3, R4, R5, R10, R19). */
export async function createUserToken(ctx: Context, input: CreateUserTokenInput): Promise<CreatedToken> {
  const { orgId, userId, name: tokenName, password, expiresAt, restriction: asked } = parseInput(createUserTokenSchema, input);
  const org = await ctx.call(() => ctx.store.getOrganization(orgId));
  if (org === null) throw new KeywardError("not_found", "No such organization.");
  const [user, membership] = await ctx.call(() => Promise.all([ctx.store.getUser(userId), ctx.store.getMembership(orgId, userId)]));
  if (user === null || membership === null || membership.status !== "active") {
    throw new KeywardError("forbidden", "Only an active member of the organization can create a user token.");
  }
  const now = ctx.now();
  // R19: the policy refuses before the password is asked for (a refusal costs no attempt).
  const expiry = creationExpiry(org, "user", expiresAt, now);
  // R17: checked before the password (a refusal here costs no password attempt).
  const restriction = await checkRestriction(ctx, orgId, { kind: "user", id: userId }, asked);
  await reauthenticate(ctx, org, userId, password, "created");
  const subject: SubjectRef = { kind: "user", id: user.id, name: user.name };
  return insert(ctx, "user", orgId, subject, tokenName, membership.epoch, userId, ctx.limits.userTokensPerUser, expiry, now, restriction);
}

/**
 * R17: a restriction checked against its subject's state now, normalised ({@link normalizeRestriction}:
 * sorted, no duplicates, `{}` → `null`). Every permission must be held by the subject now
 * (`permission_not_held`, field `restriction.permissions`); every group must be one of the
 * user's, every site one of the user's or below one (`invalid_input`, `restriction.groupIds` /
 * `restriction.siteIds`); a service token names no group or site (service users have none).
 * Nothing derived from the subject is stored: the restriction only narrows, on every request.
 */
export async function checkRestriction(
  ctx: Context,
  orgId: string,
  subject: { kind: SubjectKind; id: string },
  asked: TokenRestriction | null | undefined,
): Promise<TokenRestriction | null> {
  const restriction = normalizeRestriction(asked);
  if (restriction === null) return null;
  const { permissions: held, groupIds, siteIds } = await subjectHolds(ctx, orgId, subject);
  const missing = (restriction.permissions ?? []).filter((p) => !held.includes(p));
  if (missing.length > 0) {
    throw new KeywardError("permission_not_held", `The token's subject does not hold ${missing.map((p) => JSON.stringify(p)).join(", ")} now: a restricted token may only keep permissions its subject holds.`, {
      field: "restriction.permissions",
    });
  }
  if (subject.kind === "service_user" && (restriction.groupIds !== undefined || restriction.siteIds !== undefined)) {
    const field = restriction.groupIds !== undefined ? "restriction.groupIds" : "restriction.siteIds";
    throw fieldError("invalid_input", field, "a service user belongs to no group or site: restrict a service token by permissions, level, item types or items");
  }
  const mine = new Set(groupIds);
  const strangerGroup = (restriction.groupIds ?? []).find((g) => !mine.has(g));
  if (strangerGroup !== undefined) throw fieldError("invalid_input", "restriction.groupIds", `the user is not a member of the group ${JSON.stringify(strangerGroup)}`);
  const memberSites = new Set(siteIds);
  for (const siteId of restriction.siteIds ?? []) {
    const site = await ctx.call(() => ctx.store.getSite(siteId));
    // A member site, or one below a member site (R13: membership of a site covers the sites below).
    if (site === null || site.orgId !== orgId || !site.path.some((s) => memberSites.has(s))) {
      throw fieldError("invalid_input", "restriction.siteIds", `the user is not a member of the site ${JSON.stringify(siteId)} nor of a site above it`);
    }
  }
  return restriction;
}

/** What a token's subject holds now (R12, R13): its permissions, and for a user the groups and sites of its active membership. */
async function subjectHolds(ctx: Context, orgId: string, subject: { kind: SubjectKind; id: string }): Promise<{ permissions: readonly string[]; groupIds: readonly string[]; siteIds: readonly string[] }> {
  let setId: string | null = null;
  let groupIds: readonly string[] = [];
  let siteIds: readonly string[] = [];
  if (subject.kind === "user") {
    const m = await ctx.call(() => ctx.store.getMembership(orgId, subject.id));
    if (m !== null && m.status === "active") ({ permissionSetId: setId, groupIds, siteIds } = m);
  } else {
    const su = await ctx.call(() => ctx.store.getServiceUser(subject.id));
    if (su !== null && su.orgId === orgId && su.status === "active") setId = su.permissionSetId;
  }
  const set = setId === null ? null : await ctx.call(() => ctx.store.getPermissionSet(setId));
  return { permissions: set === null || set.orgId !== orgId ? [] : set.permissions, groupIds, siteIds };
}

/** Creates a service user token (R3, R5, R8, R11, R19). The actor needs the service-user management permission. */
export async function createServiceToken(ctx: Context, input: CreateServiceTokenInput): Promise<CreatedToken> {
  const { orgId, serviceUserId, name: tokenName, actorId, expiresAt, restriction: asked } = parseInput(createServiceTokenSchema, input);
  const held = await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers);
  const org = await ctx.call(() => ctx.store.getOrganization(orgId));
  if (org === null) throw new KeywardError("not_found", "No such organization.");
  const now = ctx.now();
  const expiry = creationExpiry(org, "service_user", expiresAt, now);
  const su = await ctx.call(() => ctx.store.getServiceUser(serviceUserId));
  if (su === null || su.orgId !== orgId || su.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "serviceUserId" });
  // A token acts with its service user's permissions: minting one hands them out.
  await requireWithin(ctx, orgId, su.permissionSetId, held, "serviceUserId");
  const restriction = await checkRestriction(ctx, orgId, { kind: "service_user", id: su.id }, asked);
  const subject: SubjectRef = { kind: "service_user", id: su.id, name: su.name };
  return insert(ctx, "service_user", orgId, subject, tokenName, null, actorId, ctx.limits.serviceTokensPerOrg, expiry, now, restriction);
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
  const nextCursor = page.entries.length > limit && last !== undefined ? tokenCursor({ sort, order, key: tokenSortKey(last.token, sort, ctx.inactivityMs), id: last.token.id }) : null;
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
  await endToken(ctx, (await ownToken(ctx, orgId, tokenId, actorId)).token, actorId, "revoke");
}

/**
 * The token `tokenId` of `orgId` if `actorId` may revoke or rotate it (R11, R18): a user their
 * own user token, whoever manages service users a service token. Otherwise `not_found`, the
 * answer for an unknown id, so that nothing leaks (a 403 would tell them it exists). With it, the
 * manager's permissions (`null` for a user token).
 */
async function ownToken(ctx: Context, orgId: string, tokenId: string, actorId: string): Promise<{ token: TokenRecord; held: readonly string[] | null }> {
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  // Not found, another organization's, or not the actor's: the same answer, so nothing leaks.
  if (token === null || token.orgId !== orgId || token.deletedAt !== null) throw new KeywardError("not_found", "No such token.");
  if (token.kind === "user") {
    if (token.subjectId !== actorId) throw new KeywardError("not_found", "No such token.");
    return { token, held: null };
  }
  try {
    return { token, held: await requirePermission(ctx, orgId, actorId, ctx.permissions.manageServiceUsers) };
  } catch (e) {
    if (e instanceof KeywardError && e.code === "forbidden") throw new KeywardError("not_found", "No such token.");
    throw e;
  }
}

/**
 * R18: gives the token a new secret under the same id (its name, restriction, last use, limits
 * and events continue), with the rights of a revocation and the password of a creation (R4, user
 * tokens unless the organization is SSO-only). Takes no slot (R3). The previous secret keeps
 * working for `graceMs` (default 0, at most `rotation.maxGraceMs`), never past the token's own
 * expiry; a second rotation replaces it. A revoked, expired or orphaned token cannot be rotated
 * (the token stage's reason as the code); of concurrent rotations one wins, the others throw
 * `conflict` and their secrets never work.
 */
export async function rotate(ctx: Context, input: RotateTokenInput): Promise<CreatedToken> {
  const { orgId, tokenId, actorId, password, graceMs = 0 } = parseInput(rotateTokenSchema, input);
  if (graceMs > ctx.maxGraceMs) {
    throw new KeywardError("invalid_input", `Invalid input at "graceMs": at most ${ctx.maxGraceMs} ms (the rotation.maxGraceMs option).`, { field: "graceMs" });
  }
  const { token: found, held } = await ownToken(ctx, orgId, tokenId, actorId);
  // The token as a decision sees it (last use merged, subject compiled): the token stage says whether it still works.
  const loaded = await ctx.call(() => ctx.store.loadDecision(found.hash, null));
  // Rotated since it was read (found by its previous digest now): another rotation won.
  if (loaded === null || loaded.token.id !== found.id || loaded.token.hash !== found.hash) {
    throw new KeywardError("conflict", "The token was rotated at the same time: this rotation was not made.");
  }
  const now = ctx.now(loaded.now);
  const stage = checkToken(loaded, now, ctx.inactivityMs);
  if (stage !== null) throw new KeywardError(stage === "token_unknown" ? "not_found" : stage, stage === "token_unknown" ? "No such token." : undefined);
  if (loaded.token.kind === "user") {
    const org = await ctx.call(() => ctx.store.getOrganization(orgId));
    if (org === null) throw new KeywardError("not_found", "No such organization.");
    await reauthenticate(ctx, org, actorId, password, "rotated");
  } else if (loaded.subject.kind === "service_user" && loaded.subject.serviceUser !== null) {
    // The new secret acts with the service user's permissions: as at creation, only a manager holding them all may mint it.
    await requireWithin(ctx, orgId, loaded.subject.serviceUser.permissionSetId, held ?? [], "tokenId");
  }
  const token = loaded.token;
  const expiry = effectiveExpiry(token, ctx.inactivityMs);
  const until = Math.min(now + graceMs, expiry?.at ?? Infinity);
  const secret = generateToken(token.kind, ctx.prefixes);
  const change = { expectHash: token.hash, hash: ctx.hash(secret), hint: tokenHint(secret), previousHashUntil: until, at: now };
  const result = await ctx.call(() => ctx.store.rotateToken(token.id, change));
  if (result === null) throw new KeywardError("not_found", "No such token.");
  if (!result.changed) throw new KeywardError("conflict", "The token was rotated, revoked or deleted at the same time: this rotation was not made.");
  const subject = loaded.compiled.ref;
  ctx.emit({ ...tokenEvent("token.rotated", result.token, subject, now, actorId), graceUntil: until > now ? until : null } as KeywardEvent);
  const view = toView(ctx, { token: result.token, subjectName: subject.name, subject: subjectState(loaded.subject) }, now);
  return { token: secret, record: view };
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
      ctx.emit(tokenEvent("token.expired", token, subject, now, null, expiryOf(token, now, ctx.inactivityMs).cause));
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
