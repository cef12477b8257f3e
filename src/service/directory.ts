/**
 * The directory (the write side): organizations, users and memberships, permission sets, groups,
 * sites, service users, shares and access rules. The host calls these from its own trusted code
 * (its admin screens, its sync jobs); service-user management takes an acting user and checks
 * the permission (R11).
 * @module
 */
import { KeywardError } from "../core/errors.js";
import {
  deactivateMembership,
  joinMembership,
  leaveMembership,
  reactivateMembership,
  updateMembershipFields,
  type SubjectState,
} from "../core/lifecycle.js";
import type {
  AccessRule,
  Grantee,
  Group,
  Membership,
  Organization,
  PermissionSet,
  ServiceUser,
  Share,
  Site,
  TokenPolicy,
  SubjectRef,
  EndingPreview,
  User,
} from "../core/types.js";
import type { MemberEntry } from "../storage/types.js";
import type { Context } from "./context.js";
import type {
  ActorInput,
  AddRuleInput,
  CreateGroupInput,
  CreateOrganizationInput,
  CreatePermissionSetInput,
  CreateServiceUserInput,
  CreateSiteInput,
  IdInput,
  ItemKey,
  ListMembersInput,
  MemberInput,
  MemberRef,
  OrgObjectRef,
  PlacementInput,
  SeatCountInput,
  ServiceUserRef,
  ServiceUserPreviewInput,
  ShareInput,
  UpdateOrganizationInput,
  UpdatePermissionSetInput,
  UpdateServiceUserInput,
  UpsertUserInput,
  SetTokenPolicyInput,
  GetTokenPolicyInput,
  TokenPolicyResult,
} from "./inputs.js";
import {
  actorSchema,
  addRuleSchema,
  createGroupSchema,
  createOrganizationSchema,
  createPermissionSetSchema,
  createServiceUserSchema,
  createSiteSchema,
  idSchema,
  itemKey,
  LIMITS,
  listMembersSchema,
  memberRefSchema,
  memberSchema,
  memberStatuses,
  orgObjectRefSchema,
  parseInput,
  placementSchema,
  seatCountSchema,
  serviceUserRefSchema,
  serviceUserPreviewSchema,
  shareSchema,
  updateOrganizationSchema,
  updatePermissionSetSchema,
  updateServiceUserSchema,
  upsertUserSchema,
} from "./schemas.js";
import { DEFAULT_PAGE_SIZE, memberCursor, pageOptions, readMemberCursor, searchOf, statusesOf, statusOption, type Page } from "./paging.js";
import { emitSubjectEnded, endingTokens, previewedToken, requirePermission, requireWithin } from "./tokens.js";
import { getTokenPolicy, setTokenPolicy } from "./policy.js";

