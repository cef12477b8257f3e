/**
 * `keyward/core`: the pure functions under the service, for hosts that decide, filter or parse
 * tokens themselves: the decision (`decide`, `decideAccess`), the list filter and its SQL
 * (`accessFilter`, `filterToSql`), the review of what a token reaches (`describeReach`), the
 * token lifecycle, and the token format (`generateToken`, `tokenParser`, `tokenHint`,
 * `tokenHasher`). No I/O, no clock: every time is an argument.
 *
 * @example
 * ```ts
 * import { decide, tokenParser, DEFAULT_INACTIVITY_MS } from "keyward/core";
 * const kind = tokenParser()(presented); // "user" | "service_user" | null
 * const d = decide(input, "inspections.view", actions["inspections.view"], item, Date.now(), { inactivityMs: DEFAULT_INACTIVITY_MS });
 * ```
 * @module
 */
export { decide } from "./core/decide.js";
export { decideAccess, accessFilter, describeReach, compileAccess, type AccessInput } from "./core/access.js";
export { compileDecision, compileSubject, compileShares, compileRules, noGrants, normalizeRestriction, compileRestriction, type CompiledRestriction, type LoadedDecision } from "./core/compile.js";
export { filterToSql } from "./core/filter-sql.js";
export {
  isTokenActive,
  isExpired,
  effectiveExpiry,
  type EffectiveExpiry,
  type ExpiryCause,
  tokenStatus,
  lastActivity,
  inactivityDeadline,
  subjectState,
  DEFAULT_INACTIVITY_MS,
  type SubjectState,
  dueWarning,
  warningIsNew,
  DEFAULT_WARNING_THRESHOLDS_MS,
  type DueWarning,
  mergeClients,
} from "./core/lifecycle.js";
export { generateToken, tokenParser, tokenHint, type TokenParser } from "./core/token-format.js";
export { tokenHasher, type TokenHasher } from "./core/secret.js";
export { admission, admitToken } from "./core/admit.js";
