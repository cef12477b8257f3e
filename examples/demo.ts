/**
 * The story of both token kinds, played on the in-memory store: an organization with users, groups
 * and sites; a service user; both token kinds; shares within and across organizations; a
 * deactivation; an administrator's deletion; inactivity expiry under an injected clock.
 *
 * Run: npm run demo:story
 */
import { createKeyward, KeywardError, type Decision, type ItemRef, type KeywardEvent } from "../src/index.js";
import { memoryStore } from "../src/memory.js";

const DAY = 86_400_000;
let now = Date.UTC(2026, 10, 2, 9, 0);
const events: KeywardEvent[] = [];
const passwords = new Map([["u_ada", "correct horse"], ["u_ben", "battery staple"], ["u_cleo", "tr0ub4dor"]]);

const kw = createKeyward({
  store: memoryStore(),
  clock: () => now,
  actions: {
    "templates.view": { permission: "templates:view", access: "view", item: "template" },
    "templates.edit": { permission: "templates:edit", access: "edit", item: "template" },
    "templates.delete": { permission: "templates:delete", access: "delete", item: "template" },
    "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
    "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
    "users.manage": { permission: "users:manage" },
  },
  verifyPassword: (userId, password) => passwords.get(userId) === password,
  onEvent: (e) => events.push(e),
});

// ── pretty printing ───────────────────────────────────────────────────────────────────────────
const tty = process.stdout.isTTY;
const paint = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const green = paint(32), red = paint(31), dim = paint(2), bold = paint(1);
const names = new Map<string, string>();
const day = () => `day ${Math.floor((now - Date.UTC(2026, 10, 2, 9, 0)) / DAY)}`;

function section(title: string) {
  console.log(`\n${bold(`── ${title}`)} ${dim(`(${day()})`)}`);
}

function why(d: Decision): string {
  if (d.allowed) {
    if (!d.grant) return "the permission set allows it (organization-level action)";
    const via = { user: "a share to them", service_user: "a share to the service user", group: "a group share", site: "a site share", organization: "a share to the whole organization" }[d.grant.via];
    const named = { user: "them", service_user: "the service user", group: "their group", site: "their site", organization: "their organization" }[d.grant.via];
    return `${d.grant.source === "rule" ? `an access rule naming ${named}` : via}${d.grant.crossOrg ? " from another organization" : ""}, at level ${d.grant.level}`;
  }
  switch (d.reason) {
    case "access_denied":
      return d.visible ? "can see the item, but not at the level this action needs" : "no share or rule reaches this item (the API answers 404)";
    case "permission_denied":
      return d.unknownAction ? "the host never declared this action" : "the permission set lacks this action";
    case "token_revoked":
      return "the token was revoked or deleted";
    case "token_expired":
      return "unused for 30 days: the user must generate a new token";
    case "subject_inactive":
      return "the user was deactivated or left; the token is dead for good";
    case "rate_limited":
      return `over the rate limit: retry in ${Math.ceil(d.retryAfterMs / 1000)} s`;
    default:
      return d.reason;
  }
}

async function request(who: string, token: string, action: string, item?: ItemRef) {
  const d = await kw.authorize(token, action as never, item);
  const target = item ? `${item.type} ${item.id}${item.orgId !== "acme" ? ` (${names.get(item.orgId)})` : ""}` : "(organization)";
  const verdict = d.allowed ? green("ALLOWED") : red(`DENIED ${d.reason}`);
  console.log(`  ${who.padEnd(11)} ${action.padEnd(17)} ${target.padEnd(34)} → ${verdict}`);
  console.log(dim(`  ${"".padEnd(11)} ${why(d)}${d.subject ? ` · acting as ${d.subject.kind === "user" ? "user" : "service user"} "${d.subject.name}"` : ""}`));
  return d;
}

async function attempt(label: string, f: () => Promise<unknown>) {
  try {
    await f();
    console.log(`  ${label} → ${green("ok")}`);
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    console.log(`  ${label} → ${red(e.code)}: ${dim(e.message)}`);
  }
}

