/**
 * Listing ITEMS items (default 100,000) for one token, side by side in one run:
 * - `authorize()` per item (what a list endpoint does without filters);
 * - `accessible()` once, then `filter.matches` over the array (in-memory list);
 * - `accessible()` once, then the filter's SQL condition on a real PostgreSQL table of the same
 *   items (PGlite in-process, and the server at KEYWARD_PG_URL when set).
 * Every way must return the same items; the script checks it. Not a test: `npm run bench:filters`.
 *
 * World: 1 organization, 50 groups, 20 sites, the user in one group and one site; every 10th
 * item shared with a group (10,000 shares), one rule per site (its items, to its members).
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { createKeyward, type ItemRef } from "../src/index.js";
import { memoryStore } from "../src/memory.js";

const ITEMS = Number(process.env.ITEMS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const actions = { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } } as const;
const kw = createKeyward({ store: memoryStore(), actions, verifyPassword: () => true });
const d = kw.directory;
await d.createOrganization({ id: "acme", name: "Acme" });
const set = await d.createPermissionSet({ orgId: "acme", name: "Inspector", permissions: ["inspections:view"] });
const groups = await Promise.all(Array.from({ length: 50 }, (_, i) => d.createGroup({ id: `g${i}`, orgId: "acme", name: `g${i}` })));
const sites = await Promise.all(Array.from({ length: 20 }, (_, i) => d.createSite({ id: `s${i}`, orgId: "acme", name: `s${i}` })));
await d.upsertUser({ id: "u0", name: "User 0" });
await d.addMember({ orgId: "acme", userId: "u0", permissionSetId: set.id, groupIds: [groups[0]!.id], siteIds: [sites[0]!.id] });
const { token } = await kw.tokens.createUserToken({ orgId: "acme", userId: "u0", name: "bench", password: "x" });

const items: ItemRef[] = [];
for (let i = 0; i < ITEMS; i++) {
  const item = { orgId: "acme", type: "inspection", id: `i${i}`, attributes: { siteId: sites[i % 20]!.id, templateId: `t${i % 7}` } };
  if (i % 10 === 0) await d.share({ item: { orgId: "acme", type: "inspection", id: item.id }, grantee: { kind: "group", groupId: groups[(i / 10 + 1) % 50]!.id }, level: "view" });
  items.push(item);
}
for (const s of sites) await d.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: [s.id] }, grantee: { kind: "site", siteId: s.id }, level: "view" });

interface Db { name: string; query(text: string, values?: unknown[]): Promise<{ id: string }[]>; close(): Promise<void> }
async function pglite(): Promise<Db> {
  const db = new PGlite();
  return { name: "PGlite (in-process)", query: async (t, v) => (await db.query<{ id: string }>(t, v)).rows, close: () => db.close() };
}
async function server(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return { name: "PostgreSQL server", query: async (t, v) => (await pool.query<{ id: string }>(t, v)).rows, close: () => pool.end() };
}
const table = `kw_bench_items_${process.pid}`;
async function load(db: Db): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(`CREATE TABLE ${table} (org_id text NOT NULL, type text NOT NULL, id text NOT NULL, site_id text, template_id text, PRIMARY KEY (org_id, id))`);
  await db.query(`CREATE INDEX ON ${table} (org_id, site_id)`);
  await db.query(
    `INSERT INTO ${table} SELECT 'acme', 'inspection', * FROM unnest($1::text[], $2::text[], $3::text[])`,
    [items.map((i) => i.id), items.map((i) => i.attributes!.siteId!), items.map((i) => i.attributes!.templateId!)],
  );
  await db.query(`ANALYZE ${table}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(f: () => Promise<number>): Promise<{ ms: number; count: number }> {
  const ms: number[] = [];
  let count = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    count = await f();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), count };
}

async function viaAuthorize(): Promise<number> {
  let n = 0;
  for (const item of items) if ((await kw.authorize(token, "inspections.view", item)).allowed) n++;
  return n;
}
async function filter() {
  const access = await kw.accessible(token, "inspections.view", "inspection");
  if (!access.allowed) throw new Error(`bench token refused: ${access.reason}`);
  return access.filter;
}
const columns = { orgId: "org_id", id: "id", type: "type", attributes: { siteId: "site_id", templateId: "template_id" } };

const rows: { way: string; ms: number; count: number }[] = [];
await viaAuthorize(); // warm-up
rows.push({ way: "authorize() per item", ...(await time(viaAuthorize)) });
rows.push({ way: "accessible() alone", ...(await time(async () => (await filter()).shared.length)) });
rows.push({ way: "accessible() + matches() over the array", ...(await time(async () => items.filter((await filter()).matches).length)) });
const dbs = [await pglite(), ...(process.env.KEYWARD_PG_URL ? [await server(process.env.KEYWARD_PG_URL)] : [])];
for (const db of dbs) {
  await load(db);
  const sql = async () => {
    const where = (await filter()).toSql({ columns });
    return (await db.query(`SELECT id FROM ${table} WHERE ${where.text}`, where.values)).length;
  };
  await sql();
  rows.push({ way: `accessible() + SQL condition, ${db.name}`, ...(await time(sql)) });
  await db.query(`DROP TABLE ${table}`);
  await db.close();
}

const expected = rows[0]!.count;
for (const r of rows.slice(2)) if (r.count !== expected) throw new Error(`${r.way} returned ${r.count} items, authorize() allowed ${expected}`);
const base = rows[0]!.ms;
console.log(`Listing ${ITEMS.toLocaleString("en")} items for one token (memory store), ${expected.toLocaleString("en")} reachable; median of ${ROUNDS} rounds; node ${process.version}`);
console.table(
  rows.map((r) => ({
    way: r.way,
    "ms": r.ms.toFixed(1),
    "items/s": r.way === "accessible() alone" ? "—" : Math.round((ITEMS / r.ms) * 1000).toLocaleString("en"),
    "vs authorize() per item": r.way === rows[0]!.way ? "1×" : r.way === "accessible() alone" ? "—" : `${(base / r.ms).toFixed(0)}× faster`,
    returned: r.way === "accessible() alone" ? "—" : r.count.toLocaleString("en"),
  })),
);
