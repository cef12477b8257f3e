/**
 * The named argument and result types of every call of a keyward instance: plain TypeScript, so
 * a host can name them (`CreateUserTokenInput`) and no validation library shows in its types.
 * The runtime checks live in `schemas.ts`; a type test keeps each schema equal to its type here.
 * @module
 */
import type { TokenSort, TokenStatus } from "../core/lifecycle.js";
import type { AccessLevel, ExpiryCause, LeakLocation, MembershipStatus, SubjectKind, TokenPolicy, TokenRestriction } from "../core/types.js";

// ── shared pieces ──

/**
 * The paging options of every listing: `limit` (default 50, at most 500), `cursor` (the previous
 * page's `nextCursor`), `search` (part of a name or id, any case).
 *
 * @example
 * ```ts
 * const options: PageOptions = { limit: 100, cursor: page.nextCursor, search: "ci" };
 * ```
 */
export interface PageOptions {
  limit?: number;
  cursor?: string | null;
  search?: string;
}

/**
 * A status filter: one status, several, or `"all"`.
 *
 * @example
 * ```ts
 * const s: StatusFilter<TokenStatus> = ["active", "expired"];
 * ```
 */
export type StatusFilter<S extends string> = S | S[] | "all";

/**
 * The options of a token listing: paging, `status` (default every status but `deleted`), `sort`
 * (default `created`) and `order` (default: oldest first, most recently used first, soonest to
 * expire first).
 *
 * @example
 * ```ts
 * const options: TokenListOptions = { status: "active", sort: "expires", limit: 20 };
 * ```
 */
export interface TokenListOptions extends PageOptions {
  status?: StatusFilter<TokenStatus>;
  sort?: TokenSort;
  order?: "asc" | "desc";
}

/**
 * Who is granted a share or a rule, as a call names it (R13, R14). For `organization`,
 * `includeServiceUsers` defaults to `false`.
 *
 * @example
 * ```ts
 * const g: GranteeInput = { kind: "organization", orgId: "partner" };
 * ```
 */
export type GranteeInput =
  | { kind: "user"; userId: string }
  | { kind: "service_user"; serviceUserId: string }
  | { kind: "group"; groupId: string }
  | { kind: "site"; siteId: string }
  | { kind: "organization"; orgId: string; includeServiceUsers?: boolean };

/**
 * An item named by its organization, type and id (shares name items this way).
 *
 * @example
 * ```ts
 * const item: ItemKey = { orgId: "acme", type: "template", id: "tpl_1" };
 * ```
 */
export interface ItemKey {
  orgId: string;
  type: string;
  id: string;
}

/**
 * An organization's object named by its id (`unshare`, `removeRule`).
 *
 * @example
 * ```ts
 * await kw.directory.unshare({ orgId: "acme", id: share.id } satisfies OrgObjectRef);
 * ```
 */
export interface OrgObjectRef {
  orgId: string;
  id: string;
}

/**
 * An acting user in an organization (listings and rights of management calls).
 *
 * @example
 * ```ts
 * const rights = await kw.managementRights({ orgId: "acme", actorId: "u_ana" } satisfies ActorInput);
 * ```
 */
export interface ActorInput {
  orgId: string;
  actorId: string;
}

// ── tokens ──

/**
 * `tokens.createUserToken()`: a token for a member; `password` unless the organization is SSO-only (R4).
 *
 * @example
 * ```ts
 * const input: CreateUserTokenInput = { orgId: "acme", userId: "u_ana", name: "CI", password };
 * ```
 */
export interface CreateUserTokenInput {
  orgId: string;
  userId: string;
  /** The token's display name. */
  name: string;
  password?: string;
  /** R19: when the token expires (epoch ms, after now; within the organization's policy's maximum lifetime). */
  expiresAt?: number;
  /** R17: what the token may do at most, of what the user may do (each permission must be held now). `null`, absent or `{}`: full access. */
  restriction?: TokenRestriction | null;
}

/**
 * `tokens.createServiceToken()`: a token for a service user, created by an actor who manages service users.
 *
 * @example
 * ```ts
 * const input: CreateServiceTokenInput = { orgId: "acme", serviceUserId: bot.id, name: "BI", actorId: "u_admin" };
 * ```
 */
export interface CreateServiceTokenInput {
  orgId: string;
  serviceUserId: string;
  name: string;
  actorId: string;
  /** R19: when the token expires (epoch ms, after now; within the organization's policy's maximum lifetime). */
  expiresAt?: number;
  /** R17: what the token may do at most, of what the service user may do (no groups or sites: service users have none). `null`, absent or `{}`: full access. */
  restriction?: TokenRestriction | null;
}

