/**
 * One instance of a host application, in its own OS process, for the shared-limit tests
 * (shared.test.ts): its own keyward (memory store, the fixture world) and a rate limit by
 * organization on the shared PostgreSQL or Redis. It says "ready", waits for "go", makes
 * `REQUESTS` authorizations (`CONCURRENCY` at a time) and reports how many were allowed.
 */
import pg from "pg";
import { Redis } from "ioredis";
import { postgresLimiterStore, rateLimit, redisLimiterStore, type LimiterStore } from "../../src/ratelimit/index.js";
import { world } from "../core/fixture.js";

const env = process.env;
const requests = Number(env.REQUESTS);
const concurrency = Number(env.CONCURRENCY ?? 4);
let close: () => Promise<unknown>;
let store: LimiterStore;
if (env.STORE === "postgres") {
  const pool = new pg.Pool({ connectionString: env.URL, max: 4 });
  pool.on("error", () => {});
  store = postgresLimiterStore({ pool, schema: env.SCHEMA! });
  close = () => pool.end();
} else {
  const client = new Redis(env.URL!, { maxRetriesPerRequest: 1 });
  await new Promise<void>((resolve, reject) => (client.status === "ready" ? resolve() : (client.once("ready", () => resolve()), client.once("error", reject))));
  store = redisLimiterStore({ client });
  close = () => client.quit();
}
const limit = rateLimit({ by: "organization", limit: Number(env.LIMIT), windowMs: 60_000, store, keyPrefix: env.KEY_PREFIX!, timeoutMs: 10_000 });
const w = await world();
const { token } = await w.userToken(w.users.ana.id);
process.send!("ready");
process.once("message", async () => {
  const counts = { allowed: 0, limited: 0, other: 0 };
  let next = 0;
  const lane = async () => {
    while (next < requests) {
      next++;
      const d = await w.kw.authorize(token, "reports.export", null, { rateLimit: limit });
      if (d.reason === "allowed") counts.allowed++;
      else if (d.reason === "rate_limited") counts.limited++;
      else counts.other++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  await close();
  process.send!(counts, () => process.exit(0));
});
