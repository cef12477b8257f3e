/**
 * The laws, as properties (fast-check): over the pure core where a law is about decisions, over
 * the service where it is about sequences of changes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AccessLevel, AccessRule, ActionDefinition, Decision, Grantee, ItemRef, KeywardStore, Share, TokenRecord } from "../../src/index.js";
import { decide as decideCompiled, isExpired } from "../../src/core.js";
import { LEVEL_RANK } from "../../src/core/decide.js";
import { memoryStore } from "../../src/memory.js";
import { compileDecision, type LoadedDecision as DecisionInput } from "../../src/core/compile.js";
import { bestGrant as bestCompiled } from "../../src/core/decide.js";

/** The decision on records: compiled first (what a store hands to `decide()`). */
const decide = (input: DecisionInput, action: string, def: ActionDefinition | undefined, item: ItemRef | null, now: number, options: { inactivityMs: number }): Decision =>
  decideCompiled(compileDecision(input), action, def, item, now, options);
const bestGrant = (input: DecisionInput, item: ItemRef) => {
  const g = bestCompiled(compileDecision(input), item);
  return g === null ? null : g.ref;
};
import { DAY, THIRTY_DAYS, T0, world, type World } from "./fixture.js";

const RUNS = { numRuns: 60 };

// ── R6: the expiry boundary ─────────────────────────────────────────────────────────────────

function tokenRecord(over: Partial<TokenRecord>): TokenRecord {
  return {
    id: "tok_1",
    kind: "user",
    orgId: "A",
    subjectId: "u1",
    name: "t",
    hash: "h",
    hint: "kwu_…0000",
    epoch: "e1",
    createdAt: T0,
    createdBy: "u1",
    lastUsedAt: null,
    revokedAt: null,
    deletedAt: null,
    expiredAt: null,
    ...over,
  };
}

describe("R6 the expiry boundary", () => {
  it("R6 (core) a user token is expired iff now ≥ last activity + window, last activity being the creation when never used", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 * 365 * DAY }),
        fc.option(fc.integer({ min: 0, max: 400 * DAY }), { nil: null }),
        fc.integer({ min: 1, max: 365 * DAY }),
        fc.integer({ min: -2, max: 2 }),
        fc.integer({ min: 0, max: 400 * DAY }),
        (created, usedAfter, windowMs, nudge, extra) => {
          const token = tokenRecord({ createdAt: created, lastUsedAt: usedAfter === null ? null : created + usedAfter });
          const last = usedAfter === null ? created : created + usedAfter;
          // Probe right around the boundary, and anywhere after the last activity.
          for (const now of [last + windowMs + nudge, last + extra]) {
            expect(isExpired(token, now, windowMs)).toBe(now >= last + windowMs);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("R6 (core) a service token never expires from inactivity", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 * 365 * DAY }), fc.integer({ min: 1, max: 365 * DAY }), (idle, windowMs) => {
        expect(isExpired(tokenRecord({ kind: "service_user", epoch: null }), T0 + idle, windowMs)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("R6 a user token used at random intervals below 30 days keeps working; it dies exactly 30 days after its last use", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: THIRTY_DAYS - 1 }), { maxLength: 6 }),
        fc.oneof(fc.constantFrom(THIRTY_DAYS - 1, THIRTY_DAYS, THIRTY_DAYS + 1), fc.integer({ min: 0, max: 2 * THIRTY_DAYS })),
        async (gaps, finalGap) => {
          const w = await world();
          const { token } = await w.userToken(w.users.ana.id);
          for (const gap of gaps) {
            w.advance(gap);
            expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
          }
          w.advance(finalGap);
          const d = await w.kw.authorize(token, "reports.export");
          expect(d.allowed).toBe(finalGap < THIRTY_DAYS);
          if (!d.allowed) expect(d.reason).toBe("token_expired");
        },
      ),
      RUNS,
    );
  });

  it("R6 a service token stays valid across any idle periods", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 * 365 * DAY }), { minLength: 1, maxLength: 5 }), async (gaps) => {
        const w = await world();
        const { token } = await w.serviceToken();
        for (const gap of gaps) {
          w.advance(gap);
          expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
        }
      }),
      { numRuns: 30 },
    );
  });
});

