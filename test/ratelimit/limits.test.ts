/**
 * R21 in the pipeline: a rate limit is counted once per call, after the token stage and before
 * the permission and access stages, on the memory limiter store; a failing store is explicit
 * (fail closed, or insurance) and says so in an event.
 */
import fc from "fast-check";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { describe, expect, it } from "vitest";
import { KeywardError, type KeywardEvent } from "../../src/index.js";
import { generateToken } from "../../src/core.js";
import { memoryLimiterStore, rateLimit, type LimiterStore, type RateLimitOptions } from "../../src/ratelimit/index.js";
import { caught, DAY, world, type World } from "../core/fixture.js";

/** A limiter store that counts `consume` calls (and can be switched to fail or hang). */
function countingStore(inner: LimiterStore = memoryLimiterStore()) {
  const state = { consumes: 0, mode: "up" as "up" | "down" | "hang" };
  const store: LimiterStore = {
    kind: "redis", // not "memory": so the limit treats it as a remote store (timeouts, insurance)
    shared: true,
    async limiter(spec) {
      const l = await inner.limiter(spec);
      return {
        consume(key: string, points?: number) {
          state.consumes++;
          if (state.mode === "down") return Promise.reject(Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:6379 password=hunter2"), { code: "ECONNREFUSED" }));
          if (state.mode === "hang") return new Promise(() => {});
          return l.consume(key, points);
        },
      } as unknown as RateLimiterAbstract;
    },
  };
  return { store, state };
}

async function setup(options: Partial<RateLimitOptions> = {}) {
  const w = await world();
  const { store, state } = countingStore();
  const limit = rateLimit({ by: "token", limit: 3, windowMs: 60_000, store, ...options });
  const ana = (await w.userToken(w.users.ana.id)).token;
  const bob = (await w.userToken(w.users.bob.id)).token;
  const bot = (await w.serviceToken()).token;
  await w.kw.directory.share({ item: w.inspection("insp_1"), grantee: { kind: "user", userId: w.users.ana.id }, level: "edit" });
  w.events.length = 0;
  const view = (token: string, item = "insp_1") => w.kw.authorize(token, "inspections.view", w.inspection(item), { rateLimit: limit });
  return { w, limit, state, ana, bob, bot, view };
}

const reasons = (ds: { reason: string }[]) => ds.map((d) => d.reason);

describe("R21 rate limits in the pipeline", () => {
  it("R21 a token is allowed exactly `limit` calls in a window, then rate_limited with the time to wait", async () => {
    const { view, ana } = await setup();
    const ds = [await view(ana), await view(ana), await view(ana), await view(ana)];
    expect(reasons(ds)).toEqual(["allowed", "allowed", "allowed", "rate_limited"]);
    expect(ds[0]!.rateLimit).toMatchObject({ policy: "default", limit: 3, used: 1, remaining: 2, windowMs: 60_000 });
    expect(ds[2]!.rateLimit).toMatchObject({ used: 3, remaining: 0 });
    const limited = ds[3]!;
    expect(limited).toMatchObject({ allowed: false, reason: "rate_limited", subject: { id: "u_ana" }, orgId: "acme", rateLimit: { used: 4, remaining: 0 } });
    expect(limited.reason === "rate_limited" ? limited.retryAfterMs : 0).toBeGreaterThan(0);
    expect(limited.reason === "rate_limited" ? limited.retryAfterMs : 0).toBeLessThanOrEqual(60_000);
  });

  it("R21 a valid token probing forbidden actions and unreachable items is counted (before the permission and access stages)", async () => {
    const { w, view, bob, limit } = await setup();
    const edit = await w.kw.authorize(bob, "inspections.edit", w.inspection("insp_1"), { rateLimit: limit }); // Bob may only view
    const unreachable = await view(bob, "insp_nowhere");
    expect(reasons([edit, unreachable])).toEqual(["permission_denied", "access_denied"]);
    expect(edit.rateLimit).toMatchObject({ used: 1, remaining: 2 });
    expect(unreachable.rateLimit).toMatchObject({ used: 2, remaining: 1 });
    await view(bob, "insp_nowhere");
    // the fourth call is refused at the limit stage, before the permission stage could say anything
    expect(await w.kw.authorize(bob, "inspections.edit", w.inspection("insp_1"), { rateLimit: limit })).toMatchObject({ reason: "rate_limited" });
  });

  it("R21 a malformed, unknown, revoked, expired or inactive token costs nothing and touches no counter", async () => {
    const { w, view, state, limit } = await setup({ by: "organization", limit: 1 });
    const revoked = await w.userToken(w.users.ana.id, "acme", "old");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.ana.id });
    const carl = (await w.userToken(w.users.carl.id)).token;
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.carl.id });
    const expired = (await w.userToken(w.users.bob.id, "acme", "idle")).token;
    w.advance(31 * DAY);
    const fresh = (await w.userToken(w.users.ana.id, "acme", "fresh")).token;
    for (const bad of ["kwu_nope", generateToken("user"), revoked.token, carl, expired, 42]) {
      for (let i = 0; i < 3; i++) {
        const d = await w.kw.authorize(bad, "inspections.view", w.inspection("insp_1"), { rateLimit: limit });
        expect(d.reason).toMatch(/^token_|^subject_inactive$/);
        expect(d.rateLimit).toBeUndefined();
      }
    }
    expect(state.consumes).toBe(0);
    expect(await view(fresh)).toMatchObject({ reason: "allowed", rateLimit: { used: 1 } }); // the organization's one unit was untouched
    expect(state.consumes).toBe(1);
  });

  it("R21 accessible() (list guards) is counted once per call, on the same counter", async () => {
    const { w, view, ana, limit } = await setup();
    const list = () => w.kw.accessible(ana, "inspections.view", "inspection", { rateLimit: limit });
    expect(reasons([await list(), await view(ana), await list(), await list()])).toEqual(["allowed", "allowed", "allowed", "rate_limited"]);
    const a = await caught(() => w.kw.assertAccessible(ana, "inspections.view", "inspection", { rateLimit: limit }));
    expect(a).toMatchObject({ code: "rate_limited", action: "inspections.view" });
    expect((a as KeywardError).retryAfterMs).toBeGreaterThan(0);
  });

  it("R21 law: over any sequence of calls with any tokens, the counter moves exactly once per call whose token passes its stage, and exactly min(n, limit) of them are let through", async () => {
    const { w, ana, bob, bot } = await setup();
    const revoked = await w.userToken(w.users.bob.id, "acme", "gone");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: revoked.record.id, actorId: w.users.bob.id });
    const tokens = { ana, bob, bot, revoked: revoked.token, malformed: "kwu_bad", unknown: generateToken("service_user") };
    const valid = new Set([ana, bob, bot]);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ who: fc.constantFrom(...(Object.keys(tokens) as (keyof typeof tokens)[])), call: fc.constantFrom("view", "edit", "list", "report") }), { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        async (calls, max) => {
          const { store, state } = countingStore();
          const limit = rateLimit({ by: "organization", limit: max, windowMs: 60_000, store, keyPrefix: `law${run++}` });
          let passed = 0;
          let beyond = 0;
          for (const { who, call } of calls) {
            const t = tokens[who];
            const opts = { rateLimit: limit };
            const d =
              call === "list"
                ? await w.kw.accessible(t, "inspections.view", "inspection", opts)
                : call === "report"
                  ? await w.kw.authorize(t, "reports.export", null, opts)
                  : await w.kw.authorize(t, call === "view" ? "inspections.view" : "inspections.edit", w.inspection("insp_1"), opts);
            if (valid.has(t)) {
              passed++;
              if (d.reason === "rate_limited") beyond++;
              else expect(d.rateLimit?.used).toBe(passed);
            } else expect(d.rateLimit).toBeUndefined();
          }
          expect(state.consumes).toBe(passed);
          expect(beyond).toBe(Math.max(0, passed - max));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("R21 limits by subject and by organization share a counter across tokens; by token they do not", async () => {
    for (const [by, expected] of [["token", ["allowed", "allowed"]], ["subject", ["allowed", "rate_limited"]], ["organization", ["allowed", "rate_limited"]]] as const) {
      const { w, view } = await setup({ by, limit: 1 });
      const a = (await w.userToken(w.users.ana.id, "acme", "one")).token;
      const b = (await w.userToken(w.users.ana.id, "acme", "two")).token;
      expect(reasons([await view(a), await view(b)]), by).toEqual(expected);
    }
    const { w, view, ana, bot } = await setup({ by: "subject", limit: 1 });
    expect(reasons([await view(ana), await w.kw.authorize(bot, "reports.export", null, { rateLimit: rateLimit({ by: "subject", limit: 1, windowMs: 60_000 }) })])).toEqual(["allowed", "allowed"]);
  });

  it("R21 a limit may depend on the action and the subject kind; a cost per request; a key of the host's", async () => {
    const seen: string[] = [];
    const { w, ana, bot, limit } = await setup({
      by: (ctx) => `${ctx.orgId}/${ctx.action}`,
      limit: ({ action, subject }) => (action === "reports.export" ? 2 : subject.kind === "service_user" ? 10 : 4),
      cost: ({ action, itemType, request }) => (seen.push(`${action}|${itemType}|${request?.path ?? "-"}`), action === "inspections.view" ? 2 : 1),
    });
    const report = (t: string) => w.kw.authorize(t, "reports.export", null, { rateLimit: limit });
    expect(reasons([await report(ana), await report(bot), await report(ana)])).toEqual(["allowed", "allowed", "rate_limited"]);
    const view = (t: string) => w.kw.authorize(t, "inspections.view", w.inspection("insp_1"), { rateLimit: limit, request: { method: "GET", path: "/inspections/insp_1" } });
    const d1 = await view(ana);
    expect(d1.rateLimit).toMatchObject({ limit: 4, used: 2, remaining: 2 });
    expect((await view(ana)).reason).toBe("allowed");
    expect((await view(ana)).reason).toBe("rate_limited"); // 6 > 4
    expect(seen).toContain("inspections.view|inspection|/inspections/insp_1");
    expect(seen).toContain("reports.export|null|-");
  });

  it("R21 a rate_limited decision is an authorization event (R16) and assertAuthorized throws rate_limited with retryAfterMs", async () => {
    const { w, ana, limit } = await setup({ limit: 1 });
    await w.kw.authorize(ana, "reports.export", null, { rateLimit: limit });
    const e = await caught(() => w.kw.assertAuthorized(ana, "reports.export", null, { rateLimit: limit }));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "rate_limited", action: "reports.export" });
    expect((e as KeywardError).retryAfterMs).toBeGreaterThan(0);
    const auth = w.events.filter((ev) => ev.type === "authorization");
    expect(auth.map((ev) => (ev as { reason: string }).reason)).toEqual(["allowed", "rate_limited"]);
    expect(auth[1]).toMatchObject({ outcome: "denied", subject: { id: "u_ana", name: "Ana Inspector" } });
  });
});

