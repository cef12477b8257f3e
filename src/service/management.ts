/**
 * What a management page needs to know about its caller and the tokens it names, asked of the
 * service rather than of the store: who is signed in, which management permissions they hold
 * (answered as booleans, nothing refused) and whether a token id names a live token of an
 * organization and subject.
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import type { SubjectKind, TokenPolicy } from "../core/types.js";
import type { Context } from "./context.js";
import type { ActorInput, ManagementRights } from "./inputs.js";
import { actorSchema, id, parseInput } from "./schemas.js";

export type { ManagementRights } from "./inputs.js";

/**
 * Who is signed in to a management page, and what they may manage there.
 * @example `const { user, organization, can }: ManagementProfile = await kw.managementProfile({ orgId, actorId })`
 */
export interface ManagementProfile {
  user: { id: string; name: string };
  /** The organization, with its token lifetime policy (R19; `null`: none), which a creation form shows. */
  organization: { id: string; name: string; ssoOnly: boolean; tokenPolicy: TokenPolicy | null };
  can: ManagementRights;
  /** The groups and sites the user belongs to in the organization (R13): what a restricted token's picker offers (R17). Empty for a non-member. */
  holds: { groups: { id: string; name: string }[]; sites: { id: string; name: string }[] };
}

/** The permissions an actor holds in an organization: none unless an active member with a permission set of that organization. */
async function heldPermissions(ctx: Context, orgId: string, actorId: string): Promise<readonly string[]> {
  const m = await ctx.call(() => ctx.store.getMembership(orgId, actorId));
  if (m === null || m.status !== "active" || m.permissionSetId === null) return [];
  const set = await ctx.call(() => ctx.store.getPermissionSet(m.permissionSetId!));
  return set === null || set.orgId !== orgId ? [] : set.permissions;
}

/**
 * The management permissions an actor holds in an organization, refusing nothing:
 * what a page may offer them.
 *
 * @example
 * ```ts
 * const { manageTokens } = await managementRights(ctx, { orgId: "acme", actorId: "u_ada" });
 * ```
 */
export async function managementRights(ctx: Context, input: ActorInput): Promise<ManagementRights> {
  const { orgId, actorId } = parseInput(actorSchema, input);
  const held = await heldPermissions(ctx, orgId, actorId);
  return { manageTokens: held.includes(ctx.permissions.manageTokens), manageServiceUsers: held.includes(ctx.permissions.manageServiceUsers) };
}

/**
 * The signed-in user, their organization and their management rights, for a management page.
 * `not_found` when the organization or the user does not exist.
 *
 * @example
 * ```ts
 * const { user, organization, can } = await managementProfile(ctx, { orgId: "acme", actorId: "u_ada" });
 * ```
 */
export async function managementProfile(ctx: Context, input: ActorInput): Promise<ManagementProfile> {
  const { orgId, actorId } = parseInput(actorSchema, input);
  const [org, user, can, membership] = await Promise.all([
    ctx.call(() => ctx.store.getOrganization(orgId)),
    ctx.call(() => ctx.store.getUser(actorId)),
    managementRights(ctx, { orgId, actorId }),
    ctx.call(() => ctx.store.getMembership(orgId, actorId)),
  ]);
  if (org === null || user === null) throw new KeywardError("not_found", "No such organization or user.");
  const active = membership !== null && membership.status === "active";
  const named = async (ids: readonly string[], get: (id: string) => Promise<{ id: string; orgId: string; name: string } | null>) =>
    (await Promise.all(ids.map((x) => ctx.call(() => get(x))))).flatMap((g) => (g === null || g.orgId !== orgId ? [] : [{ id: g.id, name: g.name }]));
  const [groups, sites] = active
    ? await Promise.all([named(membership.groupIds, (x) => ctx.store.getGroup(x)), named(membership.siteIds, (x) => ctx.store.getSite(x))])
    : [[], []];
  return {
    user: { id: user.id, name: user.name },
    organization: { id: org.id, name: org.name, ssoOnly: org.ssoOnly, tokenPolicy: org.tokenPolicy ?? null },
    can,
    holds: { groups, sites },
  };
}

const belongsSchema = z.object({ orgId: id, tokenId: id, kind: z.enum(["user", "service_user"]), subjectId: id.optional() }).strict();

/**
 * The input of {@link tokenBelongsTo}.
 * @example `const input: TokenBelongsToInput = { orgId: "acme", tokenId, kind: "service_user", subjectId: "svc_bi" }`
 */
export interface TokenBelongsToInput {
  orgId: string;
  tokenId: string;
  kind: SubjectKind;
  /** The user or service user the token must belong to; any when omitted. */
  subjectId?: string;
}

/**
 * Whether `tokenId` names a token of `orgId` of this kind (and subject) that is not deleted:
 * what a management route checks before acting on a token its path names.
 *
 * @example
 * ```ts
 * if (!(await tokenBelongsTo(ctx, { orgId, tokenId, kind: "service_user", subjectId: botId }))) throw new KeywardError("not_found");
 * ```
 */
export async function tokenBelongsTo(ctx: Context, input: TokenBelongsToInput): Promise<boolean> {
  const { orgId, tokenId, kind, subjectId } = parseInput(belongsSchema, input);
  const token = await ctx.call(() => ctx.store.getToken(tokenId));
  return token !== null && token.orgId === orgId && token.kind === kind && (subjectId === undefined || token.subjectId === subjectId) && token.deletedAt === null;
}