// ── Sequences of user changes ────────────────────────────────────────────────────────────────

type UserId = "u_ada" | "u_ana" | "u_bob" | "u_carl";
const anyUser = fc.constantFrom<UserId>("u_ada", "u_ana", "u_bob", "u_carl");
const anySet = fc.constantFrom("ps_admin", "ps_inspector", "ps_viewer", "ps_none", null);

/** One change to a person (or the passing of time), applied through the public API; failures (e.g. a change to a non-member) are part of life. */
type UserChange =
  | { op: "deactivate" | "reactivate" | "leave"; userId: UserId }
  | { op: "rejoin"; userId: UserId; set: string | null }
  | { op: "permissions"; userId: UserId; set: string | null }
  | { op: "editSet"; set: string; permissions: string[] }
  | { op: "rename"; userId: UserId; name: string }
  | { op: "group" | "ungroup"; userId: UserId }
  | { op: "site" | "unsite"; userId: UserId; siteId: string }
  | { op: "newToken" | "revokeOwn"; userId: UserId }
  | { op: "advance"; ms: number };

const userChange: fc.Arbitrary<UserChange> = fc.oneof(
  fc.record({ op: fc.constantFrom("deactivate" as const, "reactivate" as const, "leave" as const), userId: anyUser }),
  fc.record({ op: fc.constant("rejoin" as const), userId: anyUser, set: anySet }),
  fc.record({ op: fc.constant("permissions" as const), userId: anyUser, set: anySet }),
  fc.record({
    op: fc.constant("editSet" as const),
    set: fc.constantFrom("ps_admin", "ps_inspector", "ps_viewer"),
    permissions: fc.subarray(["api_tokens:manage", "service_users:manage", "inspections:view", "inspections:edit", "reports:export"]),
  }),
  fc.record({ op: fc.constant("rename" as const), userId: anyUser, name: fc.constantFrom("Renamed", "Someone Else") }),
  fc.record({ op: fc.constantFrom("group" as const, "ungroup" as const), userId: anyUser }),
  fc.record({ op: fc.constantFrom("site" as const, "unsite" as const), userId: anyUser, siteId: fc.constantFrom("site_north", "site_harbour", "site_south") }),
  fc.record({ op: fc.constantFrom("newToken" as const, "revokeOwn" as const), userId: anyUser }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 10 * DAY }) }),
);

async function applyUserChange(w: World, c: UserChange): Promise<void> {
  const d = w.kw.directory;
  const orgId = "acme";
  try {
    switch (c.op) {
      case "deactivate":
        await d.deactivateMember({ orgId, userId: c.userId });
        break;
      case "reactivate":
        await d.reactivateMember({ orgId, userId: c.userId });
        break;
      case "leave":
        await d.removeMember({ orgId, userId: c.userId });
        break;
      case "rejoin":
        await d.addMember({ orgId, userId: c.userId, permissionSetId: c.set });
        break;
      case "permissions":
        await d.updateMember({ orgId, userId: c.userId, permissionSetId: c.set });
        break;
      case "editSet":
        await d.updatePermissionSet({ orgId, id: c.set, permissions: c.permissions });
        break;
      case "rename":
        await d.upsertUser({ id: c.userId, name: c.name });
        break;
      case "group":
        await d.addTo({ orgId, subjectId: c.userId, groupId: "grp_auditors" });
        break;
      case "ungroup":
        await d.removeFrom({ orgId, subjectId: c.userId, groupId: "grp_auditors" });
        break;
      case "site":
        await d.addTo({ orgId, subjectId: c.userId, siteId: c.siteId });
        break;
      case "unsite":
        await d.removeFrom({ orgId, subjectId: c.userId, siteId: c.siteId });
        break;
      case "newToken":
        await w.userToken(c.userId);
        break;
      case "revokeOwn": {
        const [first] = (await w.kw.tokens.listMine({ orgId, userId: c.userId })).items;
        if (first) await w.kw.tokens.revoke({ orgId, tokenId: first.id, actorId: c.userId });
        break;
      }
      case "advance":
        w.advance(c.ms);
        break;
    }
  } catch (e) {
    // Refusals (not a member, limit reached…) are expected; anything but a KeywardError is not.
    if (!(e instanceof Error) || e.name !== "KeywardError") throw e;
  }
}

