/**
 * `npm run demo`: the story of both token kinds, played over real HTTP against the Express
 * inspections API on the embedded memory store. Each request and response is printed as a
 * terminal session would show it; tokens appear only as their hint (`kwu_…abcd`), never in full.
 *
 * The story: an organization with users, groups and sites; a service user; both token kinds;
 * shares within and across organizations; a list endpoint that shows each token its own items;
 * a deactivation; an administrator's deletion;
 * inactivity expiry under an injected clock; a rotation with a grace period; warnings before a
 * token expires, and the preview and notice of a deactivation (R20). (`npm run demo:story` tells it without HTTP.)
 * It ends at the token management pages mounted on the same API, and prints their address.
 *
 * `npm run demo -- --serve` (or `KEYWARD_DEMO_SERVE=1`) keeps the server running at the end, on
 * `PORT` (8787), with the story's state, to click through the pages; otherwise the demo exits.
 */
import type { AddressInfo } from "node:net";
import { createKeyward, KeywardError, type KeywardEvent } from "../../src/index.js";
import { tokenHint } from "../../src/core.js";
import { memoryStore } from "../../src/memory.js";
import { describeManagePages } from "../manage-server.js";
import { createInspectionsApp } from "./app.js";
import { DEV_SESSION_COOKIE, MANAGE_BASE_PATH, seedSsoOrganization } from "./manage.js";
import { ACTIONS, PASSWORDS, seedInspections } from "./seed.js";

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 2, 9, 0);
let now = START;
/** With `--serve`: keep the server running at the end, its clock going on in real time from the story's last instant. */
const serve = process.argv.includes("--serve") || process.env.KEYWARD_DEMO_SERVE === "1";
let liveSince: number | null = null;
const events: KeywardEvent[] = [];
const secrets: string[] = [];
const printed: string[] = [];

const kw = createKeyward({
  store: memoryStore(),
  clock: () => (liveSince === null ? now : now + (Date.now() - liveSince)),
  actions: ACTIONS,
  verifyPassword: (userId, password) => PASSWORDS.get(userId) === password,
  onEvent: (e) => events.push(e),
  trackClients: true, // opt-in (R20): each token's last clients (address, user agent), shown in listings and previews
});
const { db, acme, bi, auditors } = await seedInspections(kw);
const server = createInspectionsApp(kw, db).listen(serve ? Number(process.env.PORT ?? 8787) : 0, "127.0.0.1");
await new Promise<void>((resolve) => server.once("listening", () => resolve()));
const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// ── printing ──────────────────────────────────────────────────────────────────────────────────
const tty = process.stdout.isTTY;
const paint = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const green = paint(32), red = paint(31), yellow = paint(33), dim = paint(2), bold = paint(1);
function say(line = "") {
  printed.push(line);
  console.log(line);
}
function section(title: string) {
  say();
  say(`${bold(`── ${title}`)} ${dim(`(day ${Math.floor((now - START) / DAY)})`)}`);
}
function note(text: string) {
  say(dim(`# ${text}`));
}
function short(text: string, max = 150) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Keeps a secret for the final check, and returns it. */
function secret(token: string): string {
  secrets.push(token);
  return token;
}

