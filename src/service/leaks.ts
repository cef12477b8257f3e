/**
 * Leaked-token reports (R22): a secret found in public revokes its token at once with the cause
 * `leaked`, and its owner is told through events. A string that is not a well-formed token with
 * a valid checksum is discarded before any store read.
 * @module
 */
import { presentedSecret } from "../core/decide.js";
import type { SubjectRef } from "../core/types.js";
import type { Context } from "./context.js";
import type { ReportLeakInput } from "./inputs.js";
import { parseInput, reportLeakSchema } from "./schemas.js";
import { tokenEvent, tokenEventFields } from "./tokens.js";

/**
 * What a report did to one reported string:
 * - `revoked`: a real token, revoked now (cause `leaked`);
 * - `already_revoked`: a real token that was already revoked or deleted (nothing changed);
 * - `unknown`: well formed, valid checksum, but no token of this deployment has it;
 * - `malformed`: not a token of this deployment's format (prefix, length, alphabet, checksum):
 *   discarded without a store read.
 */
export type LeakOutcome = "revoked" | "already_revoked" | "unknown" | "malformed";

/** The answer of `tokens.reportLeak()`: never the secret. A real token is named with its subject. */
export interface LeakResult {
  outcome: LeakOutcome;
  /** For `revoked` and `already_revoked`: the token's id, organization and subject (kind, id, name). */
  tokenId?: string;
  orgId?: string;
  subject?: SubjectRef;
}

/**
 * Reports a leaked secret (R22). Resolves to what it did; a malformed string is not an error (a
 * scanner's false match is expected). Throws only `invalid_input` (a bad `found`) or
 * `unavailable` (the store failed; nothing was revoked then, or the revocation is complete: a
 * retry is safe and reports `already_revoked`).
 */
export async function reportLeak(ctx: Context, input: ReportLeakInput): Promise<LeakResult> {
  const { secret, found: where } = parseInput(reportLeakSchema, input);
  const kind = ctx.parse(secret);
  if (kind === null) return { outcome: "malformed" };
  const digest = ctx.hash(secret as string);
  const loaded = await ctx.call(() => ctx.store.loadDecision(digest, null));
  // A record of the other kind under this digest is an integrity failure: unknown, as in authorize().
  if (loaded === null || loaded.token.kind !== kind) return { outcome: "unknown" };
  const now = ctx.now();
  // R18: a rotated token's previous secret still works during its grace period (a leak of it revokes the token); after, it is no secret at all.
  if (presentedSecret(loaded.token, digest, now) === null) return { outcome: "unknown" };
  const result = await ctx.call(() => ctx.store.revokeToken(loaded.token.id, now, "revoke", "leaked"));
  if (result === null) return { outcome: "unknown" };
  const { token, changed } = result;
  const subject = loaded.compiled.ref;
  if (changed) ctx.emit(tokenEvent("token.revoked", token, subject, now, null, "leaked"));
  ctx.emit({ type: "token.leaked", ...tokenEventFields(token, subject, now, null), found: { source: where.source, url: where.url }, revoked: changed });
  return { outcome: changed ? "revoked" : "already_revoked", tokenId: token.id, orgId: token.orgId, subject };
}
