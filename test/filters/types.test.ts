/**
 * Type-level tests of the list-filter API (checked by `npm run typecheck`; `expectTypeOf` is a
 * no-op at run time, so one runtime assertion keeps the file honest).
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createKeyward,
  type AccessDecision,
  type AccessFilter,
  type AllowedAccess,
  type RateLimitedDenial,
  type RefusalDecision,
  type ItemRef,
  type KeywardStore,
  type SqlCondition,
  type SubjectKind,
  type TokenReach,
} from "../../src/index.js";
import type { AccessInput } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";

const kw = createKeyward({
  store: memoryStore(),
  actions: {
    "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
    "reports.export": { permission: "reports:export" },
  },
});

describe("types of the list-filter API", () => {
  it("accessible() takes a declared action and narrows on `allowed`: the filter only when allowed", () => {
    expectTypeOf(kw.accessible).parameter(1).toEqualTypeOf<"inspections.view" | "reports.export">();
    expectTypeOf(kw.accessible).returns.toEqualTypeOf<Promise<AccessDecision>>();
    expectTypeOf(kw.assertAccessible).returns.toEqualTypeOf<Promise<AllowedAccess>>();
    const narrow = (a: AccessDecision) => {
      if (a.allowed) expectTypeOf(a.filter).toEqualTypeOf<AccessFilter>();
      else {
        expectTypeOf(a).toEqualTypeOf<RefusalDecision | RateLimitedDenial>();
        // @ts-expect-error a list filter is never access_denied
        void (a.reason === "access_denied");
        // @ts-expect-error a refusal has no filter
        void a.filter;
      }
    };
    void narrow;
  });

  it("the filter matches ItemRefs and builds a parameterized SqlCondition", () => {
    expectTypeOf<AccessFilter["matches"]>().toEqualTypeOf<(item: ItemRef) => boolean>();
    expectTypeOf<ReturnType<AccessFilter["toSql"]>>().toEqualTypeOf<SqlCondition>();
    expectTypeOf<SqlCondition["values"]>().toEqualTypeOf<(string | string[])[]>();
  });

  it("the store's list-filter read is one domain-named method, and reach never carries a secret or digest", async () => {
    expectTypeOf<KeywardStore["loadAccess"]>().toEqualTypeOf<(tokenHash: string, query: { itemType: string }, kind?: SubjectKind) => Promise<AccessInput | null>>();
    expectTypeOf<TokenReach>().not.toHaveProperty("secret");
    expectTypeOf<TokenReach["token"]>().not.toHaveProperty("hash");
    expect(typeof kw.tokens.reach).toBe("function");
  });
});