describe("R7 deactivation and departure are permanent", () => {
  it("R7 once its user is deactivated or leaves, a user token never works again, whatever follows", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(userChange, { maxLength: 5 }),
        fc.constantFrom("deactivate" as const, "leave" as const),
        fc.array(userChange, { maxLength: 12 }),
        async (before, kill, after) => {
          const w = await world();
          const { token } = await w.userToken(w.users.ana.id);
          for (const c of before.filter((c) => !("userId" in c) || c.userId !== "u_ana")) await applyUserChange(w, c);
          await applyUserChange(w, { op: kill, userId: "u_ana" });
          // Whatever follows — reactivation, re-invitation, new permissions — the old token stays dead.
          for (const c of [...after, { op: "reactivate", userId: "u_ana" } as const, { op: "rejoin", userId: "u_ana", set: "ps_admin" } as const]) {
            await applyUserChange(w, c);
            const d = await w.kw.authorize(token, "reports.export");
            expect(d.allowed).toBe(false);
            // Its own user may also have revoked it since: any refusal but never an allow.
            expect(["subject_inactive", "token_expired", "token_revoked"]).toContain(d.reason);
          }
        },
      ),
      RUNS,
    );
  });
});

describe("R8 no sequence of user changes alters a service token's decisions", () => {
  it("R8 the service token's decisions are the same after any sequence of changes to any user, the creating admin included", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(userChange, { minLength: 1, maxLength: 15 }), async (changes) => {
        const w = await world();
        const shared = w.inspection("insp_svc");
        const orgWide = w.inspection("insp_org");
        const groupOnly = w.inspection("insp_group");
        await w.kw.directory.share({ item: shared, grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "edit" });
        await w.kw.directory.share({ item: orgWide, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: true }, level: "view" });
        await w.kw.directory.share({ item: groupOnly, grantee: { kind: "group", groupId: "grp_auditors" }, level: "delete" });
        const { token } = await w.serviceToken();
        const probe = async () => [
          await w.kw.authorize(token, "reports.export"),
          await w.kw.authorize(token, "inspections.edit", shared),
          await w.kw.authorize(token, "inspections.view", orgWide),
          await w.kw.authorize(token, "inspections.edit", orgWide),
          await w.kw.authorize(token, "inspections.view", groupOnly),
          await w.kw.authorize(token, "templates.view", { orgId: "acme", type: "template", id: "tpl" }),
        ];
        const before = await probe();
        for (const c of changes) {
          await applyUserChange(w, c);
          expect(await probe()).toEqual(before);
        }
      }),
      RUNS,
    );
  });
});

// ── R3: limits ───────────────────────────────────────────────────────────────────────────────

async function activeCount(w: World, kind: "user" | "service", userId = "u_ana"): Promise<number> {
  const list =
    kind === "user"
      ? (await w.kw.tokens.listMine({ orgId: "acme", userId })).items
      : (await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada" })).items;
  return list.filter((t) => t.status === "active").length;
}

type LimitOp =
  | { op: "createUser" | "createService" }
  | { op: "revoke" | "delete"; kind: "user" | "service"; index: number }
  | { op: "advance"; ms: number };

const limitOp: fc.Arbitrary<LimitOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom("createUser" as const, "createService" as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom("revoke" as const, "delete" as const), kind: fc.constantFrom("user" as const, "service" as const), index: fc.nat(30) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.oneof(fc.integer({ min: 0, max: DAY }), fc.constant(THIRTY_DAYS)) }) },
);

