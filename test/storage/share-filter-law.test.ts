/**
 * The law behind issue 11's finding 5: `loadDecision` hands a decision only the item's shares
 * whose grantee could include the caller, and that never changes a decision. For random
 * directories (sites nested, groups, memberships, shares put, put again and deleted, rules),
 * every token's decision on every item and level equals the naive evaluation — `decide()` over
 * EVERY share of the item (`listShares`, in the item's order) and the path of every site — to
 * the grant it names (R13, R14, R15). On the memory store and on `keyward/postgres` (PGlite).
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { decide } from "../../src/core/decide.js";
import type { AccessLevel, ActionDefinition, DecisionInput, Grantee, ItemRef } from "../../src/core/types.js";
import { admission } from "../../src/core/admit.js";
import { compileShares, grantsUnder, pathsFrom } from "../../src/core/compile.js";
import { granteeIncludes } from "../../src/core/grantees.js";
import { memoryStore } from "../../src/memory.js";
import type { KeywardStore } from "../../src/storage/types.js";
import { pgliteStore, type TestStore } from "./postgres/support.js";

type Infer<A> = A extends fc.Arbitrary<infer T> ? T : never;
const T0 = Date.UTC(2026, 0, 1);
const WINDOW = 30 * 86_400_000;
const SITES = [
  { id: "s_r", orgId: "A", name: "Region", parentId: null, path: ["s_r"] },
  { id: "s_1", orgId: "A", name: "Area", parentId: "s_r", path: ["s_r", "s_1"] },
  { id: "s_2", orgId: "A", name: "Site", parentId: "s_1", path: ["s_r", "s_1", "s_2"] },
  { id: "s_x", orgId: "A", name: "Elsewhere", parentId: null, path: ["s_x"] },
  { id: "s_b", orgId: "B", name: "Beta site", parentId: null, path: ["s_b"] },
];
const SITE_IDS = SITES.map((s) => s.id);
const GROUP_IDS = ["g_1", "g_2", "g_b"];
const ITEMS: ItemRef[] = [
  { orgId: "A", type: "inspection", id: "i_1", attributes: { siteId: "s_1" } },
  { orgId: "A", type: "inspection", id: "i_2", attributes: { siteId: "s_x" } },
  { orgId: "B", type: "inspection", id: "i_1", attributes: { siteId: "s_b" } },
  { orgId: "A", type: "template", id: "i_1" },
];
const ACTIONS: Record<AccessLevel, ActionDefinition> = {
  view: { permission: "p", access: "view", item: "inspection" },
  edit: { permission: "p", access: "edit", item: "inspection" },
  delete: { permission: "p", access: "delete", item: "inspection" },
};
/** Tokens: users of A (and one of B), a service user of A. */
const TOKENS = [
  { hash: "h_u1", kind: "user", orgId: "A", subjectId: "u_1" },
  { hash: "h_u2", kind: "user", orgId: "A", subjectId: "u_2" },
  { hash: "h_u1b", kind: "user", orgId: "B", subjectId: "u_1" },
  { hash: "h_svc", kind: "service_user", orgId: "A", subjectId: "svc_1" },
] as const;

const grantee: fc.Arbitrary<Grantee> = fc.oneof(
  fc.constantFrom("u_1", "u_2", "u_3").map((userId) => ({ kind: "user", userId }) as const),
  fc.constantFrom("svc_1", "svc_2").map((serviceUserId) => ({ kind: "service_user", serviceUserId }) as const),
  fc.constantFrom(...GROUP_IDS).map((groupId) => ({ kind: "group", groupId }) as const),
  fc.constantFrom(...SITE_IDS, "s_gone").map((siteId) => ({ kind: "site", siteId }) as const),
  fc.record({ orgId: fc.constantFrom("A", "B"), includeServiceUsers: fc.boolean() }).map((o) => ({ kind: "organization", ...o }) as const),
);
const level = fc.constantFrom<AccessLevel>("view", "edit", "delete");
const membership = fc.record({ groupIds: fc.subarray(GROUP_IDS), siteIds: fc.subarray(SITE_IDS), active: fc.boolean() });
const op = fc.oneof(
  { weight: 4, arbitrary: fc.record({ put: fc.constant(true as const), id: fc.integer({ min: 0, max: 11 }), item: fc.constantFrom(...ITEMS), grantee, level }) },
  { weight: 1, arbitrary: fc.record({ put: fc.constant(false as const), id: fc.integer({ min: 0, max: 11 }) }) },
);
const rule = fc.record({
  orgId: fc.constantFrom("A", "B"),
  grantee,
  level,
  conditions: fc.constantFrom<Record<string, string[]>>({}, { siteId: ["s_1"] }, { siteId: ["s_x", "s_b"] }),
});
const directory = fc.record({
  u1: membership,
  u2: membership,
  u1b: membership,
  ops: fc.array(op, { maxLength: 24 }),
  rules: fc.array(rule, { maxLength: 4 }),
});

