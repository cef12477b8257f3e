/**
 * `createKeyward()`: the service. It orchestrates and holds no rule of its own: parsing and
 * hashing (`core/token-format`, `core/secret`), one store read, the pure decision
 * (`core/decide`), then the coalesced use record and the activity event.
 * @module
 */
import type { AccessDecision, AllowedAccess } from "./core/access.js";
import type { ActionDefinition, Decision, ItemRef } from "./core/types.js";
import { accessible, assertAccessible, previewReach, reach, type TokenReach } from "./service/access.js";
import { assertAuthorized, authorize, login, type AuthorizeOptions, type Session } from "./service/authorize.js";
import { audited, createContext, type Context, type KeywardOptions } from "./service/context.js";
import { directory, serviceUsers } from "./service/directory.js";
import { reportLeak, type LeakResult } from "./service/leaks.js";
import type { TelemetryAttributes } from "./service/telemetry.js";
import { isForbidden, KeywardError } from "./core/errors.js";
import type {
  ActorInput,
  CreateServiceTokenInput,
  PreviewReachInput,
  CreateUserTokenInput,
  KeywardLimits,
  ListMyTokensInput,
  ListOrganizationTokensInput,
  ListServiceTokensInput,
  ManagementRights,
  ReportLeakInput,
  RotateTokenInput,
  SweepExpiredInput,
  TokenActionInput,
} from "./service/inputs.js";
import type { Page } from "./service/paging.js";
import type { KeywardStore } from "./storage/types.js";
import type { TokenView } from "./core/types.js";
import type { CreatedToken, SweepResult } from "./service/tokens.js";
import * as tokens from "./service/tokens.js";
import { managementProfile, managementRights, tokenBelongsTo, type ManagementProfile, type TokenBelongsToInput } from "./service/management.js";

/**
 * Creates a keyward instance over a store.
 *
 * @example
 * ```ts
 * import { createKeyward } from "keyward";
 * import { memoryStore } from "keyward/memory";
 *
 * const kw = createKeyward({
 *   store: memoryStore(),
 *   actions: {
 *     "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
 *     "users.manage": { permission: "users:manage" },
 *   },
 *   verifyPassword: (userId, password) => myAuth.check(userId, password),
 *   onEvent: (e) => auditLog.write(e),
 * });
 * const d = await kw.authorize(token, "inspections.view", { orgId: "acme", type: "inspection", id: "insp_1" });
 * ```
 */
