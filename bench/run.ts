/**
 * `npm run bench`: keyward against a hand-written evaluator, CASL and Casbin on one seeded
 * scenario, then how keyward's cost grows with the store, then the memory store's bytes per
 * token and per share. Every engine is first checked to agree with keyward on every query; any
 * disagreement exits non-zero before anything is measured. Results are printed as Markdown.
 *
 * `BENCH_QUICK=1` runs a small version (smaller sizes, fewer rounds) in well under a minute.
 * Needs `--expose-gc` for the memory section (the npm script passes it).
 * @module
 */
import { createHash, hash as oneShot } from "node:crypto";
import os from "node:os";
import { createKeyward, type DecisionInput, type KeywardStore } from "../src/index.js";
import { decide, tokenHasher, tokenParser } from "../src/core.js";
import { admission } from "../src/core/admit.js";
import { digestWords } from "../src/core/digest-words.js";
import { memoryStore } from "../src/memory.js";
import { caslEngine } from "./engines/casl.js";
import { casbinEngine } from "./engines/casbin.js";
import { handWritten } from "./engines/handwritten.js";
import { bestFullPath, dutiesPath } from "./engines/paths.js";
import { keywardOn, loadMemory } from "./load.js";
import { cost, costTable, fmt, measure, median, table, type Cost, type Result, type Subject } from "./measure.js";
import { generateScenario, MAIN_SIZE, type Scenario } from "./scenario.js";

const QUICK = process.env.BENCH_QUICK === "1";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 5));
const TARGET_MS = QUICK ? 60 : 200;
const MAIN = QUICK ? { users: 2_000, items: 20_000, queries: 5_000 } : MAIN_SIZE;
const GROWTH = (process.env.BENCH_GROWTH ?? (QUICK ? "1000,10000,100000" : "1000,100000,1000000")).split(",").map(Number);
/** Sections to run (all by default): `BENCH_SECTIONS=peers,hash,growth,memory`. Without `peers`, CASL and Casbin are skipped. */
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "peers,hash,growth,memory").split(","));
const gc = (globalThis as { gc?: () => void }).gc;

const out = (s = "") => console.log(s);
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

/** Everything the engines need per query, resolved once. */
function prepare(s: Scenario) {
  const hash = tokenHasher();
  const raw = s.queries.map((q) => s.tokens[q.token]!.raw);
  const tokenIds = s.queries.map((q) => s.tokens[q.token]!.record.id);
  const digests = raw.map((r) => hash(r));
  return { raw, tokenIds, digests };
}

async function preload(store: KeywardStore, s: Scenario, digests: string[]): Promise<DecisionInput[]> {
  return Promise.all(s.queries.map(async (q, i) => (await store.loadDecision(digests[i]!, q.item))!));
}

function disagreements(name: string, expected: boolean[], got: (i: number) => boolean, n = expected.length): number {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < n; i++) {
    if (got(i) !== expected[i]) {
      bad++;
      if (first < 0) first = i;
    }
  }
  out(`- ${name}: ${bad} disagreements (of ${fmt(n)} queries)${bad > 0 ? ` — first at query ${first}` : ""}`);
  return bad;
}

/** {@link disagreements} of an engine that answers through a promise. */
async function asyncDisagreements(name: string, expected: boolean[], got: (i: number) => Promise<boolean>): Promise<number> {
  const answers: boolean[] = [];
  for (let i = 0; i < expected.length; i++) answers.push(await got(i));
  return disagreements(name, expected, (i) => answers[i]!);
}

/** keyward's answers from the full path, and the pure decide() checked against them. */
async function expectedOf(s: Scenario, kw: ReturnType<typeof keywardOn>, raw: string[], inputs: DecisionInput[]) {
  const expected: boolean[] = [];
  for (let i = 0; i < s.queries.length; i++) {
    const q = s.queries[i]!;
    expected.push((await kw.authorize(raw[i], q.action, q.item)).allowed);
  }
  const pure = (i: number) => {
    const q = s.queries[i]!;
    return decide(inputs[i]!, q.action, s.actions[q.action], q.item, s.now, { inactivityMs: s.inactivityMs }).allowed;
  };
  return { expected, pure };
}

