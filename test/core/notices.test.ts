/**
 * R20 warnings and notices, end to end through `createKeyward`, on the memory store, on
 * `keyward/postgres` over PGlite, and on the real server when KEYWARD_PG_URL is set:
 * - `tokens.sweep()` warns (`token.expiring`) once per token per threshold per deadline, only the
 *   smallest threshold due, again after a use moves a user token's deadline, and expires what is
 *   past its deadline; racing sweeps send each warning once;
 * - a deactivation, departure or service-user deletion emits ONE `subject.tokens_ended` listing
 *   exactly what the preview listed before (a law over random token histories);
 * - opt-in client tracking: off by default; on, the last distinct clients are kept with the use.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { createKeyward, KeywardError, type KeywardEvent, type KeywardStore } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { ACTIONS, DAY, world, type World } from "./fixture.js";
import { PG_URL, pgliteStore, serverStore } from "../storage/postgres/support.js";

type Expiring = Extract<KeywardEvent, { type: "token.expiring" }>;
type Ended = Extract<KeywardEvent, { type: "subject.tokens_ended" }>;

const HOUR = 3_600_000;

/** The stores every test runs on: a fresh one per call, and its cleanup. */
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const STORES: [string, () => Promise<KeywardStore>][] = [
  ["memory", async () => memoryStore()],
  [
    "postgres (PGlite)",
    async () => {
      const t = await pgliteStore();
      cleanups.push(() => t.cleanup());
      return t.store;
    },
  ],
  ...(PG_URL === undefined
    ? []
    : ([
        [
          "postgres (server)",
          async () => {
            const t = await serverStore();
            cleanups.push(() => t.cleanup());
            return t.store;
          },
        ],
      ] as [string, () => Promise<KeywardStore>][])),
];

const expiring = (w: World) => w.events.filter((e): e is Expiring => e.type === "token.expiring");
const ended = (w: World) => w.events.filter((e): e is Ended => e.type === "subject.tokens_ended");

