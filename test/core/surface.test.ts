/**
 * The public surface: what the root entry and `keyward/core` export (by name, nothing internal),
 * what an instance offers (no raw store; `migrate()` and `close()` instead), that the package's
 * subpaths are the build's entries, and that no public declaration names zod.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as root from "../../src/index.js";
import * as core from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";

const here = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { createKeyward, KeywardError } = root;

/** The values of the root entry (types are erased): the factory, errors, constants, the scanner's pieces. */
const ROOT_VALUES = [
  "ACCESS_LEVELS",
  "DEFAULT_MANAGEMENT_PERMISSIONS",
  "DEFAULT_MAX_GRACE_MS",
  "DEFAULT_PAGE_SIZE",
  "DEFAULT_PREFIXES",
  "DEFAULT_REAUTH_THROTTLE",
  "DENIAL_REASONS",
  "ERROR_CODES",
  "KeywardError",
  "MAX_PAGE_SIZE",
  "MAX_SEARCH_LENGTH",
  "MAX_TOKEN_LENGTH",
  "OUTCOMES",
  "createKeyward",
  "isForbidden",
  "tokenPattern",
  "verifyChecksum",
];

const CORE_VALUES = [
  "DEFAULT_INACTIVITY_MS",
  "DEFAULT_WARNING_THRESHOLDS_MS",
  "accessFilter",
  "admission",
  "admitToken",
  "compileAccess",
  "compileDecision",
  "compileRestriction",
  "compileRules",
  "compileShares",
  "compileSubject",
  "decide",
  "decideAccess",
  "describeReach",
  "dueWarning",
  "effectiveExpiry",
  "filterToSql",
  "generateToken",
  "inactivityDeadline",
  "isExpired",
  "isTokenActive",
  "lastActivity",
  "mergeClients",
  "noGrants",
  "normalizeRestriction",
  "subjectState",
  "tokenHasher",
  "tokenHint",
  "tokenParser",
  "tokenStatus",
  "warningIsNew",
];

/** Helpers of the implementation: never public. */
const INTERNALS = ["refusal", "bestGrant", "checksumOf", "LEVEL_RANK", "storeFailure", "granteeIncludes", "shareIncludes", "ruleIncludes", "ruleMatches", "checkToken", "presentedSecret", "storeOf", "parseInput", "grantCounts", "granteeCounts", "scopeRefuses", "checkRestriction"];

describe("the public surface", () => {
  it("the root entry exports the factory, the errors, the constants and what a secret scanner needs, by name", () => {
    expect(Object.keys(root).sort()).toEqual(ROOT_VALUES);
  });

  it("keyward/core exports the pure functions, by name", () => {
    expect(Object.keys(core).sort()).toEqual(CORE_VALUES);
  });

  it("no internal helper is exported from either entry", () => {
    for (const name of INTERNALS) {
      expect(Object.keys(root)).not.toContain(name);
      expect(Object.keys(core)).not.toContain(name);
    }
  });

  it("no entry re-exports a whole module (`export *`)", () => {
    for (const file of ["src/index.ts", "src/core.ts", "src/memory.ts", "src/postgres.ts", "src/middleware/fetch.ts", "src/manage/index.ts", "src/leaks/index.ts"]) {
      expect(readFileSync(join(here, file), "utf8"), file).not.toMatch(/export\s+(type\s+)?\*/);
    }
  });

  it("a secret scanner's pieces work from the root entry alone: the pattern finds a token, the checksum verifies it", () => {
    const token = core.generateToken("user");
    const found = `leaked: ${token}.`.match(root.tokenPattern(root.DEFAULT_PREFIXES))?.[0];
    expect(found).toBe(token);
    expect(root.verifyChecksum(token)).toBe(true);
    expect(root.verifyChecksum(`${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`)).toBe(false);
  });
});

