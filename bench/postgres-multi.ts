/**
 * Many instances, one PostgreSQL (run by bench/postgres.ts on the server):
 * - fresh reads as a ratio to a `SELECT 1` round trip on the same pool, with 1, 4 and 16
 *   concurrent callers (p50 and p99): the store's decision read (`loadDecision`, a named
 *   prepared statement; with the token's kind, as keyward reads), the same read without an item (`loadDecision(hash, null)`: the token
 *   and its subject only), its list read (`loadAccess`) and the whole `authorize()`, all with
 *   the default read batching, and the decision read with each read sent alone; at 10,000
 *   tokens and 30,000 shares, and with KW_BENCH_BIG=1 also at 1,000,000 tokens and 3,000,000
 *   shares (seeded in SQL with generate_series: about a minute);
 *   KW_BENCH_PASSES=n (default 1) measures every cell n times, the passes interleaved, and
 *   reports the median of each figure (the ratio: the median of the passes' ratios), to damp
 *   the noise of a shared machine;
 * - `EXPLAIN (ANALYZE, BUFFERS)` of the decision read, the read without an item and the list
 *   read: planning and execution time and shared buffers hit, unnamed (planned on every call)
 *   vs prepared;
 * - the added latency of a change with 1, 4 and 16 caching instances (in-process stores, each
 *   with its own pool and listener), and the heartbeat writes per instance per minute.
 */
import { loadavg } from "node:os";
import pg from "pg";
import { createKeyward } from "../src/index.js";
import { tokenHasher } from "../src/core/secret.js";
import { pgDriver, postgresStore, type PostgresStore, type SqlDriver } from "../src/postgres.js";
import { queries } from "../src/storage/postgres/sql.js";

