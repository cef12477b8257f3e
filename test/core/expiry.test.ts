/**
 * R19: absolute expiry and organization lifetime policies — the one predicate (effectiveExpiry)
 * as decisions, limits, listings, sweeps and the policy's "apply" use it, on the memory store,
 * PGlite and (with KEYWARD_PG_URL) the PostgreSQL server; and its laws (fast-check).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeywardError, type KeywardEvent, type TokenRecord } from "../../src/index.js";
import { decide, effectiveExpiry, isExpired, isTokenActive } from "../../src/core.js";
import {
  appliedPolicyExpiry,
  DEFAULT_POLICY_NOTICE_MS,
  expiryAfterUse,
  expiryOf,
  NEVER,
  tokenSortKey,
} from "../../src/core/lifecycle.js";
import { compileDecision } from "../../src/core/compile.js";
import { keywardFetch } from "../../src/middleware/fetch.js";
import { describeStores } from "../security/stores.js";
import { ACTIONS, caught, DAY, PASSWORD, T0, THIRTY_DAYS, world } from "./fixture.js";

const expired = (e: KeywardEvent[]) => e.filter((x): x is Extract<KeywardEvent, { type: "token.expired" }> => x.type === "token.expired");

function record(over: Partial<TokenRecord>): TokenRecord {
  return {
    id: "tok_1", kind: "user", orgId: "acme", subjectId: "u_ana", name: "t", hash: "h", hint: "kwu_…abcd", epoch: "ep1",
    createdAt: T0, createdBy: null, lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null,
    restriction: null, expiresAt: null, policyExpiresAt: null, previousHash: null, previousHashUntil: null, rotatedAt: null,
    warnedDeadline: null, warnedThresholdMs: null, clients: null,
    ...over,
  };
}

/** Random tokens: either kind, created around T0, used or not, with or without a date and a policy end. */
const tokenArb = fc
  .record({
    kind: fc.constantFrom("user" as const, "service_user" as const),
    createdAt: fc.integer({ min: T0 - 60 * DAY, max: T0 }),
    used: fc.option(fc.integer({ min: 0, max: 60 * DAY }), { nil: null }),
    date: fc.option(fc.integer({ min: 1, max: 120 * DAY }), { nil: null }),
    policy: fc.option(fc.integer({ min: 1, max: 120 * DAY }), { nil: null }),
  })
  .map((r) =>
    record({
      kind: r.kind,
      epoch: r.kind === "user" ? "ep1" : null,
      subjectId: r.kind === "user" ? "u_ana" : "svc_bi",
      createdAt: r.createdAt,
      lastUsedAt: r.used === null ? null : r.createdAt + r.used,
      expiresAt: r.date === null ? null : r.createdAt + r.date,
      policyExpiresAt: r.policy === null ? null : r.createdAt + r.policy,
    }),
  );

