/**
 * OpenTelemetry through `createKeyward({ telemetry: { tracer, meter } })`, checked with the SDK's
 * in-memory exporters: spans for authorize, accessible, login and every token mutation with the
 * action, outcome, reason, subject kind and token id (never the secret nor its digest), errors
 * recorded with status ERROR; metrics for decisions, their duration, store reads and cache hits.
 */
import { metrics, SpanStatusCode, trace } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { createKeyward, type KeywardStore, type TelemetryOptions } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { ACTIONS, caught, PASSWORD, spyStore, world, type World } from "../core/fixture.js";
import { pgliteStore, type TestStore } from "../storage/postgres/support.js";

function sdk() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const telemetry: TelemetryOptions = { tracer: tracerProvider.getTracer("keyward-test"), meter: meterProvider.getMeter("keyward-test") };
  return {
    telemetry,
    spans: () => spans.getFinishedSpans(),
    /** The data points of one metric after a collection. */
    async points(name: string): Promise<DataPoint<number | Histogram>[]> {
      await reader.forceFlush();
      const batches = exporter.getMetrics();
      const last = batches[batches.length - 1];
      const found = last?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
      return (found?.dataPoints ?? []) as DataPoint<number | Histogram>[];
    },
    shutdown: async () => {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** A world whose keyward has the SDK's tracer and meter (the fixture's own instance has none). */
async function telemetryWorld(store?: KeywardStore) {
  const s = sdk();
  const w = await world(store === undefined ? {} : { store });
  const kw = createKeyward({ store: w.store, actions: ACTIONS, clock: () => w.clock.now, verifyPassword: (_u, p) => p === PASSWORD, telemetry: s.telemetry });
  return { ...s, w, kw };
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((x) => x.name === name);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe("spans", () => {
  it("authorize: one span with the action, item type, outcome, reason, subject kind and token id", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const { token, record } = await t.w.userToken(t.w.users.ana.id);
    await t.kw.authorize(token, "reports.export");
    await t.kw.authorize(token, "inspections.view", t.w.inspection("i_nowhere"));
    await t.kw.authorize("kwu_nope", "reports.export");
    const spans = byName(t.spans(), "keyward.authorize");
    expect(spans.map((s) => s.attributes)).toEqual([
      { "keyward.action": "reports.export", "keyward.outcome": "allowed", "keyward.reason": "allowed", "keyward.subject.kind": "user", "keyward.token.id": record.id, "keyward.org.id": "acme" },
      { "keyward.action": "inspections.view", "keyward.item.type": "inspection", "keyward.outcome": "denied", "keyward.reason": "access_denied", "keyward.subject.kind": "user", "keyward.token.id": record.id, "keyward.org.id": "acme" },
      { "keyward.action": "reports.export", "keyward.outcome": "denied", "keyward.reason": "token_malformed" },
    ]);
    for (const s of spans) expect(s.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("accessible and login: spans with their outcome; a login denial (R9) is a decision, not an error", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const user = await t.w.userToken(t.w.users.ana.id);
    const bot = await t.w.serviceToken();
    await t.kw.accessible(user.token, "inspections.view", "inspection");
    await t.kw.login(user.token);
    await caught(() => t.kw.login(bot.token));
    expect(byName(t.spans(), "keyward.accessible")[0]!.attributes).toMatchObject({ "keyward.action": "inspections.view", "keyward.item.type": "inspection", "keyward.outcome": "allowed", "keyward.token.id": user.record.id });
    const logins = byName(t.spans(), "keyward.login");
    expect(logins.map((s) => [s.attributes["keyward.outcome"], s.attributes["keyward.reason"], s.attributes["keyward.subject.kind"], s.status.code])).toEqual([
      ["allowed", "allowed", "user", SpanStatusCode.UNSET],
      ["denied", "login_not_allowed", undefined, SpanStatusCode.UNSET],
    ]);
  });

  it("the throwing forms have the same spans: a denial thrown by assertAuthorized/assertAccessible is a decision, not an error", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const { token, record } = await t.w.userToken(t.w.users.carl.id);
    await caught(() => t.kw.assertAuthorized(token, "reports.export"));
    await caught(() => t.kw.assertAccessible(token, "inspections.view", "inspection"));
    const spans = t.spans().filter((x) => x.name === "keyward.authorize" || x.name === "keyward.accessible");
    expect(spans.map((x) => [x.name, x.attributes["keyward.outcome"], x.attributes["keyward.reason"], x.status.code])).toEqual([
      ["keyward.authorize", "denied", "permission_denied", SpanStatusCode.UNSET],
      ["keyward.accessible", "denied", "permission_denied", SpanStatusCode.UNSET],
    ]);
    expect(record.id).toMatch(/^tok_/);
  });

  it("every token mutation has its span: create (both kinds), revoke, delete, reportLeak, sweepExpired", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const a = await t.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "laptop", password: PASSWORD });
    const b = await t.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "ci", password: PASSWORD });
    const c = await t.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "leaky", password: PASSWORD });
    const s = await t.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: "svc_bi", name: "bot", actorId: "u_ada" });
    await t.kw.tokens.revoke({ orgId: "acme", tokenId: a.record.id, actorId: "u_ana" });
    await t.kw.tokens.delete({ orgId: "acme", tokenId: b.record.id, actorId: "u_ada" });
    await t.kw.tokens.reportLeak({ secret: c.token, found: { source: "content", url: "https://example.com/x" } });
    await t.kw.tokens.sweepExpired({ orgId: "acme" });
    const summary = t.spans().filter((x) => x.name.startsWith("keyward.tokens.")).map((x) => [x.name, x.attributes["keyward.outcome"], x.attributes["keyward.token.id"], x.attributes["keyward.subject.kind"]]);
    expect(summary).toEqual([
      ["keyward.tokens.createUserToken", "ok", a.record.id, "user"],
      ["keyward.tokens.createUserToken", "ok", b.record.id, "user"],
      ["keyward.tokens.createUserToken", "ok", c.record.id, "user"],
      ["keyward.tokens.createServiceToken", "ok", s.record.id, "service_user"],
      ["keyward.tokens.revoke", "ok", a.record.id, undefined],
      ["keyward.tokens.delete", "ok", b.record.id, undefined],
      ["keyward.tokens.reportLeak", "revoked", c.record.id, "user"],
      ["keyward.tokens.sweepExpired", "ok", undefined, undefined],
    ]);
    expect(byName(t.spans(), "keyward.tokens.revoke")[0]!.attributes["keyward.action"]).toBe("tokens.revoke");
    expect(byName(t.spans(), "keyward.tokens.sweepExpired")[0]!.attributes["keyward.tokens.count"]).toBe(0);
  });

  it("an error is recorded on the span with status ERROR and keyward's code, never the driver's message", async () => {
    const inner = memoryStore();
    const { store } = spyStore(inner, { loadDecision: () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.7:5432 secret-ish")) });
    const s = sdk();
    cleanup.push(s.shutdown);
    const kw = createKeyward({ store, actions: ACTIONS, telemetry: s.telemetry });
    const limited = await caught(() => kw.tokens.revoke({ orgId: "acme", tokenId: "tok_x", actorId: "u_x" }));
    expect(limited).toMatchObject({ code: "not_found" });
    const spans = s.spans();
    const revoke = byName(spans, "keyward.tokens.revoke")[0]!;
    expect(revoke.status).toEqual({ code: SpanStatusCode.ERROR, message: "not_found" });
    expect(revoke.attributes).toMatchObject({ "keyward.outcome": "error", "keyward.reason": "not_found" });
    expect(revoke.events.map((e) => e.name)).toEqual(["exception"]);
    expect(JSON.stringify(spans.map((x) => x.events))).not.toContain("ECONNREFUSED");
  });

  it("a store failure in authorize: status ERROR with code unavailable (fail closed), counted as an error decision", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const { token } = await t.w.userToken(t.w.users.ana.id);
    const { store } = spyStore(t.w.store, { loadDecision: () => Promise.reject(new Error("connection reset")) });
    const kw = createKeyward({ store, actions: ACTIONS, telemetry: t.telemetry });
    expect(await caught(() => kw.authorize(token, "reports.export"))).toMatchObject({ code: "unavailable" });
    const span = byName(t.spans(), "keyward.authorize")[0]!;
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: "unavailable" });
    expect(span.attributes).toMatchObject({ "keyward.outcome": "error", "keyward.reason": "unavailable" });
    const points = await t.points("keyward.decisions");
    expect(points.map((p) => p.attributes)).toContainEqual({ "keyward.operation": "authorize", "keyward.outcome": "error", "keyward.reason": "unavailable" });
  });

  it("R5 no span attribute, event or status holds the secret or its digest", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const { token, record } = await t.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "laptop", password: PASSWORD });
    const digest = (await t.w.store.getToken(record.id))!.hash;
    await t.kw.authorize(token, "reports.export");
    await t.kw.accessible(token, "inspections.view", "inspection");
    await t.kw.login(token);
    await t.kw.tokens.reportLeak({ secret: token, found: { source: "content", url: "" } });
    await t.kw.authorize(token, "reports.export");
    await caught(() => t.kw.login(token));
    const spans = t.spans();
    expect(spans.length).toBeGreaterThanOrEqual(7);
    const text = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4, 30));
    expect(text).not.toContain(digest);
    const metricsText = JSON.stringify(await Promise.all(["keyward.decisions", "keyward.decision.duration", "keyward.store.read.duration"].map((n) => t.points(n))));
    expect(metricsText).not.toContain(token);
    expect(metricsText).not.toContain(digest);
  });
});

