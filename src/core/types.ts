/**
 * The domain of keyward as plain data. Everything here is a value: no methods, no I/O.
 * Times are milliseconds since the epoch (UTC), always passed in explicitly.
 *
 * Rule numbers (R1…R16) refer to the rules listed in the README ("The rules keyward enforces").
 * @module
 */
import type { DenialReason, TokenDenialReason } from "./reasons.js";

/** Access levels of R13, ordered: each implies the ones before it. */
export const ACCESS_LEVELS = ["view", "edit", "delete"] as const;
/** `view` < `edit` < `delete` (R13). */
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** The two kinds of subject (R1) and so of token. */
export type SubjectKind = "user" | "service_user";

/** An organization (tenant). `ssoOnly` means it allows no non-SSO login, so creating a user token asks no password (R4). */
export interface Organization {
  id: string;
  name: string;
  ssoOnly: boolean;
  /** R19: the organization's token lifetime policy; `null` (or absent): none. */
  tokenPolicy?: TokenPolicy | null;
}

/** A person (R1). A user can belong to several organizations, with one {@link Membership} in each. */
export interface User {
  id: string;
  name: string;
}

/** Membership status of a user in one organization. `left` means the user is no longer a member (R7). */
export type MembershipStatus = "active" | "deactivated" | "left";

/**
 * A user's membership of one organization (R1): permission set, groups, sites, status, seat.
 *
 * `epoch` changes every time the membership becomes active (joining, reactivation, re-joining).
 * A user token remembers the epoch it was created in; a token whose epoch is not the
 * membership's current one is dead for good (R7: reactivation or re-invitation never revives it).
 */
export interface Membership {
  orgId: string;
  userId: string;
  permissionSetId: string | null;
  groupIds: string[];
  siteIds: string[];
  status: MembershipStatus;
  /** Whether the member occupies a paid seat (R10). Service users never do (R9). */
  seat: boolean;
  epoch: string;
}

/** A service user (R1): one organization, a name, a permission set; no groups, no sites, no login. */
export interface ServiceUser {
  id: string;
  orgId: string;
  name: string;
  permissionSetId: string | null;
  status: "active" | "deleted";
  /** Who created it: recorded for the audit trail only, never consulted by a decision (R8). */
  createdBy: string | null;
  createdAt: number;
}

/** A named set of permissions (R12), assigned to memberships and service users of one organization. */
export interface PermissionSet {
  id: string;
  orgId: string;
  name: string;
  permissions: string[];
}

/** A group of users in one organization (R13). Service users cannot be members (R9). */
export interface Group {
  id: string;
  orgId: string;
  name: string;
}

/**
 * A site in one organization. Sites nest (region › area › site): membership of a site covers
 * every site below it (R13). `path` lists the site's ancestors from the root down to the site
 * itself, so coverage is a membership test without walking the tree.
 */
export interface Site {
  id: string;
  orgId: string;
  name: string;
  parentId: string | null;
  path: string[];
}

/**
 * Who a share or an access rule gives access to (R13, R14).
 * - `user`: one person (in any organization: a share from another organization may name them, R14);
 * - `service_user`: one service user;
 * - `group`, `site`: members of that group, or of that site or any site above it (users only);
 * - `organization`: every user of that organization, and its service users too when
 *   `includeServiceUsers` is set.
 */
export type Grantee =
  | { kind: "user"; userId: string }
  | { kind: "service_user"; serviceUserId: string }
  | { kind: "group"; groupId: string }
  | { kind: "site"; siteId: string }
  | { kind: "organization"; orgId: string; includeServiceUsers: boolean };

/** The kinds of {@link Grantee}. */
export type GranteeKind = Grantee["kind"];

/** An item of the host (a template, an inspection, an asset…), identified by its owner organization, type and id. */
export interface ItemRef {
  /** The organization that owns the item. */
  orgId: string;
  /** The host's item type, e.g. `"inspection"`. */
  type: string;
  id: string;
  /** Attributes that access rules may test, e.g. `{ siteId: "site_1", templateId: "tpl_9" }`. */
  attributes?: Readonly<Record<string, string | undefined>>;
}

