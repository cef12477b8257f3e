/**
 * R21: what a rate limit adds to a guarded request, per limiter store, side by side in one run.
 * Not a test: `npm run bench:ratelimit` (with KEYWARD_PG_URL and KEYWARD_REDIS_URL for the
 * PostgreSQL and Redis rows; without a URL its row is left out).
 *
 * The same Fetch-binding guard (`keywardFetch(kw).check(request, spec)`: bearer extraction, the
 * item, `authorize()` on the memory store, the activity event, the mapping) runs without a limit
 * and with a limit by token on the memory, PostgreSQL (`pg` Pool on the server) and Redis
 * (`ioredis`) limiter stores. No sockets: the guard is called in process, one request at a time,
 * so what differs between the rows is the limiter (one upsert or one Lua script per request on
 * the remote stores). Rounds alternate the variants; each ratio is the median over rounds of
 * variant / no limit measured in the same round, on the round's median latency (robust to the
 * stalls of a shared machine) and on its mean.
 *
 * Env: ROUNDS (default 7), CALLS per variant and round (default 400).
 */
import { Redis } from "ioredis";
import pg from "pg";
import { keywardFetch } from "../src/middleware/fetch.js";
import { memoryLimiterStore, postgresLimiterStore, rateLimit, redisLimiterStore, type LimiterStore } from "../src/ratelimit/index.js";
import { guardWorld } from "./guard-world.js";
import { median } from "./measure.js";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const CALLS = Number(process.env.CALLS ?? 400);
const USERS = 100;
const PG_URL = process.env.KEYWARD_PG_URL || undefined;
const REDIS_URL = process.env.KEYWARD_REDIS_URL || undefined;

const { kw, tokens } = await guardWorld(USERS, 100);
const requests = tokens.map((t, i) => new Request(`http://bench.local/inspections/insp_${i % 100}`, { headers: { authorization: `Bearer ${t}` } }));
const spec = { action: "inspections.view" as const, item: { orgId: "acme" } };

const closers: (() => Promise<unknown>)[] = [];
const stores: [string, LimiterStore][] = [["memory", memoryLimiterStore()]];
let pgSchema: string | undefined;
let pool: pg.Pool | undefined;
if (PG_URL) {
  pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
  pgSchema = `kwrl_bench_${process.pid}`;
  const store = postgresLimiterStore({ pool, schema: pgSchema });
  await store.migrate();
  stores.push(["PostgreSQL (pg Pool)", store]);
}
let redis: Redis | undefined;
const prefix = `kwrl:bench:${process.pid}`;
if (REDIS_URL) {
  redis = new Redis(REDIS_URL);
  stores.push(["Redis (ioredis)", redisLimiterStore({ client: redis })]);
}

const variants: { name: string; check: (r: Request) => Promise<unknown> }[] = [{ name: "no limit", check: ((g) => (r: Request) => g.check(r, spec, { id: new URL(r.url).pathname.split("/")[2] }))(keywardFetch(kw)) }];
for (const [name, store] of stores) {
  const g = keywardFetch(kw, { rateLimit: rateLimit({ by: "token", limit: 1_000_000_000, windowMs: 3_600_000, store, keyPrefix: prefix }) });
  variants.push({ name, check: (r) => g.check(r, spec, { id: new URL(r.url).pathname.split("/")[2] }) });
}

// Every variant must answer allowed with the headers it should (a bench of a broken guard measures nothing).
for (const v of variants) {
  const r = (await v.check(requests[0]!)) as { ok: boolean; headers?: Record<string, string> };
  if (!r.ok) throw new Error(`${v.name}: the guard did not allow the request`);
  if ((v.name === "no limit") !== (r.headers?.["x-ratelimit-limit"] === undefined)) throw new Error(`${v.name}: unexpected rate-limit headers`);
}

async function measure(v: (typeof variants)[number], calls: number, offset: number): Promise<{ meanUs: number; p50Us: number; samples: number[] }> {
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const s = performance.now();
    await v.check(requests[(offset + i) % requests.length]!);
    samples.push((performance.now() - s) * 1000);
  }
  return { meanUs: ((performance.now() - t0) * 1000) / calls, p50Us: median(samples), samples };
}

for (const v of variants) await measure(v, CALLS / 2, 0); // warm-up (JIT, pool connections, the Lua script)
const per: Record<string, { means: number[]; p50s: number[]; ratios: number[]; meanRatios: number[]; samples: number[] }> = {};
for (const v of variants) per[v.name] = { means: [], p50s: [], ratios: [], meanRatios: [], samples: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  const means: Record<string, number> = {};
  const p50s: Record<string, number> = {};
  for (const v of order) {
    const m = await measure(v, CALLS, round * CALLS);
    means[v.name] = m.meanUs;
    p50s[v.name] = m.p50Us;
    per[v.name]!.means.push(m.meanUs);
    per[v.name]!.p50s.push(m.p50Us);
    per[v.name]!.samples.push(...m.samples);
  }
  for (const v of variants) {
    per[v.name]!.ratios.push(p50s[v.name]! / p50s["no limit"]!);
    per[v.name]!.meanRatios.push(means[v.name]! / means["no limit"]!);
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const base = median(per["no limit"]!.p50s);
console.log(`\nR21 rate limit: guarded request latency by limiter store (${ROUNDS} rounds × ${CALLS} sequential calls, Fetch binding in process, ${new Date().toISOString().slice(0, 10)})\n`);
console.log("| limiter | p50 µs | p99 µs | mean µs | added µs/request (p50) | ratio to no limit, p50 (median of rounds, range) | ratio, mean |");
console.log("|---|---:|---:|---:|---:|---|---:|");
for (const v of variants) {
  const p = per[v.name]!;
  const m = median(p.p50s);
  const range = `${Math.min(...p.ratios).toFixed(2)}–${Math.max(...p.ratios).toFixed(2)}`;
  const none = v.name === "no limit";
  console.log(`| ${v.name} | ${m.toFixed(1)} | ${pct(p.samples, 0.99).toFixed(1)} | ${median(p.means).toFixed(1)} | ${none ? "—" : (m - base).toFixed(1)} | ${none ? "1.00" : `${median(p.ratios).toFixed(2)} (${range})`} | ${none ? "1.00" : median(p.meanRatios).toFixed(2)} |`);
}
if (!PG_URL) console.log("\n(no KEYWARD_PG_URL: PostgreSQL row left out)");
if (!REDIS_URL) console.log("(no KEYWARD_REDIS_URL: Redis row left out)");

if (pool) {
  await pool.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await pool.end();
}
if (redis) {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}
for (const c of closers) await c();
