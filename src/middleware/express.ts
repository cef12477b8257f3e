/**
 * `keyward/express`: route-level guards for Express 4 and 5. The allowed decision (subject,
 * organization, token id, grant) is put on `res.locals.keyward` for the handler and its logs.
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { ParamsDictionary, Query as ParsedQs } from "express-serve-static-core";
import { KeywardError } from "../core/errors.js";
import type { AllowedDecision } from "../core/types.js";
import { resolveGuard, runGuard, type GuardKeyward, type GuardSpec } from "../http/guard.js";
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

/** What {@link keywardExpress} returns: call it with a spec to get a route handler. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KeywardExpressGuard<A extends string> = (spec: ExpressGuardSpec<A>) => RequestHandler<ParamsDictionary, any, any, ParsedQs, KeywardLocals & Record<string, any>>;

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
 * ```
 */
export function keywardExpress<A extends string>(kw: GuardKeyward<A>, options: HttpOptions = {}): KeywardExpressGuard<A> {
  const opts = resolveHttpOptions(options);
  return function keywardGuard(spec) {
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