describe("R3 limits are never exceeded", () => {
  it("R3 over any sequence of creations, revocations, deletions and idle time, a creation succeeds iff the owner is below its limit", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.array(limitOp, { maxLength: 25 }), async (userMax, serviceMax, ops) => {
        const w = await world({ limits: { userTokensPerUser: userMax, serviceTokensPerOrg: serviceMax } });
        const ids = { user: [] as string[], service: [] as string[] };
        for (const o of ops) {
          if (o.op === "createUser" || o.op === "createService") {
            const kind = o.op === "createUser" ? "user" : "service";
            const before = await activeCount(w, kind);
            const max = kind === "user" ? userMax : serviceMax;
            const result = await (kind === "user" ? w.userToken(w.users.ana.id) : w.serviceToken()).then(
              (r) => r,
              (e: unknown) => e,
            );
            if (before < max) {
              expect(result).toMatchObject({ record: { status: "active" } });
              ids[kind].push((result as { record: { id: string } }).record.id);
            } else expect(result).toMatchObject({ code: "token_limit_reached" });
          } else if (o.op === "advance") {
            w.advance(o.ms);
          } else if (o.op === "revoke" || o.op === "delete") {
            const tokenId = ids[o.kind][o.index % Math.max(1, ids[o.kind].length)];
            if (tokenId === undefined) continue;
            const actorId = o.op === "delete" || o.kind === "service" ? "u_ada" : "u_ana";
            await (o.op === "revoke" ? w.kw.tokens.revoke({ orgId: "acme", tokenId, actorId }) : w.kw.tokens.delete({ orgId: "acme", tokenId, actorId })).catch(
              (e: { code?: string }) => expect(e.code).toBe("not_found"),
            );
          }
          expect(await activeCount(w, "user")).toBeLessThanOrEqual(userMax);
          expect(await activeCount(w, "service")).toBeLessThanOrEqual(serviceMax);
        }
      }),
      RUNS,
    );
  });

  it("R3 of many concurrent creations, exactly the free slots succeed (Promise.all)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.nat(12), fc.integer({ min: 1, max: 30 }), fc.boolean(), async (max, existingWish, racers, service) => {
        const w = await world({ limits: { userTokensPerUser: max, serviceTokensPerOrg: max } });
        const existing = Math.min(existingWish, max);
        const create = (i: number) => (service ? w.serviceToken(w.bot.id, `t${i}`) : w.userToken(w.users.ana.id, "acme", `t${i}`));
        for (let i = 0; i < existing; i++) await create(i);
        const results = await Promise.allSettled(Array.from({ length: racers }, (_, i) => create(100 + i)));
        const won = results.filter((r) => r.status === "fulfilled").length;
        expect(won).toBe(Math.min(racers, max - existing));
        for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "token_limit_reached" });
        expect(await activeCount(w, service ? "service" : "user")).toBe(existing + won);
      }),
      RUNS,
    );
  });

  /** A store whose every call first waits for the scheduler: the scheduler decides the interleaving. */
  function scheduledStore(inner: KeywardStore, s: fc.Scheduler): KeywardStore {
    return new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => s.schedule(Promise.resolve(), String(prop)).then(() => (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
  }

  it("R3 creations racing each other and revocations never push the active count past the limit (fc.scheduler interleavings)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        fc.nat(3),
        async (s, max, racers, revokers) => {
          const inner = memoryStore();
          const w = await world({ store: inner, limits: { userTokensPerUser: max } });
          const existing = [];
          for (let i = 0; i < max; i++) existing.push(await w.userToken(w.users.ana.id, "acme", `old${i}`));
          // Same keyward configuration, but every store call now goes through the scheduler.
          const { createKeyward } = await import("../../src/index.js");
          const kw = createKeyward({
            store: scheduledStore(inner, s),
            actions: { "reports.export": { permission: "reports:export" } },
            clock: () => w.clock.now,
            limits: { userTokensPerUser: max },
            verifyPassword: () => true,
          });
          const creations = Array.from({ length: racers }, (_, i) => kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: `race${i}`, password: "p" }));
          const revocations = existing.slice(0, revokers).map((t) => kw.tokens.revoke({ orgId: "acme", tokenId: t.record.id, actorId: "u_ana" }));
          const settled = Promise.allSettled([...creations, ...revocations]);
          await s.waitIdle();
          const results = await settled;
          const won = results.slice(0, racers).filter((r) => r.status === "fulfilled").length;
          for (const r of results.slice(0, racers)) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "token_limit_reached" });
          const revoked = Math.min(revokers, max);
          expect(won).toBeLessThanOrEqual(revoked);
          expect(await activeCount(w, "user")).toBe(max - revoked + won);
          expect(await activeCount(w, "user")).toBeLessThanOrEqual(max);
        },
      ),
      RUNS,
    );
  });
});

