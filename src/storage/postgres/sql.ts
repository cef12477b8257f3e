/**
 * Every SQL text of the PostgreSQL store, its migrations, and the row mappers: nothing here
 * talks to a driver (STYLE 4). Queries are built once per schema by {@link queries}.
 *
 * Times are stored as `bigint` milliseconds since the epoch (the same numbers the core uses);
 * grantees and rule conditions as `jsonb`; id lists as `text[]`.
 * @module
 */
import { compileRules, compileShares, noGrants, pathsFrom, type RuleSource, type ShareSource } from "../../core/compile.js";
import { KeywardError } from "../../core/errors.js";
import { NEVER, type TokenSort } from "../../core/lifecycle.js";
import type {
  AccessLevel,
  AccessRule,
  Grantee,
  GrantIndex,
  Group,
  LoadedSubject,
  Membership,
  MembershipStatus,
  Organization,
  PermissionSet,
  RevocationCause,
  ServiceUser,
  Share,
  Site,
  SubjectKind,
  TokenClient,
  TokenPolicy,
  TokenRecord,
  TokenRestriction,
  User,
} from "../../core/types.js";

/** A row as a driver returns it: column name → value. */
export type Row = Record<string, unknown>;

/**
 * The default schema of keyward's tables.
 *
 * @example
 * ```ts
 * migrationSql({ schema: DEFAULT_SCHEMA }) // the same as migrationSql()
 * ```
 */