describe("R21 a failing limiter store never silently removes the limit", () => {
  const failures = (w: World) => w.events.filter((e): e is Extract<KeywardEvent, { type: "rate_limit.store_failed" }> => e.type === "rate_limit.store_failed");

  it("R21 by default a failing store fails closed: unavailable (503 in the middleware), with an event naming the token but no secret", async () => {
    const { w, ana, state, view } = await setup();
    state.mode = "down";
    const e = await caught(() => view(ana));
    expect(e).toMatchObject({ code: "unavailable" });
    expect((e as KeywardError).message).not.toContain("hunter2");
    expect(failures(w)).toEqual([
      expect.objectContaining({ type: "rate_limit.store_failed", fallback: "fail_closed", policy: "default", action: "inspections.view", orgId: "acme", subject: expect.objectContaining({ id: "u_ana" }), error: "ECONNREFUSED" }),
    ]);
    expect(JSON.stringify(w.events)).not.toContain("hunter2");
    expect(JSON.stringify(w.events)).not.toContain(ana);
    expect(w.events.some((ev) => ev.type === "authorization" && ev.outcome === "allowed")).toBe(false);
  });

  it("R21 a store that does not answer within timeoutMs is a failure too (fail closed)", async () => {
    const { w, ana, state, view } = await setup({ timeoutMs: 20 });
    state.mode = "hang";
    expect(await caught(() => view(ana))).toMatchObject({ code: "unavailable" });
    expect(failures(w).map((f) => [f.fallback, f.error])).toEqual([["fail_closed", "timeout"]]);
  });

  it("R21 with onStoreError: insurance, an in-process limiter counts instead (the limit divided among instances), and every such request is an event", async () => {
    const { w, ana, state, view } = await setup({ limit: 5, onStoreError: "insurance", insuranceInstances: 2 });
    expect((await view(ana)).reason).toBe("allowed"); // counted by the store
    state.mode = "down";
    const ds = [await view(ana), await view(ana), await view(ana), await view(ana)];
    expect(reasons(ds)).toEqual(["allowed", "allowed", "allowed", "rate_limited"]); // ceil(5 / 2) = 3 per instance
    expect(ds[0]!.rateLimit).toMatchObject({ limit: 3, used: 1 });
    expect(failures(w).map((f) => f.fallback)).toEqual(["insurance", "insurance", "insurance", "insurance"]);
    state.mode = "up";
    expect((await view(ana)).rateLimit).toMatchObject({ limit: 5, used: 2 }); // back on the store's counter
  });

  it("R21 a limit or key function that throws or answers nonsense is the host's bug: invalid_config, not an allow", async () => {
    const { w, ana } = await setup();
    for (const bad of [rateLimit({ by: () => "", limit: 1, windowMs: 1000 }), rateLimit({ by: "token", limit: () => 0, windowMs: 1000 }), rateLimit({ by: "token", limit: 1, cost: () => 1.5, windowMs: 1000 })]) {
      expect(await caught(() => w.kw.authorize(ana, "reports.export", null, { rateLimit: bad }))).toMatchObject({ code: "invalid_config" });
    }
    expect(failures(w)).toEqual([]);
  });
});

describe("rateLimit() validates its options once (invalid_config naming the field)", () => {
  it.each([
    ["by", { by: "ip" }],
    ["limit", { limit: 0 }],
    ["limit", { limit: 1.5 }],
    ["windowMs", { windowMs: 1500 }],
    ["windowMs", { windowMs: 500 }],
    ["cost", { cost: -1 }],
    ["onStoreError", { onStoreError: "fail-open" }],
    ["name", { name: 'a"b' }],
    ["store", { store: {} }],
    ["headers", { headers: { ietf: "yes" } }],
    ["extra", { extra: 1 }],
  ])("refuses a bad %s", (_field, patch) => {
    const e = (() => {
      try {
        rateLimit({ by: "token", limit: 10, windowMs: 60_000, ...(patch as object) } as RateLimitOptions);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "invalid_config" });
  });
});
