/**
 * The same guards as the Express app, on Fastify: the plugin decorates `request.keyward`, and
 * each route names its action and its item in a `preHandler`; list routes use `keyward.list()`.
 */
import Fastify from "fastify";
import { accessOf, keywardFastify, mountManagement } from "../../src/middleware/fastify.js";
import { inspectionsManagement } from "./manage.js";
import { tokenReach } from "./reach.js";
import { visibleRows, type InspectionsDb, type InspectionsKeyward } from "./seed.js";

type ById = { Params: { id: string } };
const id = (request: { params: unknown }) => (request.params as { id: string }).id;

/**
 * Creates the Fastify app (call `listen` on it).
 *
 * @example
 * ```ts
 * const app = await createInspectionsFastify(kw, db);
 * await app.listen({ port: 3000 });
 * ```
 */
export async function createInspectionsFastify(kw: InspectionsKeyward, db: InspectionsDb) {
  const app = Fastify();
  const keyward = keywardFastify(kw, { realm: "inspections" });
  await app.register(keyward);
  await mountManagement(app, inspectionsManagement(kw)); // the token management pages at /settings/api-tokens (manage.ts)
  const who = (request: { keyward: { subject: { name: string } } | null }) => request.keyward!.subject.name;

  app.get<ById>("/templates/:id", { preHandler: keyward.guard({ action: "templates.view", item: (r) => db.ref("template", id(r)) }) }, async (request) => ({ ...db.templates.get(request.params.id), actingAs: who(request) }));
  app.get<ById>("/inspections/:id", { preHandler: keyward.guard({ action: "inspections.view", item: (r) => db.ref("inspection", id(r)) }) }, async (request) => ({ ...db.inspections.get(request.params.id), actingAs: who(request) }));
  app.put<ById>("/inspections/:id", { preHandler: keyward.guard({ action: "inspections.edit", item: (r) => db.ref("inspection", id(r)) }) }, async (request) => ({ ...db.inspections.get(request.params.id), actingAs: who(request) }));
  app.get<ById>("/assets/:id", { preHandler: keyward.guard({ action: "assets.view", item: (r) => db.ref("asset", id(r)) }) }, async (request) => ({ ...db.assets.get(request.params.id), actingAs: who(request) }));
  app.get("/templates", { preHandler: keyward.list({ action: "templates.view" }) }, async (request) => visibleRows(db, "template", accessOf(request).filter));
  app.get("/inspections", { preHandler: keyward.list({ action: "inspections.view" }) }, async (request) => visibleRows(db, "inspection", accessOf(request).filter));
  app.get("/assets", { preHandler: keyward.list({ action: "assets.view" }) }, async (request) => visibleRows(db, "asset", accessOf(request).filter));
  app.get<ById>("/admin/tokens/:id/reach", { preHandler: keyward.guard({ action: "tokens.manage" }) }, async (request, reply) => {
    const a = await tokenReach(kw, request.keyward!, request.params.id, "inspections");
    return reply.code(a.status).headers(a.headers).send(JSON.stringify(a.body));
  });
  app.get("/users", { preHandler: keyward.guard({ action: "users.manage" }) }, async (request) => {
    const members = (await kw.directory.listMembers({ orgId: request.keyward!.orgId })).items;
    return members.map((m) => ({ id: m.user.id, name: m.user.name, status: m.membership.status }));
  });
  return app;
}
