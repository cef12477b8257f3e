/**
 * On the memory store, `accessible()` hands out the same frozen filter while nothing it depends
 * on changed: the store keeps the grants it found for a subject and item type as frozen lists,
 * and the core keeps the filter it built from them. Every write of a share, a rule, a site or a
 * membership shows in the next call (R11, R13, R14), and a filter is the same whether kept or
 * built anew (R15: `filter.matches(item)` ⇔ `authorize(…).allowed`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AccessFilter, Grantee, ItemRef, Share, AccessRule } from "../../src/index.js";
import { KeywardError } from "../../src/index.js";
import { checkId, id, parseInput } from "../../src/service/schemas.js";
import { world } from "../core/fixture.js";

const ITEMS = ["i0", "i1", "i2", "i3"] as const;

/** Whether a filter and its data are frozen through and through. */
function deeplyFrozen(f: AccessFilter): boolean {
  return (
    Object.isFrozen(f) &&
    Object.isFrozen(f.shared) &&
    f.shared.every((s) => Object.isFrozen(s) && Object.isFrozen(s.ids)) &&
    Object.isFrozen(f.rules) &&
    f.rules.every((r) => Object.isFrozen(r) && Object.isFrozen(r.conditions) && Object.values(r.conditions).every(Object.isFrozen))
  );
}