const ROW_MS = Number(process.env.ROW_MS ?? 800);
const actions = { "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" } } as const;
const SAMPLE = 100;
const PASSES = Math.max(1, Math.floor(Number(process.env.KW_BENCH_PASSES ?? 1)) || 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Prints a markdown table: a title, a header (a trailing `>` right-aligns a column), rows already formatted. */
export function table(title: string, head: string[], rows: string[]): void {
  console.log(`\n${title}\n`);
  console.log(`| ${head.map((h) => h.replace(/>$/, "")).join(" | ")} |`);
  console.log(`|${head.map((h) => (h.endsWith(">") ? "---:" : "---")).join("|")}|`);
  for (const l of rows) console.log(l);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** `f` called by `callers` concurrent loops for `ms`: each call's latency (ms), sorted. */
export async function concurrently(callers: number, ms: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await f(n++);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

/** p50 and p99 (ms) of `f` called by `callers` concurrent loops for ROW_MS. */
async function percentiles(callers: number, f: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const latencies = await concurrently(callers, ROW_MS, f);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

export async function seed(pool: pg.Pool, schema: string, tokens: number) {
  const store = postgresStore({ pool, schema });
  await store.migrate();
  const kw = createKeyward({ store, actions, verifyPassword: () => true });
  const org = await kw.directory.createOrganization({ id: "acme", name: "Acme" });
  const set = await kw.directory.createPermissionSet({ orgId: org.id, name: "Inspector", permissions: ["inspections:view", "inspections:edit"] });
  const raw: string[] = [];
  const items: { orgId: string; type: string; id: string }[] = [];
  for (let u = 0; u < SAMPLE; u++) {
    await kw.directory.upsertUser({ id: `u${u}`, name: `User ${u}` });
    await kw.directory.addMember({ orgId: org.id, userId: `u${u}`, permissionSetId: set.id });
    raw.push((await kw.tokens.createUserToken({ orgId: org.id, userId: `u${u}`, name: "bench", password: "x" })).token);
    const item = { orgId: org.id, type: "inspection", id: `i${u}` };
    for (let k = 0; k < 3; k++) await kw.directory.share({ item, grantee: { kind: "user", userId: `u${u}` }, level: k === 0 ? "edit" : "view" });
    items.push(item);
  }
  await store.close();
  // The rest in SQL: 10,000 filler users, members of another organization, their tokens, three shares per token on filler items.
  const s = `"${schema}"`;
  const n = tokens - SAMPLE;
  const t0 = performance.now();
  await pool.query(`INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch)
SELECT 'filler', 'f' || i, NULL, '{}', '{}', 'active', true, 'e' FROM generate_series(0, 9999) i`);
  await pool.query(`INSERT INTO ${s}.tokens (id, kind, org_id, subject_id, name, hash, hint, epoch, created_at, created_by, last_used_at)
SELECT 'tf' || i, 'user', 'filler', 'f' || (i % 10000), 'filler', md5(i::text) || md5((-i)::text), 'xxxx', 'e', 0, NULL, NULL FROM generate_series(1, ${n}) i`);
  await pool.query(`INSERT INTO ${s}.shares (id, item_org_id, item_type, item_id, grantee, level, created_at)
SELECT 'sf' || i, 'filler', 'inspection', 'fi' || (i / 3), jsonb_build_object('kind', 'user', 'userId', 'f' || (i % 10000)), 'view', 0 FROM generate_series(1, ${3 * n}) i`);
  // Statistics for every table, as autovacuum gathers them on a server that has run for a while:
  // the plans measured are the plans of a deployment, not of tables the planner knows nothing of.
  for (const table of ["tokens", "shares", "memberships", "users", "service_users", "permission_sets", "rules", "sites", "organizations"]) await pool.query(`ANALYZE ${s}.${table}`);
  const hash = tokenHasher(undefined);
  return { raw, hashes: raw.map((t) => hash(t)), items, seedSeconds: (performance.now() - t0) / 1000 };
}

/** Planning and execution time of one read: unnamed (EXPLAIN ANALYZE with parameters) and prepared (after 6 executions). */
async function explain(pool: pg.Pool, text: string, values: (string | null)[]) {
  const times = (plan: unknown) => {
    const p = (plan as { "QUERY PLAN": { "Planning Time": number; "Execution Time": number; Plan: { "Shared Hit Blocks": number } }[] }[])[0]!["QUERY PLAN"][0]!;
    return { planning: p["Planning Time"], execution: p["Execution Time"], buffers: p.Plan["Shared Hit Blocks"] };
  };
  const client = await pool.connect();
  try {
    const before = [];
    for (let i = 0; i < 5; i++) before.push(times((await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values })).rows));
    const lit = values.map((v) => (v === null ? "NULL" : `'${v.replace(/'/g, "''")}'`)).join(", ");
    await client.query(`PREPARE kw_bench_read(${values.map(() => "text").join(", ")}) AS ${text}`);
    for (let i = 0; i < 6; i++) await client.query(`EXECUTE kw_bench_read(${lit})`);
    const after = [];
    for (let i = 0; i < 5; i++) after.push(times((await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE kw_bench_read(${lit})`)).rows));
    await client.query("DEALLOCATE kw_bench_read");
    return {
      before: { planning: median(before.map((x) => x.planning)), execution: median(before.map((x) => x.execution)) },
      after: { planning: median(after.map((x) => x.planning)), execution: median(after.map((x) => x.execution)), buffers: median(after.map((x) => x.buffers)) },
    };
  } finally {
    client.release();
  }
}

export async function freshVsSelect1(url: string): Promise<void> {
  const sizes = process.env.KW_BENCH_BIG === "1" ? [10_000, 1_000_000] : [10_000];
  const rows: string[] = [];
  const plans: string[] = [];
  for (const size of sizes) {
    const pool = new pg.Pool({ connectionString: url, max: 17 });
    const schema = `bench_fresh_${Math.random().toString(36).slice(2, 8)}`;
    try {
      const data = await seed(pool, schema, size);
      const named = postgresStore({ driver: pgDriver(pool), schema });
      const alone = postgresStore({ driver: pgDriver(pool), schema, readBatching: false });
      const kw = createKeyward({ store: named, actions });
      // The reads as keyward makes them: with the kind the user tokens' prefix names.
      const decision = (i: number) => named.loadDecision(data.hashes[i % SAMPLE]!, data.items[i % SAMPLE]!, "user");
      const decisionAlone = (i: number) => alone.loadDecision(data.hashes[i % SAMPLE]!, data.items[i % SAMPLE]!, "user");
      const noItem = (i: number) => named.loadDecision(data.hashes[i % SAMPLE]!, null, "user");
      const list = (i: number) => named.loadAccess(data.hashes[i % SAMPLE]!, { itemType: "inspection" }, "user");
      // Warm: every connection prepares, the plan cache settles.
      for (let i = 0; i < 200; i++) await Promise.all([decision(i), decisionAlone(i), noItem(i), list(i), pool.query("SELECT 1")]);
      for (const callers of [1, 4, 16]) {
        const subjects = [decision, noItem, list, (i: number) => kw.authorize(data.raw[i % SAMPLE]!, "inspections.edit", data.items[i % SAMPLE]), decisionAlone];
        const passes: { base: { p50: number; p99: number }; cells: { p50: number; p99: number }[] }[] = [];
        for (let pass = 0; pass < PASSES; pass++) {
          // SELECT 1 before and after the reads, averaged: the machine's load moves between cells.
          const one = await percentiles(callers, () => pool.query("SELECT 1"));
          const cells = [];
          for (const f of subjects) cells.push(await percentiles(callers, f));
          const one2 = await percentiles(callers, () => pool.query("SELECT 1"));
          passes.push({ base: { p50: (one.p50 + one2.p50) / 2, p99: (one.p99 + one2.p99) / 2 }, cells });
        }
        const base = { p50: median(passes.map((x) => x.base.p50)), p99: median(passes.map((x) => x.base.p99)) };
        const r = (k: number) => {
          const p50 = median(passes.map((x) => x.cells[k]!.p50));
          const p99 = median(passes.map((x) => x.cells[k]!.p99));
          const ratio = median(passes.map((x) => x.cells[k]!.p50 / x.base.p50));
          return `${p50.toFixed(3)} / ${p99.toFixed(3)} (**${ratio.toFixed(1)}×**)`;
        };
        rows.push(`| ${size.toLocaleString("en")} / ${(3 * size).toLocaleString("en")} | ${callers} | ${base.p50.toFixed(3)} / ${base.p99.toFixed(3)} | ${subjects.map((_, k) => r(k)).join(" | ")} |`);
      }
      const q = queries(schema);
      const hash = data.hashes[0]!;
      const item = data.items[0]!;
      const u = q.ofKind.user;
      const reads: [string, string, (string | null)[]][] = [
        ["decision read", u.loadDecision, [hash, item.orgId, item.type, item.id]],
        ["decision read, no item", u.loadDecisionNoItem, [hash]],
        ["list read", u.loadAccess, [hash, item.type]],
      ];
      for (const [name, text, values] of reads) {
        const e = await explain(pool, text, values);
        plans.push(
          `| ${size.toLocaleString("en")} | ${name} | ${e.before.planning.toFixed(3)} | ${e.before.execution.toFixed(3)} | ${e.after.planning.toFixed(3)} | ${e.after.execution.toFixed(3)} | ${e.after.buffers} | ${data.seedSeconds.toFixed(1)} s |`,
        );
      }
      await named.close();
      await alone.close();
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  }
  table(
    `Fresh reads against a SELECT 1 round trip on the same pool (p50 / p99 ms, ratio of the p50s to SELECT 1's), ${ROW_MS} ms per cell, ${PASSES === 1 ? "one pass" : `median of ${PASSES} passes`}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} at the end:`,
    ["tokens / shares", "callers>", "SELECT 1>", "decision read (loadDecision)>", "decision read, no item>", "list read (loadAccess)>", "authorize()>", "decision read, each alone (readBatching: false)>"],
    rows,
  );
  table(
    "EXPLAIN (ANALYZE, BUFFERS) of the reads (median of 5, ms; shared buffers hit):",
    ["tokens>", "read", "unnamed: planning>", "unnamed: execution>", "prepared: planning>", "prepared: execution>", "prepared: buffers>", "seeding in SQL>"],
    plans,
  );
}

/** Counts the heartbeats a store sends on its listening connection. */
function countingListens(inner: SqlDriver, count: { beats: number }): SqlDriver {
  return {
    ...inner,
    async listen(channel, onNotify, onLost, options) {
      const sub = await inner.listen!(channel, onNotify, onLost, options);
      return {
        query: (text, params) => {
          if (text.includes("cache_leases")) count.beats++;
          return sub.query(text, params);
        },
        close: () => sub.close(),
      };
    },
  };
}

export async function changeLatency(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = `bench_change_${Math.random().toString(36).slice(2, 8)}`;
  const writer = postgresStore({ pool, schema });
  await writer.migrate();
  const rows: string[] = [];
  let base = 0;
  let perMinute = 0;
  try {
    for (const k of [0, 1, 4, 16]) {
      const count = { beats: 0 };
      const instances = Array.from({ length: k }, () => {
        const p = new pg.Pool({ connectionString: url, max: 2 });
        return { pool: p, store: postgresStore({ driver: countingListens(pgDriver(p), count), schema, cache: { ttlMs: 5000 } }) };
      });
      for (let i = 0; i < 250 && instances.some((x) => x.store.cacheStatus() !== "up"); i++) await new Promise((r) => setTimeout(r, 20));
      if (k === 1) {
        count.beats = 0;
        await new Promise((r) => setTimeout(r, 10_000));
        perMinute = count.beats * 6;
      }
      const latencies: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        await writer.putUser({ id: "u_bench", name: `n${i}` });
        latencies.push(performance.now() - s);
      }
      latencies.sort((a, b) => a - b);
      if (k === 0) base = pct(latencies, 50);
      rows.push(`| ${k} | ${pct(latencies, 50).toFixed(3)} | ${pct(latencies, 99).toFixed(3)} | ${k === 0 ? "—" : `+${(pct(latencies, 50) - base).toFixed(3)}`} |`);
      for (const x of instances) {
        await x.store.close();
        await x.pool.end();
      }
    }
  } finally {
    await writer.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
  table(
    "A change (putUser, one notifying statement) with k caching instances alive (in-process stores, each with its own pool and listener; 200 changes, ms):",
    ["caching instances>", "p50>", "p99>", "added p50>"],
    rows,
  );
  console.log(`\nHeartbeat writes of one idle caching instance (default lease 3 s): ${perMinute} per minute (measured over 10 s), plus two per change it acknowledges.`);
}