/** A share of one item with one grantee at one level (R13, R14). */
export interface Share {
  id: string;
  item: { orgId: string; type: string; id: string };
  grantee: Grantee;
  level: AccessLevel;
  createdAt: number;
}

/**
 * An access rule of one organization: every item of `itemType` owned by that organization whose
 * attributes match all `conditions` is accessible to `grantee` at `level` (R13).
 * A condition matches when the item's attribute equals one of the listed values.
 */
export interface AccessRule {
  id: string;
  orgId: string;
  itemType: string;
  conditions: Readonly<Record<string, readonly string[]>>;
  grantee: Grantee;
  level: AccessLevel;
  createdAt: number;
}

/**
 * A token as stored: never the secret, only its digest (R5).
 *
 * Active (R3) means: not revoked, not deleted, not expired (by inactivity for user tokens, R6,
 * or by its subject's deactivation or departure, R7). {@link isTokenActive} is the one predicate.
 */
export interface TokenRecord {
  /** Public id: what lists, events and logs show. */
  id: string;
  kind: SubjectKind;
  orgId: string;
  /** The user's id for a user token, the service user's id for a service user token. */
  subjectId: string;
  name: string;
  /** SHA-256 (or HMAC-SHA-256 with a pepper) of the whole token, base64url. */
  hash: string;
  /** Non-secret hint to recognise the token: its prefix and last four characters. */
  hint: string;
  /** For user tokens, the membership epoch at creation (R7). `null` for service tokens. */
  epoch: string | null;
  createdAt: number;
  /** The user (person) who created it. For service tokens, recorded for audit only (R8). */
  createdBy: string | null;
  /** Last successful authentication, or `null` if never used (R6). */
  lastUsedAt: number | null;
  revokedAt: number | null;
  /**
   * Why it was revoked, when keyward knows more than "someone revoked it": `"leaked"` when a
   * leak report revoked it (R22). Absent (or `null`) for a revocation through `tokens.revoke()`
   * and for tokens not revoked.
   */
  revokedCause?: RevocationCause | null;
  deletedAt: number | null;
  /** When expiry was first observed and recorded; once set, the token is expired for good (R6). */
  expiredAt: number | null;
  /**
   * R17: what the token may do, at most, of what its subject may do now. `null` (or absent): a
   * full-access token, everything its subject can do.
   */
  restriction?: TokenRestriction | null;
  /** R19: the expiry date chosen at creation (epoch ms); `null` (or absent): none. */
  expiresAt?: number | null;
  /** R19: the end of the lifetime the organization's policy allows it (creation + maximum, or later for tokens that existed before a tightening); `null` (or absent): none. */
  policyExpiresAt?: number | null;
  /** R18: the digest of the secret before the last rotation, valid until {@link TokenRecord.previousHashUntil}; `null` (or absent): none. */
  previousHash?: string | null;
  /** R18: when the previous secret stops working (epoch ms); `null` when there is no previous secret. */
  previousHashUntil?: number | null;
  /** R18: when the secret was last rotated; `null` (or absent): never. */
  rotatedAt?: number | null;
  /** R20: the expiry deadline the last warning was sent for; a warning is due again when the deadline moves. */
  warnedDeadline?: number | null;
  /** R20: the smallest threshold (ms before {@link TokenRecord.warnedDeadline}) already warned for. */
  warnedThresholdMs?: number | null;
  /** Opt-in: the last few distinct clients that used the token, most recent first. Absent or empty when not tracked. */
  clients?: readonly TokenClient[] | null;
}

/**
 * R17: a restriction a token carries. Every part is optional; each given part narrows the token.
 * It is intersected with the subject's *current* permissions and access on every request, so a
 * restricted token never does more than its subject could.
 */
