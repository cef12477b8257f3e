/**
 * Issue 11 #2 and the size half of #6 (R13): a rule condition is never silently dropped — a
 * reserved or non-identifier attribute name is `invalid_input` — and directory objects have
 * clear size limits (conditions per rule, values per condition, site depth, name length).
 */
import { afterEach, expect, it } from "vitest";
import { caught, world, type World } from "../core/fixture.js";
import { describeStores, type StoreUnderTest } from "./stores.js";

const rule = (conditions: unknown) => ({
  orgId: "acme",
  itemType: "inspection",
  conditions: conditions as Record<string, string[]>,
  grantee: { kind: "organization" as const, orgId: "acme" },
  level: "view" as const,
});

describeStores("issue 11 #2 R13 rule conditions", (make) => {
  let t: StoreUnderTest;
  let w: World;
  afterEach(async () => t.cleanup());

  it.each([
    ["__proto__ (from JSON)", JSON.parse('{"__proto__":["site_oslo"]}') as unknown],
    ["constructor", { constructor: ["x"] }],
    ["prototype", { prototype: ["x"] }],
    ["toString", { toString: ["x"] }],
    ["empty", { "": ["x"] }],
    ["with a dot", { "site.id": ["x"] }],
    ["with a space", { "site id": ["x"] }],
    ["starting with a digit", { "1site": ["x"] }],
    ["next to a good one", { siteId: ["site_oslo"], "bad-name": ["x"] }],
  ])("issue 11 #2 an attribute named %s is invalid_input and no rule is stored (authorize and the list SQL stay closed)", async (_label, conditions) => {
    t = await make();
    w = await world({ store: t.store });
    const e = await caught(() => w.kw.directory.addRule(rule(conditions)));
    expect(e).toMatchObject({ code: "invalid_input", field: expect.stringMatching(/^conditions/) });
    // Bob (viewer, no share) reaches nothing: the rule did not become "every inspection of acme".
    const { token } = await w.userToken(w.users.bob.id);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("insp_x", { siteId: "site_oslo" }))).allowed).toBe(false);
    const access = await w.kw.accessible(token, "inspections.view", "inspection");
    if (!access.allowed) throw new Error("expected a filter");
    expect(access.filter.rules).toEqual([]);
    expect(access.filter.toSql({ columns: { orgId: "org_id", id: "id", attributes: { siteId: "site_id" } } }).text).toBe("FALSE");
  });

  it("issue 11 #2 identifiers are accepted and every condition is kept", async () => {
    t = await make();
    w = await world({ store: t.store });
    const r = await w.kw.directory.addRule(rule({ siteId: ["site_oslo"], template_id: ["tpl_1"], _x9: ["y"] }));
    expect(Object.keys(r.conditions).sort()).toEqual(["_x9", "siteId", "template_id"]);
  });

  it("issue 11 #6 at most 32 conditions per rule and 100 values per condition", async () => {
    t = await make();
    w = await world({ store: t.store });
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, ["v"]]));
    const values = (n: number) => ({ siteId: Array.from({ length: n }, (_, i) => `v${i}`) });
    await w.kw.directory.addRule(rule(many(32)));
    await w.kw.directory.addRule(rule(values(100)));
    expect(await caught(() => w.kw.directory.addRule(rule(many(33))))).toMatchObject({ code: "invalid_input", field: "conditions" });
    expect(await caught(() => w.kw.directory.addRule(rule(values(101))))).toMatchObject({ code: "invalid_input", field: "conditions.siteId" });
  });

  it("issue 11 #6 sites nest at most 16 deep", async () => {
    t = await make();
    w = await world({ store: t.store });
    let parent: string | null = null;
    for (let i = 1; i <= 16; i++) parent = (await w.kw.directory.createSite({ orgId: "acme", name: `level ${i}`, parentId: parent })).id;
    expect(await caught(() => w.kw.directory.createSite({ orgId: "acme", name: "level 17", parentId: parent }))).toMatchObject({ code: "invalid_input", field: "parentId" });
  });

  it("issue 11 #6 names are at most 200 characters", async () => {
    t = await make();
    w = await world({ store: t.store });
    await w.kw.directory.createGroup({ orgId: "acme", name: "n".repeat(200) });
    expect(await caught(() => w.kw.directory.createGroup({ orgId: "acme", name: "n".repeat(201) }))).toMatchObject({ code: "invalid_input", field: "name" });
    expect(await caught(() => w.kw.directory.addRule(rule({ ["a".repeat(101)]: ["x"] })))).toMatchObject({ code: "invalid_input" });
  });
});
