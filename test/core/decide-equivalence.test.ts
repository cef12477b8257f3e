/**
 * The compiled decision (grants by grantee key, a compiled subject) decides exactly as the decision
 * over records did before it (test/support/decide-v1.ts, the oracle while both exist), on random
 * directories: every reason, subject, grant and visibility. And the grantee rule's two forms in
 * src/core/grantees.ts agree: `granteeIncludes` ⟺ a grant key is a subject key (R13, R14).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileDecision, compileSubject, type LoadedDecision } from "../../src/core/compile.js";
import { decide } from "../../src/core/decide.js";
import { granteeIncludes, grantKeys, subjectKeys } from "../../src/core/grantees.js";
import type { AccessLevel, ActionDefinition, Grantee, ItemRef, LoadedSubject, TokenRecord } from "../../src/core/types.js";
import { decide as decideV1 } from "../support/decide-v1.js";

const T0 = 1_700_000_000_000;
const WINDOW = 30 * 86_400_000;
const SITE_PATHS: Record<string, string[]> = { r: ["r"], a: ["r", "a"], s1: ["r", "a", "s1"], s2: ["r", "a", "s2"], b: ["r", "b"], x: ["x"] };
const SITES = [...Object.keys(SITE_PATHS), "unknown"];

const grantee: fc.Arbitrary<Grantee> = fc.oneof(
  fc.record({ kind: fc.constant("user" as const), userId: fc.constantFrom("u1", "u2", "su1") }),
  fc.record({ kind: fc.constant("service_user" as const), serviceUserId: fc.constantFrom("su1", "su2", "u1") }),
  fc.record({ kind: fc.constant("group" as const), groupId: fc.constantFrom("g1", "g2", "g3") }),
  fc.record({ kind: fc.constant("site" as const), siteId: fc.constantFrom(...SITES) }),
  fc.record({ kind: fc.constant("organization" as const), orgId: fc.constantFrom("A", "B"), includeServiceUsers: fc.boolean() }),
);
// Mostly real levels, sometimes a corrupt one (grants nothing).
const level = fc.oneof({ weight: 9, arbitrary: fc.constantFrom<AccessLevel>("view", "edit", "delete") }, { weight: 1, arbitrary: fc.constantFrom("admin", "", "VIEW") as unknown as fc.Arbitrary<AccessLevel> });
const itemKey = fc.record({ orgId: fc.constantFrom("A", "B"), type: fc.constantFrom("inspection", "template"), id: fc.constantFrom("i1", "i2") });
const share = fc.record({ id: fc.constantFrom("sh1", "sh2", "sh3", "sh4", "sh5", "sh6"), item: itemKey, grantee, level, createdAt: fc.constant(T0) });
const rule = fc.record({
  id: fc.constantFrom("r1", "r2", "r3", "r4"),
  orgId: fc.constantFrom("A", "B"),
  itemType: fc.constantFrom("inspection", "template"),
  conditions: fc.dictionary(fc.constantFrom("siteId", "status"), fc.subarray(["x", "y", "z"], { minLength: 1 }), { maxKeys: 2 }),
  grantee,
  level,
  createdAt: fc.constant(T0),
});
const item: fc.Arbitrary<ItemRef> = fc.record({
  orgId: fc.constantFrom("A", "B"),
  type: fc.constantFrom("inspection", "template"),
  id: fc.constantFrom("i1", "i2"),
  attributes: fc.record({ siteId: fc.constantFrom("x", "y", "z"), status: fc.constantFrom("x", "y") }, { requiredKeys: [] }),
});

const subject = fc.oneof(
  fc.record({
    kind: fc.constant("user" as const),
    membership: fc.option(
      fc.record({
        groupIds: fc.subarray(["g1", "g2", "g3"]),
        siteIds: fc.subarray(SITES),
        status: fc.constantFrom("active" as const, "active" as const, "deactivated" as const, "left" as const),
        epoch: fc.constantFrom("e1", "e1", "e0"),
      }),
      { freq: 6 },
    ),
    userId: fc.constantFrom("u1", "u1", "u2"),
  }),
  fc.record({ kind: fc.constant("service_user" as const), present: fc.boolean(), status: fc.constantFrom("active" as const, "active" as const, "deleted" as const) }),
);

/** Random directories whose items have `shares` shares (at most 10 by default; more to exercise the lookup by subject key). */
type RandomShare = typeof share extends fc.Arbitrary<infer S> ? S : never;
const directoryWith = (shares: fc.Arbitrary<RandomShare[]>) => fc
  .record({
    subject,
    tokenKind: fc.constantFrom("same", "same", "same", "other"),
    tokenState: fc.constantFrom("live", "live", "live", "live", "revoked", "deleted", "expired", "idle"),
    permissions: fc.subarray(["inspections:view", "inspections:edit", "inspections:delete", "templates:view", "reports:export"]),
    shares,
    rules: fc.array(rule, { maxLength: 5 }),
  })
  .map(({ subject: s, tokenKind, tokenState, permissions, shares, rules }): LoadedDecision => {
    const kind = tokenKind === "same" ? s.kind : s.kind === "user" ? "service_user" : "user";
    const token: TokenRecord = {
      id: "tok",
      kind,
      orgId: "A",
      subjectId: s.kind === "user" ? "u1" : "su1",
      name: "t",
      hash: "h",
      hint: "x",
      epoch: kind === "user" ? "e1" : null,
      createdAt: T0,
      createdBy: null,
      lastUsedAt: tokenState === "idle" ? T0 - 2 * WINDOW : null,
      revokedAt: tokenState === "revoked" ? T0 : null,
      deletedAt: tokenState === "deleted" ? T0 : null,
      expiredAt: tokenState === "expired" ? T0 : null,
    };
    const loaded: LoadedSubject =
      s.kind === "user"
        ? {
            kind: "user",
            user: { id: s.userId, name: `Name ${s.userId}` },
            membership: s.membership === null ? null : { orgId: "A", userId: "u1", permissionSetId: "p", seat: true, ...s.membership },
            permissions,
          }
        : {
            kind: "service_user",
            serviceUser: s.present ? { id: "su1", orgId: "A", name: "Bot", permissionSetId: "p", status: s.status, createdBy: null, createdAt: T0 } : null,
            permissions,
          };
    return { token, subject: loaded, shares, rules, sitePaths: SITE_PATHS };
  });
