/**
 * The example's SQL path (examples/inspections-api/sql-list.ts) on PGlite: the host's own
 * `inspections` table listed with `filter.toSql({ columns })` next to its own conditions and
 * paging selects exactly the rows `authorize()` allows one by one (R12–R14); and the script runs.
 */
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS, PASSWORDS, seedInspections } from "../../examples/inspections-api/seed.js";
import { createInspectionsTable, listInspectionsSql, moreInspections } from "../../examples/inspections-api/sql-list.js";
import { createKeyward, tokenPattern, type Keyward } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const passwords = new Map([...PASSWORDS, ["u_gus", "g"], ["u_dan", "d"]]);

describe("examples/inspections-api/sql-list.ts on PGlite", () => {
  let pg: PGlite;
  let kw: Keyward<keyof typeof ACTIONS>;
  let db: Awaited<ReturnType<typeof seedInspections>>["db"];
  const tokens: Record<"ben" | "cleo" | "bot" | "gus" | "dan", string> = { ben: "", cleo: "", bot: "", gus: "", dan: "" };

  beforeAll(async () => {
    kw = createKeyward({ store: memoryStore(), actions: ACTIONS, verifyPassword: (u, p) => passwords.get(u) === p });
    const seeded = await seedInspections(kw);
    db = seeded.db;
    for (const row of moreInspections(60)) db.inspections.set(row.id, row);
    const d = kw.directory;
    const staff = await d.createPermissionSet({ id: "ps_globex", orgId: "globex", name: "Partner staff", permissions: ["inspections:view"] });
    await d.upsertUser({ id: "u_gus", name: "Gus" });
    await d.addMember({ orgId: "globex", userId: "u_gus", permissionSetId: staff.id });
    await d.share({ item: { orgId: "acme", type: "inspection", id: "insp_2003" }, grantee: { kind: "organization", orgId: "globex" }, level: "view" }); // R14, to Globex
    await d.share({ item: { orgId: "globex", type: "inspection", id: "insp_2004" }, grantee: { kind: "user", userId: "u_ben" }, level: "view" }); // R14, to Ben
    const templatesOnly = await d.createPermissionSet({ id: "ps_t", orgId: "acme", name: "Templates only", permissions: ["templates:view"] });
    await d.upsertUser({ id: "u_dan", name: "Dan" });
    await d.addMember({ orgId: "acme", userId: "u_dan", permissionSetId: templatesOnly.id, siteIds: ["site_oslo"] });
    const user = async (userId: string, orgId = "acme") => (await kw.tokens.createUserToken({ orgId, userId, name: "t", password: passwords.get(userId)! })).token;
    Object.assign(tokens, {
      ben: await user("u_ben"),
      cleo: await user("u_cleo"),
      gus: await user("u_gus", "globex"),
      dan: await user("u_dan"),
      bot: (await kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: seeded.bi.id, name: "t", actorId: "u_ada" })).token,
    });
    pg = new PGlite();
    await createInspectionsTable(pg, db.inspections.values());
  });
  afterAll(async () => {
    await pg?.close();
    await kw?.close();
  });

  const allowedIds = async (token: string) => {
    const ids: string[] = [];
    for (const id of db.inspections.keys()) if ((await kw.authorize(token, "inspections.view", db.ref("inspection", id))).allowed) ids.push(id);
    return ids.sort();
  };
  const sqlIds = async (token: string, page?: { limit?: number; after?: string }) => {
    const access = await kw.accessible(token, "inspections.view", "inspection");
    if (!access.allowed) throw new Error(`refused: ${access.reason}`);
    return (await listInspectionsSql(pg, access.filter, { limit: 1000, ...page })).map((r) => r.id);
  };

  it.each(["ben", "cleo", "bot", "gus"] as const)("R13 R14: the SQL list for %s is exactly the rows authorize() allows one by one", async (who) => {
    const expected = await allowedIds(tokens[who]);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(db.inspections.size);
    expect([...(await sqlIds(tokens[who]))].sort()).toEqual(expected);
  });

  it("R14: cross-organization shares reach the table in both directions", async () => {
    expect(await sqlIds(tokens.ben)).toContain("insp_2004"); // Globex's row, shared with Ben
    expect(await sqlIds(tokens.gus)).toEqual(["insp_2003"]); // Acme's row, shared with Globex
    expect(await sqlIds(tokens.bot)).toEqual(["insp_1043"]);
  });

  it("R12: without the permission there is no filter and so no query: accessible() refuses as authorize() does", async () => {
    const access = await kw.accessible(tokens.dan, "inspections.view", "inspection");
    expect(access).toMatchObject({ allowed: false, reason: "permission_denied" });
    expect((await kw.authorize(tokens.dan, "inspections.view", db.ref("inspection", "insp_1042"))).reason).toBe("permission_denied");
  });

  it("the host's own conditions and paging combine with the filter: archived rows drop out, pages add up to the list", async () => {
    const all = await sqlIds(tokens.cleo);
    const pages: string[] = [];
    for (let after = ""; ; ) {
      const page = await sqlIds(tokens.cleo, { limit: 4, after });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(4);
      pages.push(...page);
      after = page.at(-1)!;
    }
    expect(pages).toEqual(all);
    await pg.query("UPDATE inspections SET archived = true WHERE id = $1", [all[0]]);
    try {
      expect(await sqlIds(tokens.cleo)).toEqual(all.slice(1));
    } finally {
      await pg.query("UPDATE inspections SET archived = false WHERE id = $1", [all[0]]);
    }
  });

  it("npm run demo:sql lists for three tokens, agrees with filter.matches, exits 0 and prints hints only (R5)", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/inspections-api/sql-list.ts"], { cwd: root, timeout: 30_000 });
    expect(stdout.match(/same as filter\.matches: yes/g)).toHaveLength(3);
    expect(stdout).not.toContain("same as filter.matches: NO");
    expect(stdout).toContain("BI export (service user) kws_…");
    expect(stdout.match(tokenPattern({ global: true })) ?? []).toEqual([]);
  });
});
