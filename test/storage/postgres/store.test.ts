/**
 * The PostgreSQL store beyond the conformance suite, on PGlite always and on the real server
 * when KEYWARD_PG_URL is set: migrations and the exported SQL, schema isolation, one round trip
 * per decision, coalesced last use (R6), configuration checks, faults that fail closed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createKeyward, KeywardError } from "../../../src/index.js";
import { createHash } from "node:crypto";
import { migrationSql, pgliteDriver, postgresStore, type SqlDriver } from "../../../src/postgres.js";
import { bootstrapStatements, migrations, queries } from "../../../src/storage/postgres/sql.js";
import { ACTIONS, caught, DAY, MINUTE, PASSWORD, T0, THIRTY_DAYS, world } from "../../core/fixture.js";
import { counting, eventually, freshSchema, PG_URL, pgliteStore, serverStore, sharedPglite, type TestStore } from "./support.js";

/** sha256 of migration 1's statements (joined by newlines) as released: migration 1 never changes. */
const MIGRATION_1_SHA256 = "736a00c550543e80bf0e20acf3e9101e3305ef907cc42f707c2e85756a96f403";

/** Creates `schema` at `version`: the bootstrap, then migrations 1 to `version` applied and recorded, as a store of that version left it. */
async function schemaAt(raw: SqlDriver, schema: string, version: number): Promise<void> {
  for (const statement of bootstrapStatements(schema)) await raw.query(statement);
  for (const m of migrations(schema).slice(0, version)) {
    for (const statement of m.statements) await raw.query(statement);
    await raw.query(`INSERT INTO "${schema}".keyward_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
  }
}

const targets: [string, (extra?: Parameters<typeof pgliteStore>[0], schema?: string) => Promise<TestStore>][] = [["PGlite", pgliteStore]];
if (PG_URL !== undefined) targets.push(["pg Pool", serverStore]);

describe.each(targets)("postgres store on %s", (_name, make) => {
  const open: TestStore[] = [];
  const fresh = async (extra?: Parameters<typeof pgliteStore>[0], schema?: string) => {
    const t = await make(extra, schema);
    open.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of open.splice(0)) await t.cleanup();
  });

  describe("schema", () => {
    it("migrate() is versioned and idempotent: the first run applies versions 1 to 7, later runs nothing", async () => {
      const t = await fresh();
      expect(await t.store.migrate()).toEqual([]);
      const versions = await t.raw.query(`SELECT version FROM "${t.schema}".keyward_migrations ORDER BY version`);
      expect(versions.map((r) => Number(r.version))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const other = freshSchema();
      const s2 = postgresStore({ driver: t.raw, schema: other });
      try {
        expect(await s2.migrate()).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(await s2.migrate()).toEqual([]);
      } finally {
        await s2.close();
        await t.raw.query(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
      }
    });

    it("migration 1 is frozen: its statements are exactly those released (a change goes into a new version)", () => {
      const text = migrations("keyward")[0]!.statements.join("\n");
      expect(createHash("sha256").update(text).digest("hex")).toBe(MIGRATION_1_SHA256);
      expect(migrations("keyward").map((m) => [m.version, m.name])).toEqual([
        [1, "initial schema"],
        [2, "grantee indexes for list filters"],
        [3, "revocation cause"],
        [4, "cache leases"],
        [5, "indexes for paged listings"],
        [6, "token lifecycle: restriction, expiry, rotation, warnings, clients, policy"],
        [7, "site paths on site grants, user names on memberships"],
      ]);
    });

    it("a schema at version 1 with data upgrades to versions 2 to 7 (the grantee, site and listing indexes, the revocation cause, the cache leases, the token lifecycle columns, the site paths of grants and user names of memberships), keeps its rows, and migration 2 can run twice", async () => {
      const t = await fresh();
      const schema = freshSchema();
      try {
        await schemaAt(t.raw, schema, 1);
        // Written as version 1 wrote it (today's putShare fills in a column that version adds).
        await t.raw.query(
          `INSERT INTO "${schema}".shares (id, item_org_id, item_type, item_id, grantee, level, created_at) VALUES ('sh_1', 'acme', 'inspection', 'i_1', '{"kind":"user","userId":"ana"}', 'view', ${T0})`,
        );
        const v1 = postgresStore({ driver: t.raw, schema });
        expect(await v1.migrate()).toEqual([2, 3, 4, 5, 6, 7]);
        for (const statement of migrations(schema)[1]!.statements) await t.raw.query(statement);
        expect(await v1.migrate()).toEqual([]);
        const indexes = await t.raw.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`, [schema]);
        expect(indexes.map((r) => r.indexname)).toEqual(expect.arrayContaining(["rules_type_grantee", "shares_type_grantee", "sites_path", "tokens_org_kind_created", "memberships_org_status"]));
        expect((await v1.listShares({ orgId: "acme", type: "inspection", id: "i_1" })).map((s) => s.id)).toEqual(["sh_1"]);
        await v1.close();
      } finally {
        await t.raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });

    it("R22 migration 3 adds the revocation cause: a schema at version 2 with a revoked token upgrades, keeps it, and can run it twice", async () => {
      const t = await fresh();
      const schema = freshSchema();
      try {
        await schemaAt(t.raw, schema, 2);
        await t.raw.query(
          `INSERT INTO "${schema}".tokens (id, kind, org_id, subject_id, name, hash, hint, epoch, created_at, created_by, revoked_at) VALUES ('tok_old', 'user', 'acme', 'ana', 'old', 'h_old', 'kwu_…abcd', 'ep1', 1, 'ana', 2)`,
        );
        const store = postgresStore({ driver: t.raw, schema });
        expect(await store.migrate()).toEqual([3, 4, 5, 6, 7]);
        for (const statement of migrations(schema)[2]!.statements) await t.raw.query(statement);
        expect(await store.migrate()).toEqual([]);
        const old = (await store.getToken("tok_old"))!;
        expect(old.revokedAt).toBe(2);
        expect(old.revokedCause).toBeUndefined();
        await store.close();
      } finally {
        await t.raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });

    it("R13 migration 7 keeps the path of a grant's site on the grant and the user's name on each membership: a schema at version 6 with a site share, a site rule and memberships upgrades, and both grants still grant (and nothing else)", async () => {
      const t = await fresh();
      const schema = freshSchema();
      try {
        await schemaAt(t.raw, schema, 6);
        // Sites, a share and a rule as version 6 wrote them (no path on the grants).
        const s = `"${schema}"`;
        await t.raw.query(`INSERT INTO ${s}.sites (id, org_id, name, parent_id, path) VALUES ('s_r', 'acme', 'North', NULL, '{s_r}'), ('s_1', 'acme', 'Oslo', 's_r', '{s_r,s_1}'), ('s_x', 'acme', 'South', NULL, '{s_x}')`);
        await t.raw.query(
          `INSERT INTO ${s}.shares (id, item_org_id, item_type, item_id, grantee, level, created_at) VALUES ('sh_s', 'acme', 'inspection', 'i_1', '{"kind":"site","siteId":"s_1"}', 'edit', ${T0})`,
        );
        await t.raw.query(
          `INSERT INTO ${s}.rules (id, org_id, item_type, conditions, grantee, level, created_at) VALUES ('r_s', 'acme', 'inspection', '{"status":["open"]}', '{"kind":"site","siteId":"s_1"}', 'view', ${T0})`,
        );
        await t.raw.query(`INSERT INTO ${s}.users (id, name) VALUES ('u_old', 'Olga Old')`);
        await t.raw.query(
          `INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch) VALUES ('acme', 'u_old', NULL, '{}', '{}', 'active', false, 'e1'), ('beta', 'u_old', NULL, '{}', '{}', 'left', false, 'e2'), ('acme', 'u_nameless', NULL, '{}', '{}', 'active', false, 'e3')`,
        );
        const store = postgresStore({ driver: t.raw, schema });
        expect(await store.migrate()).toEqual([7]);
        expect(await t.raw.query(`SELECT org_id, user_id, user_name FROM ${s}.memberships ORDER BY org_id, user_id`)).toEqual([
          { org_id: "acme", user_id: "u_nameless", user_name: null },
          { org_id: "acme", user_id: "u_old", user_name: "Olga Old" },
          { org_id: "beta", user_id: "u_old", user_name: "Olga Old" },
        ]);
        for (const statement of migrations(schema)[6]!.statements) await t.raw.query(statement);
        expect(await store.migrate()).toEqual([]);
        const paths = await t.raw.query(`SELECT id, grantee_path FROM ${s}.shares UNION ALL SELECT id, grantee_path FROM ${s}.rules ORDER BY id`);
        expect(paths).toEqual([
          { id: "r_s", grantee_path: ["s_r", "s_1"] },
          { id: "sh_s", grantee_path: ["s_r", "s_1"] },
        ]);
        const kw = createKeyward({ store, actions: ACTIONS, clock: () => T0, verifyPassword: () => true });
        await kw.directory.createOrganization({ id: "acme", name: "Acme" });
        await kw.directory.createPermissionSet({ id: "ps", orgId: "acme", name: "Inspector", permissions: ["inspections:view", "inspections:edit"] });
        const tokenOf = async (userId: string, siteIds: string[]) => {
          await kw.directory.upsertUser({ id: userId, name: userId });
          await kw.directory.addMember({ orgId: "acme", userId, permissionSetId: "ps", siteIds });
          return (await kw.tokens.createUserToken({ orgId: "acme", userId, name: "t", password: PASSWORD })).token;
        };
        const north = await tokenOf("u_north", ["s_r"]);
        const south = await tokenOf("u_south", ["s_x"]);
        const shared = { orgId: "acme", type: "inspection", id: "i_1" };
        const open = { orgId: "acme", type: "inspection", id: "i_2", attributes: { status: "open" } };
        expect(await kw.authorize(north, "inspections.edit", shared)).toMatchObject({ allowed: true, grant: { source: "share", id: "sh_s", via: "site" } });
        expect(await kw.authorize(north, "inspections.view", open)).toMatchObject({ allowed: true, grant: { source: "rule", id: "r_s", via: "site" } });
        expect((await kw.authorize(south, "inspections.view", shared)).allowed).toBe(false);
        expect((await kw.authorize(south, "inspections.view", open)).allowed).toBe(false);
        const filterOf = async (token: string) => {
          const access = await kw.accessible(token, "inspections.view", "inspection");
          if (!access.allowed) throw new Error(access.reason);
          return access.filter;
        };
        const filter = await filterOf(north);
        expect(filter.matches(shared)).toBe(true);
        expect(filter.matches(open)).toBe(true);
        expect((await filterOf(south)).matches(shared)).toBe(false);
        await store.close();
      } finally {
        await t.raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });

    it("R13 after migration 7, rows written as version 6 wrote them (an older instance during a rolling deploy) still get the site's path and the user's name", async () => {
      const t = await fresh();
      const s = `"${t.schema}"`;
      await t.raw.query(`INSERT INTO ${s}.sites (id, org_id, name, parent_id, path) VALUES ('s_r', 'acme', 'North', NULL, '{s_r}'), ('s_1', 'acme', 'Oslo', 's_r', '{s_r,s_1}')`);
      await t.raw.query(
        `INSERT INTO ${s}.shares (id, item_org_id, item_type, item_id, grantee, level, created_at) VALUES ('sh_site', 'acme', 'inspection', 'i_1', '{"kind":"site","siteId":"s_1"}', 'edit', ${T0}), ('sh_user', 'acme', 'inspection', 'i_1', '{"kind":"user","userId":"u_1"}', 'view', ${T0})`,
      );
      await t.raw.query(`INSERT INTO ${s}.rules (id, org_id, item_type, conditions, grantee, level, created_at) VALUES ('r_site', 'acme', 'inspection', '{}', '{"kind":"site","siteId":"s_r"}', 'view', ${T0})`);
      await t.raw.query(`INSERT INTO ${s}.users (id, name) VALUES ('u_1', 'Una')`);
      await t.raw.query(`INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch) VALUES ('acme', 'u_1', NULL, '{}', '{s_r}', 'active', false, 'e1')`);
      const grants = async () => t.raw.query(`SELECT id, grantee_path FROM ${s}.shares UNION ALL SELECT id, grantee_path FROM ${s}.rules ORDER BY id`);
      expect(await grants()).toEqual([
        { id: "r_site", grantee_path: ["s_r"] },
        { id: "sh_site", grantee_path: ["s_r", "s_1"] },
        { id: "sh_user", grantee_path: null },
      ]);
      const names = async () => (await t.raw.query(`SELECT user_name FROM ${s}.memberships WHERE user_id = 'u_1'`)).map((r) => r.user_name);
      expect(await names()).toEqual(["Una"]);
      // A rename as version 6 made it (one statement on users), a membership update, and a user created after its membership.
      await t.raw.query(`UPDATE ${s}.users SET name = 'Una Renamed' WHERE id = 'u_1'`);
      expect(await names()).toEqual(["Una Renamed"]);
      await t.raw.query(`UPDATE ${s}.memberships SET seat = true WHERE user_id = 'u_1'`);
      expect(await names()).toEqual(["Una Renamed"]);
      await t.raw.query(`INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch) VALUES ('acme', 'u_2', NULL, '{}', '{}', 'active', false, 'e2')`);
      await t.raw.query(`INSERT INTO ${s}.users (id, name) VALUES ('u_2', 'Two')`);
      expect((await t.raw.query(`SELECT user_name FROM ${s}.memberships WHERE user_id = 'u_2'`))[0]!.user_name).toBe("Two");
    });

    it("R13 a share and a rule written (by the store, not the directory) before the site they name get its path when the site is written", async () => {
      const t = await fresh();
      const item = { orgId: "acme", type: "inspection", id: "i_1" };
      await t.store.putShare({ id: "sh_early", item, grantee: { kind: "site", siteId: "s_late" }, level: "edit", createdAt: T0 });
      await t.store.putRule({ id: "r_early", orgId: "acme", itemType: "inspection", conditions: { status: ["open"] }, grantee: { kind: "site", siteId: "s_late" }, level: "view", createdAt: T0 });
      const kw = createKeyward({ store: t.store, actions: ACTIONS, clock: () => T0, verifyPassword: () => true });
      await kw.directory.createOrganization({ id: "acme", name: "Acme" });
      await kw.directory.createPermissionSet({ id: "ps", orgId: "acme", name: "Inspector", permissions: ["inspections:view", "inspections:edit"] });
      const region = await kw.directory.createSite({ id: "s_region", orgId: "acme", name: "Region" });
      await kw.directory.createSite({ id: "s_late", orgId: "acme", name: "Late", parentId: region.id });
      await kw.directory.upsertUser({ id: "u_1", name: "One" });
      await kw.directory.addMember({ orgId: "acme", userId: "u_1", permissionSetId: "ps", siteIds: [region.id] });
      const token = (await kw.tokens.createUserToken({ orgId: "acme", userId: "u_1", name: "t", password: PASSWORD })).token;
      expect(await kw.authorize(token, "inspections.edit", item)).toMatchObject({ allowed: true, grant: { source: "share", id: "sh_early", via: "site" } });
      expect(await kw.authorize(token, "inspections.view", { ...item, id: "i_2", attributes: { status: "open" } })).toMatchObject({ allowed: true, grant: { source: "rule", id: "r_early", via: "site" } });
      const access = await kw.accessible(token, "inspections.view", "inspection");
      expect(access.allowed && access.filter.matches(item)).toBe(true);
    });

    it("a user's name comes with its membership: a rename shows on every membership at the next decision, a membership made later carries the new name, and a token whose user has no membership row is named from the users table", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const d = w.kw.directory;
      const item = w.inspection("insp_name");
      await d.share({ item, grantee: { kind: "user", userId: w.users.bob.id }, level: "edit" });
      const { token } = await w.userToken(w.users.bob.id);
      const decided = async () => (await w.kw.authorize(token, "inspections.view", item)) as { allowed: boolean; subject?: { name: string } };
      expect(await decided()).toMatchObject({ allowed: true, subject: { name: "Bob Viewer" } });
      await d.upsertUser({ id: w.users.bob.id, name: "Bob Renamed" });
      expect(await decided()).toMatchObject({ allowed: true, subject: { name: "Bob Renamed" } });
      await d.addMember({ orgId: w.orgs.beta.id, userId: w.users.bob.id });
      const names = await t.raw.query(`SELECT org_id, user_name FROM "${t.schema}".memberships WHERE user_id = $1 ORDER BY org_id`, [w.users.bob.id]);
      expect(names).toEqual([
        { org_id: "acme", user_name: "Bob Renamed" },
        { org_id: "beta", user_name: "Bob Renamed" },
      ]);
      // A membership row removed behind keyward's back: refused, and still named as the users table names it.
      await t.raw.query(`DELETE FROM "${t.schema}".memberships WHERE org_id = 'acme' AND user_id = $1`, [w.users.bob.id]);
      t.driver.reset();
      expect(await decided()).toMatchObject({ allowed: false, subject: { kind: "user", id: w.users.bob.id, name: "Bob Renamed" } });
      expect(t.driver.queries.filter((x) => x === queries(t.schema).getUser)).toHaveLength(1);
    });

    it("the exported SQL creates the same schema, can run twice, and is recorded so migrate() has nothing left", async () => {
      const t = await fresh();
      const schema = freshSchema();
      const sql = migrationSql({ schema });
      expect(sql).toContain(`CREATE TABLE IF NOT EXISTS "${schema}".tokens`);
      expect(sql).toContain("-- migration 2: grantee indexes for list filters");
      expect(sql).toContain(`CREATE INDEX IF NOT EXISTS shares_type_grantee ON "${schema}".shares`);
      const run = async (driver: SqlDriver) => {
        for (const statement of sql.split(/;\n/).map((s) => s.replace(/^(--[^\n]*\n)+/, "").trim()).filter((s) => s !== "" && !s.startsWith("--"))) await driver.query(statement);
      };
      try {
        await run(t.raw);
        await run(t.raw);
        const s = postgresStore({ driver: t.raw, schema });
        expect(await s.migrate()).toEqual([]);
        await s.putOrganization({ id: "o", name: "O", ssoOnly: false });
        expect(await s.getOrganization("o")).toEqual({ id: "o", name: "O", ssoOnly: false });
        await s.close();
      } finally {
        await t.raw.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });

    it("stores on different schemas of one database share nothing", async () => {
      const a = await fresh();
      const b = await fresh();
      await a.store.putOrganization({ id: "acme", name: "A", ssoOnly: false });
      expect(await b.store.getOrganization("acme")).toBeNull();
      expect(await a.backdoor.count("organizations")).toBe(1);
      expect(await b.backdoor.count("organizations")).toBe(0);
    });

    it.each(['Keyward', 'x"; DROP TABLE y; --', "1abc", "", "a".repeat(49), "pg-bad"])("refuses the schema name %j (invalid_config): names are interpolated into SQL", async (schema) => {
      const t = await fresh();
      const e = await caught(() => postgresStore({ driver: t.raw, schema }));
      expect(e).toBeInstanceOf(KeywardError);
      expect(e).toMatchObject({ code: "invalid_config", field: "schema" });
      expect(() => migrationSql({ schema })).toThrow(KeywardError);
    });

    it("refuses a coalescing window above 10 minutes and a cache staleness bound above 5 s", async () => {
      const t = await fresh();
      expect(() => postgresStore({ driver: t.raw, lastUseWindowMs: 10 * MINUTE + 1 })).toThrow(expect.objectContaining({ code: "invalid_config", field: "lastUseWindowMs" }));
      expect(() => postgresStore({ driver: t.raw, cache: { ttlMs: 5001 } })).toThrow(expect.objectContaining({ code: "invalid_config", field: "cache.ttlMs" }));
      expect(() => postgresStore({ driver: { query: t.raw.query, transaction: t.raw.transaction }, cache: { ttlMs: 100 } })).toThrow(expect.objectContaining({ code: "invalid_config", field: "cache" }));
    });
  });

  describe("the read for one decision", () => {
    it("R15 R18 authorize() makes exactly one round trip to the database: one statement, no transaction; a rotated-away secret or an unknown one two", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      await w.kw.directory.share({ item: w.inspection("i_1"), grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
      const { token, record } = await w.userToken(w.users.bob.id);
      expect((await w.kw.authorize(token, "inspections.view", w.inspection("i_1"))).allowed).toBe(true);
      await t.store.flushTokenUses(); // the first use is written in the background
      t.driver.reset();
      expect((await w.kw.authorize(token, "inspections.view", w.inspection("i_1"))).allowed).toBe(true);
      expect(t.driver.queries).toHaveLength(1);
      expect(t.driver.transactions).toBe(0);
      // R18: the previous secret is looked up by a second statement, only when no token has the digest as its current one.
      const { token: rotated } = await w.kw.tokens.rotate({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id, password: PASSWORD, graceMs: DAY });
      await t.store.flushTokenUses();
      t.driver.reset();
      expect((await w.kw.authorize(rotated, "inspections.view", w.inspection("i_1"))).allowed).toBe(true);
      expect(t.driver.queries).toHaveLength(1);
      await t.store.flushTokenUses();
      t.driver.reset();
      expect((await w.kw.authorize(token, "inspections.view", w.inspection("i_1"))).allowed).toBe(true);
      expect(t.driver.queries).toHaveLength(2);
      expect(t.driver.queries[1]).toContain("previous_hash = $1");
      expect(t.driver.transactions).toBe(0);
      t.driver.reset();
      expect(await t.store.loadDecision("unknown-digest", w.inspection("i_1"))).toBeNull();
      expect(await t.store.loadDecision("unknown-digest", null)).toBeNull();
      expect(t.driver.queries).toHaveLength(4);
    });

    it("R13 the one statement returns the item's shares and rules with the sites they name, for a user and a service user", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const item = w.inspection("i_7", { siteId: w.sites.harbour.id });
      await w.kw.directory.share({ item, grantee: { kind: "site", siteId: w.sites.oslo.id }, level: "edit" });
      await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: [w.sites.harbour.id] }, grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "view" });
      // Ana belongs to North, above Oslo: the share covers her (R13 nesting); Bob (Harbour, below Oslo) is not covered.
      const ana = await w.userToken(w.users.ana.id);
      expect(await w.kw.authorize(ana.token, "inspections.edit", item)).toMatchObject({ allowed: true, grant: { source: "share", via: "site", level: "edit" } });
      const bob = await w.userToken(w.users.bob.id);
      expect(await w.kw.authorize(bob.token, "inspections.view", item)).toMatchObject({ allowed: false, reason: "access_denied", visible: false });
      const svc = await w.serviceToken();
      expect(await w.kw.authorize(svc.token, "inspections.view", item)).toMatchObject({ allowed: true, grant: { source: "rule", via: "service_user" } });
      expect(await w.kw.authorize(svc.token, "inspections.edit", item)).toMatchObject({ allowed: false, reason: "access_denied", visible: true });
    });

    it("R15 a read for the presented kind answers as a read for either kind; for the other kind it finds the token without its subject", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const item = w.inspection("i_9");
      await w.kw.directory.share({ item, grantee: { kind: "user", userId: w.users.ana.id }, level: "edit" });
      await w.kw.directory.share({ item, grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "view" });
      await w.kw.directory.share({ item, grantee: { kind: "organization", orgId: "acme", includeServiceUsers: true }, level: "view" });
      const ana = (await t.backdoor.readToken((await w.userToken(w.users.ana.id)).record.id))!.hash;
      const bot = (await t.backdoor.readToken((await w.serviceToken()).record.id))!.hash;
      const same = <T extends { now?: number } | null>(x: T) => (x === null ? null : { ...x, now: 0 });
      for (const [hash, kind, other] of [[ana, "user", "service_user"], [bot, "service_user", "user"]] as const) {
        expect(same(await t.store.loadDecision(hash, item, kind))).toEqual(same(await t.store.loadDecision(hash, item)));
        expect(same(await t.store.loadDecision(hash, null, kind))).toEqual(same(await t.store.loadDecision(hash, null)));
        expect(same(await t.store.loadAccess(hash, { itemType: "inspection" }, kind))).toEqual(same(await t.store.loadAccess(hash, { itemType: "inspection" })));
        const wrong = (await t.store.loadDecision(hash, item, other))!;
        expect(wrong.token.kind).toBe(kind);
        expect(wrong.subject.permissions).toEqual([]);
        expect(wrong.subject.kind === "user" ? wrong.subject.membership : wrong.subject.serviceUser).toBeNull();
      }
      expect(await t.store.loadDecision("unknown-digest", item, "user")).toBeNull();
      // keyward names the kind its token's prefix names: the statement opens only that kind's table.
      const anaToken = (await w.userToken(w.users.ana.id)).token;
      const botToken = (await w.serviceToken()).token;
      await t.store.flushTokenUses();
      for (const [token, opens, skips] of [[anaToken, "memberships", "service_users"], [botToken, "service_users", "memberships"]] as const) {
        t.driver.reset();
        expect((await w.kw.authorize(token, "inspections.view", item)).allowed).toBe(true);
        expect((await w.kw.accessible(token, "inspections.view", "inspection")).allowed).toBe(true);
        const reads = t.driver.queries.filter((x) => x.includes("json_build_array(t.tj"));
        expect(reads).toHaveLength(2);
        for (const text of reads) {
          expect(text).toContain(`.${opens} `);
          expect(text).not.toContain(`.${skips} `);
        }
      }
    });

    it("R15 each read packs the subject it found once, not every membership or service user its scan returns; a read of one kind opens only that kind's table", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const s = `"${t.schema}"`;
      // A small directory with statistics, as every deployment has once autovacuum ran: the planner
      // may scan the whole memberships and service users tables rather than use their keys.
      await t.raw.query(`INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch)
        SELECT 'other', 'x' || i, NULL, '{}', '{}', 'active', true, 'e' FROM generate_series(1, 300) i`);
      await t.raw.query(`INSERT INTO ${s}.service_users (id, org_id, name, permission_set_id, status, created_by, created_at)
        SELECT 'sx' || i, 'other', 'bot ' || i, NULL, 'active', NULL, 0 FROM generate_series(1, 300) i`);
      await t.raw.query(`ANALYZE ${s}.memberships`);
      await t.raw.query(`ANALYZE ${s}.service_users`);
      const { record } = await w.userToken(w.users.ana.id);
      const { hash } = (await t.backdoor.readToken(record.id))!;
      const q = queries(t.schema);
      const item = w.inspection("i_1");
      /** Every plan node that scans `relation`, with what it outputs (EXPLAIN VERBOSE). */
      const scans = (node: Record<string, unknown>, relation: string): { type: string; output: string[] }[] => [
        ...(node["Relation Name"] === relation ? [{ type: String(node["Node Type"]), output: (node.Output ?? []) as string[] }] : []),
        ...((node.Plans ?? []) as Record<string, unknown>[]).flatMap((p) => scans(p, relation)),
      ];
      for (const [set, opened] of [
        [q, { memberships: 1, service_users: 1 }],
        [q.ofKind.user, { memberships: 1, service_users: 0 }],
        [q.ofKind.service_user, { memberships: 0, service_users: 1 }],
      ] as const) {
        for (const [text, values] of [
          [set.loadDecision, [hash, item.orgId, item.type, item.id]],
          [set.loadDecisionNoItem, [hash]],
          [set.loadAccess, [hash, "inspection"]],
        ] as const) {
          const [row] = (await t.raw.query(`EXPLAIN (VERBOSE, FORMAT JSON) ${text}`, [...values])) as { "QUERY PLAN": [{ Plan: Record<string, unknown> }] }[];
          const plan = row!["QUERY PLAN"][0].Plan;
          for (const relation of ["memberships", "service_users"] as const) {
            const found = scans(plan, relation);
            expect(found, relation).toHaveLength(opened[relation]);
            for (const f of found) expect(f.output.join(" "), `${relation} (${f.type})`).not.toContain("json_build_array");
          }
        }
      }
      // And the reads still answer as before.
      expect((await t.store.loadDecision(hash, item))!.subject).toMatchObject({ kind: "user", membership: { userId: w.users.ana.id } });
      const svc = await w.serviceToken();
      const svcHash = (await t.backdoor.readToken(svc.record.id))!.hash;
      expect((await t.store.loadDecision(svcHash, null))!.subject).toMatchObject({ kind: "service_user", serviceUser: { id: w.bot.id } });
    });
  });

  describe("the read for one list filter", () => {
    it("R13 R14 accessible() makes exactly one round trip to the database: one statement, no transaction, whatever the grantees (an unknown secret two)", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      // Ana (acme: group Auditors, site North) reaches items through every kind of grantee, in two organizations.
      await w.kw.directory.share({ item: w.inspection("i_user"), grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
      await w.kw.directory.share({ item: w.inspection("i_group"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
      await w.kw.directory.share({ item: w.inspection("i_site"), grantee: { kind: "site", siteId: w.sites.oslo.id }, level: "view" });
      await w.kw.directory.share({ item: w.inspection("i_org"), grantee: { kind: "organization", orgId: "acme", includeServiceUsers: false }, level: "view" });
      await w.kw.directory.share({ item: w.inspection("i_beta", undefined, "beta"), grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
      await w.kw.directory.share({ item: w.inspection("i_bob"), grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
      await w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: { siteId: [w.sites.harbour.id] }, grantee: { kind: "site", siteId: w.sites.harbour.id }, level: "view" });
      const { token } = await w.userToken(w.users.ana.id);
      const first = await w.kw.accessible(token, "inspections.view", "inspection");
      expect(first.allowed).toBe(true);
      await t.store.flushTokenUses(); // the first use is written in the background
      t.driver.reset();
      const access = await w.kw.accessible(token, "inspections.view", "inspection");
      expect(t.driver.queries).toHaveLength(1);
      expect(t.driver.transactions).toBe(0);
      if (!access.allowed) throw new Error(access.reason);
      expect(access.filter.shared).toEqual([
        { orgId: "acme", ids: ["i_group", "i_org", "i_site", "i_user"] },
        { orgId: "beta", ids: ["i_beta"] },
      ]);
      expect(access.filter.rules).toHaveLength(1);
      t.driver.reset();
      expect(await t.store.loadAccess("unknown-digest", { itemType: "inspection" })).toBeNull();
      expect(t.driver.queries).toHaveLength(2);
    });

    it("R13 the statement finds shares and rules through the grantee indexes of migration 2, not by scanning every share", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const s = `"${t.schema}"`;
      // 20,000 shares and 2,000 rules of other grantees, a few of Ana's: the planner has a reason to choose.
      await t.raw.query(`INSERT INTO ${s}.shares (id, item_org_id, item_type, item_id, grantee, level, created_at)
        SELECT 'sh' || i, 'acme', CASE WHEN i % 2 = 0 THEN 'inspection' ELSE 'template' END, 'i' || i, jsonb_build_object('kind', 'group', 'groupId', 'g' || (i % 500)), 'view', 0
        FROM generate_series(1, 20000) i`);
      await t.raw.query(`INSERT INTO ${s}.rules (id, org_id, item_type, conditions, grantee, level, created_at)
        SELECT 'r' || i, 'acme', 'inspection', '{}', jsonb_build_object('kind', 'user', 'userId', 'u' || i), 'view', 0 FROM generate_series(1, 2000) i`);
      await w.kw.directory.share({ item: w.inspection("i_mine"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
      await t.raw.query(`ANALYZE ${s}.shares`);
      await t.raw.query(`ANALYZE ${s}.rules`);
      const { record } = await w.userToken(w.users.ana.id);
      const { hash } = (await t.backdoor.readToken(record.id))!;
      const plan = JSON.stringify(await t.raw.query(`EXPLAIN (FORMAT JSON) ${queries(t.schema).loadAccess}`, [hash, "inspection"]));
      expect(plan).toContain('"Index Name":"shares_type_grantee"');
      expect(plan).toContain('"Index Name":"rules_type_grantee"');
      expect(plan).not.toMatch(/"Node Type":"Seq Scan"[^}]*"Relation Name":"(shares|rules)"/);
      const input = await t.store.loadAccess(hash, { itemType: "inspection" });
      expect(input!.shares.map((x) => x.id)).toEqual([expect.any(String)]);
      expect(input!.shares[0]!.item).toEqual({ orgId: "acme", type: "inspection", id: "i_mine" });
    });
  });

  describe("R6 last use without a write per request", () => {
    const useWrites = (t: TestStore) => t.driver.queries.filter((q) => q.includes("last_used_at = GREATEST")).length;

    it("R6 10,000 authorizations of one token at one instant cost one write", async () => {
      // The decision cache keeps the 10,000 reads short; the use writes do not depend on it.
      const t = await fresh({ cache: { ttlMs: 5000 } });
      await eventually(() => t.store.cacheStatus() === "up", 5000, "the listener");
      const w = await world({ store: t.store });
      const { token } = await w.userToken(w.users.ana.id);
      t.driver.reset();
      let allowed = 0;
      for (let i = 0; i < 10_000; i++) if ((await w.kw.authorize(token, "reports.export")).allowed) allowed++;
      await t.store.flushTokenUses();
      expect(allowed).toBe(10_000);
      expect(useWrites(t)).toBe(1);
    });

    it("R6 with a clock moving 1 s per use, 10,000 uses (2.8 h) cost at most one write per 10-minute window", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const { token, record } = await w.userToken(w.users.ana.id);
      t.driver.reset();
      for (let i = 0; i < 10_000; i++) {
        w.advance(1000);
        if (i % 1000 === 0) expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
        else await t.store.recordTokenUse(record.id, w.clock.now);
      }
      await t.store.flushTokenUses();
      expect(useWrites(t)).toBeLessThanOrEqual(Math.ceil(10_000_000 / (10 * MINUTE)) + 1);
      // The stored last use is exactly the last request after the flush.
      const stored = (await t.backdoor.readToken((await t.store.listTokens({ orgId: "acme", subjectId: w.users.ana.id }))[0]!.token.id))!;
      expect(stored.lastUsedAt).toBe(w.clock.now);
    });

    it("R6 a use not yet written counts at once in this instance, and is written by the flush: used at t0 and t0+5 min, still valid at t0+30 d+1 min", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const { token, record } = await w.userToken(w.users.ana.id);
      await w.kw.authorize(token, "reports.export");
      await t.store.flushTokenUses();
      w.advance(5 * MINUTE);
      await w.kw.authorize(token, "reports.export");
      expect((await t.backdoor.readToken(record.id))!.lastUsedAt).toBe(T0);
      expect((await t.store.getToken(record.id))!.lastUsedAt).toBe(T0 + 5 * MINUTE);
      w.advance(THIRTY_DAYS - 4 * MINUTE);
      expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
      await t.store.flushTokenUses();
      expect((await t.backdoor.readToken(record.id))!.lastUsedAt).toBe(T0 + 30 * DAY + MINUTE);
    });

    it("R6 writes from several instances merge with GREATEST, and a late write never revives an expired token", async () => {
      const t = await fresh();
      const w = await world({ store: t.store });
      const { record } = await w.userToken(w.users.ana.id);
      const other = postgresStore({ driver: t.raw, schema: t.schema });
      await t.store.recordTokenUse(record.id, T0 + 5 * DAY);
      await other.recordTokenUse(record.id, T0 + 2 * DAY);
      expect((await t.backdoor.readToken(record.id))!.lastUsedAt).toBe(T0 + 5 * DAY);
      expect(await t.store.markTokenExpired(record.id, T0 + 36 * DAY)).toBe(true);
      await other.recordTokenUse(record.id, T0 + 40 * DAY);
      await other.flushTokenUses();
      expect((await t.backdoor.readToken(record.id))!).toMatchObject({ lastUsedAt: T0 + 5 * DAY, expiredAt: T0 + 36 * DAY });
      await other.close();
    });

    it("R6 with lastUseWindowMs 0 every use is written", async () => {
      const t = await fresh({ lastUseWindowMs: 0 });
      const w = await world({ store: t.store });
      const { token } = await w.userToken(w.users.ana.id);
      t.driver.reset();
      for (let i = 0; i < 5; i++) {
        w.advance(1);
        await w.kw.authorize(token, "reports.export");
      }
      await t.store.flushTokenUses();
      expect(useWrites(t)).toBe(5);
    });
  });

  describe("faults fail closed", () => {
    /** A driver that fails on demand: every statement, or the commit of the next transaction. */
    function faulty(inner: SqlDriver) {
      const state = { failQueries: false, failCommit: false };
      const driver: SqlDriver = {
        query: (text, p) => (state.failQueries ? Promise.reject(new Error("connection terminated unexpectedly")) : inner.query(text, p)),
        transaction: (fn) =>
          inner.transaction(async (tx) => {
            if (state.failQueries) throw new Error("connection terminated unexpectedly");
            const r = await fn(tx);
            if (state.failCommit) throw new Error("connection lost before COMMIT");
            return r;
          }),
      };
      return { driver, state };
    }

    it("a failing driver makes authorize() throw unavailable with the driver's error as cause, never allow", async () => {
      const t = await fresh();
      const f = faulty(t.raw);
      const store = postgresStore({ driver: f.driver, schema: t.schema });
      const w = await world({ store });
      const { token } = await w.userToken(w.users.ana.id);
      expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
      f.state.failQueries = true;
      const e = await caught(() => w.kw.authorize(token, "reports.export"));
      expect(e).toBeInstanceOf(KeywardError);
      expect(e).toMatchObject({ code: "unavailable", cause: expect.objectContaining({ message: "connection terminated unexpectedly" }) });
      expect(await caught(() => store.getToken("x"))).toMatchObject({ code: "unavailable" });
      await store.close();
    });

    it("R3 a creation whose transaction fails before commit leaves no row and no used slot", async () => {
      const t = await fresh();
      const f = faulty(t.raw);
      const store = postgresStore({ driver: f.driver, schema: t.schema });
      const w = await world({ store, limits: { userTokensPerUser: 1 } });
      f.state.failCommit = true;
      const e = await caught(() => w.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "ci", password: PASSWORD }));
      expect(e).toMatchObject({ code: "unavailable" });
      expect(await t.backdoor.count("tokens")).toBe(0);
      f.state.failCommit = false;
      // The slot is still free: the one allowed token can be created.
      await w.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "ci", password: PASSWORD });
      expect(await t.backdoor.count("tokens")).toBe(1);
      await store.close();
    });

    it("an update callback's own error propagates unwrapped and writes nothing; a driver error becomes unavailable", async () => {
      const t = await fresh();
      const f = faulty(t.raw);
      const store = postgresStore({ driver: f.driver, schema: t.schema });
      const boom = new TypeError("host bug");
      await expect(store.updateServiceUser("svc", () => { throw boom; })).rejects.toBe(boom);
      expect(await t.backdoor.count("service_users")).toBe(0);
      f.state.failQueries = true;
      await expect(store.updateServiceUser("svc", (s) => s!)).rejects.toMatchObject({ code: "unavailable" });
      await store.close();
    });
  });
});

