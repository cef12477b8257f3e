/**
 * Issue 11 #1 (R11, R12): a service-user manager cannot hand out permissions they do not hold.
 * `serviceUsers.create` and `update` refuse a permission set that is not a subset of the actor's
 * current permissions (`forbidden`, field `permissionSetId`), `tokens.createServiceToken` refuses
 * to mint a token for a service user whose permissions exceed the actor's (`forbidden`, field
 * `serviceUserId`), and the management router accepts only a `permissionSetId` its
 * `permissionSets` hook offers. The law: no sequence of management calls by an actor yields a
 * token with a permission the actor lacks (fast-check, against a model of the permissions).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createKeyward, type KeywardStore } from "../../src/index.js";
import { CSRF_HEADER, managementRouter } from "../../src/manage/index.js";
import { memoryStore } from "../../src/memory.js";
import { caught, world, type World } from "../core/fixture.js";
import { describeStores, type StoreUnderTest } from "./stores.js";

/** Sue holds only `service_users:manage` in acme. */
async function withManager(w: World) {
  const d = w.kw.directory;
  await d.upsertUser({ id: "u_sue", name: "Sue Manager" });
  const onlyManage = await d.createPermissionSet({ id: "ps_sum", orgId: "acme", name: "Service-user manager", permissions: ["service_users:manage"] });
  await d.addMember({ orgId: "acme", userId: "u_sue", permissionSetId: onlyManage.id });
  return onlyManage;
}

describeStores("issue 11 #1 R11 a service-user manager cannot hand out permissions they lack", (make) => {
  let t: StoreUnderTest;
  afterEach(async () => t.cleanup());

  it("issue 11 #1 serviceUsers.create refuses the administrator's permission set: forbidden naming permissionSetId, nothing created", async () => {
    t = await make();
    const w = await world({ store: t.store });
    await withManager(w);
    const e = await caught(() => w.kw.serviceUsers.create({ orgId: "acme", name: "Escalator", permissionSetId: w.sets.admin.id, actorId: "u_sue" }));
    expect(e).toMatchObject({ code: "forbidden", field: "permissionSetId" });
    expect((await w.kw.serviceUsers.list({ orgId: "acme", actorId: "u_sue" })).map((s) => s.name)).toEqual(["BI export"]);
  });

  it("issue 11 #1 serviceUsers.update refuses to raise a service user to a set the actor does not hold", async () => {
    t = await make();
    const w = await world({ store: t.store });
    const mine = await withManager(w);
    const su = await w.kw.serviceUsers.create({ orgId: "acme", name: "Mine", permissionSetId: mine.id, actorId: "u_sue" });
    const e = await caught(() => w.kw.serviceUsers.update({ orgId: "acme", id: su.id, permissionSetId: w.sets.admin.id, actorId: "u_sue" }));
    expect(e).toMatchObject({ code: "forbidden", field: "permissionSetId" });
    expect((await t.store.getServiceUser(su.id))?.permissionSetId).toBe(mine.id);
  });

  it("issue 11 #1 createServiceToken refuses a service user whose permissions exceed the actor's", async () => {
    t = await make();
    const w = await world({ store: t.store });
    await withManager(w);
    // "BI export" was created by the administrator with inspections and reports permissions
    const e = await caught(() => w.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: w.bot.id, name: "mine now", actorId: "u_sue" }));
    expect(e).toMatchObject({ code: "forbidden", field: "serviceUserId" });
    expect((await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada" })).items).toEqual([]);
  });

  it("issue 11 #1 a set within the actor's permissions, or none, is accepted; the administrator may give any set", async () => {
    t = await make();
    const w = await world({ store: t.store });
    const mine = await withManager(w);
    expect((await w.kw.serviceUsers.create({ orgId: "acme", name: "Peer", permissionSetId: mine.id, actorId: "u_sue" })).permissionSetId).toBe(mine.id);
    const bare = await w.kw.serviceUsers.create({ orgId: "acme", name: "Bare", actorId: "u_sue" });
    expect((await w.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: bare.id, name: "t", actorId: "u_sue" })).token).toMatch(/^kws_/);
    expect((await w.kw.serviceUsers.create({ orgId: "acme", name: "Full", permissionSetId: w.sets.admin.id, actorId: "u_ada" })).permissionSetId).toBe(w.sets.admin.id);
  });
});

describe("issue 11 #1 the management router accepts only the permission sets it offers", () => {
  async function setUp() {
    const w = await world();
    await withManager(w);
    const router = managementRouter(w.kw, {
      session: (r) => ({ orgId: "acme", userId: r.headers.get("x-user") ?? "u_ada" }),
      permissionSets: () => [{ id: "ps_sum", name: "Manager" }, { id: "ps_admin", name: "Administrator" }],
    });
    const post = (userId: string, body: unknown) =>
      router.fetch(new Request("http://app.test/api/service-users", { method: "POST", headers: { "content-type": "application/json", [CSRF_HEADER]: "1", "x-user": userId }, body: JSON.stringify(body) }));
    return { w, post };
  }

  it("issue 11 #1 a permissionSetId the hook does not offer is 400 invalid_input naming the field, even for the administrator", async () => {
    const { post } = await setUp();
    const res = await post("u_ada", { name: "Sneaky", permissionSetId: "ps_bot" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_input", field: "permissionSetId" });
  });

  it("issue 11 #1 an offered set beyond the actor's permissions is 403 forbidden naming the field", async () => {
    const { post } = await setUp();
    const res = await post("u_sue", { name: "Escalator", permissionSetId: "ps_admin" });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "forbidden", field: "permissionSetId" });
    expect((await post("u_sue", { name: "Fine", permissionSetId: "ps_sum" })).status).toBe(201);
  });
});

