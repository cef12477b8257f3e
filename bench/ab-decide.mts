/**
 * A/B of `decide()` on pre-loaded input and of `authorize()`, on the memory store: this checkout
 * against another one (say, main), loaded side by side in ONE process and measured in interleaved
 * rounds, so that a busy machine slows both alike. Each side pre-loads its inputs with its own
 * store's `loadDecision()`. Not a test: run by hand, e.g.
 *
 *   git worktree add /tmp/base <rev> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   BASE=/tmp/base npx tsx bench/ab-decide.mts
 */
import { fileURLToPath } from "node:url";
import { BENCH_ACTIONS, populate } from "./authorize-world.js";

if (process.env.BASE === undefined) throw new Error("Set BASE to the root of the checkout to compare with.");
const roots = { base: `${process.env.BASE}/src`, new: process.env.NEW === undefined ? fileURLToPath(new URL("../src", import.meta.url)) : `${process.env.NEW}/src` } as const;
const Q = 20_000;
async function setup(root: string) {
  const index = await import(`${root}/index.ts`);
  const core = await import(`${root}/core.ts`).catch(() => index);
  const { memoryStore } = await import(`${root}/memory.ts`);
  const store = memoryStore();
  const kw = index.createKeyward({ store, actions: BENCH_ACTIONS, verifyPassword: () => true });
  const { tokens, items } = await populate(kw, 1000, 10_000);
  const hash = core.tokenHasher();
  const inputs: unknown[] = [];
  const qItems: unknown[] = [];
  for (let i = 0; i < Q; i++) {
    const item = items[(i * 7) % items.length]!;
    inputs.push(await store.loadDecision(hash(tokens[i % tokens.length]!), item));
    qItems.push(item);
  }
  return { kw, tokens, items, decide: core.decide as (...a: unknown[]) => { allowed: boolean }, inputs, qItems };
}
const worlds = { base: await setup(roots.base), new: await setup(roots.new) };
const def = BENCH_ACTIONS["inspections.edit"];
const opts = { inactivityMs: 30 * 86_400_000 };
const NOW = Date.now();
function decideRound(w: Awaited<ReturnType<typeof setup>>) {
  const t0 = performance.now();
  let allowed = 0;
  for (let r = 0; r < 10; r++) for (let i = 0; i < Q; i++) allowed += w.decide(w.inputs[i], "inspections.edit", def, w.qItems[i], NOW, opts).allowed ? 1 : 0;
  return { opsPerSec: ((10 * Q) / (performance.now() - t0)) * 1000, allowed };
}
async function authorizeRound(w: Awaited<ReturnType<typeof setup>>) {
  const t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < Q; i++) allowed += (await w.kw.authorize(w.tokens[i % w.tokens.length], "inspections.edit", w.items[(i * 7) % w.items.length])).allowed ? 1 : 0;
  return { opsPerSec: (Q / (performance.now() - t0)) * 1000, allowed };
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (const [name, round] of [["decide()", decideRound], ["authorize()", authorizeRound]] as const) {
  for (const k of ["base", "new"] as const) await round(worlds[k]); // warm-up
  const r: Record<"base" | "new", number[]> = { base: [], new: [] };
  const agree: Record<"base" | "new", number> = { base: 0, new: 0 };
  for (let i = 0; i < Number(process.env.ROUNDS ?? 11); i++) {
    for (const k of i % 2 ? (["new", "base"] as const) : (["base", "new"] as const)) {
      const out = await round(worlds[k]);
      r[k].push(out.opsPerSec);
      agree[k] = out.allowed;
    }
  }
  if (agree.base !== agree.new) throw new Error(`${name}: the two checkouts disagree (${agree.base} vs ${agree.new} allowed)`);
  console.log(`${name} ops/s, ${r.base.length} interleaved rounds: base median ${Math.round(med(r.base))}, new median ${Math.round(med(r.new))}; new/base ${(med(r.new) / med(r.base)).toFixed(3)} (${agree.new} of ${name === "decide()" ? 10 * Q : Q} allowed)`);
}