const ratio = (a: Result, b: Result) => a.perSecond / b.perSecond;
const x = (n: number) => `${n.toFixed(2)}×`;

async function main() {
  out(`# keyward benchmark${QUICK ? " (quick mode)" : ""}`);
  out();
  out(`- date: ${new Date().toISOString()}`);
  out(`- machine: ${os.cpus()[0]?.model ?? "?"}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; node ${process.version}`);
  out(`- rounds: ${ROUNDS} (each engine ~${TARGET_MS} ms per round, engines interleaved); p50/p99 from a separate pass timing each call`);
  out();

  // ── the scenario ──────────────────────────────────────────────────────────────────────────
  let t0 = performance.now();
  const s = generateScenario(MAIN);
  out(`## Scenario (seed 0x${s.seed.toString(16)})`);
  out();
  out(`${fmt(s.orgs.length)} organizations, ${fmt(s.users.length)} users (${fmt(s.memberships.length)} memberships), ${fmt(s.groups.length)} groups, ${fmt(s.sites.length)} sites (region › area › site), ${fmt(s.permissionSets.length)} permission sets, ${fmt(Object.keys(s.actions).length)} actions, ${fmt(s.serviceUsers.length)} service users, ${fmt(s.items.length)} items, ${fmt(s.shares.length)} shares (${fmt(s.shares.filter((x) => x.grantee.kind === "organization" ? x.grantee.orgId !== x.item.orgId : false).length)} to another organization, plus shares to users of it), ${fmt(s.rules.length)} access rules, ${fmt(s.tokens.length)} tokens (${s.tokens.filter((t) => t.record.revokedAt !== null).length} revoked, ${s.tokens.filter((t) => t.record.lastUsedAt !== null && t.record.lastUsedAt < s.now - s.inactivityMs).length} idle-expired, ${s.memberships.filter((m) => m.status !== "active").length} members deactivated), ${fmt(s.queries.length)} queries. Generated in ${secs(t0)}.`);
  t0 = performance.now();
  const store = await loadMemory(s);
  const kw = keywardOn(store, s);
  out(`Memory store loaded in ${secs(t0)}.`);
  const { raw, tokenIds, digests } = prepare(s);
  const inputs = await preload(store, s, digests);
  const { expected, pure } = await expectedOf(s, kw, raw, inputs);
  const allowedShare = expected.filter(Boolean).length / expected.length;
  out(`${(allowedShare * 100).toFixed(1)}% of the queries are allowed.`);

  t0 = performance.now();
  const hw = handWritten(s);
  const tHw = secs(t0);
  t0 = performance.now();
  const peers = SECTIONS.has("peers");
  const casl = caslEngine(s, hw);
  const caslItems = s.queries.map((q) => (q.item === null ? null : casl.load(q.item)));
  const tCasl = secs(t0);
  t0 = performance.now();
  const casbin = peers ? await casbinEngine(s, hw) : null;
  const tCasbin = secs(t0);
  t0 = performance.now();
  const casbinPolicies = peers ? await casbinEngine(s, hw, { sharesAs: "policies" }) : null;
  const tCasbinPolicies = secs(t0);
  out(`Set-up: hand-written ${tHw}, CASL ${tCasl} (abilities built lazily), Casbin ${tCasbin} (shares as policies: ${tCasbinPolicies}).`);
  out();

  // ── agreement ─────────────────────────────────────────────────────────────────────────────
  out("## Agreement (before any timing)");
  out();
  const best = bestFullPath(hw, s, raw);
  const duties = dutiesPath(hw, s, raw);
  const dutiesNative = dutiesPath(hw, s, raw, true);
  let bad = 0;
  bad += disagreements("keyward decide() on pre-loaded input", expected, pure);
  bad += disagreements("hand-written evaluator", expected, (i) => hw.allowed(tokenIds[i]!, s.queries[i]!.action, s.queries[i]!.item));
  bad += disagreements("best full path (one-shot SHA-256 + Map + hand-written)", expected, best);
  bad += await asyncDisagreements("hand-written with keyward's duties (checksum, digest as words, one promise)", expected, duties);
  bad += await asyncDisagreements("hand-written with keyward's duties, crypto.hash's digest", expected, dutiesNative);
  t0 = performance.now();
  if (peers) bad += disagreements("CASL", expected, (i) => casl.allowed(tokenIds[i]!, s.queries[i]!.action, caslItems[i]!));
  out(`  (CASL built ${fmt(casl.abilities())} abilities in the check, ${secs(t0)} including the decisions)`);
  t0 = performance.now();
  if (casbin) bad += disagreements("Casbin", expected, (i) => casbin.allowed(tokenIds[i]!, s.queries[i]!.action, s.queries[i]!.item));
  out(`  (Casbin check took ${secs(t0)})`);
  if (casbinPolicies) bad += disagreements("Casbin with shares as policies (first 10 queries only: each scans every share policy)", expected, (i) => casbinPolicies.allowed(tokenIds[i]!, s.queries[i]!.action, s.queries[i]!.item), 10);
  out();
  if (bad > 0) {
    out(`FAILED: ${bad} disagreements. Nothing measured.`);
    process.exit(1);
  }

  // ── decisions, side by side ───────────────────────────────────────────────────────────────
  const n = s.queries.length;
  const q = s.queries;
  const opts = { inactivityMs: s.inactivityMs };
  const subjects: Subject[] = [
    { name: "keyward decide() (pure, pre-loaded input)", n, run: (i) => decide(inputs[i]!, q[i]!.action, s.actions[q[i]!.action], q[i]!.item, s.now, opts) },
    { name: "hand-written Map/Set evaluator", n, run: (i) => hw.allowed(tokenIds[i]!, q[i]!.action, q[i]!.item) },
    ...(casbin === null ? [] : [
      { name: "CASL (cached ability per subject)", n, run: (i: number) => casl.allowed(tokenIds[i]!, q[i]!.action, caslItems[i]!) },
      { name: "Casbin (RBAC with domains)", n, run: (i: number) => casbin.allowed(tokenIds[i]!, q[i]!.action, q[i]!.item) },
    ]),
    { name: "keyward store.loadDecision() + decide() (no parse, no hash)", n, async: true, run: async (i) => decide((await store.loadDecision(digests[i]!, q[i]!.item))!, q[i]!.action, s.actions[q[i]!.action], q[i]!.item, s.now, opts) },
    { name: "keyward authorize() full path, memory store", n, async: true, run: (i) => kw.authorize(raw[i], q[i]!.action, q[i]!.item) },
    { name: "best full path (one-shot SHA-256 + Map + hand-written)", n, run: best },
    { name: "hand-written with keyward's duties (checksum, digest as words, one promise)", n, async: true, run: duties },
    { name: "hand-written with keyward's duties, crypto.hash's digest", n, async: true, run: dutiesNative },
  ];
  const rows = await measure(subjects, { rounds: ROUNDS, targetMs: TARGET_MS, latencyCalls: Math.min(n, 10_000) });
  const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))!;
  const [kwPure, hand, caslR, casbinR, kwFull, bestR, dutiesR, dutiesNativeR] = ["keyward decide", "hand-written M", "CASL", "Casbin", "keyward authorize", "best", "hand-written with keyward's duties (", "hand-written with keyward's duties,"].map(find) as Result[];
  out(`## Decisions (${fmt(n)} queries, ${fmt(s.tokens.length)} tokens, ${fmt(s.items.length)} items)`);
  out();
  out(table(rows));
  out();
  out(`### Allocation and garbage collection (${fmt(s.tokens.length)} tokens)`);
  out();
  // What the measuring loop's own `await` of an already settled promise allocates: part of every
  // asynchronous subject's figure above (authorize() is awaited like any host awaits it).
  const settled = Promise.resolve(true);
  // authorize()'s own allocation: on the memory store (synchronous reads) the call is over when it
  // returns, so the promise can be dropped — the call's figure without the caller's await.
  const allowedQueries = expected.flatMap((ok, i) => (ok ? [i] : []));
  const alone: Subject = { name: "keyward authorize(), not awaited: the call's own (allowed)", n: allowedQueries.length, run: (i) => void kw.authorize(raw[allowedQueries[i]!], q[allowedQueries[i]!]!.action, q[allowedQueries[i]!]!.item) };
  // The same call with a clock that moves (1 ms per call), as a host's does: every use changes
  // the token's last use. Last in the section: it moves the scenario's last uses past `s.now`.
  let tick = 0;
  const kwMoving = createKeyward({ store, actions: s.actions, clock: () => s.now + ++tick, inactivityMs: s.inactivityMs });
  const moving: Subject = { name: "keyward authorize(), not awaited, clock moving 1 ms a call (allowed)", n: allowedQueries.length, run: (i) => void kwMoving.authorize(raw[allowedQueries[i]!], q[allowedQueries[i]!]!.action, q[allowedQueries[i]!]!.item) };
  out(costTable([...(await costs(subjects, expected)), await cost(alone, { gcCalls: 200_000 }), await cost({ name: "an awaited settled promise (the caller's await alone)", n: 1, async: true, run: () => settled }, { gcCalls: 200_000 }), await cost(moving, { gcCalls: 200_000 })]));
  out();
  if (casbinPolicies) {
    const [slow] = await measure([{ name: "Casbin, shares as policies (first 10 queries)", n: 10, run: (i) => casbinPolicies.allowed(tokenIds[i]!, q[i]!.action, q[i]!.item) }], { rounds: 2, targetMs: 1, latencyCalls: 10 });
    out("Casbin with one policy per share and level instead of role links (the matcher runs against every share policy on every request), same run, 2 rounds of 8 calls:");
    out();
    out(table([slow!]));
    out();
  }

  // ── SHA-256 alone ─────────────────────────────────────────────────────────────────────────
  if (SECTIONS.has("hash")) await hashes(s);

  const targets: [string, number, number][] = [
    ["pure decide() / hand-written evaluator", ratio(kwPure!, hand!), 0.7],
    ...(casbin === null ? [] : ([
      ["pure decide() / CASL", ratio(kwPure!, caslR!), 3],
      ["pure decide() / Casbin", ratio(kwPure!, casbinR!), 50],
    ] as [string, number, number][])),
    ["authorize() on the memory store / best full path", ratio(kwFull!, bestR!), 0.8],
  ];
  const growthRatios = SECTIONS.has("growth") ? await growth() : [];
  if (growthRatios.length > 0) {
    const largest = growthRatios[growthRatios.length - 1]!;
    targets.push([`at ${fmt(largest.size)} tokens and items: decide() / hand-written`, largest.pure, 0.9]);
  }
  if (SECTIONS.has("memory")) await memory();

  // ── targets ───────────────────────────────────────────────────────────────────────────────
  out("## Ratios against the targets (same run)");
  out();
  out("| ratio | measured | target | |");
  out("|---|---:|---:|---|");
  for (const [label, value, target] of targets) out(`| ${label} | ${x(value)} | ≥ ${target}× | ${value >= target ? "met" : "**missed**"} |`);
  // What the target leaves: the hand-written path with keyward's duties against the best full path.
  out(`| (for reference) hand-written with keyward's duties / best full path: digest as words, crypto.hash's digest | ${x(ratio(dutiesR!, bestR!))}, ${x(ratio(dutiesNativeR!, bestR!))} | | |`);
  out(`| (for reference) authorize() / hand-written with keyward's duties (digest as words) | ${x(ratio(kwFull!, dutiesR!))} | | |`);
  if (growthRatios.length > 0) {
    out(`| growth: hand-written with keyward's duties (digest as words) / best full path at ${growthRatios.map((g) => fmt(g.size)).join(" / ")} | ${growthRatios.map((g) => x(g.duties)).join(" / ")} | | |`);
    out(`| growth: authorize() / best full path at ${growthRatios.map((g) => fmt(g.size)).join(" / ")} | ${growthRatios.map((g) => x(g.full)).join(" / ")} | (flat) | |`);
    out(`| growth: decide() / hand-written at ${growthRatios.map((g) => fmt(g.size)).join(" / ")} | ${growthRatios.map((g) => x(g.pure)).join(" / ")} | (flat) | |`);
  }
}