// ── the directory ─────────────────────────────────────────────────────────────────────────────
section("Acme Inspections sets up its organization");
const acme = await kw.directory.createOrganization({ id: "acme", name: "Acme Inspections" });
const globex = await kw.directory.createOrganization({ id: "globex", name: "Globex (a partner)" });
names.set(acme.id, acme.name).set(globex.id, globex.name);
const admin = await kw.directory.createPermissionSet({ orgId: acme.id, name: "Administrator", permissions: ["api_tokens:manage", "service_users:manage", "users:manage", "templates:view", "templates:edit", "templates:delete", "inspections:view", "inspections:edit"] });
const inspector = await kw.directory.createPermissionSet({ orgId: acme.id, name: "Inspector", permissions: ["templates:view", "templates:edit", "templates:delete", "inspections:view", "inspections:edit"] });
const reporting = await kw.directory.createPermissionSet({ orgId: acme.id, name: "Reporting", permissions: ["templates:view", "inspections:view"] });
const auditors = await kw.directory.createGroup({ orgId: acme.id, name: "Auditors" });
const north = await kw.directory.createSite({ orgId: acme.id, name: "North region" });
const oslo = await kw.directory.createSite({ orgId: acme.id, name: "Oslo", parentId: north.id });
for (const [id, name] of [["u_ada", "Ada Admin"], ["u_ben", "Ben Berg"], ["u_cleo", "Cleo Costa"]] as const) await kw.directory.upsertUser({ id, name });
await kw.directory.addMember({ orgId: acme.id, userId: "u_ada", permissionSetId: admin.id });
await kw.directory.addMember({ orgId: acme.id, userId: "u_ben", permissionSetId: inspector.id, groupIds: [auditors.id], siteIds: [north.id] });
await kw.directory.addMember({ orgId: acme.id, userId: "u_cleo", permissionSetId: inspector.id, siteIds: [oslo.id] });
const safety: ItemRef = { orgId: acme.id, type: "template", id: "tpl_safety" };
const osloInspection: ItemRef = { orgId: acme.id, type: "inspection", id: "insp_1042", attributes: { siteId: oslo.id } };
await kw.directory.share({ item: safety, grantee: { kind: "group", groupId: auditors.id }, level: "edit" });
await kw.directory.addRule({ orgId: acme.id, itemType: "inspection", conditions: { siteId: [oslo.id] }, grantee: { kind: "site", siteId: oslo.id }, level: "edit" });
console.log(`  permission sets Administrator, Inspector, Reporting · group Auditors · sites North region › Oslo`);
console.log(`  Ada is an administrator; Ben an inspector in Auditors and the North region; Cleo an inspector at Oslo`);
console.log(`  template tpl_safety is shared with Auditors (edit); a rule gives Oslo's members edit on Oslo's inspections`);

// ── user tokens ───────────────────────────────────────────────────────────────────────────────
section("Ben generates a user API token (R4: his password is asked)");
await attempt("with a wrong password", () => kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Power BI", password: "guess" }));
const ben = await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "Power BI", password: "battery staple" });
console.log(`  created "${ben.record.name}" (${ben.record.hint}); the secret (${ben.token.length} characters) is returned once and not printed here (R5)`);

section("Ben's token acts with Ben's own permissions and access (R12, R13)");
await request("Ben", ben.token, "templates.edit", safety);
await request("Ben", ben.token, "templates.delete", safety);
await request("Ben", ben.token, "inspections.view", osloInspection);
await request("Ben", ben.token, "users.manage");

// ── service users ─────────────────────────────────────────────────────────────────────────────
section("Ada creates a service user for a long-lived integration (R1, R8)");
const bi = await kw.serviceUsers.create({ orgId: acme.id, name: "BI export", permissionSetId: reporting.id, actorId: "u_ada" });
const biToken = await kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "nightly export", actorId: "u_ada" });
await kw.directory.share({ item: safety, grantee: { kind: "service_user", serviceUserId: bi.id }, level: "view" });
console.log(`  service user "${bi.name}" with the Reporting set; tpl_safety is shared with it explicitly (view)`);
await request("BI export", biToken.token, "templates.view", safety);
await request("BI export", biToken.token, "templates.edit", safety);
await request("BI export", biToken.token, "inspections.view", osloInspection);
await attempt("BI export tries to log in with its token (R9)", () => kw.login(biToken.token));
await attempt("Ada adds BI export to the Auditors group (R9)", () => kw.directory.addTo({ orgId: acme.id, subjectId: bi.id, groupId: auditors.id }));
console.log(`  seats billed: ${await kw.directory.seatCount({ orgId: acme.id })} (service users never count, R9) · user list: ${(await kw.directory.listMembers({ orgId: acme.id })).items.map((m) => m.user.name).join(", ")}`);

