/**
 * Issue 11, finding 5, measured on the memory store (timings stay out of the unit tests):
 *
 * 1. Building 8,000 shares on one item (`putShare` one after another).
 * 2. A denial for another organization's item: the item exists with 1,000 shares (to other
 *    users) vs the item does not exist — `authorize()` alternated in the same rounds, medians of
 *    per-call µs, and their ratio (1.00 = a caller cannot tell them apart by timing, R15).
 *
 * `npx tsx bench/share-index.ts` (about 30 s; the store before the change takes minutes). A third
 * case, another missing item, is the control: its ratio to the first is the run's noise floor.
 * `BENCH_STORE_MODULE=<path>` measures another `memoryStore` module (e.g. a copy of the store
 * before the change) for a before/after table.
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { KeywardStore } from "../src/storage/types.js";
import { FOREIGN_ITEM as item, foreignItemWorld, T0 } from "../test/support/foreign-item.js";
import { median } from "./measure.js";

const modulePath = process.env.BENCH_STORE_MODULE;
const { memoryStore } = (modulePath === undefined ? await import("../src/memory.js") : await import(pathToFileURL(resolve(modulePath)).href)) as {
  memoryStore: () => KeywardStore;
};

// ── 1. building 8,000 shares on one item ─────────────────────────────────────────────────────
{
  const store = memoryStore();
  const n = 8_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.putShare({ id: `sh_${i}`, item, grantee: { kind: "user", userId: `u_${i}` }, level: "view", createdAt: T0 });
  const ms = performance.now() - t0;
  console.log(`build: ${n} shares on one item in ${ms.toFixed(1)} ms (${((ms * 1000) / n).toFixed(2)} µs per share)`);
}

// ── 2. a denial for another organization's item: existing with 1,000 shares vs missing ───────
{
  const { kw, token } = await foreignItemWorld(memoryStore());
  const existing = item;
  const missing = { ...item, id: "i_missing" };
  // Control: another missing item — the ratio of two identical cases is the noise floor of the run.
  const control = { ...item, id: "i_absent" };
  const targets = [existing, missing, control];
  for (const target of targets) {
    const d = await kw.authorize(token, "inspections.view", target);
    if (d.allowed || d.reason !== "access_denied") throw new Error("expected access_denied");
  }

  // Many short passes, the three cases in rotating order in every round, medians per case.
  const calls = 250;
  const rounds = 240;
  async function pass(target: typeof item): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await kw.authorize(token, "inspections.view", target);
    return ((performance.now() - t0) * 1000) / calls;
  }
  for (let r = 0; r < 20; r++) for (const target of targets) await pass(target);
  const times: number[][] = [[], [], []];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 3; k++) {
      const j = (r + k) % 3;
      times[j]!.push(await pass(targets[j]!));
    }
  }
  const [a, b, c] = times.map(median) as [number, number, number];
  console.log(`denial, item of another organization with 1,000 shares: ${a.toFixed(2)} µs per authorize() (median of ${rounds} passes × ${calls})`);
  console.log(`denial, item that does not exist:                       ${b.toFixed(2)} µs`);
  console.log(`denial, another item that does not exist (control):     ${c.toFixed(2)} µs`);
  console.log(`ratio existing / missing: ${(a / b).toFixed(2)} (difference ${(a - b).toFixed(2)} µs); control missing / missing: ${(c / b).toFixed(2)}`);
}