/**
 * `tokens.previewReach()` (R17): what a token of this subject with this restriction would reach
 * now, before it exists. The actor needs the rights creating such a token needs: the user
 * themself for a user token, a service-user manager for a service token.
 *
 * @example
 * ```ts
 * const input: PreviewReachInput = { orgId: "acme", actorId: "u_ana", subject: { kind: "user", id: "u_ana" }, restriction: { maxLevel: "view" } };
 * ```
 */
export interface PreviewReachInput {
  orgId: string;
  actorId: string;
  subject: { kind: SubjectKind; id: string };
  restriction?: TokenRestriction | null;
}

/**
 * `directory.setTokenPolicy()`: an organization's token lifetime policy (R19), `null` for none.
 * `existing`: `"keep"` (default) gives the new maximum to tokens created from now on only;
 * `"apply"` recomputes it for every live token, but ends none sooner than `noticeMs` from now
 * (default 14 days) unless it was due to end sooner already.
 *
 * @example
 * ```ts
 * const input: SetTokenPolicyInput = { orgId: "acme", policy: { maxLifetimeMs: { service_user: 90 * 86_400_000 } }, existing: "apply" };
 * ```
 */
export interface SetTokenPolicyInput {
  orgId: string;
  policy: TokenPolicy | null;
  existing?: "keep" | "apply";
  /** With `existing: "apply"`: the least notice (ms from now) before a tightening ends a token. Default 14 days. */
  noticeMs?: number;
}

/**
 * `directory.getTokenPolicy()`: the organization's token policy (R19).
 *
 * @example
 * ```ts
 * const input: GetTokenPolicyInput = { orgId: "acme" };
 * ```
 */
export interface GetTokenPolicyInput {
  orgId: string;
}

/**
 * A token whose effective expiry a `setTokenPolicy({ existing: "apply" })` changed (R19): its new
 * effective expiry (`null`: it no longer expires) and which deadline that is.
 *
 * @example
 * ```ts
 * const a: PolicyAffectedToken = { tokenId: "tok_1", name: "BI", kind: "service_user", subjectId: "su_1", expiresAt: Date.now() + 14 * 86_400_000, cause: "policy" };
 * ```
 */
export interface PolicyAffectedToken {
  tokenId: string;
  name: string;
  kind: SubjectKind;
  subjectId: string;
  expiresAt: number | null;
  cause: ExpiryCause | null;
}

/**
 * What `directory.setTokenPolicy()` returns: the policy now in force and the tokens whose
 * effective expiry it changed (empty with `existing: "keep"`).
 *
 * @example
 * ```ts
 * const { affected }: TokenPolicyResult = await kw.directory.setTokenPolicy(input);
 * ```
 */
export interface TokenPolicyResult {
  policy: TokenPolicy | null;
  affected: PolicyAffectedToken[];
}

/**
 * `tokens.listMine()`: a user's own tokens in one organization.
 *
 * @example
 * ```ts
 * const input: ListMyTokensInput = { orgId: "acme", userId: "u_ana", status: "active" };
 * ```
 */
export interface ListMyTokensInput extends TokenListOptions {
  orgId: string;
  userId: string;
}

/**
 * `tokens.listOrganization()`: every user token of the organization, for an administrator.
 *
 * @example
 * ```ts
 * const input: ListOrganizationTokensInput = { orgId: "acme", actorId: "u_admin", search: "deploy" };
 * ```
 */
export interface ListOrganizationTokensInput extends TokenListOptions {
  orgId: string;
  actorId: string;
}

/**
 * `tokens.listServiceTokens()`: the service user tokens of the organization, or of one service user.
 *
 * @example
 * ```ts
 * const input: ListServiceTokensInput = { orgId: "acme", actorId: "u_admin", serviceUserId: bot.id };
 * ```
 */
export interface ListServiceTokensInput extends TokenListOptions {
  orgId: string;
  actorId: string;
  serviceUserId?: string;
}

/**
 * A token named by an actor: `tokens.revoke()`, `tokens.delete()`, `tokens.reach()`.
 *
 * @example
 * ```ts
 * await kw.tokens.revoke({ orgId: "acme", tokenId, actorId: "u_ana" } satisfies TokenActionInput);
 * ```
 */
export interface TokenActionInput {
  orgId: string;
  tokenId: string;
  actorId: string;
}

/**
 * `tokens.rotate()` (R18): the token whose secret to replace, who asks, the password (user
 * tokens, unless the organization is SSO-only, R4), and how long the previous secret keeps
 * working.
 *
 * @example
 * ```ts
 * const { token } = await kw.tokens.rotate({ orgId: "acme", tokenId, actorId: "u_admin", graceMs: 86_400_000 } satisfies RotateTokenInput);
 * ```
 */