export interface TokenRestriction {
  /** Only these permissions (each must be held by the subject when the token is created). */
  permissions?: readonly string[];
  /** At most this access level on any item. */
  maxLevel?: "view" | "edit";
  /** Only items of these types. */
  itemTypes?: readonly string[];
  /** Only access received through these groups (user tokens). */
  groupIds?: readonly string[];
  /** Only access received through these sites, or sites below them (user tokens). */
  siteIds?: readonly string[];
  /** Only these items (whatever grants access to them). */
  items?: readonly { orgId: string; type: string; id: string }[];
}

/** A client seen using a token (opt-in tracking): the address and user agent the host reported. */
export interface TokenClient {
  ip: string | null;
  userAgent: string | null;
  /** The last time this client was seen (within the last-use window). */
  lastSeenAt: number;
}

/**
 * R19: an organization's token lifetime policy. Every part is optional; absent means no limit.
 */
export interface TokenPolicy {
  /** The longest lifetime a token of each kind may have, in milliseconds from its creation. */
  maxLifetimeMs?: { user?: number | null; service_user?: number | null };
  /** Whether a token must be created with an expiry date (`expiresAt`). */
  requireExpiry?: boolean;
  /** Whether members may create user tokens at all (default `true`). */
  userTokens?: boolean;
}

/** Why a token was revoked, recorded with the revocation: `"leaked"` = a leak report (R22). */
export type RevocationCause = "leaked";

/** Where a leaked secret was found, as the scanner or the host reports it (R22). Never the secret. */
export interface LeakLocation {
  /** What found it or where, e.g. GitHub's `source` (`"content"`, `"commit"`, `"npm"`…) or your own scanner's name. */
  source: string;
  /** The public URL where it was found; `""` when the scanner gives none. */
  url: string;
}

/**
 * The public view of a token: what listings return. Never the secret, never the digest (R5).
 */
export interface TokenView {
  id: string;
  kind: SubjectKind;
  orgId: string;
  subjectId: string;
  /** Display name of the subject: the user's or service user's name. */
  subjectName: string;
  name: string;
  hint: string;
  createdAt: number;
  createdBy: string | null;
  lastUsedAt: number | null;
  /** `active`, or why it no longer works. */
  status: "active" | "revoked" | "deleted" | "expired" | "subject_inactive";
  /** Present when it was revoked for a cause: `"leaked"` (R22), so a list can say why. */
  revokedCause?: RevocationCause;
  /**
   * R19: when an active token expires, its effective expiry: the earliest of its date, its
   * organization's policy's end and (user tokens) its inactivity deadline (R6) if not used before
   * then; `null` for a token that never expires and for dead tokens.
   */
  expiresAt: number | null;
  /** R19: which deadline {@link TokenView.expiresAt} is: `inactivity`, `date` or `policy`; `null` when `expiresAt` is. */
  expiryCause: ExpiryCause | null;
  /** R18: when its secret was last rotated (`tokens.rotate()`); `null` if never. */
  rotatedAt: number | null;
  /** R18: until when the secret it had before its last rotation still works (the grace period); `null` when there is none or it is over. */
  previousSecretUntil: number | null;
  /** The last distinct clients (address, user agent) that used it, most recent first, when client tracking is on (`createKeyward({ trackClients })`); empty otherwise. */
  clients: TokenClient[];
  /** R17: what the token is restricted to (normalised: sorted, without duplicates), or `null` for a full-access token. */
  restriction: TokenRestriction | null;
}

/** A token that ended with its subject (R20's `subject.tokens_ended`): never the secret. */
export interface EndedToken {
  id: string;
  name: string;
  kind: SubjectKind;
  /** Its last use, `null` if it was never used: what the administrator reads as "used 2 hours ago". */
  lastUsedAt: number | null;
}

/** A token that a deactivation, departure or deletion would end (R20's previews), with the clients seen using it (empty when not tracked). */
export interface PreviewedToken extends EndedToken {
  clients: TokenClient[];
}

