/**
 * The management router: JSON endpoints and two small pages for the token flows (*My API tokens*
 * and the administrator's *API tokens*, R3–R11), on the Fetch API only (`Request` → `Response`), so any server can mount it.
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import type { TokenClient, TokenRestriction, TokenView } from "../core/types.js";
import type { Keyward } from "../keyward.js";
import { readLimited } from "../http/body.js";
import type { Page } from "../service/paging.js";
import { MAX_PAGE_SIZE } from "../service/paging.js";
import { id, name, parseConfig, parseInput } from "../service/schemas.js";
import { pageAssets, renderPage } from "./page.js";
import { answering, errorResponse, managementProblem, type ManagementOperation } from "./problem.js";

/** Who is calling, as the host's session says. */
export interface ManagementSession {
  orgId: string;
  userId: string;
}

/** What the router uses of a keyward instance (any instance, whatever its actions). `limits` lets the page say "3 of 10 active tokens". */
export type ManagedKeyward = Pick<Keyward, "tokens" | "serviceUsers" | "managementRights" | "managementProfile"> & Partial<Pick<Keyward, "limits" | "directory" | "rotation">>;

/** Options of {@link managementRouter}. */
export interface ManagementOptions {
  /**
   * Who is calling: the host reads its own session (cookie, header…) and returns the active
   * organization and user, or `null` when nobody is signed in (401 `session_required`).
   * keyward then checks every management permission itself (R11, R12).
   */
  session: (request: Request) => ManagementSession | null | Promise<ManagementSession | null>;
  /** Where the router is mounted, e.g. `"/settings/api-tokens"`. Default `""` (the root). */
  basePath?: string;
  /**
   * Origins allowed to make state-changing requests besides the request's own origin (for a
   * page served from another host name than the API, e.g. behind a proxy). Exact matches of
   * `scheme://host[:port]`.
   */
  allowedOrigins?: readonly string[];
  /**
   * The permission sets a new service user may be given, for the page's select. Default: none
   * offered. `POST /api/service-users` accepts only one of these (400 `invalid_input` naming
   * `permissionSetId` otherwise), and keyward refuses one holding a permission the caller lacks
   * (403 `forbidden` naming `permissionSetId`).
   */
  permissionSets?: (orgId: string) => readonly { id: string; name: string }[] | Promise<readonly { id: string; name: string }[]>;
  /** Where the pages send someone who is not signed in (a link on the signed-out page), e.g. `"/login?next=/settings/api-tokens"`. Default: none (the page says to sign in). */
  signInUrl?: string;
  /** Serve the HTML pages and their assets. Default `true`; `false` serves the JSON endpoints only. */
  pages?: boolean;
  /** Called with unexpected errors (bugs, a throwing session hook) before a 500 is answered. Never given a secret. */
  onError?: (error: unknown, request: Request) => void;
  /** Largest accepted request body in bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /**
   * Let the administrator's page list the organization's members and deactivate or remove them,
   * each after a preview of the integrations that stop (R7, R20). Default `false`: membership is
   * usually managed elsewhere in the host. When `true`, the `/api/members` endpoints answer to
   * holders of the token-management permission (R11), and the instance needs its `directory`.
   */
  members?: boolean;
}

/** A management router: one Fetch handler. */
export interface ManagementRouter {
  /** Answers a request under `basePath`; anything else gets a 404 problem. */
  fetch(request: Request): Promise<Response>;
  /** The normalized mount path (no trailing slash). */
  readonly basePath: string;
}

/**
 * What a framework's `mountManagement()` mounts: a management router (or any Fetch handler with a mount path).
 * @example `const mounted: MountableRouter = { basePath: "/settings/api-tokens", fetch: (request) => router.fetch(request) }`
 */
export type MountableRouter = Pick<ManagementRouter, "fetch" | "basePath">;

/**
 * The header every state-changing request must carry (with any value). A browser cannot set it
 * on a cross-site form post, and a cross-origin `fetch` that sets it needs a CORS pre-flight,
 * which this router never grants.
 *
 * @example
 * ```ts
 * fetch("/api/tokens", { method: "POST", headers: { "content-type": "application/json", [CSRF_HEADER]: "1" }, body })
 * ```
 */
export const CSRF_HEADER = "x-keyward-csrf";