describe.each(STORES)("R20 on %s", (_name, makeStore) => {
  const make = async (options: Parameters<typeof world>[0] = {}) => world({ store: await makeStore(), ...options });

  it("R20 sweep warns 14, 3 and 1 days before a user token's inactivity deadline, each once, then records its expiry", async () => {
    const w = await make();
    const { record } = await w.userToken(w.users.ana.id);
    const deadline = w.clock.now + 30 * DAY;
    const sweep = () => w.kw.tokens.sweep({ orgId: "acme" });
    expect(await sweep()).toEqual({ expired: 0, warned: 0 });
    w.advance(16 * DAY);
    expect(await sweep()).toEqual({ expired: 0, warned: 1 });
    expect(await sweep()).toEqual({ expired: 0, warned: 0 });
    w.advance(11 * DAY); // exactly 3 days before
    expect(await sweep()).toEqual({ expired: 0, warned: 1 });
    w.advance(2 * DAY + HOUR);
    expect(await sweep()).toEqual({ expired: 0, warned: 1 });
    expect(await sweep()).toEqual({ expired: 0, warned: 0 });
    w.advance(DAY);
    expect(await sweep()).toEqual({ expired: 1, warned: 0 });
    expect(await sweep()).toEqual({ expired: 0, warned: 0 });
    const subject = { kind: "user", id: w.users.ana.id, name: w.users.ana.name };
    expect(expiring(w)).toEqual([14, 3, 1].map((d, i) => ({
      type: "token.expiring",
      at: [16 * DAY, 27 * DAY, 29 * DAY + HOUR][i]! + deadline - 30 * DAY,
      tokenId: record.id,
      orgId: "acme",
      subject,
      tokenName: "laptop",
      actorId: null,
      cause: "inactivity",
      expiresAt: deadline,
      thresholdMs: d * DAY,
    })));
    expect(w.events.filter((e) => e.type === "token.expired")).toMatchObject([{ tokenId: record.id, cause: "inactivity" }]);
  });

  it("R20 a sweep that ran late sends only the smallest threshold due; a use moves the deadline and warnings start again", async () => {
    const w = await make();
    const { token, record } = await w.userToken(w.users.ana.id);
    const created = w.clock.now;
    w.advance(29 * DAY + HOUR); // the 14- and 3-day warnings were never sent: only the 1-day one
    expect(await w.kw.tokens.sweep({ orgId: "acme" })).toEqual({ expired: 0, warned: 1 });
    expect(expiring(w).map((e) => e.thresholdMs)).toEqual([DAY]);
    // Used: the new deadline is 30 days after this use.
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    const used = w.clock.now;
    w.advance(17 * DAY);
    expect(await w.kw.tokens.sweep({ orgId: "acme" })).toEqual({ expired: 0, warned: 1 });
    expect(expiring(w).at(-1)).toMatchObject({ tokenId: record.id, expiresAt: used + 30 * DAY, thresholdMs: 14 * DAY });
    expect(used + 30 * DAY).toBeGreaterThan(created + 30 * DAY);
  });

  it("R20 racing sweeps send each warning once (a conditional write in the store, not memory)", async () => {
    const w = await make();
    for (const id of [w.users.ana.id, w.users.bob.id, w.users.ada.id]) await w.userToken(id);
    await w.serviceToken(); // a service token without date or policy never expires: never warned
    w.advance(20 * DAY);
    const results = await Promise.all(Array.from({ length: 6 }, () => w.kw.tokens.sweep({ orgId: "acme" })));
    expect(results.reduce((n, r) => n + r.warned, 0)).toBe(3);
    expect(expiring(w)).toHaveLength(3);
    expect(new Set(expiring(w).map((e) => e.tokenId)).size).toBe(3);
  });

  it("R20 configured thresholds: warnings.thresholdsMs replaces the defaults; invalid ones are invalid_config", async () => {
    const w = await make({ warnings: { thresholdsMs: [5 * DAY] } });
    await w.userToken(w.users.ana.id);
    w.advance(20 * DAY);
    expect(await w.kw.tokens.sweep({ orgId: "acme" })).toEqual({ expired: 0, warned: 0 });
    w.advance(5 * DAY);
    expect(await w.kw.tokens.sweep({ orgId: "acme" })).toEqual({ expired: 0, warned: 1 });
    expect(expiring(w)[0]!.thresholdMs).toBe(5 * DAY);
    for (const thresholdsMs of [[0], [-DAY], [1.5], [Number.NaN]]) {
      expect(() => createKeyward({ store: memoryStore(), actions: ACTIONS, warnings: { thresholdsMs } })).toThrow(expect.objectContaining({ code: "invalid_config" }));
    }
  });

  it("R20 deactivation, departure and service-user deletion each emit ONE notice naming the subject, the actor and every token that ended", async () => {
    const w = await make();
    const a = (await w.userToken(w.users.ana.id, "acme", "CI")).record;
    const b = await w.userToken(w.users.ana.id, "acme", "Power BI");
    const gone = (await w.userToken(w.users.ana.id, "acme", "revoked")).record;
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: gone.id, actorId: w.users.ana.id });
    w.advance(2 * HOUR);
    await w.kw.authorize(b.token, "reports.export");
    const usedAt = w.clock.now;
    w.advance(2 * HOUR);
    w.events.length = 0;
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id, actorId: w.users.ada.id });
    expect(ended(w)).toEqual([
      {
        type: "subject.tokens_ended",
        at: w.clock.now,
        orgId: "acme",
        subject: { kind: "user", id: w.users.ana.id, name: w.users.ana.name },
        actorId: w.users.ada.id,
        cause: "deactivated",
        tokens: [
          { id: a.id, name: "CI", kind: "user", lastUsedAt: null },
          { id: b.record.id, name: "Power BI", kind: "user", lastUsedAt: usedAt },
        ],
      },
    ]);
    // Removing the already deactivated member ends nothing more: no notice.
    w.events.length = 0;
    await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id });
    expect(ended(w)).toEqual([]);
    // Bob leaves: cause "left", no actor named.
    const bob = (await w.userToken(w.users.bob.id)).record;
    await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.bob.id });
    expect(ended(w)).toMatchObject([{ cause: "left", actorId: null, subject: { id: w.users.bob.id }, tokens: [{ id: bob.id }] }]);
    // A service user deleted by Ada.
    const bot = (await w.serviceToken()).record;
    w.events.length = 0;
    await w.kw.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.ada.id });
    expect(ended(w)).toMatchObject([{ cause: "deleted", actorId: w.users.ada.id, subject: { kind: "service_user", id: w.bot.id, name: "BI export" }, tokens: [{ id: bot.id, kind: "service_user" }] }]);
    // Carl has no token: no notice.
    w.events.length = 0;
    await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.carl.id });
    expect(ended(w)).toEqual([]);
  });

  it("R20 previews read only: nothing written, no event; they need the removal's rights and name the field of what is missing", async () => {
    const w = await make();
    const { token } = await w.userToken(w.users.ana.id);
    await w.serviceToken();
    w.events.length = 0;
    const before = await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id });
    const p = await w.kw.directory.previewDeactivation({ orgId: "acme", userId: w.users.ana.id });
    expect(p.subject).toEqual({ kind: "user", id: w.users.ana.id, name: w.users.ana.name });
    expect(p.tokens).toHaveLength(1);
    expect(JSON.stringify(p)).not.toContain(token);
    await w.kw.directory.previewRemoval({ orgId: "acme", userId: w.users.ana.id });
    await w.kw.serviceUsers.previewRemoval({ orgId: "acme", serviceUserId: w.bot.id, actorId: w.users.ada.id });
    expect(w.events).toEqual([]);
    expect(await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).toEqual(before);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    const code = (p: Promise<unknown>) => p.then(() => null, (e: KeywardError) => ({ code: e.code, field: e.field }));
    expect(await code(w.kw.serviceUsers.previewRemoval({ orgId: "acme", serviceUserId: w.bot.id, actorId: w.users.bob.id }))).toEqual({ code: "forbidden", field: undefined });
    expect(await code(w.kw.serviceUsers.previewRemoval({ orgId: "acme", serviceUserId: "svc_nope", actorId: w.users.ada.id }))).toEqual({ code: "not_found", field: "serviceUserId" });
    expect(await code(w.kw.directory.previewDeactivation({ orgId: "acme", userId: "u_nobody" }))).toEqual({ code: "not_found", field: "userId" });
    expect(await code(w.kw.directory.previewRemoval({ orgId: "acme", userId: 42 as unknown as string }))).toMatchObject({ code: "invalid_input", field: "userId" });
  });

  it("R20 client tracking is off by default: a client given to authorize() is not kept", async () => {
    const w = await make();
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.authorize(token, "reports.export", null, { client: { ip: "203.0.113.7", userAgent: "curl/8.5" } });
    const [view] = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    expect(view).toMatchObject({ id: record.id, clients: [] });
  });

  it("client tracking (opt-in): the last distinct clients, most recent first, at most max, in listings and previews; never the secret", async () => {
    const w = await make({ trackClients: { max: 2 } });
    const { token, record } = await w.userToken(w.users.ana.id);
    const use = async (ip: string | null, userAgent: string | null) => {
      w.advance(60_000);
      await w.kw.authorize(token, "reports.export", null, { client: { ip, userAgent } });
    };
    await use("203.0.113.7", "curl/8.5");
    await use("198.51.100.2", "PowerBI/2.1");
    await use("203.0.113.7", "curl/8.5");
    await use(null, null); // nothing to keep
    const now = w.clock.now;
    const expected = [
      { ip: "203.0.113.7", userAgent: "curl/8.5", lastSeenAt: now - 60_000 },
      { ip: "198.51.100.2", userAgent: "PowerBI/2.1", lastSeenAt: now - 120_000 },
    ];
    const [view] = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    expect(view).toMatchObject({ id: record.id, lastUsedAt: now, clients: expected });
    await use("192.0.2.1", "x".repeat(1000)); // a user agent is cut, not refused
    const preview = await w.kw.directory.previewDeactivation({ orgId: "acme", userId: w.users.ana.id });
    expect(preview.tokens[0]!.clients).toEqual([{ ip: "192.0.2.1", userAgent: "x".repeat(256), lastSeenAt: w.clock.now }, expected[0]]);
    expect(JSON.stringify(preview)).not.toContain(token);
    for (const trackClients of [{ max: 0 }, { max: 51 }, { max: 1.5 }]) {
      expect(() => createKeyward({ store: memoryStore(), actions: ACTIONS, trackClients })).toThrow(expect.objectContaining({ code: "invalid_config", field: expect.stringContaining("trackClients") }));
    }
  });

  it("R20 law: whatever the order and number of sweeps, uses and waits, each (token, deadline) gets each threshold's warning at most once, decreasing, only when due, and every due one by the next sweep", async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 6 * DAY }) }),
      fc.record({ kind: fc.constant("sweep" as const), parallel: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant("use" as const), who: fc.integer({ min: 0, max: 1 }) }),
    );
    const runs = _name === "memory" ? 40 : 6;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const w = await make();
        const made = [await w.userToken(w.users.ana.id, "acme", "one"), await w.userToken(w.users.ana.id, "acme", "two")];
        const deadlines = made.map(() => w.clock.now + 30 * DAY);
        const sweeps: { at: number; deadlines: number[] }[] = [];
        for (const s of steps) {
          if (s.kind === "wait") w.advance(s.ms);
          else if (s.kind === "use") {
            const d = await w.kw.authorize(made[s.who]!.token, "reports.export");
            if (d.allowed) deadlines[s.who] = w.clock.now + 30 * DAY;
          } else {
            await Promise.all(Array.from({ length: s.parallel }, () => w.kw.tokens.sweep({ orgId: "acme" })));
            sweeps.push({ at: w.clock.now, deadlines: [...deadlines] });
          }
        }
        const sent = expiring(w);
        const by = new Map<string, number[]>();
        for (const e of sent) {
          // Only when due: the deadline ahead, at most the threshold away.
          expect(e.at).toBeLessThan(e.expiresAt);
          expect(e.expiresAt - e.at).toBeLessThanOrEqual(e.thresholdMs);
          const key = `${e.tokenId}@${e.expiresAt}`;
          by.set(key, [...(by.get(key) ?? []), e.thresholdMs]);
        }
        // At most once per threshold, each closer than the one before.
        for (const list of by.values()) for (let i = 1; i < list.length; i++) expect(list[i]!).toBeLessThan(list[i - 1]!);
        // Every warning due at a sweep was sent by then (that threshold or a smaller one).
        for (const sw of sweeps) {
          made.forEach((m, i) => {
            const deadline = sw.deadlines[i]!;
            if (sw.at >= deadline) return;
            const due = [14, 3, 1].map((d) => d * DAY).filter((t) => sw.at >= deadline - t);
            if (due.length === 0) return;
            const got = sent.filter((e) => e.tokenId === m.record.id && e.expiresAt === deadline && e.at <= sw.at);
            expect(got.some((e) => e.thresholdMs <= Math.min(...due))).toBe(true);
          });
        }
      }),
      { numRuns: runs },
    );
  }, 120_000);

  it("R20 law: a preview lists exactly the tokens the action's notice then lists (deactivation, departure, service-user deletion)", async () => {
    const history = fc.array(
      fc.record({ owner: fc.constantFrom("ana", "bot"), revoke: fc.boolean(), use: fc.boolean(), waitDays: fc.integer({ min: 0, max: 20 }) }),
      { maxLength: 5 },
    );
    const runs = _name === "memory" ? 30 : 5;
    await fc.assert(
      fc.asyncProperty(history, fc.constantFrom("deactivate", "remove"), async (specs, action) => {
        const w = await make({ limits: { userTokensPerUser: 50, serviceTokensPerOrg: 50 } });
        for (const [i, s] of specs.entries()) {
          const made = s.owner === "ana" ? await w.userToken(w.users.ana.id, "acme", `t${i}`) : await w.serviceToken(w.bot.id, `t${i}`);
          if (s.use) await w.kw.authorize(made.token, "reports.export");
          if (s.revoke) await w.kw.tokens.revoke({ orgId: "acme", tokenId: made.record.id, actorId: s.owner === "ana" ? w.users.ana.id : w.users.ada.id });
          w.advance(s.waitDays * DAY); // long waits expire idle user tokens
        }
        const strip = (p: { tokens: { id: string; name: string; kind: string; lastUsedAt: number | null }[] }) => p.tokens.map(({ id, name, kind, lastUsedAt }) => ({ id, name, kind, lastUsedAt }));
        const user = action === "deactivate" ? await w.kw.directory.previewDeactivation({ orgId: "acme", userId: w.users.ana.id }) : await w.kw.directory.previewRemoval({ orgId: "acme", userId: w.users.ana.id });
        const svc = await w.kw.serviceUsers.previewRemoval({ orgId: "acme", serviceUserId: w.bot.id, actorId: w.users.ada.id });
        w.events.length = 0;
        if (action === "deactivate") await w.kw.directory.deactivateMember({ orgId: "acme", userId: w.users.ana.id });
        else await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.ana.id });
        await w.kw.serviceUsers.remove({ orgId: "acme", id: w.bot.id, actorId: w.users.ada.id });
        const notices = ended(w);
        const userNotice = notices.find((n) => n.subject.kind === "user");
        const svcNotice = notices.find((n) => n.subject.kind === "service_user");
        expect(userNotice?.tokens ?? []).toEqual(strip(user));
        expect(svcNotice?.tokens ?? []).toEqual(strip(svc));
        expect(notices).toHaveLength((user.tokens.length > 0 ? 1 : 0) + (svc.tokens.length > 0 ? 1 : 0));
      }),
      { numRuns: runs },
    );
  }, 120_000);
});

