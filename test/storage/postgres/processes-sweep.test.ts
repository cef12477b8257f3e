/**
 * R20 across processes: three keyward instances in three OS processes (instance.ts) sweep the
 * same organization at once, twice each, on the real server. Each warning (`token.expiring`) and
 * each expiry is sent by exactly one of the six sweeps: the store's conditional writes decide,
 * not memory. Runs only with KEYWARD_PG_URL; fails loudly under CI without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { world, type World } from "../../core/fixture.js";
import { spawnInstance, type Instance } from "./processes.js";
import { IN_CI, PG_URL, serverStore } from "./support.js";

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the multi-process sweep suite runs against the real server", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the multi-process R20 suite would silently not run");
  });
}

const DAY = 86_400_000;

describe.runIf(PG_URL !== undefined)("R20 sweeps in three OS processes at once", { timeout: 120_000 }, () => {
  let server: Awaited<ReturnType<typeof serverStore>>;
  let w: World;
  let instances: Instance[] = [];

  beforeAll(async () => {
    server = await serverStore();
    w = await world({ store: server.store, limits: { userTokensPerUser: 20 } });
    // The instances sweep on the real time: create tokens at it.
    w.clock.now = Date.now();
    instances = await Promise.all(["kw-S1", "kw-S2", "kw-S3"].map((name) => spawnInstance(PG_URL!, server.schema, name, { KW_CACHE: "0" })));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
    await server?.cleanup();
  });

  it("R20 of six racing sweeps, each warning and each expiry is sent exactly once; a second round sends nothing", async () => {
    const ids = { d14: "", d3: "", d1: "", expired: "", fresh: "", dated: "" };
    ids.d14 = (await w.userToken(w.users.ana.id, "acme", "fourteen")).record.id;
    ids.d3 = (await w.userToken(w.users.ana.id, "acme", "three")).record.id;
    ids.d1 = (await w.userToken(w.users.bob.id, "acme", "one")).record.id;
    ids.expired = (await w.userToken(w.users.bob.id, "acme", "expired")).record.id;
    ids.fresh = (await w.userToken(w.users.ada.id, "acme", "fresh")).record.id;
    ids.dated = (await w.serviceToken()).record.id;
    const now = Date.now();
    const set = (id: string, column: string, at: number) => server.raw.query(`UPDATE "${server.schema}".tokens SET ${column} = $2 WHERE id = $1`, [id, at]);
    /** A user token created and last used `days` ago. */
    const idle = async (id: string, days: number) => {
      await set(id, "created_at", now - days * DAY);
      await set(id, "last_used_at", now - days * DAY);
    };
    await idle(ids.d14, 17); // 13 days left: the 14-day warning
    await idle(ids.d3, 28); // 2 days left: the 3-day warning
    await idle(ids.d1, 29.5); // half a day left: the 1-day warning
    await idle(ids.expired, 31); // expired
    await set(ids.dated, "expires_at", now + 10 * DAY); // a service token with a date: the 14-day warning
    const round = async () => {
      const results = await Promise.all(instances.flatMap((i) => [i.call<{ expired: number; warned: number }>("tokens.sweep", { orgId: "acme" }), i.call<{ expired: number; warned: number }>("tokens.sweep", { orgId: "acme" })]));
      return { expired: results.reduce((n, r) => n + r.expired, 0), warned: results.reduce((n, r) => n + r.warned, 0) };
    };
    expect(await round()).toEqual({ expired: 1, warned: 4 });
    expect(await round()).toEqual({ expired: 0, warned: 0 });
    const row = (id: string) => server.backdoor.readToken(id);
    expect((await row(ids.d14))!.warnedThresholdMs).toBe(14 * DAY);
    expect((await row(ids.d3))!.warnedThresholdMs).toBe(3 * DAY);
    expect((await row(ids.d1))!.warnedThresholdMs).toBe(DAY);
    expect((await row(ids.dated))).toMatchObject({ warnedThresholdMs: 14 * DAY, warnedDeadline: now + 10 * DAY });
    expect((await row(ids.fresh))!.warnedDeadline ?? null).toBeNull();
    expect((await row(ids.expired))!.expiredAt).not.toBeNull();
  });
});