/** What a deactivation, departure or service-user deletion would stop (R20), read before acting: the subject and every token it would end. */
export interface EndingPreview {
  subject: SubjectRef;
  tokens: PreviewedToken[];
}

/** Why a token expires (R6, R19): inactivity (user tokens), the date chosen at creation, or the organization's lifetime policy. */
export type ExpiryCause = "inactivity" | "date" | "policy";

/** The subject an allowed (or authenticated) decision names (R15, R16). */
export interface SubjectRef {
  kind: SubjectKind;
  id: string;
  /** The user's name for user tokens, the service user's name for service tokens (R16). */
  name: string;
}

/**
 * How access to the item was granted (R13, R14): a share or a rule, through which grantee,
 * and whether the item belongs to another organization.
 */
export interface GrantRef {
  source: "share" | "rule";
  /** The share's or rule's id. */
  id: string;
  via: GranteeKind;
  level: AccessLevel;
  crossOrg: boolean;
}

export { DENIAL_REASONS, type DenialReason, type TokenDenialReason } from "./reasons.js";

/**
 * Where a request stands against a rate limit (R21), counted once, after the token stage: what
 * the `X-RateLimit-*` (and IETF `RateLimit`) headers say. Present on a decision only when a limit
 * was configured for the call and the token passed the token stage.
 */
export interface RateLimitState {
  /** The policy's name (the IETF headers' policy item). */
  policy: string;
  /** The limit that applied to this request (it may depend on the action and the subject). */
  limit: number;
  /** Units used in the current window, this request included. */
  used: number;
  /** Units left in the current window (never below 0). */
  remaining: number;
  /** Milliseconds until the current window ends and the count starts again. */
  resetMs: number;
  /** The window's length in milliseconds. */
  windowMs: number;
}

/** An allowed decision (R15). */
export interface AllowedDecision {
  allowed: true;
  reason: "allowed";
  action: string;
  subject: SubjectRef;
  orgId: string;
  tokenId: string;
  /** What granted access to the item; absent for organization-level actions. */
  grant?: GrantRef;
  /**
   * R19: the token's effective expiry after this use (a user token's inactivity deadline moves
   * with each use); `null` when it never expires. What the middleware sends as `API-Token-Expiration`.
   */
  expiresAt: number | null;
  /** Where this token stands against the configured rate limit (R21); absent without one. */
  rateLimit?: RateLimitState;
  /** R18: present when the token was presented with its previous secret, during a rotation's grace period. */
  previousSecret?: true;
}

/** What every denied decision has: the reason (R15) and the action asked for. */
interface DenialBase {
  allowed: false;
  reason: DenialReason;
  action: string;
}

/** What a denial names once the token is known (from `token_revoked` on): its subject, organization and id. */
interface KnownTokenFields {
  subject: SubjectRef;
  orgId: string;
  tokenId: string;
}

/** `token_malformed` or `token_unknown`: no token is known, so no subject is named. */
export interface UnknownTokenDenial extends DenialBase {
  reason: "token_malformed" | "token_unknown";
  /** Never set: no token is known (declared so that a field every other decision has reads as `undefined`). */
  subject?: undefined;
  orgId?: undefined;
  tokenId?: undefined;
  rateLimit?: undefined;
}

/** The token is known but does not authenticate: revoked or deleted, expired (R6), or its subject inactive (R7). */
export interface InvalidTokenDenial extends DenialBase, KnownTokenFields {
  reason: Exclude<TokenDenialReason, UnknownTokenDenial["reason"]>;
  /** R19: on `token_expired`, which expiry ended the token (`inactivity`, `date` or `policy`) and when; absent for the other reasons. */
  expiry?: { cause: ExpiryCause; at: number };
  /** Never set: a limit is counted only once the token passed its stage. */
  rateLimit?: undefined;
}

