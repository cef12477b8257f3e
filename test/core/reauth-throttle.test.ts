/**
 * R4 re-authentication, throttled per user and organization (issue 11, finding 8): after
 * `attempts` wrong passwords in `windowMs` (default 5 in 15 minutes), creating a user token is
 * refused with `reauthentication_failed` and `retryAfterMs` WITHOUT asking the host's
 * `verifyPassword`; a success starts the count again; a failing limiter store refuses
 * (`unavailable`), never lets attempts through unthrottled. Built on rate-limiter-flexible:
 * `RateLimiterMemory` by default, or the host's own limiter (shared by instances).
 */
import pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres } from "rate-limiter-flexible";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createKeyward, KeywardError, type KeywardOptions } from "../../src/index.js";
import { CSRF_HEADER, managementRouter } from "../../src/manage/index.js";
import { ACTIONS, caught, PASSWORD, world, type World } from "./fixture.js";
import { IN_CI, PG_URL } from "../storage/postgres/support.js";

/** A keyward over the world's store whose password hook counts its calls. */
function withThrottle(w: World, reauthThrottle?: KeywardOptions["reauthThrottle"]) {
  const calls: string[] = [];
  const kw = createKeyward({
    store: w.store,
    actions: ACTIONS,
    clock: () => w.clock.now,
    verifyPassword: (userId, password) => {
      calls.push(userId);
      return password === PASSWORD;
    },
    ...(reauthThrottle === undefined ? {} : { reauthThrottle }),
  });
  return { kw, calls };
}

type Kw = ReturnType<typeof withThrottle>["kw"];
const attempt = (kw: Kw, userId: string, password: string, orgId = "acme") => caught(() => kw.tokens.createUserToken({ orgId, userId, name: "CI", password }));

afterEach(() => {
  vi.useRealTimers();
});

/** Two instances sharing one limiter of 3 points and 600 s: wrong passwords on either count on both; the 4th attempt is refused unasked. */
async function expectHeldAcross(w: World, a: ReturnType<typeof withThrottle>, b: ReturnType<typeof withThrottle>): Promise<void> {
  const ana = w.users.ana.id;
  await attempt(a.kw, ana, "wrong");
  await attempt(b.kw, ana, "wrong");
  await attempt(a.kw, ana, "wrong");
  const refused = (await attempt(b.kw, ana, PASSWORD)) as KeywardError;
  expect(refused.code).toBe("reauthentication_failed");
  expect(refused.retryAfterMs).toBeGreaterThan(0);
  expect(refused.retryAfterMs).toBeLessThanOrEqual(600_000);
  expect(a.calls.length + b.calls.length).toBe(3);
}

