/**
 * CPU per fresh read, one caller (bench only, by hand): this process's CPU time and the serving
 * backend's (from /proc, so the server must run on this machine) per call of `SELECT 1`, the
 * decision read, the same read without an item and the list read, over KW_CPU_CALLS calls each
 * (default 20,000), rounds interleaved (KW_CPU_ROUNDS, default 3; the median is shown). A
 * latency ratio under load is a ratio of CPU per call when the server and the callers share the
 * cores, and this measures it without the noise of scheduling.
 *
 * Then the same reads (and `authorize()`) under load: KW_CPU_CALLERS concurrent callers (default
 * "4,16"; empty to skip) for KW_CPU_LOAD_MS each (default 1,000), rounds interleaved: calls per
 * second, p50, this process's CPU per call, and the rest of the machine's (the backends and the
 * kernel, from /proc/stat) per call. Past two callers on two cores the machine is busy, and the
 * latency ratio to `SELECT 1` follows the ratio of these sums. The store batches its reads (the
 * default `readBatching`); the last row sends each decision read alone.
 * `KEYWARD_PG_URL=… npm run bench:postgres-cpu`
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { createKeyward } from "../src/index.js";
import { pgDriver, postgresStore } from "../src/postgres.js";
import { concurrently, seed, table } from "./postgres-multi.js";

const URL = process.env.KEYWARD_PG_URL;
if (!URL) throw new Error("KEYWARD_PG_URL is required");
const CALLS = Number(process.env.KW_CPU_CALLS ?? 20_000);
const ROUNDS = Number(process.env.KW_CPU_ROUNDS ?? 3);
const TICK_US = 1_000_000 / 100;
const CALLERS = (process.env.KW_CPU_CALLERS ?? "4,16").split(",").filter((x) => x.trim() !== "").map(Number);
const LOAD_MS = Number(process.env.KW_CPU_LOAD_MS ?? 1000);
/** CPU time the whole machine spent busy (every core, every process), µs. */
const machineBusy = () => {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) * TICK_US;
};

const pool = new pg.Pool({ connectionString: URL, max: 1 + Math.max(0, ...CALLERS) });
const schema = `bench_cpu_${Math.random().toString(36).slice(2, 8)}`;
const backendTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
};
try {
  const data = await seed(pool, schema, Number(process.env.KW_CPU_TOKENS ?? 10_000));
  const store = postgresStore({ driver: pgDriver(pool), schema });
  const pid = Number((await pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
  const subjects: [string, (i: number) => Promise<unknown>][] = [
    ["SELECT 1", () => pool.query("SELECT 1")],
    ["decision read", (i) => store.loadDecision(data.hashes[i % 100]!, data.items[i % 100]!, "user")],
    ["decision read, no item", (i) => store.loadDecision(data.hashes[i % 100]!, null, "user")],
    ["list read", (i) => store.loadAccess(data.hashes[i % 100]!, { itemType: "inspection" }, "user")],
  ];
  for (const [, f] of subjects) for (let i = 0; i < 500; i++) await f(i);
  const got: { client: number[]; server: number[]; wall: number[] }[] = subjects.map(() => ({ client: [], server: [], wall: [] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const f = subjects[k]![1];
      const c0 = process.cpuUsage();
      const b0 = backendTicks(pid);
      const w0 = performance.now();
      for (let i = 0; i < CALLS; i++) await f(i);
      const w = (performance.now() - w0) * 1000;
      const c = process.cpuUsage(c0);
      got[k]!.client.push((c.user + c.system) / CALLS);
      got[k]!.server.push(((backendTicks(pid) - b0) * TICK_US) / CALLS);
      got[k]!.wall.push(w / CALLS);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = med(got[0]!.client) + med(got[0]!.server);
  table(
    `CPU per call, one caller, ${CALLS.toLocaleString("en")} calls × ${ROUNDS} rounds (median), µs:`,
    ["read", "client>", "backend>", "both>", "ratio to SELECT 1>", "wall>"],
    subjects.map(([name], k) => {
      const g = got[k]!;
      const both = med(g.client) + med(g.server);
      return `| ${name} | ${med(g.client).toFixed(1)} | ${med(g.server).toFixed(1)} | ${both.toFixed(1)} | ${(both / base).toFixed(2)} | ${med(g.wall).toFixed(1)} |`;
    }),
  );
  if (CALLERS.length > 0) await underLoad(data, store);
  await store.close();
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}

/** The reads, `authorize()` and `SELECT 1` with several callers at once, on the same pool. */
async function underLoad(data: Awaited<ReturnType<typeof seed>>, store: ReturnType<typeof postgresStore>) {
  const kw = createKeyward({ store, actions: { "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" } } });
  const alone = postgresStore({ driver: pgDriver(pool), schema, readBatching: false });
  const subjects: [string, (i: number) => Promise<unknown>][] = [
    ["SELECT 1", () => pool.query("SELECT 1")],
    ["decision read", (i) => store.loadDecision(data.hashes[i % 100]!, data.items[i % 100]!, "user")],
    ["decision read, no item", (i) => store.loadDecision(data.hashes[i % 100]!, null, "user")],
    ["list read", (i) => store.loadAccess(data.hashes[i % 100]!, { itemType: "inspection" }, "user")],
    ["authorize()", (i) => kw.authorize(data.raw[i % 100]!, "inspections.edit", data.items[i % 100])],
    ["decision read, each alone (`readBatching: false`)", (i) => alone.loadDecision(data.hashes[i % 100]!, data.items[i % 100]!, "user")],
  ];
  for (const [, f] of subjects) for (let i = 0; i < 300; i++) await f(i);
  const rows: string[] = [];
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const callers of CALLERS) {
    const got = subjects.map(() => ({ perSecond: [] as number[], p50: [] as number[], client: [] as number[], rest: [] as number[] }));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < subjects.length; k++) {
        const c0 = process.cpuUsage();
        const m0 = machineBusy();
        const w0 = performance.now();
        const latencies = await concurrently(callers, LOAD_MS, subjects[k]![1]);
        const wall = performance.now() - w0;
        const c = process.cpuUsage(c0);
        const n = latencies.length;
        const client = (c.user + c.system) / n;
        got[k]!.perSecond.push((n / wall) * 1000);
        got[k]!.p50.push(latencies[Math.floor(latencies.length / 2)]! * 1000);
        got[k]!.client.push(client);
        got[k]!.rest.push((machineBusy() - m0) / n - client);
      }
    }
    const base = got[0]!;
    for (let k = 0; k < subjects.length; k++) {
      const g = got[k]!;
      const both = med(g.client) + med(g.rest);
      const baseBoth = med(base.client) + med(base.rest);
      rows.push(
        `| ${callers} | ${subjects[k]![0]} | ${Math.round(med(g.perSecond)).toLocaleString("en")} | ${med(g.p50).toFixed(0)} (${(med(g.p50) / med(base.p50)).toFixed(1)}×) | ${med(g.client).toFixed(1)} | ${med(g.rest).toFixed(1)} | ${both.toFixed(1)} (${(both / baseBoth).toFixed(1)}×) |`,
      );
    }
  }
  await alone.close();
  table(
    `Under load, ${LOAD_MS} ms per cell × ${ROUNDS} rounds (median); CPU per call in µs, "rest" is the backends and the kernel (the whole machine's busy time less this process's):`,
    ["callers>", "call", "calls/s>", "p50 µs (÷ SELECT 1)>", "this process>", "rest>", "both (÷ SELECT 1)>"],
    rows,
  );
}