describe("R19 laws of the one predicate (fast-check)", () => {
  it("R19 effectiveExpiry is the earliest of the date, the policy's end and (user tokens) the inactivity deadline; null when none applies", () => {
    fc.assert(
      fc.property(tokenArb, (t) => {
        const candidates: [number, string][] = [];
        if (t.expiresAt != null) candidates.push([t.expiresAt, "date"]);
        if (t.policyExpiresAt != null) candidates.push([t.policyExpiresAt, "policy"]);
        if (t.kind === "user") candidates.push([Math.max(t.createdAt, t.lastUsedAt ?? t.createdAt) + THIRTY_DAYS, "inactivity"]);
        const e = effectiveExpiry(t, THIRTY_DAYS);
        if (candidates.length === 0) return e === null;
        const at = Math.min(...candidates.map((c) => c[0]));
        // Of equal deadlines the date names the cause, then the policy, then inactivity.
        const cause = candidates.find((c) => c[0] === at)![1];
        expect(e).toEqual({ at, cause });
        return true;
      }),
    );
  });

  it("R19 at every time: expired ⇔ the effective expiry has passed; the listing's sort key is the effective expiry (NEVER when none)", () => {
    fc.assert(
      fc.property(tokenArb, fc.integer({ min: T0 - 60 * DAY, max: T0 + 200 * DAY }), (t, now) => {
        const e = effectiveExpiry(t, THIRTY_DAYS);
        expect(isExpired(t, now, THIRTY_DAYS)).toBe(e !== null && now >= e.at);
        expect(tokenSortKey(t, "expires", THIRTY_DAYS)).toBe(e?.at ?? NEVER);
        if (e !== null && now >= e.at) expect(expiryOf(t, now, THIRTY_DAYS)).toEqual(e);
      }),
    );
  });

  it("R19 decisions and limits agree with the predicate at every time; an allowed decision's expiresAt is the effective expiry after this use", async () => {
    const input = (token: TokenRecord) =>
      compileDecision({
        token,
        subject: token.kind === "user"
          ? { kind: "user", user: { id: "u_ana", name: "Ana" }, membership: { orgId: "acme", userId: "u_ana", permissionSetId: "ps", groupIds: [], siteIds: [], status: "active", seat: true, epoch: "ep1" }, permissions: ["reports:export"] }
          : { kind: "service_user", serviceUser: { id: "svc_bi", orgId: "acme", name: "BI", permissionSetId: "ps", status: "active", createdBy: null, createdAt: T0 }, permissions: ["reports:export"] },
        shares: [],
        rules: [],
        sitePaths: {},
      });
    fc.assert(
      fc.property(tokenArb, fc.integer({ min: T0 - 60 * DAY, max: T0 + 200 * DAY }), (t, now) => {
        const d = decide(input(t), "reports.export", ACTIONS["reports.export"], null, now, { inactivityMs: THIRTY_DAYS });
        const alive = !isExpired(t, now, THIRTY_DAYS);
        expect(isTokenActive(t, { active: true, epoch: t.epoch }, now, THIRTY_DAYS)).toBe(alive);
        if (alive) {
          expect(d).toMatchObject({ allowed: true, expiresAt: effectiveExpiry({ ...t, lastUsedAt: Math.max(now, t.lastUsedAt ?? t.createdAt) }, THIRTY_DAYS)?.at ?? null });
          expect((d as { expiresAt: number | null }).expiresAt).toBe(expiryAfterUse(t, now, THIRTY_DAYS));
        } else {
          expect(d).toMatchObject({ allowed: false, reason: "token_expired", expiry: expiryOf(t, now, THIRTY_DAYS) });
        }
      }),
    );
  });

  it("R19 a policy applied to a live token never ends it before now + noticeMs (unless it was due sooner already), and never extends it past the notice unless its maximum allows", () => {
    fc.assert(
      fc.property(
        tokenArb,
        fc.option(fc.integer({ min: 1, max: 200 * DAY }), { nil: null }),
        fc.integer({ min: 0, max: 30 * DAY }),
        (t, max, noticeMs) => {
          const now = T0;
          fc.pre(!isExpired(t, now, THIRTY_DAYS));
          const policy = max === null ? null : { maxLifetimeMs: { user: max, service_user: max } };
          const next = appliedPolicyExpiry(t, policy, now, noticeMs);
          if (max === null) return next === null;
          const before = effectiveExpiry(t, THIRTY_DAYS)?.at ?? Infinity;
          const after = effectiveExpiry({ ...t, policyExpiresAt: next }, THIRTY_DAYS)?.at ?? Infinity;
          // Never ended without notice: alive until the earlier of its previous expiry and now + notice.
          expect(after).toBeGreaterThanOrEqual(Math.min(before, now + noticeMs));
          // The policy's end is its maximum, or the notice when the maximum has (nearly) passed.
          expect(next!).toBeGreaterThanOrEqual(t.createdAt + max);
          expect(next!).toBeLessThanOrEqual(Math.max(t.createdAt + max, now + noticeMs));
          return true;
        },
      ),
    );
  });
});