describe("R4 re-authentication is throttled per user and organization", () => {
  it("R4 a failing hook is unavailable each time, never reauthentication_failed, yet each attempt counts: past the limit the throttle refuses without asking it", async () => {
    const w = await world();
    let calls = 0;
    const kw = createKeyward({
      store: w.store,
      actions: ACTIONS,
      clock: () => w.clock.now,
      verifyPassword: () => {
        calls++;
        throw new Error("identity provider down");
      },
      reauthThrottle: { attempts: 2, windowMs: 60_000 },
    });
    const ana = w.users.ana.id;
    expect(await attempt(kw, ana, PASSWORD)).toMatchObject({ code: "unavailable" });
    expect(await attempt(kw, ana, PASSWORD)).toMatchObject({ code: "unavailable" });
    expect(calls).toBe(2);
    expect(await attempt(kw, ana, PASSWORD)).toMatchObject({ code: "reauthentication_failed" });
    expect(calls).toBe(2);
  });

  it("R4 by default, after 5 wrong passwords the 6th attempt is refused with retryAfterMs without calling verifyPassword — even with the right password", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w);
    const ana = w.users.ana.id;
    for (let i = 0; i < 5; i++) expect(await attempt(kw, ana, "wrong")).toMatchObject({ code: "reauthentication_failed" });
    expect(calls).toHaveLength(5);
    const refused = (await attempt(kw, ana, PASSWORD)) as KeywardError;
    expect(refused).toBeInstanceOf(KeywardError);
    expect(refused.code).toBe("reauthentication_failed");
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(15 * 60_000);
    expect(calls).toHaveLength(5);
    expect((await kw.tokens.listMine({ orgId: "acme", userId: ana })).items).toEqual([]);
  });

  it("R4 the count is per organization and user: another user, and the same user in another organization, are not throttled", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w);
    for (let i = 0; i < 6; i++) await attempt(kw, w.users.ana.id, "wrong");
    expect(calls).toHaveLength(5);
    const bob = await kw.tokens.createUserToken({ orgId: "acme", userId: w.users.bob.id, name: "CI", password: PASSWORD });
    expect(bob.token).toMatch(/^kwu_/);
    const anaInBeta = await kw.tokens.createUserToken({ orgId: "beta", userId: w.users.ana.id, name: "CI", password: PASSWORD });
    expect(anaInBeta.token).toMatch(/^kwu_/);
    expect(calls).toHaveLength(7);
  });

  it("R4 a success starts the count again: 4 failures, a success, then 5 more failures before the refusal", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w);
    const ana = w.users.ana.id;
    for (let i = 0; i < 4; i++) await attempt(kw, ana, "wrong");
    await kw.tokens.createUserToken({ orgId: "acme", userId: ana, name: "CI", password: PASSWORD });
    for (let i = 0; i < 5; i++) expect(await attempt(kw, ana, "wrong")).toMatchObject({ code: "reauthentication_failed" });
    expect(calls).toHaveLength(10);
    expect(((await attempt(kw, ana, PASSWORD)) as KeywardError).retryAfterMs).toBeGreaterThan(0);
    expect(calls).toHaveLength(10);
  });

  it("R4 a missing password is refused without counting (the hook is not asked either)", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w);
    for (let i = 0; i < 10; i++) expect(await attempt(kw, w.users.ana.id, "")).toMatchObject({ code: "reauthentication_failed" });
    expect(calls).toHaveLength(0);
    expect((await kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "CI", password: PASSWORD })).token).toMatch(/^kwu_/);
  });

  it("R4 of 20 concurrent wrong attempts, verifyPassword is asked 5 times (a user's attempts run one at a time)", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w);
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt(kw, w.users.ana.id, "wrong")));
    expect(calls).toHaveLength(5);
    expect(results.every((e) => (e as KeywardError).code === "reauthentication_failed")).toBe(true);
    expect(results.filter((e) => (e as KeywardError).retryAfterMs !== undefined)).toHaveLength(20 - calls.length);
  });

  it("R4 the window passes: attempts are allowed again (rate-limiter-flexible's clock, faked)", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"], now: Date.UTC(2026, 0, 1) });
    const w = await world();
    const { kw, calls } = withThrottle(w, { attempts: 2, windowMs: 60_000 });
    const ana = w.users.ana.id;
    await attempt(kw, ana, "wrong");
    await attempt(kw, ana, "wrong");
    const refused = (await attempt(kw, ana, PASSWORD)) as KeywardError;
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(calls).toHaveLength(2);
    vi.advanceTimersByTime(60_001);
    expect((await kw.tokens.createUserToken({ orgId: "acme", userId: ana, name: "CI", password: PASSWORD })).token).toMatch(/^kwu_/);
    expect(calls).toHaveLength(3);
  });

  it("R4 reauthThrottle: false turns it off: every attempt asks verifyPassword", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w, false);
    for (let i = 0; i < 12; i++) await attempt(kw, w.users.ana.id, "wrong");
    expect(calls).toHaveLength(12);
  });

  it("R4 a host's own rate-limiter-flexible limiter, shared by two instances, holds across them", async () => {
    const w = await world();
    const limiter = new RateLimiterMemory({ points: 3, duration: 600, keyPrefix: "test_reauth" });
    await expectHeldAcross(w, withThrottle(w, { limiter }), withThrottle(w, { limiter }));
  });

  it("R4 a failing limiter store fails closed: unavailable, verifyPassword never asked, however often retried", async () => {
    const w = await world();
    const down = new Error("limiter store down");
    const limiter = { points: 5, get: () => Promise.reject(down), penalty: () => Promise.reject(down), delete: () => Promise.reject(down) };
    const { kw, calls } = withThrottle(w, { limiter });
    for (let i = 0; i < 10; i++) {
      const e = (await attempt(kw, w.users.ana.id, i % 2 === 0 ? "wrong" : PASSWORD)) as KeywardError;
      expect(e).toBeInstanceOf(KeywardError);
      expect(e.code).toBe("unavailable");
      expect(e.cause).toBe(down);
    }
    expect(calls).toHaveLength(0);
    expect((await kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items).toEqual([]);
  });

  it("R4 SSO-only organizations ask no password and are never throttled", async () => {
    const w = await world();
    const { kw, calls } = withThrottle(w, { attempts: 1, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) expect((await kw.tokens.createUserToken({ orgId: "sso", userId: w.users.sam.id, name: `CI ${i}` })).token).toMatch(/^kwu_/);
    expect(calls).toHaveLength(0);
  });

  it.each([
    [{ attempts: 0 }, "options.reauthThrottle.attempts"],
    [{ windowMs: 10 }, "options.reauthThrottle.windowMs"],
    [{ limiter: {} }, "options.reauthThrottle.limiter.points"],
  ])("an invalid reauthThrottle %j is invalid_config naming %s", async (option, field) => {
    const w = await world();
    const e = (await caught(() => withThrottle(w, option as never))) as KeywardError;
    expect(e.code).toBe("invalid_config");
    expect(e.field).toBe(field);
  });

  it("R4 the management router answers a throttled attempt 403 reauthentication_failed with retryAfterMs in the body and a Retry-After header in whole seconds", async () => {
    const w = await world();
    const { kw } = withThrottle(w, { attempts: 1, windowMs: 120_000 });
    const router = managementRouter(kw, { session: () => ({ orgId: "acme", userId: w.users.ana.id }) });
    const post = (password: string) =>
      router.fetch(new Request("http://app.test/api/tokens", { method: "POST", headers: { "content-type": "application/json", [CSRF_HEADER]: "1" }, body: JSON.stringify({ name: "CI", password }) }));
    const first = await post("wrong");
    expect(first.status).toBe(403);
    expect(first.headers.get("retry-after")).toBeNull();
    const second = await post(PASSWORD);
    expect(second.status).toBe(403);
    const body = (await second.json()) as { code: string; field: string; retryAfterMs: number };
    expect(body).toMatchObject({ code: "reauthentication_failed", field: "password" });
    expect(body.retryAfterMs).toBeGreaterThan(0);
    expect(body.retryAfterMs).toBeLessThanOrEqual(120_000);
    expect(second.headers.get("retry-after")).toBe(String(Math.ceil(body.retryAfterMs / 1000)));
  });
});