// ── R11: revocation is permanent ─────────────────────────────────────────────────────────────

describe("R11 revocation and deletion are permanent", () => {
  it("R11 a revoked or deleted token is refused after any sequence of changes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("revoke" as const, "delete" as const),
        fc.constantFrom("user" as const, "service" as const),
        fc.array(userChange, { maxLength: 12 }),
        async (how, kind, changes) => {
          const w = await world();
          const item = w.inspection("insp_1");
          await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: true }, level: "delete" });
          const { token, record } = kind === "user" ? await w.userToken(w.users.ana.id) : await w.serviceToken();
          const actorId = how === "delete" || kind === "service" ? "u_ada" : "u_ana";
          await (how === "revoke" ? w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId }) : w.kw.tokens.delete({ orgId: "acme", tokenId: record.id, actorId }));
          for (const c of changes) {
            await applyUserChange(w, c);
            expect((await w.kw.authorize(token, "inspections.view", item)).reason).toBe("token_revoked");
          }
          expect(await w.kw.login(token).catch((e: { code: string }) => e.code)).toBe("token_revoked");
        },
      ),
      RUNS,
    );
  });
});

// ── R13/R14 over random directories (pure core) ──────────────────────────────────────────────

const SITE_PATHS: Record<string, string[]> = {
  s_root: ["s_root"],
  s_mid: ["s_root", "s_mid"],
  s_leaf: ["s_root", "s_mid", "s_leaf"],
  s_other: ["s_other"],
};
const level = fc.constantFrom<AccessLevel>("view", "edit", "delete");
const grantee: fc.Arbitrary<Grantee> = fc.oneof(
  fc.record({ kind: fc.constant("user" as const), userId: fc.constantFrom("u1", "u2") }),
  fc.record({ kind: fc.constant("service_user" as const), serviceUserId: fc.constantFrom("su1", "su2") }),
  fc.record({ kind: fc.constant("group" as const), groupId: fc.constantFrom("g1", "g2") }),
  fc.record({ kind: fc.constant("site" as const), siteId: fc.constantFrom(...Object.keys(SITE_PATHS)) }),
  fc.record({ kind: fc.constant("organization" as const), orgId: fc.constantFrom("A", "B"), includeServiceUsers: fc.boolean() }),
);
const itemRef = fc.record({ orgId: fc.constantFrom("A", "B"), type: fc.constantFrom("inspection", "template"), id: fc.constantFrom("i1", "i2") });
const share: fc.Arbitrary<Share> = fc.record({ id: fc.uuid(), item: itemRef, grantee, level, createdAt: fc.constant(T0) });
const rule: fc.Arbitrary<AccessRule> = fc.record({
  id: fc.uuid(),
  orgId: fc.constantFrom("A", "B"),
  itemType: fc.constantFrom("inspection", "template"),
  conditions: fc.dictionary(fc.constantFrom("siteId", "templateId"), fc.subarray(["x", "y", "z"], { minLength: 1 }), { maxKeys: 2 }),
  grantee,
  level,
  createdAt: fc.constant(T0),
});

