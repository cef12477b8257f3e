/**
 * The named input types of the instance's calls (`src/service/inputs.ts`) and the zod schemas that
 * check them at run time (`src/service/schemas.ts`) cannot drift: at the type level each schema's
 * input is its named type (and so is its output, except where a default fills a field in), and
 * at run time an example of each named type passes its schema unchanged.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type {
  ActorInput,
  AddRuleInput,
  CreateGroupInput,
  CreateOrganizationInput,
  CreatePermissionSetInput,
  CreateServiceTokenInput,
  CreateServiceUserInput,
  CreateSiteInput,
  CreateUserTokenInput,
  PreviewReachInput,
  IdInput,
  ItemKey,
  LeakLocation,
  ListMembersInput,
  ListMyTokensInput,
  ListOrganizationTokensInput,
  ListServiceTokensInput,
  MemberInput,
  MemberRef,
  OrgObjectRef,
  PlacementInput,
  SeatCountInput,
  ServiceUserRef,
  ServiceUserPreviewInput,
  ShareInput,
  SweepExpiredInput,
  TokenActionInput,
  UpdateOrganizationInput,
  UpdatePermissionSetInput,
  UpdateServiceUserInput,
  UpsertUserInput,
  SetTokenPolicyInput,
  GetTokenPolicyInput,
} from "../../src/index.js";
import * as s from "../../src/service/schemas.js";
import type { TokenRestriction } from "../../src/core/types.js";

describe("named input types equal their schemas (they cannot drift)", () => {
  it("each schema's input is its named type", () => {
    expectTypeOf<z.input<typeof s.createUserTokenSchema>>().toEqualTypeOf<CreateUserTokenInput>();
    expectTypeOf<z.input<typeof s.createServiceTokenSchema>>().toEqualTypeOf<CreateServiceTokenInput>();
    expectTypeOf<z.input<typeof s.previewReachSchema>>().toEqualTypeOf<PreviewReachInput>();
    expectTypeOf<z.input<typeof s.listMyTokensSchema>>().toEqualTypeOf<ListMyTokensInput>();
    expectTypeOf<z.input<typeof s.listOrganizationTokensSchema>>().toEqualTypeOf<ListOrganizationTokensInput>();
    expectTypeOf<z.input<typeof s.listServiceTokensSchema>>().toEqualTypeOf<ListServiceTokensInput>();
    expectTypeOf<z.input<typeof s.tokenActionSchema>>().toEqualTypeOf<TokenActionInput>();
    expectTypeOf<z.input<typeof s.sweepExpiredSchema>>().toEqualTypeOf<SweepExpiredInput>();
    expectTypeOf<z.input<typeof s.actorSchema>>().toEqualTypeOf<ActorInput>();
    expectTypeOf<z.input<typeof s.leakLocationSchema>>().toEqualTypeOf<LeakLocation>();
    expectTypeOf<z.input<typeof s.createOrganizationSchema>>().toEqualTypeOf<CreateOrganizationInput>();
    expectTypeOf<z.input<typeof s.updateOrganizationSchema>>().toEqualTypeOf<UpdateOrganizationInput>();
    expectTypeOf<z.input<typeof s.upsertUserSchema>>().toEqualTypeOf<UpsertUserInput>();
    expectTypeOf<z.input<typeof s.idSchema>>().toEqualTypeOf<IdInput>();
    expectTypeOf<z.input<typeof s.memberSchema>>().toEqualTypeOf<MemberInput>();
    expectTypeOf<z.input<typeof s.memberRefSchema>>().toEqualTypeOf<MemberRef>();
    expectTypeOf<z.input<typeof s.listMembersSchema>>().toEqualTypeOf<ListMembersInput>();
    expectTypeOf<z.input<typeof s.seatCountSchema>>().toEqualTypeOf<SeatCountInput>();
    expectTypeOf<z.input<typeof s.createPermissionSetSchema>>().toEqualTypeOf<CreatePermissionSetInput>();
    expectTypeOf<z.input<typeof s.updatePermissionSetSchema>>().toEqualTypeOf<UpdatePermissionSetInput>();
    expectTypeOf<z.input<typeof s.createGroupSchema>>().toEqualTypeOf<CreateGroupInput>();
    expectTypeOf<z.input<typeof s.createSiteSchema>>().toEqualTypeOf<CreateSiteInput>();
    expectTypeOf<z.input<typeof s.placementSchema>>().toEqualTypeOf<PlacementInput>();
    expectTypeOf<z.input<typeof s.shareSchema>>().toEqualTypeOf<ShareInput>();
    expectTypeOf<z.input<typeof s.itemKey>>().toEqualTypeOf<ItemKey>();
    expectTypeOf<z.input<typeof s.orgObjectRefSchema>>().toEqualTypeOf<OrgObjectRef>();
    expectTypeOf<z.input<typeof s.addRuleSchema>>().toEqualTypeOf<AddRuleInput>();
    expectTypeOf<z.input<typeof s.createServiceUserSchema>>().toEqualTypeOf<CreateServiceUserInput>();
    expectTypeOf<z.input<typeof s.updateServiceUserSchema>>().toEqualTypeOf<UpdateServiceUserInput>();
    expectTypeOf<z.input<typeof s.serviceUserRefSchema>>().toEqualTypeOf<ServiceUserRef>();
    expectTypeOf<z.input<typeof s.setTokenPolicySchema>>().toEqualTypeOf<SetTokenPolicyInput>();
    expectTypeOf<z.input<typeof s.serviceUserPreviewSchema>>().toEqualTypeOf<ServiceUserPreviewInput>();
  });

  it("each schema's output is its named type too, but for the fields a default fills in", () => {
    expectTypeOf<z.output<typeof s.createUserTokenSchema>>().toEqualTypeOf<CreateUserTokenInput>();
    expectTypeOf<z.output<typeof s.createServiceTokenSchema>>().toEqualTypeOf<CreateServiceTokenInput>();
    expectTypeOf<z.output<typeof s.listMyTokensSchema>>().toEqualTypeOf<ListMyTokensInput>();
    expectTypeOf<z.output<typeof s.listOrganizationTokensSchema>>().toEqualTypeOf<ListOrganizationTokensInput>();
    expectTypeOf<z.output<typeof s.listServiceTokensSchema>>().toEqualTypeOf<ListServiceTokensInput>();
    expectTypeOf<z.output<typeof s.tokenActionSchema>>().toEqualTypeOf<TokenActionInput>();
    expectTypeOf<z.output<typeof s.sweepExpiredSchema>>().toEqualTypeOf<SweepExpiredInput>();
    expectTypeOf<z.output<typeof s.actorSchema>>().toEqualTypeOf<ActorInput>();
    // `existing` defaults to "keep".
    expectTypeOf<Omit<z.output<typeof s.setTokenPolicySchema>, "existing">>().toEqualTypeOf<Omit<SetTokenPolicyInput, "existing">>();
    expectTypeOf<z.output<typeof s.getTokenPolicySchema>>().toEqualTypeOf<GetTokenPolicyInput>();
    expectTypeOf<z.output<typeof s.leakLocationSchema>>().toEqualTypeOf<LeakLocation>();
    // `ssoOnly` defaults to false.
    expectTypeOf<Omit<z.output<typeof s.createOrganizationSchema>, "ssoOnly">>().toEqualTypeOf<Omit<CreateOrganizationInput, "ssoOnly">>();
    expectTypeOf<z.output<typeof s.createOrganizationSchema>["ssoOnly"]>().toEqualTypeOf<boolean>();
    expectTypeOf<z.output<typeof s.updateOrganizationSchema>>().toEqualTypeOf<UpdateOrganizationInput>();
    expectTypeOf<z.output<typeof s.upsertUserSchema>>().toEqualTypeOf<UpsertUserInput>();
    expectTypeOf<z.output<typeof s.idSchema>>().toEqualTypeOf<IdInput>();
    expectTypeOf<z.output<typeof s.memberSchema>>().toEqualTypeOf<MemberInput>();
    expectTypeOf<z.output<typeof s.memberRefSchema>>().toEqualTypeOf<MemberRef>();
    expectTypeOf<z.output<typeof s.listMembersSchema>>().toEqualTypeOf<ListMembersInput>();
    expectTypeOf<z.output<typeof s.seatCountSchema>>().toEqualTypeOf<SeatCountInput>();
    expectTypeOf<z.output<typeof s.createPermissionSetSchema>>().toEqualTypeOf<CreatePermissionSetInput>();
    expectTypeOf<z.output<typeof s.updatePermissionSetSchema>>().toEqualTypeOf<UpdatePermissionSetInput>();
    expectTypeOf<z.output<typeof s.createGroupSchema>>().toEqualTypeOf<CreateGroupInput>();
    expectTypeOf<z.output<typeof s.createSiteSchema>>().toEqualTypeOf<CreateSiteInput>();
    expectTypeOf<z.output<typeof s.placementSchema>>().toEqualTypeOf<PlacementInput>();
    expectTypeOf<z.output<typeof s.itemKey>>().toEqualTypeOf<ItemKey>();
    expectTypeOf<z.output<typeof s.orgObjectRefSchema>>().toEqualTypeOf<OrgObjectRef>();
    // An organization grantee's `includeServiceUsers` defaults to false (the output is a `Grantee`).
    expectTypeOf<z.output<typeof s.shareSchema>["grantee"]>().toEqualTypeOf<import("../../src/index.js").Grantee>();
    expectTypeOf<Omit<z.output<typeof s.shareSchema>, "grantee">>().toEqualTypeOf<Omit<ShareInput, "grantee">>();
    // …and the conditions come out as plain arrays.
    expectTypeOf<Omit<z.output<typeof s.addRuleSchema>, "grantee" | "conditions">>().toEqualTypeOf<Omit<AddRuleInput, "grantee" | "conditions">>();
    expectTypeOf<z.output<typeof s.addRuleSchema>["conditions"]>().toEqualTypeOf<Record<string, string[]> | undefined>();
    expectTypeOf<z.output<typeof s.createServiceUserSchema>>().toEqualTypeOf<CreateServiceUserInput>();
    expectTypeOf<z.output<typeof s.updateServiceUserSchema>>().toEqualTypeOf<UpdateServiceUserInput>();
    expectTypeOf<z.output<typeof s.serviceUserRefSchema>>().toEqualTypeOf<ServiceUserRef>();
    expectTypeOf<z.output<typeof s.serviceUserPreviewSchema>>().toEqualTypeOf<ServiceUserPreviewInput>();
  });

  it("the type check can fail: a schema is not equal to another call's type", () => {
    expectTypeOf<z.input<typeof s.memberRefSchema>>().not.toEqualTypeOf<MemberInput>();
    expectTypeOf<z.input<typeof s.tokenActionSchema>>().not.toEqualTypeOf<ActorInput>();
  });

  /** R17: a restriction with every part given. */
  const FULL_RESTRICTION: Required<TokenRestriction> = {
    permissions: ["inspections:view"],
    maxLevel: "view",
    itemTypes: ["inspection"],
    groupIds: ["g_1"],
    siteIds: ["s_1"],
    items: [{ orgId: "acme", type: "inspection", id: "i_1" }],
  };

  /** A full example of each named type (every optional field given): the schema takes it as is. */
  const examples: [string, z.ZodType, object][] = [
    ["CreateUserTokenInput", s.createUserTokenSchema, { orgId: "acme", userId: "u_ana", name: "CI", password: "pw", expiresAt: Date.UTC(2030, 0, 1), restriction: FULL_RESTRICTION } satisfies Required<CreateUserTokenInput>],
    ["CreateServiceTokenInput", s.createServiceTokenSchema, { orgId: "acme", serviceUserId: "svc_1", name: "BI", actorId: "u_ada", expiresAt: Date.UTC(2030, 0, 1), restriction: { permissions: ["a"], maxLevel: "edit" } } satisfies Required<CreateServiceTokenInput>],
    ["PreviewReachInput", s.previewReachSchema, { orgId: "acme", actorId: "u_ada", subject: { kind: "user", id: "u_ada" }, restriction: FULL_RESTRICTION } satisfies Required<PreviewReachInput>],
    ["ListMyTokensInput", s.listMyTokensSchema, { orgId: "acme", userId: "u_ana", limit: 5, cursor: null, search: "ci", status: ["active", "expired"], sort: "expires", order: "desc" } satisfies Required<ListMyTokensInput>],
    ["ListOrganizationTokensInput", s.listOrganizationTokensSchema, { orgId: "acme", actorId: "u_ada", limit: 5, cursor: "c", search: "x", status: "all", sort: "last_used", order: "asc" } satisfies Required<ListOrganizationTokensInput>],
    ["ListServiceTokensInput", s.listServiceTokensSchema, { orgId: "acme", actorId: "u_ada", serviceUserId: "svc_1", limit: 5, cursor: null, search: "x", status: "deleted", sort: "created", order: "asc" } satisfies Required<ListServiceTokensInput>],
    ["TokenActionInput", s.tokenActionSchema, { orgId: "acme", tokenId: "tok_1", actorId: "u_ada" } satisfies Required<TokenActionInput>],
    ["SweepExpiredInput", s.sweepExpiredSchema, { orgId: "acme" } satisfies Required<SweepExpiredInput>],
    ["SetTokenPolicyInput", s.setTokenPolicySchema, { orgId: "acme", policy: { maxLifetimeMs: { user: 1000, service_user: null }, requireExpiry: true, userTokens: false }, existing: "apply", noticeMs: 0 } satisfies Required<SetTokenPolicyInput>],
    ["GetTokenPolicyInput", s.getTokenPolicySchema, { orgId: "acme" } satisfies Required<GetTokenPolicyInput>],
    ["ActorInput", s.actorSchema, { orgId: "acme", actorId: "u_ada" } satisfies Required<ActorInput>],
    ["LeakLocation", s.leakLocationSchema, { source: "content", url: "https://example.com" } satisfies Required<LeakLocation>],
    ["CreateOrganizationInput", s.createOrganizationSchema, { id: "acme", name: "Acme", ssoOnly: true } satisfies Required<CreateOrganizationInput>],
    ["UpdateOrganizationInput", s.updateOrganizationSchema, { id: "acme", name: "Acme", ssoOnly: false } satisfies Required<UpdateOrganizationInput>],
    ["UpsertUserInput", s.upsertUserSchema, { id: "u_ana", name: "Ana" } satisfies Required<UpsertUserInput>],
    ["IdInput", s.idSchema, { id: "u_ana" } satisfies Required<IdInput>],
    ["MemberInput", s.memberSchema, { orgId: "acme", userId: "u_ana", permissionSetId: null, groupIds: ["g"], siteIds: ["s"], seat: false } satisfies Required<MemberInput>],
    ["MemberRef", s.memberRefSchema, { orgId: "acme", userId: "u_ana", actorId: "u_ada" } satisfies Required<MemberRef>],
    ["ListMembersInput", s.listMembersSchema, { orgId: "acme", limit: 10, cursor: null, search: "an", status: ["left"] } satisfies Required<ListMembersInput>],
    ["SeatCountInput", s.seatCountSchema, { orgId: "acme" } satisfies Required<SeatCountInput>],
    ["CreatePermissionSetInput", s.createPermissionSetSchema, { id: "ps", orgId: "acme", name: "Set", permissions: ["a:b"] } satisfies Required<CreatePermissionSetInput>],
    ["UpdatePermissionSetInput", s.updatePermissionSetSchema, { orgId: "acme", id: "ps", name: "Set", permissions: [] } satisfies Required<UpdatePermissionSetInput>],
    ["CreateGroupInput", s.createGroupSchema, { id: "g", orgId: "acme", name: "G" } satisfies Required<CreateGroupInput>],
    ["CreateSiteInput", s.createSiteSchema, { id: "s", orgId: "acme", name: "S", parentId: null } satisfies Required<CreateSiteInput>],
    ["PlacementInput", s.placementSchema, { orgId: "acme", subjectId: "u_ana", groupId: "g", siteId: "s" } satisfies Required<PlacementInput>],
    ["ShareInput", s.shareSchema, { id: "shr", item: { orgId: "acme", type: "t", id: "i" }, grantee: { kind: "organization", orgId: "beta", includeServiceUsers: true }, level: "edit" } satisfies Required<ShareInput>],
    ["OrgObjectRef", s.orgObjectRefSchema, { orgId: "acme", id: "shr" } satisfies Required<OrgObjectRef>],
    ["AddRuleInput", s.addRuleSchema, { id: "r", orgId: "acme", itemType: "t", conditions: { siteId: ["s"] }, grantee: { kind: "site", siteId: "s" }, level: "view" } satisfies Required<AddRuleInput>],
    ["CreateServiceUserInput", s.createServiceUserSchema, { id: "svc", orgId: "acme", name: "Bot", permissionSetId: "ps", actorId: "u_ada" } satisfies Required<CreateServiceUserInput>],
    ["UpdateServiceUserInput", s.updateServiceUserSchema, { orgId: "acme", id: "svc", name: "Bot", permissionSetId: null, actorId: "u_ada" } satisfies Required<UpdateServiceUserInput>],
    ["ServiceUserRef", s.serviceUserRefSchema, { orgId: "acme", id: "svc", actorId: "u_ada" } satisfies Required<ServiceUserRef>],
    ["ServiceUserPreviewInput", s.serviceUserPreviewSchema, { orgId: "acme", serviceUserId: "svc", actorId: "u_ada" } satisfies Required<ServiceUserPreviewInput>],
  ];

  it.each(examples)("a full %s passes its schema unchanged", (_name, schema, example) => {
    expect(s.parseInput(schema, example)).toEqual(example);
  });

  it.each(examples)("%s: a field the type does not name is refused (invalid_input)", (_name, schema, example) => {
    expect(() => s.parseInput(schema, { ...example, unexpected: 1 })).toThrow(expect.objectContaining({ code: "invalid_input" }));
  });
});
