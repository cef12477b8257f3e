/**
 * `npm run bench:tail`: the latency tail of `authorize()` on the memory store against the best
 * full path's (`npm run bench`'s reference: one-shot SHA-256, a `Map`, the hand-written
 * evaluator), at one size (`BENCH_TAIL_SIZE`, default 1,000,000 tokens and items). Each of
 * `BENCH_ROUNDS` rounds (default 15) runs a throughput pass of both over all 10,000 queries (so
 * that the caches hold what a busy process holds), then times each of the first 2,000 queries
 * alone, `authorize()` awaited as a host awaits it: p50 and p99 per round and per engine. Then,
 * per query, its median over the rounds: if the tail were made of particular queries (a kind of
 * decision that costs more), their medians would show it; if it is made of moments (a cold
 * read, a collection), they do not.
 *
 * Loading a million tokens takes about two minutes and some 6 GB: run with
 * `node --expose-gc --max-old-space-size=16384 --import tsx bench/latency-tail.ts`, as the npm
 * script does. Not a test: run by hand.
 * @module
 */
import { handWritten } from "./engines/handwritten.js";
import { bestFullPath } from "./engines/paths.js";
import { keywardOn, loadMemory } from "./load.js";
import { fmt, median } from "./measure.js";
import { generateScenario } from "./scenario.js";

const SIZE = Number(process.env.BENCH_TAIL_SIZE ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** Queries timed one by one per round (as `npm run bench`'s growth section does). */
const TIMED = 2_000;

const out = (s = "") => console.log(s);

const t00 = performance.now();
const s = generateScenario({ users: Math.max(10, Math.round((SIZE - 50) / 1.1)), items: SIZE, queries: 10_000 });
const store = await loadMemory(s);
const kw = keywardOn(store, s);
const hw = handWritten(s);
const loadedIn = (performance.now() - t00) / 1000;
const q = s.queries;
const n = q.length;
const raw = q.map((x) => s.tokens[x.token]!.raw);
const best = bestFullPath(hw, s, raw);

let bad = 0;
for (let i = 0; i < n; i++) if ((await kw.authorize(raw[i], q[i]!.action, q[i]!.item)).allowed !== best(i)) bad++;
if (bad > 0) {
  out(`FAILED: authorize() and the best full path disagree on ${bad} of ${fmt(n)} queries. Nothing measured.`);
  process.exit(1);
}

const times = { authorize: [] as Float64Array[], best: [] as Float64Array[] };
for (let r = 0; r < ROUNDS; r++) {
  // The throughput passes, each over every query in an order that changes with the round.
  for (let k = 0; k < n; k++) {
    const i = (k * 7919 + r) % n;
    await kw.authorize(raw[i], q[i]!.action, q[i]!.item);
  }
  for (let k = 0; k < n; k++) best((k * 7919 + r) % n);
  const a = new Float64Array(TIMED);
  for (let i = 0; i < TIMED; i++) {
    const t0 = performance.now();
    await kw.authorize(raw[i], q[i]!.action, q[i]!.item);
    a[i] = (performance.now() - t0) * 1000;
  }
  const b = new Float64Array(TIMED);
  for (let i = 0; i < TIMED; i++) {
    const t0 = performance.now();
    best(i);
    b[i] = (performance.now() - t0) * 1000;
  }
  times.authorize.push(a);
  times.best.push(b);
}

const at = (xs: Float64Array | number[], p: number) => Float64Array.from(xs).sort()[Math.floor(xs.length * p)]!;
const line = (xs: number[], digits = 1) => xs.map((x) => x.toFixed(digits)).join(" ");

out(`# The latency tail at ${fmt(s.tokens.length)} tokens and ${fmt(s.items.length)} items`);
out();
out(`- date: ${new Date().toISOString()}; node ${process.version}; loaded in ${loadedIn.toFixed(0)} s; ${ROUNDS} rounds of ${fmt(TIMED)} calls timed one by one per engine`);
out();
out("| engine | p50 µs (median of rounds) | p99 µs (median of rounds) | p99 ÷ p50 per round | median | rounds within 3× |");
out("|---|---:|---:|---|---:|---:|");
for (const [name, rounds] of Object.entries(times)) {
  const p50 = rounds.map((t) => at(t, 0.5));
  const p99 = rounds.map((t) => at(t, 0.99));
  const ratios = p99.map((x, k) => x / p50[k]!);
  out(`| ${name === "best" ? "best full path" : "keyward authorize()"} | ${median(p50).toFixed(2)} | ${median(p99).toFixed(2)} | ${line(ratios)} | ${median(ratios).toFixed(1)} | ${ratios.filter((x) => x <= 3).length} of ${ROUNDS} |`);
}
out();
out("Each query's own median over the rounds (a slow kind of query would stand out here):");
out();
out("| engine | p50 of the medians µs | p99 of the medians µs | p99 ÷ p50 | slowest median µs |");
out("|---|---:|---:|---:|---:|");
for (const [name, rounds] of Object.entries(times)) {
  const medians = Array.from({ length: TIMED }, (_, i) => median(rounds.map((t) => t[i]!)));
  const p50 = at(medians, 0.5);
  const p99 = at(medians, 0.99);
  out(`| ${name === "best" ? "best full path" : "keyward authorize()"} | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${(p99 / p50).toFixed(1)} | ${Math.max(...medians).toFixed(1)} |`);
}
out();
