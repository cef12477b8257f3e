/**
 * A/B of `authorize()` on the memory store: this checkout against another one (say, main),
 * loaded side by side in ONE process and measured in interleaved rounds, so that a busy machine
 * slows both alike. Not a test: run by hand, e.g.
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   BASE=/tmp/base npx tsx bench/ab-authorize.mts
 *
 * Sizes as `bench/authorize.ts` (1000 users/tokens, 10000 shared items, a rule per site).
 */
import { fileURLToPath } from "node:url";
import { BENCH_ACTIONS, populate } from "./authorize-world.js";

if (process.env.BASE === undefined) throw new Error("Set BASE to the root of the checkout to compare with.");
const roots = { base: `${process.env.BASE}/src`, new: fileURLToPath(new URL("../src", import.meta.url)) } as const;
async function setup(root: string) {
  const { createKeyward } = await import(`${root}/index.ts`);
  const { memoryStore } = await import(`${root}/memory.ts`);
  const kw = createKeyward({ store: memoryStore(), actions: BENCH_ACTIONS, verifyPassword: () => true });
  const { tokens, items } = await populate(kw, 1000, 10_000);
  return { kw, tokens, items };
}
const worlds = { base: await setup(roots.base), new: await setup(roots.new) };
const N = 40_000;
async function round(w: Awaited<ReturnType<typeof setup>>) {
  const t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < N; i++) allowed += (await w.kw.authorize(w.tokens[i % w.tokens.length], "inspections.edit", w.items[(i * 7) % w.items.length])).allowed ? 1 : 0;
  return (N / (performance.now() - t0)) * 1000;
}
for (const k of ["base", "new"] as const) await round(worlds[k]); // warm-up
const r: Record<string, number[]> = { base: [], new: [] };
for (let i = 0; i < Number(process.env.ROUNDS ?? 15); i++) for (const k of i % 2 ? (["new", "base"] as const) : (["base", "new"] as const)) r[k]!.push(await round(worlds[k]));
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const max = (a: number[]) => Math.max(...a);
console.log(`authorize() ops/s over ${r.base!.length} interleaved rounds of ${N}: base median ${Math.round(med(r.base!))} best ${Math.round(max(r.base!))}; new median ${Math.round(med(r.new!))} best ${Math.round(max(r.new!))}; ratio new/base median ${(med(r.new!) / med(r.base!)).toFixed(3)}, best ${(max(r.new!) / max(r.base!)).toFixed(3)}`);