async function hashes(s: Scenario) {
  const noble = tokenHasher(undefined, { preferNode: false });
  const toks = s.tokens.map((t) => t.raw);
  const hashes = await measure(
    [
      { name: "crypto.hash('sha256', t, 'base64url') (one-shot)", n: toks.length, run: (i) => oneShot("sha256", toks[i]!, "base64url") },
      { name: "createHash('sha256').update(t).digest('base64url')", n: toks.length, run: (i) => createHash("sha256").update(toks[i]!).digest("base64url") },
      { name: "@noble/hashes sha256 + base64url (keyward's fallback)", n: toks.length, run: (i) => noble(toks[i]!) },
      { name: "keyward tokenHasher() (the digest's text: what reads of other stores take)", n: toks.length, run: (i) => kwHash(toks[i]!) },
      { name: "keyward digestWords() into 8 words, no string (what authorize() takes on the memory store)", n: toks.length, run: (i) => kwWords(toks[i]!, kwOut) },
      { name: "keyward tokenParser(): prefix, alphabet, CRC32 checksum (no hash)", n: toks.length, run: (i) => parse(toks[i]!) },
    ],
    { rounds: ROUNDS, targetMs: TARGET_MS },
  );
  out("## SHA-256 of a 53-character token (and the parse before it)");
  out();
  out(table(hashes).replace("| engine | decisions/s", "| hash | hashes/s"));
  out();
}

