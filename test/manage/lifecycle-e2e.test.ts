/**
 * End-to-end: the token lifecycle flows of the management pages (issue 14) in headless Chromium
 * (Debian's `chromium`, driven by `playwright-core`), on the example inspections API
 * (`examples/manage-server.ts`: memory store, the seeded story, client tracking on, the member
 * actions mounted). Each flow ends at the example API: a token made or changed in the browser is
 * tried with `fetch` against the API's own guarded routes.
 *
 * - R17 "Restricted" with the picker, previewed before the secret exists;
 * - R19 an expiry date, the organization's policy shown and enforced by the field;
 * - R18 Rotate with a grace period: both secrets work during it;
 * - R19 R20 "expires in N days" and the warning near the end;
 * - R7 R20 deactivating a member and deleting a service user after the preview of what stops.
 *
 * New dialog states are checked with axe-core (0 serious or critical violations). No timing
 * assertions: every wait is for a state. Without Chromium this file is skipped with a printed
 * reason, except under CI (`CI` set), where it fails.
 *
 * Run alone: CI=true npx vitest run test/manage/lifecycle-e2e.test.ts
 */
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PEOPLE, startManageServer } from "../../examples/manage-server.js";
import { ARTIFACTS, AXE_SOURCE, haveChromium, useChromium } from "./chromium.js";

const DAY = 86_400_000;
const chromiumOf = useChromium("test/manage/lifecycle-e2e.test.ts");

