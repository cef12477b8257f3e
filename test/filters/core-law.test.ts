/**
 * The law at the level of the pure core, with no store: given the shares and rules a
 * `loadAccess` returns, `decideAccess(...).filter.matches(item)` equals `decide(...)` on the
 * decision input `loadDecision` would return for that item (its shares, its organization's rules
 * of its type). Many more runs than the store-level law, on arbitrary (even inconsistent) data.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AccessRule, ActionDefinition, Grantee, ItemRef, LoadedSubject, Share, TokenRecord, TokenRestriction } from "../../src/index.js";
import { decide, decideAccess, type AccessInput } from "../../src/core.js";
import { compileAccess } from "../../src/core/access.js";
import { compileDecision, type LoadedDecision } from "../../src/core/compile.js";

const T0 = Date.UTC(2026, 0, 1);
const WINDOW = 30 * 86_400_000;
const ORGS = ["A", "B"];
const SITES = ["s0", "s1", "s2", "s3"];
const PATHS: Record<string, string[]> = { s0: ["s0"], s1: ["s0", "s1"], s2: ["s0", "s1", "s2"], s3: ["s3"] };
const org = fc.constantFrom(...ORGS);
const level = fc.constantFrom("view", "edit", "delete" as const);
const grantee: fc.Arbitrary<Grantee> = fc.oneof(
  fc.record({ kind: fc.constant("user" as const), userId: fc.constantFrom("u0", "u1") }),
  fc.record({ kind: fc.constant("service_user" as const), serviceUserId: fc.constantFrom("svc0", "svc1") }),
  fc.record({ kind: fc.constant("group" as const), groupId: fc.constantFrom("g0", "g1") }),
  fc.record({ kind: fc.constant("site" as const), siteId: fc.constantFrom(...SITES) }),
  fc.record({ kind: fc.constant("organization" as const), orgId: org, includeServiceUsers: fc.boolean() }),
);
const itemKey = fc.record({ orgId: org, type: fc.constantFrom("inspection", "template"), id: fc.constantFrom("i0", "i1", "i2") });
const share: fc.Arbitrary<Share> = fc.record({ id: fc.uuid(), item: itemKey, grantee, level, createdAt: fc.constant(T0) });
const rule: fc.Arbitrary<AccessRule> = fc.record({
  id: fc.uuid(),
  orgId: org,
  itemType: fc.constantFrom("inspection", "template"),
  conditions: fc.record({ siteId: fc.subarray(SITES, { minLength: 1 }), templateId: fc.subarray(["t0", "t1"], { minLength: 1 }) }, { requiredKeys: [] }),
  grantee,
  level,
  createdAt: fc.constant(T0),
});
const item: fc.Arbitrary<ItemRef> = fc.record({
  orgId: org,
  type: fc.constant("inspection"),
  id: fc.constantFrom("i0", "i1", "i2"),
  attributes: fc.record({ siteId: fc.constantFrom(...SITES), templateId: fc.constantFrom("t0", "t1") }, { requiredKeys: [] }),
});
const subject = fc.oneof(
  fc.record({
    kind: fc.constant("user" as const),
    id: fc.constantFrom("u0", "u1"),
    status: fc.constantFrom("active", "active", "deactivated" as const),
    groups: fc.subarray(["g0", "g1"]),
    sites: fc.subarray(SITES),
    permissions: fc.subarray(["inspections:view", "inspections:edit"]),
  }),
  fc.record({ kind: fc.constant("service_user" as const), id: fc.constantFrom("svc0", "svc1"), active: fc.boolean(), permissions: fc.subarray(["inspections:view", "inspections:edit"]) }),
);

type Subject = typeof subject extends fc.Arbitrary<infer S> ? S : never;

/** R17: a restriction of any shape (even naming what the subject does not hold: the core intersects). */
const restriction: fc.Arbitrary<TokenRestriction> = fc.record(
  {
    permissions: fc.subarray(["inspections:view", "inspections:edit", "reports:export"]),
    maxLevel: fc.constantFrom("view", "edit" as const),
    itemTypes: fc.subarray(["inspection", "template"]),
    groupIds: fc.subarray(["g0", "g1"]),
    siteIds: fc.subarray(SITES),
    items: fc.array(itemKey, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

function inputOf(s: Subject, tokenOrg: string, revoked: boolean, r: TokenRestriction | null = null): Pick<LoadedDecision, "token" | "subject"> {
  const token: TokenRecord = {
    id: "tok", kind: s.kind, orgId: tokenOrg, subjectId: s.id, name: "t", hash: "h", hint: "x", epoch: s.kind === "user" ? "e1" : null,
    createdAt: T0, createdBy: null, lastUsedAt: null, revokedAt: revoked ? T0 : null, deletedAt: null, expiredAt: null, restriction: r,
  };
  const loaded: LoadedSubject =
    s.kind === "user"
      ? { kind: "user", user: { id: s.id, name: s.id }, membership: { orgId: tokenOrg, userId: s.id, permissionSetId: "ps", groupIds: s.groups, siteIds: s.sites, status: s.status, seat: true, epoch: "e1" }, permissions: s.permissions }
      : { kind: "service_user", serviceUser: { id: s.id, orgId: tokenOrg, name: s.id, permissionSetId: "ps", status: s.active ? "active" : "deleted", createdBy: null, createdAt: T0 }, permissions: s.permissions };
  return { token, subject: loaded };
}

const ACTIONS: Record<string, ActionDefinition> = {
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
  "inspections.delete": { permission: "inspections:edit", access: "delete", item: "inspection" },
};

describe("the core law (no store)", () => {
  it("R13 R14 R15 decideAccess(...).filter.matches(item) === decide(...).allowed, and a refusal is decide()'s reason, for arbitrary shares, rules and subjects", () => {
    fc.assert(
      fc.property(
        subject, org, fc.boolean(), fc.array(share, { maxLength: 12 }), fc.array(rule, { maxLength: 6 }), fc.array(item, { minLength: 1, maxLength: 8 }), fc.constantFrom(...Object.keys(ACTIONS)),
        (s, tokenOrg, revoked, shares, rules, items, action) => {
          const base = inputOf(s, tokenOrg, revoked);
          const input: AccessInput = compileAccess({ ...base, shares, rules, sitePaths: PATHS });
          const access = decideAccess(input, action, ACTIONS[action], "inspection", T0 + 1, { inactivityMs: WINDOW });
          for (const it of items) {
            const forItem: LoadedDecision = {
              ...base,
              shares: shares.filter((sh) => sh.item.orgId === it.orgId && sh.item.type === it.type && sh.item.id === it.id),
              rules: rules.filter((r) => r.orgId === it.orgId && r.itemType === it.type),
              sitePaths: PATHS,
            };
            const d = decide(compileDecision(forItem), action, ACTIONS[action], it, T0 + 1, { inactivityMs: WINDOW });
            if (access.allowed) expect(access.filter.matches(it)).toBe(d.allowed);
            else expect(d).toEqual(access);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("R17 with a restriction: the filter ⇔ decide() still; every restricted decision ⊆ the unrestricted twin's; `restricted` exactly when the twin would pass that stage", () => {
    fc.assert(
      fc.property(
        subject, org, fc.boolean(), restriction, fc.array(share, { maxLength: 12 }), fc.array(rule, { maxLength: 6 }), fc.array(item, { minLength: 1, maxLength: 8 }), fc.constantFrom(...Object.keys(ACTIONS)),
        (s, tokenOrg, revoked, r, shares, rules, items, action) => {
          // Listed items drawn among the items checked, half of the time, so that "only these items" is exercised.
          const listed: TokenRestriction = r.items === undefined ? r : { ...r, items: [...r.items, ...items.slice(0, 2).map(({ orgId, type, id }) => ({ orgId, type, id }))] };
          const restricted = inputOf(s, tokenOrg, revoked, listed);
          const twin = inputOf(s, tokenOrg, revoked);
          const access = decideAccess(compileAccess({ ...restricted, shares, rules, sitePaths: PATHS }), action, ACTIONS[action], "inspection", T0 + 1, { inactivityMs: WINDOW });
          for (const it of items) {
            const of = (base: Pick<LoadedDecision, "token" | "subject">): LoadedDecision => ({
              ...base,
              shares: shares.filter((sh) => sh.item.orgId === it.orgId && sh.item.type === it.type && sh.item.id === it.id),
              rules: rules.filter((x) => x.orgId === it.orgId && x.itemType === it.type),
              sitePaths: PATHS,
            });
            const d = decide(compileDecision(of(restricted)), action, ACTIONS[action], it, T0 + 1, { inactivityMs: WINDOW });
            const t = decide(compileDecision(of(twin)), action, ACTIONS[action], it, T0 + 1, { inactivityMs: WINDOW });
            // (2) the list filter ⇔ authorize() with restrictions.
            if (access.allowed) expect(access.filter.matches(it)).toBe(d.allowed);
            else expect(d).toEqual(access);
            // (1) restricted ⊆ unrestricted.
            if (d.allowed) expect(t.allowed).toBe(true);
            // The flag: only a denial the twin did not have at that stage.
            const flagged = !d.allowed && (d.reason === "permission_denied" || d.reason === "access_denied") && d.restricted === true;
            if (!d.allowed && d.reason === "permission_denied") expect(flagged).toBe(t.allowed || t.reason === "access_denied");
            else if (!d.allowed && d.reason === "access_denied") expect(flagged).toBe(t.allowed);
            else if (!d.allowed) expect(t).toEqual(d);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
