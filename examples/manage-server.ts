/**
 * `npm run manage`: the example inspections API (`examples/inspections-api/app.ts`, Express) on
 * the memory store, with the token management pages mounted at `/settings/api-tokens` and a
 * development session. Sign in as one of the people below with one click, generate a token, copy
 * it, and call the API with it (`curl -H "Authorization: Bearer …" …/inspections/insp_1042`);
 * revoke it, and the API refuses it.
 *
 * Run: npm run manage            (PORT=8080 npm run manage to pick the port)
 *
 * Not for production: `/settings/api-tokens/dev/login?as=…` signs anyone in without a password.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { createKeyward } from "../src/index.js";
import { memoryStore } from "../src/memory.js";
import { createInspectionsApp } from "./inspections-api/app.js";
import { MANAGE_BASE_PATH, PEOPLE, manageLinks, seedSsoOrganization, type Person } from "./inspections-api/manage.js";
import { ACTIONS, PASSWORDS, seedInspections, type InspectionsKeyward } from "./inspections-api/seed.js";

export { MANAGE_BASE_PATH as BASE_PATH, PEOPLE, type Person };

/** Builds keyward on the memory store and seeds the inspections story plus the SSO-only organization. */
export async function seededInspections(options: { clock?: () => number } = {}) {
  const kw: InspectionsKeyward = createKeyward({
    store: memoryStore(),
    actions: ACTIONS,
    verifyPassword: (userId, password) => PASSWORDS.get(userId) === password,
    // The pages show the last clients of each token (R20): opt-in, an address is personal data.
    trackClients: true,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const seeded = await seedInspections(kw);
  await seedSsoOrganization(kw, seeded.db);
  return { kw, ...seeded };
}

/**
 * Starts the inspections API with the management pages on a loopback port (port 0: any free one).
 *
 * @example
 * ```ts
 * const demo = await startManageServer();
 * await page.goto(demo.loginUrl("ben")); // signed in, on "My API tokens"
 * await fetch(`${demo.origin}/inspections/insp_1042`, { headers: { authorization: `Bearer ${token}` } });
 * await demo.close();
 * ```
 */
export async function startManageServer(options: { port?: number; host?: string; clock?: () => number } = {}) {
  const seeded = await seededInspections(options.clock ? { clock: options.clock } : {});
  const host = options.host ?? "127.0.0.1";
  const server: Server = createInspectionsApp(seeded.kw, seeded.db).listen(options.port ?? 0, host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  const links = manageLinks(origin);
  return {
    ...seeded,
    server,
    origin,
    pageUrl: links.page,
    adminUrl: links.admin,
    loginUrl: links.login,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The lines a person needs: the page's address, one sign-in link per person, a curl to try a token. */
export function describeManagePages(origin: string): string[] {
  const links = manageLinks(origin);
  return [
    `Token management pages: ${links.page}`,
    "Sign in as (development session, no password asked here):",
    ...Object.entries(PEOPLE).map(([key, p]) => `  ${links.login(key as Person)}   ${p.name}, ${p.role}${p.password ? ` — generating asks the password "${p.password}"` : ""}`),
    `Administrator's page: ${links.login("ada", "admin")}`,
    `Then call the API with the token: curl -H "Authorization: Bearer <token>" ${origin}/inspections/insp_1042   (Ben, Cleo; Sam: /templates/tpl_initech_onboarding)`,
  ];
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const demo = await startManageServer({ port: Number(process.env.PORT ?? 8787) });
  console.log(`inspections API on ${demo.origin}`);
  for (const line of describeManagePages(demo.origin)) console.log(line);
  console.log("Ctrl+C to stop.");
  const stop = () => void demo.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