/** One request over HTTP, printed like curl -i would show it (headers trimmed to the telling ones). */
async function curl(who: string, method: string, path: string, token: string | null, options: { headers?: Record<string, string>; body?: unknown; show?: string[] } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const shown = path.replace(/access_token=[^&]+/, (m) => `access_token=${tokenHint(m.slice("access_token=".length))}`);
  const flags = [
    method === "GET" ? "" : `-X ${method}`,
    token === null ? "" : `-H 'Authorization: Bearer ${tokenHint(token)}'`,
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `-H '${k}: ${v}'`),
    options.body === undefined ? "" : `-d '${JSON.stringify(options.body)}'`,
  ].filter(Boolean);
  say();
  say(`${dim("$")} curl ${[...flags, `$API${shown}`].join(" ")}   ${dim(`# ${who}`)}`);
  const res = await fetch(`${api}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await res.text();
  const color = res.status < 300 ? green : res.status >= 500 ? yellow : red;
  say(color(`HTTP/1.1 ${res.status} ${res.statusText}`));
  for (const h of ["www-authenticate", "retry-after"]) {
    const v = res.headers.get(h);
    if (v !== null) say(`${h === "www-authenticate" ? "WWW-Authenticate" : "Retry-After"}: ${v}`);
  }
  for (const h of options.show ?? []) {
    const v = res.headers.get(h);
    if (v !== null) say(`${h}: ${v}`);
  }
  if (text !== "") {
    say(short(JSON.stringify(brief(JSON.parse(text)))));
  }
  return res.status;
}

/** The telling part of a body: a problem's code and title, a row's id, title and who acted, a list's length and first entries. */
function brief(body: unknown): unknown {
  if (Array.isArray(body)) return body.length <= 2 ? body.map(brief) : [...body.slice(0, 2).map(brief), `… ${body.length} in all`];
  if (typeof body !== "object" || body === null) return body;
  const b = body as Record<string, unknown>;
  const keys = typeof b.code === "string" ? ["code", "title", "field", "restricted"] : ["id", "owner", "name", "title", "status", "user", "orgId", "actingAs", "via"];
  return Object.fromEntries(keys.filter((k) => b[k] !== undefined && !(k === "orgId" && b.actingAs !== undefined)).map((k) => [k, b[k]]));
}

async function attempt(label: string, f: () => Promise<unknown>) {
  try {
    await f();
    say(`${label} → ${green("ok")}`);
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    say(`${label} → ${red(e.code)}: ${dim(e.message)}`);
  }
}

// ── the story ─────────────────────────────────────────────────────────────────────────────────
say(bold("keyward: the inspections API over HTTP"));
say(`${dim("$")} export API=${api}`);

section("Acme Inspections sets up its organization (the host's admin console)");
note("permission sets Administrator, Inspector, Reporting · group Auditors · sites North region › Oslo");
note("Ada is an administrator; Ben an inspector in Auditors and the North region; Cleo an inspector at Oslo");
note("template tpl_safety is shared with Auditors (edit); a rule gives Oslo's members edit on Oslo's inspections");

section("Ben generates a user API token in his settings (R4: his password is asked)");
await attempt("with a wrong password", () => kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Power BI", password: "guess" }));
const ben = secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Power BI", password: PASSWORDS.get("u_ben")! })).token);
note(`created "Power BI" (${tokenHint(ben)}); the secret was shown to Ben once and is only a hint from here on (R5)`);

section("Ben's token acts with Ben's own permissions and access (R12, R13)");
await curl("Ben", "PUT", "/templates/tpl_safety", ben, { body: { title: "Site safety walk (2027)" } });
note("his group's share gives edit, not delete: the item is visible, the level too low → 403");
await curl("Ben", "DELETE", "/templates/tpl_safety", ben);
note("North region covers Oslo below it, and the rule names Oslo");
await curl("Ben", "GET", "/inspections/insp_1042", ben);
await curl("Ben", "GET", "/users", ben);
note("no token, or a token in the URL, never reach keyward's store");
await curl("anyone", "GET", "/inspections/insp_1042", null);
await curl("Ben", "GET", `/inspections/insp_1042?access_token=${ben}`, null);

section("Ada creates a service user for a long-lived integration (R1, R8)");
const botCreated = await kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "nightly export", actorId: "u_ada" });
const bot = secret(botCreated.token);
note(`service user "${bi.name}" with the Reporting set; tpl_safety is shared with it explicitly (view); token ${tokenHint(bot)}`);
await curl("BI export", "GET", "/templates/tpl_safety", bot);
await curl("BI export", "PUT", "/templates/tpl_safety", bot, { body: { title: "x" } });
note("groups and sites never give a service user anything: no share, no item → 404");
await curl("BI export", "GET", "/inspections/insp_1042", bot);
await curl("BI export logs in (R9)", "POST", "/session", bot);
await curl("Ben logs in (R10)", "POST", "/session", ben);
await attempt("Ada adds BI export to the Auditors group (R9)", () => kw.directory.addTo({ orgId: acme.id, subjectId: bi.id, groupId: auditors.id }));
note(`seats billed: ${await kw.directory.seatCount({ orgId: acme.id })} (service users never count, R9)`);

section("Globex shares one checklist with Acme; another stays private (R14)");
await curl("Ben", "GET", "/templates/tpl_partner_checklist", ben);
note("Globex's private template: 404, the same answer as for a template that does not exist");
await curl("Ben", "GET", "/templates/tpl_internal", ben);
await curl("Ben", "GET", "/templates/tpl_no_such_thing", ben);
note("the share names Acme's users, not its service users");
await curl("BI export", "GET", "/templates/tpl_partner_checklist", bot);
note("an organization named in a header is ignored: the token's organization decides (R2)");
await curl("Ben", "GET", "/templates/tpl_internal", ben, { headers: { "x-org-id": "globex" } });

section("List endpoints: one question per request; each token sees only what it may (R13)");
note("GET /inspections asks keyward once (accessible) and keeps the host's rows that filter.matches");
await curl("Ben", "GET", "/inspections", ben);
await curl("BI export", "GET", "/inspections", bot);
note("Ben reaches Oslo's inspection through his region; BI export only the North audit shared with it");

now += DAY;
section("Ada leaves Acme; the service token she created keeps working (R8)");
await kw.directory.removeMember({ orgId: acme.id, userId: "u_ada" });
await curl("BI export", "GET", "/templates/tpl_safety", bot);

section("Ben is deactivated, then reactivated (R7)");
await kw.directory.deactivateMember({ orgId: acme.id, userId: "u_ben" });
await curl("Ben", "GET", "/inspections/insp_1042", ben);
await kw.directory.reactivateMember({ orgId: acme.id, userId: "u_ben" });
note("reactivated: his old token stays dead; he must generate a new one");
await curl("Ben", "GET", "/inspections/insp_1042", ben);

section("Ada rejoins as administrator and deletes Cleo's token (R11)");
await kw.directory.addMember({ orgId: acme.id, userId: "u_ada", permissionSetId: "ps_admin" });
const ada = secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ada", name: "admin scripts", password: PASSWORDS.get("u_ada")! })).token);
const cleoCreated = await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "Zapier", password: PASSWORDS.get("u_cleo")! });
const cleo = secret(cleoCreated.token);
await curl("Cleo", "PUT", "/inspections/insp_1042", cleo, { body: { title: "Oslo depot, weekly walk (done)" } });
await curl("Ada", "GET", "/admin/tokens", ada);
await curl("Ada", "DELETE", `/admin/tokens/${cleoCreated.record.id}`, ada);
await curl("Cleo", "PUT", "/inspections/insp_1042", cleo, { body: { title: "again" } });

section("Inactivity: a user token expires after 30 days unused (R6, injected clock)");
const sheets = secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "Sheets", password: PASSWORDS.get("u_cleo")! })).token);
const backup = secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "Backup", password: PASSWORDS.get("u_cleo")! })).token);
note(`Cleo creates "Sheets" (${tokenHint(sheets)}) and "Backup" (${tokenHint(backup)}) and uses neither; 30 days less 1 ms pass`);
now += 30 * DAY - 1;
await curl("Cleo·Sheets", "GET", "/assets/asset_forklift_7", sheets);
now += 1;
note("1 ms later: \"Backup\" has been idle for exactly 30 days; \"Sheets\" was used 1 ms ago");
await curl("Cleo·Backup", "GET", "/assets/asset_forklift_7", backup);
await curl("Cleo·Sheets", "GET", "/assets/asset_forklift_7", sheets);
note("service user tokens never expire from inactivity");
await curl("BI export", "GET", "/templates/tpl_safety", bot);

section("Limits: 10 active user tokens per user per organization (R3)");
const active = (await kw.tokens.listMine({ orgId: acme.id, userId: "u_cleo" })).items.filter((t) => t.status === "active").length;
for (let i = active + 1; i <= 10; i++) secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: `script ${i}`, password: PASSWORDS.get("u_cleo")! })).token);
note(`Cleo had ${active} active tokens and generates more up to 10`);
await attempt("Cleo generates an 11th", () => kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "one too many", password: PASSWORDS.get("u_cleo")! }));

section("Ben restricts a token to viewing Oslo's inspections (R17)");
await attempt("asking for a permission he does not hold", () =>
  kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Oslo dashboard", password: PASSWORDS.get("u_ben")!, restriction: { permissions: ["users:manage"] } }),
);
const restriction = { permissions: ["inspections:view"], maxLevel: "view", itemTypes: ["inspection"], siteIds: ["site_oslo"] } as const;
const dashboard = secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Oslo dashboard", password: PASSWORDS.get("u_ben")!, restriction })).token);
note(`"Oslo dashboard" (${tokenHint(dashboard)}): ${JSON.stringify(restriction)}; Ben himself may still edit`);
await curl("Ben·Oslo dashboard", "GET", "/inspections/insp_1042", dashboard);
note("an edit is above the token's maxLevel: 403 insufficient_scope, although Ben could");
await curl("Ben·Oslo dashboard", "PUT", "/inspections/insp_1042", dashboard, { body: { title: "x" } });
note("Ben may edit the safety template through Auditors; the token is for inspections only");
await curl("Ben·Oslo dashboard", "GET", "/templates/tpl_safety", dashboard);
await curl("Ben·Oslo dashboard logs in", "POST", "/session", dashboard);

section("Rotation with a grace period: a new secret for the same token (R18, injected clock)");
const rotated = await kw.tokens.rotate({ orgId: acme.id, tokenId: botCreated.record.id, actorId: "u_ada", graceMs: DAY });
const botNext = secret(rotated.token);
note(`Ada rotates "${botCreated.record.name}" with a 1-day grace: same id ${rotated.record.id}, new secret ${tokenHint(botNext)}; the old ${tokenHint(bot)} works until ${new Date(rotated.record.previousSecretUntil!).toISOString()}`);
await curl("BI export, old secret", "GET", "/templates/tpl_safety", bot);
const viaOld = await kw.authorize(bot, "templates.view", { orgId: acme.id, type: "template", id: "tpl_safety" });
note(`the decision says so: previousSecret=${String(viaOld.allowed && viaOld.previousSecret === true)}; an event names the integration that has not switched (once an hour)`);
await curl("BI export, new secret", "GET", "/templates/tpl_safety", botNext);
now += 2 * DAY;
note("2 days later: the grace period is over; the old secret is unknown, as if it never existed");
await curl("BI export, old secret", "GET", "/templates/tpl_safety", bot);
await curl("BI export, new secret", "GET", "/templates/tpl_safety", botNext);

section("Lifetimes: a 90-day cap on service tokens, and a token with a date (R19)");
await kw.directory.setTokenPolicy({ orgId: acme.id, policy: { maxLifetimeMs: { service_user: 90 * DAY } } });
note("Acme's policy: service tokens live at most 90 days (existing ones keep theirs: existing \"keep\")");
await attempt("Ada creates a service token for a year", () => kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "yearly", actorId: "u_ada", expiresAt: now + 365 * DAY }));
const quarterEnd = now + 7 * DAY;
const audit = secret((await kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "quarter-end audit", actorId: "u_ada", expiresAt: quarterEnd })).token);
note(`"quarter-end audit" (${tokenHint(audit)}) ends on ${new Date(quarterEnd).toISOString()}; every answer says when`);
await curl("BI export·audit", "GET", "/templates/tpl_safety", audit, { show: ["api-token-expiration"] });
note("a user token's header moves with each use: 30 days from now");
await curl("Cleo·Sheets", "GET", "/assets/asset_forklift_7", sheets, { show: ["api-token-expiration"] });
now = quarterEnd;
note("the clock passes the date");
await curl("BI export·audit", "GET", "/templates/tpl_safety", audit, { show: ["api-token-expiration"] });
const ended = await kw.authorize(audit, "templates.view", { orgId: acme.id, type: "template", id: "tpl_safety" });
if (!ended.allowed && ended.reason === "token_expired") say(`kw.authorize → ${red(ended.reason)} ${JSON.stringify({ expiry: { cause: ended.expiry?.cause, at: new Date(ended.expiry?.at ?? 0).toISOString() } })}`);

section("Warnings before a token dies, and what a deactivation would stop (R20)");
const ben2 = secret((await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Power BI (new)", password: PASSWORDS.get("u_ben")! })).token);
note(`Ben, reactivated, creates "Power BI (new)" (${tokenHint(ben2)}); Power BI refreshes with it once`);
await curl("Ben·Power BI", "GET", "/inspections/insp_1042", ben2, { headers: { "user-agent": "Microsoft.PowerBI/2.130" } });
now += 27 * DAY + 12 * 3_600_000;
note("27½ days pass without a use: the token expires in 2½ days (inactivity, R6); the hourly sweep runs");
const sweptFrom = events.length;
say(`${dim("$")} kw.tokens.sweep({ orgId: "acme" }) → ${JSON.stringify(await kw.tokens.sweep({ orgId: acme.id }))}`);
const warning = events.slice(sweptFrom).find((e): e is Extract<KeywardEvent, { type: "token.expiring" }> => e.type === "token.expiring" && e.subject.id === "u_ben");
if (warning) say(`${yellow("token.expiring")} ${warning.subject.name} · "${warning.tokenName}" · ${warning.cause} · expires ${new Date(warning.expiresAt).toISOString()} · the ${warning.thresholdMs / DAY}-day warning`);
note("each warning is a conditional write in the store: no later sweep, here or on another instance, sends it again");
say(`${dim("$")} kw.tokens.sweep({ orgId: "acme" }) → ${JSON.stringify(await kw.tokens.sweep({ orgId: acme.id }))}`);
note("Ada opens Ben's page to deactivate him: first, what would stop");
const preview = await kw.directory.previewDeactivation({ orgId: acme.id, userId: "u_ben" });
const ago = (at: number | null) => (at === null ? "never used" : `used ${Math.round((now - at) / DAY)} days ago`);
say(`previewDeactivation → ${preview.tokens.length} integration(s) stop: ${preview.tokens.map((t) => `"${t.name}", ${ago(t.lastUsedAt)}${t.clients[0] ? ` by ${t.clients[0].userAgent}` : ""}`).join("; ")}`);
const endedFrom = events.length;
await kw.directory.deactivateMember({ orgId: acme.id, userId: "u_ben", actorId: "u_ada" });
const notice = events.slice(endedFrom).find((e): e is Extract<KeywardEvent, { type: "subject.tokens_ended" }> => e.type === "subject.tokens_ended");
if (notice) say(`${yellow("subject.tokens_ended")} ${notice.subject.name} ${notice.cause} by ${notice.actorId}: ${notice.tokens.map((t) => `"${t.name}" (${t.kind}, ${ago(t.lastUsedAt)})`).join(", ")}`);

section("The token management pages, mounted on this API (keyward/manage, R10, R11)");
note(`mountManagement(app, router) serves "My API tokens" and the administrator's "API tokens" at ${MANAGE_BASE_PATH}; a development session says who is calling`);
/** One request to the pages, printed like curl -i; the session cookie only as its name. */
async function visit(who: string, path: string, cookie: string | null) {
  say();
  say(`${dim("$")} curl ${cookie === null ? "" : `-H 'Cookie: ${DEV_SESSION_COOKIE}=…' `}$API${path}   ${dim(`# ${who}`)}`);
  const res = await fetch(`${api}${path}`, { redirect: "manual", headers: cookie === null ? {} : { cookie } });
  say((res.status < 400 ? green : red)(`HTTP/1.1 ${res.status} ${res.statusText}`));
  for (const h of ["content-type", "location"]) if (res.headers.has(h)) say(`${h === "location" ? "Location" : "Content-Type"}: ${res.headers.get(h)}`);
  const text = await res.text();
  if ((res.headers.get("content-type") ?? "").includes("json")) {
    const body = JSON.parse(text) as {
      items?: { owner: { name: string }; name: string; hint: string; status: string }[];
      subject?: { name: string };
      tokens?: { name: string; lastUsedAt: string | null }[];
    };
    const rows = body.items?.map((t) => ({ owner: t.owner.name, name: t.name, hint: t.hint, status: t.status }));
    if (body.subject && body.tokens) {
      // A preview (R20): what the page's confirmation says.
      const used = (at: string | null) => (at === null ? "never used" : `used ${Math.round((now - Date.parse(at)) / DAY)} days ago`);
      say(`${body.subject.name}: ${body.tokens.length} integration(s) stop: ${body.tokens.map((t) => `${t.name}, ${used(t.lastUsedAt)}`).join("; ")}`);
    } else say(short(JSON.stringify(rows ? { tokens: [...rows.slice(0, 2), `… ${rows.length} in all`] } : brief(body)), 200));
  }
  return res;
}
await visit("anyone", `${MANAGE_BASE_PATH}/`, null);
await visit("anyone: the JSON endpoints need a session", `${MANAGE_BASE_PATH}/api/tokens`, null);
const signedIn = await visit("Ada signs in (development only)", `${MANAGE_BASE_PATH}/dev/login?as=ada&to=admin`, null);
const adaSession = (signedIn.headers.get("set-cookie") ?? "").split(";")[0]!;
await visit("Ada: every user token of Acme, with its owner, as hints", `${MANAGE_BASE_PATH}/api/organization/tokens`, adaSession);
note("the pages also show the lifecycle controls: Full access or Restricted with a preview of the reach (R17), an expiry date (R19), Rotate with a grace period (R18), \"expires in N days\", and the preview before a member is deactivated or a service user deleted (R20)");
await visit(`Ada, before deleting the service user ${bi.name}: what would stop (changes nothing)`, `${MANAGE_BASE_PATH}/api/service-users/${bi.id}/removal`, adaSession);

section("Activity log (R16)");
const counts = new Map<string, number>();
for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
say(`${events.length} events: ${[...counts].map(([t, n]) => `${n} ${t}`).join(", ")}`);
const lastDenied = [...events].reverse().find((e): e is Extract<KeywardEvent, { type: "authorization" }> => e.type === "authorization" && e.outcome === "denied");
if (lastDenied) say(`last denial: ${lastDenied.reason} ${lastDenied.action} ${lastDenied.request?.method} ${lastDenied.request?.path} by ${lastDenied.subject?.name ?? "?"} (${lastDenied.tokenId ?? "no token id"})`);
const expiries = events.flatMap((e) => (e.type === "token.expired" ? [`${e.subject.name}/"${e.tokenName}" (${e.cause})`] : []));
say(`expiries: ${expiries.join(", ")}`);
const leakedLog = secrets.some((t) => JSON.stringify(events).includes(t));
const leakedScreen = secrets.some((t) => printed.join("\n").includes(t));
say(`secrets in the activity log: ${leakedLog ? red("FOUND") : green("none")} · on this screen: ${leakedScreen ? red("FOUND") : green("none")} (R5)`);

section("Click through the pages yourself");
const PAGE_PORT = Number(process.env.PORT ?? 8787);
if (serve) {
  await seedSsoOrganization(kw, db); // Sam's organization, SSO-only, for the pages
  liveSince = Date.now();
  for (const line of describeManagePages(api)) say(line);
  say(`The server keeps running with the story's state (clock: day ${Math.floor((now - START) / DAY)}). Ctrl+C to stop.`);
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void kw.close().then(() => process.exit(leakedLog || leakedScreen ? 1 : 0)));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  say(`Token management page: http://127.0.0.1:${PAGE_PORT}${MANAGE_BASE_PATH}/   (start it: npm run manage)`);
  note("this demo's own server stops now; `npm run manage` serves the same API with the pages, freshly seeded, and prints a sign-in link per person");
  note("`npm run demo -- --serve` keeps this server, with the story's state, running at that address instead");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await kw.close();
}
if (leakedLog || leakedScreen) process.exitCode = 1;