export function createKeyward<A extends string>(options: KeywardOptions<A>) {
  const ctx = createContext(options as KeywardOptions);
  const t = ctx.telemetry;
  /** A token mutation, in a span when there is a tracer. */
  const traced = <R>(operation: string, attributes: TelemetryAttributes, run: () => Promise<R>, describe?: (r: R) => TelemetryAttributes): Promise<R> =>
    t === null ? run() : t.mutation(operation, attributes, run, describe);
  const kw = {
    /**
     * May this token perform this action on this item? Resolves to a {@link Decision} whose
     * reason is one of R15's, checked in order. Throws only `invalid_input` (a malformed item
     * or action) or `unavailable` (the store failed): never an allow on failure.
     * @example `const d = await kw.authorize(token, "inspections.edit", { orgId, type: "inspection", id })`
     */
    authorize: (token: unknown, action: A, item?: ItemRef | null, opts?: AuthorizeOptions): Promise<Decision> => authorize(ctx, token, action, item, opts),
    /**
     * The throwing form of {@link authorize}: resolves to the allowed decision or throws a
     * `KeywardError` whose code is the denial's reason, carrying the action and item.
     * @example `const { subject } = await kw.assertAuthorized(token, "templates.view", item)`
     */
    assertAuthorized: (token: unknown, action: A, item?: ItemRef | null, opts?: AuthorizeOptions) => assertAuthorized(ctx, token, action, item, opts),
    /**
     * What can this token reach? The filter of the items of `itemType` its subject may act on
     * with `action` (an item action on that type), or the same refusal `authorize()` gives the
     * token for that action (R15: token reasons, then `permission_denied`). The filter matches
     * an item exactly when `authorize()` allows it; use `filter.matches` on an in-memory list or
     * `filter.toSql({ columns })` in your own query. Compute it per request: it is a snapshot.
     * @example
     * ```ts
     * const access = await kw.accessible(token, "inspections.view", "inspection");
     * if (!access.allowed) return deny(access.reason);
     * const visible = inspections.filter(access.filter.matches);
     * ```
     */
    accessible: (token: unknown, action: A, itemType: string, opts?: AuthorizeOptions): Promise<AccessDecision> => accessible(ctx, token, action, itemType, opts),
    /**
     * The throwing form of {@link accessible}: resolves to the allowed answer (with its filter) or
     * throws a `KeywardError` whose code is the refusal's reason, carrying the action.
     * @example `const { filter } = await kw.assertAccessible(token, "inspections.view", "inspection")`
     */
    assertAccessible: (token: unknown, action: A, itemType: string, opts?: AuthorizeOptions): Promise<AllowedAccess> => assertAccessible(ctx, token, action, itemType, opts),
    /**
     * Logs in with a user token (R10). A service user token throws `login_not_allowed` (R9); a
     * token that does not authenticate throws with its reason as the code.
     * @example `const session = await kw.login(token) // { subject, orgId, tokenId }`
     */
    login: (token: unknown): Promise<Session> => login(ctx, token),
    /** Token management (R3–R11). */
    tokens: {
      /** Creates a user token for a member; checks the password unless the organization is SSO-only (R3, R4, R5). The secret is returned once. @example `const { token, record } = await kw.tokens.createUserToken({ orgId, userId, name: "CI", password })` */
      createUserToken: audited(ctx, "tokens.createUserToken", (input: CreateUserTokenInput): Promise<CreatedToken> => traced("createUserToken", {}, () => tokens.createUserToken(ctx, input), describeCreated)),
      /** Creates a service user token; the actor needs `service_users:manage` (R3, R8, R11). @example `const { token } = await kw.tokens.createServiceToken({ orgId, serviceUserId, name: "BI", actorId: admin })` */
      createServiceToken: audited(ctx, "tokens.createServiceToken", (input: CreateServiceTokenInput): Promise<CreatedToken> => traced("createServiceToken", {}, () => tokens.createServiceToken(ctx, input), describeCreated)),
      /** A user's own tokens in one organization, without secrets (R5, R10). @example `const mine = await kw.tokens.listMine({ orgId, userId })` */
      listMine: (input: ListMyTokensInput): Promise<Page<TokenView>> => tokens.listMine(ctx, input),
      /** Every user token of the organization; the actor needs `api_tokens:manage` (R11). @example `const all = await kw.tokens.listOrganization({ orgId, actorId: admin })` */
      listOrganization: audited(ctx, "tokens.listOrganization", (input: ListOrganizationTokensInput): Promise<Page<TokenView>> => tokens.listOrganization(ctx, input)),
      /** Every service user token of the organization; the actor needs `service_users:manage` (R11). @example `const bots = await kw.tokens.listServiceTokens({ orgId, actorId: admin })` */
      listServiceTokens: audited(ctx, "tokens.listServiceTokens", (input: ListServiceTokensInput): Promise<Page<TokenView>> => tokens.listServiceTokens(ctx, input)),
      /** Revokes a token: a user their own, a service-user manager a service token (R11). Effective for the next request. @example `await kw.tokens.revoke({ orgId, tokenId, actorId: userId })` */
      revoke: audited(ctx, "tokens.revoke", (input: TokenActionInput): Promise<void> => traced("revoke", tokenIdOf(input), () => tokens.revoke(ctx, input))),
      /**
       * Rotates a token's secret (R18): a new secret for the same token id, with the rights of
       * `revoke` and the password of creation (R4). The previous secret keeps working for
       * `graceMs` (default 0, at most `rotation.maxGraceMs`), never past the token's expiry.
       * The loser of concurrent rotations throws `conflict`. The new secret is returned once.
       * @example `const { token } = await kw.tokens.rotate({ orgId, tokenId, actorId: admin, graceMs: 86_400_000 })`
       */
      rotate: audited(ctx, "tokens.rotate", (input: RotateTokenInput): Promise<CreatedToken> => traced("rotate", tokenIdOf(input), () => tokens.rotate(ctx, input), describeCreated)),
      /** Deletes any user token of the organization as an administrator, or a service token as a service-user manager (R11). @example `await kw.tokens.delete({ orgId, tokenId, actorId: admin })` */
      delete: audited(ctx, "tokens.delete", (input: TokenActionInput): Promise<void> => traced("delete", tokenIdOf(input), () => tokens.deleteToken(ctx, input))),
      /** Records and announces (R16) the inactivity expiry of tokens nobody presented since they expired; run it periodically. @example `setInterval(() => kw.tokens.sweepExpired({ orgId }), 3_600_000)` */
      /**
       * One pass over the organization's tokens (R6, R19, R20): records and announces
       * (`token.expired`) the expiry of tokens nobody presented since they expired, and warns
       * (`token.expiring`) once per token per threshold per deadline before a token expires. Safe
       * to run from several instances at once: each event is sent once. Run it periodically.
       * @example `setInterval(() => kw.tokens.sweep({ orgId }), 3_600_000) // { expired: 0, warned: 2 }`
       */
      sweep: (input: SweepExpiredInput): Promise<SweepResult> => traced("sweep", {}, () => tokens.sweep(ctx, input), (r) => ({ "keyward.tokens.count": r.expired + r.warned })),
      /** {@link sweep}'s `expired` count alone (it warns too). @example `setInterval(() => kw.tokens.sweepExpired({ orgId }), 3_600_000)` */
      sweepExpired: (input: SweepExpiredInput): Promise<number> => traced("sweepExpired", {}, () => tokens.sweepExpired(ctx, input), (n) => ({ "keyward.tokens.count": n })),
      /**
       * Everything a token can reach, without its secret: its subject, whether it works, its
       * permissions and actions, and per item type the shares and rules it can use (R11–R14).
       * The actor is the token's own user, or manages tokens (user tokens) or service users
       * (service tokens). Works before the token is first used and after; changes nothing.
       * @example `const { actions, itemTypes } = await kw.tokens.reach({ orgId, tokenId, actorId: admin })`
       */
      /**
       * Whether a token id names a token of the organization, of this kind (and subject), that is
       * not deleted. Reads only; no permission is checked (a host-side check, like `directory`).
       * @example `if (!(await kw.tokens.belongsTo({ orgId, tokenId, kind: "service_user", subjectId: botId }))) return notFound()`
       */
      belongsTo: (input: TokenBelongsToInput): Promise<boolean> => tokenBelongsTo(ctx, input),
            reach: audited(ctx, "tokens.reach", (input: TokenActionInput): Promise<TokenReach> => reach(ctx, input)),
      /**
       * R17: what a token of this subject with this restriction would reach now, before it exists
       * (the same answer as `reach`, for a made-up token: its view has an empty id). The actor
       * needs the rights creating such a token needs; the restriction is checked as creation
       * checks it (`permission_not_held`, `invalid_input`). Reads only.
       * @example `const preview = await kw.tokens.previewReach({ orgId, actorId: userId, subject: { kind: "user", id: userId }, restriction: { maxLevel: "view" } })`
       */
      previewReach: audited(ctx, "tokens.previewReach", (input: PreviewReachInput): Promise<TokenReach> => previewReach(ctx, input)),
      /**
       * Reports a leaked secret from any scanner (R22): a real token is revoked at once with the
       * cause `leaked` and `token.revoked` + `token.leaked` events tell its owner; a string that
       * is not a well-formed token with a valid checksum is discarded without a store read
       * (`outcome: "malformed"`, not an error). Never returns or emits the secret.
       * @example `const { outcome } = await kw.tokens.reportLeak({ secret: found, found: { source: "pastebin-scanner", url: "https://…" } })`
       */
      reportLeak: (input: ReportLeakInput): Promise<LeakResult> => traced("reportLeak", {}, () => reportLeak(ctx, input), describeLeak),
    },
    /** The directory: organizations, users, memberships, permission sets, groups, sites, shares, rules. */
    directory: directory(ctx),
    /** Service users (R1, R8, R9, R11). A refused call emits `management.refused`. */
    serviceUsers: auditedServiceUsers(ctx),
    /**
     * Which management permissions an actor holds in an organization, without refusing (no
     * `management.refused` event): what a page may offer them (R11, R12).
     * @example `const { manageTokens } = await kw.managementRights({ orgId, actorId: userId })`
     */
    managementRights: (input: ActorInput): Promise<ManagementRights> => managementRights(ctx, input),
    /**
     * The signed-in user, their organization and their management rights, for a management page
     * (`not_found` when either does not exist); refuses nothing.
     * @example `const { user, organization, can } = await kw.managementProfile({ orgId, actorId: userId })`
     */
    managementProfile: (input: ActorInput): Promise<ManagementProfile> => managementProfile(ctx, input),
    /** The token prefixes in use (frozen): what a secret scanner's pattern needs (`tokenPattern(kw.prefixes)`). @example `tokenPattern(kw.prefixes)` */
    prefixes: ctx.prefixes,
    /** The R3 limits in force (active user tokens per user per organization, active service tokens per organization). @example `kw.limits.userTokensPerUser // 10` */
    limits: Object.freeze({ ...ctx.limits }) as Readonly<KeywardLimits>,
    /** R18: the rotation settings in force: the longest grace period `tokens.rotate()` accepts (what a page offers). @example `kw.rotation.maxGraceMs // 604800000` */
    rotation: Object.freeze({ maxGraceMs: ctx.maxGraceMs }) as Readonly<{ maxGraceMs: number }>,
    /** The declared actions (frozen), e.g. for middleware that checks its routes at start-up. @example `kw.actions.get("inspections.view")?.item // "inspection"` */
    actions: ctx.actions as ReadonlyMap<A, Readonly<ActionDefinition>>,
    /**
     * Brings the store's schema up to date, for a store that has one (`postgresStore()`): resolves
     * to the migrations it applied, `[]` when there was nothing to do or the store keeps no
     * schema (`memoryStore()`). Safe to run from several processes at once. A failure rejects with
     * the store's own error (a migration is an operator's task: the cause matters).
     * @example `await kw.migrate() // [1, 2, 3, 4, 5] on a fresh database, [] afterwards`
     */
    migrate: async (): Promise<number[]> => {
      const store = options.store as KeywardStore & { migrate?: () => Promise<readonly number[]> };
      return typeof store.migrate === "function" ? [...(await store.migrate())] : [];
    },
    /** Closes the store (its connections, its listeners). @example `await kw.close()` */
    close: (): Promise<void> => options.store.close(),
  };
  return kw;
}

