/**
 * The token management pages and endpoints of the inspections API (`keyward/manage`), mounted at
 * `/settings/api-tokens` by each variant (`app.ts`, `fastify.ts`, `hono.ts`) with the framework's
 * `mountManagement`. Who is calling comes from a development session: a cookie holding a random
 * id mapped in memory, set by `GET /settings/api-tokens/dev/login?as=ada|ben|cleo|sam`.
 *
 * Not for production: the development sign-in asks no password. A real host's `session` hook
 * reads its own session instead; everything else stays as it is.
 */
import { KeywardError } from "../../src/index.js";
import { managementRouter, type ManagementRouter, type ManagementSession } from "../../src/manage/index.js";
import { PASSWORDS, type InspectionsDb, type InspectionsKeyward } from "./seed.js";

/** Where the pages live in the inspections API. */
export const MANAGE_BASE_PATH = "/settings/api-tokens";

/** The cookie of the development session. */
export const DEV_SESSION_COOKIE = "kw_dev_session";

/** The people one can sign in as (development only): the seed's three, and Sam of an SSO-only organization (see {@link seedSsoOrganization}). */
export const PEOPLE = {
  ada: { userId: "u_ada", orgId: "acme", name: "Ada Admin", password: PASSWORDS.get("u_ada")!, role: "administrator of Acme" },
  ben: { userId: "u_ben", orgId: "acme", name: "Ben Berg", password: PASSWORDS.get("u_ben")!, role: "inspector at Acme (North region, Auditors)" },
  cleo: { userId: "u_cleo", orgId: "acme", name: "Cleo Costa", password: PASSWORDS.get("u_cleo")!, role: "inspector at Acme (Oslo)" },
  sam: { userId: "u_sam", orgId: "initech", name: "Sam Sso", password: null, role: "member of Initech, SSO-only: no password asked (R4)" },
} as const;
export type Person = keyof typeof PEOPLE;

/**
 * A third organization for the pages: Initech signs in through single sign-on only, so its
 * members generate tokens without a password (R4). Sam is a member who may view templates; the
 * template tpl_initech_onboarding is shared with all of Initech.
 */
export async function seedSsoOrganization(kw: InspectionsKeyward, db: InspectionsDb): Promise<void> {
  const d = kw.directory;
  await d.createOrganization({ id: "initech", name: "Initech (SSO only)", ssoOnly: true });
  await d.createPermissionSet({ id: "ps_initech_member", orgId: "initech", name: "Member", permissions: ["templates:view", "inspections:view"] });
  await d.upsertUser({ id: "u_sam", name: "Sam Sso" });
  await d.addMember({ orgId: "initech", userId: "u_sam", permissionSetId: "ps_initech_member" });
  db.templates.set("tpl_initech_onboarding", { id: "tpl_initech_onboarding", orgId: "initech", title: "Initech onboarding walk", attributes: {} });
  await d.share({ item: { orgId: "initech", type: "template", id: "tpl_initech_onboarding" }, grantee: { kind: "organization", orgId: "initech" }, level: "view" });
}

function cookie(header: string | null, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/** The management router of the inspections API, with the development sign-in under it. */
export interface InspectionsManagement {
  readonly basePath: string;
  /** The router, and `GET {basePath}/dev/login?as=…[&to=admin]`. */
  fetch(request: Request): Promise<Response>;
  readonly router: ManagementRouter;
}

/**
 * The management router over the inspections API's keyward, its session read from the
 * development cookie, and the development sign-in (`/dev/login?as=ben`) in front of it. Mount it
 * with the framework's `mountManagement(app, inspectionsManagement(kw))`.
 *
 * @example
 * ```ts
 * import { mountManagement } from "keyward/express";
 * mountManagement(app, inspectionsManagement(kw));
 * // then open /settings/api-tokens/dev/login?as=ben
 * ```
 */
export function inspectionsManagement(kw: InspectionsKeyward): InspectionsManagement {
  const sessions = new Map<string, ManagementSession>();
  const router = managementRouter(kw, {
    basePath: MANAGE_BASE_PATH,
    // The signed-out page links here: the development sign-in's chooser.
    signInUrl: `${MANAGE_BASE_PATH}/dev/login`,
    session: (request) => sessions.get(cookie(request.headers.get("cookie"), DEV_SESSION_COOKIE) ?? "") ?? null,
    permissionSets: (orgId) =>
      orgId === "acme"
        ? [
            { id: "ps_reporting", name: "Reporting" },
            { id: "ps_inspector", name: "Inspector" },
          ]
        : [],
    // The administrator's page lists the members, to deactivate or remove one after seeing which integrations stop (R20).
    members: true,
    onError: (e) => {
      if (!(e instanceof KeywardError)) console.error("[manage]", e);
    },
  });
  return {
    basePath: router.basePath,
    router,
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname !== `${MANAGE_BASE_PATH}/dev/login`) return router.fetch(request);
      if (request.method !== "GET") return new Response("Use GET.", { status: 405, headers: { allow: "GET" } });
      if (!url.searchParams.has("as")) return signInChooser();
      const who = PEOPLE[url.searchParams.get("as") as Person] as (typeof PEOPLE)[Person] | undefined;
      if (who === undefined || (await kw.directory.getUser({ id: who.userId })) === null) {
        return new Response(`Unknown person: use ?as=${Object.keys(PEOPLE).join(", ")}`, { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
      }
      const sid = crypto.randomUUID();
      sessions.set(sid, { orgId: who.orgId, userId: who.userId });
      return new Response(null, {
        status: 303,
        headers: {
          location: `${MANAGE_BASE_PATH}/${url.searchParams.get("to") === "admin" ? "admin" : ""}`,
          "set-cookie": `${DEV_SESSION_COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax`,
          "cache-control": "no-store",
        },
      });
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The development sign-in page: one link per person (no password asked: development only). */
function signInChooser(): Response {
  const items = Object.entries(PEOPLE)
    .map(([key, p]) => `<li><a href="${MANAGE_BASE_PATH}/dev/login?as=${key}">Sign in as ${escapeHtml(p.name)}</a> — ${escapeHtml(p.role)}</li>`)
    .join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in (development)</title>
<link rel="stylesheet" href="${MANAGE_BASE_PATH}/assets/manage.css"></head>
<body><main><h1>Sign in (development)</h1><p>This example signs anyone in without a password. Choose who you are:</p><ul>${items}</ul></main></body></html>`;
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    },
  });
}

/**
 * The addresses of the pages on a running inspections API.
 *
 * @example
 * ```ts
 * const links = manageLinks("http://127.0.0.1:8787");
 * links.login("ben") // "http://127.0.0.1:8787/settings/api-tokens/dev/login?as=ben"
 * ```
 */
export function manageLinks(origin: string) {
  return {
    page: `${origin}${MANAGE_BASE_PATH}/`,
    admin: `${origin}${MANAGE_BASE_PATH}/admin`,
    login: (who: Person, to: "mine" | "admin" = "mine") => `${origin}${MANAGE_BASE_PATH}/dev/login?as=${who}${to === "admin" ? "&to=admin" : ""}`,
  };
}