/** R21: the token is past its rate limit. */
export interface RateLimitedDenial extends DenialBase, KnownTokenFields {
  reason: "rate_limited";
  /** Milliseconds until a request may succeed again. */
  retryAfterMs: number;
  /** R19: the token's effective expiry after this use (it authenticated); `null` when it never expires. */
  expiresAt?: number | null;
  /** Where this token stands against the limit. */
  rateLimit: RateLimitState;
}

/** The subject lacks the action's permission (R12), or the action is not one the host declared. */
export interface PermissionDenial extends DenialBase, KnownTokenFields {
  reason: "permission_denied";
  /** Set when the action is not one the host declared: a configuration error on the host's side. */
  unknownAction?: true;
  /** R19: the token's effective expiry after this use (it authenticated); `null` when it never expires. */
  expiresAt?: number | null;
  /**
   * R17: set when the token's restriction refused it (its permissions, item types or maximum
   * level leave the action out) although the subject holds the permission. HTTP 403
   * `insufficient_scope`.
   */
  restricted?: true;
  /** Where this token stands against the configured rate limit (R21); absent without a limit. */
  rateLimit?: RateLimitState;
}

/** The subject has no access to the item at the level the action needs (R13, R14). */
export interface AccessDenial extends DenialBase, KnownTokenFields {
  reason: "access_denied";
  /**
   * `true` when the subject can see the item but not at the level the action needs (HTTP 403),
   * `false` when the item is not reachable at all (HTTP 404).
   */
  visible: boolean;
  /** R19: the token's effective expiry after this use (it authenticated); `null` when it never expires. */
  expiresAt?: number | null;
  /**
   * R17: set when the token's restriction caused the denial: the same token without its
   * restriction would have been allowed. HTTP 403 `insufficient_scope` whatever `visible` says.
   */
  restricted?: true;
  /** Where this token stands against the configured rate limit (R21); absent without a limit. */
  rateLimit?: RateLimitState;
}

/**
 * A denied decision (R15): a union on `reason`, each variant with only the fields it has.
 *
 * @example
 * ```ts
 * if (!d.allowed && d.reason === "rate_limited") retryIn(d.retryAfterMs);
 * ```
 */
export type DeniedDecision = UnknownTokenDenial | InvalidTokenDenial | RateLimitedDenial | PermissionDenial | AccessDenial;

/**
 * A denial of R15's first stages, the token and the permission: what `refusal()` answers, and,
 * with `rate_limited`, every refusal of `accessible()` (a list filter is never `access_denied`:
 * a subject with no access gets an empty filter).
 *
 * @example
 * ```ts
 * const r: RefusalDecision = { allowed: false, reason: "token_unknown", action: "inspections.view" };
 * ```
 */
export type RefusalDecision = UnknownTokenDenial | InvalidTokenDenial | PermissionDenial;

/** The answer of `authorize()`: a denial is data, never an exception (R15). */
export type Decision = AllowedDecision | DeniedDecision;

/** What an action needs (the host's vocabulary): a permission, and for item actions an access level on an item type. */
export interface ActionDefinition {
  permission: string;
  /** Required access level on the item; omit for organization-level actions. */
  access?: AccessLevel;
  /** The item type the action applies to; required with `access`. */
  item?: string;
}

/**
 * The subject as loaded for one decision: the membership for a user, the service user itself
 * for a service user, with the permissions of its permission set.
 */
export type LoadedSubject =
  | {
      kind: "user";
      user: User;
      /** `null` when the user has no membership row in the token's organization. */
      membership: Membership | null;
      permissions: readonly string[];
      /** For each site the member belongs to, the site's path (R13 nesting). */
      memberSitePaths?: readonly (readonly string[])[];
    }
  | {
      kind: "service_user";
      serviceUser: ServiceUser | null;
      permissions: readonly string[];
    };

/**
 * A token's subject compiled once for many decisions (`compileSubject`): what the token stage,
 * the permission stage and the grantee match read, with nothing left to compute per call. A
 * store may keep it (until a write it depends on: membership, permission set, user, service user,
 * site); it is immutable.
 */