describe("an instance has no raw store (what replaces kw.store)", () => {
  const actions = { "reports.export": { permission: "reports:export" } };

  it("offers its calls and settings, and no store property", () => {
    const kw = createKeyward({ store: memoryStore(), actions });
    expect(Object.keys(kw).sort()).toEqual(
      ["accessible", "actions", "assertAccessible", "assertAuthorized", "authorize", "close", "directory", "limits", "login", "managementProfile", "managementRights", "migrate", "prefixes", "rotation", "serviceUsers", "tokens"].sort(),
    );
    expect("store" in kw).toBe(false);
    expect(JSON.stringify(Object.keys(kw.directory))).not.toContain("store");
  });

  it("migrate() resolves to [] for a store without a schema, and to what the store applied for one with a schema; close() closes the store", async () => {
    expect(await createKeyward({ store: memoryStore(), actions }).migrate()).toEqual([]);
    let closed = 0;
    const store = { ...memoryStore(), migrate: async () => [1, 2], close: async () => void closed++ };
    const kw = createKeyward({ store, actions });
    expect(await kw.migrate()).toEqual([1, 2]);
    await kw.close();
    expect(closed).toBe(1);
  });

  it("a migration failure rejects with the store's own error (not turned into `unavailable`)", async () => {
    const failure = new Error("permission denied for schema keyward");
    const store = { ...memoryStore(), migrate: () => Promise.reject(failure) };
    const kw = createKeyward({ store, actions });
    await expect(kw.migrate()).rejects.toBe(failure);
  });

  it("directory.getUser and getOrganization read one object, or null; a service user is not a user; a bad id is invalid_input", async () => {
    const kw = createKeyward({ store: memoryStore(), actions });
    await kw.directory.createOrganization({ id: "acme", name: "Acme" });
    await kw.directory.upsertUser({ id: "u_ana", name: "Ana" });
    await kw.directory.createPermissionSet({ id: "ps_admin", orgId: "acme", name: "Admin", permissions: ["service_users:manage"] });
    await kw.directory.addMember({ orgId: "acme", userId: "u_ana", permissionSetId: "ps_admin" });
    const bot = await kw.serviceUsers.create({ orgId: "acme", name: "Bot", actorId: "u_ana" });
    expect(await kw.directory.getUser({ id: "u_ana" })).toEqual({ id: "u_ana", name: "Ana" });
    expect(await kw.directory.getUser({ id: "u_nobody" })).toBeNull();
    expect(await kw.directory.getUser({ id: bot.id })).toBeNull();
    expect(await kw.directory.getOrganization({ id: "acme" })).toEqual({ id: "acme", name: "Acme", ssoOnly: false });
    expect(await kw.directory.getOrganization({ id: "beta" })).toBeNull();
    await expect(kw.directory.getUser({ id: "" })).rejects.toMatchObject({ code: "invalid_input", field: "id" });
    await expect(kw.directory.getOrganization("acme" as never)).rejects.toMatchObject({ code: "invalid_input" });
  });
});

describe("the package's entries", () => {
  const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8")) as { version: string; exports: Record<string, string | Record<string, Record<string, string>>> };
  const tsup = readFileSync(join(here, "tsup.config.ts"), "utf8");
  const entries = Object.fromEntries([...tsup.matchAll(/^\s+([\w-]+): "(src\/[^"]+)",$/gm)].map((m) => [m[1]!, m[2]!]));

  it("every subpath of package.json is a build entry and the reverse, with types listed first", () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json");
    expect(subpaths.map((k) => (k === "." ? "index" : k.slice(2))).sort()).toEqual(Object.keys(entries).sort());
    for (const k of subpaths) {
      const conditions = pkg.exports[k] as Record<string, Record<string, string>>;
      for (const kind of ["import", "require"]) expect(Object.keys(conditions[kind]!)[0], `${k} ${kind}`).toBe("types");
    }
    expect(entries.core).toBe("src/core.ts");
  });

  const built = existsSync(join(here, "dist/index.d.ts"));
  it.runIf(built || process.env.CI !== undefined)("no public declaration (dist/*.d.ts, *.d.cts) names zod", () => {
    const declarations = readdirSync(join(here, "dist")).filter((f) => f.endsWith(".d.ts") || f.endsWith(".d.cts"));
    expect(declarations.length).toBeGreaterThan(10);
    for (const f of declarations) expect(readFileSync(join(here, "dist", f), "utf8"), f).not.toMatch(/zod/i);
  });
});
