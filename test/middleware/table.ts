/**
 * ONE table of HTTP cases, run against each framework over a real loopback socket: the rows of
 * the HTTP mapping (the README's "Middleware" table) and bad headers (no credentials, malformed
 * or doubled headers, query-string tokens, odd characters, over-long ids). Each framework's test file calls {@link httpTable} with its `start`.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ItemRef, type KeywardEvent, type KeywardStore } from "../../src/index.js";
import { generateToken } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { DAY, PASSWORD, THIRTY_DAYS, world } from "../core/fixture.js";
import { REALM, type AppDeps, type Running } from "./apps.js";

/** A store that can be switched off (503 rows) and counts `loadDecision` and `loadAccess` calls (zero-store-call rows). */
function switchableStore() {
  const inner = memoryStore();
  const state = { down: false, loads: 0 };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "loadDecision" || prop === "loadAccess") {
          state.loads++;
          if (state.down) return Promise.reject(new Error("ECONNREFUSED 10.0.0.7:5432 password=hunter2"));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as KeywardStore;
  return { store, state };
}

/** The world behind the table: the core fixture plus the host's inspections and a token per role. */
export async function httpWorld() {
  const { store, state } = switchableStore();
  // Client tracking on (opt-in), so that the table also shows each framework passes the request's client.
  const w = await world({ store, trackClients: true });
  const { kw } = w;
  const expired = (await w.userToken(w.users.bob.id, "acme", "old laptop")).token;
  w.advance(31 * DAY); // Bob's "old laptop" token was never used: expired (R6)
  const inspections = new Map<string, ItemRef>([
    ["insp_1", w.inspection("insp_1", { siteId: w.sites.oslo.id })],
    ["insp_view", w.inspection("insp_view")],
    ["insp_bot", w.inspection("insp_bot")],
    ["insp_beta", w.inspection("insp_beta", {}, "beta")],
  ]);
  await kw.directory.share({ item: w.inspection("insp_1"), grantee: { kind: "user", userId: w.users.ana.id }, level: "edit" });
  await kw.directory.share({ item: w.inspection("insp_1"), grantee: { kind: "user", userId: w.users.bob.id }, level: "view" });
  await kw.directory.share({ item: w.inspection("insp_view"), grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
  await kw.directory.share({ item: w.inspection("insp_bot"), grantee: { kind: "service_user", serviceUserId: w.bot.id }, level: "edit" });
  const ana = (await w.userToken(w.users.ana.id)).token;
  const bob = (await w.userToken(w.users.bob.id)).token;
  const bot = (await w.serviceToken()).token;
  const revokedToken = await w.userToken(w.users.ana.id, "acme", "revoked");
  await kw.tokens.revoke({ orgId: "acme", tokenId: revokedToken.record.id, actorId: w.users.ana.id });
  const carl = (await w.userToken(w.users.carl.id)).token;
  await kw.directory.deactivateMember({ orgId: "acme", userId: w.users.carl.id });
  // R18: a token rotated with a week's grace (its previous secret still works) and one rotated without (its previous secret is gone).
  const graced = await w.userToken(w.users.ana.id, "acme", "rotated with grace");
  await kw.tokens.rotate({ orgId: "acme", tokenId: graced.record.id, actorId: w.users.ana.id, password: PASSWORD, graceMs: 7 * DAY });
  const ungraced = await w.userToken(w.users.ana.id, "acme", "rotated without grace");
  await kw.tokens.rotate({ orgId: "acme", tokenId: ungraced.record.id, actorId: w.users.ana.id, password: PASSWORD });
  // R17: Ana's token restricted to viewing insp_1.
  const restricted = (
    await kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "restricted", password: PASSWORD, restriction: { maxLevel: "view", items: [{ orgId: "acme", type: "inspection", id: "insp_1" }] } })
  ).token;
  const tokens = { ana, bob, bot, restricted, revoked: revokedToken.token, expired, inactive: carl, unknown: generateToken("user"), previousInGrace: graced.token, previousGone: ungraced.token };
  w.events.length = 0;
  return { w, state, tokens, deps: { kw, inspections } satisfies AppDeps };
}

type Tokens = Awaited<ReturnType<typeof httpWorld>>["tokens"];

/** A response as the test sees it. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown> | null;
}

/** One request over `node:http`: header values may repeat (an array sends several lines). */
export function send(base: string, method: string, path: string, headers: Record<string, string | string[]> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    for (const [k, v] of Object.entries(headers)) req.setHeader(k, v);
    req.on("error", reject);
    req.end();
  });
}