async function growth() {
  // ── growth ────────────────────────────────────────────────────────────────────────────────
  out("## Growth: the same per-subject and per-item shape, more tokens and items");
  out();
  out("| tokens | items | shares | set-up | disagreements | keyward decide()/s | hand-written/s | ratio | keyward authorize()/s | best full path/s | ratio |");
  out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const growthRatios: { size: number; pure: number; full: number; duties: number }[] = [];
  for (const size of GROWTH) {
    gc?.();
    const g0 = performance.now();
    const gs = generateScenario({ users: Math.max(10, Math.round((size - 50) / 1.1)), items: size, queries: 10_000 });
    const gstore = await loadMemory(gs);
    const gkw = keywardOn(gstore, gs);
    const ghw = handWritten(gs);
    const setup = secs(g0);
    const p = prepare(gs);
    const gin = await preload(gstore, gs, p.digests);
    const e = await expectedOf(gs, gkw, p.raw, gin);
    let gbad = 0;
    for (let i = 0; i < gs.queries.length; i++) {
      const qq = gs.queries[i]!;
      if (e.pure(i) !== e.expected[i] || ghw.allowed(p.tokenIds[i]!, qq.action, qq.item) !== e.expected[i]) gbad++;
    }
    if (gbad > 0) {
      out(`FAILED: ${gbad} disagreements at ${size}.`);
      process.exit(1);
    }
    const gq = gs.queries;
    const gn = gq.length;
    const gbest = bestFullPath(ghw, gs, p.raw);
    const gduties = dutiesPath(ghw, gs, p.raw);
    for (let i = 0; i < gn; i++) if ((await gduties(i)) !== e.expected[i]) gbad++;
    if (gbad > 0) {
      out(`FAILED: ${gbad} disagreements of the hand-written path with keyward's duties at ${size}.`);
      process.exit(1);
    }
    const r = await measure(
      [
        { name: "pure", n: gn, run: (i) => decide(gin[i]!, gq[i]!.action, gs.actions[gq[i]!.action], gq[i]!.item, gs.now, { inactivityMs: gs.inactivityMs }) },
        { name: "hand", n: gn, run: (i) => ghw.allowed(p.tokenIds[i]!, gq[i]!.action, gq[i]!.item) },
        { name: "full", n: gn, async: true, run: (i) => gkw.authorize(p.raw[i], gq[i]!.action, gq[i]!.item) },
        { name: "best", n: gn, run: gbest },
        { name: "duties", n: gn, async: true, run: gduties },
      ],
      { rounds: ROUNDS, targetMs: TARGET_MS, latencyCalls: 2_000 },
    );
    const [a, b, c, d, f] = r as [Result, Result, Result, Result, Result];
    growthRatios.push({ size, pure: ratio(a, b), full: ratio(c, d), duties: ratio(f, d) });
    const gsubjects: Subject[] = [
      { name: "keyward decide()", n: gn, run: (i) => decide(gin[i]!, gq[i]!.action, gs.actions[gq[i]!.action], gq[i]!.item, gs.now, { inactivityMs: gs.inactivityMs }) },
      { name: "keyward authorize()", n: gn, async: true, run: (i) => gkw.authorize(p.raw[i], gq[i]!.action, gq[i]!.item) },
      { name: "best full path", n: gn, run: gbest },
    ];
    const allowedAt = e.expected.flatMap((ok, i) => (ok ? [i] : []));
    const alone: Subject = { name: "keyward authorize(), not awaited: the call's own", n: allowedAt.length, run: (i) => void gkw.authorize(p.raw[allowedAt[i]!], gq[allowedAt[i]!]!.action, gq[allowedAt[i]!]!.item) };
    growthCosts.push({ size: gs.tokens.length, latency: [a, c, d], costs: await costs(gsubjects, e.expected), alone: await cost(alone, { gcCalls: 200_000 }) });
    out(`| ${fmt(gs.tokens.length)} | ${fmt(gs.items.length)} | ${fmt(gs.shares.length)} | ${setup} | 0 | ${fmt(a.perSecond)} | ${fmt(b.perSecond)} | ${x(ratio(a, b))} | ${fmt(c.perSecond)} | ${fmt(d.perSecond)} | ${x(ratio(c, d))} |`);
  }
  out();
  out("Per call at each size (p50/p99 from the latency pass of the table above; bytes and GC share as in the decisions section):");
  out();
  out("| tokens | engine | p50 µs | p99 µs | p99 / p50 | bytes per call (allowed) | GC share |");
  out("|---:|---|---:|---:|---:|---:|---:|");
  for (const g of growthCosts) {
    for (const [k, r] of g.latency.entries()) {
      const c = g.costs.find((x) => x.name.endsWith("(allowed)") && x.name.startsWith(["keyward decide()", "keyward authorize()", "best full path"][k]!))!;
      out(`| ${fmt(g.size)} | ${c.name.replace(" (allowed)", "")} | ${r.p50us.toFixed(2)} | ${r.p99us.toFixed(2)} | ${(r.p99us / r.p50us).toFixed(1)} | ${Math.round(c.bytesPerCall)} | ${(c.gcShare * 100).toFixed(1)}% |`);
    }
    out(`| ${fmt(g.size)} | ${g.alone.name} | — | — | — | ${Math.round(g.alone.bytesPerCall)} | ${(g.alone.gcShare * 100).toFixed(1)}% |`);
  }
  out();
  return growthRatios;
}