async function build(store: KeywardStore, d: Infer<typeof directory>): Promise<void> {
  for (const org of ["A", "B"]) {
    await store.putOrganization({ id: org, name: org, ssoOnly: false });
    await store.putPermissionSet({ id: `ps_${org}`, orgId: org, name: "all", permissions: ["p"] });
  }
  for (const site of SITES) await store.putSite(site);
  for (const [orgId, userId, m] of [["A", "u_1", d.u1], ["A", "u_2", d.u2], ["B", "u_1", d.u1b]] as const) {
    await store.putUser({ id: userId, name: userId });
    await store.updateMembership(orgId, userId, () => ({
      orgId, userId, permissionSetId: `ps_${orgId}`, groupIds: m.groupIds, siteIds: m.siteIds, status: m.active ? "active" : "deactivated", seat: true, epoch: "e1",
    }));
  }
  await store.updateServiceUser("svc_1", () => ({ id: "svc_1", orgId: "A", name: "svc", permissionSetId: "ps_A", status: "active", createdBy: null, createdAt: T0 }));
  for (const t of TOKENS) {
    const r = await store.insertToken(
      { id: `t_${t.hash}`, kind: t.kind, orgId: t.orgId, subjectId: t.subjectId, name: "t", hash: t.hash, hint: "…", epoch: t.kind === "user" ? "e1" : null, createdAt: T0, createdBy: null, lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null },
      admission({ max: 10, now: T0, inactivityMs: WINDOW }),
    );
    // An inactive member's token cannot be created: the decision is then about an unknown digest.
    if (!r.ok && r.reason !== "subject_inactive") throw new Error(r.reason);
  }
  const orgOf = new Map<number, string>();
  for (const o of d.ops) {
    if (o.put) {
      const { attributes: _a, ...item } = o.item;
      if (await store.putShare({ id: `sh_${o.id}`, item, grantee: o.grantee, level: o.level, createdAt: T0 })) orgOf.set(o.id, item.orgId);
    } else await store.deleteShare(orgOf.get(o.id) ?? "A", `sh_${o.id}`);
  }
  let n = 0;
  for (const r of d.rules) await store.putRule({ id: `r_${n++}`, orgId: r.orgId, itemType: "inspection", conditions: r.conditions, grantee: r.grantee, level: r.level, createdAt: T0 });
}

/** Every decision of the directory, through the store's filtered read and through the naive one. */
async function compare(store: KeywardStore): Promise<void> {
  const paths = Object.fromEntries(SITES.map((s) => [s.id, s.path]));
  for (const t of TOKENS) {
    for (const item of ITEMS) {
      const input = await store.loadDecision(t.hash, item);
      if (input === null) continue;
      const { attributes: _a, ...key } = item;
      const listed = await store.listShares(key);
      const naive: DecisionInput = { ...input, shares: compileShares(listed, pathsFrom(paths)) };
      for (const [lvl, def] of Object.entries(ACTIONS)) {
        expect(decide(input, `x.${lvl}`, def, item, T0, { inactivityMs: WINDOW }), `${t.hash} ${item.orgId}/${item.type}/${item.id} ${lvl}`).toEqual(
          decide(naive, `x.${lvl}`, def, item, T0, { inactivityMs: WINDOW }),
        );
      }
      // The decision reads exactly the item's shares whose grantee includes the subject (the core's granteeIncludes).
      const crossOrg = item.orgId !== t.orgId;
      const included = listed.filter((s) => granteeIncludes(input.compiled, s.grantee, s.grantee.kind === "site" ? paths[s.grantee.siteId] : undefined, crossOrg));
      expect(grantsUnder(input.shares, input.compiled, crossOrg).map((g) => g.id)).toEqual(included.map((s) => s.id));
    }
  }
}

describe("R13 R14 R15 decisions over the grantee-filtered shares equal decisions over every share of the item", () => {
  it("memory store", async () => {
    await fc.assert(
      fc.asyncProperty(directory, async (d) => {
        const store = memoryStore();
        await build(store, d);
        await compare(store);
      }),
      { numRuns: 150 },
    );
  });

  describe("keyward/postgres (PGlite)", () => {
    const opened: TestStore[] = [];
    afterAll(async () => {
      for (const t of opened) await t.cleanup();
    });
    it("postgres store", async () => {
      await fc.assert(
        fc.asyncProperty(directory, async (d) => {
          const t = await pgliteStore();
          opened.push(t);
          await build(t.store, d);
          await compare(t.store);
          await t.cleanup();
          opened.pop();
        }),
        { numRuns: 12 },
      );
    }, 120_000);
  });
});