describe("R20 racing sweeps under every interleaving (fast-check scheduler, memory store)", () => {
  it("R20 law: N sweeps of two instances sharing a store, their store calls resolved in any order, send each due warning exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 31 * DAY }), fc.integer({ min: 2, max: 5 }), async (s, count, wait, sweeps) => {
        const inner = memoryStore();
        const w = await world({ store: inner });
        for (let i = 0; i < count; i++) await w.userToken(i % 2 === 0 ? w.users.ana.id : w.users.bob.id, "acme", `t${i}`);
        w.advance(wait);
        // A second instance on the same store, each of its store calls resolved when the scheduler says.
        const scheduled = new Proxy(inner, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (typeof value !== "function") return value;
            return (...args: unknown[]) => s.schedule(Promise.resolve((value as (...a: unknown[]) => Promise<unknown>).apply(target, args)), String(prop));
          },
        }) as KeywardStore;
        const other = createKeyward({ store: scheduled, actions: ACTIONS, clock: () => w.clock.now, onEvent: (e) => w.events.push(e) });
        const due = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items.length + (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.bob.id })).items.length;
        const expectWarned = wait >= 16 * DAY && wait < 30 * DAY ? due : 0;
        const runs = Array.from({ length: sweeps }, (_, i) => (i % 2 === 0 ? other : w.kw).tokens.sweep({ orgId: "acme" }));
        await s.waitFor(Promise.all(runs));
        const sent = expiring(w);
        expect(sent).toHaveLength(expectWarned);
        expect(new Set(sent.map((e) => e.tokenId)).size).toBe(sent.length);
      }),
      { numRuns: 60 },
    );
  });
});

