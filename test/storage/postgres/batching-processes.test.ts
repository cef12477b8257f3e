/**
 * R11 with decision reads batched (`readBatching`, the default), measured from outside: two
 * fresh-reading keyward instances in two OS processes on the real server. B runs 16 callers
 * authorizing four tokens in a loop, each call after a random pause of up to 80 ms so that the
 * callers are not in step; every answer of a read is held 40 ms (a slow network), so that reads
 * sent before a change are still in flight well after it resolved, and more than B's 4 reads in
 * flight wait and leave in batches. A revokes one of the tokens. Every call B started after A's
 * revocation resolved must be refused: a read must never take the answer of a statement sent
 * before it was asked (sharing an identical read in flight gives stale allows here).
 * Runs only with KEYWARD_PG_URL; fails loudly under CI without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "../../core/fixture.js";
import { processWorld, type ProcessWorld } from "./process-world.js";
import type { Instance } from "./processes.js";
import { IN_CI, PG_URL } from "./support.js";

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the multi-process batching suite runs against the real server", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the multi-process batching suite would silently not run");
  });
}

type Status = { reads: number; batches: number };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(PG_URL !== undefined)("R11 with decision reads batched, two instances in two OS processes", { timeout: 120_000 }, () => {
  let pw: ProcessWorld;
  let w: World;
  let a: Instance, b: Instance;

  beforeAll(async () => {
    pw = await processWorld(["kw-A", "kw-B"], (name): Record<string, string> => (name === "kw-B" ? { KW_CACHE: "0", KW_REPLY_DELAY_MS: "40" } : { KW_CACHE: "0" }));
    w = pw.w;
    [a, b] = [pw.instances[0]!, pw.instances[1]!];
  }, 60_000);
  afterAll(async () => {
    await pw?.close();
  });

  it("R11 revoke under load: every call B started after A's revocation resolved is refused, in 20 rounds with batches in flight", async () => {
    const batchesBefore = (await b.op<Status>("status")).batches;
    let before = 0;
    let after = 0;
    let othersRefused = 0;
    const stale: [number, number][] = [];
    for (let round = 0; round < 20; round++) {
      // Four tokens, so that a batch carries several digests; the first is revoked.
      const tokens = await Promise.all([0, 1, 2, 3].map((k) => w.userToken(w.users.ana.id, "acme", `load ${round}.${k}`)));
      await b.op("load", { n: 16, tokens: tokens.map((t) => t.token), action: "reports.export", jitterMs: 80 });
      await pause(150);
      await a.call("tokens.revoke", { orgId: "acme", tokenId: tokens[0]!.record.id, actorId: w.users.ana.id });
      const resolved = Date.now();
      await pause(150);
      const calls = await b.op<[number, number, boolean, string | null][]>("stopLoad");
      for (const [k, at, allowed] of calls) {
        if (k !== 0) {
          if (!allowed) othersRefused++;
          continue;
        }
        if (at < resolved) {
          if (allowed) before++;
          continue;
        }
        after++;
        if (allowed) stale.push([round, at - resolved]);
      }
      for (const t of tokens.slice(1)) await w.kw.tokens.revoke({ orgId: "acme", tokenId: t.record.id, actorId: w.users.ana.id });
    }
    // The load really ran before the change and after it, and reads really left in batches.
    if (process.env.KW_REPORT) console.log({ before, after, stale: stale.length, batches: (await b.op<Status>("status")).batches - batchesBefore });
    expect(before).toBeGreaterThan(50);
    expect(after).toBeGreaterThan(50);
    expect(othersRefused).toBe(0);
    expect(stale).toEqual([]);
    expect((await b.op<Status>("status")).batches - batchesBefore).toBeGreaterThan(20);
  });
});
