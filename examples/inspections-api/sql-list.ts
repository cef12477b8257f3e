/**
 * The SQL path of a list endpoint: the host keeps its inspections in its own PostgreSQL table
 * (here PGlite, PostgreSQL in-process; a `pg.Pool` works the same), asks keyward ONE question per
 * request — `kw.accessible(token, "inspections.view", "inspection")` — and puts the filter's
 * parameterized condition (`filter.toSql({ columns })`) in its own `WHERE`, next to its own
 * conditions, paging and order. No value is ever concatenated into the text.
 *
 * Run: npm run demo:sql   (or npx tsx examples/inspections-api/sql-list.ts)
 */
import { pathToFileURL } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { createKeyward, type AccessFilter, type FilterColumns } from "../../src/index.js";
import { tokenHint } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { ACTIONS, PASSWORDS, seedInspections, visibleRows, type InspectionsDb, type Row } from "./seed.js";

/** What the example needs of a PostgreSQL client: PGlite's `query` (a `pg.Pool`'s has the same shape). */
export interface SqlClient {
  query<R>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** Where the host's `inspections` table keeps each part of an item, for `filter.toSql`. */
export const INSPECTION_COLUMNS = { orgId: "org_id", id: "id", attributes: { siteId: "site_id", templateId: "template_id" } } as const satisfies FilterColumns;

/**
 * Creates the host's `inspections` table (one item type, so no type column) and copies the rows
 * in. `archived` is the host's own column, which keyward knows nothing about.
 *
 * @example
 * ```ts
 * const pg = new PGlite();
 * await createInspectionsTable(pg, db.inspections.values());
 * ```
 */
export async function createInspectionsTable(sql: SqlClient, rows: Iterable<Row>): Promise<void> {
  await sql.query(`CREATE TABLE inspections (
    org_id text NOT NULL,
    id text NOT NULL,
    title text NOT NULL,
    site_id text,
    template_id text,
    archived boolean NOT NULL DEFAULT false,
    PRIMARY KEY (org_id, id))`);
  for (const row of rows) {
    await sql.query("INSERT INTO inspections (org_id, id, title, site_id, template_id) VALUES ($1, $2, $3, $4, $5)", [
      row.orgId,
      row.id,
      row.title,
      row.attributes.siteId ?? null,
      row.attributes.templateId ?? null,
    ]);
  }
}

/**
 * One page of the inspections the filter allows, by id: the host's own conditions and paging
 * take `$1` and `$2`, the filter's parameters follow (`paramOffset: 2`).
 *
 * @example
 * ```ts
 * const access = await kw.accessible(token, "inspections.view", "inspection");
 * if (access.allowed) return listInspectionsSql(pg, access.filter, { limit: 50 });
 * ```
 */
export async function listInspectionsSql(sql: SqlClient, filter: Pick<AccessFilter, "toSql">, page: { limit?: number; after?: string } = {}): Promise<Row[]> {
  const where = filter.toSql({ columns: INSPECTION_COLUMNS, alias: "i", paramOffset: 2 });
  const { rows } = await sql.query<{ org_id: string; id: string; title: string; site_id: string | null; template_id: string | null }>(
    `SELECT i.org_id, i.id, i.title, i.site_id, i.template_id FROM inspections i
     WHERE NOT i.archived AND i.id > $1 AND ${where.text}
     ORDER BY i.id LIMIT $2`,
    [page.after ?? "", page.limit ?? 100, ...where.values],
  );
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    title: r.title,
    attributes: Object.fromEntries(Object.entries({ siteId: r.site_id, templateId: r.template_id }).filter((e): e is [string, string] => e[1] !== null)),
  }));
}

/**
 * More inspections for the story's database, spread over Acme's sites, no site, and Globex:
 * deterministic, so every run lists the same.
 *
 * @example
 * ```ts
 * for (const row of moreInspections(200)) db.inspections.set(row.id, row);
 * ```
 */
export function moreInspections(n: number): Row[] {
  const sites = ["site_oslo", "site_north", null] as const;
  return Array.from({ length: n }, (_, i): Row => {
    const site = sites[i % 3]!;
    const orgId = i % 5 === 4 ? "globex" : "acme";
    return { id: `insp_${2000 + i}`, orgId, title: `Walk ${i + 1}`, attributes: site === null || orgId === "globex" ? {} : { siteId: site, templateId: "tpl_safety" } } satisfies Row;
  });
}

/** The demo: seed the story, copy the inspections into PGlite, and list them for three tokens both ways. */
async function main(): Promise<number> {
  const kw = createKeyward({ store: memoryStore(), actions: ACTIONS, verifyPassword: (u, p) => PASSWORDS.get(u) === p });
  const { db, acme, bi }: { db: InspectionsDb; acme: { id: string }; bi: { id: string } } = await seedInspections(kw);
  for (const row of moreInspections(60)) db.inspections.set(row.id, row);
  const pg = new PGlite();
  try {
    await createInspectionsTable(pg, db.inspections.values());
    console.log(`inspections table: ${db.inspections.size} rows in PGlite (org_id, id, title, site_id, template_id, archived)`);
    const tokens = [
      ["Ben Berg (North region)", (await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "sql demo", password: PASSWORDS.get("u_ben")! })).token],
      ["Cleo Costa (Oslo)", (await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "sql demo", password: PASSWORDS.get("u_cleo")! })).token],
      ["BI export (service user)", (await kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "sql demo", actorId: "u_ada" })).token],
    ] as const;
    let disagreements = 0;
    for (const [who, token] of tokens) {
      const access = await kw.accessible(token, "inspections.view", "inspection");
      if (!access.allowed) {
        console.log(`${who} ${tokenHint(token)}: refused (${access.reason})`);
        continue;
      }
      const where = access.filter.toSql({ columns: INSPECTION_COLUMNS, alias: "i", paramOffset: 2 });
      const listed = await listInspectionsSql(pg, access.filter, { limit: 1000 });
      const inMemory = visibleRows(db, "inspection", access.filter).map((r) => r.id).sort();
      const same = JSON.stringify(listed.map((r) => r.id)) === JSON.stringify(inMemory);
      if (!same) disagreements++;
      console.log(`${who} ${tokenHint(token)}: ${listed.length} of ${db.inspections.size} (${listed.slice(0, 3).map((r) => r.id).join(", ")}${listed.length > 3 ? ", …" : ""}); same as filter.matches: ${same ? "yes" : "NO"}`);
      console.log(`  WHERE … AND ${where.text}   -- ${where.values.length} parameters`);
    }
    return disagreements === 0 ? 0 : 1;
  } finally {
    await pg.close();
    await kw.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