export const DEFAULT_SCHEMA = "keyward";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * Checks a schema name: lowercase letters, digits and `_`, starting with a letter or `_`, at most
 * 48 characters (the notification channel `keyward_<schema>` must fit PostgreSQL's 63).
 * Throws `invalid_config` otherwise: the name is interpolated into SQL, so nothing else passes.
 *
 * @example
 * ```ts
 * checkSchemaName("keyward") // "keyward"
 * checkSchemaName('x"; DROP TABLE y; --') // throws KeywardError invalid_config
 * ```
 */
export function checkSchemaName(schema: unknown): string {
  if (typeof schema !== "string" || !IDENTIFIER.test(schema)) {
    throw new KeywardError(
      "invalid_config",
      "Invalid configuration at \"schema\": use 1–48 lowercase letters, digits or underscores, starting with a letter or underscore.",
      { field: "schema" },
    );
  }
  return schema;
}

/** The LISTEN/NOTIFY channel of a schema: every write that can change a decision notifies it. */
export function channelName(schema: string): string {
  return `keyward_${schema}`;
}

/**
 * The index key of a grantee (`jsonb` column `column`), as `loadAccess` looks it up: a one-letter
 * kind, `:`, the id — `u:` user, `s:` service user, `g:` group, `t:` site, `o:` organization,
 * `O:` organization including service users (so a service user's read finds only those). The
 * same expression text is used by the indexes of migration 2 and by the query, so that the
 * planner matches them; `NULL` for a malformed grantee (never found). Immutable (`->>`, `CASE`,
 * `||` on text only).
 *
 * @example
 * ```ts
 * `SELECT id FROM shares sh WHERE sh.item_type = $1 AND ${granteeKeySql("sh.grantee")} = ANY ($2::text[])`
 * // with $2 = ["u:u_ana", "g:grp_auditors", "o:acme", "O:acme"]
 * ```
 */
export function granteeKeySql(column: string): string {
  return `(CASE ${column}->>'kind'
    WHEN 'user' THEN 'u:' || (${column}->>'userId')
    WHEN 'service_user' THEN 's:' || (${column}->>'serviceUserId')
    WHEN 'group' THEN 'g:' || (${column}->>'groupId')
    WHEN 'site' THEN 't:' || (${column}->>'siteId')
    WHEN 'organization' THEN (CASE WHEN ${column}->>'includeServiceUsers' = 'true' THEN 'O:' ELSE 'o:' END) || (${column}->>'orgId')
  END)`;
}

/** One versioned migration: statements, each idempotent (`IF NOT EXISTS`). */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/**
 * The migrations for a schema, in order. Each statement is idempotent, so running the whole list
 * twice (or after a host's own tool applied part of it) changes nothing.
 *
 * @example
 * ```ts
 * for (const m of migrations("keyward")) console.log(m.version, m.name);
 * ```
 */
export function migrations(schema: string): Migration[] {
  const s = `"${checkSchemaName(schema)}"`;
  return [
    {
      version: 1,
      name: "initial schema",
      statements: [
        `CREATE TABLE IF NOT EXISTS ${s}.organizations (
  id text PRIMARY KEY,
  name text NOT NULL,
  sso_only boolean NOT NULL
)`,
        `CREATE TABLE IF NOT EXISTS ${s}.users (
  id text PRIMARY KEY,
  name text NOT NULL
)`,
        `CREATE TABLE IF NOT EXISTS ${s}.memberships (
  org_id text NOT NULL,
  user_id text NOT NULL,
  permission_set_id text,
  group_ids text[] NOT NULL,
  site_ids text[] NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'deactivated', 'left')),
  seat boolean NOT NULL,
  epoch text NOT NULL,
  PRIMARY KEY (org_id, user_id)
)`,
        `CREATE TABLE IF NOT EXISTS ${s}.permission_sets (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  name text NOT NULL,
  permissions text[] NOT NULL
)`,
        `CREATE TABLE IF NOT EXISTS ${s}.groups (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  name text NOT NULL
)`,
        `CREATE TABLE IF NOT EXISTS ${s}.sites (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  name text NOT NULL,
  parent_id text,
  path text[] NOT NULL
)`,
        `CREATE TABLE IF NOT EXISTS ${s}.service_users (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  name text NOT NULL,
  permission_set_id text,
  status text NOT NULL CHECK (status IN ('active', 'deleted')),
  created_by text,
  created_at bigint NOT NULL
)`,
        `CREATE INDEX IF NOT EXISTS service_users_org ON ${s}.service_users (org_id)`,
        `CREATE TABLE IF NOT EXISTS ${s}.shares (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  item_org_id text NOT NULL,
  item_type text NOT NULL,
  item_id text NOT NULL,
  grantee jsonb NOT NULL,
  level text NOT NULL CHECK (level IN ('view', 'edit', 'delete')),
  created_at bigint NOT NULL
)`,
        `CREATE INDEX IF NOT EXISTS shares_item ON ${s}.shares (item_org_id, item_type, item_id)`,
        `CREATE TABLE IF NOT EXISTS ${s}.rules (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  org_id text NOT NULL,
  item_type text NOT NULL,
  conditions jsonb NOT NULL,
  grantee jsonb NOT NULL,
  level text NOT NULL CHECK (level IN ('view', 'edit', 'delete')),
  created_at bigint NOT NULL
)`,
        `CREATE INDEX IF NOT EXISTS rules_org_type ON ${s}.rules (org_id, item_type)`,
        `CREATE TABLE IF NOT EXISTS ${s}.tokens (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('user', 'service_user')),
  org_id text NOT NULL,
  subject_id text NOT NULL,
  name text NOT NULL,
  hash text NOT NULL UNIQUE,
  hint text NOT NULL,
  epoch text,
  created_at bigint NOT NULL,
  created_by text,
  last_used_at bigint,
  revoked_at bigint,
  deleted_at bigint,
  expired_at bigint
)`,
        `CREATE INDEX IF NOT EXISTS tokens_owner ON ${s}.tokens (org_id, kind, subject_id)`,
      ],
    },
    {
      version: 2,
      name: "grantee indexes for list filters",
      statements: [
        // loadAccess: the shares and rules of one item type whose grantee key is one of the subject's.
        `CREATE INDEX IF NOT EXISTS shares_type_grantee ON ${s}.shares (item_type, ${granteeKeySql("grantee")})`,
        `CREATE INDEX IF NOT EXISTS rules_type_grantee ON ${s}.rules (item_type, ${granteeKeySql("grantee")})`,
        // loadAccess: the sites at or below a member site (their path contains one of them).
        `CREATE INDEX IF NOT EXISTS sites_path ON ${s}.sites USING gin (path)`,
      ],
    },
    {
      version: 3,
      name: "revocation cause",
      // R22: why a token was revoked (`leaked`), NULL for a revocation by a person and for older rows.
      statements: [`ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS revoked_cause text`],
    },
    {
      version: 4,
      name: "cache leases",
      statements: [
        // One row per caching instance (see lease.ts): the lease runs until `expires_us`, and every
        // change committed before `acked_us` is no longer served by that instance. Database clock, microseconds.
        `CREATE TABLE IF NOT EXISTS ${s}.cache_leases (
  instance_id text PRIMARY KEY,
  application_name text NOT NULL,
  expires_us bigint NOT NULL,
  acked_us bigint NOT NULL
)`,
      ],
    },
    {
      version: 5,
      name: "indexes for paged listings",
      statements: [
        // pageTokens: an organization's tokens of one kind, in creation order.
        `CREATE INDEX IF NOT EXISTS tokens_org_kind_created ON ${s}.tokens (org_id, kind, created_at, id COLLATE "C")`,
        // pageMembers: an organization's memberships by status.
        `CREATE INDEX IF NOT EXISTS memberships_org_status ON ${s}.memberships (org_id, status)`,
      ],
    },
    {
      version: 6,
      name: "token lifecycle: restriction, expiry, rotation, warnings, clients, policy",
      statements: [
        // R17: the token's restriction (JSON), NULL for a full-access token.
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS restriction jsonb`,
        // R19: the chosen expiry date, and the end of the lifetime the organization's policy allows.
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS expires_at bigint`,
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS policy_expires_at bigint`,
        // R18: the secret before the last rotation and until when it works.
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS previous_hash text`,
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS previous_hash_until bigint`,
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS rotated_at bigint`,
        `CREATE UNIQUE INDEX IF NOT EXISTS tokens_previous_hash ON ${s}.tokens (previous_hash) WHERE previous_hash IS NOT NULL`,
        // R20: the deadline last warned for, and the smallest threshold warned.
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS warned_deadline bigint`,
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS warned_threshold_ms bigint`,
        // Opt-in: the last few distinct clients (JSON array).
        `ALTER TABLE ${s}.tokens ADD COLUMN IF NOT EXISTS clients jsonb`,
        // R19: the organization's token lifetime policy (JSON), NULL for none.
        `ALTER TABLE ${s}.organizations ADD COLUMN IF NOT EXISTS token_policy jsonb`,
      ],
    },
    {
      version: 7,
      name: "site paths on site grants, user names on memberships",
      // Two copies that spare the hot reads a join each, kept by triggers so that every writer keeps
      // them (an instance of an older version during a rolling deploy, a host's own SQL):
      // - R13: the path of the site a share or rule names (NULL for other grantees). A site's path
      //   never changes and a site is never deleted: the path is copied when the grant is inserted,
      //   and by the site's insertion for a grant written before its site.
      // - the user's name on each of its memberships: copied when the membership is written, under a
      //   share lock on the user's row, and by every insertion or rename of the user, which holds that
      //   row; each trigger's statement takes a fresh snapshot, so a rename and a new membership never
      //   miss each other.
      statements: [
        `ALTER TABLE ${s}.shares ADD COLUMN IF NOT EXISTS grantee_path text[]`,
        `ALTER TABLE ${s}.rules ADD COLUMN IF NOT EXISTS grantee_path text[]`,
        `ALTER TABLE ${s}.memberships ADD COLUMN IF NOT EXISTS user_name text`,
        // A site's insertion: the grants that name it (few), by site id. A rename: the user's memberships.
        `CREATE INDEX IF NOT EXISTS shares_grantee_site ON ${s}.shares ((grantee->>'siteId')) WHERE grantee->>'kind' = 'site'`,
        `CREATE INDEX IF NOT EXISTS rules_grantee_site ON ${s}.rules ((grantee->>'siteId')) WHERE grantee->>'kind' = 'site'`,
        `CREATE INDEX IF NOT EXISTS memberships_user ON ${s}.memberships (user_id)`,
        `CREATE OR REPLACE FUNCTION ${s}.kw_grantee_path() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.grantee_path := CASE WHEN NEW.grantee->>'kind' = 'site' THEN (SELECT st.path FROM ${s}.sites st WHERE st.id = NEW.grantee->>'siteId') END; RETURN NEW; END $$`,
        `DROP TRIGGER IF EXISTS kw_grantee_path ON ${s}.shares`,
        `CREATE TRIGGER kw_grantee_path BEFORE INSERT OR UPDATE OF grantee ON ${s}.shares FOR EACH ROW EXECUTE FUNCTION ${s}.kw_grantee_path()`,
        `DROP TRIGGER IF EXISTS kw_grantee_path ON ${s}.rules`,
        `CREATE TRIGGER kw_grantee_path BEFORE INSERT OR UPDATE OF grantee ON ${s}.rules FOR EACH ROW EXECUTE FUNCTION ${s}.kw_grantee_path()`,
        `CREATE OR REPLACE FUNCTION ${s}.kw_site_grants() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE ${s}.shares SET grantee_path = NEW.path WHERE grantee->>'kind' = 'site' AND grantee->>'siteId' = NEW.id AND grantee_path IS DISTINCT FROM NEW.path; UPDATE ${s}.rules SET grantee_path = NEW.path WHERE grantee->>'kind' = 'site' AND grantee->>'siteId' = NEW.id AND grantee_path IS DISTINCT FROM NEW.path; RETURN NULL; END $$`,
        `DROP TRIGGER IF EXISTS kw_site_grants ON ${s}.sites`,
        `CREATE TRIGGER kw_site_grants AFTER INSERT OR UPDATE OF path ON ${s}.sites FOR EACH ROW EXECUTE FUNCTION ${s}.kw_site_grants()`,
        `CREATE OR REPLACE FUNCTION ${s}.kw_membership_user_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.user_name := (SELECT u.name FROM ${s}.users u WHERE u.id = NEW.user_id FOR SHARE); RETURN NEW; END $$`,
        `DROP TRIGGER IF EXISTS kw_membership_user_name ON ${s}.memberships`,
        `CREATE TRIGGER kw_membership_user_name BEFORE INSERT OR UPDATE ON ${s}.memberships FOR EACH ROW EXECUTE FUNCTION ${s}.kw_membership_user_name()`,
        `CREATE OR REPLACE FUNCTION ${s}.kw_user_memberships() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE ${s}.memberships SET user_name = NEW.name WHERE user_id = NEW.id AND user_name IS DISTINCT FROM NEW.name; RETURN NULL; END $$`,
        `DROP TRIGGER IF EXISTS kw_user_memberships ON ${s}.users`,
        `CREATE TRIGGER kw_user_memberships AFTER INSERT OR UPDATE OF name ON ${s}.users FOR EACH ROW EXECUTE FUNCTION ${s}.kw_user_memberships()`,
        // The rows written before: once each.
        `UPDATE ${s}.shares g SET grantee_path = st.path FROM ${s}.sites st
WHERE g.grantee->>'kind' = 'site' AND st.id = g.grantee->>'siteId' AND g.grantee_path IS NULL`,
        `UPDATE ${s}.rules g SET grantee_path = st.path FROM ${s}.sites st
WHERE g.grantee->>'kind' = 'site' AND st.id = g.grantee->>'siteId' AND g.grantee_path IS NULL`,
        `UPDATE ${s}.memberships m SET user_name = u.name FROM ${s}.users u WHERE u.id = m.user_id AND m.user_name IS DISTINCT FROM u.name`,
      ],
    },
  ];
}

/** Statements that create the schema and the table recording applied migrations. */
export function bootstrapStatements(schema: string): string[] {
  const s = `"${checkSchemaName(schema)}"`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.keyward_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`,
  ];
}

/**
 * The whole schema as one SQL script (idempotent), for a host's own migration tool.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { migrationSql } from "keyward/postgres";
 * writeFileSync("migrations/001_keyward.sql", migrationSql({ schema: "auth" }));
 * ```
 */
export function migrationSql(options: { schema?: string } = {}): string {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const s = `"${schema}"`;
  const parts = [`-- keyward schema "${schema}" (idempotent: safe to run again)`, ...bootstrapStatements(schema).map((q) => `${q};`)];
  for (const m of migrations(schema)) {
    parts.push(`-- migration ${m.version}: ${m.name}`, ...m.statements.map((q) => `${q};`));
    parts.push(`INSERT INTO ${s}.keyward_migrations (version, name) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}') ON CONFLICT (version) DO NOTHING;`);
  }
  return `${parts.join("\n")}\n`;
}

// ── queries ──────────────────────────────────────────────────────────────────────────────────

/** The database's clock in epoch milliseconds, read in the statement that makes a decision (one clock for every instance). */
const DB_NOW_EXPR = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
const DB_NOW = `${DB_NOW_EXPR} AS db_now`;
/** The database's clock in epoch microseconds (leases and acknowledgements). */
const CLOCK_US = "(extract(epoch from clock_timestamp()) * 1000000)::bigint";

/** The sorts of token listings, each with its key mirroring `tokenSortKey` (over `x.lu`, the last use with this process's unwritten uses). */
const TOKEN_SORTS: readonly TokenSort[] = ["created", "last_used", "expires"];
const SORT_KEY: Record<TokenSort, string> = {
  created: "t.created_at",
  last_used: "COALESCE(x.lu, -1)",
  // R19: the effective expiry, the earliest of the date, the policy's end and (user tokens) the inactivity deadline; NEVER when none.
  expires: `COALESCE(LEAST(t.expires_at, t.policy_expires_at, CASE WHEN t.kind = 'user' THEN GREATEST(t.created_at, x.lu) + $7::bigint END), ${NEVER})`,
};
/**
 * The token's columns in a read, in order (the columns of {@link rows.token}). A read packs them
 * into one `json` array where it finds the token, so that the joins above it carry one column
 * instead of 24 (each join's tuple and projection cost the server per column, per call).
 */
const TOKEN_FIELDS = [
  "id", "kind", "org_id", "subject_id", "name", "hash", "hint", "epoch", "created_at", "created_by", "last_used_at", "revoked_at",
  "revoked_cause", "deleted_at", "expired_at", "restriction", "expires_at", "policy_expires_at", "previous_hash", "previous_hash_until",
  "rotated_at", "warned_deadline", "warned_threshold_ms", "clients",
] as const;
/** The token's columns of a statement that reads token rows (alias `t`), in {@link TOKEN_FIELDS}' order. */
const TOKEN_COLUMNS = TOKEN_FIELDS.map((f) => `t.${f}`).join(", ");
/** A membership's columns in a read (packed like the token's), in order. */
const MEMBERSHIP_FIELDS = ["user_id", "permission_set_id", "group_ids", "site_ids", "status", "seat", "epoch"] as const;
/** A service user's columns in a read (packed like the token's), in order. */
const SERVICE_USER_FIELDS = ["id", "org_id", "name", "permission_set_id", "status", "created_by", "created_at"] as const;

/** The position of each name of `names` in its packed array. */
function positions<T extends readonly string[]>(names: T): { readonly [K in T[number]]: number } {
  return Object.freeze(Object.fromEntries(names.map((name, i) => [name, i]))) as { readonly [K in T[number]]: number };
}
const TOKEN_AT = positions(TOKEN_FIELDS);
const MEMBERSHIP_AT = positions(MEMBERSHIP_FIELDS);
const SERVICE_USER_AT = positions(SERVICE_USER_FIELDS);
/**
 * The elements of a read's one `json` array, in order: the token (packed), the user's name, the
 * membership (packed, NULL without one), the service user (packed, NULL when gone), the
 * permissions of the subject's set, the database's clock, then (the decision read with an item,
 * the list read) the shares and the rules. {@link decisionRead} and {@link accessRead} decode them
 * by position: a statement of 40 columns costs the server and the driver more per call (row
 * description, one value per column) than its whole execution.
 */
const READ_AT = { token: 0, userName: 1, membership: 2, serviceUser: 3, permissions: 4, dbNow: 5, shares: 6, rules: 7 } as const;

/**
 * Every statement of the store for one schema. `$n` parameters only: values are never
 * interpolated. Writes that can change a decision notify the schema's channel in the same
 * statement (`pg_notify` over a data-modifying CTE), so the notification is delivered exactly
 * when the write commits.
 */
export function queries(schema: string) {
  const s = `"${checkSchemaName(schema)}"`;
  const notify = (payload: string) => `pg_notify('${channelName(schema)}', ${payload})`;
  /** A token row `x` of `from`, packed ({@link TOKEN_FIELDS}), with the three columns the joins use. */
  const packedToken = (from: string) =>
    `SELECT json_build_array(${TOKEN_FIELDS.map((f) => `x.${f}`).join(", ")}) AS tj, x.kind, x.org_id, x.subject_id FROM ${from}`;
  /**
   * The token a read starts from, R18: the token whose digest in `column` is `$1`. Each read
   * has two statements: by the current digest (`hash`), and, run only when that finds nothing,
   * by the previous one (`previous_hash`: a rotation's grace period; the core decides whether it
   * still works). A current secret so costs one index lookup and opens no relation it does not
   * use (one statement for both plans a second index scan under a `LIMIT`, set up on every call).
   */
  const tokenByDigest = (column: "hash" | "previous_hash") => `FROM (${packedToken(`${s}.tokens x WHERE x.${column} = $1`)}) t`;
  /**
   * The subject of the token row `t`: the joins shared by `loadDecision` and `loadAccess`, for
   * a token of either kind (`any`) or of one kind (the kind the presented token's prefix names,
   * {@link ReadKind}). The `any` joins look each subject table up with a key that is NULL for the
   * other kind of token, so a user token never descends the service users' index (nor a service
   * token the memberships'); but PostgreSQL still opens both tables and both indexes on every
   * execution. The joins of one kind open only that kind's. The user's name comes with the
   * membership (`user_name`, migration 7): no join to users.
   *
   * The joins return plain columns; the membership and the service user are packed at the top
   * ({@link subjectArray}). Packed inside the outer-joined sub-selects, the `json_build_array`
   * would be evaluated for every row the scan returns, before the join's condition: on a small
   * table, which PostgreSQL scans whole once it has statistics (a few hundred memberships), that
   * is one JSON array per membership of every organization on every read.
   */
  const membershipJoin = `LEFT JOIN LATERAL (SELECT ${MEMBERSHIP_FIELDS.map((f) => `m.${f}`).join(", ")}, m.user_name
  FROM ${s}.memberships m WHERE m.org_id = t.org_id AND m.user_id = (CASE WHEN t.kind = 'user' THEN t.subject_id END)) m ON true`;
  const serviceUserJoin = `LEFT JOIN LATERAL (SELECT ${SERVICE_USER_FIELDS.map((f) => `su.${f}`).join(", ")}
  FROM ${s}.service_users su WHERE su.id = (CASE WHEN t.kind = 'service_user' THEN t.subject_id END)) su ON true`;
  const subjectJoins: Record<ReadKind, string> = {
    any: `${membershipJoin}
${serviceUserJoin}
LEFT JOIN ${s}.permission_sets p
  ON p.id = (CASE WHEN t.kind = 'user' THEN m.permission_set_id ELSE su.permission_set_id END)
  AND p.org_id = (CASE WHEN t.kind = 'user' THEN t.org_id ELSE su.org_id END)`,
    user: `${membershipJoin}
LEFT JOIN ${s}.permission_sets p ON p.id = m.permission_set_id AND p.org_id = t.org_id`,
    service_user: `${serviceUserJoin}
LEFT JOIN ${s}.permission_sets p ON p.id = su.permission_set_id AND p.org_id = su.org_id`,
  };
  /** A subject row packed ({@link MEMBERSHIP_FIELDS}, {@link SERVICE_USER_FIELDS}), NULL when the join found none (its key column is NOT NULL). */
  const packed = (alias: string, fields: readonly string[]) => `CASE WHEN ${alias}.${fields[0]} IS NULL THEN NULL ELSE json_build_array(${fields.map((f) => `${alias}.${f}`).join(", ")}) END`;
  const packedMembership = packed("m", MEMBERSHIP_FIELDS);
  const packedServiceUser = packed("su", SERVICE_USER_FIELDS);
  /** The subject's elements of a read's array ({@link READ_AT}), the database's clock last; NULL for what the joins of one kind do not read. */
  const subjectArray: Record<ReadKind, string> = {
    any: `t.tj, m.user_name, ${packedMembership}, ${packedServiceUser}, p.permissions, ${DB_NOW_EXPR}`,
    user: `t.tj, m.user_name, ${packedMembership}, NULL, p.permissions, ${DB_NOW_EXPR}`,
    service_user: `t.tj, NULL, NULL, ${packedServiceUser}, p.permissions, ${DB_NOW_EXPR}`,
  };
  /**
   * The decision read's test of a share's grantee against the subject (R12–R14): only a share
   * whose grantee could include the subject is returned. A service user is included only by a
   * share to itself or to its organization with `includeServiceUsers`.
   */
  const shareIncludes: Record<ReadKind, string> = {
    any: `(CASE sh.grantee->>'kind'
        WHEN 'user' THEN t.kind = 'user' AND sh.grantee->>'userId' = t.subject_id
        WHEN 'service_user' THEN t.kind = 'service_user' AND sh.grantee->>'serviceUserId' = t.subject_id
        WHEN 'organization' THEN sh.grantee->>'orgId' = t.org_id AND (t.kind = 'user' OR sh.grantee->>'includeServiceUsers' = 'true')
        WHEN 'group' THEN t.kind = 'user' AND $2::text = t.org_id AND sh.grantee->>'groupId' = ANY (m.group_ids)
        WHEN 'site' THEN t.kind = 'user' AND $2::text = t.org_id AND sh.grantee_path && m.site_ids
        ELSE false END)`,
    user: `(CASE sh.grantee->>'kind'
        WHEN 'user' THEN t.kind = 'user' AND sh.grantee->>'userId' = t.subject_id
        WHEN 'organization' THEN sh.grantee->>'orgId' = t.org_id AND t.kind = 'user'
        WHEN 'group' THEN t.kind = 'user' AND $2::text = t.org_id AND sh.grantee->>'groupId' = ANY (m.group_ids)
        WHEN 'site' THEN t.kind = 'user' AND $2::text = t.org_id AND sh.grantee_path && m.site_ids
        ELSE false END)`,
    service_user: `(CASE sh.grantee->>'kind'
        WHEN 'service_user' THEN t.kind = 'service_user' AND sh.grantee->>'serviceUserId' = t.subject_id
        WHEN 'organization' THEN sh.grantee->>'orgId' = t.org_id AND t.kind = 'service_user' AND sh.grantee->>'includeServiceUsers' = 'true'
        ELSE false END)`,
  };
  /** The list read's grantee keys of the subject (as `loadAccess` matches them; see there). */
  const userKeys = `ARRAY['u:' || t.subject_id, 'o:' || t.org_id, 'O:' || t.org_id]
      -- Each sub-select only when the membership has groups / sites (most have neither).
      || (CASE WHEN m.group_ids <> '{}' THEN ARRAY(SELECT 'g:' || gid FROM unnest(m.group_ids) AS gid) ELSE '{}' END)
      || (CASE WHEN m.site_ids <> '{}' THEN ARRAY(SELECT 't:' || st.id FROM ${s}.sites st WHERE st.path && m.site_ids) ELSE '{}' END)`;
  const serviceUserKeys = `ARRAY['O:' || t.org_id, 's:' || t.subject_id]`;
  const subjectKeys: Record<ReadKind, string> = {
    any: `CASE WHEN t.kind = 'user'
    THEN ${userKeys}
    ELSE ${serviceUserKeys} END`,
    user: `CASE WHEN t.kind = 'user' THEN ${userKeys} ELSE '{}' END`,
    service_user: `CASE WHEN t.kind = 'service_user' THEN ${serviceUserKeys} ELSE '{}' END`,
  };
  /**
   * The three reads a decision or a list filter starts with, each from the packed token row of
   * `from` (a `FROM (…) t`, {@link packedToken}), for a token of either kind or of one
   * ({@link ReadKind}). A read of one kind that finds a token of the other returns the token with
   * no subject (NULL membership, service user and permissions) and no grant: the caller, which
   * named the kind from the presented token's prefix, refuses it as `token_unknown` (R15).
   */
  const reads = (from: string, kind: ReadKind = "any") => {
    const source = `${from}\n${subjectJoins[kind]}`;
    const subject = subjectArray[kind];
    return {
      /**
       * The read for one decision on an item, in ONE statement returning one row of one `json`
       * array (see {@link decisionRead}): the token by digest, its subject (user + membership, or
       * service user), the permissions of the subject's set, the database's clock, then two
       * arrays: the item's shares whose grantee could include the subject (the grantee keys of
       * `loadAccess`; groups and sites only on an item of the token's own organization, R14) and
       * the rules of its organization for its type, each with the path of the site it names (kept
       * on the grant's row, `grantee_path`: no join to sites) — an
       * index scan of `shares_item` and one of `rules_org_type`, each an `ARRAY(SELECT …)` (no
       * aggregate, no JSON object per grant), unordered (the mapper restores insertion order,
       * `seq`: a sort per call costs the server more). The item's other shares
       * are never returned, so a decision's work does not depend on them (R15: a denial never
       * tells whether another organization's item exists). No row when no token has the digest.
       */
      loadDecision: `SELECT json_build_array(${subject},
  ARRAY(SELECT json_build_array(sh.seq, sh.id, sh.grantee, sh.level, sh.grantee_path) FROM ${s}.shares sh
    WHERE sh.item_org_id = $2::text AND sh.item_type = $3::text AND sh.item_id = $4::text
      -- Only a share whose grantee could include the subject.
      AND ${shareIncludes[kind]}),
  ARRAY(SELECT json_build_array(r.seq, r.id, r.conditions, r.grantee, r.level, r.grantee_path) FROM ${s}.rules r
    WHERE r.org_id = $2::text AND r.item_type = $3::text)) AS decision_read
${source}`,
      /**
       * The read for one decision without an item (`loadDecision(digest, null)`): the token, its
       * subject, its permissions and the database's clock, as {@link loadDecision} reads them,
       * with no grant at all (the plan has no scan of shares, rules or sites).
       */
      loadDecisionNoItem: `SELECT json_build_array(${subject}) AS decision_read
${source}`,

      /**
       * The read for one list filter, in ONE statement returning one row of one `json` array (see
       * {@link accessRead}): the token and its subject exactly as `loadDecision` reads them, the
       * database's clock, then every share and every rule of item type `$2` (unordered: the
       * mapper restores insertion order) whose grantee key is one of the subject's (`k.keys`: user token — the user, its
       * organization with either `includeServiceUsers`, the groups of its membership, every site
       * whose path contains a member site; service-user token — the service user, its
       * organization including service users) — an index scan of `shares_type_grantee` /
       * `rules_type_grantee` (migration 2), never a scan of all shares — each with the path of the
       * site it names (`grantee_path`). No row when no token has the digest `$1`.
       */
      loadAccess: `SELECT json_build_array(${subject},
  ARRAY(SELECT json_build_array(sh.seq, sh.id, sh.item_org_id, sh.item_id, sh.grantee, sh.level, sh.created_at, sh.grantee_path) FROM ${s}.shares sh
    WHERE sh.item_type = $2::text AND ${granteeKeySql("sh.grantee")} = ANY (k.keys)),
  ARRAY(SELECT json_build_array(r.seq, r.id, r.org_id, r.conditions, r.grantee, r.level, r.created_at, r.grantee_path) FROM ${s}.rules r
    WHERE r.item_type = $2::text AND ${granteeKeySql("r.grantee")} = ANY (k.keys))) AS access_read
${source}
CROSS JOIN LATERAL (SELECT ${subjectKeys[kind]} AS keys OFFSET 0) k`,
    };
  };
  const statements = {
    lockMigrations: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
    appliedMigrations: `SELECT version FROM ${s}.keyward_migrations ORDER BY version`,
    recordMigration: `INSERT INTO ${s}.keyward_migrations (version, name) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING`,

    putOrganization: `WITH w AS (INSERT INTO ${s}.organizations (id, name, sso_only, token_policy) VALUES ($1, $2, $3, $4)
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sso_only = EXCLUDED.sso_only, token_policy = EXCLUDED.token_policy RETURNING id)
SELECT ${notify("'org:' || id")} FROM w`,
    getOrganization: `SELECT id, name, sso_only, token_policy FROM ${s}.organizations WHERE id = $1`,
    putUser: `WITH w AS (INSERT INTO ${s}.users (id, name) VALUES ($1, $2)
  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id)
SELECT ${notify("'user:' || id")} FROM w`,
    getUser: `SELECT id, name FROM ${s}.users WHERE id = $1`,
    /**
     * A membership write's first statement: takes the share lock on the user's row that the
     * membership's trigger takes (migration 7) before the membership's own lock, the order in which
     * a rename takes them, so the two never wait for each other in a cycle.
     */
    shareUser: `SELECT 1 FROM ${s}.users WHERE id = $1 FOR SHARE`,

    getMembership: `SELECT org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch FROM ${s}.memberships WHERE org_id = $1 AND user_id = $2`,
    lockMembership: `SELECT org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch, ${DB_NOW} FROM ${s}.memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE`,
    /** Serializes the creation of a row that does not exist yet (no row to lock). */
    lockKey: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
    putMembership: `WITH w AS (INSERT INTO ${s}.memberships (org_id, user_id, permission_set_id, group_ids, site_ids, status, seat, epoch)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (org_id, user_id) DO UPDATE SET permission_set_id = EXCLUDED.permission_set_id, group_ids = EXCLUDED.group_ids,
    site_ids = EXCLUDED.site_ids, status = EXCLUDED.status, seat = EXCLUDED.seat, epoch = EXCLUDED.epoch
  RETURNING org_id, user_id)
SELECT ${notify("'membership:' || org_id || ':' || user_id")} FROM w`,
    /**
     * One page of members (`pageMembers`) by name then user id (code-unit order) and the number
     * matching in all: `$1` organization, `$2` statuses, `$3` search or null, `$4`/`$5` the
     * (name, user id) to start after or nulls, `$6` the limit. One row with `total` and null
     * member columns when the page is empty.
     */
    pageMembers: `WITH f AS (
  SELECT m.org_id, m.user_id, m.permission_set_id, m.group_ids, m.site_ids, m.status, m.seat, m.epoch, COALESCE(u.name, m.user_id) AS user_name
  FROM ${s}.memberships m LEFT JOIN ${s}.users u ON u.id = m.user_id
  WHERE m.org_id = $1 AND m.status = ANY($2::text[])
    AND ($3::text IS NULL OR strpos(lower(COALESCE(u.name, m.user_id)), lower($3::text)) > 0 OR strpos(lower(m.user_id), lower($3::text)) > 0)
)
SELECT c.total, pg.* FROM (SELECT count(*)::int AS total FROM f) c
LEFT JOIN LATERAL (
  SELECT * FROM f WHERE $4::text IS NULL OR (f.user_name COLLATE "C", f.user_id COLLATE "C") > ($4::text COLLATE "C", $5::text COLLATE "C")
  ORDER BY f.user_name COLLATE "C", f.user_id COLLATE "C" LIMIT $6::int
) pg ON true`,
    listMembers: `SELECT m.org_id, m.user_id, m.permission_set_id, m.group_ids, m.site_ids, m.status, m.seat, m.epoch, u.name AS user_name
FROM ${s}.memberships m LEFT JOIN ${s}.users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY m.user_id`,

    putPermissionSet: `WITH w AS (INSERT INTO ${s}.permission_sets (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)
  ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, name = EXCLUDED.name, permissions = EXCLUDED.permissions RETURNING id)
SELECT ${notify("'permission_set:' || id")} FROM w`,
    insertPermissionSet: `WITH w AS (INSERT INTO ${s}.permission_sets (id, org_id, name, permissions) VALUES ($1, $2, $3, $4)
  ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT ${notify("'permission_set:' || id")} FROM w`,
    getPermissionSet: `SELECT id, org_id, name, permissions FROM ${s}.permission_sets WHERE id = $1`,
    putGroup: `INSERT INTO ${s}.groups (id, org_id, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id`,
    getGroup: `SELECT id, org_id, name FROM ${s}.groups WHERE id = $1`,
    putSite: `WITH w AS (INSERT INTO ${s}.sites (id, org_id, name, parent_id, path) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT ${notify("'site:' || id")} FROM w`,
    getSite: `SELECT id, org_id, name, parent_id, path FROM ${s}.sites WHERE id = $1`,

    getServiceUser: `SELECT id, org_id, name, permission_set_id, status, created_by, created_at FROM ${s}.service_users WHERE id = $1`,
    lockServiceUser: `SELECT id, org_id, name, permission_set_id, status, created_by, created_at FROM ${s}.service_users WHERE id = $1 FOR UPDATE`,
    putServiceUser: `WITH w AS (INSERT INTO ${s}.service_users (id, org_id, name, permission_set_id, status, created_by, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, name = EXCLUDED.name, permission_set_id = EXCLUDED.permission_set_id,
    status = EXCLUDED.status, created_by = EXCLUDED.created_by, created_at = EXCLUDED.created_at
  RETURNING id)
SELECT ${notify("'service_user:' || id")} FROM w`,
    listServiceUsers: `SELECT id, org_id, name, permission_set_id, status, created_by, created_at FROM ${s}.service_users WHERE org_id = $1 ORDER BY created_at, id`,

    putShare: `WITH w AS (INSERT INTO ${s}.shares (id, item_org_id, item_type, item_id, grantee, level, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT ${notify("'share:' || id")} FROM w`,
    deleteShare: `WITH d AS (DELETE FROM ${s}.shares WHERE id = $2 AND item_org_id = $1 RETURNING id) SELECT ${notify("'share:' || id")} FROM d`,
    listShares: `SELECT id, item_org_id, item_type, item_id, grantee, level, created_at FROM ${s}.shares
WHERE item_org_id = $1 AND item_type = $2 AND item_id = $3 ORDER BY seq`,
    putRule: `WITH w AS (INSERT INTO ${s}.rules (id, org_id, item_type, conditions, grantee, level, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT ${notify("'rule:' || id")} FROM w`,
    deleteRule: `WITH d AS (DELETE FROM ${s}.rules WHERE id = $2 AND org_id = $1 RETURNING id) SELECT ${notify("'rule:' || id")} FROM d`,

    // ── tokens ──
    /** The quota owner of service tokens: the organization row. */
    lockOrganization: `SELECT id FROM ${s}.organizations WHERE id = $1 FOR UPDATE`,
    /** A service user's status, held until commit so that a deletion waits for the insertion (or the reverse). */
    shareServiceUser: `SELECT status, ${DB_NOW} FROM ${s}.service_users WHERE id = $1 FOR SHARE`,
    /** Candidate user tokens of one (organization, user): rows that are certainly dead are left out; the rest are judged by `isTokenActive`. */
    userQuotaTokens: `SELECT ${TOKEN_COLUMNS} FROM ${s}.tokens t
WHERE t.org_id = $1 AND t.kind = 'user' AND t.subject_id = $2 AND t.revoked_at IS NULL AND t.deleted_at IS NULL AND t.expired_at IS NULL`,
    /** Candidate service tokens of one organization, each with its service user's status. */
    serviceQuotaTokens: `SELECT ${TOKEN_COLUMNS}, su.status AS su_status FROM ${s}.tokens t
LEFT JOIN ${s}.service_users su ON su.id = t.subject_id
WHERE t.org_id = $1 AND t.kind = 'service_user' AND t.revoked_at IS NULL AND t.deleted_at IS NULL AND t.expired_at IS NULL`,
    insertToken: `INSERT INTO ${s}.tokens (id, kind, org_id, subject_id, name, hash, hint, epoch, created_at, created_by, last_used_at, revoked_at, deleted_at, expired_at,
  restriction, expires_at, policy_expires_at, previous_hash, previous_hash_until, rotated_at, warned_deadline, warned_threshold_ms, clients)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
    getToken: `SELECT ${TOKEN_COLUMNS} FROM ${s}.tokens t WHERE t.id = $1`,
    lockToken: `SELECT ${TOKEN_COLUMNS} FROM ${s}.tokens t WHERE t.id = $1 FOR UPDATE`,
    listTokens: `SELECT ${TOKEN_COLUMNS},
  CASE WHEN t.kind = 'user' THEN COALESCE(u.name, t.subject_id) ELSE COALESCE(su.name, t.subject_id) END AS subject_name,
  m.status AS m_status, m.epoch AS m_epoch, su.status AS su_status
FROM ${s}.tokens t
LEFT JOIN ${s}.users u ON t.kind = 'user' AND u.id = t.subject_id
LEFT JOIN ${s}.memberships m ON t.kind = 'user' AND m.org_id = t.org_id AND m.user_id = t.subject_id
LEFT JOIN ${s}.service_users su ON t.kind = 'service_user' AND su.id = t.subject_id
WHERE t.org_id = $1 AND ($2::text IS NULL OR t.kind = $2::text) AND ($3::text IS NULL OR t.subject_id = $3::text)
ORDER BY t.created_at, t.seq`,
    /**
     * One page of tokens (`pageTokens`), keyset-paged, and the number matching in all, in ONE
     * statement; one text per sort and order ({@link TOKEN_SORTS}). `$1` organization, `$2`
     * kind or null, `$3` subject or null, `$4` statuses, `$5` search or null, `$6` now, `$7`
     * inactivity window, `$8`/`$9` the position to start after (or nulls), `$10` the limit,
     * `$11`/`$12` the ids and times of uses this process knows but may not have written yet.
     * The status mirrors `tokenStatus` and the sort key `tokenSortKey` (the conformance suite
     * checks both against the core). One row with `total` and null token columns when the
     * page is empty.
     */
    pageTokens: Object.fromEntries(
      TOKEN_SORTS.flatMap((sort) =>
        (["asc", "desc"] as const).map((order) => {
          const op = order === "asc" ? ">" : "<";
          const dir = order === "asc" ? "ASC" : "DESC";
          return [
            `${sort}:${order}`,
            `WITH f AS MATERIALIZED (
  SELECT t.id, ${SORT_KEY[sort]} AS sort_key
  FROM ${s}.tokens t
  LEFT JOIN ${s}.memberships m ON t.kind = 'user' AND m.org_id = t.org_id AND m.user_id = t.subject_id
  LEFT JOIN ${s}.service_users su ON t.kind = 'service_user' AND su.id = t.subject_id
  LEFT JOIN unnest($11::text[], $12::bigint[]) AS p(id, at) ON p.id = t.id
  CROSS JOIN LATERAL (SELECT CASE WHEN t.expired_at IS NULL THEN GREATEST(t.last_used_at, p.at) ELSE t.last_used_at END AS lu) x
  WHERE t.org_id = $1 AND ($2::text IS NULL OR t.kind = $2::text) AND ($3::text IS NULL OR t.subject_id = $3::text)
    AND (CASE WHEN t.deleted_at IS NOT NULL THEN 'deleted'
         WHEN t.revoked_at IS NOT NULL THEN 'revoked'
         WHEN t.expired_at IS NOT NULL OR (t.kind = 'user' AND $6::bigint >= GREATEST(t.created_at, x.lu) + $7::bigint)
              OR $6::bigint >= t.expires_at OR $6::bigint >= t.policy_expires_at THEN 'expired'
         WHEN t.kind = 'user' AND (m.status IS DISTINCT FROM 'active' OR m.epoch IS DISTINCT FROM t.epoch) THEN 'subject_inactive'
         WHEN t.kind = 'service_user' AND su.status IS DISTINCT FROM 'active' THEN 'subject_inactive'
         ELSE 'active' END) = ANY($4::text[])
    AND ($5::text IS NULL OR strpos(lower(t.name), lower($5::text)) > 0
         -- The owner's name: the organization's matching people found once (a hashed subplan), not a lookup per token.
         OR (t.kind = 'user' AND t.subject_id IN (SELECT mm.user_id FROM ${s}.memberships mm JOIN ${s}.users u ON u.id = mm.user_id
                                                  WHERE mm.org_id = $1 AND strpos(lower(u.name), lower($5::text)) > 0))
         OR (t.kind = 'user' AND strpos(lower(t.subject_id), lower($5::text)) > 0 AND NOT EXISTS (SELECT 1 FROM ${s}.users u WHERE u.id = t.subject_id))
         OR (t.kind = 'service_user' AND strpos(lower(COALESCE(su.name, t.subject_id)), lower($5::text)) > 0))
), page AS (
  SELECT f.id, f.sort_key FROM f WHERE $8::bigint IS NULL OR (f.sort_key, f.id COLLATE "C") ${op} ($8::bigint, $9::text COLLATE "C")
  ORDER BY f.sort_key ${dir}, f.id COLLATE "C" ${dir} LIMIT $10::int
)
SELECT c.total, pg.* FROM (SELECT count(*)::int AS total FROM f) c
LEFT JOIN LATERAL (
  SELECT ${TOKEN_COLUMNS}, page.sort_key,
    CASE WHEN t.kind = 'user' THEN COALESCE(u.name, t.subject_id) ELSE COALESCE(su.name, t.subject_id) END AS subject_name,
    m.status AS m_status, m.epoch AS m_epoch, su.status AS su_status
  FROM page JOIN ${s}.tokens t ON t.id = page.id
  LEFT JOIN ${s}.users u ON t.kind = 'user' AND u.id = t.subject_id
  LEFT JOIN ${s}.memberships m ON t.kind = 'user' AND m.org_id = t.org_id AND m.user_id = t.subject_id
  LEFT JOIN ${s}.service_users su ON t.kind = 'service_user' AND su.id = t.subject_id
) pg ON true
ORDER BY pg.sort_key ${dir}, pg.id COLLATE "C" ${dir}`,
          ];
        }),
      ),
    ) as Record<`${TokenSort}:${"asc" | "desc"}`, string>,
    revokeToken: `WITH u AS (UPDATE ${s}.tokens SET revoked_at = $2, revoked_cause = $3 WHERE id = $1 RETURNING id) SELECT ${notify("'token:' || id")} FROM u`,
    deleteToken: `WITH u AS (UPDATE ${s}.tokens SET deleted_at = $2 WHERE id = $1 RETURNING id) SELECT ${notify("'token:' || id")} FROM u`,
    /**
     * R18: compare-and-set in one statement — rotates only while the stored digest is still `$2`
     * and the token is neither revoked, deleted nor marked expired (the old digest becomes the
     * previous one, replacing any earlier); returns the token after it, no row when it did not
     * change. Notifies like the other token writes.
     */
    rotateToken: `WITH u AS (UPDATE ${s}.tokens t SET previous_hash = t.hash, previous_hash_until = $4, rotated_at = $5, hash = $3, hint = $6
  WHERE t.id = $1 AND t.hash = $2 AND t.revoked_at IS NULL AND t.deleted_at IS NULL AND t.expired_at IS NULL
  RETURNING ${TOKEN_COLUMNS})
SELECT u.*, ${notify("'token:' || u.id")} AS notified FROM u`,
    markTokenExpired: `WITH u AS (UPDATE ${s}.tokens SET expired_at = $2 WHERE id = $1 AND expired_at IS NULL RETURNING id)
SELECT ${notify("'token:' || id")} FROM u`,
    /** R19: the policy's end of each listed live token (`$1` ids, `$2` ends, NULL for none), each row written atomically; the ids written. */
    setTokenPolicyExpiry: `WITH c AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS c(id, at)),
u AS (UPDATE ${s}.tokens t SET policy_expires_at = c.at FROM c
  WHERE t.id = c.id AND t.revoked_at IS NULL AND t.deleted_at IS NULL AND t.expired_at IS NULL RETURNING t.id)
SELECT id, ${notify("'token:' || id")} FROM u`,
    /** R6: the last use only grows (`GREATEST`), and a token marked expired is never touched, so a late write never revives it. */
    recordTokenUse: `UPDATE ${s}.tokens SET last_used_at = GREATEST(COALESCE(last_used_at, $2), $2) WHERE id = $1 AND expired_at IS NULL`,
    /**
     * The same write with the clients seen (`$3`, a JSON array, most recent first) merged into the
     * stored ones as `mergeClients` does: distinct by (ip, user agent) keeping the latest, most
     * recent first (of equal times, the new ones first), at most `$4`.
     */
    recordTokenUseWithClients: `UPDATE ${s}.tokens SET last_used_at = GREATEST(COALESCE(last_used_at, $2), $2),
  clients = (SELECT jsonb_agg(x.c ORDER BY x.at DESC, x.i) FROM (
    SELECT d.c, d.at, d.i FROM (
      SELECT DISTINCT ON (e.c->>'ip', e.c->>'userAgent') e.c, (e.c->>'lastSeenAt')::bigint AS at, e.i
      FROM jsonb_array_elements($3::jsonb || COALESCE(clients, '[]'::jsonb)) WITH ORDINALITY AS e(c, i)
      ORDER BY e.c->>'ip', e.c->>'userAgent', (e.c->>'lastSeenAt')::bigint DESC, e.i
    ) d ORDER BY d.at DESC, d.i LIMIT $4::int
  ) x)
WHERE id = $1 AND expired_at IS NULL`,
    /** R20: one conditional write (`warningIsNew`): of racing sweeps, the one whose row comes back sends the warning. */
    markTokenWarned: `UPDATE ${s}.tokens SET warned_deadline = $2, warned_threshold_ms = $3
WHERE id = $1 AND (warned_deadline IS DISTINCT FROM $2::bigint OR warned_threshold_ms IS NULL OR warned_threshold_ms > $3::bigint) RETURNING id`,

    // ── cache leases (lease.ts) ──
    /**
     * A caching instance's heartbeat, sent on its LISTEN connection: renews the lease to
     * `$2` ms from now (database clock), records `$3` (µs) as acknowledged, and returns when this
     * statement started (µs) — the value the next heartbeat may acknowledge.
     */
    leaseHeartbeat: `INSERT INTO ${s}.cache_leases AS l (instance_id, application_name, expires_us, acked_us)
VALUES ($1, $4, ${CLOCK_US} + $2::bigint * 1000, $3::bigint)
ON CONFLICT (instance_id) DO UPDATE SET expires_us = EXCLUDED.expires_us, acked_us = GREATEST(l.acked_us, EXCLUDED.acked_us),
  application_name = EXCLUDED.application_name
RETURNING (extract(epoch from statement_timestamp()) * 1000000)::bigint AS started_us`,
    leaseRelease: `DELETE FROM ${s}.cache_leases WHERE instance_id = $1`,
    /** Leases that ran out an hour ago (instances that died without releasing). */
    leasePrune: `DELETE FROM ${s}.cache_leases WHERE expires_us < ${CLOCK_US} - 3600000000`,
    /**
     * After a change committed: the time now (µs) and how many live leases, other than the
     * caller's own (`$1`, nullable), have not acknowledged it yet. When some have not, notifies
     * `ack` (delivered when this statement commits, so after `t0`): each listener then sends two
     * heartbeats, the second acknowledging a start later than `t0`.
     */
    changeStart: `SELECT c.t0, c.pending, CASE WHEN c.pending > 0 THEN ${notify("'ack'")} END AS asked
FROM (SELECT x.t0, (SELECT count(*) FROM ${s}.cache_leases l
  WHERE l.expires_us > x.t0 AND l.acked_us < x.t0 AND l.instance_id IS DISTINCT FROM $1::text) AS pending
  FROM (SELECT ${CLOCK_US} AS t0) x) c`,
    /** How many live leases (other than `$1`) still have not acknowledged the change seen at `$2`. */
    changePending: `SELECT count(*) AS pending FROM ${s}.cache_leases l
WHERE l.expires_us > ${CLOCK_US} AND l.acked_us < $2::bigint AND l.instance_id IS DISTINCT FROM $1::text`,
  };
  /**
   * R17 (`tokens.previewReach`): `loadAccess` for a subject without a token: the same statement
   * over one made-up token row of kind `$3`, organization `$4` and subject `$5` (`$1` unused but
   * for the row's digest, `$2` the item type). Its token fields are placeholders the caller ignores.
   */
  const previewRow = `(SELECT $1::text AS hash, $3::text AS kind, $4::text AS org_id, $5::text AS subject_id, ''::text AS id, ''::text AS name, ''::text AS hint,
  NULL::text AS epoch, 0::bigint AS created_at, NULL::text AS created_by, NULL::bigint AS last_used_at, NULL::bigint AS revoked_at, NULL::text AS revoked_cause,
  NULL::bigint AS deleted_at, NULL::bigint AS expired_at, NULL::jsonb AS restriction, NULL::bigint AS expires_at, NULL::bigint AS policy_expires_at,
  NULL::text AS previous_hash, NULL::bigint AS previous_hash_until, NULL::bigint AS rotated_at, NULL::bigint AS warned_deadline, NULL::bigint AS warned_threshold_ms,
  NULL::jsonb AS clients) x`;
  const loadSubjectAccess = reads(`FROM (${packedToken(previewRow)}) t`).loadAccess;
  /**
   * The three reads for a token of `kind`: by the current digest, by the previous one (R18's grace
   * period, run only when the current one finds no token), and each for many reads at once (the
   * store's `readBatching`).
   */
  const readSet = (kind: ReadKind) => {
    const current = reads(tokenByDigest("hash"), kind);
    const byPreviousDigest = reads(tokenByDigest("previous_hash"), kind);
    const many = (set: typeof current) => ({
      loadDecision: batchedRead(set.loadDecision, 4, "decision_read"),
      loadDecisionNoItem: batchedRead(set.loadDecisionNoItem, 1, "decision_read"),
      loadAccess: batchedRead(set.loadAccess, 2, "access_read"),
    });
    return { ...current, byPreviousDigest, batched: { ...many(current), byPreviousDigest: many(byPreviousDigest) } };
  };
  /** The reads of a token whose kind the caller knows (from the presented token's prefix): each opens only that kind's tables. */
  const ofKind = { user: readSet("user"), service_user: readSet("service_user") };
  /** At the top, the reads of a token of either kind (`loadDecision`, `byPreviousDigest`, `batched`…). */
  return { ...statements, ...readSet("any"), loadSubjectAccess, ofKind };
}

/**
 * Which subjects a read's statement can load: `any` (the token's kind decides, both subject
 * tables in the plan) or one kind (the kind the caller read from the presented token's prefix).
 */
export type ReadKind = "any" | SubjectKind;

/**
 * One read statement (`text`, with text parameters `$1`…`$params`) for many reads at once: its
 * parameters become one `text[]` each (the n-th read's values at the n-th position), unnested
 * `WITH ORDINALITY` and joined `LATERAL` to the same read, each `$k` replaced by the read's
 * value. Each row is `kw_o`, the read's position (from 1), and the read's one column `column`;
 * a read that finds no token has no row. The plan per read is the plan of the read alone (index
 * lookups under a nested loop); the statement's start-up is paid once.
 *
 * @example
 * ```ts
 * const text = batchedRead(q.loadDecisionNoItem, 1, "decision_read");
 * const found = await driver.query(text, [[hashA, hashB]]); // rows { kw_o: 1 | 2, decision_read }
 * ```
 */
export function batchedRead(text: string, params: number, column: string): string {
  const columns = Array.from({ length: params }, (_, i) => `p${i + 1}`);
  const body = text.replace(/\$(\d+)/g, (_, n: string) => {
    if (Number(n) < 1 || Number(n) > params) throw new Error(`batchedRead: $${n} is not one of ${params} parameters`);
    return `kw_q.p${n}`;
  });
  return `SELECT kw_q.kw_o, kw_r.${column} FROM unnest(${columns.map((_, i) => `$${i + 1}::text[]`).join(", ")}) WITH ORDINALITY AS kw_q(${columns.join(", ")}, kw_o)
CROSS JOIN LATERAL (${body}) kw_r`;
}

/** The statements of one schema. */
export type Queries = ReturnType<typeof queries>;

// ── row mappers ──────────────────────────────────────────────────────────────────────────────

/** A `bigint` column as a number (drivers return `int8` as a string, a bigint or a number). */
function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v);
}
function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}
function str(v: unknown): string {
  return String(v);
}
function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}
function json<T>(v: unknown): T {
  return (typeof v === "string" ? JSON.parse(v) : v) as T;
}

/** The token of a read (its packed array, {@link TOKEN_FIELDS}), decoded by position: the same record as {@link rows.token} maps from a row. */
function tokenAt(a: readonly unknown[]): TokenRecord {
  const revokedCause = a[TOKEN_AT.revoked_cause];
  const restriction = a[TOKEN_AT.restriction];
  const clients = a[TOKEN_AT.clients];
  const token: TokenRecord = {
    id: str(a[TOKEN_AT.id]),
    kind: str(a[TOKEN_AT.kind]) as SubjectKind,
    orgId: str(a[TOKEN_AT.org_id]),
    subjectId: str(a[TOKEN_AT.subject_id]),
    name: str(a[TOKEN_AT.name]),
    hash: str(a[TOKEN_AT.hash]),
    hint: str(a[TOKEN_AT.hint]),
    epoch: strOrNull(a[TOKEN_AT.epoch]),
    createdAt: num(a[TOKEN_AT.created_at]),
    createdBy: strOrNull(a[TOKEN_AT.created_by]),
    lastUsedAt: numOrNull(a[TOKEN_AT.last_used_at]),
    revokedAt: numOrNull(a[TOKEN_AT.revoked_at]),
    deletedAt: numOrNull(a[TOKEN_AT.deleted_at]),
    expiredAt: numOrNull(a[TOKEN_AT.expired_at]),
    restriction: restriction === null || restriction === undefined ? null : json<TokenRestriction>(restriction),
    expiresAt: numOrNull(a[TOKEN_AT.expires_at]),
    policyExpiresAt: numOrNull(a[TOKEN_AT.policy_expires_at]),
    previousHash: strOrNull(a[TOKEN_AT.previous_hash]),
    previousHashUntil: numOrNull(a[TOKEN_AT.previous_hash_until]),
    rotatedAt: numOrNull(a[TOKEN_AT.rotated_at]),
    warnedDeadline: numOrNull(a[TOKEN_AT.warned_deadline]),
    warnedThresholdMs: numOrNull(a[TOKEN_AT.warned_threshold_ms]),
    clients: clients === null || clients === undefined ? null : json<TokenClient[]>(clients),
  };
  // Only when set, so that records of tokens not revoked for a cause look as before (R22); added
  // after, not spread into the literal (a spread there made every decoded read several times slower).
  if (revokedCause !== null && revokedCause !== undefined) token.revokedCause = str(revokedCause) as RevocationCause;
  return token;
}

/** A service user packed in a read ({@link SERVICE_USER_FIELDS}), decoded by position: the same record as {@link rows.serviceUser} maps from a row. */
function serviceUserAt(x: readonly unknown[]): ServiceUser {
  return {
    id: str(x[SERVICE_USER_AT.id]),
    orgId: str(x[SERVICE_USER_AT.org_id]),
    name: str(x[SERVICE_USER_AT.name]),
    permissionSetId: strOrNull(x[SERVICE_USER_AT.permission_set_id]),
    status: str(x[SERVICE_USER_AT.status]) as ServiceUser["status"],
    createdBy: strOrNull(x[SERVICE_USER_AT.created_by]),
    createdAt: num(x[SERVICE_USER_AT.created_at]),
  };
}

/** The subject of a read's array, decoded by position: a user with its membership (null when it has none), or a service user (null when gone); no permissions without either. */
function subjectAt(a: readonly unknown[], token: TokenRecord): LoadedSubject {
  const set = a[READ_AT.permissions];
  const permissions = set === null || set === undefined ? [] : strings(set);
  if (token.kind === "user") {
    const m = a[READ_AT.membership] as readonly unknown[] | null | undefined;
    const membership: Membership | null =
      m === null || m === undefined
        ? null
        : {
            orgId: token.orgId,
            userId: token.subjectId,
            permissionSetId: strOrNull(m[MEMBERSHIP_AT.permission_set_id]),
            groupIds: strings(m[MEMBERSHIP_AT.group_ids]),
            siteIds: strings(m[MEMBERSHIP_AT.site_ids]),
            status: str(m[MEMBERSHIP_AT.status]) as MembershipStatus,
            seat: m[MEMBERSHIP_AT.seat] === true,
            epoch: str(m[MEMBERSHIP_AT.epoch]),
          };
    const name = a[READ_AT.userName];
    return {
      kind: "user",
      user: { id: token.subjectId, name: name === null || name === undefined ? token.subjectId : str(name) },
      membership,
      permissions: membership === null ? [] : permissions,
    };
  }
  const x = a[READ_AT.serviceUser] as readonly unknown[] | null | undefined;
  const serviceUser = x === null || x === undefined ? null : serviceUserAt(x);
  return { kind: "service_user", serviceUser, permissions: serviceUser === null ? [] : permissions };
}

/** What every read returns first: the token, its subject, and the database's clock when the statement ran. */
export interface SubjectRead {
  token: TokenRecord;
  subject: LoadedSubject;
  /** Epoch milliseconds, as the driver gives a `bigint` inside `json` (a number). */
  dbNow: unknown;
}

function subjectRead(a: readonly unknown[]): SubjectRead {
  const token = tokenAt(json<unknown[]>(a[READ_AT.token]));
  return { token, subject: subjectAt(a, token), dbNow: a[READ_AT.dbNow] };
}

/** The grants of a read's array at `at` (each a tuple whose first element is `seq`), in insertion order: the statement returns them unordered. */
function inSeqOrder<T extends readonly unknown[]>(a: readonly unknown[], at: number): T[] {
  const list = (a[at] ?? []) as T[];
  for (let i = 1; i < list.length; i++) {
    if (num(list[i - 1]![0]) > num(list[i]![0])) return [...list].sort((x, y) => num(x[0]) - num(y[0]));
  }
  return list;
}

/** Adds the path of a grant's site to `paths`, for a site grantee. */
function notePath(paths: Record<string, string[]>, grantee: Grantee, path: unknown): void {
  if (path !== null && path !== undefined && grantee.kind === "site") paths[grantee.siteId] = path as string[];
}

/** A share of the decision read: seq, id, grantee, level, the named site's path. */
type DecisionShare = [number, string, Grantee, string, string[] | null];
/** A rule of the decision read: seq, id, conditions, grantee, level, the named site's path. */
type DecisionRule = [number, string, AccessRule["conditions"], Grantee, string, string[] | null];

/**
 * Decodes the one `json` column (`decision_read`) of `loadDecision` (with `item`) or
 * `loadDecisionNoItem` (`item` null) by position ({@link READ_AT}): the token, its subject, the
 * database's clock, and the compiled grants — the item's shares and its organization's rules
 * for its type, in insertion order, indexed by grantee key straight from the arrays (no `Share`
 * or `AccessRule` records in between); empty indexes without an item.
 *
 * @example
 * ```ts
 * const [r] = await driver.query(q.loadDecision, [hash, item.orgId, item.type, item.id]);
 * const { token, subject, dbNow, shares, rules } = decisionRead(r!.decision_read, item);
 * ```
 */
export function decisionRead(d: unknown, item: Share["item"] | null): SubjectRead & { shares: GrantIndex; rules: GrantIndex } {
  const a = json<unknown[]>(d);
  const read = subjectRead(a);
  if (item === null) return { token: read.token, subject: read.subject, dbNow: read.dbNow, shares: noGrants(), rules: noGrants() };
  const shares = inSeqOrder<DecisionShare>(a, READ_AT.shares);
  const rules = inSeqOrder<DecisionRule>(a, READ_AT.rules);
  const paths: Record<string, string[]> = {};
  const shareSources: ShareSource[] = new Array(shares.length);
  for (let i = 0; i < shares.length; i++) {
    const x = shares[i]!;
    shareSources[i] = { id: x[1], grantee: x[2], level: x[3] };
    notePath(paths, x[2], x[4]);
  }
  const ruleSources: RuleSource[] = new Array(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const x = rules[i]!;
    ruleSources[i] = { id: x[1], orgId: item.orgId, itemType: item.type, conditions: x[2], grantee: x[3], level: x[4] };
    notePath(paths, x[3], x[5]);
  }
  const pathOf = pathsFrom(paths);
  return { token: read.token, subject: read.subject, dbNow: read.dbNow, shares: compileShares(shareSources, pathOf, item), rules: compileRules(ruleSources, pathOf) };
}

/** A share of the list read: seq, id, owner organization, item id, grantee, level, created_at, the named site's path. */
type AccessShare = [number, string, string, string, Grantee, AccessLevel, number, string[] | null];
/** A rule of the list read: seq, id, organization, conditions, grantee, level, created_at, the named site's path. */
type AccessRuleTuple = [number, string, string, AccessRule["conditions"], Grantee, AccessLevel, number, string[] | null];

/**
 * Decodes the one `json` column (`access_read`) of `loadAccess` / `loadSubjectAccess` by
 * position: the token, its subject and the database's clock as {@link decisionRead}; the shares
 * and rules of `itemType` under the subject's grantee keys, each in insertion order, as records;
 * the paths of the sites they name.
 *
 * @example
 * ```ts
 * const [r] = await driver.query(q.loadAccess, [hash, "inspection"]);
 * const { shares, rules, sitePaths } = accessRead(r!.access_read, "inspection");
 * ```
 */
export function accessRead(d: unknown, itemType: string): SubjectRead & { shares: Share[]; rules: AccessRule[]; sitePaths: Record<string, string[]> } {
  const a = json<unknown[]>(d);
  const read = subjectRead(a);
  const shareTuples = inSeqOrder<AccessShare>(a, READ_AT.shares);
  const ruleTuples = inSeqOrder<AccessRuleTuple>(a, READ_AT.rules);
  const sitePaths: Record<string, string[]> = {};
  const shares: Share[] = new Array(shareTuples.length);
  for (let i = 0; i < shareTuples.length; i++) {
    const x = shareTuples[i]!;
    shares[i] = { id: str(x[1]), item: { orgId: str(x[2]), type: itemType, id: str(x[3]) }, grantee: x[4], level: str(x[5]) as AccessLevel, createdAt: num(x[6]) };
    notePath(sitePaths, x[4], x[7]);
  }
  const rules: AccessRule[] = new Array(ruleTuples.length);
  for (let i = 0; i < ruleTuples.length; i++) {
    const x = ruleTuples[i]!;
    rules[i] = { id: str(x[1]), orgId: str(x[2]), itemType, conditions: x[3], grantee: x[4], level: str(x[5]) as AccessLevel, createdAt: num(x[6]) };
    notePath(sitePaths, x[4], x[7]);
  }
  return { token: read.token, subject: read.subject, dbNow: read.dbNow, shares, rules, sitePaths };
}

/** Row mappers: one per record type, the inverse of the parameter lists of the writes. */
export const rows = {
  organization: (r: Row): Organization => ({
    id: str(r.id),
    name: str(r.name),
    ssoOnly: r.sso_only === true,
    // Only when set, so that organizations without a policy read back as they were put.
    ...(r.token_policy === null || r.token_policy === undefined ? {} : { tokenPolicy: json<TokenPolicy>(r.token_policy) }),
  }),
  user: (r: Row): User => ({ id: str(r.id), name: str(r.name) }),
  membership: (r: Row): Membership => ({
    orgId: str(r.org_id),
    userId: str(r.user_id),
    permissionSetId: strOrNull(r.permission_set_id),
    groupIds: strings(r.group_ids),
    siteIds: strings(r.site_ids),
    status: str(r.status) as MembershipStatus,
    seat: r.seat === true,
    epoch: str(r.epoch),
  }),
  permissionSet: (r: Row): PermissionSet => ({ id: str(r.id), orgId: str(r.org_id), name: str(r.name), permissions: strings(r.permissions) }),
  group: (r: Row): Group => ({ id: str(r.id), orgId: str(r.org_id), name: str(r.name) }),
  site: (r: Row): Site => ({ id: str(r.id), orgId: str(r.org_id), name: str(r.name), parentId: strOrNull(r.parent_id), path: strings(r.path) }),
  /** A service user row by column name: the same decoder as a read's packed service user ({@link serviceUserAt}). */
  serviceUser: (r: Row): ServiceUser => serviceUserAt(SERVICE_USER_FIELDS.map((f) => r[f])),
  share: (r: Row): Share => ({
    id: str(r.id),
    item: { orgId: str(r.item_org_id), type: str(r.item_type), id: str(r.item_id) },
    grantee: json<Grantee>(r.grantee),
    level: str(r.level) as AccessLevel,
    createdAt: num(r.created_at),
  }),
  /** A token row by column name: the same record as a read's packed token ({@link tokenAt}), one decoder for both. */
  token: (r: Row): TokenRecord => tokenAt(TOKEN_FIELDS.map((f) => r[f])),
  json,
  strings,
  num,
  str,
  strOrNull,
};

/** Parameter lists of the writes, in the order of the statements above. */
export const params = {
  organization: (o: Organization) => [o.id, o.name, o.ssoOnly, o.tokenPolicy == null ? null : JSON.stringify(o.tokenPolicy)],
  user: (u: User) => [u.id, u.name],
  membership: (m: Membership) => [m.orgId, m.userId, m.permissionSetId, [...m.groupIds], [...m.siteIds], m.status, m.seat, m.epoch],
  permissionSet: (p: PermissionSet) => [p.id, p.orgId, p.name, [...p.permissions]],
  group: (g: Group) => [g.id, g.orgId, g.name],
  site: (x: Site) => [x.id, x.orgId, x.name, x.parentId, [...x.path]],
  serviceUser: (x: ServiceUser) => [x.id, x.orgId, x.name, x.permissionSetId, x.status, x.createdBy, x.createdAt],
  share: (x: Share) => [x.id, x.item.orgId, x.item.type, x.item.id, JSON.stringify(x.grantee), x.level, x.createdAt],
  rule: (x: AccessRule) => [x.id, x.orgId, x.itemType, JSON.stringify(x.conditions), JSON.stringify(x.grantee), x.level, x.createdAt],
  token: (t: TokenRecord) => [
    t.id,
    t.kind,
    t.orgId,
    t.subjectId,
    t.name,
    t.hash,
    t.hint,
    t.epoch,
    t.createdAt,
    t.createdBy,
    t.lastUsedAt,
    t.revokedAt,
    t.deletedAt,
    t.expiredAt,
    t.restriction == null ? null : JSON.stringify(t.restriction),
    t.expiresAt ?? null,
    t.policyExpiresAt ?? null,
    t.previousHash ?? null,
    t.previousHashUntil ?? null,
    t.rotatedAt ?? null,
    t.warnedDeadline ?? null,
    t.warnedThresholdMs ?? null,
    t.clients == null ? null : JSON.stringify(t.clients),
  ],
};

/**
 * The name under which a statement is prepared: `kw_` and a 64-bit FNV-1a digest of its text, so
 * that one name always stands for one text (schemas differ in their text, so in their name).
 *
 * @example
 * ```ts
 * statementName(queries("keyward").loadDecision) // "kw_…" (19 characters)
 * ```
 */
export function statementName(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `kw_${h.toString(16).padStart(16, "0")}`;
}
