/**
 * keyward: embeddable authorization for API tokens.
 *
 * @example
 * ```ts
 * import { createKeyward } from "keyward";
 * import { memoryStore } from "keyward/memory";
 * const kw = createKeyward({ store: memoryStore(), actions: { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } } });
 * ```
 * @module
 */
export { createKeyward, type Keyward } from "./keyward.js";
export type { KeywardOptions } from "./service/context.js";
export { DEFAULT_MANAGEMENT_PERMISSIONS } from "./service/context.js";
export { DEFAULT_REAUTH_THROTTLE, type ReauthLimiter, type ReauthThrottleOption } from "./service/throttle.js";
export type { AuthorizeOptions, Session } from "./service/authorize.js";
export type { RateLimitContext, RateLimitGate, RateLimitVerdict } from "./service/rate-gate.js";
export type { LeakOutcome, LeakResult } from "./service/leaks.js";
export type { TelemetryOptions, TelemetryTracer, TelemetryMeter, TelemetrySpan, TelemetryAttributes } from "./service/telemetry.js";
export type { CreatedToken, TokenListOptions } from "./service/tokens.js";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SEARCH_LENGTH, type Page } from "./service/paging.js";
export { KeywardError, ERROR_CODES, isForbidden, storeFailure, type KeywardErrorCode, type ForbiddenError } from "./core/errors.js";
export { decide, checkToken, ruleMatches, LEVEL_RANK } from "./core/decide.js";
export { refusal } from "./core/decide.js";
export {
  decideAccess,
  accessFilter,
  describeReach,
  type AccessInput,
  type AccessFilter,
  type AccessFilterData,
  type AccessDecision,
  type AllowedAccess,
  type Reach,
  type ReachGrant,
  type ReachItemType,
} from "./core/access.js";
export { filterToSql, type FilterColumns, type ToSqlOptions, type SqlCondition, type SqlFilterSource } from "./core/filter-sql.js";
export type { TokenReach } from "./service/access.js";
export {
  isTokenActive,
  isExpired,
  tokenStatus,
  lastActivity,
  inactivityDeadline,
  subjectState,
  DEFAULT_INACTIVITY_MS,
  type SubjectState,
} from "./core/lifecycle.js";
export {
  generateToken,
  tokenParser,
  tokenPattern,
  verifyChecksum,
  tokenHint,
  checksumOf,
  DEFAULT_PREFIXES,
  MAX_TOKEN_LENGTH,
  type TokenPrefixes,
  type TokenPatternOptions,
  type TokenParser,
} from "./core/token-format.js";
export { tokenHasher, type TokenHasher } from "./core/secret.js";
export * from "./core/types.js";
export type * from "./storage/types.js";