export interface CompiledSubject {
  /** The loaded subject's kind (a token of the other kind is `token_unknown`). */
  readonly kind: SubjectKind;
  /** The token's organization. */
  readonly orgId: string;
  /** The token's subject id: the user's or the service user's. */
  readonly subjectId: string;
  /** The subject as decisions name it (frozen, shared by every decision). */
  readonly ref: SubjectRef;
  /** The permissions of its permission set (R12). */
  readonly permissions: ReadonlySet<string>;
  /** Active: a user's membership is active, a service user is not deleted (R7). */
  readonly active: boolean;
  /** A user's membership epoch (`null` without a membership, and for service users): a user token of another epoch is dead (R7). */
  readonly epoch: string | null;
  /** Its grantee keys (`subjectKeys`): first those that hold across organizations, then the local ones (groups, sites). */
  readonly keys: readonly string[];
  /** The {@link keys}' hashes (`keyHash`), in the same order: a decision compares these before the keys. */
  readonly hashes: readonly number[];
  /**
   * The first three {@link keys} (a user's: its own, its organization's and its organization's
   * with service users; a service user's two), inline, with their {@link hashes}: a
   * decision finds these without reading the arrays. `null` and `-1` past the last key.
   */
  readonly key0: string | null;
  readonly key1: string | null;
  readonly key2: string | null;
  readonly hash0: number;
  readonly hash1: number;
  readonly hash2: number;
  /** How many of `keys` hold across organizations (R14): on another organization's item only these count. */
  readonly acrossCount: number;
  /** {@link keyBits} of `keys`: a grant index none of whose bits are here holds no grant under them. */
  readonly keyBits: number;
  /** {@link keyBits} of the first `acrossCount` keys. */
  readonly acrossKeyBits: number;
  /** {@link keyBits} of the keys after the first three (a user's groups and sites), those not inline. */
  readonly restKeyBits: number;
  /** The groups of its membership (users; empty otherwise). */
  readonly groups: ReadonlySet<string>;
  /** The sites of its membership (users; empty otherwise). */
  readonly sites: ReadonlySet<string>;
  /** R17: the token's restriction, compiled; `null` for a full-access token. Never anything about the subject. */
  readonly restriction: CompiledRestriction | null;
}

/**
 * A token's restriction compiled for decisions (`compileRestriction`): sets and a rank, so
 * that a restricted decision does no work proportional to the restriction. Immutable.
 */
export interface CompiledRestriction {
  /** Only these permissions; `null`: any the subject holds. */
  readonly permissions: ReadonlySet<string> | null;
  /** The highest level any grant counts at (1 view, 2 edit; 3 when no `maxLevel`). */
  readonly maxRank: number;
  /** Only items of these types; `null`: any type. */
  readonly itemTypes: ReadonlySet<string> | null;
  /** Whether grants are narrowed by grantee or item (any of `groupIds`, `siteIds`, `items` given). */
  readonly scoped: boolean;
  readonly groups: ReadonlySet<string>;
  readonly sites: ReadonlySet<string>;
  /** The listed items, as `itemKeyOf` keys. */
  readonly items: ReadonlySet<string>;
}

/** A share or an access rule compiled for decisions (`compileShare`, `compileRule`). Immutable. */
export interface CompiledGrant {
  readonly source: "share" | "rule";
  readonly id: string;
  /** The level as a small integer: 1 view, 2 edit, 3 delete (R13). */
  readonly rank: number;
  /** Position among the grants of its kind: of equal levels the first one names the grant. */
  readonly order: number;
  /** The organization of the shared item, or of the rule. */
  readonly orgId: string;
  readonly itemType: string;
  /** A share's item id; `null` for a rule. */
  readonly itemId: string | null;
  /** A rule's conditions; `null` for a share. */
  readonly conditions: Readonly<Record<string, readonly string[]>> | null;
  /** Whom it grants to (what a restricted token's decision reads, R17). */
  readonly grantee: Grantee;
  /** For a site grantee, the site's path (root … site); `null` otherwise (R17: a restriction to a site covers the sites below it). */
  readonly sitePath: readonly string[] | null;
  /** What a decision names for it on an item of the token's own organization (frozen). */
  readonly ref: GrantRef;
  /** The same on another organization's item (`crossOrg: true`, frozen). */
  readonly crossRef: GrantRef;
}

