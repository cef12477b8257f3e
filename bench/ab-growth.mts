/**
 * A/B on the growth scenario of `npm run bench` (one size): `decide()` on pre-loaded input and
 * `authorize()` of this checkout against another one, next to the hand-written evaluator and the
 * best full path, loaded side by side in ONE process and measured in interleaved rounds (each
 * subject ~100 ms per round), so that a busy machine slows all alike. Both checkouts must agree
 * with the hand-written evaluator on every query first. Not a test: run by hand, e.g.
 *
 *   git worktree add /tmp/base <rev> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   BASE=/tmp/base SIZE=10000 npx tsx bench/ab-growth.mts
 *
 * `SIZE` (default 10,000) tokens and items; `ROUNDS` (default 11); `MOVING=1` gives both
 * `authorize()`s a clock that moves 1 ms a call, as a host's does (every use changes the
 * token's last use), instead of the scenario's fixed one.
 */
import { hash as oneShot } from "node:crypto";
import { fileURLToPath } from "node:url";
import { handWritten } from "./engines/handwritten.js";
import { fill } from "./load.js";
import { median } from "./measure.js";
import { generateScenario, type Scenario } from "./scenario.js";

if (process.env.BASE === undefined) throw new Error("Set BASE to the root of the checkout to compare with.");
const SIZE = Number(process.env.SIZE ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 11);
const MOVING = process.env.MOVING === "1";
const s: Scenario = generateScenario({ users: Math.max(10, Math.round((SIZE - 50) / 1.1)), items: SIZE, queries: 10_000 });
const roots = { base: `${process.env.BASE}/src`, new: fileURLToPath(new URL("../src", import.meta.url)) } as const;

/** One checkout's store, loaded through its own `KeywardStore` methods, and its keyward. */
async function world(root: string) {
  const { memoryStore } = await import(`${root}/memory.ts`);
  const core = await import(`${root}/core.ts`);
  const { createKeyward } = await import(`${root}/index.ts`);
  const store = memoryStore();
  await fill(store, s, core.admission);
  let tick = 0;
  const kw = createKeyward({ store, actions: s.actions, clock: MOVING ? () => s.now + ++tick : () => s.now, inactivityMs: s.inactivityMs });
  const hash = core.tokenHasher();
  const inputs = s.queries.map((q) => store.loadDecision(hash(s.tokens[q.token]!.raw), s.actions[q.action]!.access === undefined ? null : q.item));
  return { decide: core.decide as (...a: unknown[]) => { allowed: boolean }, inputs: await Promise.all(inputs), kw };
}

const w = { base: await world(roots.base), new: await world(roots.new) };
const hw = handWritten(s);
const q = s.queries;
const n = q.length;
const opts = { inactivityMs: s.inactivityMs };
const raw = q.map((x) => s.tokens[x.token]!.raw);
const ids = q.map((x) => s.tokens[x.token]!.record.id);

let bad = 0;
for (let i = 0; i < n; i++) {
  const want = hw.allowed(ids[i]!, q[i]!.action, q[i]!.item);
  for (const side of [w.base, w.new]) {
    if (side.decide(side.inputs[i], q[i]!.action, s.actions[q[i]!.action], q[i]!.item, s.now, opts).allowed !== want) bad++;
    if (!MOVING && (await side.kw.authorize(raw[i], q[i]!.action, q[i]!.item)).allowed !== want) bad++;
  }
}
if (bad > 0) throw new Error(`${bad} disagreements with the hand-written evaluator: nothing measured`);

const decideOn = (side: typeof w.base) => () => {
  let a = 0;
  for (let i = 0; i < n; i++) if (side.decide(side.inputs[i], q[i]!.action, s.actions[q[i]!.action], q[i]!.item, s.now, opts).allowed) a++;
  return a;
};
const authorizeOn = (side: typeof w.base) => async () => {
  let a = 0;
  for (let i = 0; i < n; i++) if ((await side.kw.authorize(raw[i], q[i]!.action, q[i]!.item)).allowed) a++;
  return a;
};
const subjects: Record<string, () => number | Promise<number>> = {
  hand: () => {
    let a = 0;
    for (let i = 0; i < n; i++) if (hw.allowed(ids[i]!, q[i]!.action, q[i]!.item)) a++;
    return a;
  },
  "decide base": decideOn(w.base),
  "decide new": decideOn(w.new),
  best: () => {
    let a = 0;
    for (let i = 0; i < n; i++) {
      const id = hw.byDigest.get(oneShot("sha256", raw[i]!, "base64url"));
      if (id !== undefined && hw.allowed(id, q[i]!.action, q[i]!.item)) a++;
    }
    return a;
  },
  "authorize base": authorizeOn(w.base),
  "authorize new": authorizeOn(w.new),
};
const perSecond: Record<string, number[]> = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(subjects)) {
    const t0 = performance.now();
    let calls = 0;
    while (performance.now() - t0 < 100) {
      await run();
      calls += n;
    }
    perSecond[name]!.push((calls / (performance.now() - t0)) * 1000);
  }
}
const m = Object.fromEntries(Object.entries(perSecond).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const x = (a: number, b: number) => `${(a / b).toFixed(3)}×`;
console.log(`${s.tokens.length.toLocaleString("en")} tokens, ${ROUNDS} interleaved rounds, clock ${MOVING ? "moving 1 ms a call" : "fixed"}; medians per second: ${Object.entries(m).map(([k, v]) => `${k} ${Math.round(v).toLocaleString("en")}`).join(", ")}`);
console.log(`decide() / hand-written: base ${x(m["decide base"]!, m.hand!)}, new ${x(m["decide new"]!, m.hand!)}; new / base ${x(m["decide new"]!, m["decide base"]!)}`);
console.log(`authorize() / best full path: base ${x(m["authorize base"]!, m.best!)}, new ${x(m["authorize new"]!, m.best!)}; new / base ${x(m["authorize new"]!, m["authorize base"]!)}`);