describe("accessible() on the memory store: kept grants and filters", () => {
  it("R11 R13 a repeated call hands out the same frozen filter; a share, an unshare, a rule, a share with a new site below a member site and leaving a group each show at once", async () => {
    const w = await world();
    const ana = (await w.userToken(w.users.ana.id)).token;
    const list = async () => {
      const d = await w.kw.accessible(ana, "inspections.view", "inspection");
      if (!d.allowed) throw new Error(`expected a filter, got ${d.reason}`);
      return d.filter;
    };
    const first = await list();
    expect(deeplyFrozen(first)).toBe(true);
    expect(await list()).toBe(first);
    expect(() => (first.shared as { orgId: string; ids: string[] }[]).push({ orgId: "acme", ids: ["x"] })).toThrow(TypeError);

    const share = await w.kw.directory.share({ item: w.inspection("i_new"), grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
    const shared = await list();
    expect(shared).not.toBe(first);
    expect(shared.matches(w.inspection("i_new"))).toBe(true);
    expect(await list()).toBe(shared);

    await w.kw.directory.unshare({ orgId: "acme", id: share.id });
    expect((await list()).matches(w.inspection("i_new"))).toBe(false);

    const rule = await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: ["site_x"] }, grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    expect((await list()).matches(w.inspection("i_any", { siteId: "site_x" }))).toBe(true);
    await w.kw.directory.removeRule({ orgId: "acme", id: rule.id });
    expect((await list()).matches(w.inspection("i_any", { siteId: "site_x" }))).toBe(false);

    // A new site below Ana's member site North, then an item shared with it.
    await w.kw.directory.createSite({ id: "site_new", orgId: "acme", name: "New", parentId: w.sites.north.id });
    const before = await list();
    await w.kw.directory.share({ item: w.inspection("i_site"), grantee: { kind: "site", siteId: "site_new" }, level: "view" });
    expect(before.matches(w.inspection("i_site"))).toBe(false);
    expect((await list()).matches(w.inspection("i_site"))).toBe(true);

    // Ana leaves the group: the next call no longer counts the group's shares.
    await w.kw.directory.share({ item: w.inspection("i_group"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
    expect((await list()).matches(w.inspection("i_group"))).toBe(true);
    await w.kw.directory.removeFrom({ orgId: "acme", subjectId: w.users.ana.id, groupId: w.groups.auditors.id });
    expect((await list()).matches(w.inspection("i_group"))).toBe(false);
  });

  it("R11 R13 law: across any sequence of shares, unshares, rules, group and site placements, every filter agrees with authorize() on every item, kept or not", async () => {
    type Op =
      | { op: "list" }
      | { op: "share"; item: number; grantee: number; level: "view" | "edit" }
      | { op: "unshare"; nth: number }
      | { op: "rule"; grantee: number; site: boolean }
      | { op: "unrule"; nth: number }
      | { op: "group"; join: boolean }
      | { op: "site"; join: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.constant({ op: "list" as const }) },
      fc.record({ op: fc.constant("share" as const), item: fc.nat(ITEMS.length - 1), grantee: fc.nat(4), level: fc.constantFrom("view" as const, "edit" as const) }),
      fc.record({ op: fc.constant("unshare" as const), nth: fc.nat(10) }),
      fc.record({ op: fc.constant("rule" as const), grantee: fc.nat(4), site: fc.boolean() }),
      fc.record({ op: fc.constant("unrule" as const), nth: fc.nat(10) }),
      fc.record({ op: fc.constant("group" as const), join: fc.boolean() }),
      fc.record({ op: fc.constant("site" as const), join: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const w = await world();
        const bob = (await w.userToken(w.users.bob.id)).token;
        const ana = (await w.userToken(w.users.ana.id)).token;
        const grantees: Grantee[] = [
          { kind: "user", userId: w.users.bob.id },
          { kind: "group", groupId: w.groups.auditors.id },
          { kind: "site", siteId: w.sites.oslo.id },
          { kind: "site", siteId: w.sites.south.id },
          { kind: "organization", orgId: "acme", includeServiceUsers: false },
        ];
        const items: ItemRef[] = [...ITEMS.map((i) => w.inspection(i)), w.inspection("i_attr", { siteId: w.sites.south.id })];
        const shares: Share[] = [];
        const rules: AccessRule[] = [];
        for (const o of ops) {
          if (o.op === "list") {
            for (const token of [bob, ana]) {
              for (const action of ["inspections.view", "inspections.edit"] as const) {
                const d = await w.kw.accessible(token, action, "inspection");
                for (const item of items) {
                  const a = await w.kw.authorize(token, action, item);
                  expect(d.allowed ? d.filter.matches(item) : false).toBe(a.allowed);
                }
              }
            }
          } else if (o.op === "share") {
            shares.push(await w.kw.directory.share({ item: items[o.item]!, grantee: grantees[o.grantee]!, level: o.level }));
          } else if (o.op === "unshare" && shares.length > 0) {
            const [gone] = shares.splice(o.nth % shares.length, 1);
            await w.kw.directory.unshare({ orgId: "acme", id: gone!.id });
          } else if (o.op === "rule") {
            rules.push(await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: o.site ? { siteId: [w.sites.south.id] } : {}, grantee: grantees[o.grantee]!, level: "view" }));
          } else if (o.op === "unrule" && rules.length > 0) {
            const [gone] = rules.splice(o.nth % rules.length, 1);
            await w.kw.directory.removeRule({ orgId: "acme", id: gone!.id });
          } else if (o.op === "group") {
            const placement = { orgId: "acme", subjectId: w.users.bob.id, groupId: w.groups.auditors.id };
            await (o.join ? w.kw.directory.addTo(placement) : w.kw.directory.removeFrom(placement)).catch(() => undefined);
          } else if (o.op === "site") {
            const placement = { orgId: "acme", subjectId: w.users.bob.id, siteId: w.sites.south.id };
            await (o.join ? w.kw.directory.addTo(placement) : w.kw.directory.removeFrom(placement)).catch(() => undefined);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("checkId (accessible()'s item type without zod)", () => {
  it("R15 law: returns exactly what the id schema accepts, and throws exactly its error for anything else", () => {
    const outcome = (f: () => string) => {
      try {
        return { ok: f() };
      } catch (e) {
        expect(e).toBeInstanceOf(KeywardError);
        const k = e as KeywardError;
        return { code: k.code, field: k.field, message: k.message };
      }
    };
    const ids = fc.oneof(
      fc.anything(),
      fc.string({ maxLength: 210 }),
      fc.string({ unit: "grapheme", maxLength: 5 }),
      fc.integer({ min: 195, max: 205 }).map((n) => "x".repeat(n)),
      fc.constantFrom("", " ", "a b", "inspection", "\u007f", "é", "a\n"),
    );
    fc.assert(
      fc.property(ids, (v) => {
        expect(outcome(() => checkId(v, "itemType"))).toEqual(outcome(() => parseInput(id, v, "itemType")));
      }),
      { numRuns: 500 },
    );
  });
});