/** The `directory` part of a keyward instance. */
export function directory(ctx: Context) {
  const { store } = ctx;
  const call = ctx.call;

  async function mustOrg(orgId: string, field = "orgId"): Promise<Organization> {
    const org = await call(() => store.getOrganization(orgId));
    if (org === null) throw new KeywardError("not_found", "No such organization.", { field });
    return org;
  }
  async function checkPermissionSet(orgId: string, setId: string | null | undefined, field: string): Promise<void> {
    if (setId === null || setId === undefined) return;
    const set = await call(() => store.getPermissionSet(setId));
    if (set === null || set.orgId !== orgId) throw new KeywardError("not_found", "No such permission set in this organization.", { field });
  }
  async function checkGroups(orgId: string, ids: readonly string[] | undefined, field: string): Promise<void> {
    for (const g of ids ?? []) {
      const group = await call(() => store.getGroup(g));
      if (group === null || group.orgId !== orgId) throw new KeywardError("not_found", `No such group in this organization: ${g}.`, { field });
    }
  }
  async function checkSites(orgId: string, ids: readonly string[] | undefined, field: string): Promise<void> {
    for (const s of ids ?? []) {
      const site = await call(() => store.getSite(s));
      if (site === null || site.orgId !== orgId) throw new KeywardError("not_found", `No such site in this organization: ${s}.`, { field });
    }
  }
  /** A create* whose id is taken, in this organization or another, changes nothing: `already_exists`. */
  function mustBeNew(inserted: boolean, what: string): void {
    if (!inserted) throw new KeywardError("already_exists", `That ${what} id is taken.`, { field: "id" });
  }
  async function refuseServiceUser(subjectId: string): Promise<void> {
    const su = await call(() => store.getServiceUser(subjectId));
    if (su !== null) throw new KeywardError("service_user_not_allowed", undefined, { field: "subjectId" });
  }
  /** The validated placement of `addTo`/`removeFrom`: a user (not a service user, R9), exactly one existing group or site of the organization. */
  async function placement(input: PlacementInput) {
    const v = parseInput(placementSchema, input);
    await refuseServiceUser(v.subjectId);
    if ((v.groupId === undefined) === (v.siteId === undefined)) throw new KeywardError("invalid_input", "Give exactly one of groupId and siteId.", { field: "groupId" });
    if (v.groupId) await checkGroups(v.orgId, [v.groupId], "groupId");
    if (v.siteId) await checkSites(v.orgId, [v.siteId], "siteId");
    return v;
  }
  async function checkGrantee(g: Grantee, ownerOrg: string): Promise<void> {
    switch (g.kind) {
      case "user":
        if ((await call(() => store.getUser(g.userId))) === null) throw new KeywardError("not_found", "No such user.", { field: "grantee.userId" });
        return;
      case "service_user":
        if ((await call(() => store.getServiceUser(g.serviceUserId))) === null) throw new KeywardError("not_found", "No such service user.", { field: "grantee.serviceUserId" });
        return;
      case "group":
        return checkGroups(ownerOrg, [g.groupId], "grantee.groupId");
      case "site":
        return checkSites(ownerOrg, [g.siteId], "grantee.siteId");
      case "organization":
        await mustOrg(g.orgId, "grantee.orgId");
        return;
    }
  }
  /** Applies a membership change and emits the expiry of the tokens it kills (R7, R16) and the one notice listing them (R20). */
  async function changeMembership(
    orgId: string,
    userId: string,
    change: (m: Membership) => Membership,
    { ifLeft = "refuse", actorId = null }: { ifLeft?: "refuse" | "keep"; actorId?: string | null } = {},
  ): Promise<Membership> {
    let before: SubjectState | null = null;
    const after = await call(() =>
      store.updateMembership(orgId, userId, (current) => {
        // A user who left is no longer a member: only addMember brings them back (with a new epoch, R7).
        if (current === null || (current.status === "left" && ifLeft === "refuse")) {
          throw new KeywardError("not_found", "No such member: a user who left rejoins through addMember.", { field: "userId" });
        }
        if (current.status === "left") return current;
        before = { active: current.status === "active", epoch: current.epoch };
        return change(current);
      }),
    );
    const was = before as SubjectState | null;
    if (was !== null && was.active && after.status !== "active" && ctx.hasSink) {
      const entries = await call(() => store.listTokens({ orgId, kind: "user", subjectId: userId }));
      const subject = await userRef(userId);
      emitSubjectEnded(ctx, entries, was, ctx.now(), { orgId, subject, actorId, cause: after.status === "left" ? "left" : "deactivated" });
    }
    return after;
  }
  async function userRef(userId: string): Promise<SubjectRef> {
    const user = await call(() => store.getUser(userId));
    return { kind: "user", id: userId, name: user?.name ?? userId };
  }
  /**
   * R20: what deactivating (`"deactivate"`) or removing (`"remove"`) a member would end, read
   * only: the member's user tokens active now, as the action would select them. A member who
   * left is `not_found` for a deactivation (as `deactivateMember` answers) and ends nothing when
   * removed again.
   */
  async function previewMember(input: MemberRef, action: "deactivate" | "remove"): Promise<EndingPreview> {
    const v = parseInput(memberRefSchema, input);
    const m = await call(() => store.getMembership(v.orgId, v.userId));
    if (m === null || (m.status === "left" && action === "deactivate")) {
      throw new KeywardError("not_found", "No such member: a user who left rejoins through addMember.", { field: "userId" });
    }
    const [entries, subject] = await Promise.all([call(() => store.listTokens({ orgId: v.orgId, kind: "user", subjectId: v.userId })), userRef(v.userId)]);
    const ending = endingTokens(ctx, entries, { active: m.status === "active", epoch: m.epoch }, ctx.now());
    return { subject, tokens: ending.map((e) => previewedToken(e.token)) };
  }

  return {
    /**
     * Creates an organization. `ssoOnly` means it allows no non-SSO login: creating a user token
     * then asks no password (R4).
     * @example `const org = await kw.directory.createOrganization({ name: "Acme", ssoOnly: false })`
     */
    async createOrganization(input: CreateOrganizationInput): Promise<Organization> {
      const v = parseInput(createOrganizationSchema, input);
      const org: Organization = { id: v.id ?? ctx.newId("org"), name: v.name, ssoOnly: v.ssoOnly };
      if (v.id !== undefined && (await call(() => store.getOrganization(org.id))) !== null) throw new KeywardError("already_exists", "That organization exists already.", { field: "id" });
      await call(() => store.putOrganization(org));
      return org;
    },
    /** Updates an organization's name or SSO-only flag. @example `await kw.directory.updateOrganization({ id: org.id, ssoOnly: true })` */
    async updateOrganization(input: UpdateOrganizationInput): Promise<Organization> {
      const v = parseInput(updateOrganizationSchema, input);
      const org = await mustOrg(v.id, "id");
      const next: Organization = { ...org, ...(v.name !== undefined ? { name: v.name } : {}), ...(v.ssoOnly !== undefined ? { ssoOnly: v.ssoOnly } : {}) };
      await call(() => store.putOrganization(next));
      return next;
    },
    /**
     * R19: sets the organization's token lifetime policy (`null`: none). `existing: "keep"`
     * (default) gives the new maximum to tokens created from now on; `"apply"` recomputes it for
     * every live token, ending none sooner than `noticeMs` from now (default 14 days) unless it
     * was due sooner already, and lists the tokens whose effective expiry changed.
     * @example `const { affected } = await kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { service_user: 90 * 86_400_000 } }, existing: "apply" })`
     */
    setTokenPolicy: (input: SetTokenPolicyInput): Promise<TokenPolicyResult> => setTokenPolicy(ctx, input),
    /** R19: the organization's token policy, `null` when it has none. @example `const policy = await kw.directory.getTokenPolicy({ orgId: "acme" })` */
    getTokenPolicy: (input: GetTokenPolicyInput): Promise<TokenPolicy | null> => getTokenPolicy(ctx, input),
    /** Creates or renames a person (R1). @example `const ana = await kw.directory.upsertUser({ id: "u_ana", name: "Ana Silva" })` */
    async upsertUser(input: UpsertUserInput): Promise<User> {
      const v = parseInput(upsertUserSchema, input);
      const user: User = { id: v.id ?? ctx.newId("usr"), name: v.name };
      await call(() => store.putUser(user));
      return user;
    },
    /**
     * An organization by id, or `null` if there is none.
     * @example `const org = await kw.directory.getOrganization({ id: "acme" })`
     */
    async getOrganization(input: IdInput): Promise<Organization | null> {
      const v = parseInput(idSchema, input);
      return call(() => store.getOrganization(v.id));
    },
    /**
     * A person by id, or `null` if there is none (a service user is not a person: `null`).
     * @example `if ((await kw.directory.getUser({ id: session.userId })) === null) return signIn()`
     */
    async getUser(input: IdInput): Promise<User | null> {
      const v = parseInput(idSchema, input);
      return call(() => store.getUser(v.id));
    },
    /**
     * Adds a user to an organization, or re-adds one who left or was deactivated — with a new
     * epoch, so their old tokens stay dead (R7). For an active member, updates the given fields.
     * @example `await kw.directory.addMember({ orgId, userId, permissionSetId: inspectors.id, groupIds: [g.id] })`
     */
    async addMember(input: MemberInput): Promise<Membership> {
      const v = parseInput(memberSchema, input);
      await mustOrg(v.orgId);
      if ((await call(() => store.getUser(v.userId))) === null) throw new KeywardError("not_found", "No such user.", { field: "userId" });
      await refuseServiceUser(v.userId);
      await checkPermissionSet(v.orgId, v.permissionSetId, "permissionSetId");
      await checkGroups(v.orgId, v.groupIds, "groupIds");
      await checkSites(v.orgId, v.siteIds, "siteIds");
      const epoch = ctx.newId("ep");
      return call(() => store.updateMembership(v.orgId, v.userId, (current) => joinMembership(current, v.orgId, v.userId, v, epoch)));
    },
    /**
     * Changes a member's permission set, groups, sites or seat. Takes effect on the member's next
     * request (R12, R13).
     * @example `await kw.directory.updateMember({ orgId, userId, permissionSetId: viewers.id })`
     */
    async updateMember(input: MemberInput): Promise<Membership> {
      const v = parseInput(memberSchema, input);
      await checkPermissionSet(v.orgId, v.permissionSetId, "permissionSetId");
      await checkGroups(v.orgId, v.groupIds, "groupIds");
      await checkSites(v.orgId, v.siteIds, "siteIds");
      return changeMembership(v.orgId, v.userId, (m) => updateMembershipFields(m, v));
    },
    /** Deactivates a member: their user tokens stop working at once and for good (R7). @example `await kw.directory.deactivateMember({ orgId, userId })` */
    async deactivateMember(input: MemberRef): Promise<Membership> {
      const v = parseInput(memberRefSchema, input);
      return changeMembership(v.orgId, v.userId, deactivateMembership, { actorId: v.actorId ?? null });
    },
    /**
     * R20: what `deactivateMember` would stop, without changing anything: the member and every
     * user token of theirs that works now, with its last use (and clients, when tracked).
     * @example `const { tokens } = await kw.directory.previewDeactivation({ orgId, userId }) // "2 integrations stop: CI, used 2 hours ago, …"`
     */
    async previewDeactivation(input: MemberRef): Promise<EndingPreview> {
      return previewMember(input, "deactivate");
    },
    /** Reactivates a member. Their old tokens stay dead (R7); they create new ones. @example `await kw.directory.reactivateMember({ orgId, userId })` */
    async reactivateMember(input: MemberRef): Promise<Membership> {
      const v = parseInput(memberRefSchema, input);
      const epoch = ctx.newId("ep");
      return changeMembership(v.orgId, v.userId, (m) => reactivateMembership(m, epoch));
    },
    /** Removes a member from the organization: their user tokens die for good (R7). @example `await kw.directory.removeMember({ orgId, userId })` */
    async removeMember(input: MemberRef): Promise<Membership> {
      const v = parseInput(memberRefSchema, input);
      return changeMembership(v.orgId, v.userId, leaveMembership, { ifLeft: "keep", actorId: v.actorId ?? null });
    },
    /**
     * R20: what `removeMember` would stop, without changing anything (as {@link previewDeactivation}).
     * @example `const { subject, tokens } = await kw.directory.previewRemoval({ orgId, userId })`
     */
    async previewRemoval(input: MemberRef): Promise<EndingPreview> {
      return previewMember(input, "remove");
    },
    /**
     * The organization's user list, one page at a time: its members with their names, by name
     * then user id. Service users are never in it (R9). Options: `limit` (default 50, at most
     * 500), `cursor` (the previous page's `nextCursor`), `status` (`"active"`, `"deactivated"`,
     * `"left"`, several, or `"all"`; default active and deactivated), `search` (part of the name
     * or user id, any case).
     * @example `const { items, nextCursor, total } = await kw.directory.listMembers({ orgId, search: "ann" })`
     */
    async listMembers(input: ListMembersInput): Promise<Page<MemberEntry>> {
      const v = parseInput(listMembersSchema, input);
      const limit = v.limit ?? DEFAULT_PAGE_SIZE;
      const after = v.cursor === undefined || v.cursor === null ? null : readMemberCursor(v.cursor);
      const statuses = statusesOf(v.status, memberStatuses, ["active", "deactivated"]);
      const page = await call(() => store.pageMembers({ orgId: v.orgId, statuses, search: searchOf(v.search), after, limit: limit + 1 }));
      const items = page.entries.slice(0, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: page.entries.length > limit && last !== undefined ? memberCursor(last.user.name, last.user.id) : null, total: page.total };
    },
    /**
     * Billable seats: active members holding a seat, each counted once however many tokens they
     * hold (R10); service users never count (R9).
     * @example `const seats = await kw.directory.seatCount({ orgId })`
     */
    async seatCount(input: SeatCountInput): Promise<number> {
      const { orgId } = parseInput(seatCountSchema, input);
      const all = await call(() => store.listMembers(orgId));
      return all.filter((e) => e.membership.status === "active" && e.membership.seat).length;
    },
    /** Creates a permission set (R12). @example `await kw.directory.createPermissionSet({ orgId, name: "Inspector", permissions: ["inspections:view"] })` */
    async createPermissionSet(input: CreatePermissionSetInput): Promise<PermissionSet> {
      const v = parseInput(createPermissionSetSchema, input);
      await mustOrg(v.orgId);
      const set: PermissionSet = { id: v.id ?? ctx.newId("ps"), orgId: v.orgId, name: v.name, permissions: [...new Set(v.permissions)] };
      mustBeNew(await call(() => store.insertPermissionSet(set)), "permission set");
      return set;
    },
    /** Changes a permission set: every subject holding it sees the change on its next request (R12). @example `await kw.directory.updatePermissionSet({ orgId, id: set.id, permissions: [] })` */
    async updatePermissionSet(input: UpdatePermissionSetInput): Promise<PermissionSet> {
      const v = parseInput(updatePermissionSetSchema, input);
      const set = await call(() => store.getPermissionSet(v.id));
      if (set === null || set.orgId !== v.orgId) throw new KeywardError("not_found", "No such permission set in this organization.", { field: "id" });
      const next: PermissionSet = { ...set, ...(v.name !== undefined ? { name: v.name } : {}), ...(v.permissions !== undefined ? { permissions: [...new Set(v.permissions)] } : {}) };
      await call(() => store.putPermissionSet(next));
      return next;
    },
    /** Creates a group (R13). @example `const g = await kw.directory.createGroup({ orgId, name: "Auditors" })` */
    async createGroup(input: CreateGroupInput): Promise<Group> {
      const v = parseInput(createGroupSchema, input);
      await mustOrg(v.orgId);
      const group: Group = { id: v.id ?? ctx.newId("grp"), orgId: v.orgId, name: v.name };
      mustBeNew(await call(() => store.putGroup(group)), "group");
      return group;
    },
    /**
     * Creates a site, optionally below another (region › area › site). Membership of a site
     * covers every site below it (R13).
     * @example `const north = await kw.directory.createSite({ orgId, name: "North", parentId: region.id })`
     */
    async createSite(input: CreateSiteInput): Promise<Site> {
      const v = parseInput(createSiteSchema, input);
      await mustOrg(v.orgId);
      let path: string[] = [];
      if (v.parentId) {
        const parent = await call(() => store.getSite(v.parentId!));
        if (parent === null || parent.orgId !== v.orgId) throw new KeywardError("not_found", "No such parent site in this organization.", { field: "parentId" });
        path = parent.path;
        if (path.length >= LIMITS.siteDepth) throw new KeywardError("invalid_input", `Sites nest at most ${LIMITS.siteDepth} deep.`, { field: "parentId" });
      }
      const siteId = v.id ?? ctx.newId("site");
      const site: Site = { id: siteId, orgId: v.orgId, name: v.name, parentId: v.parentId ?? null, path: [...path, siteId] };
      mustBeNew(await call(() => store.putSite(site)), "site");
      return site;
    },
    /**
     * Adds a member to a group or a site (give `groupId` or `siteId`). A service user cannot
     * join either: `service_user_not_allowed` (R9).
     * @example `await kw.directory.addTo({ orgId, subjectId: userId, groupId })`
     */
    async addTo(input: PlacementInput): Promise<Membership> {
      const v = await placement(input);
      return changeMembership(v.orgId, v.subjectId, (m) => ({
        ...m,
        groupIds: v.groupId && !m.groupIds.includes(v.groupId) ? [...m.groupIds, v.groupId] : m.groupIds,
        siteIds: v.siteId && !m.siteIds.includes(v.siteId) ? [...m.siteIds, v.siteId] : m.siteIds,
      }));
    },
    /** Removes a member from a group or a site; takes effect on the next request. @example `await kw.directory.removeFrom({ orgId, subjectId: userId, siteId })` */
    async removeFrom(input: PlacementInput): Promise<Membership> {
      const v = await placement(input);
      return changeMembership(v.orgId, v.subjectId, (m) => ({
        ...m,
        groupIds: m.groupIds.filter((g) => g !== v.groupId),
        siteIds: m.siteIds.filter((s) => s !== v.siteId),
      }));
    },
    /**
     * Shares an item with a grantee at a level (R13). To share with another organization, name it
     * (or one of its users or service users) as the grantee (R14).
     * @example `await kw.directory.share({ item: { orgId, type: "template", id: "tpl_1" }, grantee: { kind: "group", groupId }, level: "edit" })`
     */
    async share(input: ShareInput): Promise<Share> {
      const v = parseInput(shareSchema, input);
      await mustOrg(v.item.orgId, "item.orgId");
      await checkGrantee(v.grantee, v.item.orgId);
      const share: Share = { id: v.id ?? ctx.newId("shr"), item: v.item, grantee: v.grantee, level: v.level, createdAt: ctx.now() };
      mustBeNew(await call(() => store.putShare(share)), "share");
      return share;
    },
    /**
     * Removes a share of an item of `orgId`; takes effect for the next request (R13). `false` if
     * there was none, or it is on another organization's item.
     * @example `await kw.directory.unshare({ orgId, id: share.id })`
     */
    async unshare(input: OrgObjectRef): Promise<boolean> {
      const v = parseInput(orgObjectRefSchema, input);
      return call(() => store.deleteShare(v.orgId, v.id));
    },
    /** The shares of one item. @example `await kw.directory.listShares({ orgId, type: "template", id: "tpl_1" })` */
    async listShares(item: ItemKey): Promise<Share[]> {
      const v = parseInput(itemKey, item, "item");
      return call(() => store.listShares(v));
    },
    /**
     * Adds an access rule: items of `itemType` in the organization whose attributes match every
     * condition are accessible to the grantee at the level (R13).
     * @example `await kw.directory.addRule({ orgId, itemType: "inspection", conditions: { siteId: [north.id] }, grantee: { kind: "site", siteId: north.id }, level: "view" })`
     */
    async addRule(input: AddRuleInput): Promise<AccessRule> {
      const v = parseInput(addRuleSchema, input);
      await mustOrg(v.orgId);
      await checkGrantee(v.grantee, v.orgId);
      const rule: AccessRule = { id: v.id ?? ctx.newId("rul"), orgId: v.orgId, itemType: v.itemType, conditions: v.conditions ?? {}, grantee: v.grantee, level: v.level, createdAt: ctx.now() };
      mustBeNew(await call(() => store.putRule(rule)), "access rule");
      return rule;
    },
    /**
     * Removes an access rule of `orgId`; takes effect for the next request. `false` if there was
     * none, or it is another organization's.
     * @example `await kw.directory.removeRule({ orgId, id: rule.id })`
     */
    async removeRule(input: OrgObjectRef): Promise<boolean> {
      const v = parseInput(orgObjectRefSchema, input);
      return call(() => store.deleteRule(v.orgId, v.id));
    },
  };
}