describe("metrics", () => {
  it("decisions by operation, outcome and reason; a duration histogram per decision", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const { token } = await t.w.userToken(t.w.users.bob.id);
    await t.kw.authorize(token, "reports.export");
    await t.kw.authorize(token, "inspections.view", t.w.inspection("i_1"));
    await t.kw.authorize(token, "inspections.view", t.w.inspection("i_2"));
    await t.kw.authorize("garbage", "reports.export");
    await t.kw.accessible(token, "inspections.view", "inspection");
    const counts = (await t.points("keyward.decisions")).map((p) => [p.attributes["keyward.operation"], p.attributes["keyward.outcome"], p.attributes["keyward.reason"], p.value]);
    expect(counts).toEqual(
      expect.arrayContaining([
        ["authorize", "denied", "permission_denied", 1],
        ["authorize", "denied", "access_denied", 2],
        ["authorize", "denied", "token_malformed", 1],
        ["accessible", "allowed", "allowed", 1],
      ]),
    );
    const durations = await t.points("keyward.decision.duration");
    const authorizeDenied = durations.find((p) => p.attributes["keyward.operation"] === "authorize" && p.attributes["keyward.outcome"] === "denied")!;
    expect((authorizeDenied.value as Histogram).count).toBe(4);
    expect((authorizeDenied.value as Histogram).sum).toBeGreaterThanOrEqual(0);
  });

  it("store reads are timed by method, through the memory store's synchronous path too", async () => {
    const t = await telemetryWorld();
    cleanup.push(t.shutdown);
    const { token } = await t.w.userToken(t.w.users.ana.id);
    await t.kw.authorize(token, "reports.export");
    await t.kw.authorize(token, "reports.export");
    await t.kw.accessible(token, "inspections.view", "inspection");
    await t.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" });
    const reads = await t.points("keyward.store.read.duration");
    const count = (method: string) => reads.filter((p) => p.attributes["keyward.store.method"] === method).reduce((n, p) => n + (p.value as Histogram).count, 0);
    expect(count("loadDecision")).toBe(2);
    expect(count("loadAccess")).toBe(1);
    expect(count("pageTokens")).toBe(1);
    // Writes are not reads.
    expect(count("recordTokenUse")).toBe(0);
  });

  it("with a tracer only, no meter: spans and no error; with a meter only: metrics and no span", async () => {
    const s = sdk();
    cleanup.push(s.shutdown);
    const w: World = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const tracerOnly = createKeyward({ store: w.store, actions: ACTIONS, telemetry: { tracer: s.telemetry.tracer! } });
    const meterOnly = createKeyward({ store: w.store, actions: ACTIONS, telemetry: { meter: s.telemetry.meter! } });
    await tracerOnly.authorize(token, "reports.export");
    await meterOnly.authorize(token, "reports.export");
    expect(byName(s.spans(), "keyward.authorize")).toHaveLength(1);
    expect((await s.points("keyward.decisions")).reduce((n, p) => n + (p.value as number), 0)).toBe(1);
  });

  it("refuses a telemetry option that is not a tracer or a meter (invalid_config)", () => {
    expect(() => createKeyward({ store: memoryStore(), actions: ACTIONS, telemetry: { tracer: {} as never } })).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => createKeyward({ store: memoryStore(), actions: ACTIONS, telemetry: { meter: { createCounter: () => ({}) } as never } })).toThrow(expect.objectContaining({ code: "invalid_config" }));
  });

  it("the API's own tracer and meter fit the option's types (no SDK needed)", () => {
    expectTypeOf(trace.getTracer("keyward")).toExtend<NonNullable<TelemetryOptions["tracer"]>>();
    expectTypeOf(metrics.getMeter("keyward")).toExtend<NonNullable<TelemetryOptions["meter"]>>();
    // With only the API (no provider registered), everything is a no-op and nothing breaks.
    const kw = createKeyward({ store: memoryStore(), actions: ACTIONS, telemetry: { tracer: trace.getTracer("keyward"), meter: metrics.getMeter("keyward") } });
    return expect(kw.authorize("nope", "reports.export")).resolves.toMatchObject({ reason: "token_malformed" });
  });
});