describe("R20 the PostgreSQL store writes a use's clients with the use, never on their own", () => {
  it("three uses with three clients within the window: one write, then the flush writes the last use and every client", async () => {
    const t = await pgliteStore();
    cleanups.push(() => t.cleanup());
    const w = await world({ store: t.store, trackClients: true });
    const { token, record } = await w.userToken(w.users.ana.id);
    const writes = () => t.driver.queries.filter((q) => q.includes("SET last_used_at")).length;
    t.driver.reset();
    for (const agent of ["a/1", "b/1", "c/1"]) {
      w.advance(1000);
      await w.kw.authorize(token, "reports.export", null, { client: { ip: "192.0.2.9", userAgent: agent } });
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(writes()).toBe(1); // the first use; the others are kept for the window
    expect((await t.backdoor.readToken(record.id))!.clients).toEqual([{ ip: "192.0.2.9", userAgent: "a/1", lastSeenAt: w.clock.now - 2000 }]);
    // Listings already show what is kept in process.
    const [view] = (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id })).items;
    expect(view!.clients.map((c) => c.userAgent)).toEqual(["c/1", "b/1", "a/1"]);
    await t.store.flushTokenUses();
    expect(writes()).toBe(2);
    const row = (await t.backdoor.readToken(record.id))!;
    expect(row.lastUsedAt).toBe(w.clock.now);
    expect(row.clients!.map((c) => c.userAgent)).toEqual(["c/1", "b/1", "a/1"]);
  });
});

