/**
 * R19: an organization's token lifetime policy — set (keeping existing tokens as they are, or
 * applying the new maximum to them with notice) and read.
 * @module
 */
import { KeywardError } from "../core/errors.js";
import { appliedPolicyExpiry, DEFAULT_POLICY_NOTICE_MS, effectiveExpiry, tokenStatus } from "../core/lifecycle.js";
import type { TokenPolicy } from "../core/types.js";
import type { Context } from "./context.js";
import type { GetTokenPolicyInput, PolicyAffectedToken, SetTokenPolicyInput, TokenPolicyResult } from "./inputs.js";
import { getTokenPolicySchema, parseInput, setTokenPolicySchema } from "./schemas.js";

/**
 * Sets the organization's token policy (`null`: none). With `existing: "apply"` every live token
 * of the organization gets the new policy's end (`appliedPolicyExpiry`: creation + the kind's
 * maximum, never sooner than `now + noticeMs` unless it was due sooner already), and the tokens
 * whose effective expiry changed are returned; with `"keep"` (default) only tokens created from
 * now on get the new maximum.
 */
export async function setTokenPolicy(ctx: Context, input: SetTokenPolicyInput): Promise<TokenPolicyResult> {
  const v = parseInput(setTokenPolicySchema, input);
  const org = await ctx.call(() => ctx.store.getOrganization(v.orgId));
  if (org === null) throw new KeywardError("not_found", "No such organization.", { field: "orgId" });
  const policy: TokenPolicy | null = v.policy;
  await ctx.call(() => ctx.store.putOrganization({ ...org, tokenPolicy: policy }));
  if (v.existing === "keep") return { policy, affected: [] };
  const now = ctx.now();
  const noticeMs = v.noticeMs ?? DEFAULT_POLICY_NOTICE_MS;
  const entries = await ctx.call(() => ctx.store.listTokens({ orgId: v.orgId }));
  const changes: { tokenId: string; policyExpiresAt: number | null }[] = [];
  const changed = new Map<string, PolicyAffectedToken>();
  for (const e of entries) {
    const { token } = e;
    if (tokenStatus(token, e.subject, now, ctx.inactivityMs) !== "active") continue;
    const next = appliedPolicyExpiry(token, policy, now, noticeMs);
    if (next === (token.policyExpiresAt ?? null)) continue;
    changes.push({ tokenId: token.id, policyExpiresAt: next });
    const before = effectiveExpiry(token, ctx.inactivityMs);
    const after = effectiveExpiry({ ...token, policyExpiresAt: next }, ctx.inactivityMs);
    if (before?.at === after?.at && before?.cause === after?.cause) continue;
    changed.set(token.id, { tokenId: token.id, name: token.name, kind: token.kind, subjectId: token.subjectId, expiresAt: after?.at ?? null, cause: after?.cause ?? null });
  }
  const written = await ctx.call(() => ctx.store.setTokenPolicyExpiry(changes));
  const affected: PolicyAffectedToken[] = [];
  for (const id of written) {
    const a = changed.get(id);
    if (a !== undefined) affected.push(a);
  }
  return { policy, affected };
}

/** The organization's token policy, `null` when it has none. Throws `not_found` for an unknown organization. */
export async function getTokenPolicy(ctx: Context, input: GetTokenPolicyInput): Promise<TokenPolicy | null> {
  const v = parseInput(getTokenPolicySchema, input);
  const org = await ctx.call(() => ctx.store.getOrganization(v.orgId));
  if (org === null) throw new KeywardError("not_found", "No such organization.", { field: "orgId" });
  return org.tokenPolicy ?? null;
}
