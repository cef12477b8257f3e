/**
 * Timing helpers: throughput over whole passes (no timer inside the loop), latency from a
 * separate pass timing each call, medians over rounds. Engines of one table run interleaved in
 * every round, so the ratios come from the same conditions.
 * @module
 */

/** One thing to measure: `run(i)` answers query `i % n`. */
export interface Subject {
  name: string;
  /** Number of distinct queries it cycles over. */
  n: number;
  run: (i: number) => unknown;
  /** Whether `run` returns a promise (then every call is awaited). */
  async?: boolean;
}

export interface Result {
  name: string;
  perSecond: number;
  p50us: number;
  p99us: number;
  rounds: number[];
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function pass(x: Subject, calls: number, offset: number): Promise<number> {
  const { run, n } = x;
  const t0 = performance.now();
  if (x.async) for (let i = 0; i < calls; i++) await run((offset + i) % n);
  else for (let i = 0; i < calls; i++) run((offset + i) % n);
  return performance.now() - t0;
}

async function latency(x: Subject, calls: number): Promise<{ p50: number; p99: number }> {
  const t = new Float64Array(calls);
  const { run, n } = x;
  if (x.async) {
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await run(i % n);
      t[i] = performance.now() - t0;
    }
  } else {
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      run(i % n);
      t[i] = performance.now() - t0;
    }
  }
  t.sort();
  return { p50: t[Math.floor(calls * 0.5)]! * 1000, p99: t[Math.floor(calls * 0.99)]! * 1000 };
}

/**
 * Measures the subjects side by side: a warm-up, then `rounds` rounds in each of which every
 * subject runs for about `targetMs` (its call count calibrated in the warm-up), then a latency
 * pass. Returns medians over the rounds.
 */
export async function measure(subjects: Subject[], options: { rounds: number; targetMs: number; latencyCalls?: number }): Promise<Result[]> {
  const calls = new Map<string, number>();
  for (const x of subjects) {
    let c = Math.min(x.n, 1000);
    let ms = await pass(x, c, 0);
    while (ms < 20) {
      c *= 2;
      ms = await pass(x, c, 0);
    }
    calls.set(x.name, Math.max(1, Math.round((c * options.targetMs) / ms)));
  }
  const per = new Map<string, number[]>(subjects.map((x) => [x.name, []]));
  const p50 = new Map<string, number[]>(subjects.map((x) => [x.name, []]));
  const p99 = new Map<string, number[]>(subjects.map((x) => [x.name, []]));
  // Each round runs every subject in SLICES short slices, alternating, so that a change of load
  // on the shared machine hits all of them alike.
  const SLICES = 8;
  for (let r = 0; r < options.rounds; r++) {
    const ms = new Map<string, number>(subjects.map((x) => [x.name, 0]));
    for (let k = 0; k < SLICES; k++) {
      for (const x of subjects) {
        const c = Math.max(1, Math.round(calls.get(x.name)! / SLICES));
        ms.set(x.name, ms.get(x.name)! + (await pass(x, c, r * 7919 + k * c)));
      }
    }
    for (const x of subjects) {
      const c = Math.max(1, Math.round(calls.get(x.name)! / SLICES)) * SLICES;
      per.get(x.name)!.push((c / ms.get(x.name)!) * 1000);
      const l = await latency(x, Math.min(options.latencyCalls ?? 10_000, c));
      p50.get(x.name)!.push(l.p50);
      p99.get(x.name)!.push(l.p99);
    }
  }
  return subjects.map((x) => ({
    name: x.name,
    perSecond: median(per.get(x.name)!),
    p50us: median(p50.get(x.name)!),
    p99us: median(p99.get(x.name)!),
    rounds: per.get(x.name)!,
  }));
}

const fmt = (n: number) => Math.round(n).toLocaleString("en");
const us = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

/** A Markdown table of results. */
export function table(results: Result[]): string {
  const lines = ["| engine | decisions/s (median) | p50 µs | p99 µs | spread of rounds |", "|---|---:|---:|---:|---:|"];
  for (const r of results) {
    const lo = Math.min(...r.rounds);
    const hi = Math.max(...r.rounds);
    lines.push(`| ${r.name} | ${fmt(r.perSecond)} | ${us(r.p50us)} | ${us(r.p99us)} | ${fmt(lo)}–${fmt(hi)} |`);
  }
  return lines.join("\n");
}

export { fmt };

/** What one call costs beyond time: heap bytes allocated per call and the share of time spent in garbage collection. */
export interface Cost {
  name: string;
  /** Median over batches of (heap used after − before) / calls, in a batch that ran no collection. */
  bytesPerCall: number;
  /** Time in GC entries (`perf_hooks`) ÷ wall time, over a pass of `gcCalls` calls. */
  gcShare: number;
  /** Collections in that pass. */
  collections: number;
}

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 30));

/**
 * Bytes per call and GC share (needs `--expose-gc`; without it, bytes are `NaN`). Bytes: after a
 * forced full collection the young generation is empty, so a batch of calls small enough to fit
 * in it allocates without a collection: the growth of `heapUsed` is what it allocated. A batch
 * during which a `gc` entry was observed is discarded. GC share: the sum of the `gc` entries'
 * durations over a long pass, divided by the pass's wall time.
 */
export async function cost(x: Subject, options: { batch?: number; batches?: number; gcCalls: number }): Promise<Cost> {
  const { PerformanceObserver } = await import("node:perf_hooks");
  let collections = 0;
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      collections++;
      gcMs += e.duration;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const force = (globalThis as { gc?: () => void }).gc;
  const batch = options.batch ?? 1000;
  const samples: number[] = [];
  for (let b = 0; b < (options.batches ?? 15); b++) {
    if (force === undefined) break;
    force();
    await flush();
    const seen = collections;
    const before = process.memoryUsage().heapUsed;
    if (x.async) for (let i = 0; i < batch; i++) await x.run((b * batch + i) % x.n);
    else for (let i = 0; i < batch; i++) x.run((b * batch + i) % x.n);
    const after = process.memoryUsage().heapUsed;
    await flush();
    if (collections === seen) samples.push((after - before) / batch);
  }
  await flush();
  collections = 0;
  gcMs = 0;
  const t0 = performance.now();
  if (x.async) for (let i = 0; i < options.gcCalls; i++) await x.run(i % x.n);
  else for (let i = 0; i < options.gcCalls; i++) x.run(i % x.n);
  const wall = performance.now() - t0;
  await flush();
  observer.disconnect();
  return { name: x.name, bytesPerCall: samples.length === 0 ? Number.NaN : median(samples), gcShare: gcMs / wall, collections };
}

/** A Markdown table of costs. */
export function costTable(costs: Cost[]): string {
  const lines = ["| engine | bytes allocated per call (median) | GC share of time | collections |", "|---|---:|---:|---:|"];
  for (const c of costs) lines.push(`| ${c.name} | ${Number.isNaN(c.bytesPerCall) ? "—" : Math.round(c.bytesPerCall).toLocaleString("en")} | ${(c.gcShare * 100).toFixed(1)}% | ${c.collections.toLocaleString("en")} |`);
  return lines.join("\n");
}