export interface RotateTokenInput {
  orgId: string;
  tokenId: string;
  actorId: string;
  /** The actor's password, for a user token unless the organization is SSO-only (R4, as at creation). */
  password?: string;
  /** How long the previous secret keeps working, in ms: an integer from 0 (the default: it stops at once) to the `rotation.maxGraceMs` option (default 7 days). Never past the token's own expiry. */
  graceMs?: number;
}

/**
 * `tokens.sweepExpired()`: the organization whose expired tokens to record.
 *
 * @example
 * ```ts
 * const recorded = await kw.tokens.sweepExpired({ orgId: "acme" } satisfies SweepExpiredInput);
 * ```
 */
export interface SweepExpiredInput {
  orgId: string;
}

/**
 * `tokens.reportLeak()`: a secret a scanner found, and where (R22). A string that is not a
 * well-formed token is answered `malformed`, not refused.
 *
 * @example
 * ```ts
 * const input: ReportLeakInput = { secret: found, found: { source: "pastebin-scanner", url: "https://…" } };
 * ```
 */
export interface ReportLeakInput {
  secret: string;
  found: LeakLocation;
}

/**
 * What `managementRights()` answers: the management permissions the actor holds.
 *
 * @example
 * ```ts
 * const { manageTokens }: ManagementRights = await kw.managementRights({ orgId, actorId });
 * ```
 */
export interface ManagementRights {
  manageTokens: boolean;
  manageServiceUsers: boolean;
}

/**
 * The token limits in force (R3): active user tokens per user per organization, active service
 * tokens per organization.
 *
 * @example
 * ```ts
 * const { userTokensPerUser }: KeywardLimits = kw.limits;
 * ```
 */
export interface KeywardLimits {
  userTokensPerUser: number;
  serviceTokensPerOrg: number;
}

// ── directory ──

/**
 * `directory.createOrganization()`; `ssoOnly` defaults to `false`, `id` to a generated one.
 *
 * @example
 * ```ts
 * const input: CreateOrganizationInput = { id: "acme", name: "Acme", ssoOnly: true };
 * ```
 */
export interface CreateOrganizationInput {
  id?: string;
  name: string;
  ssoOnly?: boolean;
}

/**
 * `directory.updateOrganization()`: the fields given change.
 *
 * @example
 * ```ts
 * const input: UpdateOrganizationInput = { id: "acme", ssoOnly: false };
 * ```
 */
export interface UpdateOrganizationInput {
  id: string;
  name?: string;
  ssoOnly?: boolean;
}

/**
 * `directory.upsertUser()`: creates or renames a person.
 *
 * @example
 * ```ts
 * const input: UpsertUserInput = { id: "u_ana", name: "Ana Silva" };
 * ```
 */
export interface UpsertUserInput {
  id?: string;
  name: string;
}

/**
 * A directory object named by its id alone (`directory.getOrganization()`, `directory.getUser()`).
 *
 * @example
 * ```ts
 * const user = await kw.directory.getUser({ id: "u_ana" } satisfies IdInput);
 * ```
 */
export interface IdInput {
  id: string;
}

/**
 * `directory.addMember()` and `directory.updateMember()`: the member and the fields to set.
 *
 * @example
 * ```ts
 * const input: MemberInput = { orgId: "acme", userId: "u_ana", permissionSetId: "ps_inspector", groupIds: ["grp_a"] };
 * ```
 */
export interface MemberInput {
  orgId: string;
  userId: string;
  permissionSetId?: string | null;
  groupIds?: string[];
  siteIds?: string[];
  seat?: boolean;
}

/**
 * A member named by organization and user (`deactivateMember`, `reactivateMember`, `removeMember`).
 *
 * @example
 * ```ts
 * await kw.directory.deactivateMember({ orgId: "acme", userId: "u_ana" } satisfies MemberRef);
 * ```
 */
export interface MemberRef {
  orgId: string;
  userId: string;
  /** Who is acting, if anyone (a host's admin): named in R20's `subject.tokens_ended` notice of `deactivateMember` and `removeMember`. */
  actorId?: string;
}

/**
 * `directory.listMembers()`: paging, and `status` (default active and deactivated).
 *
 * @example
 * ```ts
 * const input: ListMembersInput = { orgId: "acme", status: "all", search: "ann" };
 * ```
 */
export interface ListMembersInput extends PageOptions {
  orgId: string;
  status?: StatusFilter<MembershipStatus>;
}

