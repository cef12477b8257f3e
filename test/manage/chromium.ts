/**
 * The browser of the management pages' end-to-end files (`e2e.test.ts`, `lifecycle-e2e.test.ts`):
 * Debian's `chromium` (or `KEYWARD_CHROMIUM`) through `playwright-core`, one browser per file,
 * axe-core's source to inject, and where screenshots go. Without Chromium a file is skipped with a
 * printed reason, except under CI (`CI` set), where it fails.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";

export const CHROMIUM = process.env.KEYWARD_CHROMIUM ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
export const ARTIFACTS = join(process.cwd(), ".artifacts", "e2e");
export const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Registers the file's browser: launched once before its tests, closed after them. The returned
 * object's `browser` is set once launched. Without Chromium: a failing test under CI, a warning
 * naming `file` otherwise.
 */
export function useChromium(file: string): { browser: Browser } {
  const held = {} as { browser: Browser };
  if (!haveChromium) {
    if (process.env.CI) {
      describe(`end-to-end in Chromium (${file})`, () => {
        it("needs Chromium", () => {
          throw new Error(`Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set KEYWARD_CHROMIUM. CI must not skip the browser tests.`);
        });
      });
    } else {
      console.warn(`[e2e] skipping ${file}: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set KEYWARD_CHROMIUM)`);
    }
  }
  beforeAll(async () => {
    if (!haveChromium) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    // One browser for the whole file; one context per test, per viewport and colour scheme.
    held.browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  afterAll(async () => {
    await held.browser?.close();
  });
  return held;
}
