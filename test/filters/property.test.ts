/**
 * The law that makes list filters trustworthy, over random directories, items and tokens:
 * for every item, `filter.matches(item)` ⇔ `authorize(token, action, item).allowed`; a refusal of
 * `accessible()` is the refusal `authorize()` gives for every item; and the filter's SQL
 * condition, run by a real PostgreSQL over a host table holding the same items, selects exactly
 * the items `matches` accepts (and its negation exactly the others).
 *
 * Each store in `stores` runs the whole law; adding a store is one line. The PostgreSQL store runs
 * on PGlite always and on the server when KEYWARD_PG_URL is set.
 */
import fc from "fast-check";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyward, KeywardError, type AccessLevel, type Grantee, type ItemRef, type KeywardStore, type TokenRestriction } from "../../src/index.js";
import { accessFilter, generateToken } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { pgDriver, pgliteDriver, postgresStore, type SqlDriver } from "../../src/postgres.js";
import { freshSchema, IN_CI, newPool, PG_URL, sharedPglite } from "../storage/postgres/support.js";
import { COLUMNS, openItemsDb, type ItemsDb } from "./items-db.js";

/**
 * A fresh, empty PostgreSQL store: a new schema per property run on `driver` (one PGlite per file,
 * or one pool on the server), migrated; its `close()` drops the schema.
 */
