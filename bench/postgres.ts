/**
 * authorize() on the PostgreSQL store — the real server (KEYWARD_PG_URL) and PGlite — side by
 * side with the memory store, in one run: p50/p99 latency and throughput with 1 and 8
 * concurrent callers, fresh reads vs the opt-in cache, round trips per decision, and last-use
 * writes per 10,000 authorizations of one token. Prints a markdown table. Not a test: run by
 * hand (`npm run bench:postgres`); takes a few minutes. On the server it then runs
 * bench/postgres-multi.ts: fresh reads as a ratio to `SELECT 1` (1/4/16 callers, 10,000 tokens;
 * also 1,000,000 tokens and 3,000,000 shares with KW_BENCH_BIG=1), EXPLAIN (ANALYZE, BUFFERS) of the
 * decision read unnamed vs prepared, and the added latency of a change with 1/4/16 caching instances.
 * KW_BENCH_ONLY=fresh runs only the fresh reads against SELECT 1 and the EXPLAIN; KW_BENCH_PASSES=n
 * repeats each of their cells n times and reports the medians.
 *
 * Data: 1 organization, 200 users (one token each, in one of 20 groups), 1,000 items each
 * shared with one group, one rule per site; calls rotate over tokens and over items their group
 * can edit (200 distinct token–item pairs, all allowed: the allow path, which records the use).
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { createKeyward, type KeywardStore } from "../src/index.js";
import { memoryStore } from "../src/memory.js";
import { pgDriver, pgliteDriver, postgresStore, type SqlDriver } from "../src/postgres.js";
import { changeLatency, freshVsSelect1, table } from "./postgres-multi.js";

const USERS = 200;
const ITEMS = 1000;
const ROW_MS = Number(process.env.ROW_MS ?? 800);
const SINGLE = 10_000;
const URL = process.env.KEYWARD_PG_URL || undefined;
const actions = { "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" } } as const;

interface Counter {
  statements: number;
  /** The decision reads (the one loadDecision statement). */
  reads: number;
  useWrites: number;
}
function counted(inner: SqlDriver, c: Counter): SqlDriver {
  const note = (text: string) => {
    c.statements++;
    if (text.includes("decision_read")) c.reads++;
    if (text.includes("last_used_at = GREATEST")) c.useWrites++;
  };
  return {
    // The statement's name too: without it every read would be planned again on every call.
    query: (text, params, name) => (note(text), inner.query(text, params, name)),
    transaction: (fn) => inner.transaction((tx) => fn({ query: (text, params) => (note(text), tx.query(text, params)) })),
    ...(inner.listen ? { listen: inner.listen.bind(inner) } : {}),
  };
}

async function populate(store: KeywardStore) {
  const kw = createKeyward({ store, actions, verifyPassword: () => true });
  const org = await kw.directory.createOrganization({ id: "acme", name: "Acme" });
  const set = await kw.directory.createPermissionSet({ orgId: org.id, name: "Inspector", permissions: ["inspections:view", "inspections:edit"] });
  const groups = [];
  for (let i = 0; i < 20; i++) groups.push(await kw.directory.createGroup({ orgId: org.id, name: `g${i}` }));
  const sites = [];
  for (let i = 0; i < 10; i++) sites.push(await kw.directory.createSite({ orgId: org.id, name: `s${i}` }));
  const tokens: string[] = [];
  for (let u = 0; u < USERS; u++) {
    await kw.directory.upsertUser({ id: `u${u}`, name: `User ${u}` });
    await kw.directory.addMember({ orgId: org.id, userId: `u${u}`, permissionSetId: set.id, groupIds: [groups[u % 20]!.id], siteIds: [sites[u % 10]!.id] });
    tokens.push((await kw.tokens.createUserToken({ orgId: org.id, userId: `u${u}`, name: "bench", password: "x" })).token);
  }
  const items = [];
  for (let i = 0; i < ITEMS; i++) {
    const item = { orgId: org.id, type: "inspection", id: `i${i}`, attributes: { siteId: sites[i % 10]!.id } };
    await kw.directory.share({ item, grantee: { kind: "group", groupId: groups[i % 20]!.id }, level: "edit" });
    items.push(item);
  }
  for (const s of sites) await kw.directory.addRule({ orgId: org.id, itemType: "inspection", conditions: { siteId: [s.id] }, grantee: { kind: "site", siteId: s.id }, level: "view" });
  return { tokens, items };
}

/** Call i uses token i % USERS and an item shared with that token's group (item j belongs to group j % 20). */
const itemFor = (i: number) => ((i % USERS) % 20) + 20 * ((i * 7) % (ITEMS / 20));

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Runs `callers` concurrent loops of authorize() for ROW_MS; latency per call, throughput overall. */
async function run(store: KeywardStore, data: { tokens: string[]; items: { orgId: string; type: string; id: string }[] }, callers: number, c: Counter) {
  const kw = createKeyward({ store, actions });
  let n = 0;
  // Warm-up: every token used once (its first use is written), caches and plans warm.
  for (let i = 0; i < USERS; i++) await kw.authorize(data.tokens[i]!, "inspections.edit", data.items[itemFor(i)]);
  await (store as { flushTokenUses?: () => Promise<void> }).flushTokenUses?.();
  c.statements = c.reads = c.useWrites = 0;
  const latencies: number[] = [];
  let allowed = 0;
  const end = performance.now() + ROW_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const i = n++;
        const s = performance.now();
        const d = await kw.authorize(data.tokens[i % USERS]!, "inspections.edit", data.items[itemFor(i)]);
        latencies.push(performance.now() - s);
        if (d.allowed) allowed++;
      }
    }),
  );
  const ms = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { calls: latencies.length, p50: pct(latencies, 50), p99: pct(latencies, 99), perSecond: (latencies.length / ms) * 1000, allowed: allowed / latencies.length };
}

