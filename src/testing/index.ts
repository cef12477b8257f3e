/**
 * `keyward/testing`: the storage conformance suite. Any adapter — keyward's own or a host's —
 * runs the same tests to show it keeps the contract of `KeywardStore` and so the rules.
 *
 * Requires vitest (an optional peer dependency). Every target provides a back door (raw reads that
 * bypass the adapter's own), and writes are checked with it.
 *
 * @example
 * ```ts
 * // test/my-store.test.ts
 * import { describeStoreConformance } from "keyward/testing";
 * describeStoreConformance("my store", async () => {
 *   const store = await myStore();
 *   return { store, backdoor: { readToken, readMembership, readServiceUser, dump }, cleanup: () => store.close() };
 * });
 * ```
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKeyward } from "../keyward.js";
import type { KeywardStore, MemberPageQuery, StoreBackdoor, TokenListEntry, TokenPageQuery } from "../storage/types.js";
import type { AccessRule, ActionDefinition, DecisionInput, Grantee, KeywardEvent, Membership, ServiceUser, Share, Site, TokenRecord } from "../core/types.js";
import { KeywardError } from "../core/errors.js";
import { compileDecision, grantsOf, grantsUnder } from "../core/compile.js";
import { decide } from "../core/decide.js";
import { granteeIncludes } from "../core/grantees.js";
import { tokenSortKey, tokenStatus, type TokenSort } from "../core/lifecycle.js";
import { admission, type QuotaOwnerState } from "../core/admit.js";

/**
 * Reads that bypass the adapter, so the suite checks what was really written (required).
 *
 * @example
 * ```ts
 * const backdoor: Backdoor = { readToken, readMembership, readServiceUser, dump };
 * ```
 */
export type Backdoor = StoreBackdoor;

/** What the suite needs for each test: a fresh, empty store. */
export interface ConformanceTarget {
  store: KeywardStore;
  /** Raw reads of what the store wrote (required: every write is checked with them, never with the store's own reads). */
  backdoor: Backdoor;
  /** Called after each test (close connections, drop schemas). */
  cleanup?: () => Promise<void>;
}

const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const T0 = Date.UTC(2026, 0, 1);

let seq = 0;
function tokenRecord(over: Partial<TokenRecord> & Pick<TokenRecord, "orgId" | "subjectId" | "kind">): TokenRecord {
  seq++;
  return {
    id: `tok_conf_${seq}_${Math.random().toString(36).slice(2, 8)}`,
    name: `token ${seq}`,
    hash: `hash_${seq}_${Math.random().toString(36).slice(2)}`,
    hint: "kwu_…abcd",
    epoch: over.kind === "user" ? "ep1" : null,
    createdAt: T0,
    createdBy: null,
    lastUsedAt: null,
    revokedAt: null,
    deletedAt: null,
    expiredAt: null,
    restriction: null,
    expiresAt: null,
    policyExpiresAt: null,
    previousHash: null,
    previousHashUntil: null,
    rotatedAt: null,
    warnedDeadline: null,
    warnedThresholdMs: null,
    clients: null,
    ...over,
  };
}

function member(orgId: string, userId: string, over: Partial<Membership> = {}): Membership {
  return { orgId, userId, permissionSetId: "ps_1", groupIds: [], siteIds: [], status: "active", seat: true, epoch: "ep1", ...over };
}

function serviceUser(orgId: string, id: string, over: Partial<ServiceUser> = {}): ServiceUser {
  return { id, orgId, name: `Service ${id}`, permissionSetId: "ps_1", status: "active", createdBy: "u_1", createdAt: T0, ...over };
}

/** A permission set of org_a that manages service users (and holds ps_1's permissions), for a token manager. */
async function managerSet(kw: { directory: ReturnType<typeof createKeyward>["directory"] }): Promise<string> {
  await kw.directory.upsertUser({ id: "u_admin", name: "Admin" });
  const set = await kw.directory.createPermissionSet({ orgId: "org_a", name: "Manager", permissions: ["inspections:view", "inspections:edit", "service_users:manage"] });
  return set.id;
}

/** Seeds one organization with one permission set, one active member and one service user. */
async function seed(store: KeywardStore): Promise<void> {
  await store.putOrganization({ id: "org_a", name: "Org A", ssoOnly: false });
  await store.putOrganization({ id: "org_b", name: "Org B", ssoOnly: false });
  await store.putUser({ id: "u_1", name: "Ana" });
  await store.putUser({ id: "u_2", name: "Ben" });
  await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Inspector", permissions: ["inspections:view", "inspections:edit"] });
  await store.updateMembership("org_a", "u_1", () => member("org_a", "u_1"));
  await store.updateMembership("org_a", "u_2", () => member("org_a", "u_2"));
  await store.updateServiceUser("svc_1", () => serviceUser("org_a", "svc_1"));
  await store.updateServiceUser("svc_2", () => serviceUser("org_a", "svc_2"));
}

/** The admission rule keyward passes (R3, R7) with these limits. */
const quota = (max: number, now = T0) => admission({ max, now, inactivityMs: WINDOW });

/** Groups g_1, g_2 and sites s_r › s_1 › s_2 and s_x in org_a; u_1 is in group g_1 and site s_1. */
async function seedGroupsAndSites(store: KeywardStore): Promise<void> {
  await store.putGroup({ id: "g_1", orgId: "org_a", name: "One" });
  await store.putGroup({ id: "g_2", orgId: "org_a", name: "Two" });
  await store.putSite({ id: "s_r", orgId: "org_a", name: "Region", parentId: null, path: ["s_r"] });
  await store.putSite({ id: "s_1", orgId: "org_a", name: "Area", parentId: "s_r", path: ["s_r", "s_1"] });
  await store.putSite({ id: "s_2", orgId: "org_a", name: "Site", parentId: "s_1", path: ["s_r", "s_1", "s_2"] });
  await store.putSite({ id: "s_x", orgId: "org_a", name: "Elsewhere", parentId: null, path: ["s_x"] });
  await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, groupIds: ["g_1"], siteIds: ["s_1"] }));
}


// ── The decision read against the core's grantee rule (random directories) ─────────────────────
// The store's `loadDecision` may mirror the grantee rule (R13, R14) in its own terms (SQL, an
// index); the core's `granteeIncludes` is the oracle. Directories come from a seeded generator
// (no test dependency beyond vitest), so a failure names its seed.

/** A small seeded generator (mulberry32): the same seed, the same directory. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANDOM_SITES: Site[] = [
  { id: "rs_r", orgId: "org_a", name: "Region", parentId: null, path: ["rs_r"] },
  { id: "rs_a", orgId: "org_a", name: "Area", parentId: "rs_r", path: ["rs_r", "rs_a"] },
  { id: "rs_1", orgId: "org_a", name: "Site 1", parentId: "rs_a", path: ["rs_r", "rs_a", "rs_1"] },
  { id: "rs_2", orgId: "org_a", name: "Site 2", parentId: "rs_a", path: ["rs_r", "rs_a", "rs_2"] },
  { id: "rs_b", orgId: "org_b", name: "B region", parentId: null, path: ["rs_b"] },
];
const RANDOM_ITEMS = [
  { orgId: "org_a", type: "inspection", id: "ri_1" },
  { orgId: "org_a", type: "inspection", id: "ri_2" },
  { orgId: "org_a", type: "template", id: "ri_1" },
  { orgId: "org_b", type: "inspection", id: "ri_9" },
];
const RANDOM_ACTIONS: Record<string, ActionDefinition> = {
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
  "templates.view": { permission: "inspections:view", access: "view", item: "template" },
};

/** Seeds a random directory on top of {@link seed}: memberships, sites, service users, shares and rules; returns one token per subject. */
async function seedRandomDirectory(store: KeywardStore, seedValue: number): Promise<{ tokens: TokenRecord[]; rules: AccessRule[] }> {
  const rnd = seededRandom(seedValue);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => rnd() < 0.4);
  for (const site of RANDOM_SITES) await store.putSite(site);
  await store.putGroup({ id: "rg_1", orgId: "org_a", name: "One" });
  await store.putGroup({ id: "rg_2", orgId: "org_a", name: "Two" });
  const tokens: TokenRecord[] = [];
  for (const userId of ["ru_1", "ru_2", "ru_3"]) {
    await store.putUser({ id: userId, name: `User ${userId}` });
    await store.updateMembership("org_a", userId, () => member("org_a", userId, { groupIds: some(["rg_1", "rg_2"]), siteIds: some(["rs_r", "rs_a", "rs_1", "rs_2"]) }));
    tokens.push(tokenRecord({ kind: "user", orgId: "org_a", subjectId: userId }));
  }
  for (const id of ["rsvc_1", "rsvc_2"]) {
    await store.updateServiceUser(id, () => serviceUser("org_a", id));
    tokens.push(tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: id }));
  }
  for (const t of tokens) await store.insertToken(t, quota(10));
  const grantees: Grantee[] = [
    { kind: "user", userId: "ru_1" },
    { kind: "user", userId: "ru_2" },
    { kind: "service_user", serviceUserId: "rsvc_1" },
    { kind: "group", groupId: "rg_1" },
    { kind: "group", groupId: "rg_2" },
    ...RANDOM_SITES.map((x): Grantee => ({ kind: "site", siteId: x.id })),
    { kind: "site", siteId: "rs_unknown" },
    { kind: "organization", orgId: "org_a", includeServiceUsers: false },
    { kind: "organization", orgId: "org_a", includeServiceUsers: true },
    { kind: "organization", orgId: "org_b", includeServiceUsers: true },
  ];
  const levels = ["view", "edit", "delete"] as const;
  for (let i = 0; i < 24; i++) {
    await store.putShare({ id: `rsh_${seedValue}_${i}`, item: pick(RANDOM_ITEMS), grantee: pick(grantees), level: pick(levels), createdAt: T0 });
  }
  const rules: AccessRule[] = [];
  for (let i = 0; i < 4; i++) {
    const rule: AccessRule = {
      id: `rr_${seedValue}_${i}`,
      orgId: pick(["org_a", "org_b"]),
      itemType: pick(["inspection", "template"]),
      conditions: rnd() < 0.5 ? {} : { siteId: some(["x", "y"]).concat("z") },
      grantee: pick(grantees),
      level: pick(levels),
      createdAt: T0,
    };
    await store.putRule(rule);
    rules.push(rule);
  }
  return { tokens, rules };
}

