/**
 * Who a share or an access rule includes (R13, R14), written once. A grantee and a subject each
 * have grantee keys (short strings); a grant includes a subject when one of the grant's keys is
 * one of the subject's — on another organization's item, only among the keys that hold across
 * organizations (a user, a service user, an organization; never a group or a site).
 *
 * - {@link granteeKey}: the key of a grantee, as stores index shares and rules by grantee (the
 *   SQL store's `granteeKeySql` mirrors it).
 * - {@link grantKeys}: the keys under which a grant is found. A site grantee is found under every
 *   site of its path (root … site), since membership of a site covers the sites below it.
 * - {@link subjectKeys}: the keys of a token's subject.
 * - {@link granteeIncludes}: the same rule as a predicate over a compiled subject, without
 *   building any key (the list filters' hot loop); a property test checks it against the keys.
 * @module
 */
import type { CompiledSubject, Grantee, LoadedSubject, TokenRecord } from "./types.js";

/**
 * The key of a grantee. Organization grantees that include service users have a key of their
 * own (`O`), so a service user's keys find only those.
 *
 * @example
 * ```ts
 * granteeKey({ kind: "group", groupId: "g_1" }) // "g\u0000g_1"
 * ```
 */
export function granteeKey(g: Grantee): string {
  switch (g.kind) {
    case "user":
      return `u\0${g.userId}`;
    case "service_user":
      return `s\0${g.serviceUserId}`;
    case "group":
      return `g\0${g.groupId}`;
    case "site":
      return `t\0${g.siteId}`;
    case "organization":
      return `${g.includeServiceUsers ? "O" : "o"}\0${g.orgId}`;
  }
}

/**
 * The key of a site, as {@link granteeKey} gives it for a site grantee.
 *
 * @example
 * ```ts
 * siteKey("s_1") === granteeKey({ kind: "site", siteId: "s_1" }) // true
 * ```
 */
export function siteKey(siteId: string): string {
  return `t\0${siteId}`;
}

/**
 * Whether a grantee includes users only within its own organization (groups and sites, R14): such
 * a grant never includes anyone on another organization's item.
 *
 * @example
 * ```ts
 * isLocalGrantee({ kind: "site", siteId: "s_1" }) // true
 * ```
 */
export function isLocalGrantee(g: Grantee): boolean {
  return g.kind === "group" || g.kind === "site";
}

/**
 * The keys under which a grant to `g` is found (R13): its {@link granteeKey}, or for a site every
 * site of the site's path (`path`, root … site; none when the site is unknown, which grants
 * nothing).
 *
 * @example
 * ```ts
 * grantKeys({ kind: "site", siteId: "s_2" }, ["s_r", "s_2"]) // ["t\u0000s_r", "t\u0000s_2"]
 * ```
 */
export function grantKeys(g: Grantee, path: readonly string[] | undefined): string[] {
  if (g.kind !== "site") return [granteeKey(g)];
  return path === undefined ? [] : path.map(siteKey);
}

/**
 * The grantee keys of a token's subject (R13, R14): `across`, the keys that include it on any
 * organization's item — the user (or service user) and the token's organization (for a service
 * user only the organization including service users) — then `local`, the keys that include it
 * only on its own organization's items: the groups and the sites of its membership.
 *
 * @example
 * ```ts
 * subjectKeys({ token, subject }).across // ["u\u0000u_1", "o\u0000org_a", "O\u0000org_a"]
 * ```
 */
export function subjectKeys(loaded: { token: TokenRecord; subject: LoadedSubject }): { across: string[]; local: string[] } {
  const { token, subject } = loaded;
  if (subject.kind === "service_user") return { across: [`s\0${token.subjectId}`, `O\0${token.orgId}`], local: [] };
  const m = subject.membership;
  const local: string[] = [];
  if (m !== null) {
    for (const g of m.groupIds) local.push(`g\0${g}`);
    for (const s of m.siteIds) local.push(siteKey(s));
  }
  return { across: [`u\0${token.subjectId}`, `o\0${token.orgId}`, `O\0${token.orgId}`], local };
}

/**
 * Whether a grantee includes a compiled subject (R13, R14) — exactly whether one of
 * {@link grantKeys}`(g, path)` is one of the subject's keys (`crossOrg`: the grant is on another
 * organization's item, so only the keys that hold across organizations count). Builds no key:
 * it reads the compiled subject's sets.
 *
 * @example
 * ```ts
 * granteeIncludes(compiled, { kind: "group", groupId: "g_1" }, undefined, false)
 * ```
 */
export function granteeIncludes(s: CompiledSubject, g: Grantee, path: readonly string[] | undefined, crossOrg: boolean): boolean {
  switch (g.kind) {
    case "user":
      return s.kind === "user" && g.userId === s.subjectId;
    case "service_user":
      return s.kind === "service_user" && g.serviceUserId === s.subjectId;
    case "organization":
      return g.orgId === s.orgId && (s.kind === "user" || g.includeServiceUsers);
    case "group":
      return !crossOrg && s.groups.has(g.groupId);
    case "site":
      if (crossOrg || path === undefined) return false;
      for (let i = 0; i < path.length; i++) if (s.sites.has(path[i]!)) return true;
      return false;
  }
}
