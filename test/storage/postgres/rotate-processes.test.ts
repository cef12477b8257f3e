/**
 * R18 across OS processes on the real server: two keyward instances (instance.ts, each with the
 * opt-in cache) rotate the same token at the same moment. Of each pair exactly one wins; the
 * loser wrote nothing and its secret is `token_unknown` on both instances and in this process.
 * Runs only with KEYWARD_PG_URL; fails loudly under CI without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreatedToken, Decision } from "../../../src/index.js";
import type { World } from "../../core/fixture.js";
import { processWorld, type ProcessWorld } from "./process-world.js";
import type { Instance } from "./processes.js";
import { eventually, IN_CI, PG_URL } from "./support.js";

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the multi-process rotation suite runs against the real server", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the multi-process R18 suite would silently not run");
  });
}

type Server = ProcessWorld["server"];
const ROUNDS = 8;

describe.runIf(PG_URL !== undefined)("R18 two instances in two OS processes rotate one token at once", { timeout: 120_000 }, () => {
  let pw: ProcessWorld;
  let server: Server;
  let w: World;
  let a: Instance, b: Instance;

  beforeAll(async () => {
    pw = await processWorld(["kw-rot-A", "kw-rot-B"]);
    ({ server, w } = pw);
    [a, b] = [pw.instances[0]!, pw.instances[1]!];
    await Promise.all([a, b].map((i) => i.op("up")));
  }, 60_000);
  afterAll(async () => {
    await pw?.close();
  });

  /** The decision of `secret` on both instances and here. */
  const everywhere = async (secret: string) =>
    Promise.all([a.call<Decision>("authorize", secret, "reports.export", null), b.call<Decision>("authorize", secret, "reports.export", null), w.kw.authorize(secret, "reports.export")]);

  it("R18 store.rotateToken from both processes: exactly one changes the token; the loser's secret is token_unknown everywhere", async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { token: original, record } = await w.serviceToken(undefined, `raw ${i}`);
      // Both instances have the token's decision cached before the race.
      for (const d of await everywhere(original)) expect(d.allowed).toBe(true);
      const expectHash = (await server.backdoor.readToken(record.id))!.hash;
      const [ra, rb] = await Promise.all([a, b].map((inst) => inst.op<{ changed: boolean; secret: string }>("rotateRaw", { tokenId: record.id, expectHash, kind: "service_user", until: 0 })));
      expect([ra!.changed, rb!.changed].filter(Boolean), `round ${i}`).toHaveLength(1);
      const [winner, loser] = ra!.changed ? [ra!, rb!] : [rb!, ra!];
      for (const d of await everywhere(winner.secret)) expect(d).toMatchObject({ allowed: true, tokenId: record.id });
      for (const d of await everywhere(loser.secret)) expect(d).toEqual({ allowed: false, reason: "token_unknown", action: "reports.export" });
      // No grace: the original secret ended with the rotation, on the instances that had cached it too.
      for (const d of await everywhere(original)) expect(d.reason).toBe("token_unknown");
    }
  });

  it("R18 kw.tokens.rotate from both processes: one returns the new secret, the other throws conflict; the previous secret works during the grace on both", async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { token: original, record } = await w.serviceToken(undefined, `api ${i}`);
      const input = { orgId: "acme", tokenId: record.id, actorId: w.users.ada.id, graceMs: 60_000 };
      // At the same moment: this process holds the token's row until both instances have read the
      // token and wait at its compare-and-set (otherwise, on a busy machine, one rotation may
      // resolve before the other starts, and a second rotation rightly wins too).
      const held = await server.rawPool.connect();
      let racing: Promise<PromiseSettledResult<CreatedToken>[]>;
      try {
        await held.query("BEGIN");
        await held.query(`SELECT 1 FROM "${server.schema}".tokens WHERE id = $1 FOR UPDATE`, [record.id]);
        racing = Promise.allSettled([a.call<CreatedToken>("tokens.rotate", input), b.call<CreatedToken>("tokens.rotate", input)]);
        await eventually(async () => {
          const { rows } = await server.rawPool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0 AND query LIKE '%rotated_at%'",
            [`"${server.schema}".tokens`],
          );
          return rows[0].n === 2;
        }, 20_000, "both rotations waiting at the compare-and-set");
      } finally {
        await held.query("COMMIT");
        held.release();
      }
      const settled = await racing;
      const won = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      const lost = settled.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
      expect(won, `round ${i}`).toHaveLength(1);
      expect(lost).toEqual(["conflict"]);
      expect(won[0]!.record.id).toBe(record.id);
      for (const d of await everywhere(won[0]!.token)) expect(d).toMatchObject({ allowed: true, tokenId: record.id });
      for (const d of await everywhere(original)) expect(d).toMatchObject({ allowed: true, tokenId: record.id, previousSecret: true });
    }
  });
});
