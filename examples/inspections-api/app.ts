/**
 * A small inspections API on Express, guarded by keyward: templates, inspections and assets
 * (one by one, and as lists of what the token may view), a token login, and an administrator's
 * token list, deletion and reach review. Every route names its action and finds its item through
 * the host's own database; keyward decides, and the mapping in `keyward/express` answers denials
 * (401/403/404/503, problem+json).
 */
import express, { type Request, type Response } from "express";
import { KeywardError } from "../../src/index.js";
import { accessOf, decisionOf, keywardExpress, mountManagement } from "../../src/middleware/express.js";
import { authorizationValues, extractBearer, problemFor, resolveHttpOptions, splitUrl } from "../../src/middleware/fetch.js";
import { inspectionsManagement } from "./manage.js";
import { tokenReach } from "./reach.js";
import { visibleRows, type InspectionsDb, type InspectionsKeyward, type Row } from "./seed.js";

/** What a guarded route answers: the row, and who read it (from the decision). */
function show(row: Row | undefined, res: Response) {
  const { subject, grant } = decisionOf(res);
  return { ...row, actingAs: subject.name, via: grant ? `${grant.source}:${grant.via}:${grant.level}${grant.crossOrg ? ":cross-org" : ""}` : "permission" };
}

/**
 * Creates the Express app over a keyward instance and the host's database.
 *
 * @example
 * ```ts
 * const { db } = await seedInspections(kw);
 * createInspectionsApp(kw, db).listen(3000);
 * ```
 */
export function createInspectionsApp(kw: InspectionsKeyward, db: InspectionsDb, options: { realm?: string } = {}) {
  const app = express();
  // Token management pages and endpoints (keyward/manage) at /settings/api-tokens, with a development session: manage.ts.
  mountManagement(app, inspectionsManagement(kw));
  app.use(express.json());
  const realm = options.realm ?? "inspections";
  const guard = keywardExpress(kw, { realm });
  const param = (req: Request) => String(req.params.id);

  app.get("/templates/:id", guard({ action: "templates.view", item: ({ req }) => db.ref("template", param(req)) }), (req, res) => {
    res.json(show(db.templates.get(param(req)), res));
  });
  app.put("/templates/:id", guard({ action: "templates.edit", item: ({ req }) => db.ref("template", param(req)) }), (req, res) => {
    const row = db.templates.get(param(req))!;
    if (typeof req.body?.title === "string") row.title = req.body.title;
    res.json(show(row, res));
  });
  app.delete("/templates/:id", guard({ action: "templates.delete", item: ({ req }) => db.ref("template", param(req)) }), (req, res) => {
    db.templates.delete(param(req));
    res.status(204).end();
  });
  app.get("/inspections/:id", guard({ action: "inspections.view", item: ({ req }) => db.ref("inspection", param(req)) }), (req, res) => {
    res.json(show(db.inspections.get(param(req)), res));
  });
  app.put("/inspections/:id", guard({ action: "inspections.edit", item: ({ req }) => db.ref("inspection", param(req)) }), (req, res) => {
    const row = db.inspections.get(param(req))!;
    if (typeof req.body?.title === "string") row.title = req.body.title;
    res.json(show(row, res));
  });
  app.get("/assets/:id", guard({ action: "assets.view", item: ({ req }) => db.ref("asset", param(req)) }), (req, res) => {
    res.json(show(db.assets.get(param(req)), res));
  });

  // List endpoints: the list guard makes ONE accessible() call; the filter picks the rows.
  app.get("/templates", guard.list({ action: "templates.view" }), (_req, res) => {
    res.json(visibleRows(db, "template", accessOf(res).filter));
  });
  app.get("/inspections", guard.list({ action: "inspections.view" }), (_req, res) => {
    res.json(visibleRows(db, "inspection", accessOf(res).filter));
  });
  app.get("/assets", guard.list({ action: "assets.view" }), (_req, res) => {
    res.json(visibleRows(db, "asset", accessOf(res).filter));
  });
  // An administrator reviews everything a token can reach (no secret).
  app.get("/admin/tokens/:id/reach", guard({ action: "tokens.manage" }), async (req, res, next) => {
    try {
      const a = await tokenReach(kw, decisionOf(res), param(req), realm);
      res.status(a.status).set(a.headers).send(JSON.stringify(a.body));
    } catch (e) {
      next(e);
    }
  });

  // Organization-level actions: no item.
  app.get("/users", guard({ action: "users.manage" }), async (_req, res) => {
    const members = (await kw.directory.listMembers({ orgId: decisionOf(res).orgId })).items;
    res.json(members.map((m) => ({ id: m.user.id, name: m.user.name, status: m.membership.status })));
  });
  app.get("/admin/tokens", guard({ action: "tokens.manage" }), async (_req, res) => {
    const { orgId, subject } = decisionOf(res);
    const tokens = (await kw.tokens.listOrganization({ orgId, actorId: subject.id })).items;
    res.json(tokens.map((t) => ({ id: t.id, owner: t.subjectName, name: t.name, hint: t.hint, status: t.status })));
  });
  app.delete("/admin/tokens/:id", guard({ action: "tokens.manage" }), async (req, res, next) => {
    const { orgId, subject } = decisionOf(res);
    try {
      await kw.tokens.delete({ orgId, tokenId: param(req), actorId: subject.id });
      res.status(204).end();
    } catch (e) {
      if (e instanceof KeywardError && e.code === "not_found") res.status(404).type("application/problem+json").send(JSON.stringify(problemFor("not_found", resolveHttpOptions({ realm })).body));
      else next(e);
    }
  });

  // Logging in with a token (R10): user tokens only; a service user token cannot (R9).
  const loginOptions = resolveHttpOptions({ realm });
  app.post("/session", async (req, res, next) => {
    const bearer = extractBearer(authorizationValues(req.rawHeaders), splitUrl(req.originalUrl).search);
    const fail = (p: ReturnType<typeof problemFor>) => res.status(p.status).set(p.headers).send(JSON.stringify(p.body));
    if (!bearer.ok) return fail(problemFor(bearer.code, loginOptions));
    try {
      const session = await kw.login(bearer.token);
      res.status(201).json({ user: session.subject.name, orgId: session.orgId });
    } catch (e) {
      if (!(e instanceof KeywardError)) return next(e);
      if (e.code === "login_not_allowed") return res.status(403).type("application/problem+json").send(JSON.stringify({ type: "urn:keyward:problem:login_not_allowed", title: "Login not allowed", status: 403, code: "login_not_allowed", detail: "Service user tokens cannot be used to log in." }));
      if (e.code === "unavailable") return fail(problemFor("unavailable", loginOptions));
      return fail(problemFor("invalid_token", loginOptions));
    }
  });
  return app;
}
