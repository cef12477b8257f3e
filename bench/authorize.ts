/**
 * Quick throughput check of authorize() on the memory store, and of its parts, side by side in
 * one run. Not a test: run by hand (`npm run bench:quick`). The full comparison with peers is in
 * BENCHMARKS.md.
 *
 * Sizes: 1 organization, USERS users (each with one token), ITEMS items each shared with one
 * group of 50, and a rule per site; queries rotate over tokens and items.
 */
import { createKeyward } from "../src/index.js";
import { decide, tokenHasher, tokenParser } from "../src/core.js";
import { memoryStore } from "../src/memory.js";
import { BENCH_ACTIONS, populate } from "./authorize-world.js";

const USERS = Number(process.env.USERS ?? 1000);
const ITEMS = Number(process.env.ITEMS ?? 10_000);
const store = memoryStore();
const actions = BENCH_ACTIONS;
const kw = createKeyward({ store, actions, verifyPassword: () => true });
const { tokens, items } = await populate(kw, USERS, ITEMS);

const Q = 200_000;
const parse = tokenParser();
const hash = tokenHasher();
const inputs = await Promise.all(tokens.map((t) => store.loadDecision(hash(t), items[0]!)));

async function measure(label: string, f: (i: number) => unknown | Promise<unknown>) {
  const isAsync = f(0) instanceof Promise;
  for (let i = 0; i < 20_000; i++) await f(i);
  const t0 = performance.now();
  let allowed = 0;
  if (isAsync) for (let i = 0; i < Q; i++) allowed += ((await f(i)) as { allowed: boolean }).allowed ? 1 : 0;
  else for (let i = 0; i < Q; i++) allowed += (f(i) as { allowed: boolean }).allowed ? 1 : 0;
  const ms = performance.now() - t0;
  return { label, perSecond: Math.round((Q / ms) * 1000), allowedShare: allowed / Q };
}

const rows = [
  await measure("parse + checksum", (i) => ({ allowed: parse(tokens[i % USERS]) !== null })),
  await measure("SHA-256 (one-shot)", (i) => ({ allowed: hash(tokens[i % USERS]!).length > 0 })),
  await measure("decide() on pre-loaded input", (i) => decide(inputs[i % USERS]!, "inspections.edit", actions["inspections.edit"], items[0]!, Date.now(), { inactivityMs: 30 * 86_400_000 })),
  await measure("authorize() full path", (i) => kw.authorize(tokens[i % USERS], "inspections.edit", items[(i * 7) % ITEMS])),
];
console.log(`authorize() on the memory store: ${USERS} users/tokens, ${ITEMS} items, ${Q} queries per row, node ${process.version}`);
console.table(rows.map((r) => ({ part: r.label, "ops/s": r.perSecond.toLocaleString("en"), allowed: `${Math.round(r.allowedShare * 100)}%` })));
