/**
 * The token listings at scale (issues 11 and 16): 1 organization, 5,000 members, 50,000 user
 * tokens (10 each: 6 active, 2 revoked, 2 expired), on the memory store and on the PostgreSQL
 * server (KEYWARD_PG_URL, schema `bench_manage_list`, dropped afterwards). Measures, side by
 * side on the same data:
 *   - the listing endpoint (`GET /api/organization/tokens`, through the management router):
 *     p50/p95 per page request for the first page, a later page by cursor, a search, a status
 *     filter and each sort; `GET /api/tokens` (one member) and `kw.directory.listMembers`;
 *   - what the endpoint did before (every user token of the organization, one call): the same
 *     store's `listTokens` of all 50,000 rows;
 *   - the administrator's page in Chromium (/usr/bin/chromium): navigation to ready, p50 of 5.
 * Not a test: `npm run bench:manage` (KEYWARD_PG_URL=… for the server). Prints a markdown table.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { chromium } from "playwright-core";
import { createKeyward, type KeywardStore, type TokenRecord } from "../src/index.js";
import { managementRouter, toNodeHandler } from "../src/manage/index.js";
import { admission } from "../src/core/admit.js";
import { memoryStore } from "../src/memory.js";
import { pgDriver, postgresStore } from "../src/postgres.js";

const MEMBERS = Number(process.env.MEMBERS ?? 5000);
const PER_MEMBER = 10;
const REPEAT = Number(process.env.REPEAT ?? 30);
const DAY = 86_400_000;
const NOW = Date.now();
const SCHEMA = "bench_manage_list";
const CHROMIUM = process.env.KEYWARD_CHROMIUM ?? "/usr/bin/chromium";
const actions = { "inspections.view": { permission: "inspections:view" } } as const;

/** Token i of member u: 0–5 active (used in the last days), 6–7 revoked, 8–9 idle for 40 days (expired). */
function tokenOf(u: number, i: number): TokenRecord {
  const created = i >= 8 ? NOW - 40 * DAY - u : NOW - 20 * DAY + u * 10 + i;
  return {
    id: `tok_${u}_${i}`,
    kind: "user",
    orgId: "acme",
    subjectId: `u${u}`,
    name: `${["laptop", "CI", "deploy", "sync", "report", "backup", "old", "zap", "idle", "legacy"][i]} ${u}`,
    hash: `h_${u}_${i}`,
    hint: "kwu_…abcd",
    epoch: "ep1",
    createdAt: created,
    createdBy: `u${u}`,
    lastUsedAt: i < 6 ? NOW - ((u * 7 + i) % 20) * DAY : null,
    revokedAt: i === 6 || i === 7 ? NOW - DAY : null,
    deletedAt: null,
    expiredAt: null,
  };
}

async function directory(store: KeywardStore) {
  await store.putOrganization({ id: "acme", name: "Acme", ssoOnly: false });
  await store.putPermissionSet({ id: "ps_admin", orgId: "acme", name: "Admin", permissions: ["api_tokens:manage", "service_users:manage", "inspections:view"] });
  await store.putPermissionSet({ id: "ps_member", orgId: "acme", name: "Member", permissions: ["inspections:view"] });
}

async function populateMemory(store: KeywardStore) {
  await directory(store);
  for (let u = 0; u < MEMBERS; u++) {
    await store.putUser({ id: `u${u}`, name: `User ${u}` });
    await store.updateMembership("acme", `u${u}`, () => ({ orgId: "acme", userId: `u${u}`, permissionSetId: u === 0 ? "ps_admin" : "ps_member", groupIds: [], siteIds: [], status: "active", seat: true, epoch: "ep1" }));
    for (let i = 0; i < PER_MEMBER; i++) {
      const t = tokenOf(u, i);
      await store.insertToken(t, admission({ max: 1000, now: t.createdAt, inactivityMs: 30 * DAY }));
    }
  }
}