const optionsSchema = z.object({
  session: z.custom<ManagementOptions["session"]>((f) => typeof f === "function", "expected a function (request) => { orgId, userId } | null"),
  basePath: z
    .string()
    .max(200)
    .regex(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*\/?$/, "must be a path such as /settings/api-tokens")
    .optional(),
  allowedOrigins: z.array(z.string().url()).optional(),
  permissionSets: z.custom<ManagementOptions["permissionSets"]>((f) => typeof f === "function").optional(),
  pages: z.boolean().optional(),
  signInUrl: z.string().min(1).max(2000).regex(/^(\/(?!\/)|https?:\/\/)[^\s]*$/, "must be a path (/login) or an http(s) URL").optional(),
  onError: z.custom<ManagementOptions["onError"]>((f) => typeof f === "function").optional(),
  maxBodyBytes: z.number().int().min(64).max(1_048_576).optional(),
  members: z.boolean().optional(),
});

/** A restriction as the page sends it (R17): checked field by field by keyward itself (`restriction.permissions`…). */
const restriction = z.record(z.string(), z.unknown()).nullable().optional();
/** An expiry as an ISO-8601 date-time with its offset (R19); keyward checks it against the organization's policy. */
const expiresAt = z.iso.datetime({ offset: true }).nullable().optional();
const createMineSchema = z.object({ name, password: z.string().max(1024).optional(), restriction, expiresAt }).strict();
const createServiceUserSchema = z.object({ name, permissionSetId: id.nullable().optional() }).strict();
const createServiceTokenSchema = z.object({ name, restriction, expiresAt }).strict();
const previewSchema = z.object({ restriction }).strict();
/** A grace period in milliseconds (R18): 0 by default; keyward refuses one past its `rotation.maxGraceMs`. */
const graceMs = z.number().int().min(0).max(8.64e15).optional();
const rotateMineSchema = z.object({ password: z.string().max(1024).optional(), graceMs }).strict();
const rotateServiceSchema = z.object({ graceMs }).strict();
const emptySchema = z.object({}).strict();

/** The creation fields of R17 and R19 as keyward takes them: the restriction as given (`null` is none), the expiry in epoch milliseconds. */
function lifecycleFields(v: { restriction?: Record<string, unknown> | null | undefined; expiresAt?: string | null | undefined }): { restriction?: TokenRestriction; expiresAt?: number } {
  return {
    ...(v.restriction == null ? {} : { restriction: v.restriction as TokenRestriction }),
    ...(v.expiresAt == null ? {} : { expiresAt: Date.parse(v.expiresAt) }),
  };
}


/** A token as the endpoints show it: ISO dates, the owner, never the secret nor the digest (R5). */
export interface TokenJson {
  id: string;
  kind: "user" | "service_user";
  name: string;
  /** Prefix and last four characters, to recognise it. */
  hint: string;
  owner: { id: string; name: string };
  status: TokenView["status"];
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  /** When it stops working unless revoked sooner: its effective expiry (R6, R19); `null` when it never expires, and for dead tokens. */
  expiresAt: string | null;
  /** Which deadline `expiresAt` is (R19): `"inactivity"` (moves with each use), `"date"` (set at creation) or `"policy"` (the organization's maximum lifetime). */
  expiryCause: "inactivity" | "date" | "policy" | null;
  /** What the token may do beyond its subject's own rights: `null` for full access (R17). */
  restriction: TokenRestriction | null;
  /** When its secret was last rotated (R18); `null` if never. */
  rotatedAt: string | null;
  /** Until when the secret before the last rotation still works (R18); `null` when it does not. */
  previousSecretUntil: string | null;
  /** The last distinct clients seen using it, most recent first, when the instance tracks them (R20); `[]` otherwise. */
  clients: { ip: string | null; userAgent: string | null; lastSeenAt: string }[];
}

/** A subject's token that a deactivation, a removal or a deletion would end, as the preview endpoints answer it (R20). */
export interface EndingTokenJson {
  id: string;
  kind: "user" | "service_user";
  name: string;
  lastUsedAt: string | null;
  clients: TokenJson["clients"];
}

const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());
const clientsJson = (clients: readonly TokenClient[] | undefined) => (clients ?? []).map((c) => ({ ip: c.ip, userAgent: c.userAgent, lastSeenAt: iso(c.lastSeenAt)! }));

/**
 * The listing options of a `GET` listing endpoint, from its query string: `limit`, `cursor`,
 * `status` (one, comma-separated, or `all`), `search`, `sort`, `order`. Anything else in the
 * query is ignored; a bad value is `invalid_input` naming the option (checked by the service).
 */
