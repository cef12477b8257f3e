/**
 * End-to-end: the management pages in headless Chromium (Debian's `chromium`, driven by
 * `playwright-core`), mounted on the example inspections API (`examples/inspections-api/app.ts`
 * on Express, started by `examples/manage-server.ts`: memory store, the seeded story, a
 * development session). A token generated in the browser calls the example API's own guarded
 * routes (`GET /inspections/:id`, `GET /templates/:id`).
 *
 * Screenshots go to `.artifacts/e2e/` (gitignored). Without Chromium this file is skipped with
 * a printed reason, except under CI (`CI` set), where it fails.
 *
 * Run alone: npx vitest run test/manage/e2e.test.ts
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PEOPLE, startManageServer } from "../../examples/manage-server.js";

const CHROMIUM = process.env.KEYWARD_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const ARTIFACTS = join(process.cwd(), ".artifacts", "e2e");

if (!haveChromium) {
  if (process.env.CI) {
    describe("end-to-end in Chromium", () => {
      it("needs Chromium", () => {
        throw new Error(`Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set KEYWARD_CHROMIUM. CI must not skip the browser tests.`);
      });
    });
  } else {
    console.warn(`[e2e] skipping test/manage/e2e.test.ts: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set KEYWARD_CHROMIUM)`);
  }
}

// A loaded machine (CI runs the suites in parallel on two cores) makes Chromium slow, never wrong:
// generous per-test and per-step bounds keep a slow run from failing as a hang.
describe.runIf(haveChromium)("end-to-end in Chromium: My API tokens and the administrator's API tokens", { timeout: 120_000 }, () => {
  let browser: Browser;
  let demo: Awaited<ReturnType<typeof startManageServer>>;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // playwright-core gives every launch a fresh temporary profile (--user-data-dir).
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    demo = await startManageServer();
    context = await browser.newContext({ permissions: ["clipboard-read", "clipboard-write"], viewport: { width: 1100, height: 760 } });
    context.setDefaultTimeout(60_000);
    page = await context.newPage();
    pageErrors = [];
    // Any script error or console error (a CSP violation is one) fails the test.
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      // The 401/403/409 answers the tests provoke are logged by Chromium as failed resources: expected.
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of (401|403|409)/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  });
  afterEach(async () => {
    expect(pageErrors).toEqual([]);
    await context?.close();
    await demo?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const ready = () => page.waitForSelector("body[data-ready=true]");
  const signIn = async (who: keyof typeof PEOPLE, to: "mine" | "admin" = "mine") => {
    await page.goto(demo.loginUrl(who, to));
    await ready();
  };
  const focusedId = () => page.evaluate(() => document.activeElement?.id ?? "");
  /** A call to the example inspections API with a token: Oslo's inspection by default (Ben reaches it through his North region, R13). */
  const api = async (token: string, path = "/inspections/insp_1042") => {
    const r = await fetch(`${demo.origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: r.status, body: (await r.json()) as Record<string, any>, wwwAuthenticate: r.headers.get("www-authenticate") };
  };
  /** Whether any string in the page's JavaScript heap contains `needle`, after a full garbage collection. */
  const heapContains = async (needle: string) => {
    const cdp = await context.newCDPSession(page);
    const chunks: string[] = [];
    cdp.on("HeapProfiler.addHeapSnapshotChunk", (e) => chunks.push(e.chunk));
    await cdp.send("HeapProfiler.enable");
    await cdp.send("HeapProfiler.collectGarbage");
    await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    await cdp.detach();
    return chunks.join("").includes(needle);
  };

  /** Generates a token through the dialog and returns the secret read back from the clipboard. */
  async function generateThroughDialog(name: string, password: string | null, prefix = "kwu_", beforeSubmit?: () => Promise<unknown>): Promise<string> {
    await page.getByRole("dialog", { name: /Generate/ }).waitFor();
    expect(await focusedId()).toBe("token-name");
    await page.getByLabel("Token name").fill(name);
    if (password !== null) await page.getByLabel("Your password").fill(password);
    await beforeSubmit?.();
    await page.keyboard.press("Enter");
    const secretDialog = page.getByRole("dialog", { name: "Your new API token" });
    await secretDialog.waitFor();
    expect(await focusedId()).toBe("copy-secret");
    await page.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.locator("#copy-status").textContent()).toContain("Copied to the clipboard");
    const shown = (await page.locator("#secret-value").textContent()) ?? "";
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(shown);
    expect(copied.startsWith(prefix)).toBe(true);
    return copied;
  }

  it("R5 R10 R12 generate → copy → the example API accepts it as Ben → the secret leaves the page when the dialog closes → revoke → the API refuses it", async () => {
    await signIn("ben");
    await expect.poll(() => page.locator("#who").textContent()).toBe("Signed in as Ben Berg in Acme Inspections");
    await expect.poll(() => page.locator("#my-empty").isVisible()).toBe(true);
    await shot("01-my-tokens-empty");

    await page.getByRole("button", { name: "Generate API token" }).click();
    const secret = await generateThroughDialog("CI pipeline", PEOPLE.ben.password, "kwu_", () => shot("02-generate-dialog"));
    await shot("03-secret-shown-once");

    const ok = await api(secret);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: "insp_1042", title: "Oslo depot, weekly walk", actingAs: "Ben Berg" });

    // Closing the dialog (Escape) removes the secret from the DOM and from the script's memory; focus goes back.
    await page.keyboard.press("Escape");
    await page.getByRole("dialog", { name: "Your new API token" }).waitFor({ state: "hidden" });
    expect(await page.content()).not.toContain(secret);
    await expect.poll(focusedId).toBe("generate");
    expect(await page.locator("#secret-value").textContent()).toBe("");
    await page.evaluate(() => navigator.clipboard.writeText("overwritten"));
    expect(await heapContains(secret)).toBe(false);

    const row = page.locator("#my-tokens tbody tr");
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator("th").textContent()).toBe("CI pipeline");
    expect(await row.locator("code").textContent()).toBe(`kwu_…${secret.slice(-4)}`);
    await page.reload();
    await ready();
    expect(await page.locator("#my-tokens tbody tr td").nth(2).textContent()).not.toBe("Never"); // last used: just now (R6)
    expect(await page.locator("#my-tokens tbody tr td").nth(3).locator("time").getAttribute("datetime")).toMatch(/^\d{4}-/); // expires if unused

    await page.getByRole("button", { name: "Revoke token CI pipeline" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Revoke API token?" });
    await confirm.waitFor();
    expect(await focusedId()).toBe("confirm-cancel");
    await shot("04-revoke-confirm");
    await confirm.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toBe("Token CI pipeline revoked.");
    await expect.poll(() => page.locator("#my-empty").isVisible()).toBe(true);
    await shot("05-revoked");

    const refused = await api(secret);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_token");
    expect(refused.wwwAuthenticate).toBe('Bearer realm="inspections", error="invalid_token"');
  });

  it("R4 a wrong password keeps the dialog open with a clear message, focuses the password, and creates nothing", async () => {
    await signIn("ben");
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByLabel("Token name").fill("laptop");
    await page.getByLabel("Your password").fill("wrong");
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await expect.poll(() => page.locator("#generate-error").textContent()).toContain("The password is missing or not correct");
    expect(await focusedId()).toBe("token-password");
    expect(await page.getByLabel("Your password").getAttribute("aria-invalid")).toBe("true");
    expect((await demo.kw.tokens.listMine({ orgId: "acme", userId: "u_ben" })).items).toEqual([]);
  });

  it("R11 an administrator deletes a user's token after a confirmation; that integration is refused", async () => {
    const { token } = await demo.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: "Ben's Zap", password: PEOPLE.ben.password });
    expect((await api(token)).status).toBe(200);
    await signIn("ada", "admin");
    const row = page.locator("#org-tokens tbody tr", { hasText: "Ben's Zap" });
    await row.waitFor();
    expect(await row.locator("td").first().textContent()).toBe("Ben Berg");
    await shot("06-admin-api-tokens");

    await page.getByRole("button", { name: "Delete token Ben's Zap of Ben Berg" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Delete user API token?" });
    await confirm.waitFor();
    expect(await confirm.locator("#confirm-text").textContent()).toContain("will immediately stop any integrations relying on it from working");
    await shot("07-admin-delete-confirm");
    await confirm.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toBe("Token Ben's Zap of Ben Berg deleted.");
    await expect.poll(() => row.count()).toBe(0);

    const refused = await api(token);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_token");
  });

  it("R1 R11 R13 an administrator creates a service user and generates its token once; it reaches what is shared with it; revoked, it is refused", async () => {
    await signIn("ada", "admin");
    await page.getByLabel("Service user name").fill("Zapier");
    await page.getByLabel("Permission set").selectOption({ label: "Reporting" });
    await page.getByRole("button", { name: "Create service user" }).click();
    const card = page.locator("article", { hasText: "Zapier" });
    await card.waitFor();
    expect(await card.locator(".hint").first().textContent()).toBe("Permission set: Reporting");

    await page.getByRole("button", { name: "Generate a token for Zapier" }).click();
    expect(await page.locator("#password-field").isHidden()).toBe(true);
    const secret = await generateThroughDialog("zap sync", null, "kws_");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(secret);
    // Authenticated and permitted, but nothing is shared with the new service user yet (R13): 404.
    expect((await api(secret, "/templates/tpl_safety")).body.code).toBe("not_found");
    const zapier = (await demo.kw.serviceUsers.list({ orgId: "acme", actorId: "u_ada" })).find((x) => x.name === "Zapier")!;
    await demo.kw.directory.share({ item: { orgId: "acme", type: "template", id: "tpl_safety" }, grantee: { kind: "service_user", serviceUserId: zapier.id }, level: "view" });
    const ok = await api(secret, "/templates/tpl_safety");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: "tpl_safety", actingAs: "Zapier", via: "share:service_user:view" });
    await card.locator("tbody tr", { hasText: "zap sync" }).waitFor();
    await shot("08-admin-service-users");

    await page.getByRole("button", { name: "Revoke token zap sync" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toBe("Token zap sync revoked.");
    expect((await api(secret, "/templates/tpl_safety")).status).toBe(401);
  });

  it("R4 in an SSO-only organization the dialog asks no password, generates, and the example API accepts the token", async () => {
    await signIn("sam");
    await page.getByRole("button", { name: "Generate API token" }).click();
    expect(await page.locator("#password-field").isHidden()).toBe(true);
    expect(await page.locator("#generate-intro").textContent()).toContain("single sign-on");
    await shot("09-sso-generate-no-password");
    const secret = await generateThroughDialog("SSO laptop", null);
    const ok = await api(secret, "/templates/tpl_initech_onboarding");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: "tpl_initech_onboarding", actingAs: "Sam Sso" });
  });

  it("R3 the 11th token is refused in the dialog with a clear message, and no secret is shown", async () => {
    for (let i = 1; i <= 10; i++) await demo.kw.tokens.createUserToken({ orgId: "acme", userId: "u_ben", name: `token ${i}`, password: PEOPLE.ben.password });
    await signIn("ben");
    await expect.poll(() => page.locator("#my-tokens tbody tr").count()).toBe(10);
    await page.getByRole("button", { name: "Generate API token" }).click();
    await page.getByLabel("Token name").fill("token 11");
    await page.getByLabel("Your password").fill(PEOPLE.ben.password);
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    const alert = page.locator("#generate-error");
    await expect.poll(() => alert.textContent()).toMatch(/^You have reached the limit of 10 active tokens in this organization\. Revoke a token you no longer use/);
    expect(await alert.getAttribute("role")).toBe("alert");
    expect(await page.getByRole("dialog", { name: "Your new API token" }).isVisible()).toBe(false);
    await shot("10-limit-reached");
    expect((await demo.kw.tokens.listMine({ orgId: "acme", userId: "u_ben" })).items).toHaveLength(10);
  });

  it("keyboard only: Tab to Generate, Enter, type a name, Enter, copy with Enter, Escape; Tab to Revoke, confirm with Tab and Enter", async () => {
    await signIn("sam");
    const tabTo = async (label: string) => {
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press("Tab");
        const at = await page.evaluate(() => {
          const el = document.activeElement;
          return el === null ? "" : el.getAttribute("aria-label") ?? el.textContent ?? "";
        });
        if (at === label) return;
      }
      throw new Error(`Tab never reached "${label}"`);
    };
    await tabTo("Generate API token");
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Generate API token" }).waitFor();
    expect(await focusedId()).toBe("token-name");
    await page.keyboard.type("keyboard");
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Your new API token" }).waitFor();
    expect(await focusedId()).toBe("copy-secret");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#copy-status").textContent()).toContain("Copied");
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    await page.keyboard.press("Escape");
    await expect.poll(focusedId).toBe("generate");
    expect((await api(secret, "/templates/tpl_initech_onboarding")).status).toBe(200);

    await tabTo("Revoke token keyboard");
    await page.keyboard.press("Enter");
    await page.getByRole("alertdialog", { name: "Revoke API token?" }).waitFor();
    expect(await focusedId()).toBe("confirm-cancel");
    await page.keyboard.press("Tab");
    expect(await focusedId()).toBe("confirm-ok");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("status").first().textContent()).toBe("Token keyboard revoked.");
    expect((await api(secret, "/templates/tpl_initech_onboarding")).status).toBe(401);
  });

  it("a member without the management permission sees no administrator page link and a clear refusal on it", async () => {
    await signIn("ben");
    expect(await page.locator("#admin-link").isHidden()).toBe(true);
    await page.goto(demo.adminUrl);
    await ready();
    expect(await page.locator("#admin-none").isVisible()).toBe(true);
    expect(await page.locator("#org-tokens-section").isHidden()).toBe(true);
  });

  it("without a session the page says to sign in", async () => {
    await page.goto(demo.pageUrl);
    await ready();
    expect(await page.getByRole("alert").first().textContent()).toBe("You are not signed in. Sign in to manage API tokens.");
  });
});
