/**
 * The memory store's shares, indexed per item by grantee (issue 11, finding 5): building many
 * shares on one item is linear work, and a decision reads only the shares whose grantee could
 * include the caller — so a denial for another organization's item costs the same whether the
 * item exists or not, and however many shares it has (R15: denials never leak whether an item of
 * another organization exists). Work is counted, never timed (timings: `bench/share-index.ts`).
 */
import { describe, expect, it } from "vitest";
import { admission } from "../../src/core/admit.js";
import { memoryStore } from "../../src/memory.js";
import type { DecisionInput, ItemRef, Share } from "../../src/core/types.js";
import { grantsUnder } from "../../src/core/compile.js";
import type { KeywardStore } from "../../src/storage/types.js";
import { FOREIGN_ITEM as item, foreignItemWorld, T0 } from "../support/foreign-item.js";

/** Runs `f` counting calls of `Object.freeze` (every copy of a share the memory store keeps is frozen). */
async function countingFreezes(f: () => Promise<void>): Promise<number> {
  const freeze = Object.freeze;
  let n = 0;
  Object.freeze = ((o: unknown) => {
    n++;
    return freeze(o);
  }) as typeof Object.freeze;
  try {
    await f();
  } finally {
    Object.freeze = freeze;
  }
  return n;
}

describe("memory store: shares indexed by grantee", () => {
  it("building 8,000 shares on one item does linear work: a bounded number of copies per share, not a copy of the item's list per share", async () => {
    const store = memoryStore();
    const n = 8_000;
    const shares: Share[] = Array.from({ length: n }, (_, i) => ({ id: `sh_${i}`, item, grantee: { kind: "user", userId: `u_${i}` }, level: "view", createdAt: T0 }));
    const frozen = await countingFreezes(async () => {
      for (const share of shares) await store.putShare(share);
    });
    // Quadratic copying froze n²/2 = 32,000,000 shares; linear is a few per share.
    expect(frozen).toBeLessThanOrEqual(4 * n);
    expect(await store.listShares(item)).toHaveLength(n);
    expect((await store.listShares(item)).map((s) => s.id).slice(0, 3)).toEqual(["sh_0", "sh_1", "sh_2"]);
    // Deleting them one by one is linear too.
    const deleted = await countingFreezes(async () => {
      for (const share of shares) await store.deleteShare(share.item.orgId, share.id);
    });
    expect(deleted).toBeLessThanOrEqual(4 * n);
    expect(await store.listShares(item)).toEqual([]);
  });

  it("R14 R15 a decision on another organization's item with 1,000 shares reads no share, exactly as for an item that does not exist", async () => {
    const inner = memoryStore();
    const handed: number[] = [];
    // authorize() calls a replaced loadDecision (see memory-caches.test.ts): record what decide() gets.
    const store: KeywardStore = {
      ...inner,
      async loadDecision(hash: string, at: ItemRef | null): Promise<DecisionInput | null> {
        const input = await inner.loadDecision(hash, at);
        if (input !== null && at !== null) handed.push(grantsUnder(input.shares, input.compiled, at.orgId !== input.token.orgId).length);
        return input;
      },
    };
    const { kw, token } = await foreignItemWorld(store, inner);
    // A share of beta's item with beta itself (never with acme's Eve, R14).
    await inner.putShare({ id: "sh_org", item, grantee: { kind: "organization", orgId: "beta", includeServiceUsers: true }, level: "view", createdAt: T0 });

    const existing = await kw.authorize(token, "inspections.view", item);
    const missing = await kw.authorize(token, "inspections.view", { ...item, id: "i_missing" });
    expect(existing).toEqual(missing);
    expect(existing).toMatchObject({ allowed: false, reason: "access_denied", visible: false });
    expect(handed).toEqual([0, 0]);

    // Shared with acme: that one share, and only it, reaches the decision.
    await inner.putShare({ id: "sh_acme", item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view", createdAt: T0 });
    expect(await kw.authorize(token, "inspections.view", item)).toMatchObject({ allowed: true, grant: { source: "share", id: "sh_acme", crossOrg: true } });
    expect(handed.at(-1)).toBe(1);
  });

  it("R13 a user reaches only the shares for them among many on an item of their own organization", async () => {
    const store = memoryStore();
    await store.putSite({ id: "s_r", orgId: "beta", name: "Region", parentId: null, path: ["s_r"] });
    await store.putSite({ id: "s_1", orgId: "beta", name: "Oslo", parentId: "s_r", path: ["s_r", "s_1"] });
    await store.putUser({ id: "u_ana", name: "Ana" });
    await store.updateMembership("beta", "u_ana", () => ({ orgId: "beta", userId: "u_ana", permissionSetId: null, groupIds: ["g_1"], siteIds: ["s_r"], status: "active", seat: true, epoch: "e1" }));
    await store.insertToken(
      { id: "t_1", kind: "user", orgId: "beta", subjectId: "u_ana", name: "t", hash: "digest_1", hint: "kwu_…abcd", epoch: "e1", createdAt: T0, createdBy: null, lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null },
      admission({ max: 10, now: T0, inactivityMs: 30 * 86_400_000 }),
    );
    for (let i = 0; i < 500; i++) {
      await store.putShare({ id: `sh_u${i}`, item, grantee: { kind: "user", userId: `u_${i}` }, level: "view", createdAt: T0 });
      await store.putShare({ id: `sh_g${i}`, item, grantee: { kind: "group", groupId: `g_other_${i}` }, level: "view", createdAt: T0 });
      await store.putShare({ id: `sh_s${i}`, item, grantee: { kind: "site", siteId: `s_other_${i}` }, level: "view", createdAt: T0 });
    }
    await store.putShare({ id: "sh_site", item, grantee: { kind: "site", siteId: "s_1" }, level: "edit", createdAt: T0 });
    await store.putShare({ id: "sh_group", item, grantee: { kind: "group", groupId: "g_1" }, level: "view", createdAt: T0 });
    await store.putShare({ id: "sh_me", item, grantee: { kind: "user", userId: "u_ana" }, level: "view", createdAt: T0 });
    const input = await store.loadDecision("digest_1", item);
    expect(grantsUnder(input!.shares, input!.compiled, false).map((s) => s.id)).toEqual(["sh_site", "sh_group", "sh_me"]);
  });
});
