/**
 * `keyward/express`: route-level guards for Express 4 and 5. The allowed decision (subject,
 * organization, token id, grant) is put on `res.locals.keyward` for the handler and its logs;
 * a list guard (`guard.list(spec)`) puts the allowed access there, with its filter.
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { ParamsDictionary, Query as ParsedQs } from "express-serve-static-core";
import { KeywardError } from "../core/errors.js";
import type { AllowedAccess } from "../core/access.js";
import type { AllowedDecision } from "../core/types.js";
import { resolveGuard, resolveListGuard, runGuard, runListGuard, type GuardKeyward, type GuardSpec, type ListGuardSpec } from "../http/guard.js";
import { authorizationValues, resolveHttpOptions, splitUrl, type HttpOptions, type HttpProblem } from "../http/mapping.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The allowed keyward decision, set by a keyward guard (absent on unguarded routes). */
      keyward?: AllowedDecision;
    }
  }
}

/** A guard spec for Express: a loader receives the request (with `req.params`) and the response. */
export type ExpressGuardSpec<A extends string> = GuardSpec<A, { req: Request; res: Response }>;

/** The locals a guarded handler sees. */
export interface KeywardLocals {
  keyward: AllowedDecision;
}

/** The locals a list-guarded handler sees: the allowed access, with the filter of the items the subject may list. */
export interface KeywardListLocals {
  keyward: AllowedAccess;
}

/** What {@link keywardExpress} returns: call it with a spec to get a route handler; `list(spec)` for a list route. */
export interface KeywardExpressGuard<A extends string> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (spec: ExpressGuardSpec<A>): RequestHandler<ParamsDictionary, any, any, ParsedQs, KeywardLocals & Record<string, any>>;
  /** A list route's guard: one `accessible()` call; the allowed access (with `filter`) on `res.locals.keyward`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  list(spec: ListGuardSpec<A>): RequestHandler<ParamsDictionary, any, any, ParsedQs, KeywardListLocals & Record<string, any>>;
}

function send(res: Response, problem: HttpProblem): void {
  res.status(problem.status).set(problem.headers).send(JSON.stringify(problem.body));
}

/**
 * Creates keyward's Express guard factory. Options are validated once (`invalid_config`); each
 * spec is validated when the route is declared.
 *
 * @example
 * ```ts
 * import { keywardExpress, decisionOf } from "keyward/express";
 * const guard = keywardExpress(kw, { realm: "inspections" });
 * app.get("/inspections/:id", guard({ action: "inspections.view", item: ({ req }) => inspections.ref(req.params.id) }), (req, res) => {
 *   res.json({ viewer: decisionOf(res).subject.name });
 * });
 * app.get("/inspections", guard.list({ action: "inspections.view" }), (req, res) => {
 *   res.json(inspections.all().filter(res.locals.keyward.filter.matches));
 * });
 * ```
 */
export function keywardExpress<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardExpressGuard<A> {
  const opts = resolveHttpOptions(options);
  const keywardGuard = function keywardGuard(spec: ExpressGuardSpec<A>) {
    const guard = resolveGuard(kw, spec);
    return function keywardExpressGuard(req: Request, res: Response, next: NextFunction): void {
      const { path, search } = splitUrl(req.originalUrl ?? req.url);
      runGuard(kw as GuardKeyward, guard, opts, {
        authorization: authorizationValues(req.rawHeaders),
        method: req.method,
        path,
        search,
        params: (req.params ?? {}) as Record<string, string | undefined>,
        raw: { req, res },
      }).then((r) => {
        if (r.ok) {
          res.locals.keyward = r.decision;
          next();
        } else send(res, r.problem);
      }, next);
    } as unknown as ReturnType<KeywardExpressGuard<A>>;
  };
  keywardGuard.list = function keywardListGuard(spec: ListGuardSpec<A>) {
    const guard = resolveListGuard(kw, spec);
    return function keywardExpressListGuard(req: Request, res: Response, next: NextFunction): void {
      const { path, search } = splitUrl(req.originalUrl ?? req.url);
      runListGuard(kw as GuardKeyward, guard, opts, { authorization: authorizationValues(req.rawHeaders), method: req.method, path, search }).then((r) => {
        if (r.ok) {
          res.locals.keyward = r.access;
          next();
        } else send(res, r.problem);
      }, next);
    } as unknown as ReturnType<KeywardExpressGuard<A>["list"]>;
  };
  return keywardGuard;
}

/**
 * The allowed decision of a guarded route; throws (a bug in the host's wiring) on an unguarded one.
 *
 * @example
 * ```ts
 * app.get("/me", guard({ action: "reports.export" }), (req, res) => res.json(decisionOf(res).subject));
 * ```
 */
export function decisionOf(res: Response): AllowedDecision {
  const d = res.locals.keyward;
  if (d === undefined) throw new KeywardError("invalid_config", "No keyward decision on this response: is the route guarded?");
  return d;
}

/**
 * The allowed access (with its filter) of a list-guarded route; throws (a bug in the host's
 * wiring) on a route without a list guard.
 *
 * @example
 * ```ts
 * app.get("/assets", guard.list({ action: "assets.view" }), (req, res) => res.json(assets.filter(accessOf(res).filter.matches)));
 * ```
 */
export function accessOf(res: Response): AllowedAccess {
  const d = res.locals.keyward as Partial<AllowedAccess> | undefined;
  if (d === undefined || typeof d.filter?.matches !== "function") throw new KeywardError("invalid_config", "No keyward list filter on this response: is the route guarded with guard.list()?");
  return d as AllowedAccess;
}
