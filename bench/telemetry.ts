/**
 * `npm run bench:telemetry`: what OpenTelemetry costs `authorize()` on the memory store, side by
 * side in one run (interleaved rounds, medians), as ratios to keyward without telemetry:
 * - no telemetry (the `telemetry` option absent);
 * - the API only: `trace.getTracer()` / `metrics.getMeter()` with no provider registered (no-ops);
 * - the SDK, tracer only (BasicTracerProvider + SimpleSpanProcessor + InMemorySpanExporter);
 * - the SDK, meter only (MeterProvider with a reader: counter + two histograms);
 * - the SDK, tracer and meter.
 * The scenario is the benchmark's seeded one (`bench/scenario.ts`), at `BENCH_USERS` users.
 * @module
 */
import os from "node:os";
import { metrics, trace } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createKeyward, type TelemetryOptions } from "../src/index.js";
import { loadMemory } from "./load.js";
import { fmt, measure, median, table, type Subject } from "./measure.js";
import { generateScenario } from "./scenario.js";

const USERS = Number(process.env.BENCH_USERS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const out = (s = "") => console.log(s);

const s = generateScenario({ users: USERS, items: USERS * 10, queries: 5_000 });
const store = await loadMemory(s);
const raw = s.queries.map((q) => s.tokens[q.token]!.raw);

const spans = new InMemorySpanExporter();
const sdkTracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer("keyward-bench");
const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
const sdkMeter = new MeterProvider({ readers: [reader] }).getMeter("keyward-bench");

const variants: [string, TelemetryOptions | undefined][] = [
  ["no telemetry", undefined],
  ["API only (no-op tracer + meter)", { tracer: trace.getTracer("keyward-bench"), meter: metrics.getMeter("keyward-bench") }],
  ["SDK tracer (in-memory spans)", { tracer: sdkTracer }],
  ["SDK meter (in-memory reader)", { meter: sdkMeter }],
  ["SDK tracer + meter", { tracer: sdkTracer, meter: sdkMeter }],
];

const subjects: Subject[] = variants.map(([name, telemetry]) => {
  const kw = createKeyward({ store, actions: s.actions, clock: () => s.now, inactivityMs: s.inactivityMs, ...(telemetry ? { telemetry } : {}) });
  let calls = 0;
  return {
    name,
    n: s.queries.length,
    async: true,
    run: (i: number) => {
      // Keep the exporter's memory flat: the spans are not what is measured.
      if (++calls % 10_000 === 0) spans.reset();
      const q = s.queries[i]!;
      return kw.authorize(raw[i], q.action as never, q.item);
    },
  };
});

out(`# keyward telemetry overhead`);
out();
out(`- date: ${new Date().toISOString()}`);
out(`- node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
out(`- scenario: ${fmt(USERS)} users, ${fmt(USERS * 10)} items, ${fmt(s.queries.length)} distinct queries; memory store; ${ROUNDS} rounds, medians`);
out();
const results = await measure(subjects, { rounds: ROUNDS, targetMs: 200 });
out(table(results));
out();

/**
 * CPU time per decision (user + system, `process.cpuUsage()`), the variants interleaved in
 * slices of CPU_CALLS calls, median over CPU_SLICES slices: on a shared machine, time spent
 * descheduled does not count, so this is steadier than wall-clock throughput.
 */
const CPU_CALLS = 5_000;
const CPU_SLICES = Number(process.env.BENCH_CPU_SLICES ?? 15);
const cpu = new Map<string, number[]>(subjects.map((x) => [x.name, []]));
for (let k = 0; k < CPU_SLICES; k++) {
  for (const x of subjects) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < CPU_CALLS; i++) await x.run((k * CPU_CALLS + i) % x.n);
    const d = process.cpuUsage(c0);
    cpu.get(x.name)!.push((d.user + d.system) / CPU_CALLS);
  }
}
const cpuUs = subjects.map((x) => median(cpu.get(x.name)!));
const base = results[0]!;
out("| variant | CPU µs per decision (median) | CPU vs no telemetry | added CPU µs | throughput vs no telemetry | p50 vs no telemetry |");
out("|---|---:|---:|---:|---:|---:|");
results.forEach((r, i) => {
  out(`| ${r.name} | ${cpuUs[i]!.toFixed(2)} | ${(cpuUs[i]! / cpuUs[0]!).toFixed(2)}× | ${(cpuUs[i]! - cpuUs[0]!).toFixed(2)} | ${(r.perSecond / base.perSecond).toFixed(2)}× | ${(r.p50us / base.p50us).toFixed(2)}× |`);
});
