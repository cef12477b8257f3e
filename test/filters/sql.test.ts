/**
 * `filter.toSql()`: the parameterized condition for a host's own PostgreSQL table. Text checks
 * for its shape, and runs on a real PostgreSQL (the server at KEYWARD_PG_URL, else PGlite) for
 * what it selects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeywardError, type AccessFilterData, type ItemRef } from "../../src/index.js";
import { accessFilter, filterToSql } from "../../src/core.js";
import { COLUMNS, openItemsDb, type ItemsDb } from "./items-db.js";

const EVIL = `x'); DROP TABLE items; --`;

const data = (over: Partial<AccessFilterData> = {}): AccessFilterData => ({ itemType: "inspection", level: "view", shared: [], rules: [], ...over });
const item = (orgId: string, id: string, attributes: Record<string, string> = {}, type = "inspection"): ItemRef => ({ orgId, type, id, attributes });

function thrown(f: () => unknown): KeywardError {
  try {
    f();
  } catch (e) {
    if (e instanceof KeywardError) return e;
    throw e;
  }
  throw new Error("expected a KeywardError");
}

describe("toSql(): the shape of the condition", () => {
  it("an empty filter is FALSE with no parameters", () => {
    expect(accessFilter(data()).toSql({ columns: COLUMNS })).toEqual({ text: "FALSE", values: [] });
  });

  it("values travel only as parameters; column names are quoted, and qualified by the alias", () => {
    const filter = accessFilter(data({ shared: [{ orgId: EVIL, ids: [EVIL, "i_2"] }], rules: [{ id: "r", orgId: "acme", conditions: { siteId: [EVIL] } }] }));
    const sql = filter.toSql({ columns: COLUMNS, alias: "i" });
    expect(sql.text).toBe(`("i"."type" = $5 AND (("i"."org_id" = $1 AND "i"."id" = ANY($2)) OR ("i"."org_id" = $4 AND "i"."site_id" IS NOT NULL AND "i"."site_id" = ANY($3))))`);
    expect(sql.values).toEqual([EVIL, [EVIL, "i_2"], [EVIL], "acme", "inspection"]);
    expect(sql.text).not.toContain("DROP");
  });

  it("paramOffset numbers the parameters after the host's own", () => {
    const sql = accessFilter(data({ shared: [{ orgId: "acme", ids: ["i_1"] }] })).toSql({ columns: { orgId: "org_id", id: "id" }, paramOffset: 2 });
    expect(sql).toEqual({ text: `("org_id" = $3 AND "id" = ANY($4))`, values: ["acme", ["i_1"]] });
  });

  it("without a type column the condition does not test the type (a table of one item type)", () => {
    const sql = accessFilter(data({ rules: [{ id: "r", orgId: "acme", conditions: {} }] })).toSql({ columns: { orgId: "org_id", id: "id" } });
    expect(sql).toEqual({ text: `"org_id" = $1`, values: ["acme"] });
  });

  it("a rule without conditions covers its whole organization; shares and rules there add nothing", () => {
    const filter = accessFilter(data({
      shared: [{ orgId: "acme", ids: ["i_1"] }, { orgId: "beta", ids: ["i_9"] }],
      rules: [{ id: "r1", orgId: "acme", conditions: {} }, { id: "r2", orgId: "acme", conditions: { siteId: ["s"] } }],
    }));
    expect(filter.toSql({ columns: COLUMNS })).toEqual({
      text: `("type" = $4 AND ("org_id" = $1 OR ("org_id" = $2 AND "id" = ANY($3))))`,
      values: ["acme", "beta", ["i_9"], "inspection"],
    });
  });

  it("rules with the same conditions are written once", () => {
    const rules = [{ id: "r1", orgId: "acme", conditions: { siteId: ["a", "b"] } }, { id: "r2", orgId: "acme", conditions: { siteId: ["b", "a"] } }];
    expect(accessFilter(data({ rules })).toSql({ columns: COLUMNS }).values).toEqual([["a", "b"], "acme", "inspection"]);
  });

  it.each([
    ["columns.orgId", { ...COLUMNS, orgId: `org_id" OR 1=1 --` }, undefined],
    ["columns.id", { ...COLUMNS, id: "1id" }, undefined],
    ["columns.type", { ...COLUMNS, type: "type; DROP TABLE x" }, undefined],
    ["columns.attributes.siteId", { ...COLUMNS, attributes: { siteId: "site id" } }, undefined],
    ["alias", COLUMNS, `i"`],
    ["columns.orgId", { ...COLUMNS, orgId: "a".repeat(64) }, undefined],
  ] as const)("a column or alias that is not an identifier is invalid_input at %s", (field, columns, alias) => {
    const e = thrown(() => accessFilter(data()).toSql({ columns, ...(alias === undefined ? {} : { alias }) }));
    expect(e).toMatchObject({ code: "invalid_input", field });
  });

  it("fails closed: a rule testing an attribute the host did not map is invalid_input naming it, even when another rule covers the organization", () => {
    const rules: AccessFilterData["rules"] = [{ id: "r1", orgId: "acme", conditions: {} }, { id: "r2", orgId: "acme", conditions: { assetId: ["a_1"] } }];
    const e = thrown(() => accessFilter(data({ rules })).toSql({ columns: COLUMNS }));
    expect(e).toMatchObject({ code: "invalid_input", field: "columns.attributes.assetId" });
    expect(e.message).toContain("assetId");
  });

  it.each([-1, 1.5, Number.NaN])("paramOffset %s is invalid_input", (paramOffset) => {
    expect(thrown(() => filterToSql(data(), { columns: COLUMNS, paramOffset }))).toMatchObject({ code: "invalid_input", field: "paramOffset" });
  });
});

describe("toSql() on a real PostgreSQL", () => {
  let db: ItemsDb;
  beforeAll(async () => {
    db = await openItemsDb();
  });
  afterAll(async () => {
    await db?.close();
  });
  const items = [
    item("acme", "i_1", { siteId: "s_1" }),
    item("acme", EVIL, { siteId: EVIL }),
    item("acme", "i_3"),
    item("beta", "i_1", { siteId: "s_1", templateId: "t" }),
    item("acme", "i_1", {}, "template"),
  ];
  const ids = (rows: { org_id: string; type: string; id: string }[]) => rows.map((r) => `${r.org_id}/${r.type}/${r.id}`).sort();

  it("selects what matches() accepts, with hostile values left as data, and its negation selects the rest", async () => {
    await db.load(items);
    const filter = accessFilter(data({ shared: [{ orgId: "acme", ids: [EVIL] }], rules: [{ id: "r", orgId: "beta", conditions: { siteId: ["s_1"], templateId: ["t"] } }] }));
    const where = filter.toSql({ columns: COLUMNS, alias: "x", paramOffset: 1 });
    const rows = await db.rows<{ org_id: string; type: string; id: string }>(`SELECT org_id, type, id FROM $TABLE x WHERE x.org_id <> $1 AND ${where.text}`, ["nobody", ...where.values]);
    expect(ids(rows)).toEqual([`acme/inspection/${EVIL}`, "beta/inspection/i_1"]);
    expect(ids(rows)).toEqual(items.filter(filter.matches).map((i) => `${i.orgId}/${i.type}/${i.id}`).sort());
    const plain = filter.toSql({ columns: COLUMNS });
    const rest = await db.rows<{ org_id: string; type: string; id: string }>(`SELECT org_id, type, id FROM $TABLE WHERE NOT ${plain.text}`, plain.values);
    expect(ids(rest)).toEqual(["acme/inspection/i_1", "acme/inspection/i_3", "acme/template/i_1"]);
    expect((await db.rows<{ n: number }>(`SELECT count(*)::int AS n FROM $TABLE`))[0]!.n).toBe(items.length);
  });

  it("FALSE selects nothing", async () => {
    await db.load(items);
    const where = accessFilter(data()).toSql({ columns: COLUMNS });
    expect(await db.rows(`SELECT id FROM $TABLE WHERE ${where.text}`, where.values)).toEqual([]);
  });

  it("works with uuid id columns: parameters take the column's type", async () => {
    const table = `${db.table}_uuid`;
    await db.rows(`CREATE TABLE ${table} (org_id text NOT NULL, id uuid NOT NULL)`);
    try {
      await db.rows(`INSERT INTO ${table} VALUES ('acme', '00000000-0000-4000-8000-000000000001'), ('acme', '00000000-0000-4000-8000-000000000002')`);
      const where = accessFilter(data({ shared: [{ orgId: "acme", ids: ["00000000-0000-4000-8000-000000000002"] }] })).toSql({ columns: { orgId: "org_id", id: "id" } });
      expect(await db.rows(`SELECT id::text AS id FROM ${table} WHERE ${where.text}`, where.values)).toEqual([{ id: "00000000-0000-4000-8000-000000000002" }]);
    } finally {
      await db.rows(`DROP TABLE ${table}`);
    }
  });
});