// ── across organizations ──────────────────────────────────────────────────────────────────────
section("Globex shares one checklist with Acme; another stays private (R14)");
const shared: ItemRef = { orgId: globex.id, type: "template", id: "tpl_partner_checklist" };
const secret: ItemRef = { orgId: globex.id, type: "template", id: "tpl_internal" };
await kw.directory.share({ item: shared, grantee: { kind: "organization", orgId: acme.id, includeServiceUsers: false }, level: "view" });
await request("Ben", ben.token, "templates.view", shared);
await request("Ben", ben.token, "templates.view", secret);
await request("BI export", biToken.token, "templates.view", shared);

// ── lifecycle ─────────────────────────────────────────────────────────────────────────────────
section("Ada leaves Acme; the service token she created keeps working (R8)");
now += DAY;
await kw.directory.removeMember({ orgId: acme.id, userId: "u_ada" });
await request("BI export", biToken.token, "templates.view", safety);

section("Ben is deactivated, then reactivated (R7)");
await kw.directory.deactivateMember({ orgId: acme.id, userId: "u_ben" });
await request("Ben", ben.token, "templates.edit", safety);
await kw.directory.reactivateMember({ orgId: acme.id, userId: "u_ben" });
await request("Ben", ben.token, "templates.edit", safety);

section("Ada rejoins as administrator and deletes Cleo's token (R11)");
await kw.directory.addMember({ orgId: acme.id, userId: "u_ada", permissionSetId: admin.id });
const cleo = await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "Zapier", password: "tr0ub4dor" });
await request("Cleo", cleo.token, "inspections.edit", osloInspection);
const listed = (await kw.tokens.listOrganization({ orgId: acme.id, actorId: "u_ada" })).items;
console.log(`  Ada sees ${listed.length} user tokens: ${listed.map((t) => `${t.subjectName}/"${t.name}" (${t.status})`).join(", ")}`);
await kw.tokens.delete({ orgId: acme.id, tokenId: cleo.record.id, actorId: "u_ada" });
await request("Cleo", cleo.token, "inspections.edit", osloInspection);

section("Inactivity: a user token expires after 30 days unused (R6)");
const sheets = await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "Sheets", password: "tr0ub4dor" });
const backup = await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "Backup", password: "tr0ub4dor" });
console.log(dim(`  Cleo creates two tokens, "Sheets" and "Backup", and uses neither; 30 days less 1 ms pass`));
now += 30 * DAY - 1;
await request("Cleo·Sheets", sheets.token, "inspections.view", osloInspection);
now += 1;
console.log(dim("  1 ms later: \"Backup\" has been idle for exactly 30 days; \"Sheets\" was used 1 ms ago"));
await request("Cleo·Backup", backup.token, "inspections.view", osloInspection);
await request("Cleo·Sheets", sheets.token, "inspections.view", osloInspection);
await request("BI export", biToken.token, "templates.view", safety);
console.log(dim("  (service user tokens never expire from inactivity)"));

section("Limits: 10 active user tokens per user per organization (R3)");
const active = (await kw.tokens.listMine({ orgId: acme.id, userId: "u_cleo" })).items.filter((t) => t.status === "active").length;
for (let i = active + 1; i <= 10; i++) await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: `script ${i}`, password: "tr0ub4dor" });
console.log(`  Cleo had ${active} active tokens and generates more up to 10`);
await attempt("Cleo generates an 11th", () => kw.tokens.createUserToken({ orgId: acme.id, userId: "u_cleo", name: "one too many", password: "tr0ub4dor" }));

section("Activity log (R16)");
const counts = new Map<string, number>();
for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
console.log(`  ${events.length} events: ${[...counts].map(([t, n]) => `${n} ${t}`).join(", ")}`);
const last = events.flatMap((e) => (e.type === "token.expired" ? [`${e.subject.name}/"${e.tokenName}" (${e.cause})`] : []));
console.log(`  expiries: ${last.join(", ")}`);
const leaked = [ben.token, biToken.token, cleo.token, sheets.token, backup.token].some((t) => JSON.stringify(events).includes(t));
console.log(`  secrets in the log: ${leaked ? red("FOUND") : green("none")} (R5)`);
await kw.close();