function listOptions(request: Request): Record<string, unknown> {
  const q = new URL(request.url).searchParams;
  const out: Record<string, unknown> = {};
  for (const key of ["cursor", "search", "sort", "order"] as const) {
    const v = q.get(key);
    if (v !== null && v !== "") out[key] = v;
  }
  const limit = q.get("limit");
  if (limit !== null && limit !== "") out.limit = /^\d{1,6}$/.test(limit) ? Number(limit) : limit;
  const status = q.get("status");
  if (status !== null && status !== "") out.status = status.includes(",") ? status.split(",") : status;
  return out;
}

/** A page of tokens as the listing endpoints answer it. */
const tokenPage = (page: Page<TokenView>) => ({ items: page.items.map(tokenJson), nextCursor: page.nextCursor, total: page.total });

/**
 * The JSON form of a listed token: ISO dates and the owner; never the secret nor the digest (R5).
 *
 * @example
 * ```ts
 * const mine = (await kw.tokens.listMine({ orgId, userId })).map(tokenJson);
 * ```
 */
export function tokenJson(v: TokenView): TokenJson {
  return {
    id: v.id,
    kind: v.kind,
    name: v.name,
    hint: v.hint,
    owner: { id: v.subjectId, name: v.subjectName },
    status: v.status,
    createdAt: iso(v.createdAt)!,
    createdBy: v.createdBy,
    lastUsedAt: iso(v.lastUsedAt),
    expiresAt: iso(v.expiresAt),
    expiryCause: v.expiresAt === null ? null : (v.expiryCause ?? null),
    restriction: v.restriction ?? null,
    rotatedAt: iso(v.rotatedAt),
    previousSecretUntil: iso(v.previousSecretUntil),
    clients: clientsJson(v.clients),
  };
}

/** The answer of a preview endpoint (R20): the subject and the tokens that would stop working. */
function endingJson(preview: { subject: { kind: "user" | "service_user"; id: string; name: string }; tokens: readonly { id: string; name: string; kind: "user" | "service_user"; lastUsedAt: number | null; clients?: readonly TokenClient[] }[] }) {
  return {
    subject: preview.subject,
    tokens: preview.tokens.map((t): EndingTokenJson => ({ id: t.id, kind: t.kind, name: t.name, lastUsedAt: iso(t.lastUsedAt), clients: clientsJson(t.clients) })),
  };
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    // Every answer is about one person's tokens: never cached, by the browser or a proxy.
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS },
  });
}