async function pgStore(driver: SqlDriver): Promise<KeywardStore> {
  const schema = freshSchema();
  const store = postgresStore({ driver, schema });
  await store.migrate();
  return {
    ...store,
    async close() {
      await store.close();
      await driver.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}
let serverPool: pg.Pool | undefined;
afterAll(async () => {
  await serverPool?.end();
});

const RUNS = Number(process.env.FILTER_RUNS ?? 100);
/** A run costs a few hundred statements on PostgreSQL (a schema, the world, every decision): fewer runs there. */
const PG_RUNS = Number(process.env.FILTER_PG_RUNS ?? 25);

/** The stores the law runs on. A store is one line: `{ name, make, runs }`, `make` returning a fresh, empty store. */
const stores: { name: string; make: () => Promise<KeywardStore>; runs: number }[] = [
  { name: "memory", make: async () => memoryStore(), runs: RUNS },
  { name: "postgres (PGlite)", make: async () => pgStore(pgliteDriver(await sharedPglite())), runs: PG_RUNS },
];
if (PG_URL !== undefined) stores.push({ name: "postgres (server)", make: async () => pgStore(pgDriver((serverPool ??= newPool()))), runs: PG_RUNS });

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const ORGS = ["acme", "beta"] as const;
const TYPES = ["inspection", "template"] as const;
const LEVELS = ["view", "edit", "delete"] as const;
const TEMPLATES = ["tpl_0", "tpl_1", "tpl_2"];
const USERS = 4;
const SERVICE_USERS = [{ org: 0 }, { org: 0 }, { org: 1 }];

const ACTIONS = {
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
  "inspections.delete": { permission: "inspections:delete", access: "delete", item: "inspection" },
  "templates.view": { permission: "templates:view", access: "view", item: "template" },
  "templates.edit": { permission: "templates:edit", access: "edit", item: "template" },
  "reports.export": { permission: "reports:export" },
} as const;
type Action = keyof typeof ACTIONS;
const ITEM_ACTIONS = (Object.keys(ACTIONS) as Action[]).filter((a) => "item" in ACTIONS[a]);
const PERMISSIONS = [...new Set(Object.values(ACTIONS).map((a) => a.permission))];

// ── the random world, as plain data ─────────────────────────────────────────────────────────

const orgIdx = fc.integer({ min: 0, max: ORGS.length - 1 });
const level = fc.constantFrom(...LEVELS);

/** Per organization: sites (each below an earlier one or a root), permission sets (the first holds every permission). */
const orgSpec = fc.record({
  siteParents: fc.array(fc.option(fc.nat(), { nil: null }), { maxLength: 5 }),
  sets: fc.tuple(fc.constant(PERMISSIONS), fc.subarray(PERMISSIONS), fc.subarray(PERMISSIONS)),
});

const membershipSpec = fc.option(
  fc.record({ set: fc.option(fc.constantFrom(0, 0, 1, 2), { nil: null, freq: 6 }), groups: fc.subarray([0, 1]), sites: fc.array(fc.nat(), { maxLength: 2 }) }),
  { nil: null, freq: 3 },
);

/** A grantee, resolved against the owner organization (groups and sites are its own). */
const granteeSpec = fc.oneof(
  fc.record({ kind: fc.constant("user" as const), user: fc.integer({ min: 0, max: USERS - 1 }) }),
  fc.record({ kind: fc.constant("service_user" as const), su: fc.integer({ min: 0, max: SERVICE_USERS.length - 1 }) }),
  fc.record({ kind: fc.constant("group" as const), group: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant("site" as const), site: fc.nat() }),
  fc.record({ kind: fc.constant("organization" as const), org: orgIdx, includeServiceUsers: fc.boolean() }),
);

const itemSpec = fc.record({
  org: orgIdx,
  type: fc.constantFrom(...TYPES),
  id: fc.integer({ min: 0, max: 4 }),
  site: fc.option(fc.record({ org: orgIdx, site: fc.nat() }), { nil: null }),
  template: fc.option(fc.constantFrom(...TEMPLATES), { nil: null }),
});

const ruleSpec = fc.record({
  org: orgIdx,
  type: fc.constantFrom(...TYPES),
  sites: fc.option(fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), { nil: null }),
  templates: fc.option(fc.subarray(TEMPLATES, { minLength: 1 }), { nil: null }),
  grantee: granteeSpec,
  level,
});

/** R17: a restriction (lists as indexes, resolved against the token's organization); `null`: a full-access token. */
const restrictionSpec = fc.option(
  fc.record(
    {
      permissions: fc.subarray(PERMISSIONS),
      maxLevel: fc.constantFrom("view" as const, "edit" as const),
      itemTypes: fc.subarray([...TYPES]),
      groups: fc.subarray([0, 1]),
      sites: fc.array(fc.nat(), { maxLength: 2 }),
      items: fc.array(fc.nat(), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  { nil: null, freq: 2 },
);

const tokenSpec = fc.record({
  restriction: restrictionSpec,
  subject: fc.oneof(
    fc.record({ kind: fc.constant("user" as const), user: fc.integer({ min: 0, max: USERS - 1 }), org: orgIdx }),
    fc.record({ kind: fc.constant("service_user" as const), su: fc.integer({ min: 0, max: SERVICE_USERS.length - 1 }) }),
  ),
  /** Created 35 days before the check (a user token then expired, R6) or 5 days before. */
  old: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  then: fc.oneof(
    { arbitrary: fc.constant("nothing" as const), weight: 6 },
    { arbitrary: fc.constantFrom("revoke", "deactivate", "reactivate", "remove", "delete_service_user"), weight: 5 },
  ),
});

const worldSpec = fc.record({
  orgs: fc.array(orgSpec, { minLength: ORGS.length, maxLength: ORGS.length }),
  members: fc.array(fc.array(membershipSpec, { minLength: ORGS.length, maxLength: ORGS.length }), { minLength: USERS, maxLength: USERS }),
  suSets: fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }), { minLength: SERVICE_USERS.length, maxLength: SERVICE_USERS.length }),
  items: fc.array(itemSpec, { minLength: 1, maxLength: 14 }),
  shares: fc.array(fc.record({ item: fc.nat(), grantee: granteeSpec, level }), { maxLength: 14 }),
  rules: fc.array(ruleSpec, { maxLength: 5 }),
  tokens: fc.array(tokenSpec, { minLength: 1, maxLength: 6 }),
});
type WorldSpec = typeof worldSpec extends fc.Arbitrary<infer T> ? T : never;

// ── building it through the public API ──────────────────────────────────────────────────────

const siteId = (o: number, s: number) => `${ORGS[o]!}_site${s}`;
const groupId = (o: number, g: number) => `${ORGS[o]!}_grp${g}`;
const setId = (o: number, s: number) => `${ORGS[o]!}_ps${s}`;
const suId = (i: number) => `svc_${i}`;
const admin = (o: number) => `admin_${ORGS[o]!}`;

async function build(store: KeywardStore, spec: WorldSpec) {
  const clock = { now: T0 };
  const kw = createKeyward({ store, actions: ACTIONS, clock: () => clock.now, verifyPassword: () => true });
  const d = kw.directory;
  const siteCount: number[] = [];
  for (let o = 0; o < ORGS.length; o++) {
    const org = spec.orgs[o]!;
    await d.createOrganization({ id: ORGS[o]!, name: ORGS[o]! });
    for (let s = 0; s < 3; s++) await d.createPermissionSet({ id: setId(o, s), orgId: ORGS[o]!, name: `set ${s}`, permissions: org.sets[s]! });
    await d.createPermissionSet({ id: `${ORGS[o]!}_admin`, orgId: ORGS[o]!, name: "admin", permissions: ["service_users:manage", "api_tokens:manage", ...PERMISSIONS] }); // a manager gives only what they hold (issue 11 #1)
    for (let g = 0; g < 2; g++) await d.createGroup({ id: groupId(o, g), orgId: ORGS[o]!, name: `group ${g}` });
    for (let s = 0; s < org.siteParents.length; s++) {
      const p = org.siteParents[s];
      await d.createSite({ id: siteId(o, s), orgId: ORGS[o]!, name: `site ${s}`, parentId: s === 0 || p === null || p === undefined ? null : siteId(o, p % s) });
    }
    siteCount.push(org.siteParents.length);
    await d.upsertUser({ id: admin(o), name: `Admin ${o}` });
    await d.addMember({ orgId: ORGS[o]!, userId: admin(o), permissionSetId: `${ORGS[o]!}_admin` });
  }
  const site = (o: number, s: number) => (siteCount[o]! === 0 ? null : siteId(o, s % siteCount[o]!));
  for (let u = 0; u < USERS; u++) {
    await d.upsertUser({ id: `u${u}`, name: `User ${u}` });
    for (let o = 0; o < ORGS.length; o++) {
      const m = spec.members[u]![o];
      if (m === null || m === undefined) continue;
      const sites = [...new Set(m.sites.map((s) => site(o, s)).filter((s): s is string => s !== null))];
      await d.addMember({ orgId: ORGS[o]!, userId: `u${u}`, permissionSetId: m.set === null ? null : setId(o, m.set), groupIds: m.groups.map((g) => groupId(o, g)), siteIds: sites });
    }
  }
  for (let i = 0; i < SERVICE_USERS.length; i++) {
    const o = SERVICE_USERS[i]!.org;
    const set = spec.suSets[i];
    await kw.serviceUsers.create({ id: suId(i), orgId: ORGS[o]!, name: `Service ${i}`, permissionSetId: set === null || set === undefined ? null : setId(o, set), actorId: admin(o) });
  }

  const items = new Map<string, ItemRef>();
  for (const it of spec.items) {
    const s = it.site === null ? null : site(it.site.org, it.site.site);
    const attributes: Record<string, string> = {};
    if (s !== null) attributes.siteId = s;
    if (it.template !== null) attributes.templateId = it.template;
    const item: ItemRef = { orgId: ORGS[it.org]!, type: it.type, id: `i${it.id}`, attributes };
    items.set(`${item.orgId}/${item.type}/${item.id}`, item);
  }
  const itemList = [...items.values()];

  /** The grantee spec in the owner organization `o`; `null` when it names a site the organization lacks. */
  const grantee = (g: WorldSpec["shares"][number]["grantee"], o: number): Grantee | null => {
    switch (g.kind) {
      case "user":
        return { kind: "user", userId: `u${g.user}` };
      case "service_user":
        return { kind: "service_user", serviceUserId: suId(g.su) };
      case "group":
        return { kind: "group", groupId: groupId(o, g.group) };
      case "site": {
        const s = site(o, g.site);
        return s === null ? null : { kind: "site", siteId: s };
      }
      case "organization":
        return { kind: "organization", orgId: ORGS[g.org]!, includeServiceUsers: g.includeServiceUsers };
    }
  };
  for (const sh of spec.shares) {
    const item = itemList[sh.item % itemList.length]!;
    const g = grantee(sh.grantee, ORGS.indexOf(item.orgId as (typeof ORGS)[number]));
    if (g !== null) await d.share({ item: { orgId: item.orgId, type: item.type, id: item.id }, grantee: g, level: sh.level });
  }
  for (const r of spec.rules) {
    const g = grantee(r.grantee, r.org);
    if (g === null) continue;
    const conditions: Record<string, string[]> = {};
    if (r.sites !== null) {
      const ids = [...new Set(r.sites.map((s) => site(r.org, s)).filter((s): s is string => s !== null))];
      if (ids.length > 0) conditions.siteId = ids;
    }
    if (r.templates !== null) conditions.templateId = r.templates;
    await d.addRule({ orgId: ORGS[r.org]!, itemType: r.type, conditions, grantee: g, level: r.level });
  }

  // Tokens: created 35 or 5 days before the check, then perhaps revoked, or their subject changed.
  const tokens: { label: string; secret: unknown; orgId?: string; twin?: string }[] = [
    { label: "malformed", secret: "kwu_not-a-token" },
    { label: "unknown", secret: generateToken("user") },
  ];
  const after: (() => Promise<unknown>)[] = [];
  for (const [n, t] of spec.tokens.entries()) {
    clock.now = T0 + (t.old ? 0 : 30 * DAY) + n;
    let created: { token: string; record: { id: string } } | null = null;
    let twin: string | undefined;
    const tokenOrg = t.subject.kind === "user" ? t.subject.org : SERVICE_USERS[t.subject.su]!.org;
    const r = t.restriction;
    /** The restriction in the token's organization; `reduced`: without what creation may refuse (permissions not held, groups and sites not the subject's). */
    const restrictionOf = (reduced: boolean): TokenRestriction | null => {
      if (r === null) return null;
      const out: { -readonly [K in keyof TokenRestriction]: TokenRestriction[K] } = {};
      if (r.maxLevel !== undefined) out.maxLevel = r.maxLevel;
      if (r.itemTypes !== undefined) out.itemTypes = r.itemTypes;
      if (r.items !== undefined) out.items = r.items.map((i) => itemList[i % itemList.length]!).map(({ orgId, type, id }) => ({ orgId, type, id }));
      if (reduced) return out;
      if (r.permissions !== undefined) out.permissions = r.permissions;
      if (r.groups !== undefined) out.groupIds = r.groups.map((g) => groupId(tokenOrg, g));
      if (r.sites !== undefined) out.siteIds = r.sites.map((x) => site(tokenOrg, x)).filter((x): x is string => x !== null);
      return out;
    };
    const create = async (restriction: TokenRestriction | null) => {
      if (t.subject.kind === "user") {
        return kw.tokens.createUserToken({ orgId: ORGS[t.subject.org]!, userId: `u${t.subject.user}`, name: `t${n}`, password: "pw", restriction });
      }
      return kw.tokens.createServiceToken({ orgId: ORGS[tokenOrg]!, serviceUserId: suId(t.subject.su), name: `t${n}`, actorId: admin(tokenOrg), restriction });
    };
    try {
      try {
        created = await create(restrictionOf(false));
      } catch (e) {
        // R17: creation refuses what the subject does not hold; the rest of the restriction still applies.
        if (!(e instanceof KeywardError) || (e.code !== "permission_not_held" && e.code !== "invalid_input")) throw e;
        created = await create(restrictionOf(true));
      }
      if (r !== null) twin = (await create(null)).token;
    } catch {
      if (created === null) continue; // not a member there, limit reached, or the subject is gone already
    }
    const token = created;
    tokens.push({ label: `${t.subject.kind} ${JSON.stringify(t.subject)} ${t.old ? "old" : "new"} then ${t.then}`, secret: token.token, orgId: ORGS[tokenOrg]!, ...(twin === undefined ? {} : { twin }) });
    const subject = t.subject;
    const orgId = subject.kind === "user" ? ORGS[subject.org]! : ORGS[SERVICE_USERS[subject.su]!.org]!;
    const userId = subject.kind === "user" ? `u${subject.user}` : null;
    if (t.then === "revoke") {
      after.push(() => (userId === null ? kw.tokens.revoke({ orgId, tokenId: token.record.id, actorId: admin(ORGS.indexOf(orgId)) }) : kw.tokens.revoke({ orgId, tokenId: token.record.id, actorId: userId })));
    } else if (userId !== null && (t.then === "deactivate" || t.then === "reactivate" || t.then === "remove")) {
      after.push(async () => {
        if (t.then === "remove") return d.removeMember({ orgId, userId });
        await d.deactivateMember({ orgId, userId });
        if (t.then === "reactivate") await d.reactivateMember({ orgId, userId });
      });
    } else if (userId === null && t.then === "delete_service_user" && subject.kind === "service_user") {
      after.push(() => kw.serviceUsers.remove({ orgId, id: suId(subject.su), actorId: admin(ORGS.indexOf(orgId)) }));
    }
  }
  for (const f of after) await f().catch(() => undefined); // e.g. deactivating someone who left already
  clock.now = T0 + 35 * DAY;
  return { kw, items: itemList, tokens, d };
}

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the filter law runs on the PostgreSQL server store", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the list-filter law would silently not run on the server");
  });
}

