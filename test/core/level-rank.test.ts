/**
 * Levels rank view < edit < delete (R13); a stored level that is none of them (corrupt data from a
 * store) ranks 0 and grants nothing — in `decide()` and in the list filter alike.
 */
import { describe, expect, it } from "vitest";
import { compileAccess, decideAccess, type AccessInput } from "../../src/core/access.js";
import { compileDecision } from "../../src/core/compile.js";
import { decide, LEVEL_RANK, levelRank } from "../../src/core/decide.js";
import type { AccessLevel, Share } from "../../src/core/types.js";

const item = { orgId: "acme", type: "inspection", id: "i_1" };
const view = { permission: "inspections:view", access: "view", item: "inspection" } as const;
function input(level: string): AccessInput {
  const share: Share = { id: "sh_1", item, grantee: { kind: "user", userId: "u_1" }, level: level as AccessLevel, createdAt: 0 };
  return compileAccess({
    token: { id: "tok_1", kind: "user", orgId: "acme", subjectId: "u_1", name: "ci", hash: "h", hint: "kwu_…abcd", epoch: "e1", createdAt: 0, createdBy: "u_1", lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null },
    subject: {
      kind: "user",
      user: { id: "u_1", name: "Ann" },
      membership: { orgId: "acme", userId: "u_1", permissionSetId: "ps", groupIds: [], siteIds: [], status: "active", seat: true, epoch: "e1" },
      permissions: ["inspections:view"],
    },
    shares: [share],
    rules: [],
    sitePaths: {},
  });
}
const opts = { inactivityMs: 1_000_000 };

describe("levelRank", () => {
  it("R13 ranks exactly as LEVEL_RANK for the three levels", () => {
    for (const level of ["view", "edit", "delete"] as const) expect(levelRank(level)).toBe(LEVEL_RANK[level]);
  });

  it.each(["admin", "", "constructor", "VIEW"])("R13 a share whose stored level is %j grants nothing, in decide() and in the list filter", (level) => {
    const d = decide(compileDecision(input(level)), "inspections.view", view, item, 10, opts);
    expect(d).toMatchObject({ allowed: false, reason: "access_denied", visible: false });
    const a = decideAccess(input(level), "inspections.view", view, "inspection", 10, opts);
    expect(a.allowed && a.filter.matches(item)).toBe(false);
    // The same input with a real level is allowed by both.
    expect(decide(compileDecision(input("view")), "inspections.view", view, item, 10, opts).allowed).toBe(true);
    const ok = decideAccess(input("view"), "inspections.view", view, "inspection", 10, opts);
    expect(ok.allowed && ok.filter.matches(item)).toBe(true);
  });
});
