/** `npm run demo:ratelimit` (examples/ratelimit.ts) runs, shows the limit and the failure modes, and prints no token (R5). */
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { tokenPattern } from "../../src/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

it("R21 npm run demo:ratelimit: 200, 200, 200, 429 on the memory store, 503 for a store that is down, the insurance, the events, and hints only", async () => {
  const env = { ...process.env, KEYWARD_PG_URL: "", KEYWARD_REDIS_URL: "" };
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/ratelimit.ts"], { cwd: root, env, timeout: 60_000 });
  expect(stdout.match(/→ 200 /g)).toHaveLength(5);
  expect(stdout).toMatch(/→ 429 rate_limited {3}retry-after: \d+ · x-ratelimit-limit: 3 · x-ratelimit-remaining: 0 · x-ratelimit-used: 4/);
  expect(stdout).toContain('ratelimit-policy: "default";q=3;w=60');
  expect(stdout).toContain("→ 503 unavailable   retry-after: 5");
  expect(stdout).toContain("rate_limit.store_failed (fail_closed), rate_limit.store_failed (insurance), rate_limit.store_failed (insurance)");
  expect(stdout.match(tokenPattern()) ?? []).toEqual([]);
}, 90_000);
