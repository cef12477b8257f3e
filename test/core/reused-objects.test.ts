/**
 * `authorize()` on the memory store fills in two reused objects instead of allocating them per
 * call: its call object (the action, options and item it hands the pipeline) and the store's
 * decision input (keyward's own read). A call that waits (an asynchronous store, a rate limit, a
 * newly seen expiry) or that emits an event a sink answers with another call must still decide,
 * record and emit on its own token, action and item (R6, R16, R18, R21).
 */
import { describe, expect, it } from "vitest";
import { createKeyward, type Decision, type KeywardEvent, type KeywardStore } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { memoryLimiterStore, rateLimit } from "../../src/ratelimit/index.js";
import { createContext } from "../../src/service/context.js";
import { runPipeline, type Call, type Operation } from "../../src/service/pipeline.js";
import type { DecisionInput } from "../../src/core/types.js";
import { ACTIONS, DAY, PASSWORD, T0, world, type World } from "./fixture.js";

/** Ana may edit `i_ana`; Bob (a viewer) may view `i_bob`. */
async function shared(w: World) {
  const iAna = w.inspection("i_ana");
  const iBob = w.inspection("i_bob");
  await w.kw.directory.share({ item: iAna, grantee: { kind: "user", userId: w.users.ana.id }, level: "edit" });
  await w.kw.directory.share({ item: iBob, grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
  const ana = await w.userToken(w.users.ana.id);
  const bob = await w.userToken(w.users.bob.id);
  return { iAna, iBob, ana, bob };
}

/** What a decision says about whose call it was. */
const whose = (d: Decision) => ({ allowed: d.allowed, reason: d.reason, action: d.action, tokenId: d.tokenId });

describe("reused call and input objects", () => {
  it("R16 R18 a sink that calls authorize() again while a call emits: each call decides and emits on its own token, action and item", async () => {
    const w = await world();
    const { iAna, iBob, ana, bob } = await shared(w);
    // Ana's token rotated: its old secret works during the grace period and emits an event.
    await w.kw.tokens.rotate({ orgId: "acme", tokenId: ana.record.id, actorId: w.users.ana.id, password: PASSWORD, graceMs: DAY });
    const events: KeywardEvent[] = [];
    const inner: Promise<Decision>[] = [];
    const kw = createKeyward({
      store: w.store,
      actions: ACTIONS,
      clock: () => w.clock.now,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "token.previous_secret_used") inner.push(kw.authorize(bob.token, "inspections.view", iBob));
      },
    });
    const outer = await kw.authorize(ana.token, "inspections.edit", iAna);
    expect(whose(outer)).toEqual({ allowed: true, reason: "allowed", action: "inspections.edit", tokenId: ana.record.id });
    expect(outer).toMatchObject({ previousSecret: true });
    expect(inner).toHaveLength(1);
    expect(whose(await inner[0]!)).toEqual({ allowed: true, reason: "allowed", action: "inspections.view", tokenId: bob.record.id });
    const authorizations = events.filter((e) => e.type === "authorization");
    expect(authorizations.map((e) => [e.tokenId, e.action, e.item?.id])).toEqual([
      [bob.record.id, "inspections.view", "i_bob"],
      [ana.record.id, "inspections.edit", "i_ana"],
    ]);
  });

  it("R21 two calls waiting on a rate limit at once each decide on their own token, action and item", async () => {
    const w = await world();
    const { iAna, iBob, ana, bob } = await shared(w);
    const limit = rateLimit({ by: "token", limit: 10, windowMs: 60_000, store: memoryLimiterStore() });
    const a = w.kw.authorize(ana.token, "inspections.edit", iAna, { rateLimit: limit });
    const b = w.kw.authorize(bob.token, "inspections.edit", iBob, { rateLimit: limit });
    const c = w.kw.authorize(bob.token, "inspections.view", iBob, { rateLimit: limit });
    expect(whose(await a)).toEqual({ allowed: true, reason: "allowed", action: "inspections.edit", tokenId: ana.record.id });
    expect(whose(await b)).toEqual({ allowed: false, reason: "permission_denied", action: "inspections.edit", tokenId: bob.record.id });
    expect(whose(await c)).toEqual({ allowed: true, reason: "allowed", action: "inspections.view", tokenId: bob.record.id });
    expect(w.events.filter((e) => e.type === "authorization").map((e) => [e.tokenId, e.action, e.item?.id])).toEqual([
      [ana.record.id, "inspections.edit", "i_ana"],
      [bob.record.id, "inspections.edit", "i_bob"],
      [bob.record.id, "inspections.view", "i_bob"],
    ]);
  });

  it("R6 a call that waits to record a newly seen expiry records and emits it for its own token, whatever calls run meanwhile", async () => {
    const w = await world();
    const { iAna, iBob, ana } = await shared(w);
    w.advance(31 * DAY);
    const bob = await w.userToken(w.users.bob.id);
    const expired = w.kw.authorize(ana.token, "inspections.edit", iAna);
    const meanwhile = w.kw.authorize(bob.token, "inspections.view", iBob);
    expect(whose(await expired)).toEqual({ allowed: false, reason: "token_expired", action: "inspections.edit", tokenId: ana.record.id });
    expect(whose(await meanwhile)).toEqual({ allowed: true, reason: "allowed", action: "inspections.view", tokenId: bob.record.id });
    expect(w.events.filter((e) => e.type === "token.expired").map((e) => e.tokenId)).toEqual([ana.record.id]);
    // Bob's token was not the one marked expired: it still works.
    expect((await w.kw.authorize(bob.token, "inspections.view", iBob)).allowed).toBe(true);
    expect(w.events.filter((e) => e.type === "authorization").map((e) => [e.tokenId, e.action, e.item?.id])).toEqual([
      [bob.record.id, "inspections.view", "i_bob"],
      [ana.record.id, "inspections.edit", "i_ana"],
      [bob.record.id, "inspections.view", "i_bob"],
    ]);
  });

  it("R15 on a store without synchronous reads, calls in flight at once each decide on their own action and item", async () => {
    const inner = memoryStore();
    // A copy of the store: its `sync` reads are the original's, so keyward reads it asynchronously.
    const w = await world({ store: { ...inner } as KeywardStore });
    const { iAna, iBob, ana, bob } = await shared(w);
    const calls = [
      w.kw.authorize(ana.token, "inspections.edit", iAna),
      w.kw.authorize(bob.token, "inspections.view", iBob),
      w.kw.authorize(ana.token, "inspections.view", iBob),
      w.kw.authorize(bob.token, "reports.export"),
    ];
    expect((await Promise.all(calls)).map(whose)).toEqual([
      { allowed: true, reason: "allowed", action: "inspections.edit", tokenId: ana.record.id },
      { allowed: true, reason: "allowed", action: "inspections.view", tokenId: bob.record.id },
      { allowed: false, reason: "access_denied", action: "inspections.view", tokenId: ana.record.id },
      { allowed: false, reason: "permission_denied", action: "reports.export", tokenId: bob.record.id },
    ]);
  });

  it("R18 an operation's event reads the input the call decided on, even after a sink read the store again", async () => {
    const w = await world();
    const { iBob, ana, bob } = await shared(w);
    await w.kw.tokens.rotate({ orgId: "acme", tokenId: ana.record.id, actorId: w.users.ana.id, password: PASSWORD, graceMs: DAY });
    const seen: string[] = [];
    const ctx = createContext({
      store: w.store,
      actions: ACTIONS,
      clock: () => T0,
      onEvent: (e) => {
        // The sink reads the store again for another token (as a call made from a sink does).
        if (e.type === "token.previous_secret_used") runPipeline(ctx, probe, bob.token, { action: "probe", options: undefined });
      },
    });
    const probe: Operation<Call, DecisionInput, { allowed: boolean; reason: string }> = {
      read: (reads, digest) => reads.loadDecision(digest, iBob),
      decide: () => ({ allowed: true, reason: "allowed" }),
      notFound: (reason) => ({ allowed: false, reason }),
      itemType: () => null,
      event: (_result, now, input) => {
        seen.push(input!.token.id);
        return { type: "authorization", at: now, outcome: "allowed", reason: "allowed", action: "probe" };
      },
    };
    await runPipeline(ctx, probe, ana.token, { action: "probe", options: undefined });
    // The inner call (Bob's) emits first; the outer one's event still reads Ana's token.
    expect(seen).toEqual([bob.record.id, ana.record.id]);
  });
});