describe("the opt-in cache on PGlite", () => {
  it("R11 LISTEN/NOTIFY works in-process too: a revocation through another store on the same database invalidates the cached decision", async () => {
    const t = await pgliteStore();
    try {
      const w = await world({ store: t.store });
      const cached = postgresStore({ driver: counting(t.raw), schema: t.schema, cache: { ttlMs: 5000 } });
      await eventually(() => cached.cacheStatus() === "up", 5000, "the listener");
      const kwB = (await import("../../../src/index.js")).createKeyward({ store: cached, actions: ACTIONS, clock: () => w.clock.now });
      const { token, record } = await w.userToken(w.users.ana.id);
      expect((await kwB.authorize(token, "reports.export")).allowed).toBe(true);
      await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.ana.id });
      await eventually(async () => (await kwB.authorize(token, "reports.export")).reason === "token_revoked", 2000, "the invalidation");
      await cached.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe("the opt-in cache and list filters on PGlite", () => {
  it("R11 R13 loadAccess is cached, and a share, a rule or a membership change through another store on the same database invalidates it", async () => {
    const t = await pgliteStore();
    try {
      const w = await world({ store: t.store });
      const driver = counting(t.raw);
      const cached = postgresStore({ driver, schema: t.schema, cache: { ttlMs: 5000 } });
      await eventually(() => cached.cacheStatus() === "up", 5000, "the listener");
      const kwB = (await import("../../../src/index.js")).createKeyward({ store: cached, actions: ACTIONS, clock: () => w.clock.now });
      const { token } = await w.userToken(w.users.ana.id);
      const shared = async () => {
        const a = await kwB.accessible(token, "inspections.view", "inspection");
        if (!a.allowed) throw new Error(a.reason);
        return a.filter.shared.flatMap((x) => x.ids);
      };
      expect(await shared()).toEqual([]);
      await cached.flushTokenUses();
      driver.reset();
      expect(await shared()).toEqual([]);
      expect(driver.queries.filter((q) => q.includes("access_read"))).toHaveLength(0); // a hit
      await w.kw.directory.share({ item: w.inspection("i_1"), grantee: { kind: "group", groupId: w.groups.auditors.id }, level: "view" });
      await eventually(async () => (await shared()).includes("i_1"), 2000, "the share to show");
      await w.kw.directory.updateMember({ orgId: "acme", userId: w.users.ana.id, groupIds: [] });
      await eventually(async () => (await shared()).length === 0, 2000, "the group change to show");
      // A decision entry and a list-filter entry of the same token never answer for each other.
      expect((await kwB.authorize(token, "inspections.view", w.inspection("i_1"))).allowed).toBe(false);
      await cached.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe("the PGlite driver's timeout", () => {
  it("a transaction that outlives statementTimeoutMs rejects at once and is rolled back, never committed later", async () => {
    const db = await sharedPglite();
    const schema = freshSchema();
    await db.query(`CREATE SCHEMA "${schema}"`);
    await db.query(`CREATE TABLE "${schema}".t (x int)`);
    const driver = pgliteDriver(db, { statementTimeoutMs: 100 });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const slow = driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO "${schema}".t VALUES (1)`);
      await sleep(300);
      finished();
      return "late";
    });
    await expect(slow).rejects.toThrow(/timed out/);
    await done;
    await sleep(20);
    expect(await driver.query(`SELECT count(*)::int AS n FROM "${schema}".t`)).toEqual([{ n: 0 }]);
    expect(await driver.transaction(async (tx) => (await tx.query(`INSERT INTO "${schema}".t VALUES (2) RETURNING x`))[0])).toEqual({ x: 2 });
    expect(await driver.query(`SELECT count(*)::int AS n FROM "${schema}".t`)).toEqual([{ n: 1 }]);
    await db.query(`DROP SCHEMA "${schema}" CASCADE`);
  });
});

describe("PGlite with a data directory", () => {
  it("keeps tokens across a restart (persistence for single-process apps)", async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "keyward-pglite-"));
    try {
      let db = await PGlite.create(dir);
      let store = postgresStore({ pglite: db, closeDriver: true });
      await store.migrate();
      const w = await world({ store });
      const { token } = await w.userToken(w.users.ana.id);
      await store.close();
      expect(db.closed).toBe(true);
      db = await PGlite.create(dir);
      store = postgresStore({ pglite: db, closeDriver: true });
      expect(await store.migrate()).toEqual([]);
      const kw2 = (await import("../../../src/index.js")).createKeyward({ store, actions: ACTIONS, clock: () => T0 });
      expect((await kw2.authorize(token, "reports.export")).allowed).toBe(true);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000); // two PGlite boots from a directory: slow on a busy machine
});

// Keep the shared PGlite referenced so the file's instance is reused across describe blocks.
void sharedPglite;
void counting;
