/**
 * OpenTelemetry, as a layer: spans around `authorize`, `accessible`, `login` and every token
 * mutation, and metrics (decisions by outcome and reason, decision duration, store read duration,
 * cache hits). Nothing here imports `@opentelemetry/api`: the host passes a `Tracer` and/or a
 * `Meter` (from the API, any version 1.x) and keyward calls them through the small structural
 * types below, so a host without OpenTelemetry loads nothing and pays one branch at creation.
 *
 * Attributes never hold a secret or a digest: only the action, outcome, reason, subject kind,
 * token id, organization id and item type.
 * @module
 */
import { KeywardError } from "../core/errors.js";
import type { KeywardStore } from "../storage/types.js";

/** An attribute value keyward sets. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** The part of an OpenTelemetry `Span` keyward uses. */
export interface TelemetrySpan {
  setAttributes(attributes: TelemetryAttributes): unknown;
  /** `code: 2` is `SpanStatusCode.ERROR`. */
  setStatus(status: { code: 2; message?: string }): unknown;
  recordException(exception: { name: string; message: string }): unknown;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` keyward uses (`trace.getTracer("keyward")` fits). */
export interface TelemetryTracer {
  startActiveSpan<F extends (span: TelemetrySpan) => unknown>(name: string, options: { attributes?: TelemetryAttributes }, fn: F): ReturnType<F>;
}

/** The part of an OpenTelemetry `Meter` keyward uses (`metrics.getMeter("keyward")` fits). */
export interface TelemetryMeter {
  createCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: TelemetryAttributes): void };
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(value: number, attributes?: TelemetryAttributes): void };
  createObservableCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { addCallback(callback: (result: { observe(value: number, attributes?: TelemetryAttributes): void }) => void): void };
}

/** The `telemetry` option of `createKeyward()`: a tracer, a meter, or both. Neither: no telemetry at all. */
export interface TelemetryOptions {
  tracer?: TelemetryTracer;
  meter?: TelemetryMeter;
}

/** A store that counts the hits and misses of its decision cache (the PostgreSQL store with `cache`). */
interface CacheCounting {
  cacheStats(): { hits: number; misses: number };
}

/** What a span or a metric says about a finished call. */
type Describe<R> = (result: R) => TelemetryAttributes;

/** The instruments, built once. Internal. */
export interface Telemetry {
  /** A decision (`authorize`, `accessible`, `login`): a span, the decisions counter, the duration histogram. */
  decision<R>(operation: "authorize" | "accessible" | "login", attributes: TelemetryAttributes, run: () => Promise<R>, describe: Describe<R>, denial?: (e: unknown) => TelemetryAttributes | null): Promise<R>;
  /** A token mutation: a span; an error thrown is recorded on it with status ERROR. */
  mutation<R>(operation: string, attributes: TelemetryAttributes, run: () => Promise<R>, describe?: Describe<R>): Promise<R>;
  /** The store with its reads timed (`keyward.store.read.duration`), or the store itself without a meter. */
  store(store: KeywardStore): KeywardStore;
}

const ERROR = 2 as const;

const SPAN_NAMES = { authorize: "keyward.authorize", accessible: "keyward.accessible", login: "keyward.login" } as const;

/** The store methods whose duration is a read's (`keyward.store.read.duration`). */
const READS = /^(get|list|load|page)/;

/** Every method of a store: its own and, for a class instance, its prototypes'. */
function methodNames(store: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = store; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name !== "constructor" && typeof (store as Record<string, unknown>)[name] === "function") names.add(name);
    }
  }
  return [...names];
}

/** The error's safe description: the name and keyward's stable code (never a driver's message, which may quote values). */
function safeError(e: unknown): { name: string; message: string; code: string } {
  if (e instanceof KeywardError) return { name: e.name, message: e.code, code: e.code };
  const name = e instanceof Error ? e.name : typeof e;
  return { name, message: name, code: "internal_error" };
}

const now = () => performance.now();

/**
 * Builds the instruments from the host's tracer and meter, or returns `null` when there are
 * neither (then keyward calls nothing of this module).
 */
export function createTelemetry(options: TelemetryOptions | undefined): Telemetry | null {
  const tracer = options?.tracer;
  const meter = options?.meter;
  if (tracer === undefined && meter === undefined) return null;
  const decisions = meter?.createCounter("keyward.decisions", { description: "Decisions of authorize(), accessible() and login(), by outcome and reason." });
  const decisionDuration = meter?.createHistogram("keyward.decision.duration", { description: "Duration of one decision, store read included.", unit: "s" });
  const storeReadDuration = meter?.createHistogram("keyward.store.read.duration", { description: "Duration of one store read.", unit: "s" });

  /** Runs `run` and reports how it ended to `finish` (before the span ends); the result or the error passes through. */
  async function settle<R>(span: TelemetrySpan | null, run: () => Promise<R>, finish: (span: TelemetrySpan | null, ok: boolean, value: unknown) => void): Promise<R> {
    let result: R;
    try {
      result = await run();
    } catch (error) {
      finish(span, false, error);
      span?.end();
      throw error;
    }
    finish(span, true, result);
    span?.end();
    return result;
  }

  function spanned<R>(name: string, attributes: TelemetryAttributes, run: () => Promise<R>, finish: (span: TelemetrySpan | null, ok: boolean, value: unknown) => void): Promise<R> {
    if (tracer === undefined) return settle(null, run, finish);
    return tracer.startActiveSpan(name, { attributes }, (span) => settle(span, run, finish)) as Promise<R>;
  }

  function markError(span: TelemetrySpan | null, error: unknown): TelemetryAttributes {
    const safe = safeError(error);
    const attributes = { "keyward.outcome": "error", "keyward.reason": safe.code };
    if (span !== null) {
      span.setAttributes(attributes);
      span.recordException({ name: safe.name, message: safe.message });
      span.setStatus({ code: ERROR, message: safe.code });
    }
    return attributes;
  }

  return {
    decision(operation, attributes, run, describe, denial) {
      const start = decisionDuration === undefined ? 0 : now();
      return spanned(SPAN_NAMES[operation], attributes, run, (span, ok, value) => {
        let summary: TelemetryAttributes;
        if (ok) summary = describe(value as Parameters<typeof describe>[0]);
        else {
          // login() throws its denials: they are decisions, not errors.
          summary = denial?.(value) ?? markError(span, value);
        }
        if (span !== null && summary["keyward.outcome"] !== "error") span.setAttributes(summary);
        const outcome = summary["keyward.outcome"]!;
        decisions?.add(1, { "keyward.operation": operation, "keyward.outcome": outcome, "keyward.reason": summary["keyward.reason"]! });
        decisionDuration?.record((now() - start) / 1000, { "keyward.operation": operation, "keyward.outcome": outcome });
      });
    },

    mutation(operation, attributes, run, describe) {
      if (tracer === undefined) return run();
      return spanned(`keyward.tokens.${operation}`, { "keyward.action": `tokens.${operation}`, ...attributes }, run, (span, ok, value) => {
        if (ok) span?.setAttributes({ "keyward.outcome": "ok", ...describe?.(value as Parameters<NonNullable<typeof describe>>[0]) });
        else markError(span, value);
      });
    },

    store(store) {
      if (storeReadDuration === undefined) return store;
      const record = (method: string, start: number, outcome: string) =>
        storeReadDuration.record((now() - start) / 1000, { "keyward.store.method": method, "keyward.store.outcome": outcome });
      const timed: Record<string, unknown> = {};
      for (const method of methodNames(store)) {
        const f = (store as unknown as Record<string, unknown>)[method] as (...args: unknown[]) => Promise<unknown>;
        if (!READS.test(method)) {
          timed[method] = f.bind(store);
          continue;
        }
        const read = (...args: unknown[]): Promise<unknown> => {
          const start = now();
          let pending: Promise<unknown>;
          try {
            pending = f.apply(store, args);
          } catch (e) {
            record(method, start, "error");
            throw e;
          }
          return Promise.resolve(pending).then(
            (r) => {
              record(method, start, "ok");
              return r;
            },
            (e: unknown) => {
              record(method, start, "error");
              throw e;
            },
          );
        };
        timed[method] = read;
      }
      const counting = store as Partial<CacheCounting>;
      if (meter !== undefined && typeof counting.cacheStats === "function") {
        const stats = () => counting.cacheStats!();
        meter.createObservableCounter("keyward.store.cache.hits", { description: "Decision reads served from the store's cache." }).addCallback((r) => r.observe(stats().hits));
        meter.createObservableCounter("keyward.store.cache.misses", { description: "Decision reads the store's cache could not serve (read fresh)." }).addCallback((r) => r.observe(stats().misses));
      }
      return timed as unknown as KeywardStore;
    },
  };
}