const noContent = () => new Response(null, { status: 204, headers: { "cache-control": "no-store", ...SECURITY_HEADERS } });

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The grace cap the page offers when the instance does not say its own (R18's default: 7 days). */
const DEFAULT_MAX_GRACE_MS = 7 * 86_400_000;

interface Route {
  method: string;
  /** Segments after `/api`; `:x` captures. */
  pattern: string[];
  /** Whether the route needs the session (all API routes do). */
  handle: (c: Call) => Promise<Response>;
  operation?: ManagementOperation;
}

interface Call {
  request: Request;
  session: ManagementSession;
  params: Record<string, string>;
  body: unknown;
}

function normalizeBase(basePath: string | undefined): string {
  const b = basePath ?? "";
  return b.endsWith("/") ? b.slice(0, -1) : b;
}

/**
 * Creates the management router over a keyward instance.
 *
 * Endpoints (under `basePath`; JSON in and out; errors are problem+json with a stable `code`):
 *
 * | Method and path | What | Needs (R11) |
 * |---|---|---|
 * | `GET /api/me` | the caller, the organization (`ssoOnly`), what they may manage | a session |
 * | `GET /api/tokens` | a page of my user tokens (name, hint, created, last used, inactivity expiry): `{ items, nextCursor, total }`; query `limit`, `cursor`, `status`, `search`, `sort`, `order` | a session |
 * | `POST /api/tokens` `{ name, password?, restriction?, expiresAt? }` | generate one, restricted (R17) or with an expiry (R19); `201 { token, record }`, the secret this once | the password unless SSO-only (R4) |
 * | `POST /api/tokens/preview` `{ restriction? }` | what a new token of mine would reach (R17), before its secret exists | a session |
 * | `POST /api/tokens/:id/rotate` `{ password?, graceMs? }` | a new secret for one of mine (R18); `200 { token, record }`, the secret this once | it is mine; the password unless SSO-only |
 * | `POST /api/tokens/:id/revoke` | revoke one of mine | it is mine |
 * | `GET /api/organization/tokens` | a page of the organization's user tokens, with their owners (same query and answer) | `api_tokens:manage` |
 * | `DELETE /api/organization/tokens/:id` | delete any user token | `api_tokens:manage` |
 * | `GET /api/service-users` | service users, each with its active tokens | `service_users:manage` |
 * | `POST /api/service-users` `{ name, permissionSetId? }` | create one | `service_users:manage` |
 * | `DELETE /api/service-users/:id` | delete one (its tokens stop working) | `service_users:manage` |
 * | `GET /api/service-users/:id/tokens` | a page of its tokens (same query and answer) | `service_users:manage` |
 * | `GET /api/service-users/:id/removal` | the tokens that stop if it is deleted (R20) | `service_users:manage` |
 * | `POST /api/service-users/:id/tokens` `{ name, restriction?, expiresAt? }` | generate one; the secret this once | `service_users:manage` |
 * | `POST /api/service-users/:id/tokens/preview` `{ restriction? }` | what a new token of it would reach (R17) | `service_users:manage` |
 * | `POST /api/service-users/:id/tokens/:tokenId/rotate` `{ graceMs? }` | a new secret (R18); the secret this once | `service_users:manage` |
 * | `POST /api/service-users/:id/tokens/:tokenId/revoke` | revoke one | `service_users:manage` |
 * | `DELETE /api/service-users/:id/tokens/:tokenId` | delete one | `service_users:manage` |
 * | `GET /api/permission-sets` | what `options.permissionSets` offers | `service_users:manage` |
 * | `GET /api/members` | a page of members (`members: true` only) | `api_tokens:manage` |
 * | `GET /api/members/:userId/deactivation`, `…/removal` | the tokens that stop if they are deactivated or removed (R20) | `api_tokens:manage` |
 * | `POST /api/members/:userId/deactivate`, `DELETE /api/members/:userId` | deactivate or remove a member (R7) | `api_tokens:manage` |
 * | `GET /`, `GET /admin` | the pages "My API tokens" and "API tokens" (administrator) | a session |
 *
 * CSRF: every POST/PUT/PATCH/DELETE must be `Content-Type: application/json`, carry the
 * {@link CSRF_HEADER} header, and — when the browser says where it comes from — come from the
 * request's own origin or one of `allowedOrigins` (`Origin`, else `Sec-Fetch-Site`).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { managementRouter, toNodeHandler } from "keyward/manage";
 *
 * const router = managementRouter(kw, {
 *   basePath: "/settings/api-tokens",
 *   session: async (request) => mySessions.read(request.headers.get("cookie")), // { orgId, userId } | null
 * });
 * createServer(toNodeHandler(router)).listen(3000);
 * // or, in any Fetch-API server: export default { fetch: router.fetch }
 * ```
 */
export function managementRouter(kw: ManagedKeyward, options: ManagementOptions): ManagementRouter {
  parseConfig(optionsSchema, options);
  const basePath = normalizeBase(options.basePath);
  const maxBody = options.maxBodyBytes ?? 16_384;
  const allowed = new Set((options.allowedOrigins ?? []).map((o) => new URL(o).origin));
  const pages = options.pages ?? true;
  const assets = pageAssets();
  const members = options.members ?? false;
  if (members && kw.directory === undefined) {
    throw new KeywardError("invalid_config", "members: true needs the keyward instance's directory (pass the instance itself).", { field: "options.members" });
  }

  async function hasPermission(s: ManagementSession, permission: "manageTokens" | "manageServiceUsers"): Promise<boolean> {
    // The service's own check, so that the page shows exactly what the endpoints allow; asking is no refused call (no event).
    return (await kw.managementRights({ orgId: s.orgId, actorId: s.userId }))[permission];
  }

  /** The permission sets the host offers to new service users (none without the hook). */
  async function offeredSets(orgId: string): Promise<readonly { id: string; name: string }[]> {
    return options.permissionSets ? await options.permissionSets(orgId) : [];
  }

  /** The longest grace period a rotation may keep the previous secret (R18), for the page's choices. */
  function maxGraceMs(): number {
    return kw.rotation?.maxGraceMs ?? DEFAULT_MAX_GRACE_MS;
  }

  /** R17: what a token of `subject` with `restriction` would reach, before its secret exists (keyward checks the caller may create it). */
  async function previewReach(s: ManagementSession, subject: { kind: "user" | "service_user"; id: string }, r: Record<string, unknown> | null | undefined) {
    const reach = await kw.tokens.previewReach({ orgId: s.orgId, actorId: s.userId, subject, ...(r == null ? {} : { restriction: r as TokenRestriction }) });
    return { subject: reach.subject, refusal: reach.refusal, permissions: reach.permissions, actions: reach.actions, itemTypes: reach.itemTypes };
  }

  /**
   * The directory, for the member endpoints: only with `members: true`, and only to holders of the
   * token-management permission (R11) — checked here, since the directory itself trusts its caller.
   */
  async function membersDirectory(s: ManagementSession): Promise<NonNullable<ManagedKeyward["directory"]>> {
    if (!members || kw.directory === undefined) throw new KeywardError("not_found", "Not found."); // members: false (checked at start-up otherwise)
    if (!(await hasPermission(s, "manageTokens"))) throw new KeywardError("forbidden");
    return kw.directory;
  }

  /** An administrator does not deactivate or remove themself from this page (they would lose it mid-action). */
  function notSelf(s: ManagementSession, userId: string): void {
    if (userId === s.userId) throw new KeywardError("invalid_input", "You cannot deactivate or remove yourself here.", { field: "userId" });
  }

  async function serviceUserOf(s: ManagementSession, serviceUserId: string) {
    const list = await kw.serviceUsers.list({ orgId: s.orgId, actorId: s.userId });
    const su = list.find((x) => x.id === serviceUserId);
    if (su === undefined) throw new KeywardError("not_found", "No such service user.");
    return su;
  }

  async function serviceTokenOf(s: ManagementSession, serviceUserId: string, tokenId: string): Promise<void> {
    await serviceUserOf(s, serviceUserId);
    if (!(await kw.tokens.belongsTo({ orgId: s.orgId, tokenId, kind: "service_user", subjectId: serviceUserId }))) throw new KeywardError("not_found", "No such token.");
  }

  const routes: Route[] = [
    {
      method: "GET",
      pattern: ["me"],
      async handle({ session: s }) {
        const { user, organization, can, holds } = await kw.managementProfile({ orgId: s.orgId, actorId: s.userId });
        return json({
          user,
          organization,
          can: { ...can, manageMembers: members && can.manageTokens },
          holds,
          limits: { userTokens: kw.limits?.userTokensPerUser ?? null },
          rotation: { maxGraceMs: maxGraceMs() },
        });
      },
    },
    {
      method: "GET",
      pattern: ["tokens"],
      async handle({ session: s, request }) {
        return json(tokenPage(await kw.tokens.listMine({ ...listOptions(request), orgId: s.orgId, userId: s.userId })));
      },
    },
    {
      method: "POST",
      pattern: ["tokens"],
      operation: "create_user_token",
      async handle({ session: s, body }) {
        const v = parseInput(createMineSchema, body);
        const created = await kw.tokens.createUserToken({
          orgId: s.orgId,
          userId: s.userId,
          name: v.name,
          ...(v.password === undefined ? {} : { password: v.password }),
          ...lifecycleFields(v),
        });
        return json({ token: created.token, record: tokenJson(created.record) }, 201);
      },
    },
    {
      method: "POST",
      pattern: ["tokens", "preview"],
      async handle({ session: s, body }) {
        const v = parseInput(previewSchema, body);
        return json(await previewReach(s, { kind: "user", id: s.userId }, v.restriction));
      },
    },
    {
      method: "POST",
      pattern: ["tokens", ":tokenId", "rotate"],
      operation: "rotate_token",
      async handle({ session: s, params, body }) {
        const v = parseInput(rotateMineSchema, body);
        // Only one of the caller's own user tokens: another's is not found here (an administrator deletes, never rotates, a person's token).
        if (!(await kw.tokens.belongsTo({ orgId: s.orgId, tokenId: params.tokenId!, kind: "user", subjectId: s.userId }))) throw new KeywardError("not_found", "No such token.");
        const rotated = await kw.tokens.rotate({
          orgId: s.orgId,
          tokenId: params.tokenId!,
          actorId: s.userId,
          ...(v.password === undefined ? {} : { password: v.password }),
          ...(v.graceMs === undefined ? {} : { graceMs: v.graceMs }),
        });
        return json({ token: rotated.token, record: tokenJson(rotated.record) });
      },
    },
    {
      method: "POST",
      pattern: ["tokens", ":tokenId", "revoke"],
      async handle({ session: s, params, body }) {
        parseInput(emptySchema, body);
        await kw.tokens.revoke({ orgId: s.orgId, tokenId: params.tokenId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "GET",
      pattern: ["organization", "tokens"],
      async handle({ session: s, request }) {
        return json(tokenPage(await kw.tokens.listOrganization({ ...listOptions(request), orgId: s.orgId, actorId: s.userId })));
      },
    },
    {
      method: "DELETE",
      pattern: ["organization", "tokens", ":tokenId"],
      async handle({ session: s, params }) {
        // This endpoint deletes user tokens; service tokens have their own, under their service user.
        // The permission is checked first, so a non-administrator learns nothing.
        if (await kw.tokens.belongsTo({ orgId: s.orgId, tokenId: params.tokenId!, kind: "service_user" })) {
          if (!(await hasPermission(s, "manageTokens"))) throw new KeywardError("forbidden");
          throw new KeywardError("not_found", "No such token.");
        }
        await kw.tokens.delete({ orgId: s.orgId, tokenId: params.tokenId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "GET",
      pattern: ["service-users"],
      async handle({ session: s }) {
        // Each service user with its active tokens (R3 bounds them); the others page through GET /api/service-users/:id/tokens.
        const [users, tokens] = await Promise.all([
          kw.serviceUsers.list({ orgId: s.orgId, actorId: s.userId }),
          kw.tokens.listServiceTokens({ orgId: s.orgId, actorId: s.userId, status: "active", limit: MAX_PAGE_SIZE }),
        ]);
        return json({
          serviceUsers: users.map((su) => ({
            id: su.id,
            name: su.name,
            permissionSetId: su.permissionSetId,
            createdAt: iso(su.createdAt),
            tokens: tokens.items.filter((t) => t.subjectId === su.id).map(tokenJson),
          })),
        });
      },
    },
    {
      method: "POST",
      pattern: ["service-users"],
      async handle({ session: s, body }) {
        const v = parseInput(createServiceUserSchema, body);
        // Only a set the page offers; keyward itself then refuses one beyond the caller's own permissions (403).
        if (v.permissionSetId != null && !(await offeredSets(s.orgId)).some((p) => p.id === v.permissionSetId)) {
          throw new KeywardError("invalid_input", "Choose one of the permission sets offered.", { field: "permissionSetId" });
        }
        const su = await kw.serviceUsers.create({ orgId: s.orgId, name: v.name, permissionSetId: v.permissionSetId ?? null, actorId: s.userId });
        return json({ serviceUser: { id: su.id, name: su.name, permissionSetId: su.permissionSetId, createdAt: iso(su.createdAt), tokens: [] } }, 201);
      },
    },
    {
      method: "DELETE",
      pattern: ["service-users", ":serviceUserId"],
      async handle({ session: s, params }) {
        await kw.serviceUsers.remove({ orgId: s.orgId, id: params.serviceUserId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "GET",
      pattern: ["service-users", ":serviceUserId", "tokens"],
      async handle({ session: s, params, request }) {
        await serviceUserOf(s, params.serviceUserId!);
        return json(tokenPage(await kw.tokens.listServiceTokens({ ...listOptions(request), orgId: s.orgId, actorId: s.userId, serviceUserId: params.serviceUserId! })));
      },
    },
    {
      method: "POST",
      pattern: ["service-users", ":serviceUserId", "tokens"],
      operation: "create_service_token",
      async handle({ session: s, params, body }) {
        const v = parseInput(createServiceTokenSchema, body);
        const created = await kw.tokens.createServiceToken({ orgId: s.orgId, serviceUserId: params.serviceUserId!, name: v.name, actorId: s.userId, ...lifecycleFields(v) });
        return json({ token: created.token, record: tokenJson(created.record) }, 201);
      },
    },
    {
      method: "POST",
      pattern: ["service-users", ":serviceUserId", "tokens", "preview"],
      async handle({ session: s, params, body }) {
        const v = parseInput(previewSchema, body);
        await serviceUserOf(s, params.serviceUserId!);
        return json(await previewReach(s, { kind: "service_user", id: params.serviceUserId! }, v.restriction));
      },
    },
    {
      method: "POST",
      pattern: ["service-users", ":serviceUserId", "tokens", ":tokenId", "rotate"],
      operation: "rotate_token",
      async handle({ session: s, params, body }) {
        const v = parseInput(rotateServiceSchema, body);
        await serviceTokenOf(s, params.serviceUserId!, params.tokenId!);
        const rotated = await kw.tokens.rotate({ orgId: s.orgId, tokenId: params.tokenId!, actorId: s.userId, ...(v.graceMs === undefined ? {} : { graceMs: v.graceMs }) });
        return json({ token: rotated.token, record: tokenJson(rotated.record) });
      },
    },
    {
      method: "GET",
      pattern: ["service-users", ":serviceUserId", "removal"],
      async handle({ session: s, params }) {
        return json(endingJson(await kw.serviceUsers.previewRemoval({ orgId: s.orgId, serviceUserId: params.serviceUserId!, actorId: s.userId })));
      },
    },
    {
      method: "GET",
      pattern: ["members"],
      async handle({ session: s, request }) {
        const d = await membersDirectory(s);
        const page = await d.listMembers({ ...listOptions(request), orgId: s.orgId });
        return json({
          items: page.items.map((m) => ({ id: m.user.id, name: m.user.name, status: m.membership.status, self: m.user.id === s.userId })),
          nextCursor: page.nextCursor,
          total: page.total,
        });
      },
    },
    {
      method: "GET",
      pattern: ["members", ":userId", "deactivation"],
      async handle({ session: s, params }) {
        const d = await membersDirectory(s);
        return json(endingJson(await d.previewDeactivation({ orgId: s.orgId, userId: params.userId! })));
      },
    },
    {
      method: "POST",
      pattern: ["members", ":userId", "deactivate"],
      async handle({ session: s, params, body }) {
        parseInput(emptySchema, body);
        const d = await membersDirectory(s);
        notSelf(s, params.userId!);
        await d.deactivateMember({ orgId: s.orgId, userId: params.userId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "GET",
      pattern: ["members", ":userId", "removal"],
      async handle({ session: s, params }) {
        const d = await membersDirectory(s);
        return json(endingJson(await d.previewRemoval({ orgId: s.orgId, userId: params.userId! })));
      },
    },
    {
      method: "DELETE",
      pattern: ["members", ":userId"],
      async handle({ session: s, params }) {
        const d = await membersDirectory(s);
        notSelf(s, params.userId!);
        await d.removeMember({ orgId: s.orgId, userId: params.userId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "POST",
      pattern: ["service-users", ":serviceUserId", "tokens", ":tokenId", "revoke"],
      async handle({ session: s, params, body }) {
        parseInput(emptySchema, body);
        await serviceTokenOf(s, params.serviceUserId!, params.tokenId!);
        await kw.tokens.revoke({ orgId: s.orgId, tokenId: params.tokenId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "DELETE",
      pattern: ["service-users", ":serviceUserId", "tokens", ":tokenId"],
      async handle({ session: s, params }) {
        await serviceTokenOf(s, params.serviceUserId!, params.tokenId!);
        await kw.tokens.delete({ orgId: s.orgId, tokenId: params.tokenId!, actorId: s.userId });
        return noContent();
      },
    },
    {
      method: "GET",
      pattern: ["permission-sets"],
      async handle({ session: s }) {
        if (!(await hasPermission(s, "manageServiceUsers"))) throw new KeywardError("forbidden");
        const sets = await offeredSets(s.orgId);
        return json({ permissionSets: sets.map((p) => ({ id: p.id, name: p.name })) });
      },
    },
  ];

  function match(segments: string[]): { route: Route; params: Record<string, string> }[] {
    const found: { route: Route; params: Record<string, string> }[] = [];
    for (const route of routes) {
      if (route.pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const p = route.pattern[i]!;
        const seg = segments[i]!;
        if (p.startsWith(":")) params[p.slice(1)] = seg;
        else if (p !== seg) ok = false;
      }
      if (ok) found.push({ route, params });
    }
    return found;
  }

  /** Same-origin check of a state-changing request; `null` when it passes. */
  function csrfRefusal(request: Request): string | null {
    const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") return "unsupported_media_type";
    if (request.headers.get(CSRF_HEADER) === null) return `State-changing requests must carry the ${CSRF_HEADER} header.`;
    const origin = request.headers.get("origin");
    const own = new URL(request.url).origin;
    if (origin !== null) {
      if (origin !== own && !allowed.has(origin)) return "The request comes from another origin.";
      return null;
    }
    const site = request.headers.get("sec-fetch-site");
    if (site !== null && site !== "same-origin" && site !== "none") return "The request comes from another site.";
    return null;
  }

  /**
   * The JSON body, read with a byte count: past `maxBody` (declared by `Content-Length`, or
   * counted while the stream arrives, chunked or not) reading stops at once — the rest is
   * never read nor buffered — and the answer is 413.
   */
  async function readBody(request: Request): Promise<unknown> {
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > maxBody) throw new KeywardError("payload_too_large");
    const bytes = await readLimited(request.body, maxBody);
    if (bytes === "too_large") throw new KeywardError("payload_too_large");
    const text = new TextDecoder().decode(bytes);
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new KeywardError("invalid_input", "The request body is not valid JSON.", { field: "body" });
    }
  }

  async function session(request: Request): Promise<ManagementSession | null> {
    const s = await options.session(request);
    if (s === null || s === undefined) return null;
    if (typeof s !== "object" || typeof s.orgId !== "string" || typeof s.userId !== "string" || s.orgId === "" || s.userId === "") {
      throw new KeywardError("invalid_config", "The session hook must return { orgId, userId } or null.", { field: "options.session" });
    }
    return { orgId: s.orgId, userId: s.userId };
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path !== basePath && !path.startsWith(`${basePath}/`)) return managementProblem("not_found", "Not found.");
    const rest = path.slice(basePath.length);
    const segments = rest.split("/").filter((x) => x !== "");
    let decoded: string[];
    try {
      decoded = segments.map((x) => decodeURIComponent(x));
    } catch {
      return managementProblem("not_found", "Not found.");
    }
    const method = request.method.toUpperCase();

    if (decoded[0] !== "api") {
      if (!pages) return managementProblem("not_found", "Not found.");
      if (decoded[0] === "assets" && decoded.length === 2) {
        const asset = assets[decoded[1]!];
        if (asset === undefined) return managementProblem("not_found", "Not found.");
        if (method !== "GET" && method !== "HEAD") return managementProblem("method_not_allowed", "Use GET.", { headers: { allow: "GET, HEAD" } });
        return new Response(method === "HEAD" ? null : asset.body, {
          headers: { "content-type": asset.type, "cache-control": "no-cache", ...SECURITY_HEADERS },
        });
      }
      const page = decoded.length === 0 ? "mine" : decoded.length === 1 && decoded[0] === "admin" ? "admin" : null;
      if (page === null) return managementProblem("not_found", "Not found.");
      if (method !== "GET" && method !== "HEAD") return managementProblem("method_not_allowed", "Use GET.", { headers: { allow: "GET, HEAD" } });
      // The page itself holds no data: it fetches /api/me and redirects nothing. A missing session is shown by the script.
      return new Response(method === "HEAD" ? null : renderPage(page, basePath, options.signInUrl ?? null), {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "content-security-policy":
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          "x-frame-options": "DENY",
          ...SECURITY_HEADERS,
        },
      });
    }

    const candidates = match(decoded.slice(1));
    if (candidates.length === 0) return managementProblem("not_found", "Not found.");
    const hit = candidates.find((c) => c.route.method === method || (method === "HEAD" && c.route.method === "GET"));
    if (hit === undefined) {
      const allow = [...new Set(candidates.map((c) => c.route.method))].join(", ");
      return managementProblem("method_not_allowed", `Use ${allow}.`, { headers: { allow } });
    }
    if (UNSAFE.has(method)) {
      const refusal = csrfRefusal(request);
      if (refusal === "unsupported_media_type") return managementProblem("unsupported_media_type", "Send the request body as application/json.");
      if (refusal !== null) return managementProblem("csrf_rejected", refusal);
    }
    const s = await session(request);
    if (s === null) return managementProblem("session_required", "Sign in to manage API tokens.");
    let body: unknown = {};
    if (UNSAFE.has(method)) {
      try {
        body = await readBody(request);
      } catch (e) {
        // The unread rest of the body stays on the connection: it cannot carry another request.
        if (e instanceof KeywardError && e.code === "payload_too_large") {
          return managementProblem("payload_too_large", `The request body exceeds ${maxBody} bytes.`, { headers: { connection: "close" } });
        }
        throw e;
      }
    }
    try {
      return await hit.route.handle({ request, session: s, params: hit.params, body });
    } catch (e) {
      return errorResponse(e, (x) => options.onError?.(x, request), hit.route.operation);
    }
  }

  return {
    basePath,
    fetch: answering(handle, options.onError),
  };
}
