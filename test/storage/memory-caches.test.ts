/**
 * The memory store caches what `loadDecision` derives (the loaded subject of a token, the site
 * paths of an item's shares and rules). These tests pin down that every write those depend on
 * is seen by the very next read, as R7, R12 and R13 require.
 */
import { describe, expect, it } from "vitest";
import { createKeyward, type KeywardStore, type Membership, type TokenRecord } from "../../src/index.js";
import { decide, generateToken, tokenHasher } from "../../src/core.js";
import { admission } from "../../src/core/admit.js";
import { memoryStore } from "../../src/memory.js";
import { compileSubject, grantsOf, grantsUnder } from "../../src/core/compile.js";
import { ownReadsOf } from "../../src/storage/own-reads.js";

const T0 = 1_000;
const quota = { max: 10, now: T0, inactivityMs: 1_000_000 };
const member = (over: Partial<Membership> = {}): Membership => ({
  orgId: "org_a",
  userId: "u_1",
  permissionSetId: "ps_1",
  groupIds: ["g_1"],
  siteIds: [],
  status: "active",
  seat: true,
  epoch: "ep_1",
  ...over,
});
const token = (over: Partial<TokenRecord> = {}): TokenRecord => ({
  id: "tok_1",
  kind: "user",
  orgId: "org_a",
  subjectId: "u_1",
  name: "ci",
  hash: "digest_1",
  hint: "kwu_…abcd",
  epoch: "ep_1",
  createdAt: T0,
  createdBy: "u_1",
  lastUsedAt: null,
  revokedAt: null,
  deletedAt: null,
  expiredAt: null,
  ...over,
});
const item = { orgId: "org_a", type: "inspection", id: "i_1" };

async function setUp() {
  const store = memoryStore();
  await store.putUser({ id: "u_1", name: "Ann" });
  await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Set", permissions: ["inspections:view"] });
  await store.updateMembership("org_a", "u_1", () => member());
  expect(await store.insertToken(token(), admission(quota))).toEqual({ ok: true });
  return store;
}