describe("cache hits of the PostgreSQL store (PGlite)", () => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("keyward.store.cache.hits and .misses observe the store's decision cache", async () => {
    t = await pgliteStore({ cache: { ttlMs: 5000 } });
    for (let i = 0; i < 250 && t.store.cacheStatus() !== "up"; i++) await new Promise((r) => setTimeout(r, 20));
    expect(t.store.cacheStatus()).toBe("up");
    const s = sdk();
    cleanup.push(s.shutdown);
    const kw = createKeyward({ store: t.store, actions: ACTIONS, verifyPassword: () => true, telemetry: s.telemetry });
    await kw.directory.createOrganization({ id: "acme", name: "Acme" });
    await kw.directory.upsertUser({ id: "u_ana", name: "Ana" });
    const set = await kw.directory.createPermissionSet({ orgId: "acme", name: "R", permissions: ["reports:export"] });
    await kw.directory.addMember({ orgId: "acme", userId: "u_ana", permissionSetId: set.id });
    const { token } = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "t", password: "x" });
    const before = t.store.cacheStats();
    // The first read fills the cache (a miss), the next ones hit it — unless a late notification of the
    // set-up's writes flushed it meanwhile: read until one hits (at most 20 times).
    let calls = 0;
    while (calls < 20 && (calls < 2 || t.store.cacheStats().hits === before.hits)) {
      expect((await kw.authorize(token, "reports.export")).allowed).toBe(true);
      calls++;
    }
    const after = t.store.cacheStats();
    expect(after.hits + after.misses - before.hits - before.misses).toBe(calls);
    expect(after.hits - before.hits).toBeGreaterThanOrEqual(1);
    const hits = await s.points("keyward.store.cache.hits");
    const misses = await s.points("keyward.store.cache.misses");
    expect(hits[0]!.value).toBe(t.store.cacheStats().hits);
    expect(misses[0]!.value).toBe(t.store.cacheStats().misses);
  }, 120_000);
});