const key = (i: { org_id?: string; orgId?: string; type: string; id: string }) => `${i.orgId ?? i.org_id}/${i.type}/${i.id}`;

/**
 * R17 (1): a restricted token's decisions ⊆ its unrestricted twin's (same subject, read fresh), on
 * every item; a denial says `restricted` exactly when the twin was allowed (a scope refusal: when
 * the twin passed the permission stage).
 */
async function expectWithinTwin(kw: Awaited<ReturnType<typeof build>>["kw"], secret: unknown, twin: string, action: Action, items: ItemRef[]): Promise<void> {
  for (const item of items) {
    const d = await kw.authorize(secret, action, item);
    const t = await kw.authorize(twin, action, item);
    if (d.allowed) expect(t.allowed).toBe(true);
    if (!d.allowed && d.reason === "access_denied") expect(d.restricted === true).toBe(t.allowed);
    if (!d.allowed && d.reason === "permission_denied") expect(d.restricted === true).toBe(t.allowed || t.reason === "access_denied");
  }
}

describe.each(stores)("list filters on the $name store", ({ make, runs }) => {
  let db: ItemsDb;
  beforeAll(async () => {
    db = await openItemsDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("R13 R14 R15 R17 filter.matches(item) ⇔ authorize(token, action, item).allowed for every item, restricted tokens included; a refusal is authorize()'s; the SQL condition selects exactly the same rows; a restricted token ⊆ its twin, and loses what its subject loses at once", async () => {
    await fc.assert(
      fc.asyncProperty(worldSpec, async (spec) => {
        const store = await make();
        try {
          const built = await build(store, spec);
          const { kw, items, tokens } = built;
          await db.load(items);
          for (const { secret, twin } of tokens) {
            for (const action of ITEM_ACTIONS) {
              const itemType = (ACTIONS[action] as { item: string }).item;
              const access = await kw.accessible(secret, action, itemType);
              const ofType = items.filter((i) => i.type === itemType);
              const decisions = await Promise.all(ofType.map((item) => kw.authorize(secret, action, item)));
              const byKey = new Map(ofType.map((item, n) => [key(item), decisions[n]!]));
              if (twin !== undefined) await expectWithinTwin(kw, secret, twin, action, ofType);
              if (!access.allowed) {
                expect(access.reason).not.toBe("access_denied");
                for (const item of ofType) expect(byKey.get(key(item))).toMatchObject({ allowed: false, reason: access.reason });
                continue;
              }
              const { filter } = access;
              const copy = accessFilter(JSON.parse(JSON.stringify(filter)));
              for (const item of items) {
                const matches = filter.matches(item);
                if (item.type !== itemType) {
                  expect(matches).toBe(false);
                  continue;
                }
                const d = byKey.get(key(item))!;
                expect(d.reason === "allowed" || d.reason === "access_denied").toBe(true);
                expect(matches).toBe(d.allowed);
                expect(copy.matches(item)).toBe(matches);
              }
              const expected = items.filter((i) => filter.matches(i)).map(key).sort();
              const where = filter.toSql({ columns: COLUMNS, alias: "i" });
              const selected = await db.rows<{ org_id: string; type: string; id: string }>(`SELECT i.org_id, i.type, i.id FROM $TABLE i WHERE ${where.text}`, where.values);
              expect(selected.map(key).sort()).toEqual(expected);
              const rest = await db.rows<{ org_id: string; type: string; id: string }>(`SELECT i.org_id, i.type, i.id FROM $TABLE i WHERE NOT ${where.text}`, where.values);
              const complement = items.filter((i) => !filter.matches(i)).map(key).sort();
              expect(rest.map(key).sort()).toEqual(complement);
            }
          }
          // R17 (3): the subject loses a permission and a group; every restricted token loses them at the next decision.
          const { d } = built;
          for (let s = 0; s < 3; s++) {
            const set = spec.orgs[0]!.sets[s]!;
            await d.updatePermissionSet({ orgId: ORGS[0], id: setId(0, s), permissions: set.filter((p) => p !== "inspections:view") });
          }
          for (let u = 0; u < USERS; u++) await d.removeFrom({ orgId: ORGS[0], subjectId: `u${u}`, groupId: groupId(0, 0) }).catch(() => undefined);
          for (const { secret, twin, orgId } of tokens) {
            if (twin === undefined) continue;
            for (const action of ITEM_ACTIONS) {
              const ofType = items.filter((i) => i.type === (ACTIONS[action] as { item: string }).item);
              await expectWithinTwin(kw, secret, twin, action, ofType);
              if (orgId === ORGS[0] && action === "inspections.view") {
                for (const item of ofType) expect((await kw.authorize(secret, action, item)).allowed).toBe(false);
                expect((await kw.accessible(secret, action, "inspection")).allowed).toBe(false);
              }
            }
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: runs },
    );
  }, 180_000);
});
