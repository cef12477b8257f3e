/**
 * keyward: embeddable authorization for API tokens. The root entry holds the factory, the error
 * class, the named types of every call, and what a secret scanner needs (`tokenPattern`,
 * `verifyChecksum`, the prefixes). The pure functions (the decision, the filters, the token
 * format) are in `keyward/core`.
 *
 * @example
 * ```ts
 * import { createKeyward } from "keyward";
 * import { memoryStore } from "keyward/memory";
 * const kw = createKeyward({ store: memoryStore(), actions: { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } } });
 * ```
 * @module
 */

// ── the factory and its options ──
export { createKeyward, type Keyward } from "./keyward.js";
export { DEFAULT_MANAGEMENT_PERMISSIONS, DEFAULT_MAX_GRACE_MS, type KeywardOptions } from "./service/context.js";
export { DEFAULT_REAUTH_THROTTLE, type ReauthLimiter, type ReauthThrottleOption } from "./service/throttle.js";
export type { TelemetryOptions, TelemetryTracer, TelemetryMeter, TelemetrySpan, TelemetryAttributes } from "./service/telemetry.js";
export type { RateLimitContext, RateLimitGate, RateLimitVerdict } from "./service/rate-gate.js";

// ── errors and the table of outcomes ──
export { KeywardError, ERROR_CODES, isForbidden, type KeywardErrorCode, type KeywardErrorOptions, type ForbiddenError } from "./core/errors.js";
export { OUTCOMES, DENIAL_REASONS, type Outcome, type DenialStage, type ErrorStage, type Challenge, type DenialReason, type TokenDenialReason } from "./core/reasons.js";

// ── the arguments and results of the instance's calls ──
export type { AuthorizeOptions, Session } from "./service/authorize.js";
export type { AccessDecision, AllowedAccess, AccessFilter, AccessFilterData, Reach, ReachGrant, ReachItemType } from "./core/access.js";
export type { FilterColumns, ToSqlOptions, SqlCondition, SqlFilterSource } from "./core/filter-sql.js";
export type { TokenReach } from "./service/access.js";
export type { LeakOutcome, LeakResult } from "./service/leaks.js";
export type { CreatedToken, SweepResult } from "./service/tokens.js";
export type { ManagementProfile, TokenBelongsToInput } from "./service/management.js";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SEARCH_LENGTH, type Page } from "./service/paging.js";
export type { TokenSort, TokenStatus } from "./core/lifecycle.js";
export type {
  PageOptions,
  StatusFilter,
  TokenListOptions,
  GranteeInput,
  ItemKey,
  OrgObjectRef,
  ActorInput,
  CreateUserTokenInput,
  CreateServiceTokenInput,
  PreviewReachInput,
  ListMyTokensInput,
  ListOrganizationTokensInput,
  ListServiceTokensInput,
  TokenActionInput,
  RotateTokenInput,
  SweepExpiredInput,
  ReportLeakInput,
  ManagementRights,
  KeywardLimits,
  CreateOrganizationInput,
  UpdateOrganizationInput,
  UpsertUserInput,
  IdInput,
  MemberInput,
  MemberRef,
  ListMembersInput,
  SeatCountInput,
  CreatePermissionSetInput,
  UpdatePermissionSetInput,
  CreateGroupInput,
  CreateSiteInput,
  PlacementInput,
  ShareInput,
  AddRuleInput,
  CreateServiceUserInput,
  UpdateServiceUserInput,
  ServiceUserRef,
  SetTokenPolicyInput,
  GetTokenPolicyInput,
  PolicyAffectedToken,
  TokenPolicyResult,
  ServiceUserPreviewInput,
} from "./service/inputs.js";

// ── the model ──
export { ACCESS_LEVELS } from "./core/types.js";
export type {
  AccessLevel,
  SubjectKind,
  Organization,
  User,
  MembershipStatus,
  Membership,
  ServiceUser,
  PermissionSet,
  Group,
  Site,
  Grantee,
  GranteeKind,
  ItemRef,
  Share,
  AccessRule,
  TokenRecord,
  RevocationCause,
  LeakLocation,
  TokenView,
  TokenPolicy,
  ExpiryCause,
  TokenClient,
  EndedToken,
  PreviewedToken,
  EndingPreview,
  TokenRestriction,
  SubjectRef,
  GrantRef,
  RateLimitState,
  AllowedDecision,
  UnknownTokenDenial,
  InvalidTokenDenial,
  RateLimitedDenial,
  PermissionDenial,
  AccessDenial,
  DeniedDecision,
  RefusalDecision,
  Decision,
  ActionDefinition,
  LoadedSubject,
  LoadedToken,
  CompiledSubject,
  CompiledGrant,
  GrantIndex,
  DecisionInput,
  TokenEventFields,
  KeywardEvent,
} from "./core/types.js";

// ── a store of your own ──
export type {
  KeywardStore,
  DirectoryStore,
  TokenStore,
  DecisionReads,
  StoreLifecycle,
  SyncReads,
  StoreBackdoor,
  TokenQuota,
  InsertTokenResult,
  TokenListEntry,
  TokenFilter,
  ClientsSeen,
  MemberEntry,
  PagePosition,
  TokenPageQuery,
  TokenPage,
  TokenRotation,
  MemberPageQuery,
  MemberPage,
  SubjectAccess,
} from "./storage/types.js";

export type { Admission, AdmissionRule, OwnedToken, QuotaOwnerState } from "./core/admit.js";

// ── secret scanners: the token format ──
export { tokenPattern, verifyChecksum, DEFAULT_PREFIXES, MAX_TOKEN_LENGTH, type TokenPrefixes, type TokenPatternOptions } from "./core/token-format.js";