describe("memory store: derived data is never stale", () => {
  it("R12 a permission set changed after a load applies to the next load", async () => {
    const store = await setUp();
    expect((await store.loadDecision("digest_1", null))!.subject.permissions).toEqual(["inspections:view"]);
    await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Set", permissions: ["inspections:edit"] });
    expect((await store.loadDecision("digest_1", null))!.subject.permissions).toEqual(["inspections:edit"]);
  });

  it("R7 R13 a membership changed after a load (groups, then deactivation) applies to the next load", async () => {
    const store = await setUp();
    const first = (await store.loadDecision("digest_1", null))!.subject;
    expect(first.kind === "user" && first.membership?.groupIds).toEqual(["g_1"]);
    await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, groupIds: ["g_2"] }));
    const second = (await store.loadDecision("digest_1", null))!.subject;
    expect(second.kind === "user" && second.membership?.groupIds).toEqual(["g_2"]);
    await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, status: "deactivated" }));
    const third = (await store.loadDecision("digest_1", null))!.subject;
    expect(third.kind === "user" && third.membership?.status).toBe("deactivated");
  });

  it("R16 a renamed user is named by the next load", async () => {
    const store = await setUp();
    await store.loadDecision("digest_1", null);
    await store.putUser({ id: "u_1", name: "Ann Berg" });
    const subject = (await store.loadDecision("digest_1", null))!.subject;
    expect(subject.kind === "user" && subject.user.name).toBe("Ann Berg");
  });

  it("R15 R16 decisions name the subject from the compiled subject: renamed on the next load, recompiled for another subject, never shared mutable", async () => {
    const store = await setUp();
    const action = { permission: "inspections:view" };
    const first = (await store.loadDecision("digest_1", null))!;
    const d1 = decide(first, "x", action, null, T0 + 1, { inactivityMs: quota.inactivityMs });
    expect(d1.subject).toEqual({ kind: "user", id: "u_1", name: "Ann" });
    expect(Object.isFrozen(d1.subject)).toBe(true);
    await store.putUser({ id: "u_1", name: "Ann Berg" });
    const second = (await store.loadDecision("digest_1", null))!;
    expect(decide(second, "x", action, null, T0 + 1, { inactivityMs: quota.inactivityMs }).subject).toEqual({ kind: "user", id: "u_1", name: "Ann Berg" });
    // Decisions read the compiled subject, an explicit value: another subject is named once compiled.
    const other = { ...second.subject, user: { id: "u_1", name: "Someone Else" } };
    const copied = { ...second, subject: other, compiled: compileSubject({ token: second.token, subject: other }) };
    expect(decide(copied, "x", action, null, T0 + 1, { inactivityMs: quota.inactivityMs }).subject).toEqual({ kind: "user", id: "u_1", name: "Someone Else" });
  });

  it("R5 R15 loadDecision hands out values the caller cannot use to change the store: frozen token, subject, compiled subject and grants", async () => {
    const store = await setUp();
    await store.putShare({ id: "sh_1", item, grantee: { kind: "user", userId: "u_1" }, level: "view", createdAt: T0 });
    const input = (await store.loadDecision("digest_1", item))!;
    const before = input.token.lastUsedAt;
    expect(Object.isFrozen(input.token)).toBe(true);
    expect(Object.isFrozen(input.subject)).toBe(true);
    expect(input.subject.kind === "user" && Object.isFrozen(input.subject.membership)).toBe(true);
    expect(Object.isFrozen(input.compiled)).toBe(true);
    expect(Object.isFrozen(input.compiled.ref)).toBe(true);
    for (const g of grantsOf(input.shares)) expect(Object.isFrozen(g) && Object.isFrozen(g.ref)).toBe(true);
    expect(() => {
      (input.token as { revokedAt: number | null }).revokedAt = null;
      (input.token as { lastUsedAt: number | null }).lastUsedAt = T0 + 999;
    }).toThrow(TypeError);
    // The store's own record changes under a write; the snapshot handed out before does not.
    await store.recordTokenUse(input.token.id, T0 + 5);
    expect(input.token.lastUsedAt).toBe(before);
    expect((await store.loadDecision("digest_1", item))!.token.lastUsedAt).toBe(T0 + 5);
    expect((await store.getToken(input.token.id))!.lastUsedAt).toBe(T0 + 5);
  });

  it("R12 a service user's new permission set applies to the next load", async () => {
    const store = memoryStore();
    await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "One", permissions: ["a:one"] });
    await store.putPermissionSet({ id: "ps_2", orgId: "org_a", name: "Two", permissions: ["a:two"] });
    const su = { id: "svc_1", orgId: "org_a", name: "Bot", permissionSetId: "ps_1", status: "active" as const, createdBy: null, createdAt: T0 };
    await store.updateServiceUser("svc_1", () => su);
    await store.insertToken(token({ kind: "service_user", subjectId: "svc_1", epoch: null, hash: "digest_s" }), admission(quota));
    expect((await store.loadDecision("digest_s", null))!.subject.permissions).toEqual(["a:one"]);
    await store.updateServiceUser("svc_1", (cur) => ({ ...cur!, permissionSetId: "ps_2" }));
    expect((await store.loadDecision("digest_s", null))!.subject.permissions).toEqual(["a:two"]);
  });

  it("R13 site grants follow shares and rules added or deleted after a load, and sites added after a share", async () => {
    const store = await setUp();
    // A member of s_1: the share naming s_1 can include them (loadDecision hands on no other share).
    await store.updateMembership("org_a", "u_1", () => member({ siteIds: ["s_1"] }));
    await store.putShare({ id: "sh_1", item, grantee: { kind: "site", siteId: "s_1" }, level: "view", createdAt: T0 });
    const read = async () => {
      const input = (await store.loadDecision("digest_1", item))!;
      return { shares: grantsUnder(input.shares, input.compiled, false).map((g) => g.id), rules: grantsOf(input.rules).map((g) => g.id), ruleHits: grantsUnder(input.rules, input.compiled, false).map((g) => g.id) };
    };
    // The site does not exist yet: no path, so the share includes no one.
    expect(await read()).toEqual({ shares: [], rules: [], ruleHits: [] });
    await store.putSite({ id: "s_r", orgId: "org_a", name: "North", parentId: null, path: ["s_r"] });
    await store.putSite({ id: "s_1", orgId: "org_a", name: "Oslo", parentId: "s_r", path: ["s_r", "s_1"] });
    expect(await read()).toEqual({ shares: ["sh_1"], rules: [], ruleHits: [] });
    // A rule naming the region above s_1 does not include a member of s_1 (membership covers the sites below, not above).
    await store.putRule({ id: "r_1", orgId: "org_a", itemType: "inspection", conditions: {}, grantee: { kind: "site", siteId: "s_r" }, level: "view", createdAt: T0 });
    expect(await read()).toEqual({ shares: ["sh_1"], rules: ["r_1"], ruleHits: [] });
    await store.updateMembership("org_a", "u_1", () => member({ siteIds: ["s_r"] }));
    expect(await read()).toEqual({ shares: ["sh_1"], rules: ["r_1"], ruleHits: ["r_1"] });
    expect(await store.deleteShare("org_a", "sh_1")).toBe(true);
    expect(await read()).toEqual({ shares: [], rules: ["r_1"], ruleHits: ["r_1"] });
    expect(await store.deleteRule("org_a", "r_1")).toBe(true);
    expect(await read()).toEqual({ shares: [], rules: [], ruleHits: [] });
  });

  it("R13 shares of one item keep their own grantees and levels when they share storage", async () => {
    const store = await setUp();
    await store.putShare({ id: "sh_1", item, grantee: { kind: "group", groupId: "g_1" }, level: "view", createdAt: T0 });
    await store.putShare({ id: "sh_2", item, grantee: { kind: "group", groupId: "g_1" }, level: "edit", createdAt: T0 });
    await store.putShare({ id: "sh_3", item: { ...item, id: "i_2" }, grantee: { kind: "organization", orgId: "org_a", includeServiceUsers: true }, level: "delete", createdAt: T0 });
    expect(await store.listShares(item)).toEqual([
      { id: "sh_1", item, grantee: { kind: "group", groupId: "g_1" }, level: "view", createdAt: T0 },
      { id: "sh_2", item, grantee: { kind: "group", groupId: "g_1" }, level: "edit", createdAt: T0 },
    ]);
    expect(await store.listShares({ ...item, id: "i_2" })).toEqual([
      { id: "sh_3", item: { ...item, id: "i_2" }, grantee: { kind: "organization", orgId: "org_a", includeServiceUsers: true }, level: "delete", createdAt: T0 },
    ]);
  });

  it("R13 loadAccess (grantee indexes) follows a share re-granted, a share deleted and a membership changed after a load", async () => {
    const store = await setUp();
    const ids = async () => ((await store.loadAccess("digest_1", { itemType: "inspection" }))!.shares).map((s) => `${s.id}:${s.level}`).sort();
    await store.putShare({ id: "sh_1", item, grantee: { kind: "group", groupId: "g_1" }, level: "view", createdAt: T0 });
    await store.putShare({ id: "sh_2", item, grantee: { kind: "user", userId: "u_1" }, level: "edit", createdAt: T0 });
    expect(await ids()).toEqual(["sh_1:view", "sh_2:edit"]);
    // Re-granting sh_2 (deleted, then put again under its id) to a group the user is not in: gone from the user's reach.
    expect(await store.deleteShare("org_a", "sh_2")).toBe(true);
    await store.putShare({ id: "sh_2", item, grantee: { kind: "group", groupId: "g_2" }, level: "delete", createdAt: T0 });
    expect(await ids()).toEqual(["sh_1:view"]);
    // The user joins g_2: the cached subject is replaced, and sh_2 is reached at its new level.
    await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, groupIds: ["g_1", "g_2"] }));
    expect(await ids()).toEqual(["sh_1:view", "sh_2:delete"]);
    // The index and the item's list hold the same (current) objects.
    const listed = await store.listShares(item);
    const reached = (await store.loadAccess("digest_1", { itemType: "inspection" }))!.shares;
    for (const s of reached) expect(listed).toContain(s);
    expect(await store.deleteShare("org_a", "sh_1")).toBe(true);
    expect(await ids()).toEqual(["sh_2:delete"]);
    const input = (await store.loadDecision("digest_1", item))!;
    expect(grantsUnder(input.shares, input.compiled, false).map((s) => s.id)).toEqual(["sh_2"]);
  });

  it("R6 R15 authorize() calls a loadDecision or recordTokenUse replaced on a copy of the store (it has no hidden fast path of its own)", async () => {
    const inner = memoryStore();
    const calls: string[] = [];
    const wrapped: KeywardStore = {
      ...inner,
      loadDecision: async (h, i) => (calls.push("loadDecision"), inner.loadDecision(h, i)),
      recordTokenUse: async (id, at) => (calls.push("recordTokenUse"), inner.recordTokenUse(id, at)),
    };
    await inner.putUser({ id: "u_1", name: "Ann" });
    await inner.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Set", permissions: ["reports:export"] });
    await inner.updateMembership("org_a", "u_1", () => member());
    const raw = generateToken("user");
    expect(await inner.insertToken(token({ hash: tokenHasher()(raw) }), admission(quota))).toEqual({ ok: true });
    const kw = createKeyward({ store: wrapped, actions: { "reports.export": { permission: "reports:export" } }, clock: () => T0 + 5 });
    expect((await kw.authorize(raw, "reports.export")).allowed).toBe(true);
    expect(calls).toEqual(["loadDecision", "recordTokenUse"]);
    expect((await inner.getToken("tok_1"))!.lastUsedAt).toBe(T0 + 5);
    // Directly on the memory store, the same decision and the same use record.
    const direct = createKeyward({ store: inner, actions: { "reports.export": { permission: "reports:export" } }, clock: () => T0 + 9 });
    expect((await direct.authorize(raw, "reports.export")).allowed).toBe(true);
    expect((await inner.getToken("tok_1"))!.lastUsedAt).toBe(T0 + 9);
  });

  it("R6 R11 keyward's own reads keep one token copy current in place: every use, revocation and expiry is seen by the next read, while the public reads still hand out a new frozen snapshot after each write", async () => {
    const store = await setUp();
    const own = ownReadsOf(store.sync!);
    expect(own).not.toBe(store.sync);
    const first = own.loadDecision("digest_1", null)!.token;
    const snapshot = store.sync!.loadDecision("digest_1", null)!.token;
    expect(first).not.toBe(snapshot);
    expect(first).toEqual(snapshot);
    // A use with a moving clock: the next own read is the same object, showing it; the public read is a new snapshot.
    store.sync!.recordTokenUse("tok_1", T0 + 10);
    const used = own.loadDecision("digest_1", item)!.token;
    expect(used).toBe(first);
    expect(used.lastUsedAt).toBe(T0 + 10);
    const again = (await store.loadDecision("digest_1", null))!.token;
    expect(again).not.toBe(snapshot);
    expect(Object.isFrozen(again) && again.lastUsedAt).toBe(T0 + 10);
    expect(snapshot.lastUsedAt).toBeNull();
    // Revocation with a cause, then expiry: each in the very next own read (and its decision).
    await store.revokeToken("tok_1", T0 + 20, "revoke", "leaked");
    const revoked = own.loadDecision("digest_1", null)!;
    expect(revoked.token).toBe(first);
    expect([revoked.token.revokedAt, revoked.token.revokedCause]).toEqual([T0 + 20, "leaked"]);
    expect(decide(revoked, "x", { permission: "inspections:view" }, null, T0 + 21, { inactivityMs: 1_000_000 }).reason).toBe("token_revoked");
    expect((await store.loadDecision("digest_1", null))!.token.revokedAt).toBe(T0 + 20);
    // A rotation gives the slot a new copy under both digests.
    const store2 = await setUp();
    const own2 = ownReadsOf(store2.sync!);
    const before = own2.loadDecision("digest_1", null)!.token;
    await store2.rotateToken("tok_1", { expectHash: "digest_1", hash: "digest_2", hint: "kwu_…wxyz", previousHashUntil: T0 + 100, at: T0 + 30 });
    const after = own2.loadDecision("digest_2", null)!.token;
    expect(after).not.toBe(before);
    expect([after.hash, after.previousHash]).toEqual(["digest_2", "digest_1"]);
    expect(own2.loadDecision("digest_1", null)!.token).toBe(after);
  });

  it("R6 authorize() on the memory store with a clock that moves decides from the latest use: a token used just before its inactivity deadline stays alive past it", async () => {
    const store = memoryStore();
    await store.putUser({ id: "u_1", name: "Ann" });
    await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Set", permissions: ["reports:export"] });
    await store.updateMembership("org_a", "u_1", () => member());
    const raw = generateToken("user");
    expect(await store.insertToken(token({ hash: tokenHasher()(raw) }), admission(quota))).toEqual({ ok: true });
    let now = T0;
    const kw = createKeyward({ store, actions: { "reports.export": { permission: "reports:export" } }, clock: () => now, inactivityMs: 100 });
    for (const at of [T0 + 50, T0 + 140, T0 + 230, T0 + 320]) {
      now = at;
      expect((await kw.authorize(raw, "reports.export")).allowed).toBe(true);
    }
    now = T0 + 420; // 100 after the last use: expired
    expect(await kw.authorize(raw, "reports.export")).toMatchObject({ allowed: false, reason: "token_expired" });
  });
});
