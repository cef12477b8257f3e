/**
 * `npm run demo:leaks`: leaked-token reports (R22) and OpenTelemetry, end to end, with no network:
 * a keyward instance with its own prefixes and an in-memory OpenTelemetry SDK; the GitHub secret
 * scanning handler served by `node:http`, its keys served by a local stand-in signed with a key
 * pair made here; a signed report revokes a token; `reportLeak()` for another scanner; then the
 * spans and metrics that were recorded. Prints no secret.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createKeyward, tokenPattern } from "../src/index.js";
import { leakReportHandler } from "../src/leaks/index.js";
import { toNodeHandler } from "../src/manage/index.js";
import { memoryStore } from "../src/memory.js";

// ── OpenTelemetry: in a real app, trace.getTracer("keyward") / metrics.getMeter("keyward") from your SDK set-up ──
const spans = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer("keyward");
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
const meter = new MeterProvider({ readers: [reader] }).getMeter("keyward");

// ── keyward with the host's own prefixes (a scanner matches tokens by prefix) ──
const kw = createKeyward({
  store: memoryStore(),
  actions: { "reports.export": { permission: "reports:export" } },
  verifyPassword: () => true,
  prefixes: { user: "acmeu", service_user: "acmes" },
  telemetry: { tracer, meter },
  onEvent: (e) => {
    if (e.type === "token.leaked") console.log(`event token.leaked: ${e.subject.name}'s token ${e.tokenId} found in ${e.found.source} at ${e.found.url || "(no url)"}; revoked now: ${e.revoked}`);
  },
});
await kw.directory.createOrganization({ id: "acme", name: "Acme" });
await kw.directory.upsertUser({ id: "u_ben", name: "Ben Berg" });
const set = await kw.directory.createPermissionSet({ orgId: "acme", name: "Reporter", permissions: ["reports:export"] });
await kw.directory.addMember({ orgId: "acme", userId: "u_ben", permissionSetId: set.id });
const first = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: "laptop", password: "pw" });
const second = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: "ci", password: "pw" });
console.log(`the scanner's pattern: ${tokenPattern(kw.prefixes).source}`);

// ── the scanner's keys, served locally (GitHub's format), and its signing key ──
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const keys = { public_keys: [{ key_identifier: "local-key-1", key: publicKey.export({ type: "spki", format: "pem" }).toString(), is_current: true }] };

const leaks = leakReportHandler(kw, {
  basePath: "/hooks/secret-scanning",
  keysUrl: "https://scanner.invalid/meta/public_keys/secret_scanning", // GITHUB_SECRET_SCANNING_KEYS_URL in production
  fetch: async () => Response.json(keys), // in production: your fetch, with an Authorization header for GitHub's rate limits
});
const server = createServer(toNodeHandler(leaks));
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-scanning`;

// ── GitHub finds the first token in a public repository and reports it, signed ──
const body = JSON.stringify([
  { token: first.token, type: "acme_user_token", url: "https://github.com/acme/app/blob/1a2b3c/.env", source: "content" },
  { token: "acmeu_thisIsNotARealToken", type: "acme_user_token", url: "", source: "commit" },
]);
const signature = sign("sha256", Buffer.from(body), privateKey).toString("base64");
const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "github-public-key-identifier": "local-key-1", "github-public-key-signature": signature }, body });
const labels = (await res.json()) as { label: string; token_type: string }[];
console.log(`POST ${new URL(url).pathname} → ${res.status}, labels: ${labels.map((l) => l.label).join(", ")}`);
console.log(`the reported token now: ${(await kw.authorize(first.token, "reports.export")).reason}`);
const forged = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "github-public-key-identifier": "local-key-1", "github-public-key-signature": signature }, body: body.replace("content", "commit") });
console.log(`a report whose body was altered → ${forged.status}`);

// ── any other scanner: reportLeak() ──
const r = await kw.tokens.reportLeak({ secret: second.token, found: { source: "internal-log-scanner", url: "https://logs.example.com/q/981" } });
console.log(`reportLeak(second token) → ${r.outcome} (${r.tokenId}, ${r.subject?.name})`);
console.log(`reportLeak("hello") → ${(await kw.tokens.reportLeak({ secret: "hello", found: { source: "internal-log-scanner", url: "" } })).outcome}`);
server.close();

// ── what OpenTelemetry recorded ──
console.log(`spans: ${[...new Set(spans.getFinishedSpans().map((s) => s.name))].join(", ")}`);
await reader.forceFlush();
const decisions = metricExporter.getMetrics().at(-1)?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === "keyward.decisions");
for (const p of decisions?.dataPoints ?? []) console.log(`keyward.decisions ${JSON.stringify(p.attributes)} = ${String(p.value)}`);