/** Raw bytes on a socket, for header bytes `node:http` would refuse to send (control characters). */
export function sendRaw(base: string, head: Buffer): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(head));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}

const utf8AsLatin1 = (s: string) => Buffer.from(s, "utf8").toString("latin1");
const swapLast = (t: string) => t.slice(0, -1) + (t.endsWith("A") ? "B" : "A");

/** An expected answer. `www: null` means no `WWW-Authenticate`; `code: null` means Node answers before any middleware. */
interface Expect {
  status: number;
  code: string | null;
  www?: string | null;
  subject?: string;
  retryAfter?: string | RegExp;
  /** R21: expected rate-limit headers (lowercase names); `undefined` means absent. */
  rate?: Record<string, string | RegExp | undefined>;
  reason?: string;
  field?: string;
  /** R17: `restricted: true` in the body (a denial the token's restriction caused). */
  restricted?: true;
  /** How many `loadDecision` calls the request may cost. */
  storeCalls?: number;
  /** R19: the `API-Token-Expiration` header: `true` an ISO-8601 UTC time, `false` absent. */
  expiry?: boolean;
}

interface Case {
  name: string;
  method?: "GET" | "PUT";
  path: string;
  headers?: (t: Tokens) => Record<string, string | string[]>;
  storeDown?: boolean;
  /** Requests sent to the same path first (R21 rows: to use up a budget, or to show that one is not used). */
  before?: { times: number; method?: "GET" | "PUT"; headers: (t: Tokens) => Record<string, string> };
  expect: Expect;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** R19: the default expiry header, and its value's shape (`2026-12-31T00:00:00.000Z`). */
const EXPIRY = "api-token-expiration";
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** R21: the `X-RateLimit-*` headers after `used` requests against a limit of 2. */
const RATE = (used: number) => ({
  "x-ratelimit-limit": "2",
  "x-ratelimit-used": String(used),
  "x-ratelimit-remaining": String(Math.max(0, 2 - used)),
  "x-ratelimit-reset": /^\d{10}$/,
});
const NO_RATE = { "x-ratelimit-limit": undefined, "x-ratelimit-remaining": undefined, "x-ratelimit-used": undefined, "x-ratelimit-reset": undefined, ratelimit: undefined };
const WWW = {
  realm: `Bearer realm="${REALM}"`,
  invalidRequest: `Bearer realm="${REALM}", error="invalid_request"`,
  invalidToken: `Bearer realm="${REALM}", error="invalid_token"`,
  scope: `Bearer realm="${REALM}", error="insufficient_scope"`,
};

/** The table. Names read as specifications. */
export const CASES: Case[] = [
  // ── the mapping ──
  { name: "an allowed request reaches the handler, which sees the subject (R15), and the answer carries the token's expiry (R19)", path: "/inspections/insp_1", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", storeCalls: 1, expiry: true } },
  { name: "a service user token acts as its service user, by name (R16); one that never expires sends no expiry header (R19)", path: "/inspections/insp_bot", headers: (t) => bearer(t.bot), expect: { status: 200, code: null, subject: "BI export", expiry: false } },
  { name: "an organization-level action needs no item (R12)", path: "/reports", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector" } },
  { name: "a revoked token is 401 invalid_token (R11)", path: "/inspections/insp_1", headers: (t) => bearer(t.revoked), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken } },
  { name: "an expired token is 401 invalid_token (R6), without an expiry header (R19: the token stage refused it)", path: "/inspections/insp_1", headers: (t) => bearer(t.expired), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, expiry: false } },
  { name: "a deactivated user's token is 401 invalid_token (R7)", path: "/inspections/insp_1", headers: (t) => bearer(t.inactive), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken } },
  { name: "a well-formed but unknown token is 401 invalid_token after one lookup", path: "/inspections/insp_1", headers: (t) => bearer(t.unknown), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 1 } },
  { name: "R18 a rotated token's previous secret during its grace period is allowed: the handler sees the subject", path: "/inspections/insp_1", headers: (t) => bearer(t.previousInGrace), expect: { status: 200, code: null, subject: "Ana Inspector", storeCalls: 1 } },
  { name: "R18 a rotated token's previous secret without a grace period is 401 invalid_token, as an unknown token", path: "/inspections/insp_1", headers: (t) => bearer(t.previousGone), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 1 } },
  { name: "R18 where the host opts in, the previous secret past its grace reads token_unknown (never a hint that it was rotated)", path: "/strict/inspections/insp_1", headers: (t) => bearer(t.previousGone), expect: { status: 401, code: "invalid_token", www: `${WWW.invalidToken}, error_description="token_unknown"`, reason: "token_unknown" } },
  { name: "the precise token reason goes on the wire only where the host opts in (exposeTokenReason)", path: "/strict/inspections/insp_1", headers: (t) => bearer(t.revoked), expect: { status: 401, code: "invalid_token", www: `${WWW.invalidToken}, error_description="token_revoked"`, reason: "token_revoked" } },
  { name: "an action the permission set lacks is 403 permission_denied with insufficient_scope (R12), with the token's expiry (R19: past the token stage)", method: "PUT", path: "/inspections/insp_1", headers: (t) => bearer(t.bob), expect: { status: 403, code: "permission_denied", www: WWW.scope, expiry: true } },
  { name: "an organization-level action the permission set lacks is 403 permission_denied (R12)", path: "/reports", headers: (t) => bearer(t.bob), expect: { status: 403, code: "permission_denied", www: WWW.scope } },
  { name: "an item visible at a lower level is 403 access_denied (R13), with the token's expiry (R19)", method: "PUT", path: "/inspections/insp_view", headers: (t) => bearer(t.ana), expect: { status: 403, code: "access_denied", www: WWW.scope, expiry: true } },
  { name: "R17 a restricted token does what its restriction allows", path: "/inspections/insp_1", headers: (t) => bearer(t.restricted), expect: { status: 200, code: null, subject: "Ana Inspector" } },
  { name: "R17 an action above the restriction's maximum level is 403 permission_denied with insufficient_scope, restricted", method: "PUT", path: "/inspections/insp_1", headers: (t) => bearer(t.restricted), expect: { status: 403, code: "permission_denied", www: WWW.scope, restricted: true } },
  { name: "R17 an item the subject may see but the restriction leaves out is 403 access_denied with insufficient_scope, restricted (not 404)", path: "/inspections/insp_view", headers: (t) => bearer(t.restricted), expect: { status: 403, code: "access_denied", www: WWW.scope, restricted: true } },
  { name: "R17 an item out of the subject's own reach stays 404 not_found for a restricted token", path: "/inspections/insp_beta", headers: (t) => bearer(t.restricted), expect: { status: 404, code: "not_found", www: null } },
  { name: "another organization's item without a share is 404 not_found, without WWW-Authenticate (R14)", path: "/inspections/insp_beta", headers: (t) => bearer(t.ana), expect: { status: 404, code: "not_found", www: null } },
  { name: "a service token without an explicit share is 404 not_found (R13)", path: "/inspections/insp_1", headers: (t) => bearer(t.bot), expect: { status: 404, code: "not_found", www: null } },
  { name: "an item the loader cannot find is 404 not_found, like one out of reach", path: "/inspections/insp_nope", headers: (t) => bearer(t.ana), expect: { status: 404, code: "not_found", www: null } },
  { name: "a missing item still checks the token first: an unknown token gets 401, never a hint that the item is absent", path: "/inspections/insp_nope", headers: (t) => bearer(t.unknown), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken } },
  { name: "a missing item still checks the permission first: 403 permission_denied as for an existing one", method: "PUT", path: "/inspections/insp_nope", headers: (t) => bearer(t.bob), expect: { status: 403, code: "permission_denied", www: WWW.scope } },
  { name: "a loader that throws answers 404 not_found, with nothing of its error", path: "/broken/x", headers: (t) => bearer(t.ana), expect: { status: 404, code: "not_found", www: null } },
  { name: "unreachable items answer 403 access_denied where the host prefers (unreachableStatus: 403)", path: "/strict/inspections/insp_beta", headers: (t) => bearer(t.ana), expect: { status: 403, code: "access_denied", www: WWW.scope } },
  { name: "a store failure is 503 unavailable with Retry-After, never an allow", path: "/inspections/insp_1", headers: (t) => bearer(t.ana), storeDown: true, expect: { status: 503, code: "unavailable", www: null, retryAfter: "7" } },
  // ── bad headers ──
  { name: "no Authorization header is 401 missing_credentials with a realm and no error", path: "/inspections/insp_1", expect: { status: 401, code: "missing_credentials", www: WWW.realm, storeCalls: 0 } },
  { name: "`Bearer` with no token is 400 invalid_request", path: "/inspections/insp_1", headers: () => ({ authorization: "Bearer" }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "`Bearer ` with an empty token is 400 invalid_request", path: "/inspections/insp_1", headers: () => ({ authorization: "Bearer " }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "the scheme `bearer` is accepted (case-insensitive)", path: "/inspections/insp_1", headers: (t) => ({ authorization: `bearer ${t.ana}` }), expect: { status: 200, code: null, subject: "Ana Inspector" } },
  { name: "the scheme `BEARER` is accepted (case-insensitive)", path: "/inspections/insp_1", headers: (t) => ({ authorization: `BEARER ${t.ana}` }), expect: { status: 200, code: null, subject: "Ana Inspector" } },
  { name: "`Basic` credentials are no bearer credentials: 401 missing_credentials", path: "/inspections/insp_1", headers: () => ({ authorization: "Basic YWRhOnNlY3JldA==" }), expect: { status: 401, code: "missing_credentials", www: WWW.realm, storeCalls: 0 } },
  { name: "a `Token` scheme is no bearer credentials, even with a valid token: 401 missing_credentials", path: "/inspections/insp_1", headers: (t) => ({ authorization: `Token ${t.ana}` }), expect: { status: 401, code: "missing_credentials", www: WWW.realm, storeCalls: 0 } },
  { name: "a single credential of another scheme with commas in its parameters is still no bearer credentials: 401", path: "/inspections/insp_1", headers: () => ({ authorization: 'Digest username="ada", realm="x", nonce="1"' }), expect: { status: 401, code: "missing_credentials", www: WWW.realm, storeCalls: 0 } },
  { name: "a tab between scheme and token is 400 invalid_request", path: "/inspections/insp_1", headers: (t) => ({ authorization: `Bearer\t${t.ana}` }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "whitespace inside the token is 400 invalid_request", path: "/inspections/insp_1", headers: (t) => ({ authorization: `Bearer ${t.ana.slice(0, 20)} ${t.ana.slice(20)}` }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "two Authorization headers are 400 invalid_request, even if both are valid", path: "/inspections/insp_1", headers: (t) => ({ authorization: [`Bearer ${t.ana}`, `Bearer ${t.ana}`] }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "two Authorization headers of different schemes are 400 invalid_request", path: "/inspections/insp_1", headers: (t) => ({ authorization: ["Basic YWRhOnNlY3JldA==", `Bearer ${t.ana}`] }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "two credentials joined by a comma are 400 invalid_request", path: "/inspections/insp_1", headers: (t) => ({ authorization: `Bearer ${t.ana}, Bearer ${t.bob}` }), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "a token only in the query string is 400 invalid_request and never looked up", path: "/inspections/insp_1?access_token=TOKEN", expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "a token in the header and the query string is 400 invalid_request", path: "/inspections/insp_1?access_token=TOKEN", headers: (t) => bearer(t.ana), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "an encoded access_token key in the query is still 400 invalid_request", path: "/inspections/insp_1?access%5Ftoken=TOKEN", headers: (t) => bearer(t.ana), expect: { status: 400, code: "invalid_request", www: WWW.invalidRequest, storeCalls: 0 } },
  { name: "a token longer than 255 characters is 401 invalid_token, with no store call", path: "/inspections/insp_1", headers: (t) => bearer(t.ana + "a".repeat(256)), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "a header over 16 KiB is refused by Node (431) before any middleware", path: "/inspections/insp_1", headers: () => bearer("kwu_" + "a".repeat(17_000)), expect: { status: 431, code: null, storeCalls: 0 } },
  { name: "a fullwidth digit in the token is 401 invalid_token, with no normalization and no store call", path: "/inspections/insp_1", headers: (t) => bearer(utf8AsLatin1(t.ana.slice(0, -1) + "\uff11")), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "a zero-width space after the token is 401 invalid_token, with no store call", path: "/inspections/insp_1", headers: (t) => bearer(utf8AsLatin1(t.ana + "\u200b")), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "another vendor's token (ghp_) is 401 invalid_token, with no store call", path: "/inspections/insp_1", headers: () => bearer(`ghp_${"a1B2".repeat(9)}`), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "another vendor's token (sk_live_) is 401 invalid_token, with no store call", path: "/inspections/insp_1", headers: () => bearer(`sk_live_${"x".repeat(24)}`), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "a user token's body behind the service prefix is 401 invalid_token, with no store call", path: "/inspections/insp_1", headers: (t) => bearer(t.ana.replace(/^kwu_/, "kws_")), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "a bad checksum is 401 invalid_token, with no store call", path: "/inspections/insp_1", headers: (t) => bearer(swapLast(t.ana)), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, storeCalls: 0 } },
  { name: "an organization named in a header or the query is ignored: the token's organization decides (R2)", path: "/inspections/insp_beta?orgId=beta", headers: (t) => ({ ...bearer(t.ana), "x-org-id": "beta" }), expect: { status: 404, code: "not_found", www: null } },
  { name: "an organization named in the route reaches nothing the token's subject cannot reach (R2, R14)", path: "/orgs/beta/inspections/insp_beta", headers: (t) => ({ ...bearer(t.ana), "x-org-id": "beta" }), expect: { status: 404, code: "not_found", www: null } },
  { name: "an over-long item id from the route is 400 invalid_input naming the field", path: `/orgs/acme/inspections/${"x".repeat(201)}`, headers: (t) => bearer(t.ana), expect: { status: 400, code: "invalid_input", www: null, field: "item.id" } },
  { name: "an over-long organization id from the route is 400 invalid_input naming the field", path: `/orgs/${"o".repeat(201)}/inspections/insp_1`, headers: (t) => bearer(t.ana), expect: { status: 400, code: "invalid_input", www: null, field: "item.orgId" } },
  { name: "an item id with a newline and ANSI escapes is 404 not_found and is not echoed", path: "/orgs/acme/inspections/insp%0A%1B%5B31mEVIL", headers: (t) => bearer(t.ana), expect: { status: 404, code: "not_found", www: null } },
  // ── R21: rate limits (2 per minute per organization and route bucket; see apps.ts) ──
  { name: "R21 an allowed request carries X-RateLimit-Limit, -Remaining, -Used and -Reset (the window's end, epoch seconds)", path: "/limited/a/inspections/insp_1", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", rate: { ...RATE(1), "ratelimit-policy": undefined, ratelimit: undefined } } },
  { name: "R21 past the limit: 429 rate_limited with Retry-After and the rate-limit headers, and the token's expiry (R19)", path: "/limited/b/inspections/insp_1", before: { times: 2, headers: (t) => bearer(t.ana) }, headers: (t) => bearer(t.ana), expect: { status: 429, code: "rate_limited", www: null, retryAfter: /^([1-9]|[1-5]\d|60)$/, rate: RATE(3), expiry: true } },
  { name: "R21 a valid token probing a forbidden route is counted: 403 permission_denied with the rate-limit headers", method: "PUT", path: "/limited/c/inspections/insp_1", headers: (t) => bearer(t.bob), expect: { status: 403, code: "permission_denied", www: WWW.scope, rate: RATE(1) } },
  { name: "R21 after probing forbidden routes up to the limit, even an allowed route answers 429", path: "/limited/d/inspections/insp_1", before: { times: 2, method: "PUT", headers: (t) => bearer(t.bob) }, headers: (t) => bearer(t.bob), expect: { status: 429, code: "rate_limited", www: null, retryAfter: /^\d+$/, rate: RATE(3) } },
  { name: "R21 an unreachable item is counted: 404 not_found with the rate-limit headers", path: "/limited/e/inspections/insp_beta", headers: (t) => bearer(t.ana), expect: { status: 404, code: "not_found", www: null, rate: RATE(1) } },
  { name: "R21 an unknown token costs nothing: 401 invalid_token without rate-limit headers", path: "/limited/f/inspections/insp_1", headers: (t) => bearer(t.unknown), expect: { status: 401, code: "invalid_token", www: WWW.invalidToken, rate: NO_RATE } },
  { name: "R21 malformed, unknown and revoked tokens touch no counter: the organization's budget is whole afterwards", path: "/limited/g/inspections/insp_1", before: { times: 3, headers: (t) => bearer([t.unknown, t.revoked, swapLast(t.ana)][Math.floor(Math.random() * 3)]!) }, headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", rate: RATE(1) } },
  { name: "R21 the IETF RateLimit-Policy and RateLimit headers where the host opts in (structured fields)", path: "/ietf/h/inspections/insp_1", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", rate: { ...RATE(1), "ratelimit-policy": '"default";q=2;w=60', ratelimit: /^"default";r=1;t=([1-9]|[1-5]\d|60)$/ } } },
  { name: "R21 a 429 carries the IETF headers too, with r=0", path: "/ietf/i/inspections/insp_1", before: { times: 2, headers: (t) => bearer(t.ana) }, headers: (t) => bearer(t.ana), expect: { status: 429, code: "rate_limited", www: null, retryAfter: /^\d+$/, rate: { ...RATE(3), ratelimit: /^"default";r=0;t=\d+$/ } } },
  { name: "R21 a limiter store that is down fails closed: 503 unavailable with Retry-After, never an allow", path: "/down/j/inspections/insp_1", headers: (t) => bearer(t.ana), expect: { status: 503, code: "unavailable", www: null, retryAfter: "7", rate: NO_RATE } },
  { name: "R21 with insurance, a limiter store that is down is replaced by the in-process count: 200 with the headers", path: "/insured/k/inspections/insp_1", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", rate: RATE(1) } },
  { name: "R21 with insurance, the in-process count still limits: 429 past it", path: "/insured/l/inspections/insp_1", before: { times: 2, headers: (t) => bearer(t.ana) }, headers: (t) => bearer(t.ana), expect: { status: 429, code: "rate_limited", www: null, retryAfter: /^\d+$/, rate: RATE(3) } },
  { name: "R21 the headers reach a handler that builds its own Response too (Hono's PUT route returns `Response.json`)", method: "PUT", path: "/limited/o/inspections/insp_1", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", rate: RATE(1) } },
  { name: "R21 a list route is counted on the same terms: headers on the 200", path: "/limited/m/inspections", headers: (t) => bearer(t.ana), expect: { status: 200, code: null, subject: "Ana Inspector", rate: RATE(1) } },
  { name: "R21 a list route past the limit is 429 rate_limited", path: "/limited/n/inspections", before: { times: 2, headers: (t) => bearer(t.bot) }, headers: (t) => bearer(t.bot), expect: { status: 429, code: "rate_limited", www: null, retryAfter: /^\d+$/, rate: RATE(3) } },
];

/** Runs the whole table, and the checks around it, against one framework. */
export function httpTable(framework: string, start: (deps: AppDeps) => Promise<Running>) {
  describe(`${framework}: the HTTP mapping over a real socket`, () => {
    let h: Awaited<ReturnType<typeof httpWorld>>;
    let server: Running;
    beforeAll(async () => {
      h = await httpWorld();
      server = await start(h.deps);
    });
    afterAll(async () => {
      await server?.close();
    });

    it.each(CASES)("$name", async (c) => {
      const headers = c.headers?.(h.tokens) ?? {};
      const path = c.path.replace("TOKEN", h.tokens.ana);
      for (let i = 0; i < (c.before?.times ?? 0); i++) await send(server.url, c.before!.method ?? "GET", path, c.before!.headers(h.tokens));
      h.state.down = c.storeDown === true;
      const before = h.state.loads;
      let reply: Reply;
      try {
        reply = await send(server.url, c.method ?? "GET", path, headers);
      } finally {
        h.state.down = false;
      }
      const e = c.expect;
      expect(reply.status).toBe(e.status);
      for (const [name, value] of Object.entries(e.rate ?? {})) {
        if (value instanceof RegExp) expect(reply.headers[name], name).toMatch(value);
        else expect(reply.headers[name], name).toBe(value);
      }
      if (e.rate === undefined) expect(reply.headers["x-ratelimit-limit"]).toBeUndefined(); // no limit configured: no headers
      if (e.storeCalls !== undefined) expect(h.state.loads - before).toBe(e.storeCalls);
      if (e.expiry === true) expect(reply.headers[EXPIRY]).toMatch(ISO_UTC);
      if (e.expiry === false) expect(reply.headers[EXPIRY]).toBeUndefined();
      if (e.code === null && e.status === 200) {
        expect(reply.json).toMatchObject({ ok: true, subject: e.subject });
      } else if (e.code !== null) {
        expect(String(reply.headers["content-type"])).toMatch(/^application\/problem\+json/);
        expect(reply.json).toMatchObject({ code: e.code, status: e.status, type: `urn:keyward:problem:${e.code}` });
        expect(typeof reply.json?.title).toBe("string");
        expect(reply.json?.reason).toBe(e.reason);
        if (e.reason === undefined) expect(reply.json?.expiry).toBeUndefined(); // R19: the cause only where the reason is exposed
        expect(reply.json?.field).toBe(e.field);
        expect(reply.json?.restricted).toBe(e.restricted);
        expect(reply.headers["www-authenticate"]).toBe(e.www ?? undefined);
        if (e.retryAfter instanceof RegExp) expect(reply.headers["retry-after"]).toMatch(e.retryAfter);
        else expect(reply.headers["retry-after"]).toBe(e.retryAfter);
      }
      // R5: no secret, and nothing of the request, in the answer.
      const everything = reply.text + JSON.stringify(reply.headers);
      for (const t of Object.values(h.tokens)) expect(everything).not.toContain(t);
      expect(everything).not.toContain("hunter2");
      expect(everything).not.toContain("on fire");
      expect(everything).not.toMatch(/[\n\x1b]EVIL/);
    });

    // The list guard (GET /inspections) shares the bearer extraction and the mapping: every row of
    // the table on /inspections/insp_1 gets the same answer on the list route, except that a list
    // never answers 404 or access_denied — it answers 200 without the item the row is about.
    const LIST_ROWS = CASES.filter((c) => (c.method ?? "GET") === "GET" && /^\/inspections\/insp_1(\?|$)/.test(c.path));
    it.each(LIST_ROWS)("list guard: $name", async (c) => {
      const headers = c.headers?.(h.tokens) ?? {};
      const path = c.path.replace("/inspections/insp_1", "/inspections").replace("TOKEN", h.tokens.ana);
      const e = c.expect;
      const emptyList = e.code === "not_found" || e.code === "access_denied";
      h.state.down = c.storeDown === true;
      const before = h.state.loads;
      let reply: Reply;
      try {
        reply = await send(server.url, "GET", path, headers);
      } finally {
        h.state.down = false;
      }
      if (emptyList) {
        expect(reply.status).toBe(200);
        expect(reply.json).toMatchObject({ ok: true });
        expect(reply.json?.ids).not.toContain("insp_1");
      } else if (e.status === 200) {
        expect(reply.status).toBe(200);
        expect(reply.json).toMatchObject({ ok: true, subject: e.subject });
        expect(reply.json?.ids).toContain("insp_1");
      } else {
        expect(reply.status).toBe(e.status);
        if (e.code !== null) {
          expect(reply.json).toMatchObject({ code: e.code, status: e.status });
          expect(reply.json?.reason).toBe(e.reason);
          expect(reply.headers["www-authenticate"]).toBe(e.www ?? undefined);
          expect(reply.headers["retry-after"]).toBe(e.retryAfter);
        }
      }
      if (e.storeCalls !== undefined) expect(h.state.loads - before).toBe(e.storeCalls);
      const everything = reply.text + JSON.stringify(reply.headers);
      for (const t of Object.values(h.tokens)) expect(everything).not.toContain(t);
      expect(everything).not.toContain("hunter2");
    });

    it("list guard: each token lists exactly the inspections authorize() allows one by one (R13, R14)", async () => {
      for (const [who, token] of Object.entries(h.tokens)) {
        const reply = await send(server.url, "GET", "/inspections", bearer(token));
        if (reply.status !== 200) continue;
        const allowed: string[] = [];
        for (const [id, item] of h.deps.inspections) if ((await h.deps.kw.authorize(token, "inspections.view", item)).allowed) allowed.push(id);
        expect(reply.json?.ids, who).toEqual(allowed.sort());
      }
      expect((await send(server.url, "GET", "/inspections", bearer(h.tokens.ana))).json?.ids).toEqual(["insp_1", "insp_view"]);
      expect((await send(server.url, "GET", "/inspections", bearer(h.tokens.bot))).json?.ids).toEqual(["insp_bot"]);
      expect((await send(server.url, "GET", "/inspections", bearer(h.tokens.restricted))).json?.ids).toEqual(["insp_1"]); // R17
    });

    it("control characters in the header are refused before keyward sees them (Node answers 400)", async () => {
      for (const bad of ["\x00", "\x1b[31m", "\x01"]) {
        const before = h.state.loads;
        const head = Buffer.from(`GET /inspections/insp_1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.ana.slice(0, 10)}${bad}${h.tokens.ana.slice(10)}\r\nConnection: close\r\n\r\n`, "latin1");
        const r = await sendRaw(server.url, head);
        expect(r.status).toBe(400);
        expect(r.text).not.toContain(h.tokens.ana.slice(10));
        expect(h.state.loads).toBe(before);
      }
    });

    it("the body for a bad checksum is byte-identical to the body for an unknown token", async () => {
      const a = await send(server.url, "GET", "/inspections/insp_1", bearer(swapLast(h.tokens.ana)));
      const b = await send(server.url, "GET", "/inspections/insp_1", bearer(h.tokens.unknown));
      const c = await send(server.url, "GET", "/inspections/insp_1", bearer(h.tokens.revoked));
      expect(a.text).toBe(b.text);
      expect(c.text).toBe(b.text);
    });

    it("R16 activity events carry the method, the path without its query, and the subject's name", async () => {
      h.w.events.length = 0;
      await send(server.url, "PUT", "/inspections/insp_1?note=hello", bearer(h.tokens.ana));
      await send(server.url, "GET", "/inspections/insp_bot?x=1", bearer(h.tokens.bot));
      const auth = h.w.events.filter((e): e is Extract<KeywardEvent, { type: "authorization" }> => e.type === "authorization");
      expect(auth.map((e) => ({ outcome: e.outcome, request: e.request, name: e.subject?.name, item: e.item?.id }))).toEqual([
        { outcome: "allowed", request: { method: "PUT", path: "/inspections/insp_1" }, name: "Ana Inspector", item: "insp_1" },
        { outcome: "allowed", request: { method: "GET", path: "/inspections/insp_bot" }, name: "BI export", item: "insp_bot" },
      ]);
    });

    it("an id with a newline and ANSI escapes reaches the activity log as one structured value, escaped when serialized", async () => {
      h.w.events.length = 0;
      await send(server.url, "GET", "/orgs/acme/inspections/insp%0A%1B%5B31mEVIL", bearer(h.tokens.ana));
      const [event] = h.w.events.filter((e): e is Extract<KeywardEvent, { type: "authorization" }> => e.type === "authorization");
      expect(event?.item?.id).toBe("insp\n\x1b[31mEVIL");
      expect(JSON.stringify(event)).not.toMatch(/[\n\x1b]/);
      expect(JSON.stringify(event)).toContain("insp\\n\\u001b[31mEVIL");
    });

    it("client tracking: the item and list guards pass the request's address and User-Agent, recorded with the token's use and listed (never the secret)", async () => {
      const agent = `kw-table/${framework} (+tracking)`;
      expect((await send(server.url, "GET", "/inspections/insp_1", { ...bearer(h.tokens.ana), "user-agent": agent })).status).toBe(200);
      expect((await send(server.url, "GET", "/inspections", { ...bearer(h.tokens.bot), "user-agent": agent })).status).toBe(200);
      const mine = await h.w.kw.tokens.listMine({ orgId: "acme", userId: h.w.users.ana.id, status: "active" });
      const bots = await h.w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: h.w.users.ada.id, status: "active" });
      for (const view of [...mine.items, ...bots.items].filter((t) => t.clients.some((c) => c.userAgent === agent))) {
        const client = view.clients.find((c) => c.userAgent === agent)!;
        expect(client.lastSeenAt).toBe(h.w.clock.now);
        // A Fetch Request carries no peer address; the Node-based bindings report the loopback peer.
        if (framework === "fetch") expect(client.ip).toBeNull();
        else expect(client.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
        expect(JSON.stringify(view)).not.toContain(h.tokens.ana);
      }
      expect(mine.items.filter((t) => t.clients.some((c) => c.userAgent === agent))).toHaveLength(1);
      expect(bots.items.filter((t) => t.clients.some((c) => c.userAgent === agent))).toHaveLength(1);
    });

    it("R19 the expiry header moves with each use of a user token, on the item and the list routes; a dated service token shows its date until it passes, then 401 without it", async () => {
      const first = await send(server.url, "GET", "/inspections/insp_1", bearer(h.tokens.ana));
      expect(first.headers[EXPIRY]).toBe(new Date(h.w.clock.now + THIRTY_DAYS).toISOString());
      h.w.advance(DAY);
      const later = await send(server.url, "GET", "/inspections", bearer(h.tokens.ana));
      expect(later.status).toBe(200);
      expect(later.headers[EXPIRY]).toBe(new Date(h.w.clock.now + THIRTY_DAYS).toISOString());
      const dated = await h.deps.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: h.w.bot.id, name: "dated", actorId: h.w.users.ada.id, expiresAt: h.w.clock.now + 2 * DAY });
      const before = await send(server.url, "GET", "/inspections/insp_bot", bearer(dated.token));
      expect(before.status).toBe(200);
      expect(before.headers[EXPIRY]).toBe(new Date(h.w.clock.now + 2 * DAY).toISOString());
      h.w.advance(2 * DAY);
      const after = await send(server.url, "GET", "/strict/inspections/insp_bot", bearer(dated.token));
      expect(after.status).toBe(401);
      expect(after.json?.reason).toBe("token_expired");
      // With exposeTokenReason, the problem says which expiry ended it.
      expect(after.json?.expiry).toEqual({ cause: "date", at: new Date(h.w.clock.now).toISOString() });
      expect(after.headers[EXPIRY]).toBeUndefined();
      await h.deps.kw.tokens.revoke({ orgId: "acme", tokenId: dated.record.id, actorId: h.w.users.ada.id });
    });

    it("a query-string token leaves no trace in the activity log (it is never looked up)", async () => {
      h.w.events.length = 0;
      await send(server.url, "GET", `/inspections/insp_1?access_token=${h.tokens.ana}`);
      expect(JSON.stringify(h.w.events)).not.toContain(h.tokens.ana);
      expect(h.w.events.filter((e) => e.type === "authorization")).toEqual([]);
    });
  });
}
