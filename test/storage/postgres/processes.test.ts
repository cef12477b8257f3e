/**
 * R11 with the opt-in cache, measured from outside: three keyward instances in three OS
 * processes (instance.ts), each caching, on the real server. After a change on A resolves, B
 * and C authorize at once; any allow is a stale allow. Also: B's listener killed
 * (pg_terminate_backend) just before A revokes. Runs only with KEYWARD_PG_URL; fails loudly
 * under CI without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../../src/index.js";
import type { World } from "../../core/fixture.js";
import { processWorld, type ProcessWorld } from "./process-world.js";
import type { Instance } from "./processes.js";
import { IN_CI, PG_URL } from "./support.js";

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the multi-process cache suite runs against the real server", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the multi-process R11 suite would silently not run");
  });
}

type Server = ProcessWorld["server"];
type Status = { status: string; transitions: number; reads: number };

describe.runIf(PG_URL !== undefined)("R11 with the cache on, three instances in three OS processes", { timeout: 120_000 }, () => {
  let pw: ProcessWorld;
  let server: Server;
  let w: World;
  let a: Instance, b: Instance, c: Instance;

  beforeAll(async () => {
    pw = await processWorld(["kw-A", "kw-B", "kw-C"], () => ({ KW_LEASE_MS: "1000" }));
    ({ server, w } = pw);
    [a, b, c] = [pw.instances[0]!, pw.instances[1]!, pw.instances[2]!];
    await Promise.all([a, b, c].map((i) => i.op("up")));
  }, 60_000);
  afterAll(async () => {
    await pw?.close();
  });

  /** B and C authorize (each caches the allow): every call must allow. */
  async function warm(token: string, action: string, item?: unknown): Promise<void> {
    const ds = await Promise.all([b, c].map((i) => i.call<Decision>("authorize", token, action, item ?? null)));
    for (const d of ds) expect(d.allowed, `${d.reason} before the change`).toBe(true);
  }
  /** B and C authorize at once: the number of allows (stale). */
  async function staleAllows(token: string, action: string, item?: unknown): Promise<number> {
    const ds = await Promise.all([b, c].map((i) => i.call<Decision>("authorize", token, action, item ?? null)));
    return ds.filter((d) => d.allowed).length;
  }
  const reads = async () => (await b.op<Status>("status")).reads + (await c.op<Status>("status")).reads;

  /**
   * `n` rounds of: set up (parent) → B and C authorize (the allow is cached) → change on A
   * (resolved) → B and C authorize at once. With `side > 1`, that many rounds run side by side
   * (each on its own token): shorter on a loaded machine, and changes, acknowledgements and cache
   * fills interleave. The first round runs alone and checks that the cache really serves the
   * allow (else this test would prove nothing). Returns the stale allows.
   */
  async function rounds(n: number, round: (i: number) => Promise<{ token: string; action: string; item?: unknown; change: () => Promise<unknown> }>, side = 1) {
    let stale = 0;
    const one = async (i: number) => {
      const r = await round(i);
      await warm(r.token, r.action, r.item);
      if (i === 0) {
        const before = await reads();
        await warm(r.token, r.action, r.item);
        expect((await reads()) - before, "reads that reached the database for a cached decision").toBe(0);
      }
      await r.change();
      stale += await staleAllows(r.token, r.action, r.item);
    };
    await one(0);
    let next = 1;
    const worker = async () => {
      while (next < n) await one(next++);
    };
    await Promise.all(Array.from({ length: side }, worker));
    return stale;
  }

  it("R11 revoke: 0 stale allows in 500 rounds of 'A's revocation resolves → B and C authorize at once'", async () => {
    const stale = await rounds(500, async () => {
      const { token, record } = await w.userToken(w.users.ana.id);
      return { token, action: "reports.export", change: () => a.call("tokens.revoke", { orgId: "acme", tokenId: record.id, actorId: w.users.ana.id }) };
    }, 4);
    expect(stale).toBe(0);
  });

  it("R11 admin delete: 0 stale allows in 50 rounds", async () => {
    const stale = await rounds(50, async () => {
      const { token, record } = await w.userToken(w.users.ana.id);
      return { token, action: "reports.export", change: () => a.call("tokens.delete", { orgId: "acme", tokenId: record.id, actorId: w.users.ada.id }) };
    });
    expect(stale).toBe(0);
  });

  /** A fresh acme member with the inspector set (may export reports) and a token. */
  async function member(prefix: string, i: number, permissionSetId: string = w.sets.inspector.id) {
    const userId = `u_${prefix}${i}`;
    await w.kw.directory.upsertUser({ id: userId, name: `${prefix} ${i}` });
    await w.kw.directory.addMember({ orgId: "acme", userId, permissionSetId });
    return { userId, ...(await w.userToken(userId)) };
  }

  it("R7 R11 deactivation: 0 stale allows in 50 rounds", async () => {
    const stale = await rounds(50, async (i) => {
      const m = await member("deact", i);
      return { token: m.token, action: "reports.export", change: () => a.call("directory.deactivateMember", { orgId: "acme", userId: m.userId }) };
    });
    expect(stale).toBe(0);
  });

  it("R7 R11 departure: 0 stale allows in 50 rounds", async () => {
    const stale = await rounds(50, async (i) => {
      const m = await member("left", i);
      return { token: m.token, action: "reports.export", change: () => a.call("directory.removeMember", { orgId: "acme", userId: m.userId }) };
    });
    expect(stale).toBe(0);
  });

  it("R12 R11 permission removal: 0 stale allows in 50 rounds", async () => {
    const stale = await rounds(50, async (i) => {
      const set = await w.kw.directory.createPermissionSet({ id: `ps_export_${i}`, orgId: "acme", name: `Export ${i}`, permissions: ["reports:export"] });
      const m = await member("perm", i, set.id);
      return { token: m.token, action: "reports.export", change: () => a.call("directory.updatePermissionSet", { orgId: "acme", id: set.id, permissions: [] }) };
    });
    expect(stale).toBe(0);
  });

  it("R13 R11 unshare: 0 stale allows in 50 rounds", async () => {
    const bob = await w.userToken(w.users.bob.id);
    const stale = await rounds(50, async (i) => {
      const item = w.inspection(`i_unshare_${i}`);
      const share = await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
      return { token: bob.token, action: "inspections.view", item, change: () => a.call("directory.unshare", { orgId: item.orgId, id: share.id }) };
    });
    expect(stale).toBe(0);
  });

  it("R8 R11 service-user removal: 0 stale allows in 50 rounds", async () => {
    const stale = await rounds(50, async (i) => {
      const su = await w.kw.serviceUsers.create({ id: `svc_rm_${i}`, orgId: "acme", name: `Bot ${i}`, permissionSetId: w.sets.bot.id, actorId: w.users.ada.id });
      const { token } = await w.serviceToken(su.id);
      return { token, action: "reports.export", change: () => a.call("serviceUsers.remove", { orgId: "acme", id: su.id, actorId: w.users.ada.id }) };
    });
    expect(stale).toBe(0);
  });

  it("R11 listener killed: 0 stale allows in 100 rounds of 'kill B's listener (pg_terminate_backend, found by its application_name) → revoke on A → B authorizes at once'", async () => {
    let stale = 0;
    const transitions = (await b.op<Status>("status")).transitions;
    for (let i = 0; i < 100; i++) {
      await b.op("up");
      const { token, record } = await w.userToken(w.users.ana.id);
      await warm(token, "reports.export");
      const killed = await server.raw.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'kw-B:%'`,
      );
      expect(killed).toHaveLength(1);
      await a.call("tokens.revoke", { orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
      const d = await b.call<Decision>("authorize", token, "reports.export");
      if (d.allowed) stale++;
    }
    expect(stale).toBe(0);
    // onCacheStatus reported B's listener going down and up again (a hook, not polling).
    expect((await b.op<Status>("status")).transitions - transitions).toBeGreaterThanOrEqual(100);
  });
});