/** The `serviceUsers` part of a keyward instance: every call needs an actor with the service-user management permission (R11). */
export function serviceUsers(ctx: Context) {
  const { store, call } = ctx;
  return {
    /**
     * Creates a service user with a permission set of its own (R1, R8). Its tokens act with that
     * set and with the shares and rules that name it; no change to any user affects them.
     * @example `const bot = await kw.serviceUsers.create({ orgId, name: "BI export", permissionSetId: readers.id, actorId: admin.id })`
     */
    async create(input: CreateServiceUserInput): Promise<ServiceUser> {
      const v = parseInput(createServiceUserSchema, input);
      const held = await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      // The set must be of the organization and hold nothing the actor lacks.
      await requireWithin(ctx, v.orgId, v.permissionSetId ?? null, held, "permissionSetId");
      const suId = v.id ?? ctx.newId("svc");
      if (v.id !== undefined && ((await call(() => store.getUser(suId))) !== null)) throw new KeywardError("already_exists", "A user has that id.", { field: "id" });
      return call(() =>
        store.updateServiceUser(suId, (current) => {
          if (current !== null) throw new KeywardError("already_exists", "That service user exists already.", { field: "id" });
          return { id: suId, orgId: v.orgId, name: v.name, permissionSetId: v.permissionSetId ?? null, status: "active", createdBy: v.actorId, createdAt: ctx.now() };
        }),
      );
    },
    /** Renames a service user or changes its permission set (R12). @example `await kw.serviceUsers.update({ orgId, id: bot.id, permissionSetId: writers.id, actorId })` */
    async update(input: UpdateServiceUserInput): Promise<ServiceUser> {
      const v = parseInput(updateServiceUserSchema, input);
      const held = await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      // The set must be of the organization and hold nothing the actor lacks.
      await requireWithin(ctx, v.orgId, v.permissionSetId ?? null, held, "permissionSetId");
      return call(() =>
        store.updateServiceUser(v.id, (current) => {
          if (current === null || current.orgId !== v.orgId || current.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "id" });
          return { ...current, ...(v.name !== undefined ? { name: v.name } : {}), ...(v.permissionSetId !== undefined ? { permissionSetId: v.permissionSetId } : {}) };
        }),
      );
    },
    /** Deletes a service user: its tokens stop working at once (R11). @example `await kw.serviceUsers.remove({ orgId, id: bot.id, actorId })` */
    async remove(input: ServiceUserRef): Promise<void> {
      const v = parseInput(serviceUserRefSchema, input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      const removed = await call(() =>
        store.updateServiceUser(v.id, (current) => {
          if (current === null || current.orgId !== v.orgId || current.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "id" });
          return { ...current, status: "deleted" };
        }),
      );
      if (ctx.hasSink) {
        const entries = await call(() => store.listTokens({ orgId: v.orgId, kind: "service_user", subjectId: v.id }));
        const subject: SubjectRef = { kind: "service_user", id: removed.id, name: removed.name };
        emitSubjectEnded(ctx, entries, { active: true, epoch: null }, ctx.now(), { orgId: v.orgId, subject, actorId: v.actorId, cause: "deleted" });
      }
    },
    /**
     * R20: what `remove` would stop, without changing anything: the service user and every token
     * of its that works now, with its last use (and clients, when tracked). Needs the same right
     * as the removal.
     * @example `const { tokens } = await kw.serviceUsers.previewRemoval({ orgId, serviceUserId: bot.id, actorId })`
     */
    async previewRemoval(input: ServiceUserPreviewInput): Promise<EndingPreview> {
      const v = parseInput(serviceUserPreviewSchema, input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      const su = await call(() => store.getServiceUser(v.serviceUserId));
      if (su === null || su.orgId !== v.orgId || su.status !== "active") throw new KeywardError("not_found", "No such service user.", { field: "serviceUserId" });
      const entries = await call(() => store.listTokens({ orgId: v.orgId, kind: "service_user", subjectId: su.id }));
      const ending = endingTokens(ctx, entries, { active: true, epoch: null }, ctx.now());
      return { subject: { kind: "service_user", id: su.id, name: su.name }, tokens: ending.map((e) => previewedToken(e.token)) };
    },
    /** The organization's active service users. @example `const bots = await kw.serviceUsers.list({ orgId, actorId })` */
    async list(input: ActorInput): Promise<ServiceUser[]> {
      const v = parseInput(actorSchema, input);
      await requirePermission(ctx, v.orgId, v.actorId, ctx.permissions.manageServiceUsers);
      const all = await call(() => store.listServiceUsers(v.orgId));
      return all.filter((s) => s.status === "active");
    },
  };
}