interface Backend {
  name: string;
  make(cache: boolean, c: Counter): Promise<{ store: KeywardStore; close(): Promise<void> }>;
  cacheable: boolean;
}

const backends: Backend[] = [{ name: "memory", cacheable: false, make: async () => ({ store: memoryStore(), close: async () => {} }) }];
let pglite: PGlite | undefined;
backends.push({
  name: "PGlite (in-process)",
  cacheable: true,
  async make(cache, c) {
    pglite ??= await PGlite.create();
    const schema = `bench_${Math.random().toString(36).slice(2, 8)}`;
    const store = postgresStore({ driver: counted(pgliteDriver(pglite), c), schema, ...(cache ? { cache: { ttlMs: 5000 } } : {}) });
    await store.migrate();
    return {
      store,
      async close() {
        await store.close();
        await pglite!.query(`DROP SCHEMA "${schema}" CASCADE`);
      },
    };
  },
});
if (URL !== undefined) {
  backends.push({
    name: "PostgreSQL server (pg Pool, max 8)",
    cacheable: true,
    async make(cache, c) {
      const pool = new pg.Pool({ connectionString: URL, max: 9 });
      const schema = `bench_${Math.random().toString(36).slice(2, 8)}`;
      const store = postgresStore({ driver: counted(pgDriver(pool), c), schema, ...(cache ? { cache: { ttlMs: 5000 } } : {}) });
      await store.migrate();
      return {
        store,
        async close() {
          await store.close();
          await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
          await pool.end();
        },
      };
    },
  });
}

const lines: string[] = [];
const single: string[] = [];
/** KW_BENCH_ONLY=fresh: only the server's fresh reads against SELECT 1 (bench/postgres-multi.ts), not the table by store nor the change latency. */
const ONLY_FRESH = process.env.KW_BENCH_ONLY === "fresh" && URL !== undefined;
for (const b of ONLY_FRESH ? [] : backends) {
  for (const cache of b.cacheable ? [false, true] : [false]) {
    const c: Counter = { statements: 0, reads: 0, useWrites: 0 };
    const { store, close } = await b.make(cache, c);
    const data = await populate(store);
    if (cache) {
      const status = () => (store as { cacheStatus?: () => string }).cacheStatus?.();
      for (let i = 0; i < 500 && status() !== "up"; i++) await new Promise((r) => setTimeout(r, 20));
      if (status() !== "up") console.error(`${b.name}: the cache is not up (${status()}): its rows read fresh`);
    }
    for (const callers of [1, 8]) {
      const r = await run(store, data, callers, c);
      const trips = b.name === "memory" ? "0" : `${(c.reads / r.calls).toFixed(2)} + ${(c.useWrites / r.calls).toFixed(4)}`;
      lines.push(
        `| ${b.name} | ${b.cacheable ? (cache ? "cache (5 s, NOTIFY)" : "fresh reads") : "—"} | ${callers} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${Math.round(r.perSecond).toLocaleString("en")} | ${trips} | ${Math.round(r.allowed * 100)}% |`,
      );
    }
    // Writes per 10,000 authorizations of ONE token, real clock, 8 callers: on the server with
    // fresh reads; on PGlite with the cache on (a short run; use writes do not depend on reads).
    if (b.name !== "memory" && cache === b.name.startsWith("PGlite")) {
      const kw = createKeyward({ store, actions });
      const token = data.tokens[0]!;
      await (store as { flushTokenUses?: () => Promise<void> }).flushTokenUses?.();
      c.useWrites = 0;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next++ < SINGLE) await kw.authorize(token, "inspections.edit", data.items[itemFor(0)]);
      }));
      const ms = performance.now() - t0;
      await (store as { flushTokenUses?: () => Promise<void> }).flushTokenUses?.();
      single.push(`| ${b.name} | ${cache ? "cache" : "fresh reads"} | ${SINGLE.toLocaleString("en")} in ${(ms / 1000).toFixed(2)} s | ${c.useWrites} |`);
    }
    await close();
  }
}
await pglite?.close();

if (!ONLY_FRESH) table(
  `authorize() by store — node ${process.version}, ${USERS} users/tokens, ${ITEMS} items, ${ROW_MS} ms per row${URL ? "" : " (no KEYWARD_PG_URL: server rows omitted)"}`,
  ["store", "reads", "callers>", "p50 ms>", "p99 ms>", "authorize/s>", "round trips per decision (read + use write)>", "allowed>"],
  lines,
);
if (!ONLY_FRESH) table(
  "Last-use writes for 10,000 authorizations of one token (real clock, 8 callers, default 10-minute window):",
  ["store", "reads", "authorizations", "UPDATEs of last_used_at>"],
  single,
);
if (URL !== undefined) {
  await freshVsSelect1(URL);
  if (!ONLY_FRESH) await changeLatency(URL);
}
