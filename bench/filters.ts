/**
 * Listing ITEMS items (default 100,000) for one token, side by side in one run:
 * - `authorize()` per item (what a list endpoint does without filters);
 * - `accessible()` once, then `filter.matches` over the array (in-memory list);
 * - `accessible()` once, then the filter's SQL condition on a real PostgreSQL table of the same
 *   items (PGlite in-process, and the server at KEYWARD_PG_URL when set).
 * - `accessible()` alone on the PostgreSQL store (`keyward/postgres`: one statement, through the
 *   grantee indexes) on PGlite, and on the server at KEYWARD_PG_URL when set, next to the memory
 *   store's: the same world, the same filter.
 * Every way must return the same items; the script checks it. Not a test: `npm run bench:filters`.
 *
 * World: 1 organization, 50 groups, 20 sites, the user in one group and one site; every 10th
 * item shared with a group (10,000 shares), one rule per site (its items, to its members).
 * The PostgreSQL stores get the same directory through the API and the 10,000 shares in one
 * INSERT (the rows `putShare` writes), so that setting up stays short.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { createKeyward, type ItemRef, type Keyward, type KeywardStore } from "../src/index.js";
import { memoryStore } from "../src/memory.js";
import { pgDriver, pgliteDriver, postgresStore, type SqlDriver } from "../src/postgres.js";

const ITEMS = Number(process.env.ITEMS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const actions = { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } } as const;
/** The directory of the world, its user's token, and (unless `bulkShares` writes them) its shares; then one rule per site. */
async function seed(store: KeywardStore, bulkShares?: (shares: { itemId: string; groupId: string }[]) => Promise<void>): Promise<{ kw: Keyward<keyof typeof actions>; token: string }> {
  const kw = createKeyward({ store, actions, verifyPassword: () => true });
  const d = kw.directory;
  await d.createOrganization({ id: "acme", name: "Acme" });
  const set = await d.createPermissionSet({ orgId: "acme", name: "Inspector", permissions: ["inspections:view"] });
  for (let i = 0; i < 50; i++) await d.createGroup({ id: `g${i}`, orgId: "acme", name: `g${i}` });
  for (let i = 0; i < 20; i++) await d.createSite({ id: `s${i}`, orgId: "acme", name: `s${i}` });
  await d.upsertUser({ id: "u0", name: "User 0" });
  await d.addMember({ orgId: "acme", userId: "u0", permissionSetId: set.id, groupIds: ["g0"], siteIds: ["s0"] });
  const { token } = await kw.tokens.createUserToken({ orgId: "acme", userId: "u0", name: "bench", password: "x" });
  const shares: { itemId: string; groupId: string }[] = [];
  for (let i = 0; i < ITEMS; i += 10) shares.push({ itemId: `i${i}`, groupId: `g${(i / 10 + 1) % 50}` });
  if (bulkShares) await bulkShares(shares);
  else for (const sh of shares) await d.share({ item: { orgId: "acme", type: "inspection", id: sh.itemId }, grantee: { kind: "group", groupId: sh.groupId }, level: "view" });
  for (let i = 0; i < 20; i++) await d.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: [`s${i}`] }, grantee: { kind: "site", siteId: `s${i}` }, level: "view" });
  return { kw, token };
}
const { kw, token } = await seed(memoryStore());