/**
 * Registers the conformance suite for one store under `describe(name)`. `make` returns a fresh,
 * empty store for every test.
 *
 * @example
 * ```ts
 * describeStoreConformance("memory", async () => {
 *   let backdoor!: StoreBackdoor;
 *   return { store: memoryStore({ backdoor: (b) => (backdoor = b) }), backdoor };
 * });
 * ```
 */
export function describeStoreConformance(name: string, make: () => Promise<ConformanceTarget>): void {
  describe(`store conformance: ${name}`, () => {
    let target: ConformanceTarget;
    let store: KeywardStore;
    beforeEach(async () => {
      target = await make();
      store = target.store;
      await seed(store);
    });
    afterEach(async () => {
      await target.cleanup?.();
    });

    describe("directory", () => {
      it("returns null for what is absent and the record for what was put", async () => {
        expect(await store.getOrganization("nope")).toBeNull();
        expect(await store.getUser("nope")).toBeNull();
        expect(await store.getMembership("org_a", "nope")).toBeNull();
        expect(await store.getPermissionSet("nope")).toBeNull();
        expect(await store.getGroup("nope")).toBeNull();
        expect(await store.getSite("nope")).toBeNull();
        expect(await store.getServiceUser("nope")).toBeNull();
        expect(await store.getToken("nope")).toBeNull();
        expect(await store.getOrganization("org_a")).toEqual({ id: "org_a", name: "Org A", ssoOnly: false });
        expect(await store.getUser("u_1")).toEqual({ id: "u_1", name: "Ana" });
        await store.putOrganization({ id: "org_a", name: "Org A2", ssoOnly: true });
        expect(await store.getOrganization("org_a")).toEqual({ id: "org_a", name: "Org A2", ssoOnly: true });
        await store.putGroup({ id: "g_1", orgId: "org_a", name: "Auditors" });
        expect(await store.getGroup("g_1")).toEqual({ id: "g_1", orgId: "org_a", name: "Auditors" });
        await store.putSite({ id: "s_r", orgId: "org_a", name: "North", parentId: null, path: ["s_r"] });
        await store.putSite({ id: "s_1", orgId: "org_a", name: "Oslo", parentId: "s_r", path: ["s_r", "s_1"] });
        expect(await store.getSite("s_1")).toEqual({ id: "s_1", orgId: "org_a", name: "Oslo", parentId: "s_r", path: ["s_r", "s_1"] });
        expect(await store.getPermissionSet("ps_1")).toMatchObject({ permissions: ["inspections:view", "inspections:edit"] });
      });

      it("updateMembership serializes concurrent updates: no update is lost", async () => {
        const ids = Array.from({ length: 12 }, (_, i) => `g_${i}`);
        await Promise.all(
          ids.map((g) => store.updateMembership("org_a", "u_1", (m) => ({ ...m!, groupIds: [...m!.groupIds, g] }))),
        );
        const m = await store.getMembership("org_a", "u_1");
        expect([...m!.groupIds].sort()).toEqual([...ids].sort());
        expect([...(await target.backdoor.readMembership("org_a", "u_1"))!.groupIds].sort()).toEqual([...ids].sort());
      });

      it("updateMembership writes nothing when the update throws, and rethrows the error", async () => {
        const boom = new KeywardError("not_found");
        await expect(store.updateMembership("org_a", "u_1", () => { throw boom; })).rejects.toBe(boom);
        expect(await store.getMembership("org_a", "u_1")).toEqual(member("org_a", "u_1"));
        expect(await target.backdoor.readMembership("org_a", "u_1")).toEqual(member("org_a", "u_1"));
        await expect(store.updateMembership("org_a", "u_new", () => { throw boom; })).rejects.toBe(boom);
        expect(await store.getMembership("org_a", "u_new")).toBeNull();
        expect(await target.backdoor.readMembership("org_a", "u_new")).toBeNull();
      });

      it("updateServiceUser creates, updates, and aborts cleanly on a throw", async () => {
        const su = await store.updateServiceUser("svc_1", (s) => ({ ...s!, name: "Renamed" }));
        expect(su.name).toBe("Renamed");
        await expect(store.updateServiceUser("svc_1", () => { throw new KeywardError("not_found"); })).rejects.toBeInstanceOf(KeywardError);
        expect((await store.getServiceUser("svc_1"))!.name).toBe("Renamed");
        expect(await target.backdoor.readServiceUser("svc_1")).toEqual(su);
        expect((await store.listServiceUsers("org_a")).map((s) => s.id).sort()).toEqual(["svc_1", "svc_2"]);
        expect(await store.listServiceUsers("org_b")).toEqual([]);
      });

      it("listMembers returns every membership of the organization with the person", async () => {
        await store.updateMembership("org_a", "u_2", (m) => ({ ...m!, status: "deactivated" }));
        const members = await store.listMembers("org_a");
        expect(members.map((e) => [e.user.name, e.membership.status]).sort()).toEqual([["Ana", "active"], ["Ben", "deactivated"]]);
        expect(await store.listMembers("org_b")).toEqual([]);
      });

      it("shares and rules are stored, listed per item and deleted", async () => {
        const item = { orgId: "org_a", type: "inspection", id: "i_1" };
        await store.putShare({ id: "sh_1", item, grantee: { kind: "user", userId: "u_1" }, level: "view", createdAt: T0 });
        await store.putShare({ id: "sh_2", item: { ...item, id: "i_2" }, grantee: { kind: "user", userId: "u_1" }, level: "edit", createdAt: T0 });
        expect((await store.listShares(item)).map((s) => s.id)).toEqual(["sh_1"]);
        expect(await store.deleteShare("org_a", "sh_1")).toBe(true);
        expect(await store.deleteShare("org_a", "sh_1")).toBe(false);
        expect(await store.listShares(item)).toEqual([]);
        await store.putRule({ id: "r_1", orgId: "org_a", itemType: "inspection", conditions: { siteId: ["s_1"] }, grantee: { kind: "organization", orgId: "org_a", includeServiceUsers: false }, level: "view", createdAt: T0 });
        expect(await store.deleteRule("org_a", "r_1")).toBe(true);
        expect(await store.deleteRule("org_a", "r_1")).toBe(false);
      });

      it("R2 an id is never taken over: a second put of a group, site, permission set, share or rule under a used id (any organization) returns false and changes nothing", async () => {
        const item = { orgId: "org_a", type: "inspection", id: "i_1" };
        const grantee = { kind: "user", userId: "u_1" } as const;
        expect(await store.putGroup({ id: "g_x", orgId: "org_a", name: "A" })).toBe(true);
        expect(await store.putGroup({ id: "g_x", orgId: "org_b", name: "B" })).toBe(false);
        expect(await store.getGroup("g_x")).toEqual({ id: "g_x", orgId: "org_a", name: "A" });
        expect(await store.putSite({ id: "s_x", orgId: "org_a", name: "A", parentId: null, path: ["s_x"] })).toBe(true);
        expect(await store.putSite({ id: "s_x", orgId: "org_b", name: "B", parentId: null, path: ["s_x"] })).toBe(false);
        expect((await store.getSite("s_x"))?.orgId).toBe("org_a");
        expect(await store.insertPermissionSet({ id: "ps_x", orgId: "org_a", name: "A", permissions: ["a"] })).toBe(true);
        expect(await store.insertPermissionSet({ id: "ps_x", orgId: "org_b", name: "B", permissions: ["b"] })).toBe(false);
        expect(await store.getPermissionSet("ps_x")).toEqual({ id: "ps_x", orgId: "org_a", name: "A", permissions: ["a"] });
        expect(await store.putShare({ id: "sh_1", item, grantee, level: "view", createdAt: T0 })).toBe(true);
        expect(await store.putShare({ id: "sh_1", item: { ...item, orgId: "org_b" }, grantee, level: "delete", createdAt: T0 })).toBe(false);
        expect((await store.listShares(item)).map((s) => [s.id, s.level])).toEqual([["sh_1", "view"]]);
        expect(await store.listShares({ ...item, orgId: "org_b" })).toEqual([]);
        expect(await store.putRule({ id: "r_1", orgId: "org_a", itemType: "inspection", conditions: {}, grantee, level: "view", createdAt: T0 })).toBe(true);
        expect(await store.putRule({ id: "r_1", orgId: "org_b", itemType: "template", conditions: {}, grantee, level: "view", createdAt: T0 })).toBe(false);
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        expect(grantsOf((await store.loadDecision(t.hash, item))!.rules).map((r) => r.id)).toEqual(["r_1"]);
        expect(grantsOf((await store.loadDecision(t.hash, { ...item, orgId: "org_b", type: "template" }))!.rules)).toEqual([]);
      });

      it("R2 of concurrent creations under one id exactly one succeeds", async () => {
        const grantee = { kind: "user", userId: "u_1" } as const;
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.putShare({ id: "sh_race", item: { orgId: i % 2 === 0 ? "org_a" : "org_b", type: "inspection", id: `i_${i}` }, grantee, level: "view", createdAt: T0 })),
        );
        expect(results.filter((r) => r)).toHaveLength(1);
        const groups = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putGroup({ id: "g_race", orgId: i % 2 === 0 ? "org_a" : "org_b", name: `g${i}` })));
        expect(groups.filter((r) => r)).toHaveLength(1);
      });

      it("R2 deleteShare and deleteRule remove only an object of the organization named", async () => {
        const item = { orgId: "org_a", type: "inspection", id: "i_1" };
        const grantee = { kind: "user", userId: "u_1" } as const;
        await store.putShare({ id: "sh_1", item, grantee, level: "view", createdAt: T0 });
        await store.putRule({ id: "r_1", orgId: "org_a", itemType: "inspection", conditions: {}, grantee, level: "view", createdAt: T0 });
        expect(await store.deleteShare("org_b", "sh_1")).toBe(false);
        expect(await store.deleteRule("org_b", "r_1")).toBe(false);
        expect((await store.listShares(item)).map((s) => s.id)).toEqual(["sh_1"]);
        expect(await store.deleteShare("org_a", "sh_1")).toBe(true);
        expect(await store.deleteRule("org_a", "r_1")).toBe(true);
      });
    });

    describe("tokens", () => {
      it("R3 insertToken inserts up to the limit and refuses past it, writing nothing", async () => {
        for (let i = 0; i < 3; i++) expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(3))).toEqual({ ok: true });
        const extra = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        expect(await store.insertToken(extra, quota(3))).toEqual({ ok: false, reason: "limit_reached" });
        expect(await store.getToken(extra.id)).toBeNull();
        expect(await target.backdoor.readToken(extra.id)).toBeNull();
        // Another user of the same organization has a quota of their own.
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2", epoch: "ep1" }), quota(3))).toEqual({ ok: true });
      });

      it("R3 of many concurrent insertions for the last free slot exactly one succeeds", async () => {
        for (let i = 0; i < 4; i++) await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(5));
        const results = await Promise.all(
          Array.from({ length: 12 }, () => store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(5))),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        const listed = await store.listTokens({ orgId: "org_a", kind: "user", subjectId: "u_1" });
        expect(listed).toHaveLength(5);
      });

      it("R3 service tokens share one quota per organization across its service users", async () => {
        expect(await store.insertToken(tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" }), quota(2))).toEqual({ ok: true });
        expect(await store.insertToken(tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_2" }), quota(2))).toEqual({ ok: true });
        expect(await store.insertToken(tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_2" }), quota(2))).toEqual({ ok: false, reason: "limit_reached" });
        // User tokens do not count against the service quota.
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(2))).toEqual({ ok: true });
      });

      it("R3 counts only active tokens: revoked, deleted, idle-expired and pre-deactivation tokens free their slot", async () => {
        const a = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const b = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const c = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1", createdAt: T0 - WINDOW });
        const d = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        for (const t of [a, b, c, d]) expect((await store.insertToken(t, quota(10, t.createdAt))).ok).toBe(true);
        await store.revokeToken(a.id, T0, "revoke");
        await store.revokeToken(b.id, T0, "delete");
        // c has been idle for exactly the window at T0: expired (R6 uses >=).
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(2))).toEqual({ ok: true });
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(2))).toEqual({ ok: false, reason: "limit_reached" });
        // A new epoch (deactivation then reactivation) kills every earlier token: the quota is free again.
        await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, epoch: "ep2" }));
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1", epoch: "ep2" }), quota(1))).toEqual({ ok: true });
      });

      it("R7 insertToken refuses a subject that is not active or a stale epoch", async () => {
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1", epoch: "old" }), quota(10))).toEqual({ ok: false, reason: "subject_inactive" });
        await store.updateMembership("org_a", "u_2", (m) => ({ ...m!, status: "deactivated" }));
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2" }), quota(10))).toEqual({ ok: false, reason: "subject_inactive" });
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_b", subjectId: "u_1" }), quota(10))).toEqual({ ok: false, reason: "subject_inactive" });
        await store.updateServiceUser("svc_2", (s) => ({ ...s!, status: "deleted" }));
        expect(await store.insertToken(tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_2" }), quota(10))).toEqual({ ok: false, reason: "subject_inactive" });
      });

      it("lists tokens by organization, kind and subject, oldest first, with the subject's name and state", async () => {
        const t1 = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1", createdAt: T0 });
        const t2 = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1", createdAt: T0 + 1 });
        const t3 = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2", createdAt: T0 + 2 });
        for (const t of [t1, t2, t3]) await store.insertToken(t, quota(10, t.createdAt));
        expect((await store.listTokens({ orgId: "org_a" })).map((e) => e.token.id)).toEqual([t1.id, t2.id, t3.id]);
        expect((await store.listTokens({ orgId: "org_a", kind: "user" })).map((e) => e.token.id)).toEqual([t1.id, t3.id]);
        const mine = await store.listTokens({ orgId: "org_a", kind: "user", subjectId: "u_1" });
        expect(mine).toEqual([{ token: t1, subjectName: "Ana", subject: { active: true, epoch: "ep1" } }]);
        const svc = await store.listTokens({ orgId: "org_a", kind: "service_user" });
        expect(svc[0]).toMatchObject({ subjectName: "Service svc_1", subject: { active: true, epoch: null } });
        expect(await store.listTokens({ orgId: "org_b" })).toEqual([]);
      });

      it("R11 revocation and deletion are recorded once, even when concurrent", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const results = await Promise.all([1, 2, 3, 4].map((i) => store.revokeToken(t.id, T0 + i, "revoke")));
        expect(results.filter((r) => r!.changed)).toHaveLength(1);
        const stored = await target.backdoor.readToken(t.id);
        expect(stored!.revokedAt).not.toBeNull();
        expect((await store.revokeToken(t.id, T0 + 9, "delete"))!.changed).toBe(true);
        expect((await store.revokeToken(t.id, T0 + 10, "delete"))!.changed).toBe(false);
        const after = await target.backdoor.readToken(t.id);
        expect(after!.deletedAt).toBe(T0 + 9);
        expect(await store.revokeToken("nope", T0, "revoke")).toBeNull();
      });

      it("R22 a revocation records its cause (leaked) only when it changes the token; a plain one records none", async () => {
        const leaked = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const plain = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        for (const t of [leaked, plain]) await store.insertToken(t, quota(10));
        expect(await store.revokeToken(leaked.id, T0 + 1, "revoke", "leaked")).toMatchObject({ changed: true, token: { revokedAt: T0 + 1, revokedCause: "leaked" } });
        await store.revokeToken(plain.id, T0 + 1, "revoke");
        // Already revoked: a later leaked report changes nothing, not even the cause.
        expect(await store.revokeToken(plain.id, T0 + 2, "revoke", "leaked")).toMatchObject({ changed: false, token: { revokedAt: T0 + 1 } });
        const read = (id: string) => target.backdoor.readToken(id);
        expect((await read(leaked.id))!.revokedCause).toBe("leaked");
        expect((await read(plain.id))!.revokedCause ?? null).toBeNull();
        expect((await store.getToken(leaked.id))!.revokedCause).toBe("leaked");
      });

      it("R18 rotateToken is a compare-and-set: the old digest becomes the previous one, both find the token, a second rotation drops the first", async () => {
        const t = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" });
        await store.insertToken(t, quota(10));
        const first = { expectHash: t.hash, hash: `${t.hash}_r1`, hint: "kws_…r1r1", previousHashUntil: T0 + DAY, at: T0 + 10 };
        const r1 = await store.rotateToken(t.id, first);
        expect(r1).toMatchObject({ changed: true, token: { id: t.id, hash: first.hash, hint: "kws_…r1r1", previousHash: t.hash, previousHashUntil: T0 + DAY, rotatedAt: T0 + 10 } });
        expect(await target.backdoor.readToken(t.id)).toEqual({ ...t, hash: first.hash, hint: "kws_…r1r1", previousHash: t.hash, previousHashUntil: T0 + DAY, rotatedAt: T0 + 10 });
        // Both digests find the one token, as it is now (the core decides whether the previous one still works).
        for (const digest of [first.hash, t.hash]) {
          expect((await store.loadDecision(digest, null))!.token).toMatchObject({ id: t.id, hash: first.hash, previousHash: t.hash });
          expect((await store.loadAccess(digest, { itemType: "inspection" }))!.token).toMatchObject({ id: t.id, hash: first.hash });
        }
        // A stale expectation writes nothing.
        const stale = await store.rotateToken(t.id, { ...first, expectHash: t.hash, hash: `${t.hash}_stale` });
        expect(stale).toMatchObject({ changed: false, token: { hash: first.hash } });
        expect(await store.loadDecision(`${t.hash}_stale`, null)).toBeNull();
        // A second rotation: only one previous secret, the oldest is gone.
        const second = { expectHash: first.hash, hash: `${t.hash}_r2`, hint: "kws_…r2r2", previousHashUntil: T0 + 2 * DAY, at: T0 + 20 };
        expect((await store.rotateToken(t.id, second))!.changed).toBe(true);
        expect(await store.loadDecision(t.hash, null)).toBeNull();
        expect(await store.loadAccess(t.hash, { itemType: "inspection" })).toBeNull();
        expect((await store.loadDecision(first.hash, null))!.token).toMatchObject({ hash: second.hash, previousHash: first.hash, previousHashUntil: T0 + 2 * DAY });
        expect((await store.loadDecision(second.hash, null))!.token.id).toBe(t.id);
        expect(await target.backdoor.readToken(t.id)).toMatchObject({ hash: second.hash, previousHash: first.hash, rotatedAt: T0 + 20 });
        expect(await store.rotateToken("nope", second)).toBeNull();
      });

      it("R18 a revoked, deleted or expired-marked token is not rotated", async () => {
        const revoked = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const deleted = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const expired = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        for (const t of [revoked, deleted, expired]) await store.insertToken(t, quota(10));
        await store.revokeToken(revoked.id, T0 + 1, "revoke");
        await store.revokeToken(deleted.id, T0 + 1, "delete");
        await store.markTokenExpired(expired.id, T0 + 1);
        for (const t of [revoked, deleted, expired]) {
          const r = await store.rotateToken(t.id, { expectHash: t.hash, hash: `${t.hash}_new`, hint: "kwu_…nnnn", previousHashUntil: T0 + DAY, at: T0 + 2 });
          expect(r!.changed).toBe(false);
          expect((await target.backdoor.readToken(t.id))!.hash).toBe(t.hash);
          expect(await store.loadDecision(`${t.hash}_new`, null)).toBeNull();
        }
      });

      it("R18 of N racing rotations of one token exactly one changes it; the losers wrote nothing and their digests find nothing", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const hashes = Array.from({ length: 8 }, (_, i) => `${t.hash}_race${i}`);
        const results = await Promise.all(hashes.map((hash, i) => store.rotateToken(t.id, { expectHash: t.hash, hash, hint: "kwu_…race", previousHashUntil: T0 + DAY, at: T0 + i })));
        const winners = results.flatMap((r, i) => (r!.changed ? [i] : []));
        expect(winners).toHaveLength(1);
        const won = hashes[winners[0]!]!;
        const row = await target.backdoor.readToken(t.id);
        expect(row).toMatchObject({ hash: won, previousHash: t.hash, rotatedAt: T0 + winners[0]! });
        for (const hash of hashes) {
          if (hash === won) expect((await store.loadDecision(hash, null))!.token.hash).toBe(won);
          else expect(await store.loadDecision(hash, null)).toBeNull();
        }
        expect(await target.backdoor.dump()).not.toContain(`${t.hash}_race${(winners[0]! + 1) % hashes.length}`);
      });

      it("R19 setTokenPolicyExpiry writes each live token's policy end, skips dead ones, and the next decision read sees it", async () => {
        const live = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1", policyExpiresAt: T0 + 90 * DAY });
        const cleared = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1", policyExpiresAt: T0 + 90 * DAY });
        const revoked = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" });
        const expired = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2" });
        for (const t of [live, cleared, revoked, expired]) expect((await store.insertToken(t, quota(100))).ok).toBe(true);
        expect((await store.loadDecision(live.hash, null))!.token.policyExpiresAt).toBe(T0 + 90 * DAY);
        await store.revokeToken(revoked.id, T0 + 1, "revoke");
        await store.markTokenExpired(expired.id, T0 + 1);
        const written = await store.setTokenPolicyExpiry([
          { tokenId: live.id, policyExpiresAt: T0 + 14 * DAY },
          { tokenId: cleared.id, policyExpiresAt: null },
          { tokenId: revoked.id, policyExpiresAt: T0 + DAY },
          { tokenId: expired.id, policyExpiresAt: T0 + DAY },
          { tokenId: "tok_missing", policyExpiresAt: T0 + DAY },
        ]);
        expect([...written].sort()).toEqual([live.id, cleared.id].sort());
        expect((await target.backdoor.readToken(live.id))!.policyExpiresAt).toBe(T0 + 14 * DAY);
        expect((await target.backdoor.readToken(cleared.id))!.policyExpiresAt ?? null).toBeNull();
        expect((await target.backdoor.readToken(revoked.id))!.policyExpiresAt ?? null).toBeNull();
        expect((await target.backdoor.readToken(expired.id))!.policyExpiresAt ?? null).toBeNull();
        expect((await store.loadDecision(live.hash, null))!.token.policyExpiresAt).toBe(T0 + 14 * DAY);
        expect((await store.loadDecision(cleared.hash, null))!.token.policyExpiresAt ?? null).toBeNull();
        expect(await store.setTokenPolicyExpiry([])).toEqual([]);
      });

      it("R6 markTokenExpired records the expiry once", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const first = await Promise.all([store.markTokenExpired(t.id, T0 + WINDOW), store.markTokenExpired(t.id, T0 + WINDOW + 1)]);
        expect(first.filter(Boolean)).toHaveLength(1);
        expect([T0 + WINDOW, T0 + WINDOW + 1]).toContain((await target.backdoor.readToken(t.id))!.expiredAt);
        expect(await store.markTokenExpired("nope", T0)).toBe(false);
      });

      it("R6 recorded use only grows, is seen by the next decision read, and never touches an expired token", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        await store.recordTokenUse(t.id, T0 + 5 * DAY);
        await store.recordTokenUse(t.id, T0 + 2 * DAY);
        expect((await store.loadDecision(t.hash, null))!.token.lastUsedAt).toBe(T0 + 5 * DAY);
        // What is stored never goes back (a store may coalesce, so it may not be written yet).
        expect([null, T0 + 5 * DAY]).toContain((await target.backdoor.readToken(t.id))!.lastUsedAt);
        await store.markTokenExpired(t.id, T0 + 40 * DAY);
        await store.recordTokenUse(t.id, T0 + 41 * DAY);
        expect((await store.loadDecision(t.hash, null))!.token.lastUsedAt).toBe(T0 + 5 * DAY);
        const row = (await target.backdoor.readToken(t.id))!;
        expect(row.expiredAt).toBe(T0 + 40 * DAY);
        expect([null, T0 + 5 * DAY]).toContain(row.lastUsedAt);
      });

      it("R20 markTokenWarned writes once per deadline and threshold: again for a smaller threshold or another deadline", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const deadline = T0 + WINDOW;
        expect(await store.markTokenWarned(t.id, deadline, 14 * DAY)).toBe(true);
        expect(await store.markTokenWarned(t.id, deadline, 14 * DAY)).toBe(false);
        expect(await store.markTokenWarned(t.id, deadline, 3 * DAY)).toBe(true);
        // A larger threshold after a smaller one: already said.
        expect(await store.markTokenWarned(t.id, deadline, 14 * DAY)).toBe(false);
        expect(await target.backdoor.readToken(t.id)).toMatchObject({ warnedDeadline: deadline, warnedThresholdMs: 3 * DAY });
        // The token was used: its deadline moved, warnings start again.
        expect(await store.markTokenWarned(t.id, deadline + DAY, 14 * DAY)).toBe(true);
        expect(await target.backdoor.readToken(t.id)).toMatchObject({ warnedDeadline: deadline + DAY, warnedThresholdMs: 14 * DAY });
        expect(await store.markTokenWarned("nope", deadline, DAY)).toBe(false);
      });

      it("R20 of racing markTokenWarned calls for one warning exactly one wins; racing thresholds leave the smallest", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const u = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        for (const x of [t, u]) await store.insertToken(x, quota(10));
        const deadline = T0 + WINDOW;
        const same = await Promise.all(Array.from({ length: 8 }, () => store.markTokenWarned(t.id, deadline, 3 * DAY)));
        expect(same.filter(Boolean)).toHaveLength(1);
        const mixed = await Promise.all([14, 3, 1, 3, 14, 1].map((d) => store.markTokenWarned(u.id, deadline, d * DAY)));
        expect(mixed.filter(Boolean).length).toBeGreaterThanOrEqual(1);
        expect(mixed.filter(Boolean).length).toBeLessThanOrEqual(3);
        expect(await target.backdoor.readToken(u.id)).toMatchObject({ warnedDeadline: deadline, warnedThresholdMs: DAY });
      });

      it("client tracking: a use's clients are kept with its last use (distinct, most recent first, at most max), never on an expired token", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const c = (ip: string | null, userAgent: string | null, lastSeenAt: number) => ({ ip, userAgent, lastSeenAt });
        await store.recordTokenUse(t.id, T0 + 1, { seen: [c("10.0.0.1", "curl/8", T0 + 1)], max: 2 });
        await store.recordTokenUse(t.id, T0 + 2, { seen: [c("10.0.0.2", null, T0 + 2)], max: 2 });
        await store.recordTokenUse(t.id, T0 + 3, { seen: [c("10.0.0.1", "curl/8", T0 + 3)], max: 2 });
        await store.recordTokenUse(t.id, T0 + 4);
        const expected = [c("10.0.0.1", "curl/8", T0 + 3), c("10.0.0.2", null, T0 + 2)];
        expect((await store.getToken(t.id))!.clients).toEqual(expected);
        expect((await store.listTokens({ orgId: "org_a", subjectId: "u_1" }))[0]!.token.clients).toEqual(expected);
        await store.recordTokenUse(t.id, T0 + 5, { seen: [c(null, "PowerBI", T0 + 5)], max: 2 });
        const latest = [c(null, "PowerBI", T0 + 5), c("10.0.0.1", "curl/8", T0 + 3)];
        expect((await store.getToken(t.id))!.clients).toEqual(latest);
        // A store may coalesce uses: what is stored is an earlier state or this one, written with a use.
        const stored = (await target.backdoor.readToken(t.id))!;
        expect([[c("10.0.0.1", "curl/8", T0 + 1)], expected, latest]).toContainEqual(stored.clients);
        await store.markTokenExpired(t.id, T0 + 6);
        await store.recordTokenUse(t.id, T0 + 7, { seen: [c("10.9.9.9", "late", T0 + 7)], max: 2 });
        expect((await store.getToken(t.id))!.clients).not.toContainEqual(c("10.9.9.9", "late", T0 + 7));
      });
    });

    describe("paged listings (pageTokens, pageMembers)", () => {
      const STATUSES = ["active", "revoked", "deleted", "expired", "subject_inactive"] as const;
      /** Tokens in every status, with names and owners to search, several sharing a creation time (ties by id). */
      async function mixed(dated = false): Promise<{ now: number }> {
        await store.putUser({ id: "u_3", name: "Cleo Zed" });
        await store.updateMembership("org_a", "u_3", () => member("org_a", "u_3"));
        const put = async (over: Partial<TokenRecord> & Pick<TokenRecord, "kind" | "subjectId">) => {
          const t = tokenRecord({ orgId: "org_a", ...over });
          expect((await store.insertToken(t, quota(100, t.createdAt))).ok).toBe(true);
          return t;
        };
        const a = await put({ kind: "user", subjectId: "u_1", name: "Deploy bot", createdAt: T0 });
        await put({ kind: "user", subjectId: "u_1", name: "laptop", createdAt: T0, lastUsedAt: T0 + 5 * DAY });
        const r = await put({ kind: "user", subjectId: "u_2", name: "CI", createdAt: T0 + DAY });
        const d = await put({ kind: "user", subjectId: "u_2", name: "old deploy", createdAt: T0 + DAY });
        await put({ kind: "user", subjectId: "u_2", name: "idle", createdAt: T0 - WINDOW, lastUsedAt: null });
        const x = await put({ kind: "user", subjectId: "u_3", name: "Zed's", createdAt: T0 + 2 * DAY, lastUsedAt: T0 + 3 * DAY });
        await put({ kind: "service_user", subjectId: "svc_1", name: "nightly", createdAt: T0 + DAY, lastUsedAt: T0 + 2 * DAY });
        await put({ kind: "service_user", subjectId: "svc_2", name: "export", createdAt: T0 });
        // R19: dates and policy ends, before and after `now` (T0 + 6 days), and ties with the inactivity deadline.
        if (dated) await put({ kind: "user", subjectId: "u_1", name: "dated", createdAt: T0 + DAY, expiresAt: T0 + 4 * DAY });
        if (dated) await put({ kind: "user", subjectId: "u_2", name: "policy user", createdAt: T0 + DAY, lastUsedAt: T0 + 5 * DAY, policyExpiresAt: T0 + 20 * DAY });
        if (dated) await put({ kind: "user", subjectId: "u_1", name: "tie", createdAt: T0 + 2 * DAY, expiresAt: T0 + 32 * DAY, policyExpiresAt: T0 + 40 * DAY });
        if (dated) await put({ kind: "service_user", subjectId: "svc_1", name: "dated service", createdAt: T0, expiresAt: T0 + 9 * DAY, policyExpiresAt: T0 + 9 * DAY });
        if (dated) await put({ kind: "service_user", subjectId: "svc_1", name: "policy ended", createdAt: T0, policyExpiresAt: T0 + 5 * DAY, expiresAt: T0 + 50 * DAY });
        if (dated) await put({ kind: "service_user", subjectId: "svc_1", name: "policy later", createdAt: T0 + DAY, policyExpiresAt: T0 + 7 * DAY });
        await store.revokeToken(r.id, T0 + 2 * DAY, "revoke");
        await store.revokeToken(d.id, T0 + 2 * DAY, "delete");
        await store.markTokenExpired(a.id, T0 + 3 * DAY);
        await store.recordTokenUse(x.id, T0 + 4 * DAY);
        await store.updateMembership("org_a", "u_3", (m) => ({ ...m!, status: "deactivated" }));
        await store.updateServiceUser("svc_2", (su) => ({ ...su!, status: "deleted" }));
        await store.insertToken(tokenRecord({ kind: "user", orgId: "org_b", subjectId: "u_1" }), quota(100));
        return { now: T0 + 6 * DAY };
      }
      /** The oracle: every token of the filter from listTokens, judged and ordered by the core functions. */
      async function expected(q: TokenPageQuery): Promise<TokenListEntry[]> {
        const all = await store.listTokens({ orgId: q.orgId, ...(q.kind ? { kind: q.kind } : {}), ...(q.subjectId ? { subjectId: q.subjectId } : {}) });
        const needle = q.search?.toLowerCase() ?? null;
        const sign = q.order === "asc" ? 1 : -1;
        return all
          .filter((e) => q.statuses.includes(tokenStatus(e.token, e.subject, q.now, q.inactivityMs)))
          .filter((e) => needle === null || e.token.name.toLowerCase().includes(needle) || e.subjectName.toLowerCase().includes(needle))
          .sort((a, b) => {
            const ka = tokenSortKey(a.token, q.sort, q.inactivityMs);
            const kb = tokenSortKey(b.token, q.sort, q.inactivityMs);
            return sign * (ka !== kb ? (ka < kb ? -1 : 1) : a.token.id < b.token.id ? -1 : 1);
          });
      }
      /** Walks every page of `q` with `limit`, checking the total on each. */
      async function walk(q: Omit<TokenPageQuery, "after" | "limit">, limit: number): Promise<TokenListEntry[]> {
        const seen: TokenListEntry[] = [];
        let after: TokenPageQuery["after"] = null;
        for (let i = 0; i < 50; i++) {
          const page = await store.pageTokens({ ...q, after, limit });
          expect(page.entries.length).toBeLessThanOrEqual(limit);
          seen.push(...page.entries);
          if (page.entries.length < limit) return seen;
          const last = page.entries[page.entries.length - 1]!.token;
          after = { key: tokenSortKey(last, q.sort, q.inactivityMs), id: last.id };
        }
        throw new Error("pageTokens never ended");
      }

      it("pageTokens filters by status exactly as tokenStatus, counts the matches, and pages in every sort and order without a gap or a repeat", async () => {
        const { now } = await mixed(true);
        const base = { orgId: "org_a", search: null, now, inactivityMs: WINDOW };
        for (const statuses of [[...STATUSES], ["active", "subject_inactive"]] as TokenPageQuery["statuses"][]) {
          for (const sort of ["created", "last_used", "expires"] as TokenSort[]) {
            for (const order of ["asc", "desc"] as const) {
              const q = { ...base, statuses, sort, order };
              const want = await expected({ ...q, after: null, limit: 1000 });
              const first = await store.pageTokens({ ...q, after: null, limit: 3 });
              expect(first.total).toBe(want.length);
              expect((await walk(q, 3)).map((e) => e.token.id)).toEqual(want.map((e) => e.token.id));
            }
          }
        }
        // Each status has its tokens (checked against the oracle), and the statuses partition the organization's tokens.
        for (const st of STATUSES) {
          const q = { ...base, statuses: [st], sort: "created" as const, order: "asc" as const, after: null, limit: 100 };
          const got = (await store.pageTokens(q)).entries.map((e) => e.token.id);
          expect(got.length).toBeGreaterThan(0);
          expect(got).toEqual((await expected(q)).map((e) => e.token.id));
        }
        expect((await store.pageTokens({ ...base, statuses: [...STATUSES], sort: "created", order: "asc", after: null, limit: 100 })).total).toBe(14);
      });

      it("pageTokens narrows by kind and subject, searches token and owner names case-insensitively, and shows the subject's name and state", async () => {
        const { now } = await mixed();
        const q = { orgId: "org_a", statuses: [...STATUSES], now, inactivityMs: WINDOW, sort: "created" as const, order: "asc" as const, after: null, limit: 100 };
        expect((await store.pageTokens({ ...q, search: "DEPLOY" })).entries.map((e) => e.token.name).sort()).toEqual(["Deploy bot", "old deploy"]);
        expect((await store.pageTokens({ ...q, search: "zed" })).entries.map((e) => e.token.name)).toEqual(["Zed's"]);
        expect((await store.pageTokens({ ...q, search: "service svc_1" })).entries.map((e) => e.token.name)).toEqual(["nightly"]);
        expect((await store.pageTokens({ ...q, search: "nothing like it" }))).toEqual({ entries: [], total: 0 });
        const mine = await store.pageTokens({ ...q, kind: "user", subjectId: "u_1", search: null });
        expect(mine.total).toBe(2);
        expect(mine.entries[0]).toMatchObject({ subjectName: "Ana", subject: { active: true, epoch: "ep1" } });
        const svc = await store.pageTokens({ ...q, kind: "service_user", search: null });
        expect(svc.entries.map((e) => e.token.kind)).toEqual(["service_user", "service_user"]);
        for (const v of [q, { ...q, kind: "user" as const }]) {
          const got = await store.pageTokens({ ...v, search: null });
          expect(got.entries.map((e) => e.token.id)).toEqual((await expected({ ...v, search: null })).map((e) => e.token.id));
        }
        expect(await store.pageTokens({ ...q, orgId: "org_none", search: null })).toEqual({ entries: [], total: 0 });
      });

      it("pageMembers orders by name then id, filters by status, searches names and ids, counts, and pages without a gap", async () => {
        await store.putUser({ id: "u_3", name: "Ana" });
        await store.putUser({ id: "u_4", name: "bea" });
        for (const u of ["u_3", "u_4", "u_5"]) await store.updateMembership("org_a", u, () => member("org_a", u));
        await store.updateMembership("org_a", "u_2", (m) => ({ ...m!, status: "deactivated" }));
        await store.updateMembership("org_a", "u_4", (m) => ({ ...m!, status: "left" }));
        const q: MemberPageQuery = { orgId: "org_a", statuses: ["active", "deactivated", "left"], search: null, after: null, limit: 2 };
        const ids: string[] = [];
        let page = await store.pageMembers(q);
        expect(page.total).toBe(5);
        for (;;) {
          ids.push(...page.entries.map((e) => e.membership.userId));
          if (page.entries.length < 2) break;
          const last = page.entries[page.entries.length - 1]!;
          page = await store.pageMembers({ ...q, after: { name: last.user.name, id: last.user.id } });
        }
        // "Ana" (u_1, u_3), "Ben", "bea" (code-unit order: capitals first), then u_5 (no record: named by its id).
        expect(ids).toEqual(["u_1", "u_3", "u_2", "u_4", "u_5"]);
        const active = await store.pageMembers({ ...q, statuses: ["active"], limit: 10 });
        expect(active.entries.map((e) => e.user.id)).toEqual(["u_1", "u_3", "u_5"]);
        expect(active.entries[2]!.user).toEqual({ id: "u_5", name: "u_5" });
        expect((await store.pageMembers({ ...q, search: "ANA", limit: 10 })).entries.map((e) => e.user.id)).toEqual(["u_1", "u_3"]);
        expect((await store.pageMembers({ ...q, search: "u_2", limit: 10 })).total).toBe(1);
        expect(await store.pageMembers({ ...q, orgId: "org_b" })).toEqual({ entries: [], total: 0 });
      });
    });

    describe("the read for one decision", () => {
      it("is null for an unknown digest", async () => {
        expect(await store.loadDecision("no-such-digest", null)).toBeNull();
      });

      it("R12 returns a user token's membership and current permissions", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const input = await store.loadDecision(t.hash, null);
        expect(input!.token).toEqual(t);
        expect(input!.subject).toMatchObject({ kind: "user", user: { id: "u_1", name: "Ana" }, membership: member("org_a", "u_1") });
        expect([...input!.subject.permissions].sort()).toEqual(["inspections:edit", "inspections:view"]);
        await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Inspector", permissions: ["inspections:view"] });
        expect((await store.loadDecision(t.hash, null))!.subject.permissions).toEqual(["inspections:view"]);
        expect(grantsOf(input!.shares)).toEqual([]);
        expect(grantsOf(input!.rules)).toEqual([]);
      });

      it("R8 returns a service token's service user and its own permission set", async () => {
        await store.putPermissionSet({ id: "ps_svc", orgId: "org_a", name: "Export", permissions: ["templates:view"] });
        await store.updateServiceUser("svc_1", (s) => ({ ...s!, permissionSetId: "ps_svc" }));
        const t = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" });
        await store.insertToken(t, quota(10));
        const input = await store.loadDecision(t.hash, null);
        expect(input!.subject).toMatchObject({ kind: "service_user", serviceUser: { id: "svc_1", name: "Service svc_1" }, permissions: ["templates:view"] });
      });

      it("R13 returns exactly the item's shares, the rules of its organization and type, and the named sites' paths", async () => {
        await store.putSite({ id: "s_r", orgId: "org_a", name: "North", parentId: null, path: ["s_r"] });
        await store.putSite({ id: "s_1", orgId: "org_a", name: "Oslo", parentId: "s_r", path: ["s_r", "s_1"] });
        const item = { orgId: "org_a", type: "inspection", id: "i_1" };
        await store.putShare({ id: "sh_1", item, grantee: { kind: "site", siteId: "s_1" }, level: "view", createdAt: T0 });
        await store.putShare({ id: "sh_2", item: { ...item, id: "i_2" }, grantee: { kind: "user", userId: "u_1" }, level: "view", createdAt: T0 });
        await store.putShare({ id: "sh_3", item: { ...item, type: "template" }, grantee: { kind: "user", userId: "u_1" }, level: "view", createdAt: T0 });
        await store.putShare({ id: "sh_4", item: { ...item, orgId: "org_b" }, grantee: { kind: "user", userId: "u_1" }, level: "view", createdAt: T0 });
        await store.putRule({ id: "r_1", orgId: "org_a", itemType: "inspection", conditions: { siteId: ["s_1"] }, grantee: { kind: "group", groupId: "g_1" }, level: "edit", createdAt: T0 });
        await store.putRule({ id: "r_2", orgId: "org_a", itemType: "template", conditions: {}, grantee: { kind: "group", groupId: "g_1" }, level: "edit", createdAt: T0 });
        await store.putRule({ id: "r_3", orgId: "org_b", itemType: "inspection", conditions: {}, grantee: { kind: "group", groupId: "g_1" }, level: "edit", createdAt: T0 });
        // u_1 is a member of the region above s_1, so the share naming s_1 can include them (R13).
        await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, siteIds: ["s_r"] }));
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const input = await store.loadDecision(t.hash, { ...item, attributes: { siteId: "s_1" } });
        // What the decision reads: the grants under the subject's keys (s_r covers s_1 through its path).
        const shares = grantsUnder(input!.shares, input!.compiled, false);
        expect(shares.map((s) => s.id)).toEqual(["sh_1"]);
        expect(shares[0]).toMatchObject({ source: "share", orgId: "org_a", itemType: "inspection", itemId: "i_1", rank: 1, ref: { via: "site", level: "view", crossOrg: false } });
        expect(grantsOf(input!.rules).map((r) => r.id)).toEqual(["r_1"]);
        expect(grantsOf(input!.rules)[0]).toMatchObject({ conditions: { siteId: ["s_1"] }, rank: 2, ref: { level: "edit" } });
        const none = await store.loadDecision(t.hash, null);
        expect(grantsOf(none!.shares)).toEqual([]);
        expect(grantsOf(none!.rules)).toEqual([]);
      });
    });

    describe("the read for one decision: only the shares whose grantee could include the subject", () => {
      const item = { orgId: "org_a", type: "inspection", id: "i_1" };
      const foreign = { orgId: "org_b", type: "inspection", id: "i_9" };
      const orgA = { kind: "organization", orgId: "org_a", includeServiceUsers: false } as const;
      const orgAWithServiceUsers = { kind: "organization", orgId: "org_a", includeServiceUsers: true } as const;
      /** u_1 is in group g_1 and site s_1 (below s_r, above s_2); shares of every grantee kind on one item of org_a and one of org_b. */
      async function seedShares(): Promise<void> {
        await seedGroupsAndSites(store);
        const shares: [string, typeof item, Share["grantee"]][] = [
          ["sh_user", item, { kind: "user", userId: "u_1" }],
          ["sh_other_user", item, { kind: "user", userId: "u_2" }],
          ["sh_group", item, { kind: "group", groupId: "g_1" }],
          ["sh_other_group", item, { kind: "group", groupId: "g_2" }],
          ["sh_site", item, { kind: "site", siteId: "s_1" }],
          ["sh_site_below", item, { kind: "site", siteId: "s_2" }],
          ["sh_site_above", item, { kind: "site", siteId: "s_r" }],
          ["sh_site_elsewhere", item, { kind: "site", siteId: "s_x" }],
          ["sh_org", item, orgA],
          ["sh_org_svc", item, orgAWithServiceUsers],
          ["sh_org_b", item, { kind: "organization", orgId: "org_b", includeServiceUsers: true }],
          ["sh_svc", item, { kind: "service_user", serviceUserId: "svc_1" }],
          ["sh_other_svc", item, { kind: "service_user", serviceUserId: "svc_2" }],
          ["sh_foreign_user", foreign, { kind: "user", userId: "u_1" }],
          ["sh_foreign_other_user", foreign, { kind: "user", userId: "u_2" }],
          ["sh_foreign_org_a", foreign, orgA],
          ["sh_foreign_org_b", foreign, { kind: "organization", orgId: "org_b", includeServiceUsers: true }],
        ];
        for (const [id, on, grantee] of shares) await store.putShare({ id, item: on, grantee, level: "view", createdAt: T0 });
      }
      const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id).sort();
      /** The shares a decision on `on` reads for the input's subject (those under its grantee keys), in order. */
      const read = (input: DecisionInput | null, on: { orgId: string }) => grantsUnder(input!.shares, input!.compiled, on.orgId !== input!.token.orgId);

      it("R13 R15 a user token gets the item's shares naming the user, its groups, its sites or sites below them, its organization — no other", async () => {
        await seedShares();
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const input = await store.loadDecision(t.hash, item);
        expect(ids(read(input, item))).toEqual(["sh_group", "sh_org", "sh_org_svc", "sh_site", "sh_site_below", "sh_user"]);
        // In the item's order (the first of two equal grants is the one a decision names).
        expect(read(input, item).map((s) => s.id)).toEqual(["sh_user", "sh_group", "sh_site", "sh_site_below", "sh_org", "sh_org_svc"]);
      });

      it("R9 R13 a service user token gets only the shares naming it or its organization including service users", async () => {
        await seedShares();
        const t = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" });
        await store.insertToken(t, quota(10));
        expect(ids(read(await store.loadDecision(t.hash, item), item))).toEqual(["sh_org_svc", "sh_svc"]);
      });

      it("R14 R15 on another organization's item, only its shares with the subject or the token's organization: none at all when it has none, as when it does not exist", async () => {
        await seedShares();
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        expect(ids(read(await store.loadDecision(t.hash, foreign), foreign))).toEqual(["sh_foreign_org_a", "sh_foreign_user"]);
        const u2 = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2" });
        await store.insertToken(u2, quota(10));
        await store.deleteShare(foreign.orgId, "sh_foreign_org_a");
        const existing = await store.loadDecision(u2.hash, foreign);
        const missing = await store.loadDecision(u2.hash, { ...foreign, id: "i_no_such_item" });
        expect(ids(read(existing, foreign))).toEqual(["sh_foreign_other_user"]);
        await store.deleteShare(foreign.orgId, "sh_foreign_other_user");
        expect(read(await store.loadDecision(u2.hash, foreign), foreign)).toEqual([]);
        expect(read(missing, foreign)).toEqual([]);
      });
    });

    describe("the decision read against the core's grantee rule (random directories)", () => {
      const paths = Object.fromEntries(RANDOM_SITES.map((x) => [x.id, x.path]));
      it.each([1, 2, 3])("R13 R14 R15 (seed %i) the shares and rules a decision reads are exactly those the core's granteeIncludes selects, and every decision equals the core's over the item's full lists", async (seedValue) => {
        const { tokens, rules } = await seedRandomDirectory(store, seedValue);
        for (const item of RANDOM_ITEMS) {
          const listed = await store.listShares(item);
          const itemRules = rules.filter((r) => r.orgId === item.orgId && r.itemType === item.type);
          for (const t of tokens) {
            const at = { ...item, attributes: { siteId: "z" } };
            const input = await store.loadDecision(t.hash, at);
            expect(input).not.toBeNull();
            const crossOrg = item.orgId !== t.orgId;
            const included = listed.filter((sh) => granteeIncludes(input!.compiled, sh.grantee, sh.grantee.kind === "site" ? paths[sh.grantee.siteId] : undefined, crossOrg));
            expect(grantsUnder(input!.shares, input!.compiled, crossOrg).map((g) => g.id), `${t.subjectId} on ${item.orgId}/${item.type}/${item.id}`).toEqual(included.map((sh) => sh.id));
            const ruleHits = itemRules.filter((r) => granteeIncludes(input!.compiled, r.grantee, r.grantee.kind === "site" ? paths[r.grantee.siteId] : undefined, crossOrg));
            expect(grantsUnder(input!.rules, input!.compiled, crossOrg).map((g) => g.id)).toEqual(ruleHits.map((r) => r.id));
            const oracle = compileDecision({ token: input!.token, subject: input!.subject, shares: listed, rules: itemRules, sitePaths: paths });
            for (const [action, definition] of Object.entries(RANDOM_ACTIONS)) {
              expect(decide(input!, action, definition, at, T0 + 1, { inactivityMs: WINDOW })).toEqual(decide(oracle, action, definition, at, T0 + 1, { inactivityMs: WINDOW }));
            }
          }
        }
      });
    });

    describe("synchronous reads (store.sync, optional)", () => {
      it("R6 R15 a store's sync belongs to it and answers, now, exactly what its asynchronous reads answer; its use record is seen by the next read", async () => {
        const sync = store.sync;
        if (sync === undefined) {
          // Nothing to check but that the store offers none (keyward then awaits its reads).
          expect("sync" in store ? store.sync : undefined).toBeUndefined();
          return;
        }
        expect(sync.store).toBe(store);
        const { tokens } = await seedRandomDirectory(store, 7);
        expect(sync.loadDecision("no-such-digest", null)).toBeNull();
        expect(sync.loadAccess("no-such-digest", { itemType: "inspection" })).toBeNull();
        for (const t of tokens) {
          for (const item of [null, ...RANDOM_ITEMS]) expect(sync.loadDecision(t.hash, item)).toEqual(await store.loadDecision(t.hash, item));
          expect(sync.loadAccess(t.hash, { itemType: "inspection" })).toEqual(await store.loadAccess(t.hash, { itemType: "inspection" }));
          expect(sync.recordTokenUse(t.id, T0 + DAY)).toBeUndefined();
          expect((await store.loadDecision(t.hash, null))!.token.lastUsedAt).toBe(T0 + DAY);
        }
      });
    });

    describe("the read for a list filter (loadAccess)", () => {
      const inspection = (id: string, orgId = "org_a") => ({ orgId, type: "inspection", id });
      const orgA = { kind: "organization", orgId: "org_a", includeServiceUsers: false } as const;
      const orgAWithServiceUsers = { kind: "organization", orgId: "org_a", includeServiceUsers: true } as const;
      /** Sites s_r › s_1 › s_2 and s_x; u_1 is in group g_1 and site s_1; shares and rules of every grantee kind. */
      async function seedAccess(): Promise<void> {
        await seedGroupsAndSites(store);
        const shares: [string, ReturnType<typeof inspection>, Share["grantee"]][] = [
          ["sh_user", inspection("i_1"), { kind: "user", userId: "u_1" }],
          ["sh_other_user", inspection("i_2"), { kind: "user", userId: "u_2" }],
          ["sh_group", inspection("i_3"), { kind: "group", groupId: "g_1" }],
          ["sh_other_group", inspection("i_4"), { kind: "group", groupId: "g_2" }],
          ["sh_site", inspection("i_5"), { kind: "site", siteId: "s_1" }],
          ["sh_site_below", inspection("i_6"), { kind: "site", siteId: "s_2" }],
          ["sh_site_above", inspection("i_7"), { kind: "site", siteId: "s_r" }],
          ["sh_site_elsewhere", inspection("i_8"), { kind: "site", siteId: "s_x" }],
          ["sh_org", inspection("i_9"), orgA],
          ["sh_org_svc", inspection("i_10"), orgAWithServiceUsers],
          ["sh_org_b", inspection("i_11"), { kind: "organization", orgId: "org_b", includeServiceUsers: true }],
          ["sh_cross_user", inspection("i_1", "org_b"), { kind: "user", userId: "u_1" }],
          ["sh_cross_org", inspection("i_2", "org_b"), orgA],
          ["sh_template", { orgId: "org_a", type: "template", id: "i_1" }, { kind: "user", userId: "u_1" }],
          ["sh_svc", inspection("i_12"), { kind: "service_user", serviceUserId: "svc_1" }],
          ["sh_other_svc", inspection("i_13"), { kind: "service_user", serviceUserId: "svc_2" }],
        ];
        for (const [id, item, grantee] of shares) await store.putShare({ id, item, grantee, level: "view", createdAt: T0 });
        const rules: [string, string, string, Share["grantee"]][] = [
          ["r_org", "org_a", "inspection", orgA],
          ["r_site_below", "org_a", "inspection", { kind: "site", siteId: "s_2" }],
          ["r_site_above", "org_a", "inspection", { kind: "site", siteId: "s_r" }],
          ["r_other_group", "org_a", "inspection", { kind: "group", groupId: "g_2" }],
          ["r_template", "org_a", "template", { kind: "user", userId: "u_1" }],
          ["r_cross_user", "org_b", "inspection", { kind: "user", userId: "u_1" }],
          ["r_svc", "org_a", "inspection", { kind: "service_user", serviceUserId: "svc_1" }],
          ["r_org_svc", "org_a", "inspection", orgAWithServiceUsers],
        ];
        for (const [id, orgId, itemType, grantee] of rules) {
          await store.putRule({ id, orgId, itemType, conditions: { siteId: ["s_2"] }, grantee, level: "edit", createdAt: T0 });
        }
      }
      const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id).sort();
      /** The shares a decision on `on` reads for the input's subject (those under its grantee keys), in order. */
      const read = (input: DecisionInput | null, on: { orgId: string }) => grantsUnder(input!.shares, input!.compiled, on.orgId !== input!.token.orgId);

      it("is null for an unknown digest", async () => {
        expect(await store.loadAccess("no-such-digest", { itemType: "inspection" })).toBeNull();
      });

      it("R13 R14 for a user token: exactly the shares and rules of the type naming the user, its groups, its sites or sites below them, its organization; from any organization", async () => {
        await seedAccess();
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const input = await store.loadAccess(t.hash, { itemType: "inspection" });
        const decision = await store.loadDecision(t.hash, null);
        expect(input!.token).toEqual(decision!.token);
        expect(input!.subject).toEqual(decision!.subject);
        expect(ids(input!.shares)).toEqual(["sh_cross_org", "sh_cross_user", "sh_group", "sh_org", "sh_org_svc", "sh_site", "sh_site_below", "sh_user"]);
        expect(input!.shares.find((s) => s.id === "sh_cross_user")).toMatchObject({ item: inspection("i_1", "org_b"), grantee: { kind: "user", userId: "u_1" }, level: "view" });
        expect(ids(input!.rules)).toEqual(["r_cross_user", "r_org", "r_org_svc", "r_site_below"]);
        expect(input!.rules.find((r) => r.id === "r_site_below")).toMatchObject({ orgId: "org_a", itemType: "inspection", conditions: { siteId: ["s_2"] }, level: "edit" });
        expect(input!.sitePaths).toEqual({ s_1: ["s_r", "s_1"], s_2: ["s_r", "s_1", "s_2"] });
        const templates = await store.loadAccess(t.hash, { itemType: "template" });
        expect(ids(templates!.shares)).toEqual(["sh_template"]);
        expect(ids(templates!.rules)).toEqual(["r_template"]);
      });

      it("R17 loadSubjectAccess reads for a subject without a token exactly what loadAccess reads for a token of it, fresh", async () => {
        await seedAccess();
        for (const [kind, subjectId] of [["user", "u_1"], ["service_user", "svc_1"]] as const) {
          const t = tokenRecord({ kind, orgId: "org_a", subjectId });
          await store.insertToken(t, quota(10));
          for (const itemType of ["inspection", "template"]) {
            const viaToken = await store.loadAccess(t.hash, { itemType });
            const viaSubject = await store.loadSubjectAccess({ orgId: "org_a", kind, subjectId }, { itemType });
            expect(viaSubject.subject).toEqual(viaToken!.subject);
            expect(ids(viaSubject.shares)).toEqual(ids(viaToken!.shares));
            expect(ids(viaSubject.rules)).toEqual(ids(viaToken!.rules));
            expect(viaSubject.sitePaths).toEqual(viaToken!.sitePaths);
          }
        }
        await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, groupIds: [], siteIds: [] }));
        const after = await store.loadSubjectAccess({ orgId: "org_a", kind: "user", subjectId: "u_1" }, { itemType: "inspection" });
        expect(ids(after.shares)).toEqual(["sh_cross_org", "sh_cross_user", "sh_org", "sh_org_svc", "sh_user"]);
      });

      it("R13 for a service user token: only what names the service user, or its organization including service users (R9: never groups or sites)", async () => {
        await seedAccess();
        const t = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" });
        await store.insertToken(t, quota(10));
        const input = await store.loadAccess(t.hash, { itemType: "inspection" });
        expect(input!.subject).toMatchObject({ kind: "service_user", serviceUser: { id: "svc_1" } });
        expect(ids(input!.shares)).toEqual(["sh_org_svc", "sh_svc"]);
        expect(ids(input!.rules)).toEqual(["r_org_svc", "r_svc"]);
        expect(input!.sitePaths).toEqual({});
      });

      it("R12 R13 reads fresh state: unshared items, removed rules, left groups and sites and changed permissions show at once", async () => {
        await seedAccess();
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        await store.deleteShare("org_a", "sh_user");
        await store.deleteRule("org_a", "r_org");
        await store.updateMembership("org_a", "u_1", (m) => ({ ...m!, groupIds: ["g_2"], siteIds: ["s_2"] }));
        await store.deleteShare("org_a", "sh_other_user");
        await store.putShare({ id: "sh_other_user", item: inspection("i_2"), grantee: { kind: "user", userId: "u_1" }, level: "delete", createdAt: T0 });
        await store.putPermissionSet({ id: "ps_1", orgId: "org_a", name: "Inspector", permissions: ["inspections:view"] });
        const input = await store.loadAccess(t.hash, { itemType: "inspection" });
        expect(ids(input!.shares)).toEqual(["sh_cross_org", "sh_cross_user", "sh_org", "sh_org_svc", "sh_other_group", "sh_other_user", "sh_site_below"]);
        expect(input!.shares.find((s) => s.id === "sh_other_user")!.level).toBe("delete");
        expect(ids(input!.rules)).toEqual(["r_cross_user", "r_org_svc", "r_other_group", "r_site_below"]);
        expect(input!.sitePaths).toEqual({ s_2: ["s_r", "s_1", "s_2"] });
        expect(input!.subject.permissions).toEqual(["inspections:view"]);
      });
    });

    // ── store-layers: writes read back through the back door, and the admission callback ──────
    describe("writes, read back through the back door (not the store's own reads)", () => {
      it("R3 R7 insertToken writes exactly the token admitted, and nothing when refused", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1", lastUsedAt: T0 + 1 });
        expect(await store.insertToken(t, quota(1))).toEqual({ ok: true });
        expect(await target.backdoor.readToken(t.id)).toEqual(t);
        const refused = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        expect(await store.insertToken(refused, quota(1))).toEqual({ ok: false, reason: "limit_reached" });
        const stale = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2", epoch: "old" });
        expect(await store.insertToken(stale, quota(10))).toEqual({ ok: false, reason: "subject_inactive" });
        expect(await target.backdoor.readToken(refused.id)).toBeNull();
        expect(await target.backdoor.readToken(stale.id)).toBeNull();
      });

      it("R3 insertToken runs the admission rule once, under the lock, with the subject and the owner's tokens, and returns its answer", async () => {
        const first = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(first, quota(10));
        await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_2" }), quota(10));
        const next = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        const seen: { token: TokenRecord; owner: QuotaOwnerState }[] = [];
        const result = await store.insertToken(next, (token, owner) => {
          seen.push({ token, owner });
          return { ok: false, reason: "limit_reached" };
        });
        expect(result).toEqual({ ok: false, reason: "limit_reached" });
        expect(seen).toHaveLength(1);
        expect(seen[0]!.token.id).toBe(next.id);
        expect(seen[0]!.owner.subject).toEqual({ active: true, epoch: "ep1" });
        // Only the owner's tokens (u_1 in org_a), each with its subject's state; a store may add its own time.
        expect(seen[0]!.owner.tokens.map((c) => [c.token.id, c.subject])).toEqual([[first.id, { active: true, epoch: "ep1" }]]);
        expect(seen[0]!.owner.now === null || Number.isFinite(seen[0]!.owner.now)).toBe(true);
        expect(await target.backdoor.readToken(next.id)).toBeNull();
        // A service token's owner is the organization: every service user's tokens, with their own states.
        const s1 = tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_1" });
        await store.insertToken(s1, quota(10));
        await store.updateServiceUser("svc_1", (su) => ({ ...su!, status: "deleted" }));
        const owners: QuotaOwnerState[] = [];
        await store.insertToken(tokenRecord({ kind: "service_user", orgId: "org_a", subjectId: "svc_2" }), (_t, owner) => {
          owners.push(owner);
          return { ok: true };
        });
        expect(owners[0]!.subject).toEqual({ active: true, epoch: null });
        expect(owners[0]!.tokens.map((c) => [c.token.id, c.subject])).toEqual([[s1.id, { active: false, epoch: null }]]);
      });

      it("R3 of N racing insertions past the limit none succeeds, and the back door holds exactly the limit", async () => {
        const first = Array.from({ length: 3 }, () => tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }));
        for (const t of first) await store.insertToken(t, quota(3));
        const racing = Array.from({ length: 10 }, () => tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }));
        const results = await Promise.all(racing.map((t) => store.insertToken(t, quota(3))));
        expect(results.filter((r) => r.ok)).toHaveLength(0);
        for (const t of racing) expect(await target.backdoor.readToken(t.id)).toBeNull();
        for (const t of first) expect(await target.backdoor.readToken(t.id)).toEqual(t);
      });

      it("R7 a deactivation racing creations: every token written has the epoch its membership had when it was admitted", async () => {
        const racing = Array.from({ length: 6 }, () => tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }));
        const [results] = await Promise.all([
          Promise.all(racing.map((t) => store.insertToken(t, quota(100)))),
          store.updateMembership("org_a", "u_1", (m) => ({ ...m!, status: "deactivated" })),
        ]);
        for (const [i, t] of racing.entries()) {
          expect(await target.backdoor.readToken(t.id)).toEqual(results[i]!.ok ? t : null);
        }
        expect((await target.backdoor.readMembership("org_a", "u_1"))!.status).toBe("deactivated");
        expect(await store.insertToken(tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" }), quota(100))).toEqual({ ok: false, reason: "subject_inactive" });
      });

      it("revocation, deletion, expiry and memberships are written as returned", async () => {
        const t = tokenRecord({ kind: "user", orgId: "org_a", subjectId: "u_1" });
        await store.insertToken(t, quota(10));
        const revoked = await store.revokeToken(t.id, T0 + 7, "revoke", "leaked");
        expect(await target.backdoor.readToken(t.id)).toMatchObject({ ...t, revokedAt: T0 + 7, revokedCause: "leaked" });
        expect(revoked!.token).toMatchObject({ revokedAt: T0 + 7, revokedCause: "leaked" });
        await store.revokeToken(t.id, T0 + 8, "delete");
        await store.markTokenExpired(t.id, T0 + 9);
        expect(await target.backdoor.readToken(t.id)).toMatchObject({ revokedAt: T0 + 7, deletedAt: T0 + 8, expiredAt: T0 + 9 });
        const m = await store.updateMembership("org_a", "u_2", (cur) => ({ ...cur!, groupIds: ["g_9"], seat: false }));
        expect(await target.backdoor.readMembership("org_a", "u_2")).toEqual(m);
        const su = await store.updateServiceUser("svc_3", () => serviceUser("org_b", "svc_3"));
        expect(await target.backdoor.readServiceUser("svc_3")).toEqual(su);
        expect(await target.backdoor.readServiceUser("nope")).toBeNull();
      });

      it("directory writes are in the raw dump after a put, and a deleted share or rule is gone from it", async () => {
        const item = { orgId: "org_a", type: "inspection", id: "i_dump" };
        const grantee = { kind: "user", userId: "u_1" } as const;
        await store.putGroup({ id: "g_dump", orgId: "org_a", name: "Dumped group" });
        await store.putSite({ id: "s_dump", orgId: "org_a", name: "Dumped site", parentId: null, path: ["s_dump"] });
        await store.insertPermissionSet({ id: "ps_dump", orgId: "org_a", name: "Dumped set", permissions: ["x:y"] });
        await store.putShare({ id: "sh_dump", item, grantee, level: "view", createdAt: T0 });
        await store.putRule({ id: "r_dump", orgId: "org_a", itemType: "inspection", conditions: {}, grantee, level: "view", createdAt: T0 });
        const before = await target.backdoor.dump();
        for (const id of ["g_dump", "s_dump", "ps_dump", "sh_dump", "r_dump", "i_dump"]) expect(before).toContain(id);
        expect(await store.deleteShare("org_a", "sh_dump")).toBe(true);
        expect(await store.deleteRule("org_a", "r_dump")).toBe(true);
        const after = await target.backdoor.dump();
        for (const id of ["sh_dump", "r_dump"]) expect(after).not.toContain(id);
        for (const id of ["g_dump", "s_dump", "ps_dump"]) expect(after).toContain(id);
      });
    });
    // ── end store-layers ───────────────────────────────────────────────────────────────────

    describe("through keyward", () => {
      it("R5 R11 R15 the secret is never stored; revocation is written and refuses the next request", async () => {
        let now = T0;
        const kw = createKeyward({
          store,
          clock: () => now,
          actions: { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } },
          verifyPassword: (_u, p) => p === "pw",
        });
        const item = { orgId: "org_a", type: "inspection", id: "i_9" };
        await kw.directory.share({ item, grantee: { kind: "user", userId: "u_1" }, level: "view" });
        const { token, record } = await kw.tokens.createUserToken({ orgId: "org_a", userId: "u_1", name: "canary", password: "pw" });
        expect((await kw.authorize(token, "inspections.view", item)).allowed).toBe(true);
        now += 1000;
        await kw.tokens.revoke({ orgId: "org_a", tokenId: record.id, actorId: "u_1" });
        expect(await kw.authorize(token, "inspections.view", item)).toMatchObject({ allowed: false, reason: "token_revoked" });
        const row = await target.backdoor.readToken(record.id);
        expect(row!.revokedAt).toBe(T0 + 1000);
        expect(row!.hash).not.toContain(token);
        expect(await target.backdoor.dump()).not.toContain(token);
        expect(await target.backdoor.dump()).not.toContain(token.slice(4, 40));
      });

      it("R18 a rotation keeps the token id; the previous secret works during the grace period only, says so, and is replaced by a second rotation", async () => {
        let now = T0;
        const events: KeywardEvent[] = [];
        const kw = createKeyward({
          store,
          clock: () => now,
          actions: { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } },
          onEvent: (e) => events.push(e),
        });
        const item = { orgId: "org_a", type: "inspection", id: "i_rot" };
        await kw.directory.share({ item, grantee: { kind: "service_user", serviceUserId: "svc_1" }, level: "view" });
        await kw.directory.addMember({ orgId: "org_a", userId: "u_admin", permissionSetId: await managerSet(kw) });
        const old = await kw.tokens.createServiceToken({ orgId: "org_a", serviceUserId: "svc_1", name: "BI", actorId: "u_admin" });
        now += 1000;
        const fresh = await kw.tokens.rotate({ orgId: "org_a", tokenId: old.record.id, actorId: "u_admin", graceMs: DAY });
        expect(fresh.record).toMatchObject({ id: old.record.id, name: "BI", rotatedAt: T0 + 1000, previousSecretUntil: T0 + 1000 + DAY, status: "active" });
        expect(fresh.token).not.toBe(old.token);
        expect(fresh.token.slice(0, 4)).toBe(old.token.slice(0, 4));
        expect(events.find((e) => e.type === "token.rotated")).toMatchObject({ tokenId: old.record.id, actorId: "u_admin", graceUntil: T0 + 1000 + DAY });
        const viaOld = await kw.authorize(old.token, "inspections.view", item, { client: { ip: "10.0.0.7", userAgent: "PowerBI/2.1" } });
        expect(viaOld).toMatchObject({ allowed: true, tokenId: old.record.id, previousSecret: true });
        expect(await kw.authorize(fresh.token, "inspections.view", item)).not.toHaveProperty("previousSecret");
        expect((await kw.accessible(old.token, "inspections.view", "inspection")) as object).toMatchObject({ allowed: true, previousSecret: true });
        expect(events.filter((e) => e.type === "token.previous_secret_used")).toEqual([
          { type: "token.previous_secret_used", at: T0 + 1000, tokenId: old.record.id, orgId: "org_a", subject: { kind: "service_user", id: "svc_1", name: "Service svc_1" }, tokenName: "BI", graceUntil: T0 + 1000 + DAY, client: { ip: "10.0.0.7", userAgent: "PowerBI/2.1" } },
        ]);
        now = T0 + 1000 + DAY;
        expect(await kw.authorize(old.token, "inspections.view", item)).toEqual({ allowed: false, reason: "token_unknown", action: "inspections.view" });
        expect((await kw.authorize(fresh.token, "inspections.view", item)).allowed).toBe(true);
        // A second rotation during a grace period replaces the previous secret.
        const third = await kw.tokens.rotate({ orgId: "org_a", tokenId: old.record.id, actorId: "u_admin", graceMs: DAY });
        const fourth = await kw.tokens.rotate({ orgId: "org_a", tokenId: old.record.id, actorId: "u_admin", graceMs: DAY });
        expect((await kw.authorize(fresh.token, "inspections.view", item)).reason).toBe("token_unknown");
        expect(await kw.authorize(third.token, "inspections.view", item)).toMatchObject({ allowed: true, previousSecret: true });
        expect((await kw.authorize(fourth.token, "inspections.view", item)).allowed).toBe(true);
        const row = await target.backdoor.readToken(old.record.id);
        expect(await target.backdoor.dump()).not.toContain(fourth.token);
        expect(row!.hash).not.toContain(fourth.token);
      });

      it("R18 of concurrent rotations through keyward one wins; the others throw conflict and their secrets are unknown", async () => {
        // Concurrent means every rotation has read the token before any writes: the store's
        // rotateToken holds each call until all six have reached it (a rotation that starts after
        // another resolved is a second rotation, and rightly wins too).
        const racers = 6;
        let arrived = 0;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const fallback = setTimeout(() => release(), 5000);
        const gated = new Proxy(store, {
          get(target, prop) {
            const value: unknown = Reflect.get(target, prop, target);
            if (prop === "rotateToken") {
              return async (...args: Parameters<KeywardStore["rotateToken"]>) => {
                if (++arrived === racers) release();
                await gate;
                return target.rotateToken(...args);
              };
            }
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        const kw = createKeyward({ store: gated, actions: { "inspections.view": { permission: "inspections:view" } } });
        await kw.directory.addMember({ orgId: "org_a", userId: "u_admin", permissionSetId: await managerSet(kw) });
        const { record } = await kw.tokens.createServiceToken({ orgId: "org_a", serviceUserId: "svc_1", name: "BI", actorId: "u_admin" });
        const settled = await Promise.allSettled(Array.from({ length: racers }, () => kw.tokens.rotate({ orgId: "org_a", tokenId: record.id, actorId: "u_admin", graceMs: DAY })));
        clearTimeout(fallback);
        expect(arrived).toBe(racers);
        const won = settled.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof kw.tokens.rotate>>> => r.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const r of settled) if (r.status === "rejected") expect((r.reason as KeywardError).code).toBe("conflict");
        expect((await kw.authorize(won[0]!.value.token, "inspections.view")).allowed).toBe(true);
        expect((await target.backdoor.readToken(record.id))!.rotatedAt).not.toBeNull();
      });
    });
  });
}
