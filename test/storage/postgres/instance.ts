/**
 * One keyward instance in its own OS process, for the multi-process tests and the benchmark:
 * a `pg` pool, the PostgreSQL store with the opt-in cache, `createKeyward` without a clock (the
 * database's time). Commands arrive as JSON lines on stdin — `{ id, path, args }` calls
 * `kw[path…](...args)`, `{ id, op: "status" | "up" | "bench" | "load" | "stopLoad" | "rotateRaw", … }` — and answers go out as JSON
 * lines on stdout: `{ id, ok: true, value }` or `{ id, ok: false, error }`.
 *
 * Environment: KEYWARD_PG_URL, KW_SCHEMA, KW_NAME (the listener's application_name prefix),
 * KW_LEASE_MS (default 1000), KW_CACHE ("0" for fresh reads), KW_REPLY_DELAY_MS (default 0).
 */
import { createInterface } from "node:readline";
import pg from "pg";
import { generateToken, tokenHasher, tokenHint } from "../../../src/core.js";
import { createKeyward } from "../../../src/index.js";
import { pgDriver, postgresStore, type CacheStatus, type SqlDriver } from "../../../src/postgres.js";
import { ACTIONS } from "../../core/fixture.js";

const pool = new pg.Pool({ connectionString: process.env.KEYWARD_PG_URL, max: 4 });
pool.on("error", () => {});
/** Decision and list reads that reached the database (the rest were served from the cache). */
let reads = 0;
/** Statements that carried several reads (`readBatching`). */
let batches = 0;
const inner = pgDriver(pool);
/** KW_REPLY_DELAY_MS: how long each decision or list read's answer is held after the statement ran (a slow network), so that reads stay in flight well past a change. */
const replyDelay = Number(process.env.KW_REPLY_DELAY_MS ?? 0);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const driver: SqlDriver = {
  ...inner,
  async query(text, params, name) {
    const read = text.includes("decision_read") || text.includes("access_read");
    if (read) reads++;
    if (text.includes("kw_q")) batches++;
    const found = await inner.query(text, params, name);
    if (read && replyDelay > 0) await pause(replyDelay);
    return found;
  },
};
/** A running `load`: each call's token (its index), start (epoch ms), whether it allowed and why not. */
let load: { stop: boolean; calls: [number, number, boolean, string | null][]; done: Promise<unknown> } | null = null;
const statuses: CacheStatus[] = [];
const waiting: (() => void)[] = [];
const store = postgresStore({
  driver,
  schema: process.env.KW_SCHEMA!,
  ...(process.env.KW_CACHE === "0"
    ? {}
    : { cache: { ttlMs: 5000, leaseMs: Number(process.env.KW_LEASE_MS ?? 1000), applicationName: process.env.KW_NAME ?? "kw-test" } }),
  onCacheStatus: (s) => {
    statuses.push(s);
    if (s === "up") for (const w of waiting.splice(0)) w();
  },
});
const kw = createKeyward({ store, actions: ACTIONS });

type Command = {
  id: number;
  path?: string;
  args?: unknown[];
  op?: string;
  token?: string;
  tokens?: string[];
  jitterMs?: number;
  action?: string;
  n?: number;
  tokenId?: string;
  expectHash?: string;
  kind?: "user" | "service_user";
  /** rotateRaw: the previous secret's end (default: the rotation's time, no grace). */
  until?: number;
};

async function run(c: Command): Promise<unknown> {
  if (c.op === "status") return { status: store.cacheStatus(), transitions: statuses.length, reads, batches };
  if (c.op === "load") {
    // n callers authorizing in a loop until `stopLoad`, caller i with tokens[i % tokens.length], each call after a pause of up to jitterMs: enough at once that reads wait and leave in batches.
    const l: NonNullable<typeof load> = { stop: false, calls: [], done: Promise.resolve() };
    l.done = Promise.all(
      Array.from({ length: c.n! }, async (_, i) => {
        const k = i % c.tokens!.length;
        while (!l.stop) {
          // A pause of up to jitterMs, so that callers do not run in step.
          if (c.jitterMs) await pause(Math.random() * c.jitterMs);
          const at = Date.now();
          try {
            const d = await kw.authorize(c.tokens![k], c.action as keyof typeof ACTIONS);
            l.calls.push([k, at, d.allowed, d.allowed ? null : d.reason]);
          } catch (e) {
            l.calls.push([k, at, false, String((e as { code?: string }).code ?? e)]);
          }
        }
      }),
    );
    load = l;
    return "started";
  }
  if (c.op === "stopLoad") {
    const l = load!;
    l.stop = true;
    await l.done;
    load = null;
    return l.calls;
  }
  if (c.op === "up") {
    if (store.cacheStatus() !== "up") await new Promise<void>((r) => waiting.push(r));
    return "up";
  }
  if (c.op === "bench") {
    // n authorizations of one token, one after the other: the mean in microseconds.
    const t0 = performance.now();
    for (let i = 0; i < c.n!; i++) await kw.authorize(c.token, c.action as keyof typeof ACTIONS);
    return ((performance.now() - t0) * 1000) / c.n!;
  }
  if (c.op === "rotateRaw") {
    // R18: a rotation straight through this instance's store (its layers included), with a secret made here: the secret comes back so the test can try it.
    const secret = generateToken(c.kind!);
    const at = Date.now();
    const r = await store.rotateToken(c.tokenId!, { expectHash: c.expectHash!, hash: tokenHasher()(secret), hint: tokenHint(secret), previousHashUntil: c.until ?? at, at });
    return { changed: r?.changed ?? null, secret };
  }
  if (c.op === "close") {
    await store.close();
    await pool.end();
    setImmediate(() => process.exit(0));
    return "closed";
  }
  let target: unknown = kw;
  let self: unknown = kw;
  for (const part of c.path!.split(".")) {
    self = target;
    target = (target as Record<string, unknown>)[part];
  }
  return (target as (...a: unknown[]) => unknown).apply(self, c.args ?? []);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const c = JSON.parse(line) as Command;
  run(c).then(
    (value) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: true, value: value ?? null })}\n`),
    (e: unknown) => process.stdout.write(`${JSON.stringify({ id: c.id, ok: false, error: String((e as { code?: string }).code ?? e) })}\n`),
  );
});
lines.on("close", () => process.exit(0));