/**
 * `directory.seatCount()`: the organization to count.
 *
 * @example
 * ```ts
 * const seats = await kw.directory.seatCount({ orgId: "acme" } satisfies SeatCountInput);
 * ```
 */
export interface SeatCountInput {
  orgId: string;
}

/**
 * `directory.createPermissionSet()`.
 *
 * @example
 * ```ts
 * const input: CreatePermissionSetInput = { orgId: "acme", name: "Inspector", permissions: ["inspections:view"] };
 * ```
 */
export interface CreatePermissionSetInput {
  id?: string;
  orgId: string;
  name: string;
  permissions: string[];
}

/**
 * `directory.updatePermissionSet()`: the fields given change.
 *
 * @example
 * ```ts
 * const input: UpdatePermissionSetInput = { orgId: "acme", id: set.id, permissions: [] };
 * ```
 */
export interface UpdatePermissionSetInput {
  orgId: string;
  id: string;
  name?: string;
  permissions?: string[];
}

/**
 * `directory.createGroup()`.
 *
 * @example
 * ```ts
 * const input: CreateGroupInput = { orgId: "acme", name: "Auditors" };
 * ```
 */
export interface CreateGroupInput {
  id?: string;
  orgId: string;
  name: string;
}

/**
 * `directory.createSite()`, optionally below a parent site.
 *
 * @example
 * ```ts
 * const input: CreateSiteInput = { orgId: "acme", name: "North", parentId: region.id };
 * ```
 */
export interface CreateSiteInput {
  id?: string;
  orgId: string;
  name: string;
  parentId?: string | null;
}

/**
 * `directory.addTo()` and `directory.removeFrom()`: a member and exactly one of `groupId`, `siteId`.
 *
 * @example
 * ```ts
 * const input: PlacementInput = { orgId: "acme", subjectId: "u_ana", groupId: "grp_a" };
 * ```
 */
export interface PlacementInput {
  orgId: string;
  subjectId: string;
  groupId?: string;
  siteId?: string;
}

/**
 * `directory.share()`: an item, a grantee and a level (R13, R14).
 *
 * @example
 * ```ts
 * const input: ShareInput = { item: { orgId: "acme", type: "template", id: "tpl_1" }, grantee: { kind: "group", groupId }, level: "edit" };
 * ```
 */
export interface ShareInput {
  id?: string;
  item: ItemKey;
  grantee: GranteeInput;
  level: AccessLevel;
}

/**
 * `directory.addRule()`: items of `itemType` whose attributes match every condition (R13).
 *
 * @example
 * ```ts
 * const input: AddRuleInput = { orgId: "acme", itemType: "inspection", conditions: { siteId: ["north"] }, grantee: { kind: "site", siteId: "north" }, level: "view" };
 * ```
 */
export interface AddRuleInput {
  id?: string;
  orgId: string;
  itemType: string;
  conditions?: Record<string, readonly string[]>;
  grantee: GranteeInput;
  level: AccessLevel;
}

// ── service users ──

/**
 * `serviceUsers.create()`: the actor needs the service-user management permission and every
 * permission of the set.
 *
 * @example
 * ```ts
 * const input: CreateServiceUserInput = { orgId: "acme", name: "BI export", permissionSetId: readers.id, actorId: "u_admin" };
 * ```
 */
export interface CreateServiceUserInput {
  id?: string;
  orgId: string;
  name: string;
  permissionSetId?: string | null;
  actorId: string;
}

/**
 * `serviceUsers.update()`: the fields given change.
 *
 * @example
 * ```ts
 * const input: UpdateServiceUserInput = { orgId: "acme", id: bot.id, name: "BI", actorId: "u_admin" };
 * ```
 */
export interface UpdateServiceUserInput {
  orgId: string;
  id: string;
  name?: string;
  permissionSetId?: string | null;
  actorId: string;
}

/**
 * `serviceUsers.remove()`: a service user named by an actor.
 *
 * @example
 * ```ts
 * await kw.serviceUsers.remove({ orgId: "acme", id: bot.id, actorId: "u_admin" } satisfies ServiceUserRef);
 * ```
 */
export interface ServiceUserRef {
  orgId: string;
  id: string;
  actorId: string;
}

/**
 * `serviceUsers.previewRemoval()` (R20): the service user whose removal to preview, and the actor
 * (who needs the same right as for the removal).
 *
 * @example
 * ```ts
 * const { tokens } = await kw.serviceUsers.previewRemoval({ orgId: "acme", serviceUserId: bot.id, actorId: "u_admin" } satisfies ServiceUserPreviewInput);
 * ```
 */
export interface ServiceUserPreviewInput {
  orgId: string;
  serviceUserId: string;
  actorId: string;
}
