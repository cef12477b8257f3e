/**
 * The administrator's "what can this token reach?" endpoint (`GET /admin/tokens/:id/reach`),
 * framework-free: each app guards the route with `tokens.manage` and hands this the allowed
 * decision and the token id; it answers `kw.tokens.reach(...)` (no secret, R5) or a problem.
 */
import { KeywardError, type AllowedDecision } from "../../src/index.js";
import { problemFor, resolveHttpOptions, type HttpProblem } from "../../src/middleware/fetch.js";
import type { InspectionsKeyward } from "./seed.js";

/** An HTTP answer: status, headers and a JSON body. */
export type ReachAnswer = { status: 200; headers: Record<string, string>; body: unknown } | HttpProblem;

/**
 * Everything the token `tokenId` of the decision's organization can reach, reviewed by the
 * decision's subject: 200 with the reach; 404 for a token of another organization or none; 403
 * when the actor may not review it (a service user's token needs `service_users:manage`); 400 for
 * a malformed id; 503 when the store fails.
 *
 * @example
 * ```ts
 * const a = await tokenReach(kw, decisionOf(res), req.params.id, "inspections");
 * res.status(a.status).set(a.headers).send(JSON.stringify(a.body));
 * ```
 */
export async function tokenReach(kw: InspectionsKeyward, decision: AllowedDecision, tokenId: string, realm: string): Promise<ReachAnswer> {
  const opts = resolveHttpOptions({ realm });
  try {
    const reach = await kw.tokens.reach({ orgId: decision.orgId, tokenId, actorId: decision.subject.id });
    return { status: 200, headers: { "content-type": "application/json", "cache-control": "no-store" }, body: reach };
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    if (e.code === "not_found") return problemFor("not_found", opts);
    if (e.code === "forbidden") return problemFor("permission_denied", opts);
    if (e.code === "invalid_input") return problemFor("invalid_input", opts, e.field ? { field: e.field } : {});
    if (e.code === "unavailable") return problemFor("unavailable", opts);
    throw e;
  }
}