describe.skipIf(PG_URL === undefined)("R4 the throttle on a RateLimiterPostgres shared by two instances (real server)", () => {
  it("R4 failures on one instance count on the other; a third instance refuses without asking its hook", async () => {
    const pools = [new pg.Pool({ connectionString: PG_URL, max: 2 }), new pg.Pool({ connectionString: PG_URL, max: 2 })];
    const table = `kw_reauth_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    try {
      const limiterOn = (pool: pg.Pool) =>
        new Promise<RateLimiterPostgres>((resolve, reject) => {
          const l: RateLimiterPostgres = new RateLimiterPostgres({ storeClient: pool, tableName: table, points: 3, duration: 600, keyPrefix: "kw_test", clearExpiredByTimeout: false }, (err?: unknown) =>
            err ? reject(err) : resolve(l),
          );
        });
      const first = await limiterOn(pools[0]!);
      const second = await limiterOn(pools[1]!);
      const w = await world();
      const b = withThrottle(w, { limiter: second });
      await expectHeldAcross(w, withThrottle(w, { limiter: first }), b);
      // Bob is counted apart.
      expect((await b.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.bob.id, name: "CI", password: PASSWORD })).token).toMatch(/^kwu_/);
    } finally {
      await pools[0]!.query(`DROP TABLE IF EXISTS "${table}"`);
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the RateLimiterPostgres throttle test runs", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not");
  });
}
