/**
 * The one guard runner (`guardRunner`): a framework binding is three functions (request in,
 * allow, deny). A made-up framework is bound here in a few lines and answers like the shipped
 * bindings (R12, R15, R21); the shipped bindings share one `MountableRouter`.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AllowedAccess, AllowedDecision, DeniedDecision } from "../../src/index.js";
import type { MountableRouter as ExpressMountable } from "../../src/middleware/express.js";
import type { MountableRouter as FastifyMountable } from "../../src/middleware/fastify.js";
import { guardRunner, type Granted, type HttpProblem } from "../../src/middleware/fetch.js";
import type { MountableRouter as HonoMountable } from "../../src/middleware/hono.js";
import type { MountableRouter } from "../../src/manage/router.js";
import { rateLimit } from "../../src/ratelimit/index.js";
import { world as fixtureWorld, type Action } from "../core/fixture.js";

/** A made-up framework: a request with a header map, a target and params; the binding writes into a reply object. */
interface TinyRequest {
  headers: Record<string, string>;
  verb: string;
  target: string;
  params: Record<string, string>;
  granted?: Granted;
}
interface TinyReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  denied?: DeniedDecision | undefined;
}

async function world(options: object = {}) {
  const w = await fixtureWorld();
  await w.kw.directory.share({ item: w.inspection("i1"), grantee: { kind: "user", userId: w.users.ana.id }, level: "view" });
  const { token } = await w.userToken(w.users.ana.id);
  const viewer = (await w.userToken(w.users.bob.id)).token;
  const kw = w.kw;
  // The whole binding: request in, allow, deny.
  const guards = guardRunner<Action, [TinyRequest, TinyReply], TinyReply, TinyRequest>(kw, options, {
    read: (req) => ({ authorization: req.headers.authorization, method: req.verb, url: req.target, params: req.params, raw: req }),
    allow: (granted, headers, req, reply) => {
      req.granted = granted;
      Object.assign(reply.headers, headers);
      return reply;
    },
    deny: (problem: HttpProblem, decision, _req, reply) => Object.assign(reply, { status: problem.status, headers: problem.headers, body: JSON.stringify(problem.body), denied: decision }),
  });
  const send = (run: (req: TinyRequest, reply: TinyReply) => Promise<TinyReply>, target: string, authorization?: string, params: Record<string, string> = {}) => {
    const req: TinyRequest = { headers: authorization === undefined ? {} : { authorization }, verb: "GET", target, params };
    return run(req, { status: 200, headers: {}, body: "" }).then((reply) => ({ req, reply }));
  };
  return { kw, token, viewer, guards, send, ana: w.users.ana };
}

describe("a new framework binding is three functions (guardRunner)", () => {
  it("R12 allows through allow(): the decision is attached, the item found from the route params", async () => {
    const w = await world();
    const guard = w.guards.item({ action: "inspections.view", item: { orgId: "acme" } });
    const { req, reply } = await w.send(guard, "/inspections/i1", `Bearer ${w.token}`, { id: "i1" });
    expect(reply.status).toBe(200);
    expect((req.granted as AllowedDecision).subject).toEqual({ kind: "user", id: w.ana.id, name: w.ana.name });
  });

  it("R15 denies through deny(): 401 without a token, 404 for an item out of reach, with the denial", async () => {
    const w = await world();
    const guard = w.guards.item({ action: "inspections.view", item: { orgId: "acme" } });
    const anonymous = await w.send(guard, "/inspections/i1", undefined, { id: "i1" });
    expect(anonymous.reply.status).toBe(401);
    expect(anonymous.reply.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(anonymous.req.granted).toBeUndefined();
    const far = await w.send(guard, "/inspections/i2?x=1", `Bearer ${w.token}`, { id: "i2" });
    expect(far.reply.status).toBe(404);
    expect(far.reply.denied).toMatchObject({ reason: "access_denied" });
  });

  it("R12 a list guard attaches the allowed access with its filter; an organization-level action it lacks is 403", async () => {
    const w = await world();
    const { req } = await w.send(w.guards.list({ action: "inspections.view" }), "/inspections", `Bearer ${w.token}`);
    const access = req.granted as AllowedAccess;
    expect(access.filter.matches({ orgId: "acme", type: "inspection", id: "i1" })).toBe(true);
    expect(access.filter.matches({ orgId: "acme", type: "inspection", id: "i2" })).toBe(false);
    expect((await w.send(w.guards.item({ action: "reports.export" }), "/reports", `Bearer ${w.viewer}`)).reply.status).toBe(403);
  });

  it("R21 the rate limit of the options applies: allow() gets the headers, deny() the 429", async () => {
    const w = await world({ rateLimit: rateLimit({ by: "token", limit: 1, windowMs: 60_000 }) });
    const guard = w.guards.list({ action: "inspections.view" });
    const first = await w.send(guard, "/inspections", `Bearer ${w.token}`);
    expect(first.reply.status).toBe(200);
    expect(first.reply.headers).toHaveProperty("x-ratelimit-remaining");
    expect((await w.send(guard, "/inspections", `Bearer ${w.token}`)).reply.status).toBe(429);
  });

  it("checks a spec once, at declaration (invalid_config)", async () => {
    const w = await world();
    // @ts-expect-error: an action the host never declared
    expect(() => w.guards.item({ action: "inspections.burn" })).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => w.guards.item({ action: "inspections.view" })).toThrow(expect.objectContaining({ code: "invalid_config", field: "guard.item" }));
  });
});

describe("one MountableRouter", () => {
  it("every binding's mountManagement takes the same type", () => {
    expectTypeOf<ExpressMountable>().toEqualTypeOf<MountableRouter>();
    expectTypeOf<FastifyMountable>().toEqualTypeOf<MountableRouter>();
    expectTypeOf<HonoMountable>().toEqualTypeOf<MountableRouter>();
  });
});
