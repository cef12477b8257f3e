/**
 * Runs the inspections API on Express over the embedded memory store, seeded with the story's
 * organization. Creates one user token (Ben) and one service user token (BI export) and prints
 * them once, as a token-creation screen would (R5: nowhere else).
 *
 * Run: npx tsx examples/inspections-api/server.ts   (PORT=3000 by default)
 */
import { createKeyward } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { createInspectionsApp } from "./app.js";
import { ACTIONS, PASSWORDS, seedInspections } from "./seed.js";

const kw = createKeyward({
  store: memoryStore(),
  actions: ACTIONS,
  verifyPassword: (userId, password) => PASSWORDS.get(userId) === password,
  onEvent: (e) => {
    if (e.type === "authorization") console.log(`[audit] ${e.outcome} ${e.reason} ${e.action} ${e.request?.method ?? ""} ${e.request?.path ?? ""} ${e.subject ? `by ${e.subject.name}` : ""}`);
  },
});
const { db, acme, bi } = await seedInspections(kw);
const ben = await kw.tokens.createUserToken({ orgId: acme.id, userId: "u_ben", name: "curl", password: PASSWORDS.get("u_ben")! });
const bot = await kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId: bi.id, name: "curl", actorId: "u_ada" });
const port = Number(process.env.PORT ?? 3000);
const server = createInspectionsApp(kw, db).listen(port, "127.0.0.1", () => {
  console.log(`inspections API on http://127.0.0.1:${port}`);
  console.log("New tokens (shown once):");
  console.log(`  Ben Berg (user):          ${ben.token}`);
  console.log(`  BI export (service user): ${bot.token}`);
  console.log(`Try: curl -H "Authorization: Bearer ${ben.record.hint}" http://127.0.0.1:${port}/inspections/insp_1042  (with the full token)`);
  console.log(`Token management pages: http://127.0.0.1:${port}/settings/api-tokens/  (sign in: /settings/api-tokens/dev/login?as=ada|ben|cleo)`);
});
process.on("SIGINT", () => server.close(() => void kw.close()));
