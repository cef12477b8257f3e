/**
 * R21 in one screen: a Fetch-API route guarded with a rate limit of 3 requests per minute per
 * token, on each limiter store this machine has — memory always, PostgreSQL with
 * KEYWARD_PG_URL, Redis with KEYWARD_REDIS_URL — printing each answer's status and rate-limit
 * headers (never the token), then a store that is down: fail closed, and the insurance.
 *
 * Run: npm run demo:ratelimit
 *      KEYWARD_PG_URL=postgres://… KEYWARD_REDIS_URL=redis://127.0.0.1:6379 npm run demo:ratelimit
 */
import { Redis } from "ioredis";
import pg from "pg";
import { createKeyward, type KeywardEvent } from "../src/index.js";
import { memoryStore } from "../src/memory.js";
import { keywardFetch } from "../src/middleware/fetch.js";
import { memoryLimiterStore, postgresLimiterStore, rateLimit, redisLimiterStore, type LimiterStore } from "../src/ratelimit/index.js";

const events: KeywardEvent[] = [];
const kw = createKeyward({
  store: memoryStore(),
  actions: { "reports.export": { permission: "reports:export" } },
  verifyPassword: () => true,
  onEvent: (e) => events.push(e),
});
await kw.directory.createOrganization({ id: "acme", name: "Acme" });
const set = await kw.directory.createPermissionSet({ orgId: "acme", name: "Analyst", permissions: ["reports:export"] });
await kw.directory.upsertUser({ id: "u_ben", name: "Ben Berg" });
await kw.directory.addMember({ orgId: "acme", userId: "u_ben", permissionSetId: set.id });
const { token, record } = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: "BI", password: "x" });

const run = `${process.pid}`;
const closers: (() => Promise<unknown>)[] = [];
const stores: [string, LimiterStore][] = [["memory", memoryLimiterStore()]];
if (process.env.KEYWARD_PG_URL) {
  const pool = new pg.Pool({ connectionString: process.env.KEYWARD_PG_URL, max: 2, connectionTimeoutMillis: 2000 });
  const schema = `kwrl_demo_${run}`;
  stores.push(["PostgreSQL", postgresLimiterStore({ pool, schema })]);
  closers.push(async () => (await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`), pool.end()));
}
if (process.env.KEYWARD_REDIS_URL) {
  const client = new Redis(process.env.KEYWARD_REDIS_URL);
  stores.push(["Redis", redisLimiterStore({ client })]);
  closers.push(async () => {
    const keys = await client.keys(`kwrl:demo:${run}:*`);
    if (keys.length > 0) await client.del(...keys);
    return client.quit();
  });
}
const down: LimiterStore = { kind: "redis", shared: true, limiter: () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })) };

const SHOWN = ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset", "ratelimit-policy", "ratelimit"];
async function call(label: string, options: Parameters<typeof rateLimit>[0], times: number) {
  const guard = keywardFetch(kw, { rateLimit: rateLimit(options) });
  const handler = guard.protect({ action: "reports.export" }, () => Response.json({ report: "ok" }));
  console.log(`\n── ${label}`);
  for (let i = 0; i < times; i++) {
    const response = await handler(new Request("http://api.local/reports", { headers: { authorization: `Bearer ${token}` } }), undefined);
    const headers = SHOWN.flatMap((h) => (response.headers.has(h) ? [`${h}: ${response.headers.get(h)}`] : [])).join(" · ");
    const body = (await response.json()) as { code?: string };
    console.log(`  ${record.hint} GET /reports → ${response.status}${body.code ? ` ${body.code}` : ""}   ${headers}`);
  }
}

for (const [name, store] of stores) {
  await call(`${name}: 3 per minute per token, with the IETF headers`, { by: "token", limit: 3, windowMs: 60_000, store, keyPrefix: `kwrl:demo:${run}`, headers: { ietf: true } }, 4);
}
await call("a limiter store that is down, fail closed (the default)", { by: "token", limit: 3, windowMs: 60_000, store: down }, 1);
await call("a limiter store that is down, with the in-memory insurance", { by: "token", limit: 3, windowMs: 60_000, store: down, onStoreError: "insurance" }, 2);
console.log(`\nevents: ${events.filter((e) => e.type === "rate_limit.store_failed").map((e) => `rate_limit.store_failed (${(e as { fallback: string }).fallback})`).join(", ")}`);
for (const close of closers) await close();