function auditedServiceUsers(ctx: Context) {
  const su = serviceUsers(ctx);
  return {
    create: audited(ctx, "serviceUsers.create", su.create),
    update: audited(ctx, "serviceUsers.update", su.update),
    remove: audited(ctx, "serviceUsers.remove", su.remove),
    previewRemoval: audited(ctx, "serviceUsers.previewRemoval", su.previewRemoval),
    list: audited(ctx, "serviceUsers.list", su.list),
  };
}

// ── what telemetry says about a call (never the secret, never the digest) ──

function describeCreated(c: CreatedToken): TelemetryAttributes {
  return { "keyward.subject.kind": c.record.kind, "keyward.token.id": c.record.id, "keyward.org.id": c.record.orgId };
}

function tokenIdOf(input: unknown): TelemetryAttributes {
  const id = (input as { tokenId?: unknown } | null)?.tokenId;
  return typeof id === "string" && id.length <= 200 ? { "keyward.token.id": id } : {};
}

function describeLeak(r: LeakResult): TelemetryAttributes {
  const a: TelemetryAttributes = { "keyward.outcome": r.outcome };
  if (r.subject !== undefined) a["keyward.subject.kind"] = r.subject.kind;
  if (r.tokenId !== undefined) a["keyward.token.id"] = r.tokenId;
  if (r.orgId !== undefined) a["keyward.org.id"] = r.orgId;
  return a;
}

/** A keyward instance. */
export type Keyward<A extends string = string> = ReturnType<typeof createKeyward<A>>;