/** Compiled grants by grantee key (`indexGrants`): a grant is listed under each of its `grantKeys`. Immutable. */
export interface GrantIndex {
  readonly byKey: ReadonlyMap<string, readonly CompiledGrant[]>;
  /**
   * A 32-bit summary of the keys of `byKey` (`keyBits`): one bit per key. A decision whose subject shares no
   * bit with it skips the index without a lookup.
   */
  readonly bits: number;
  /**
   * Every grant with a key it is filed under, flat, as (`keyHash(key)`, `key`, grant) triples: a
   * decision on a small index walks these, comparing small integers, and reads a key or a grant
   * only when the subject holds a key of the same hash.
   */
  readonly entries: readonly (number | string | CompiledGrant)[];
}

/**
 * Everything one decision needs, read from the store in one call (one SQL round trip), compiled:
 * the token, its subject (as loaded and compiled), and the grants that could apply to the item,
 * indexed by grantee key. `decide()` reads only the grants under the subject's keys, so its work
 * never depends on the item's other grants.
 */
export interface DecisionInput {
  /** The token (an immutable snapshot). */
  token: TokenRecord;
  /** The subject as loaded (for events and reviews); decisions read {@link compiled}. */
  subject: LoadedSubject;
  compiled: CompiledSubject;
  /** The item's shares (those whose grantee could include the subject, or more). Empty without an item. */
  shares: GrantIndex;
  /** The access rules of the item's organization for its type. Empty without an item. */
  rules: GrantIndex;
  /**
   * The store's time of this read, in epoch milliseconds, when the store has a clock of its own
   * (PostgreSQL: the database's, read in the same statement). The decision is made at this time
   * unless `createKeyward` was given a `clock`.
   */
  now?: number;
}

/** What names the token and its subject in a decision's or a list filter's input: what every stage after the read needs. */
export type LoadedToken = Pick<DecisionInput, "token" | "subject" | "compiled" | "now">;

/** The fields every token lifecycle event has (R16). */
export interface TokenEventFields {
  at: number;
  tokenId: string;
  orgId: string;
  subject: SubjectRef;
  tokenName: string;
  /** Who did it (a user id), when someone did. */
  actorId?: string | null;
}