const growthCosts: { size: number; latency: Result[]; costs: Cost[]; alone: Cost }[] = [];

/**
 * Bytes per call and GC share of the keyward engines and their references: over the allowed
 * queries only (the target is stated per allowed call), and over all queries.
 */
async function costs(subjects: Subject[], expected: boolean[]): Promise<Cost[]> {
  const allowed = expected.flatMap((ok, i) => (ok ? [i] : []));
  const out: Cost[] = [];
  for (const x of subjects) {
    if (/Casbin|CASL/.test(x.name)) continue;
    const only: Subject = { ...x, name: `${x.name} (allowed)`, n: allowed.length, run: (i) => x.run(allowed[i % allowed.length]!) };
    out.push(await cost(only, { gcCalls: 200_000 }));
    out.push(await cost({ ...x, name: `${x.name} (all queries)` }, { gcCalls: 200_000 }));
  }
  return out;
}

async function memory() {
  out("## Memory of the memory store");
  out();
  if (gc === undefined) out("Skipped: run with `node --expose-gc` (the npm script does).");
  else {
    const perToken: number[] = [];
    const perShare: number[] = [];
    const M = QUICK ? 20_000 : 100_000;
    for (let r = 0; r < 3; r++) {
      const [tb, sb] = await memoryRound(M);
      perToken.push(tb);
      perShare.push(sb);
    }
    out(`Heap growth (\`process.memoryUsage().heapUsed\` after \`gc()\`) for ${fmt(M)} tokens and ${fmt(M)} shares, median of ${perToken.length} rounds:`);
    out();
    out("| what | bytes each (median) | rounds |");
    out("|---|---:|---|");
    out(`| token (record with its 43-character digest, id, name, hint; indexes by id, digest, organization, quota owner) | ${fmt(median(perToken))} | ${perToken.map(fmt).join(", ")} |`);
    out(`| share (record with its item key and grantee; index by item, two shares per item) | ${fmt(median(perShare))} | ${perShare.map(fmt).join(", ")} |`);
  }
  out();
}