// ── the law ──────────────────────────────────────────────────────────────────────────────────
const PERMS: readonly string[] = ["p:a", "p:b", "p:c", "service_users:manage"];
const ACTIONS = Object.fromEntries(PERMS.map((p) => [`do.${p}`, { permission: p }])) as Record<string, { permission: string }>;
const SETS = ["ps_0", "ps_1", "ps_2", "ps_3"] as const;
const permsArb = fc.subarray([...PERMS]);
type Cmd =
  | { op: "updateSet"; set: number; permissions: string[] }
  | { op: "actorSet"; set: number }
  | { op: "create"; set: number | null }
  | { op: "update"; su: number; set: number | null }
  | { op: "token"; su: number };
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant("updateSet" as const), set: fc.nat(3), permissions: permsArb }),
  fc.record({ op: fc.constant("actorSet" as const), set: fc.nat(3) }),
  fc.record({ op: fc.constant("create" as const), set: fc.option(fc.nat(3), { nil: null }) }),
  fc.record({ op: fc.constant("update" as const), su: fc.nat(5), set: fc.option(fc.nat(3), { nil: null }) }),
  fc.record({ op: fc.constant("token" as const), su: fc.nat(5) }),
);

async function runLaw(store: KeywardStore, initial: string[][], cmds: Cmd[]): Promise<void> {
  const kw = createKeyward({ store, actions: ACTIONS, limits: { serviceTokensPerOrg: 1000 } });
  const d = kw.directory;
  await d.createOrganization({ id: "org", name: "Org" });
  await d.upsertUser({ id: "u_actor", name: "Actor" });
  // the model: each set's permissions, and which set the actor holds
  const model = SETS.map((_, i) => new Set(initial[i]));
  for (const [i, id] of SETS.entries()) await d.createPermissionSet({ id, orgId: "org", name: id, permissions: initial[i]! });
  let actorSet = 0;
  await d.addMember({ orgId: "org", userId: "u_actor", permissionSetId: SETS[0] });
  const sus: { id: string; set: number | null }[] = [];
  const held = () => model[actorSet]!;
  const within = (set: number | null) => set === null || [...model[set]!].every((p) => held().has(p));
  for (const c of cmds) {
    if (c.op === "updateSet") {
      await d.updatePermissionSet({ orgId: "org", id: SETS[c.set]!, permissions: c.permissions });
      model[c.set] = new Set(c.permissions);
    } else if (c.op === "actorSet") {
      await d.updateMember({ orgId: "org", userId: "u_actor", permissionSetId: SETS[c.set]! });
      actorSet = c.set;
    } else if (c.op === "create") {
      const ok = await kw.serviceUsers.create({ orgId: "org", name: "su", permissionSetId: c.set === null ? null : SETS[c.set]!, actorId: "u_actor" }).then(
        (su) => (sus.push({ id: su.id, set: c.set }), true),
        () => false,
      );
      expect(ok).toBe(held().has("service_users:manage") && within(c.set));
    } else if (c.op === "update") {
      const su = sus[c.su % Math.max(1, sus.length)];
      if (su === undefined) continue;
      const ok = await kw.serviceUsers.update({ orgId: "org", id: su.id, permissionSetId: c.set === null ? null : SETS[c.set]!, actorId: "u_actor" }).then(() => true, () => false);
      expect(ok).toBe(held().has("service_users:manage") && within(c.set));
      if (ok) su.set = c.set;
    } else {
      const su = sus[c.su % Math.max(1, sus.length)];
      if (su === undefined) continue;
      const created = await kw.tokens.createServiceToken({ orgId: "org", serviceUserId: su.id, name: "t", actorId: "u_actor" }).catch(() => null);
      expect(created !== null).toBe(held().has("service_users:manage") && within(su.set));
      if (created === null) continue;
      // What the new token may do, asked through authorize(): never a permission the actor lacks.
      for (const p of PERMS) {
        if ((await kw.authorize(created.token, `do.${p}`)).allowed) expect(held().has(p)).toBe(true);
      }
    }
  }
}

describe("issue 11 #1 R11 law: no sequence of management calls by an actor yields a token with a permission the actor lacks", () => {
  const initial = fc.tuple(permsArb, permsArb, permsArb, permsArb).map((sets) => {
    sets[0] = [...new Set([...sets[0], "service_users:manage"])]; // the actor starts as a manager
    return sets;
  });

  it("issue 11 #1 on the memory store", async () => {
    await fc.assert(fc.asyncProperty(initial, fc.array(cmdArb, { maxLength: 25 }), (sets, cmds) => runLaw(memoryStore(), sets, cmds)), { numRuns: 150, endOnFailure: true });
  });

  describeStores("issue 11 #1 on every store", (make) => {
    it("issue 11 #1 holds", async () => {
      await fc.assert(
        fc.asyncProperty(initial, fc.array(cmdArb, { maxLength: 15 }), async (sets, cmds) => {
          const t = await make();
          try {
            await runLaw(t.store, sets, cmds);
          } finally {
            await t.cleanup();
          }
        }),
        { numRuns: 12, endOnFailure: true },
      );
    }, 60_000);
  });
});
