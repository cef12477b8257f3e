/**
 * `npm run bench:breakdown`: where `authorize()` on the memory store spends what the best full
 * path does not. From the best full path (`npm run bench`'s reference: one-shot SHA-256, a `Map`,
 * the hand-written evaluator), one step at a time toward `authorize()`, each step a path of its
 * own measured side by side with the others (interleaved rounds, medians):
 *
 * 1. keyward's duties around the hand-written evaluator: the checksum before anything (DESIGN.md's
 *    step 1), the digest as words found in a `DigestIndex` (no digest string: what the 200-byte
 *    budget leaves room for), one promise for the answer;
 * 2. plus keyward's read (the memory store's own `loadDecision()`; the hand-written evaluator
 *    still answers);
 * 3. with keyward's `decide()` on that read in place of the hand-written evaluator;
 * 4. plus the input's validation (`checkItem`) and the use record (R6);
 * 5. `authorize()` itself: the same steps through the one pipeline.
 *
 * Every path is first checked to agree with `authorize()` on every query. Sizes from
 * `BENCH_BREAKDOWN` (default `1000,10000`: all in cache, then not), rounds from `BENCH_ROUNDS`
 * (default 9). Not a test: run by hand.
 * @module
 */
import { decide } from "../src/core.js";
import { digestWords } from "../src/core/digest-words.js";
import { passedTokenStage } from "../src/core/reasons.js";
import { tokenParser } from "../src/core/token-format.js";
import type { ActionDefinition, Decision, ItemRef } from "../src/index.js";
import { checkItem } from "../src/service/schemas.js";
import { ownReadsOf } from "../src/storage/own-reads.js";
import type { SyncReads } from "../src/storage/types.js";
import { handWritten } from "./engines/handwritten.js";
import { bestFullPath, dutiesPath } from "./engines/paths.js";
import { keywardOn, loadMemory } from "./load.js";
import { fmt, measure, type Subject } from "./measure.js";
import { generateScenario } from "./scenario.js";

const SIZES = (process.env.BENCH_BREAKDOWN ?? "1000,10000").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

const out = (s = "") => console.log(s);

async function breakdown(size: number): Promise<void> {
  const s = generateScenario({ users: Math.max(10, Math.round((size - 50) / 1.1)), items: size, queries: 10_000 });
  const store = await loadMemory(s);
  const kw = keywardOn(store, s);
  const hw = handWritten(s);
  const q = s.queries;
  const n = q.length;
  const raw = q.map((x) => s.tokens[x.token]!.raw);
  const parse = tokenParser();
  const words = digestWords();
  const w = new Int32Array(8);
  const own = ownReadsOf(store.sync as SyncReads);
  const actions = new Map<string, ActionDefinition>(Object.entries(s.actions));
  const opts = { inactivityMs: s.inactivityMs };

  /** Steps 2–4: the checksum, the digest as words, keyward's read, then the answer (keyward's decision from step 3 on, handed on as `authorize()` hands it). */
  const withRead = (answer: (i: number, digest: string, item: ItemRef | null, def: ActionDefinition) => boolean | Decision, validate: boolean) => (i: number) => {
    const token = raw[i]!;
    if (parse(token) === null || !words(token, w)) return Promise.resolve(false);
    const digest = own.findDigest!(w);
    if (digest === null) return Promise.resolve(false);
    const x = q[i]!;
    const item = validate && x.item !== null ? checkItem(x.item) : x.item;
    const def = actions.get(x.action)!;
    return Promise.resolve(answer(i, digest, item, def));
  };
  const steps: Subject[] = [
    { name: "best full path (one-shot SHA-256 + Map + hand-written)", n, run: bestFullPath(hw, s, raw) },
    { name: "1. hand-written with keyward's duties (checksum, digest as words, one promise)", n, async: true, run: dutiesPath(hw, s, raw) },
    {
      name: "2. … plus keyward's read (the hand-written evaluator still answers)",
      n,
      async: true,
      run: withRead((i, digest, item, def) => {
        const input = own.loadDecision(digest, def.access === undefined ? null : item);
        return input !== null && hw.allowed(input.token.id, q[i]!.action, q[i]!.item);
      }, false),
    },
    {
      name: "3. … keyward's decide() on the read instead of the hand-written evaluator",
      n,
      async: true,
      run: withRead((i, digest, item, def) => {
        const input = own.loadDecision(digest, def.access === undefined ? null : item);
        return input !== null && decide(input, q[i]!.action, def, item, s.now, opts);
      }, false),
    },
    {
      name: "4. … plus the item's validation and the use record",
      n,
      async: true,
      run: withRead((i, digest, item, def) => {
        const input = own.loadDecision(digest, def.access === undefined ? null : item);
        if (input === null) return false;
        const d = decide(input, q[i]!.action, def, item, s.now, opts);
        if (passedTokenStage(d.reason)) own.recordTokenUse(input.token.id, s.now);
        return d;
      }, true),
    },
    // Its promise as is (a `.then()` here would add a promise and a closure the others do not have).
    { name: "5. keyward authorize() (the pipeline)", n, async: true, run: (i) => kw.authorize(raw[i], q[i]!.action, q[i]!.item) },
  ];

  // Agreement first: every path answers as authorize() does, on every query.
  const expected: boolean[] = [];
  for (let i = 0; i < n; i++) expected.push((await kw.authorize(raw[i], q[i]!.action, q[i]!.item)).allowed);
  for (const step of steps) {
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const answer = await step.run(i);
      if ((typeof answer === "boolean" ? answer : (answer as { allowed: boolean }).allowed) !== expected[i]) bad++;
    }
    if (bad > 0) {
      out(`FAILED: "${step.name}" disagrees with authorize() on ${bad} of ${fmt(n)} queries. Nothing measured.`);
      process.exit(1);
    }
  }

  const rows = await measure(steps, { rounds: ROUNDS, targetMs: 100, latencyCalls: 2_000 });
  out(`## ${fmt(s.tokens.length)} tokens, ${fmt(s.items.length)} items (${fmt(n)} queries, ${ROUNDS} interleaved rounds)`);
  out();
  out("| path | calls/s (median) | µs per call | added by the step | ÷ best full path |");
  out("|---|---:|---:|---:|---:|");
  const best = rows[0]!;
  let before = 0;
  for (const [k, r] of rows.entries()) {
    const us = 1e6 / r.perSecond;
    out(`| ${r.name} | ${fmt(r.perSecond)} | ${us.toFixed(3)} | ${k === 0 ? "—" : `${us - before >= 0 ? "+" : ""}${(us - before).toFixed(3)}`} | ${(r.perSecond / best.perSecond).toFixed(2)}× |`);
    before = us;
  }
  out();
}

out("# Where authorize() spends what the best full path does not");
out();
out(`- date: ${new Date().toISOString()}; node ${process.version}`);
out();
for (const size of SIZES) await breakdown(size);