describeStores("R19 absolute expiry and lifetime policies", (make) => {
  const setup = async () => {
    const { store, cleanup } = await make();
    const w = await world({ store });
    return { w, cleanup };
  };

  it("R19 a token with a date works until then, then is token_expired with cause date, announced once", async () => {
    const { w, cleanup } = await setup();
    try {
      const at = T0 + 10 * DAY;
      const { token, record: view } = await w.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: w.bot.id, name: "dated", actorId: "u_ada", expiresAt: at });
      expect(view).toMatchObject({ expiresAt: at, expiryCause: "date" });
      w.advance(10 * DAY - 1);
      expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: true, expiresAt: at });
      w.advance(1);
      const d = await w.kw.authorize(token, "reports.export");
      expect(d).toMatchObject({ allowed: false, reason: "token_expired", expiry: { cause: "date", at } });
      expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ reason: "token_expired", expiry: { cause: "date", at } });
      expect(expired(w.events).map((e) => [e.tokenId, e.cause])).toEqual([[view.id, "date"]]);
      const listed = await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada", status: "expired" });
      expect(listed.items.map((t) => [t.id, t.status, t.expiresAt, t.expiryCause])).toEqual([[view.id, "expired", null, null]]);
    } finally {
      await cleanup();
    }
  });

  it("R19 a user token's effective expiry is its date when that comes before its inactivity deadline, and the decision reports it", async () => {
    const { w, cleanup } = await setup();
    try {
      const at = T0 + 5 * DAY;
      const { token, record: view } = await w.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "short", password: PASSWORD, expiresAt: at });
      expect(view).toMatchObject({ expiresAt: at, expiryCause: "date" });
      const long = await w.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "long", password: PASSWORD, expiresAt: T0 + 365 * DAY });
      expect(long.record).toMatchObject({ expiresAt: T0 + THIRTY_DAYS, expiryCause: "inactivity" });
      w.advance(DAY);
      expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: true, expiresAt: at });
      expect(await w.kw.authorize(long.token, "reports.export")).toMatchObject({ allowed: true, expiresAt: w.clock.now + THIRTY_DAYS });
      w.advance(4 * DAY);
      expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ reason: "token_expired", expiry: { cause: "date", at } });
      expect(await w.kw.login(long.token)).toMatchObject({ subject: { id: "u_ana" } });
      await expect(w.kw.login(token)).rejects.toMatchObject({ code: "token_expired" });
    } finally {
      await cleanup();
    }
  });

  it("R19 creation refuses a date not after now (invalid_input), a missing date under requireExpiry, a date past the maximum and user tokens where the policy forbids them (policy_violation), writing nothing", async () => {
    const { w, cleanup } = await setup();
    try {
      const svc = { orgId: "acme", serviceUserId: w.bot.id, name: "x", actorId: "u_ada" };
      expect(await caught(() => w.kw.tokens.createServiceToken({ ...svc, expiresAt: T0 }))).toMatchObject({ code: "invalid_input", field: "expiresAt" });
      expect(await caught(() => w.kw.tokens.createServiceToken({ ...svc, expiresAt: 1.5 as never }))).toMatchObject({ code: "invalid_input", field: "expiresAt" });
      expect(await caught(() => w.kw.tokens.createServiceToken({ ...svc, expiresAt: "2030-01-01" as never }))).toMatchObject({ code: "invalid_input", field: "expiresAt" });
      const existing = await w.userToken("u_ana");
      await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { service_user: 90 * DAY }, requireExpiry: true, userTokens: false } });
      w.events.length = 0;
      const required = await caught(() => w.kw.tokens.createServiceToken(svc));
      expect(required).toBeInstanceOf(KeywardError);
      expect(required).toMatchObject({ code: "policy_violation", field: "expiresAt" });
      expect(await caught(() => w.kw.tokens.createServiceToken({ ...svc, expiresAt: T0 + 90 * DAY + 1 }))).toMatchObject({ code: "policy_violation", field: "expiresAt" });
      expect(await caught(() => w.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "no", password: PASSWORD, expiresAt: T0 + DAY }))).toMatchObject({ code: "policy_violation", field: "kind" });
      expect((await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada" })).total).toBe(0);
      // Existing user tokens are not killed by userTokens: false.
      expect(await w.kw.authorize(existing.token, "reports.export")).toMatchObject({ allowed: true });
      const ok = await w.kw.tokens.createServiceToken({ ...svc, expiresAt: T0 + 90 * DAY });
      expect(ok.record).toMatchObject({ expiresAt: T0 + 90 * DAY, expiryCause: "date" });
      expect(w.events.filter((e) => e.type === "token.created")).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });

  it("R19 a maximum lifetime gives new tokens creation + maximum, shown as the policy's expiry and ending them with cause policy; existing tokens keep theirs by default", async () => {
    const { w, cleanup } = await setup();
    try {
      const before = await w.serviceToken(w.bot.id, "before");
      const result = await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { service_user: 90 * DAY } } });
      expect(result).toEqual({ policy: { maxLifetimeMs: { service_user: 90 * DAY } }, affected: [] });
      expect(await w.kw.directory.getTokenPolicy({ orgId: "acme" })).toEqual({ maxLifetimeMs: { service_user: 90 * DAY } });
      expect(await w.kw.directory.getTokenPolicy({ orgId: "beta" })).toBeNull();
      const after = await w.serviceToken(w.bot.id, "after");
      expect(after.record).toMatchObject({ expiresAt: T0 + 90 * DAY, expiryCause: "policy" });
      const page = await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada", sort: "expires" });
      expect(page.items.map((t) => [t.name, t.expiresAt, t.expiryCause])).toEqual([["after", T0 + 90 * DAY, "policy"], ["before", null, null]]);
      w.advance(90 * DAY);
      expect(await w.kw.authorize(after.token, "reports.export")).toMatchObject({ reason: "token_expired", expiry: { cause: "policy", at: T0 + 90 * DAY } });
      expect(await w.kw.authorize(before.token, "reports.export")).toMatchObject({ allowed: true, expiresAt: null });
    } finally {
      await cleanup();
    }
  });

  it("R19 apply: every live token gets creation + maximum, a token it would end sooner gets now + notice, and the affected tokens are listed; loosening gives them back", async () => {
    const { w, cleanup } = await setup();
    try {
      const old = await w.serviceToken(w.bot.id, "old");
      const userOld = await w.userToken("u_ana");
      w.advance(100 * DAY);
      await w.kw.authorize(userOld.token, "reports.export").catch(() => null);
      const fresh = await w.serviceToken(w.bot.id, "fresh");
      const ana = await w.userToken("u_ana", "acme", "fresh user");
      const now = w.clock.now;
      const { affected } = await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { service_user: 90 * DAY, user: 7 * DAY } }, existing: "apply" });
      const byName = Object.fromEntries(affected.map((a) => [a.name, a]));
      expect(byName.old).toEqual({ tokenId: old.record.id, name: "old", kind: "service_user", subjectId: w.bot.id, expiresAt: now + DEFAULT_POLICY_NOTICE_MS, cause: "policy" });
      expect(byName.fresh).toMatchObject({ expiresAt: now + 90 * DAY, cause: "policy" });
      // Created just now, but existing: a maximum shorter than the notice still gives the notice.
      expect(byName["fresh user"]).toMatchObject({ expiresAt: now + DEFAULT_POLICY_NOTICE_MS, cause: "policy", kind: "user" });
      // Ana's first token expired from inactivity long ago: not live, not touched.
      expect(affected.map((a) => a.tokenId)).not.toContain(userOld.record.id);
      expect(affected).toHaveLength(3);
      w.advance(DEFAULT_POLICY_NOTICE_MS - 1);
      expect(await w.kw.authorize(old.token, "reports.export")).toMatchObject({ allowed: true, expiresAt: now + DEFAULT_POLICY_NOTICE_MS });
      expect(await w.kw.authorize(ana.token, "reports.export")).toMatchObject({ allowed: true, expiresAt: now + DEFAULT_POLICY_NOTICE_MS });
      // A user token created now under the policy gets its maximum, no notice.
      const capped = await w.userToken("u_ana", "acme", "capped");
      expect(capped.record).toMatchObject({ expiresAt: w.clock.now + 7 * DAY, expiryCause: "policy" });
      w.advance(1);
      expect(await w.kw.authorize(old.token, "reports.export")).toMatchObject({ reason: "token_expired", expiry: { cause: "policy", at: now + DEFAULT_POLICY_NOTICE_MS } });
      expect(await w.kw.authorize(ana.token, "reports.export")).toMatchObject({ reason: "token_expired", expiry: { cause: "policy" } });
      // Loosening with apply: the policy ends are lifted from the live tokens.
      const loose = await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: null, existing: "apply" });
      expect(loose.affected.map((a) => [a.name, a.cause]).sort()).toEqual([["capped", "inactivity"], ["fresh", null]]);
      expect(await w.kw.authorize(fresh.token, "reports.export")).toMatchObject({ allowed: true, expiresAt: null });
      expect(await w.kw.directory.getTokenPolicy({ orgId: "acme" })).toBeNull();
    } finally {
      await cleanup();
    }
  });

  it("R19 noticeMs: a host may give less (or more) notice; 0 ends an overdue token at once", async () => {
    const { w, cleanup } = await setup();
    try {
      const old = await w.serviceToken(w.bot.id, "old");
      w.advance(10 * DAY);
      const { affected } = await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { service_user: DAY } }, existing: "apply", noticeMs: 0 });
      expect(affected).toEqual([expect.objectContaining({ tokenId: old.record.id, expiresAt: w.clock.now, cause: "policy" })]);
      expect(await w.kw.authorize(old.token, "reports.export")).toMatchObject({ reason: "token_expired", expiry: { cause: "policy", at: w.clock.now } });
    } finally {
      await cleanup();
    }
  });

  it("R3 R19 a token past its date frees its slot: limits count with the same predicate", async () => {
    const { store, cleanup } = await make();
    try {
      const w = await world({ store, limits: { serviceTokensPerOrg: 1 } });
      await w.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: w.bot.id, name: "one", actorId: "u_ada", expiresAt: T0 + DAY });
      expect(await caught(() => w.serviceToken(w.bot.id, "two"))).toMatchObject({ code: "token_limit_reached" });
      w.advance(DAY);
      expect((await w.serviceToken(w.bot.id, "two")).record.status).toBe("active");
    } finally {
      await cleanup();
    }
  });

  it("R19 sweepExpired records date and policy expiries of service and user tokens with their cause, once", async () => {
    const { w, cleanup } = await setup();
    try {
      const dated = await w.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: w.bot.id, name: "dated", actorId: "u_ada", expiresAt: T0 + DAY });
      await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { user: 2 * DAY } } });
      const capped = await w.userToken("u_ana");
      const forever = await w.serviceToken(w.bot.id, "forever");
      w.advance(3 * DAY);
      expect(await w.kw.tokens.sweepExpired({ orgId: "acme" })).toBe(2);
      expect(await w.kw.tokens.sweepExpired({ orgId: "acme" })).toBe(0);
      expect(expired(w.events).map((e) => [e.tokenId, e.cause]).sort()).toEqual([[dated.record.id, "date"], [capped.record.id, "policy"]].sort());
      expect(await w.kw.authorize(forever.token, "reports.export")).toMatchObject({ allowed: true });
    } finally {
      await cleanup();
    }
  });

  it("R19 setTokenPolicy validates the policy (invalid_input naming the field) and the organization (not_found)", async () => {
    const { w, cleanup } = await setup();
    try {
      expect(await caught(() => w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { user: 0 } } }))).toMatchObject({ code: "invalid_input", field: "policy.maxLifetimeMs.user" });
      expect(await caught(() => w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { service_user: 1.5 } } }))).toMatchObject({ code: "invalid_input", field: "policy.maxLifetimeMs.service_user" });
      expect(await caught(() => w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { other: true } as never }))).toMatchObject({ code: "invalid_input" });
      expect(await caught(() => w.kw.directory.setTokenPolicy({ orgId: "acme", policy: null, existing: "all" as never }))).toMatchObject({ code: "invalid_input", field: "existing" });
      expect(await caught(() => w.kw.directory.setTokenPolicy({ orgId: "nope", policy: null }))).toMatchObject({ code: "not_found" });
      expect(await caught(() => w.kw.directory.getTokenPolicy({ orgId: "nope" }))).toMatchObject({ code: "not_found" });
      expect(await w.kw.directory.getTokenPolicy({ orgId: "acme" })).toBeNull();
    } finally {
      await cleanup();
    }
  });

  it("R19 law: after a random policy is applied, every token that was live stays live until the earlier of its old expiry and now + notice, and the listing, the decision and the sort agree at every time", async () => {
    const { store, cleanup } = await make();
    try {
      const w = await world({ store, limits: { serviceTokensPerOrg: 100, userTokensPerUser: 100 } });
      const made: { token: string; id: string }[] = [];
      let latest = w.clock.now;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ kind: fc.constantFrom("user", "service_user"), ageDays: fc.integer({ min: 0, max: 60 }), dateDays: fc.option(fc.integer({ min: 1, max: 120 }), { nil: null }) }), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 120 }),
          fc.integer({ min: 0, max: 20 }),
          async (specs, maxDays, noticeDays) => {
            // Each run starts clean, later than anything before (keyward's clock never runs backwards).
            for (const m of made) await w.kw.tokens.revoke({ orgId: "acme", tokenId: m.id, actorId: "u_ada" }).catch(() => null);
            made.length = 0;
            latest += 200 * DAY;
            w.clock.now = latest;
            await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: null });
            // Tokens created at different times (the clock moves forward only).
            for (const s of [...specs].sort((a, b) => b.ageDays - a.ageDays)) {
              const expiresAt = s.dateDays === null ? undefined : w.clock.now + s.dateDays * DAY;
              const c = s.kind === "user"
                ? await w.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "u", password: PASSWORD, ...(expiresAt ? { expiresAt } : {}) })
                : await w.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: w.bot.id, name: "s", actorId: "u_ada", ...(expiresAt ? { expiresAt } : {}) });
              made.push({ token: c.token, id: c.record.id });
              w.advance(DAY);
            }
            const now = w.clock.now;
            const live = new Map<string, number>();
            for (const m of made) {
              const d = await w.kw.authorize(m.token, "reports.export");
              if (d.allowed || d.reason !== "token_expired") live.set(m.id, d.allowed ? (d.expiresAt ?? Infinity) : Infinity);
            }
            await w.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { user: maxDays * DAY, service_user: maxDays * DAY } }, existing: "apply", noticeMs: noticeDays * DAY });
            // Checked in the order of their guarantees (the clock only moves forward).
            const checks = made.filter((m) => live.has(m.id)).map((m) => ({ m, guaranteed: Math.min(live.get(m.id)!, now + noticeDays * DAY) }));
            for (const { m, guaranteed } of checks.sort((a, b) => a.guaranteed - b.guaranteed)) {
              if (guaranteed <= now) continue;
              w.clock.now = guaranteed - 1;
              expect((await w.kw.authorize(m.token, "reports.export")).reason).not.toBe("token_expired");
            }
            // The listing's status and sort agree with the decisions at one time.
            w.clock.now = now + noticeDays * DAY;
            const page = await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada", status: "all", sort: "expires", limit: 500 });
            const keys = page.items.filter((t) => t.status === "active").map((t) => t.expiresAt ?? NEVER);
            expect(keys).toEqual([...keys].sort((a, b) => a - b));
            for (const m of made) {
              const view = page.items.find((t) => t.id === m.id);
              if (view === undefined) continue;
              const d = await w.kw.authorize(m.token, "reports.export");
              expect(view.status === "active", m.id).toBe(d.allowed);
              if (d.allowed) expect(d.expiresAt === null ? null : d.expiresAt).toBe(view.expiresAt);
            }
          },
        ),
        { numRuns: 12 },
      );
    } finally {
      await cleanup();
    }
  }, 60_000);
});

describe("R19 the expiry header option", () => {
  it("R19 expiryHeader renames the header or switches it off; a bad name is invalid_config", async () => {
    const w = await world();
    const { token } = await w.userToken("u_ana");
    const spec = { action: "reports.export" } as const;
    const request = () => new Request("http://x/reports", { headers: { authorization: `Bearer ${token}` } });
    const byDefault = await keywardFetch(w.kw).check(request(), spec);
    expect(byDefault).toMatchObject({ ok: true, headers: { "api-token-expiration": new Date(T0 + THIRTY_DAYS).toISOString() } });
    const renamed = await keywardFetch(w.kw, { expiryHeader: "X-Token-Expires" }).check(request(), spec);
    expect(renamed).toMatchObject({ ok: true, headers: { "x-token-expires": new Date(T0 + THIRTY_DAYS).toISOString() } });
    const off = await keywardFetch(w.kw, { expiryHeader: false }).check(request(), spec);
    expect(off.ok && off.headers).toEqual({});
    expect(() => keywardFetch(w.kw, { expiryHeader: "bad name" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "options.expiryHeader" }));
  });
});
