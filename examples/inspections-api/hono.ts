/**
 * The same guards as the Express app, on Hono: each guard sets the typed context variable
 * `keyward` (`c.var.keyward`; on list routes, `guard.list()` sets the access with its filter). Runs on any Fetch runtime; on Node through `@hono/node-server`.
 */
import { Hono } from "hono";
import { keywardHono, mountManagement } from "../../src/middleware/hono.js";
import { inspectionsManagement } from "./manage.js";
import { tokenReach } from "./reach.js";
import { visibleRows, type InspectionsDb, type InspectionsKeyward } from "./seed.js";

/**
 * Creates the Hono app (`app.fetch` is its Fetch handler).
 *
 * @example
 * ```ts
 * import { serve } from "@hono/node-server";
 * serve({ fetch: createInspectionsHono(kw, db).fetch, port: 3000 });
 * ```
 */
export function createInspectionsHono(kw: InspectionsKeyward, db: InspectionsDb) {
  const app = new Hono();
  const guard = keywardHono(kw, { realm: "inspections" });
  mountManagement(app, inspectionsManagement(kw)); // the token management pages at /settings/api-tokens (manage.ts)

  app.get("/templates/:id", guard({ action: "templates.view", item: (c) => db.ref("template", c.req.param("id")) }), (c) => c.json({ ...db.templates.get(c.req.param("id")), actingAs: c.var.keyward.subject.name }));
  app.get("/inspections/:id", guard({ action: "inspections.view", item: (c) => db.ref("inspection", c.req.param("id")) }), (c) => c.json({ ...db.inspections.get(c.req.param("id")), actingAs: c.var.keyward.subject.name }));
  app.put("/inspections/:id", guard({ action: "inspections.edit", item: (c) => db.ref("inspection", c.req.param("id")) }), (c) => c.json({ ...db.inspections.get(c.req.param("id")), actingAs: c.var.keyward.subject.name }));
  app.get("/assets/:id", guard({ action: "assets.view", item: (c) => db.ref("asset", c.req.param("id")) }), (c) => c.json({ ...db.assets.get(c.req.param("id")), actingAs: c.var.keyward.subject.name }));
  app.get("/templates", guard.list({ action: "templates.view" }), (c) => c.json(visibleRows(db, "template", c.var.keyward.filter)));
  app.get("/inspections", guard.list({ action: "inspections.view" }), (c) => c.json(visibleRows(db, "inspection", c.var.keyward.filter)));
  app.get("/assets", guard.list({ action: "assets.view" }), (c) => c.json(visibleRows(db, "asset", c.var.keyward.filter)));
  app.get("/admin/tokens/:id/reach", guard({ action: "tokens.manage" }), async (c) => {
    const a = await tokenReach(kw, c.var.keyward, c.req.param("id"), "inspections");
    return new Response(JSON.stringify(a.body), { status: a.status, headers: a.headers });
  });
  app.get("/users", guard({ action: "users.manage" }), async (c) => {
    const members = (await kw.directory.listMembers({ orgId: c.var.keyward.orgId })).items;
    return c.json(members.map((m) => ({ id: m.user.id, name: m.user.name, status: m.membership.status })));
  });
  return app;
}
