/**
 * An access filter as a parameterized PostgreSQL condition for the host's own table. Pure: text
 * and values, no driver. Values only ever travel as parameters (`$1`, `$2`, …); column names are
 * validated as identifiers and quoted.
 * @module
 */
import { KeywardError } from "./errors.js";

/** The host's columns: where its table keeps each part of an item. */
export interface FilterColumns {
  /** The owner organization's id (`ItemRef.orgId`). Must be NOT NULL. */
  orgId: string;
  /** The item's id (`ItemRef.id`). Must be NOT NULL. */
  id: string;
  /**
   * The item type (`ItemRef.type`). Omit when the table holds one item type only: the condition
   * then assumes every row is of the filter's type.
   */
  type?: string;
  /**
   * Attribute name (as access rules use it, e.g. `siteId`) → column. Every attribute a rule in the
   * filter tests must be mapped, or `toSql` throws `invalid_input` (it never drops a condition).
   */
  attributes?: Readonly<Record<string, string>>;
}

/** Options of `toSql`. */
export interface ToSqlOptions {
  columns: FilterColumns;
  /** A table alias to qualify the columns with, e.g. `"i"` → `"i"."org_id"`. */
  alias?: string;
  /**
   * How many parameters the surrounding query uses already: the condition's first parameter is
   * `$(paramOffset + 1)`. Default 0.
   */
  paramOffset?: number;
}

/** A parameterized condition: put `text` in a `WHERE`, pass `values` as the query's parameters. */
export interface SqlCondition {
  text: string;
  /** Strings and arrays of strings, in `$n` order (after `paramOffset`). */
  values: (string | string[])[];
}

/** The part of a filter the SQL needs (see `AccessFilterData`). */
export interface SqlFilterSource {
  itemType: string;
  shared: readonly { orgId: string; ids: readonly string[] }[];
  /** `ids`: the rule counts only on these items of its organization (a restricted token's, R17). */
  rules: readonly { orgId: string; conditions: Readonly<Record<string, readonly string[]>>; ids?: readonly string[] }[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function quoted(name: unknown, field: string): string {
  if (typeof name !== "string" || !IDENTIFIER.test(name)) {
    throw new KeywardError(
      "invalid_input",
      `Invalid input at "${field}": expected a PostgreSQL identifier (a letter or _, then letters, digits, _ or $; at most 63).`,
      { field },
    );
  }
  return `"${name}"`;
}

/**
 * Builds the condition that selects exactly the rows the filter matches. An empty filter gives
 * `FALSE`. Attribute columns may be NULL (a NULL never matches a condition); the result is always
 * TRUE or FALSE for a row whose `orgId`, `id` (and `type`) columns are set, so it can be negated.
 *
 * Parameters are not cast: PostgreSQL gives each the type of the column it is compared with, so
 * `text`, `varchar` and `uuid` columns all work.
 *
 * @example
 * ```ts
 * const where = filterToSql(filter, { columns: { orgId: "org_id", id: "id", attributes: { siteId: "site_id" } }, alias: "i" });
 * await pool.query(`SELECT i.* FROM inspections i WHERE ${where.text} ORDER BY i.created_at`, where.values);
 * ```
 */
export function filterToSql(filter: SqlFilterSource, options: ToSqlOptions): SqlCondition {
  if (typeof options !== "object" || options === null) throw new KeywardError("invalid_input", 'Invalid input at "options": expected an object.', { field: "options" });
  const { columns, alias } = options;
  if (typeof columns !== "object" || columns === null) throw new KeywardError("invalid_input", 'Invalid input at "columns": expected an object.', { field: "columns" });
  const offset = options.paramOffset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new KeywardError("invalid_input", 'Invalid input at "paramOffset": expected a non-negative integer.', { field: "paramOffset" });
  }
  const prefix = alias === undefined ? "" : `${quoted(alias, "alias")}.`;
  const orgCol = prefix + quoted(columns.orgId, "columns.orgId");
  const idCol = prefix + quoted(columns.id, "columns.id");
  const typeCol = columns.type === undefined ? null : prefix + quoted(columns.type, "columns.type");
  const attributeCols = new Map<string, string>();
  if (columns.attributes !== undefined) {
    if (typeof columns.attributes !== "object" || columns.attributes === null) {
      throw new KeywardError("invalid_input", 'Invalid input at "columns.attributes": expected an object.', { field: "columns.attributes" });
    }
    for (const [attribute, column] of Object.entries(columns.attributes)) {
      attributeCols.set(attribute, prefix + quoted(column, `columns.attributes.${attribute}`));
    }
  }
  // Fail closed before building anything: a rule whose attribute has no column cannot be expressed.
  for (const rule of filter.rules) {
    for (const attribute of Object.keys(rule.conditions)) {
      if (!attributeCols.has(attribute)) {
        throw new KeywardError(
          "invalid_input",
          `Invalid input at "columns.attributes.${attribute}": an access rule tests the attribute "${attribute}", which has no column. Map it (columns.attributes.${attribute}); keyward never drops a rule's condition.`,
          { field: `columns.attributes.${attribute}` },
        );
      }
    }
  }

  const values: (string | string[])[] = [];
  const param = (v: string | string[]) => {
    values.push(v);
    return `$${offset + values.length}`;
  };
  const wholeOrgs = new Set(filter.rules.filter((r) => Object.keys(r.conditions).length === 0 && r.ids === undefined).map((r) => r.orgId));
  const parts: string[] = [];
  for (const orgId of [...wholeOrgs].sort()) parts.push(`${orgCol} = ${param(orgId)}`);
  for (const { orgId, ids } of filter.shared) {
    if (wholeOrgs.has(orgId) || ids.length === 0) continue;
    parts.push(`(${orgCol} = ${param(orgId)} AND ${idCol} = ANY(${param([...ids])}))`);
  }
  const seen = new Set<string>();
  for (const rule of filter.rules) {
    if (wholeOrgs.has(rule.orgId)) continue;
    const keys = Object.keys(rule.conditions).sort();
    const ids = rule.ids === undefined ? null : [...rule.ids].sort();
    if (ids !== null && ids.length === 0) continue;
    const canonical = JSON.stringify([rule.orgId, keys.map((k) => [k, [...rule.conditions[k]!].sort()]), ids]);
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    const tests = keys.map((k) => {
      const col = attributeCols.get(k)!;
      return `${col} IS NOT NULL AND ${col} = ANY(${param([...rule.conditions[k]!])})`;
    });
    if (ids !== null) tests.unshift(`${idCol} = ANY(${param(ids)})`);
    parts.push(`(${orgCol} = ${param(rule.orgId)} AND ${tests.join(" AND ")})`);
  }
  if (parts.length === 0) return { text: "FALSE", values: [] };
  const any = parts.length === 1 ? parts[0]! : `(${parts.join(" OR ")})`;
  return { text: typeCol === null ? any : `(${typeCol} = ${param(filter.itemType)} AND ${any})`, values };
}
