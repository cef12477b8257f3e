/**
 * The token management pages on the memory store, with a seeded organization and a development
 * session: "sign in" as one of the people below with one click, then generate, copy, use and
 * revoke tokens. A tiny API guarded by keyward (`GET /api/report`) shows a token working.
 *
 * Run: npm run manage            (PORT=8080 npm run manage to pick the port)
 *
 * Not for production: the session is a cookie holding a random id mapped in memory, and
 * `/dev/login?as=…` signs anyone in without a password.
 */
import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { createKeyward, type Keyward } from "../src/index.js";
import { memoryStore } from "../src/memory.js";
import { managementRouter, toNodeHandler, type ManagementSession } from "../src/manage/index.js";

export const BASE_PATH = "/settings/api-tokens";

/** The people of the demo: who they are, where, and their password (R4). */
export const PEOPLE = {
  ada: { userId: "u_ada", orgId: "acme", name: "Ada Admin", password: "correct horse", role: "administrator of Acme" },
  ana: { userId: "u_ana", orgId: "acme", name: "Ana Inspector", password: "battery staple", role: "inspector at Acme" },
  sam: { userId: "u_sam", orgId: "globex", name: "Sam Sso", password: null, role: "member of Globex (SSO-only: no password asked)" },
} as const;
export type Person = keyof typeof PEOPLE;

const ACTIONS = {
  "reports.export": { permission: "reports:export" },
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
} as const;

/** Builds keyward on the memory store and seeds the demo's organizations, people and a service user. */
export async function seededKeyward(options: { clock?: () => number } = {}): Promise<Keyward<keyof typeof ACTIONS>> {
  const kw = createKeyward({
    store: memoryStore(),
    actions: ACTIONS,
    verifyPassword: (userId, password) => Object.values(PEOPLE).some((p) => p.userId === userId && p.password !== null && p.password === password),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const d = kw.directory;
  await d.createOrganization({ id: "acme", name: "Acme Inspections" });
  await d.createOrganization({ id: "globex", name: "Globex", ssoOnly: true });
  await d.createPermissionSet({ id: "ps_admin", orgId: "acme", name: "Administrator", permissions: ["api_tokens:manage", "service_users:manage", "reports:export", "inspections:view"] });
  await d.createPermissionSet({ id: "ps_inspector", orgId: "acme", name: "Inspector", permissions: ["reports:export", "inspections:view"] });
  await d.createPermissionSet({ id: "ps_reporting", orgId: "acme", name: "Reporting integration", permissions: ["reports:export"] });
  await d.createPermissionSet({ id: "ps_globex", orgId: "globex", name: "Member", permissions: ["reports:export"] });
  for (const p of Object.values(PEOPLE)) await d.upsertUser({ id: p.userId, name: p.name });
  await d.addMember({ orgId: "acme", userId: "u_ada", permissionSetId: "ps_admin" });
  await d.addMember({ orgId: "acme", userId: "u_ana", permissionSetId: "ps_inspector" });
  await d.addMember({ orgId: "globex", userId: "u_sam", permissionSetId: "ps_globex" });
  await kw.serviceUsers.create({ id: "svc_bi", orgId: "acme", name: "BI export", permissionSetId: "ps_reporting", actorId: "u_ada" });
  return kw;
}

function cookie(header: string | null, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

function problem(status: number, code: string, detail: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: `urn:keyward:problem:${code}`, title: code, status, detail, code }), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...extra },
  });
}

/**
 * The demo server: the management router under {@link BASE_PATH}, `/dev/login?as=ada|ana|sam`
 * (sets the session cookie), and `GET /api/report`, an endpoint guarded by keyward with the
 * bearer token (`reports.export`).
 */
export async function startManageServer(options: { port?: number; host?: string; kw?: Keyward<keyof typeof ACTIONS> } = {}) {
  const kw = options.kw ?? (await seededKeyward());
  const sessions = new Map<string, ManagementSession>();
  const router = managementRouter(kw, {
    basePath: BASE_PATH,
    session: (request) => sessions.get(cookie(request.headers.get("cookie"), "kw_dev_session") ?? "") ?? null,
    permissionSets: (orgId) =>
      orgId === "acme"
        ? [
            { id: "ps_reporting", name: "Reporting integration" },
            { id: "ps_inspector", name: "Inspector" },
          ]
        : [],
  });

  async function app(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/dev/login") {
      const who = PEOPLE[url.searchParams.get("as") as Person];
      if (who === undefined) return new Response("Unknown person: use ?as=ada, ana or sam", { status: 404 });
      const sid = randomUUID();
      sessions.set(sid, { orgId: who.orgId, userId: who.userId });
      return new Response(null, {
        status: 303,
        headers: { location: `${BASE_PATH}/${url.searchParams.get("to") === "admin" ? "admin" : ""}`, "set-cookie": `kw_dev_session=${sid}; Path=/; HttpOnly; SameSite=Lax` },
      });
    }
    if (url.pathname === "/api/report") {
      const auth = request.headers.get("authorization");
      const m = auth === null ? null : /^Bearer +([A-Za-z0-9_]+)$/i.exec(auth);
      if (m === null) return problem(401, "missing_credentials", "Send Authorization: Bearer <token>.", { "www-authenticate": 'Bearer realm="demo"' });
      const d = await kw.authorize(m[1], "reports.export");
      if (d.allowed) return Response.json({ report: "ok", actingAs: d.subject, orgId: d.orgId });
      if (d.reason === "permission_denied") return problem(403, "permission_denied", "Not permitted.", { "www-authenticate": 'Bearer error="insufficient_scope"' });
      return problem(401, "invalid_token", "The token does not authenticate.", { "www-authenticate": 'Bearer error="invalid_token"' });
    }
    if (url.pathname === "/") return new Response(null, { status: 303, headers: { location: `${BASE_PATH}/` } });
    return router.fetch(request);
  }

  const server: Server = createServer(toNodeHandler({ fetch: app }));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const origin = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    kw,
    server,
    origin,
    pageUrl: `${origin}${BASE_PATH}/`,
    adminUrl: `${origin}${BASE_PATH}/admin`,
    loginUrl: (who: Person, to: "mine" | "admin" = "mine") => `${origin}/dev/login?as=${who}${to === "admin" ? "&to=admin" : ""}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const demo = await startManageServer({ port: Number(process.env.PORT ?? 8787) });
  console.log(`keyward token management pages: ${demo.pageUrl}`);
  console.log("Sign in as (development session, no password):");
  for (const [key, p] of Object.entries(PEOPLE)) {
    console.log(`  ${demo.loginUrl(key as Person)}   ${p.name}, ${p.role}${p.password ? ` — password "${p.password}"` : ""}`);
  }
  console.log(`Administrator's page: ${demo.loginUrl("ada", "admin")}`);
  console.log(`A token at work: curl -H "Authorization: Bearer <token>" ${demo.origin}/api/report`);
  console.log("Ctrl+C to stop.");
}