/** Activity events (R16). Every event names the subject and the token id, never the secret. */
export type KeywardEvent =
  | (TokenEventFields & { type: "token.created" })
  | (TokenEventFields & { type: "token.deleted" })
  | (TokenEventFields & {
      /** R18: the token's secret was rotated (`tokens.rotate()`); same token id, a new secret. */
      type: "token.rotated";
      /** Until when the previous secret still works; `null` when it stopped at once (no grace). */
      graceUntil: number | null;
    })
  | (TokenEventFields & {
      /**
       * R18: a request authenticated with a rotated token's previous secret, during the grace
       * period: an integration has not switched yet. At most once per token per hour on each
       * instance.
       */
      type: "token.previous_secret_used";
      /** Until when the previous secret works. */
      graceUntil: number;
      /** The client making the request, when the host (the middleware) named it. */
      client?: { ip: string | null; userAgent: string | null };
    })
  | (TokenEventFields & {
      type: "token.expired";
      /** Inactivity (R6), the token's date or its organization's lifetime policy (R19), or the subject's deactivation or departure (R7). */
      cause?: ExpiryCause | "subject_inactive";
    })
  | (TokenEventFields & {
      /**
       * R20: the token will expire soon: sent by `tokens.sweep()` once per token per threshold
       * per deadline (the smallest threshold reached; a user token used since has a new deadline,
       * and its warnings start again). Tell its owner.
       */
      type: "token.expiring";
      /** Why it will expire: inactivity (R6), its date or its organization's lifetime policy (R19). */
      cause: "inactivity" | "date" | "policy";
      /** When it will expire (epoch ms). */
      expiresAt: number;
      /** The threshold reached: the expiry is at most this many ms away. */
      thresholdMs: number;
    })
  | {
      /**
       * R20: a deactivation (`deactivated`), departure (`left`) or service-user deletion
       * (`deleted`) ended tokens: one notice listing every token that was active just before.
       * Not sent when it ended none.
       */
      type: "subject.tokens_ended";
      at: number;
      orgId: string;
      subject: SubjectRef;
      /** Who did it, when the call named someone. */
      actorId: string | null;
      cause: "deactivated" | "left" | "deleted";
      tokens: EndedToken[];
    }
  | (TokenEventFields & {
      type: "token.revoked";
      /** `"leaked"` when a leak report revoked it (R22; `actorId` is then `null`); absent for `tokens.revoke()`. */
      cause?: RevocationCause;
    })
  | (TokenEventFields & {
      /**
       * A real token's secret was reported as leaked (R22): tell its owner. Emitted for every
       * matching token, whether this report revoked it (`revoked: true`, after its
       * `token.revoked` event with cause `leaked`) or it was already revoked or deleted.
       */
      type: "token.leaked";
      /** Where it was found (never the secret). */
      found: LeakLocation;
      /** Whether this report revoked it; `false` when it was already revoked or deleted. */
      revoked: boolean;
    })
  | {
      type: "authorization";
      at: number;
      outcome: "allowed" | "denied";
      reason: Decision["reason"];
      action: string;
      item?: { orgId: string; type: string; id: string };
      /** For a list filter (`accessible()`): the item type listed; there is no `item` then. */
      itemType?: string;
      tokenId?: string;
      orgId?: string;
      subject?: SubjectRef;
      grant?: GrantRef;
      /** Added by middleware: request method and path (without query). */
      request?: { method: string; path: string };
    }
  | {
      /**
       * R21: the rate limiter's store failed for this request. `fallback` says what happened
       * instead: `fail_closed` (the request was refused, 503 `unavailable`) or `insurance` (an
       * in-process limiter counted it). Never a silent allow.
       */
      type: "rate_limit.store_failed";
      at: number;
      fallback: "fail_closed" | "insurance";
      /** The policy's name. */
      policy: string;
      action: string;
      tokenId: string;
      orgId: string;
      subject: SubjectRef;
      /** The failure's name or code (`ECONNREFUSED`, `timeout`…), never its message (which may hold a connection string). */
      error: string;
    }
  | {
      /**
       * A token whose stored kind differs from the kind its prefix names: the store
       * was written by something other than keyward, or tampered with. The request is denied as
       * `token_unknown`. Names the stored token, never the secret.
       */
      type: "token.integrity";
      at: number;
      tokenId: string;
      orgId: string;
      /** The kind the presented token's prefix names. */
      presentedKind: SubjectKind;
      /** The kind stored for the token with that digest. */
      storedKind: SubjectKind;
    }
  | {
      /**
       * A management call refused with `forbidden`, `not_found` or `invalid_input`:
       * who tried what. Never the input itself (no password, no token).
       */
      type: "management.refused";
      at: number;
      /** The acting user as the call named it (`actorId`, or `userId` for `tokens.createUserToken`), when it was a string of at most 200 characters. */
      actorId: string | null;
      /** The organization the call named, under the same condition. */
      orgId: string | null;
      /** The method: `tokens.revoke`, `serviceUsers.create`, … */
      operation: string;
      code: "forbidden" | "not_found" | "invalid_input";
      /** The input field concerned, when the error names one. */
      field?: string;
    }
  | {
      type: "login";
      at: number;
      outcome: "allowed" | "denied";
      reason: string;
      tokenId?: string;
      orgId?: string;
      subject?: SubjectRef;
    };