const directory = directoryWith(fc.array(share, { maxLength: 10 }));

const ACTIONS: Record<string, ActionDefinition | undefined> = {
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
  "inspections.delete": { permission: "inspections:delete", access: "delete", item: "inspection" },
  "templates.view": { permission: "templates:view", access: "view", item: "template" },
  "reports.export": { permission: "reports:export" },
  "no.such.action": undefined,
};

describe("the compiled decision against the decision over records", () => {
  it("R12 R13 R14 R15 decide(compileDecision(input)) equals the record decision for every action, item and time, on random directories", () => {
    fc.assert(
      fc.property(directory, fc.option(item, { freq: 8 }), fc.constantFrom(...Object.keys(ACTIONS)), fc.constantFrom(T0, T0 + WINDOW + 1), (input, it, action, now) => {
        const options = { inactivityMs: WINDOW };
        const compiled = compileDecision(input);
        expect(decide(compiled, action, ACTIONS[action], it, now, options)).toEqual(decideV1(input, action, ACTIONS[action], it, now, options));
      }),
      { numRuns: 3000 },
    );
  });

  it("R12 R13 R14 R15 the same on items with 20 to 60 shares (a decision looks each subject key up instead of walking the item's grants)", () => {
    fc.assert(
      fc.property(directoryWith(fc.array(share, { minLength: 20, maxLength: 60 })), item, fc.constantFrom(...Object.keys(ACTIONS)), (input, it, action) => {
        const options = { inactivityMs: WINDOW };
        expect(decide(compileDecision(input), action, ACTIONS[action], it, T0, options)).toEqual(decideV1(input, action, ACTIONS[action], it, T0, options));
      }),
      { numRuns: 1000 },
    );
  });

  it("R13 R14 granteeIncludes(compiled subject, grantee) ⟺ one of grantKeys(grantee) is one of subjectKeys (across organizations: only the keys that hold across)", () => {
    fc.assert(
      fc.property(directory, grantee, fc.boolean(), (input, g, crossOrg) => {
        const keys = subjectKeys(input);
        const mine = new Set(crossOrg ? keys.across : [...keys.across, ...keys.local]);
        const path = g.kind === "site" ? SITE_PATHS[g.siteId] : undefined;
        const byKeys = grantKeys(g, path).some((k) => mine.has(k));
        expect(granteeIncludes(compileSubject(input), g, path, crossOrg)).toBe(byKeys);
      }),
      { numRuns: 3000 },
    );
  });
});
