/**
 * The hot loops alone, for a CPU profile: `node --cpu-prof --import tsx bench/profile.ts`
 * (then `node bench/top.mjs CPU.*.cpuprofile`). `BENCH_PROFILE=decide|authorize` picks the loop.
 * @module
 */
import { decide, tokenHasher } from "../src/core.js";
import { keywardOn, loadMemory } from "./load.js";
import { generateScenario } from "./scenario.js";

const s = generateScenario({ users: Number(process.env.BENCH_USERS ?? 2_000), items: Number(process.env.BENCH_ITEMS ?? 20_000), queries: 5_000 });
const store = await loadMemory(s);
const kw = keywardOn(store, s);
const hash = tokenHasher();
const raw = s.queries.map((q) => s.tokens[q.token]!.raw);
const inputs = await Promise.all(s.queries.map(async (q, i) => (await store.loadDecision(hash(raw[i]!), q.item))!));
const which = process.env.BENCH_PROFILE ?? "decide";
if (process.env.BENCH_WARM === "1") for (let j = 0; j < s.queries.length; j++) await kw.authorize(raw[j], s.queries[j]!.action, s.queries[j]!.item);
const N = Number(process.env.BENCH_N ?? 2_000_000);
const t0 = performance.now();
let allowed = 0;
if (which === "decide") {
  for (let i = 0; i < N; i++) {
    const j = i % s.queries.length;
    const q = s.queries[j]!;
    if (decide(inputs[j]!, q.action, s.actions[q.action], q.item, s.now, { inactivityMs: s.inactivityMs }).allowed) allowed++;
  }
} else {
  for (let i = 0; i < N / 4; i++) {
    const j = i % s.queries.length;
    const q = s.queries[j]!;
    if ((await kw.authorize(raw[j], q.action, q.item)).allowed) allowed++;
  }
}
console.log(which, `${Math.round(((which === "decide" ? N : N / 4) / (performance.now() - t0)) * 1000)}/s`, allowed);