/** A random directory as one decision sees it: a live token of org A, its subject, shares and rules. */
const directory = fc
  .record({
    kind: fc.constantFrom("user" as const, "service_user" as const),
    subjectId: fc.constantFrom("u1", "su1"),
    groupIds: fc.subarray(["g1", "g2"]),
    siteIds: fc.subarray(Object.keys(SITE_PATHS)),
    shares: fc.array(share, { maxLength: 8 }),
    rules: fc.array(rule, { maxLength: 4 }),
    item: fc.record({
      orgId: fc.constantFrom("A", "B"),
      type: fc.constant("inspection"),
      id: fc.constantFrom("i1", "i2"),
      attributes: fc.record({ siteId: fc.constantFrom("x", "y", "z"), templateId: fc.constantFrom("x", "y", "z") }, { requiredKeys: [] }),
    }),
  })
  .map(({ kind, subjectId, groupIds, siteIds, shares, rules, item }) => {
    const token = tokenRecord({ kind, subjectId: kind === "user" ? "u1" : "su1", epoch: kind === "user" ? "e1" : null, orgId: "A" });
    void subjectId;
    const permissions = ["inspections:view", "inspections:edit", "inspections:delete"];
    const subject: DecisionInput["subject"] =
      kind === "user"
        ? { kind, user: { id: "u1", name: "U One" }, membership: { orgId: "A", userId: "u1", permissionSetId: "p", groupIds, siteIds, status: "active", seat: true, epoch: "e1" }, permissions }
        : { kind, serviceUser: { id: "su1", orgId: "A", name: "Bot", permissionSetId: "p", status: "active", createdBy: "u1", createdAt: T0 }, permissions };
    const input: DecisionInput = { token, subject, shares, rules, sitePaths: SITE_PATHS };
    return { input, item: item as ItemRef };
  });

const EDIT: ActionDefinition = { permission: "inspections:edit", access: "edit", item: "inspection" };
const rank = (input: DecisionInput, item: ItemRef) => {
  const g = bestGrant(input, item);
  return g === null ? 0 : LEVEL_RANK[g.level];
};

