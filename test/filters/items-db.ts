/**
 * A host's own items table on a real PostgreSQL, to run the SQL conditions of list filters
 * against: the server at `KEYWARD_PG_URL` when set (CI sets it), else PGlite in-process.
 * Each call creates a table of its own (random name) and drops it on close.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { ItemRef } from "../../src/index.js";

export interface ItemsDb {
  /** Which PostgreSQL runs the queries. */
  engine: "server" | "pglite";
  /** The table's (unquoted, lowercase) name. */
  table: string;
  /** Replaces the table's rows. */
  load(items: readonly ItemRef[]): Promise<void>;
  /** Runs a query; `$TABLE` in `text` is replaced with the table name. */
  rows<R>(text: string, values?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export const COLUMNS = { orgId: "org_id", id: "id", type: "type", attributes: { siteId: "site_id", templateId: "template_id" } } as const;

export async function openItemsDb(): Promise<ItemsDb> {
  const url = process.env.KEYWARD_PG_URL;
  const table = `kw_items_${Math.random().toString(36).slice(2, 10)}`;
  let query: (text: string, values?: unknown[]) => Promise<unknown[]>;
  let end: () => Promise<void>;
  let engine: ItemsDb["engine"];
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    query = async (text, values) => (await pool.query(text, values)).rows;
    end = () => pool.end();
    engine = "server";
  } else {
    const db = new PGlite();
    query = async (text, values) => (await db.query(text, values)).rows;
    end = () => db.close();
    engine = "pglite";
  }
  await query(
    `CREATE TABLE ${table} (org_id text NOT NULL, type text NOT NULL, id text NOT NULL, site_id text, template_id text, PRIMARY KEY (org_id, type, id))`,
  );
  return {
    engine,
    table,
    async load(items) {
      await query(`DELETE FROM ${table}`);
      if (items.length === 0) return;
      const values: unknown[] = [];
      const tuples = items.map((it) => {
        values.push(it.orgId, it.type, it.id, it.attributes?.siteId ?? null, it.attributes?.templateId ?? null);
        const n = values.length;
        return `($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      await query(`INSERT INTO ${table} (org_id, type, id, site_id, template_id) VALUES ${tuples.join(", ")}`, values);
    },
    async rows<R>(text: string, values?: unknown[]) {
      return (await query(text.replaceAll("$TABLE", table), values)) as R[];
    },
    async close() {
      try {
        await query(`DROP TABLE IF EXISTS ${table}`);
      } finally {
        await end();
      }
    },
  };
}