/** Bulk rows straight into the tables (50,000 inserts through the API would take minutes): the bench measures reads. */
async function populatePostgres(pool: pg.Pool, store: KeywardStore) {
  await directory(store);
  const s = `"${SCHEMA}"`;
  await pool.query(`INSERT INTO ${s}.users (id, name) SELECT 'u' || g, 'User ' || g FROM generate_series(0, $1 - 1) g`, [MEMBERS]);
  await pool.query(
    `INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch)
     SELECT 'acme', 'u' || g, CASE WHEN g = 0 THEN 'ps_admin' ELSE 'ps_member' END, '{}', '{}', 'active', true, 'ep1' FROM generate_series(0, $1 - 1) g`,
    [MEMBERS],
  );
  const rows: TokenRecord[] = [];
  for (let u = 0; u < MEMBERS; u++) for (let i = 0; i < PER_MEMBER; i++) rows.push(tokenOf(u, i));
  for (let k = 0; k < rows.length; k += 5000) {
    const chunk = rows.slice(k, k + 5000);
    await pool.query(
      `INSERT INTO ${s}.tokens (id, kind, org_id, subject_id, name, hash, hint, epoch, created_at, created_by, last_used_at, revoked_at, deleted_at, expired_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])`,
      [
        chunk.map((t) => t.id), chunk.map((t) => t.kind), chunk.map((t) => t.orgId), chunk.map((t) => t.subjectId), chunk.map((t) => t.name),
        chunk.map((t) => t.hash), chunk.map((t) => t.hint), chunk.map((t) => t.epoch), chunk.map((t) => t.createdAt), chunk.map((t) => t.createdBy),
        chunk.map((t) => t.lastUsedAt), chunk.map((t) => t.revokedAt), chunk.map((t) => t.deletedAt), chunk.map((t) => t.expiredAt),
      ],
    );
  }
  await pool.query(`ANALYZE ${s}.tokens; ANALYZE ${s}.memberships; ANALYZE ${s}.users`);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
async function time(f: () => Promise<unknown>, n = REPEAT): Promise<{ p50: number; p95: number }> {
  await f();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  return { p50: pct(xs, 0.5), p95: pct(xs, 0.95) };
}

interface Row {
  what: string;
  [store: string]: string;
}

async function measure(name: string, store: KeywardStore, rows: Map<string, Row>) {
  const kw = createKeyward({ store, actions, verifyPassword: () => true });
  const router = managementRouter(kw, { session: () => ({ orgId: "acme", userId: "u0" }) });
  const get = async (path: string) => {
    const res = await router.fetch(new Request(`http://bench.local${path}`));
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { items: unknown[]; nextCursor: string | null; total: number };
  };
  const put = (what: string, r: { p50: number; p95: number }, note = "") => {
    const row = rows.get(what) ?? { what };
    row[name] = `${r.p50.toFixed(1)} / ${r.p95.toFixed(1)} ms${note}`;
    rows.set(what, row);
  };
  const first = await get("/api/organization/tokens?status=active&limit=25&sort=created&order=desc");
  put("org tokens, first page (25 active, newest first)", await time(() => get("/api/organization/tokens?status=active&limit=25&sort=created&order=desc")), ` (total ${first.total})`);
  let cursor = first.nextCursor!;
  for (let i = 0; i < 40; i++) cursor = (await get(`/api/organization/tokens?status=active&limit=25&sort=created&order=desc&cursor=${cursor}`)).nextCursor!;
  put("org tokens, page 42 by cursor", await time(() => get(`/api/organization/tokens?status=active&limit=25&sort=created&order=desc&cursor=${cursor}`)));
  put("org tokens, search an owner (\"User 4321\")", await time(() => get("/api/organization/tokens?status=active&limit=25&search=User%204321")));
  put("org tokens, status revoked", await time(() => get("/api/organization/tokens?status=revoked&limit=25&sort=created&order=desc")));
  put("org tokens, sort last used", await time(() => get("/api/organization/tokens?status=active&limit=25&sort=last_used")));
  put("org tokens, sort expiring soonest", await time(() => get("/api/organization/tokens?status=active&limit=25&sort=expires")));
  put("org tokens, 500 a page (the maximum)", await time(() => get("/api/organization/tokens?limit=500")));
  put("my tokens (GET /api/tokens, one member)", await time(() => get("/api/tokens?status=active")));
  put("members, first page (listMembers)", await time(() => kw.directory.listMembers({ orgId: "acme", limit: 50 })));
  put(`before: every user token in one call (listTokens, ${(MEMBERS * PER_MEMBER).toLocaleString("en")} rows)`, await time(() => store.listTokens({ orgId: "acme", kind: "user" }), 5));
  return router;
}

async function pageLoad(name: string, router: ReturnType<typeof managementRouter>, rows: Map<string, Row>) {
  if (!existsSync(CHROMIUM)) return;
  const server: Server = createServer(toNodeHandler(router)).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  const xs: number[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      await page.goto(url);
      await page.waitForSelector("body[data-ready=true]");
      if (i > 0) xs.push(performance.now() - t);
    }
  } finally {
    await browser.close();
    server.close();
  }
  const row = rows.get("admin page in Chromium: navigation → ready") ?? { what: "admin page in Chromium: navigation → ready" };
  row[name] = `${pct(xs, 0.5).toFixed(0)} ms (p50 of 5)`;
  rows.set(row.what, row);
}

const rows = new Map<string, Row>();
const names: string[] = [];
{
  const store = memoryStore();
  const t = performance.now();
  await populateMemory(store);
  console.error(`memory: populated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  names.push("memory");
  const router = await measure("memory", store, rows);
  await pageLoad("memory", router, rows);
}
if (process.env.KEYWARD_PG_URL) {
  const pool = new pg.Pool({ connectionString: process.env.KEYWARD_PG_URL, max: 4 });
  await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  const store = postgresStore({ driver: pgDriver(pool), schema: SCHEMA });
  await store.migrate();
  const t = performance.now();
  await populatePostgres(pool, store);
  console.error(`postgres: populated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  names.push("PostgreSQL server");
  try {
    const router = await measure("PostgreSQL server", store, rows);
    await pageLoad("PostgreSQL server", router, rows);
  } finally {
    await store.close();
    if (!process.env.KEEP) await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await pool.end();
  }
}
console.log(`\n${MEMBERS.toLocaleString("en")} members, ${(MEMBERS * PER_MEMBER).toLocaleString("en")} user tokens (p50 / p95 of ${REPEAT}, one caller)\n`);
console.log(`| request | ${names.join(" | ")} |`);
console.log(`|---|${names.map(() => "---").join("|")}|`);
for (const r of rows.values()) console.log(`| ${r.what} | ${names.map((n) => r[n] ?? "—").join(" | ")} |`);