describe("R13 monotonicity of access over random directories", () => {
  it("R13 adding a share never removes access, and never lowers the level", () => {
    fc.assert(
      fc.property(directory, share, level, ({ input, item }, extra, lvl) => {
        const added: DecisionInput = { ...input, shares: [...input.shares, { ...extra, item: { orgId: item.orgId, type: item.type, id: item.id }, level: lvl }] };
        expect(rank(added, item)).toBeGreaterThanOrEqual(rank(input, item));
        if (decide(input, "inspections.edit", EDIT, item, T0, { inactivityMs: THIRTY_DAYS }).allowed) {
          expect(decide(added, "inspections.edit", EDIT, item, T0, { inactivityMs: THIRTY_DAYS }).allowed).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("R13 removing a share or a rule never adds access, and never raises the level", () => {
    fc.assert(
      fc.property(directory, fc.nat(), fc.boolean(), ({ input, item }, index, fromRules) => {
        const list = fromRules ? input.rules : input.shares;
        if (list.length === 0) return;
        const i = index % list.length;
        const removed: DecisionInput = fromRules
          ? { ...input, rules: input.rules.filter((_, j) => j !== i) }
          : { ...input, shares: input.shares.filter((_, j) => j !== i) };
        expect(rank(removed, item)).toBeLessThanOrEqual(rank(input, item));
        if (!decide(input, "inspections.edit", EDIT, item, T0, { inactivityMs: THIRTY_DAYS }).allowed) {
          expect(decide(removed, "inspections.edit", EDIT, item, T0, { inactivityMs: THIRTY_DAYS }).allowed).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("R13 groups and sites never give a service user anything", () => {
    fc.assert(
      fc.property(directory, ({ input, item }) => {
        if (input.subject.kind !== "service_user") return;
        const g = bestGrant(input, item);
        if (g !== null) expect(["service_user", "organization"]).toContain(g.via);
      }),
      { numRuns: 500 },
    );
  });
});

describe("R14 a token of organization A never reaches B's item without a share that includes it", () => {
  /** Whether a grantee includes the subject across organizations, in R14's words: the token's organization, or the subject itself. */
  const includesAcross = (g: Grantee, input: DecisionInput) =>
    (g.kind === "organization" && g.orgId === input.token.orgId && (input.token.kind === "user" || g.includeServiceUsers)) ||
    (g.kind === "user" && input.token.kind === "user" && g.userId === input.token.subjectId) ||
    (g.kind === "service_user" && input.token.kind === "service_user" && g.serviceUserId === input.token.subjectId);

  it("R14 (core) an allowed decision on B's item always comes from a grant of B that names A or the subject", () => {
    fc.assert(
      fc.property(directory, ({ input, item }) => {
        const crossItem = { ...item, orgId: "B" };
        const d = decide(input, "inspections.edit", EDIT, crossItem, T0, { inactivityMs: THIRTY_DAYS });
        if (!d.allowed) return;
        expect(d.grant?.crossOrg).toBe(true);
        const source = d.grant?.source === "share" ? input.shares.find((s) => s.id === d.grant?.id) : input.rules.find((r) => r.id === d.grant?.id);
        expect(source).toBeDefined();
        expect(includesAcross(source!.grantee, input)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("R14 (core) without such a share or rule, B's item is denied whatever else B shared", () => {
    fc.assert(
      fc.property(directory, ({ input, item }) => {
        const crossItem = { ...item, orgId: "B" };
        const stripped: DecisionInput = {
          ...input,
          shares: input.shares.filter((s) => !includesAcross(s.grantee, input)),
          rules: input.rules.filter((r) => !includesAcross(r.grantee, input)),
        };
        const d = decide(stripped, "inspections.view", { permission: "inspections:view", access: "view", item: "inspection" }, crossItem, T0, { inactivityMs: THIRTY_DAYS });
        expect(d).toMatchObject({ allowed: false, reason: "access_denied" });
      }),
      { numRuns: 1000 },
    );
  });

  it("R14 (service) beta sharing its item with anything but acme or the subject never lets acme's tokens in", async () => {
    const betaGrantee: fc.Arbitrary<Grantee> = fc.oneof(
      fc.constant<Grantee>({ kind: "group", groupId: "grp_beta_crew" }),
      fc.constant<Grantee>({ kind: "site", siteId: "site_beta" }),
      fc.constant<Grantee>({ kind: "user", userId: "u_bea" }),
      fc.constantFrom<Grantee>({ kind: "organization", orgId: "beta", includeServiceUsers: true }, { kind: "organization", orgId: "sso", includeServiceUsers: true }),
      fc.constant<Grantee>({ kind: "organization", orgId: "acme", includeServiceUsers: false }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(betaGrantee, level), { minLength: 1, maxLength: 5 }), fc.boolean(), async (grants, viaRule) => {
        const w = await world();
        const item = w.inspection("insp_beta", undefined, "beta");
        for (const [g, lvl] of grants) {
          if (viaRule) await w.kw.directory.addRule({ orgId: "beta", itemType: "inspection", grantee: g, level: lvl });
          else await w.kw.directory.share({ item, grantee: g, level: lvl });
        }
        // Ana is a beta member (group, site) but her acme token is not; the bot is never included by an org share without service users.
        const ana = await w.userToken(w.users.ana.id);
        const bot = await w.serviceToken();
        const includesAcmeUsers = grants.some(([g]) => g.kind === "organization" && g.orgId === "acme");
        expect((await w.kw.authorize(ana.token, "inspections.view", item)).allowed).toBe(includesAcmeUsers);
        expect((await w.kw.authorize(bot.token, "inspections.view", item)).allowed).toBe(false);
      }),
      { numRuns: 40 },
    );
  });
});

describe("R3/R15 the one 'active' predicate", () => {
  it("R3 a token listed as active is exactly a token that passes authorize's token stage", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(userChange, { maxLength: 10 }), fc.array(fc.integer({ min: 0, max: 20 * DAY }), { maxLength: 3 }), async (changes, gaps) => {
        const w = await world();
        const tokens = [await w.userToken(w.users.ana.id), await w.userToken(w.users.bob.id), await w.userToken(w.users.ada.id)];
        for (const c of changes) await applyUserChange(w, c);
        for (const g of gaps) w.advance(g);
        for (const t of tokens) {
          const [listed] = (await w.kw.tokens.listMine({ orgId: "acme", userId: t.record.subjectId })).items.filter((v) => v.id === t.record.id);
          const d = await w.kw.authorize(t.token, "reports.export");
          const passedTokenStage = d.allowed || d.reason === "permission_denied";
          expect(listed?.status === "active").toBe(passedTokenStage);
        }
      }),
      { numRuns: 40 },
    );
  });
});