const ready = (page: Page) => page.waitForSelector("body[data-ready=true]");
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? "");
/** "YYYY-MM-DD" of the browser's local day `days` from now (what a date input takes). */
const localDate = (days: number) => {
  const d = new Date(Date.now() + days * DAY);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

describe.runIf(haveChromium)("end-to-end in Chromium: the token lifecycle on the management pages (R17–R20)", { timeout: 120_000 }, () => {
  let demo: Awaited<ReturnType<typeof startManageServer>>;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  /** The server's clock runs with the real one, moved by `offset` (never backwards within a step). */
  const offset = { ms: 0 };

  beforeEach(async () => {
    offset.ms = 0;
    demo = await startManageServer({ clock: () => Date.now() + offset.ms });
    context = await chromiumOf.browser.newContext({ permissions: ["clipboard-read", "clipboard-write"], viewport: { width: 1100, height: 800 } });
    context.setDefaultTimeout(60_000);
    page = await context.newPage();
    pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of (401|403|409)/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  });
  afterEach(async () => {
    expect(pageErrors).toEqual([]);
    await context?.close();
    await demo?.close();
  });

  const signIn = async (who: keyof typeof PEOPLE, to: "mine" | "admin" = "mine") => {
    await page.goto(demo.loginUrl(who, to));
    await ready(page);
  };
  /** A call to the example inspections API with a token (Oslo's inspection by default: Ben reaches it through North, R13). */
  const api = async (token: string, path = "/inspections/insp_1042", init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const r = await fetch(`${demo.origin}${path}`, { method: init.method ?? "GET", headers: { authorization: `Bearer ${token}`, ...init.headers }, ...(init.body ? { body: init.body } : {}) });
    return { status: r.status, body: (await r.json()) as Record<string, any>, wwwAuthenticate: r.headers.get("www-authenticate") };
  };
  /** Serious and critical axe-core violations of the page as it is now. */
  const axe = async (state: string) => {
    if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async () => {
      const a = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
      const r = await a.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    });
    await page.screenshot({ path: join(ARTIFACTS, `lifecycle-${state}.png`), fullPage: true });
    return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  };
  /** Copies the secret shown once, closes the dialog, and returns the secret. */
  async function takeSecret(): Promise<string> {
    const dialog = page.getByRole("dialog", { name: "Your new API token" });
    await dialog.waitFor();
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await expect.poll(() => page.locator("#copy-status").textContent()).toContain("Copied to the clipboard");
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    await page.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await page.content()).not.toContain(secret);
    return secret;
  }
  const rowOf = (table: string, name: string) => page.locator(`${table} tbody tr`, { has: page.locator("th", { hasText: name }) });

  it("R17 Restricted: the picker offers what Ben holds, the preview follows each choice before any secret exists, and the token can only view", async () => {
    await signIn("ben");
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByRole("dialog", { name: /Generate/ }).waitFor();
    await page.getByLabel("Token name").fill("Read-only dashboard");
    expect(await page.getByLabel("Full access (as me)").isChecked()).toBe(true);
    expect(await page.locator("#restriction").isVisible()).toBe(false);

    await page.getByLabel("Restricted").check();
    const permissions = page.locator("#pick-permissions input[type=checkbox]");
    await expect.poll(() => permissions.count()).toBeGreaterThan(1);
    const held = await permissions.evaluateAll((xs) => xs.map((x) => (x as HTMLInputElement).value));
    expect(held).toEqual(expect.arrayContaining(["inspections:view", "inspections:edit", "templates:view"]));
    // Ben's groups and sites, by name.
    expect(await page.locator("#pick-groups").textContent()).toContain("Auditors");
    expect(await page.locator("#pick-sites").textContent()).toContain("North");
    const preview = page.locator("#reach-preview-body");
    await expect.poll(() => preview.textContent()).toContain("inspections.edit");

    for (const p of held) if (p !== "inspections:view") await page.locator(`#pick-permissions input[value="${p}"]`).uncheck();
    await page.getByLabel("Highest access level").selectOption("view");
    await expect.poll(() => preview.textContent()).toMatch(/^Actions: inspections\.view(?!,)/);
    expect(await preview.textContent()).not.toContain("inspections.edit");
    expect(await preview.textContent()).toMatch(/inspection: inspections\.view through \d+ shares? or rules?/);
    expect(await page.locator("#secret-value").textContent()).toBe("");
    expect(await axe("restricted-picker")).toEqual([]);

    await page.getByLabel("Your password").fill(PEOPLE.ben.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    const secret = await takeSecret();

    const row = rowOf("#my-tokens", "Read-only dashboard");
    await row.waitFor();
    expect(await row.locator("td").first().textContent()).toContain("Restricted: inspections:view · view only");
    expect((await api(secret)).status).toBe(200);
    const edit = await api(secret, "/inspections/insp_1042", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: "x" }) });
    expect(edit.status).toBe(403);
    expect(edit.wwwAuthenticate).toContain('error="insufficient_scope"');
  });

  it("R19 an expiry date: optional by default; under a policy the field says it is required and its limit, and a refusal is shown by the field", async () => {
    await signIn("cleo");
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByRole("dialog", { name: /Generate/ }).waitFor();
    expect(await page.locator("#token-expiry-required").textContent()).toBe("(optional)");
    await page.getByLabel("Token name").fill("Quarter-end export");
    await page.getByLabel("Expires on").fill(localDate(5));
    await page.getByLabel("Your password").fill(PEOPLE.cleo.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    const secret = await takeSecret();
    const row = rowOf("#my-tokens", "Quarter-end export");
    await row.waitFor();
    const expires = row.locator("td").nth(3);
    expect(await expires.textContent()).toMatch(/Expires in [56] days/);
    expect(await expires.textContent()).toContain("on the date set");
    expect((await api(secret, "/inspections/insp_1042")).status).toBe(200);

    await demo.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { user: 30 * DAY }, requireExpiry: true } });
    await page.reload();
    await ready(page);
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByRole("dialog", { name: /Generate/ }).waitFor();
    expect(await page.locator("#token-expiry-required").textContent()).toBe("(required)");
    expect(await page.locator("#token-expiry-hint").textContent()).toContain("at most 30 days");
    expect(await page.getByLabel("Expires on").getAttribute("max")).toBe(localDate(30));
    await page.getByLabel("Token name").fill("Forever");
    await page.getByLabel("Your password").fill(PEOPLE.cleo.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await expect.poll(() => page.locator("#token-expiry-error").textContent()).toContain("requires an expiry date");
    expect(await focusedId(page)).toBe("token-expiry");

    // Past the limit: the server refuses (policy_violation, field expiresAt) and the page says so by the field.
    await page.getByLabel("Expires on").fill(localDate(60));
    await page.getByLabel("Your password").fill(PEOPLE.cleo.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await expect.poll(() => page.locator("#token-expiry-error").textContent()).toContain("at most 30 days");
    expect(await page.getByLabel("Expires on").getAttribute("aria-invalid")).toBe("true");
    expect(await focusedId(page)).toBe("token-expiry");
    // The last day the policy allows is accepted.
    await page.getByLabel("Expires on").fill(localDate(30));
    await page.getByLabel("Your password").fill(PEOPLE.cleo.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await takeSecret();
    const forever = rowOf("#my-tokens", "Forever");
    await forever.waitFor();
    const ends = forever.locator("td").nth(3);
    expect(await ends.locator("time [aria-hidden=true]").textContent()).toMatch(/^in (29|30) days$/);
    expect(await ends.textContent()).toContain("on the date set");
  });

  it("R19 a server refusal of the expiry is shown by the expiry field, the field marked invalid and focused", async () => {
    await signIn("cleo");
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByRole("dialog", { name: /Generate/ }).waitFor();
    // A policy set after the page loaded: the page does not know the limit, the server refuses.
    await demo.kw.directory.setTokenPolicy({ orgId: "acme", policy: { maxLifetimeMs: { user: 7 * DAY } } });
    await page.getByLabel("Token name").fill("Too long");
    await page.getByLabel("Expires on").fill(localDate(20));
    await page.getByLabel("Your password").fill(PEOPLE.cleo.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await expect.poll(() => page.locator("#token-expiry-error").textContent()).toContain("at most 7 days");
    expect(await page.getByLabel("Expires on").getAttribute("aria-invalid")).toBe("true");
    expect((await page.getByLabel("Expires on").getAttribute("aria-describedby"))!.split(" ")).toContain("token-expiry-error");
    expect(await focusedId(page)).toBe("token-expiry");
    expect(await page.locator("#secret-dialog").isVisible()).toBe(false);
    expect((await demo.kw.tokens.listMine({ orgId: "acme", userId: "u_cleo" })).items.filter((t) => t.name === "Too long")).toEqual([]);
  });

  it("R18 Rotate with a 1-hour grace: the new secret is shown once, the old and the new both work, the row says until when", async () => {
    await signIn("ben");
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByLabel("Token name").fill("CI pipeline");
    await page.getByLabel("Your password").fill(PEOPLE.ben.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    const old = await takeSecret();

    await page.getByRole("button", { name: "Rotate token CI pipeline" }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate CI pipeline" });
    await dialog.waitFor();
    expect(await focusedId(page)).toBe("rotate-grace");
    const choices = await page.locator("#rotate-grace option").allTextContents();
    expect(choices).toEqual(["No grace: the current secret stops now", "1 hour", "1 day", "7 days"]);
    await page.getByLabel("Keep the current secret working for").selectOption({ label: "1 hour" });
    expect(await axe("rotate-dialog")).toEqual([]);
    // A wrong password first: the dialog stays, says so by the field, nothing changed.
    await page.getByLabel("Account password").fill("not it");
    await page.getByRole("button", { name: "Rotate", exact: true }).click();
    await expect.poll(() => page.locator("#rotate-error").textContent()).toContain("rotate the token");
    expect(await page.getByLabel("Account password").getAttribute("aria-invalid")).toBe("true");
    expect((await api(old)).status).toBe(200);

    await page.getByLabel("Account password").fill(PEOPLE.ben.password);
    await page.getByRole("button", { name: "Rotate", exact: true }).click();
    const fresh = await takeSecret();
    expect(fresh).not.toBe(old);
    expect(await page.locator("#status").textContent()).toMatch(/^Token CI pipeline rotated\. The previous secret works until /);
    const row = rowOf("#my-tokens", "CI pipeline");
    await expect.poll(() => row.locator("td").first().textContent()).toContain("Previous secret valid until");
    expect(await rowOf("#my-tokens", "CI pipeline").count()).toBe(1);

    const viaOld = await api(old);
    expect(viaOld.status).toBe(200);
    expect(viaOld.body.actingAs).toBe("Ben Berg");
    expect((await api(fresh)).status).toBe(200);
    // After the grace period only the new secret works.
    offset.ms = 2 * 3_600_000;
    expect((await api(old)).status).toBe(401);
    expect((await api(fresh)).status).toBe(200);
  });

  it("R19 R20 'expires in N days' on every active token, and a warning style within 14 days, with the cause", async () => {
    // keyward's clock never runs backwards: a server whose story starts 20 days ago, then time moves on.
    await demo.close();
    offset.ms = -20 * DAY;
    demo = await startManageServer({ clock: () => Date.now() + offset.ms });
    const kw = demo.kw;
    const create = (name: string, expiresAt?: number) =>
      kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name, password: PEOPLE.ben.password, ...(expiresAt === undefined ? {} : { expiresAt }) });
    // Idle since 20 days ago: 10 days of its 30 left.
    await create("Idle sync");
    offset.ms = 0;
    await create("Dated audit", Date.now() + 3 * DAY + 3_600_000);
    await create("Fresh laptop");
    await signIn("ben");
    const idle = rowOf("#my-tokens", "Idle sync").locator("td").nth(3);
    const dated = rowOf("#my-tokens", "Dated audit").locator("td").nth(3);
    const fresh = rowOf("#my-tokens", "Fresh laptop").locator("td").nth(3);
    await idle.waitFor();
    expect(await idle.textContent()).toContain("Expires in 10 days");
    expect(await idle.textContent()).toContain("if not used before");
    expect(await idle.getAttribute("class")).toContain("expiring");
    expect(await dated.textContent()).toContain("Expires in 3 days");
    expect(await dated.textContent()).toContain("on the date set");
    expect(await dated.getAttribute("class")).toContain("expiring");
    expect(await fresh.locator("time [aria-hidden=true]").textContent()).toBe("in 30 days");
    expect(await fresh.textContent()).not.toContain("Expires in");
    expect(await fresh.getAttribute("class") ?? "").not.toContain("expiring");
    expect(await axe("expiry-warnings")).toEqual([]);
  });

  it("R7 R20 the administrator deactivates Ben after the preview of what stops (name, last use, client); his integration is refused", async () => {
    const { token } = await demo.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: "Power BI", password: PEOPLE.ben.password });
    expect((await api(token, "/inspections/insp_1042", { headers: { "user-agent": "Microsoft.PowerBI/2.130" } })).status).toBe(200);
    await signIn("ada", "admin");
    const members = page.locator("#members");
    await members.waitFor();
    const benRow = page.locator("#members tbody tr", { has: page.locator("th", { hasText: "Ben Berg" }) });
    expect(await benRow.locator("td").first().textContent()).toBe("Active");
    expect(await page.locator("#members tbody tr", { has: page.locator("th", { hasText: "Ada Admin (you)" }) }).locator("button").count()).toBe(0);

    await page.getByRole("button", { name: "Deactivate Ben Berg" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Deactivate Ben Berg?" });
    await confirm.waitFor();
    expect(await page.locator("#confirm-text").textContent()).toMatch(/1 integration stops: Power BI, used (just now|\d+ (seconds?|minutes?) ago)\./);
    expect(await page.locator("#confirm-list li").allTextContents()).toEqual([expect.stringMatching(/^Power BI \(user token\), used .*, last by (::ffff:)?127\.0\.0\.1 Microsoft\.PowerBI\/2\.130$/)]);
    expect(await focusedId(page)).toBe("confirm-cancel");
    expect(await axe("deactivation-preview")).toEqual([]);
    // The preview changed nothing.
    expect((await api(token)).status).toBe(200);

    await confirm.getByRole("button", { name: "Deactivate", exact: true }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Ben Berg deactivated. 1 token ended.");
    await expect.poll(() => benRow.locator("td").first().textContent()).toBe("Deactivated");
    const refused = await api(token);
    expect(refused.status).toBe(401);
  });

  it("R20 deleting a service user first lists its integrations that stop; cancelling keeps them working", async () => {
    const bot = await demo.kw.serviceUsers.create({ orgId: "acme", name: "Nightly BI", permissionSetId: "ps_reporting", actorId: "u_ada" });
    const { token } = await demo.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: bot.id, name: "warehouse", actorId: "u_ada" });
    await signIn("ada", "admin");
    await page.getByRole("button", { name: "Delete service user Nightly BI" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Delete service user Nightly BI?" });
    await confirm.waitFor();
    expect(await page.locator("#confirm-text").textContent()).toContain("1 integration stops: warehouse, never used.");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "hidden" });
    expect((await demo.kw.tokens.listServiceTokens({ orgId: "acme", actorId: "u_ada", serviceUserId: bot.id, status: "active" })).total).toBe(1);
    await page.getByRole("button", { name: "Delete service user Nightly BI" }).click();
    await confirm.waitFor();
    await confirm.getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Service user Nightly BI deleted.");
    expect((await api(token, "/templates/tpl_safety")).status).toBe(401);
  });
});