const items: ItemRef[] = [];
for (let i = 0; i < ITEMS; i++) items.push({ orgId: "acme", type: "inspection", id: `i${i}`, attributes: { siteId: `s${i % 20}`, templateId: `t${i % 7}` } });

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
/** Rounds of one `accessible()` call alone: it is short, so more of them. */
const ALONE_ROUNDS = Math.max(ROUNDS, 21);
async function time(f: () => Promise<number>, rounds = ROUNDS): Promise<{ ms: number; count: number }> {
  const ms: number[] = [];
  let count = 0;
  for (let r = 0; r < rounds; r++) {
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
async function filter(on: { kw: Keyward<keyof typeof actions>; token: string } = { kw, token }) {
  const access = await on.kw.accessible(on.token, "inspections.view", "inspection");
  if (!access.allowed) throw new Error(`bench token refused: ${access.reason}`);
  return access.filter;
}
const columns = { orgId: "org_id", id: "id", type: "type", attributes: { siteId: "site_id", templateId: "template_id" } };

/** `alone`: the row times `accessible()` only; `count` is then what its filter matches over the array (checked like the others). */
const rows: { way: string; ms: number; count: number; alone?: boolean }[] = [];
await viaAuthorize(); // warm-up
rows.push({ way: "authorize() per item", ...(await time(viaAuthorize)) });
const aloneRow = async (way: string, on?: { kw: Keyward<keyof typeof actions>; token: string }) => {
  await filter(on); // warm-up (and the first use's write)
  const { ms } = await time(async () => (await filter(on)).shared.length, ALONE_ROUNDS);
  rows.push({ way, ms, count: items.filter((await filter(on)).matches).length, alone: true });
};
await aloneRow("accessible() alone, memory store");
rows.push({ way: "accessible() + matches() over the array", ...(await time(async () => items.filter((await filter()).matches).length)) });

// accessible() on the PostgreSQL store: the same world, one statement per call (counted).
const pgStores: { name: string; driver: SqlDriver; close(): Promise<void> }[] = [];
{
  const db = new PGlite();
  pgStores.push({ name: "PGlite", driver: pgliteDriver(db), close: () => db.close() });
  if (process.env.KEYWARD_PG_URL) {
    const pool = new pg.Pool({ connectionString: process.env.KEYWARD_PG_URL, max: 2 });
    pgStores.push({ name: "PostgreSQL server", driver: pgDriver(pool), close: () => pool.end() });
  }
}
const roundTrips: string[] = [];
for (const target of pgStores) {
  const schema = `kw_bench_access_${process.pid}`;
  let statements = 0;
  const counted: SqlDriver = { ...target.driver, query: (text, values) => (statements++, target.driver.query(text, values)) };
  await target.driver.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const store = postgresStore({ driver: counted, schema });
  await store.migrate();
  const on = await seed(store, async (shares) => {
    await target.driver.query(
      `INSERT INTO "${schema}".shares (id, item_org_id, item_type, item_id, grantee, level, created_at)
       SELECT 'sh_' || x.item_id, 'acme', 'inspection', x.item_id, jsonb_build_object('kind', 'group', 'groupId', x.group_id), 'view', 0
       FROM unnest($1::text[], $2::text[]) AS x(item_id, group_id)`,
      [shares.map((sh) => sh.itemId), shares.map((sh) => sh.groupId)],
    );
  });
  for (const t of ["shares", "rules", "sites", "tokens", "memberships"]) await target.driver.query(`ANALYZE "${schema}".${t}`);
  await aloneRow(`accessible() alone, postgres store on ${target.name}`, on);
  await store.flushTokenUses();
  statements = 0;
  await filter(on);
  roundTrips.push(`${target.name}: ${statements} statement(s) per accessible()`);
  await store.close();
  await target.driver.query(`DROP SCHEMA "${schema}" CASCADE`);
  await target.close();
}
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
for (const r of rows.slice(1)) if (r.count !== expected) throw new Error(`${r.way} returned ${r.count} items, authorize() allowed ${expected}`);
const base = rows[0]!.ms;
const memoryAlone = rows.find((r) => r.alone)!.ms;
console.log(`Listing ${ITEMS.toLocaleString("en")} items for one token (memory store unless named), ${expected.toLocaleString("en")} reachable; median of ${ROUNDS} rounds (${ALONE_ROUNDS} for accessible() alone); node ${process.version}`);
console.table(
  rows.map((r) => ({
    way: r.way,
    "ms": r.alone ? r.ms.toFixed(2) : r.ms.toFixed(1),
    "items/s": r.alone ? "—" : Math.round((ITEMS / r.ms) * 1000).toLocaleString("en"),
    "vs authorize() per item": r.way === rows[0]!.way ? "1×" : r.alone ? "—" : `${(base / r.ms).toFixed(0)}× faster`,
    "vs memory accessible()": r.alone ? `${(r.ms / memoryAlone).toFixed(1)}×` : "—",
    returned: r.alone ? `(filter matches ${r.count.toLocaleString("en")})` : r.count.toLocaleString("en"),
  })),
);
for (const line of roundTrips) console.log(line);