const kwHash = tokenHasher();
const kwWords = digestWords();
const kwOut = new Int32Array(8);
const parse = tokenParser();

/** One memory round: bytes per token and per share added to a fresh store. */
async function memoryRound(M: number): Promise<[number, number]> {
  const { generateToken, tokenHint } = await import("../src/core.js");
  const store = memoryStore();
  await store.putOrganization({ id: "org", name: "Org", ssoOnly: false });
  await store.putPermissionSet({ id: "ps", orgId: "org", name: "Set", permissions: ["a:b"] });
  for (let i = 0; i < M; i++) {
    await store.updateMembership("org", `user${i}`, () => ({ orgId: "org", userId: `user${i}`, permissionSetId: "ps", groupIds: [], siteIds: [], status: "active", seat: true, epoch: "ep" }));
  }
  const hash = tokenHasher();
  const secrets = Array.from({ length: M }, () => generateToken("user"));
  const quota = admission({ max: 10, now: 1_000, inactivityMs: 1_000_000 });
  gc!();
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < M; i++) {
    const raw = secrets[i]!;
    await store.insertToken(
      { id: `tok_${i.toString(36).padStart(16, "0")}`, kind: "user", orgId: "org", subjectId: `user${i}`, name: "ci token", hash: hash(raw), hint: tokenHint(raw), epoch: "ep", createdAt: 1_000, createdBy: `user${i}`, lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null },
      quota,
    );
  }
  gc!();
  gc!();
  const afterTokens = process.memoryUsage().heapUsed;
  for (let i = 0; i < M; i++) {
    await store.putShare({ id: `sh_${i.toString(36).padStart(16, "0")}`, item: { orgId: "org", type: "inspection", id: `insp_${i >> 1}` }, grantee: { kind: "group", groupId: `org_g${i % 250}` }, level: "edit", createdAt: 1_000 });
  }
  gc!();
  gc!();
  const afterShares = process.memoryUsage().heapUsed;
  if ((await store.loadDecision(hash(secrets[0]!), null)) === null) throw new Error("memory round lost a token");
  return [(afterTokens - before) / M, (afterShares - afterTokens) / M];
}

await main();
