/**
 * The resolved configuration and the small shared pieces of the service: clock, ids, events,
 * store calls that fail closed.
 * @module
 */
import { customAlphabet } from "nanoid";
import { z } from "zod";
import { KeywardError, storeFailure } from "../core/errors.js";
import { DEFAULT_INACTIVITY_MS, DEFAULT_TRACKED_CLIENTS, DEFAULT_WARNING_THRESHOLDS_MS } from "../core/lifecycle.js";
import { digestWords, type DigestWords } from "../core/digest-words.js";
import { tokenHasher, type TokenHasher } from "../core/secret.js";
import { DEFAULT_PREFIXES, isValidPrefix, tokenParser, type TokenParser, type TokenPrefixes } from "../core/token-format.js";
import type { ActionDefinition, KeywardEvent } from "../core/types.js";
import { ownReadsOf, type OwnReads } from "../storage/own-reads.js";
import type { AuthorizeCall } from "./authorize.js";
import type { KeywardStore } from "../storage/types.js";
import { parseConfig } from "./schemas.js";
import { createTelemetry, type Telemetry, type TelemetryOptions } from "./telemetry.js";
import { reauthThrottle, reauthThrottleSchema, type ReauthThrottle, type ReauthThrottleOption } from "./throttle.js";

/** Options of `createKeyward()`. Only `store` and `actions` matter for a first run; the rest have the defaults of the rules. */
export interface KeywardOptions<A extends string = string> {
  /** Where tokens and the directory live. `memoryStore()` for one process, `postgresStore()` for several. */
  store: KeywardStore;
  /** The host's actions: a permission, and for item actions an access level on an item type. */
  actions: Readonly<Record<A, ActionDefinition>>;
  /** R4: checks a user's password before a user token is created (unless the organization is SSO-only). */
  verifyPassword?: (userId: string, password: string) => boolean | Promise<boolean>;
  /** R16: receives every activity event. Never given a secret. Errors it throws go to `onEventError`. */
  onEvent?: (event: KeywardEvent) => void;
  /** Called when `onEvent` throws. Default: ignore (an audit sink must not break authorization). */
  onEventError?: (error: unknown, event: KeywardEvent) => void;
  /** R3 limits. Defaults: 10 active user tokens per user per organization, 20 active service tokens per organization. */
  limits?: { userTokensPerUser?: number; serviceTokensPerOrg?: number };
  /** R6 inactivity window in milliseconds. Default: 30 days. */
  inactivityMs?: number;
  /** Token prefixes naming each kind. Default: `kwu` (user) and `kws` (service user). */
  prefixes?: Partial<TokenPrefixes>;
  /** Server-side secret keying the stored digest (HMAC-SHA-256). Changing it invalidates every token. */
  pepper?: string | Uint8Array;
  /** The clock, in epoch milliseconds. Default `Date.now`. Time never runs backwards for keyward: a step back is ignored. */
  clock?: () => number;
  /** Names of the management permissions (R11, R12). */
  permissions?: { manageTokens?: string; manageServiceUsers?: string };
  /**
   * R4: wrong passwords allowed per organization and user before `createUserToken` refuses
   * without asking `verifyPassword` (`reauthentication_failed` with `retryAfterMs`). Default
   * `{ attempts: 5, windowMs: 900_000 }` in this process; `{ limiter }` takes a rate-limiter-flexible
   * limiter of yours (its `points` and `duration`), e.g. a `RateLimiterPostgres` shared by every
   * instance; `false` turns it off.
   */
  reauthThrottle?: ReauthThrottleOption;
  /**
   * OpenTelemetry: a `Tracer` (`trace.getTracer("keyward")`) for spans and/or a `Meter`
   * (`metrics.getMeter("keyward")`) for metrics, from `@opentelemetry/api` (an optional peer
   * dependency keyward never imports itself). Default: none, and no telemetry code runs.
   */
  telemetry?: TelemetryOptions;
  /**
   * R18: `maxGraceMs`, the longest grace period `tokens.rotate()` accepts for a previous secret
   * (an integer of milliseconds, 0 or more). Default 7 days.
   */
  rotation?: { maxGraceMs?: number };
  /**
   * R20: when `tokens.sweep()` warns before a token expires (`token.expiring`): `thresholdsMs`,
   * each a positive number of milliseconds before the token's effective expiry. Default 14, 3
   * and 1 days; `[]` sends no warnings.
   */
  warnings?: { thresholdsMs?: readonly number[] };
  /**
   * Opt-in: keep the last distinct clients (address and user agent, as `AuthorizeOptions.client`
   * gives them; the middleware passes the request's) of each token, written with its last use (no
   * extra write), shown in listings (`TokenView.clients`) and previews. `true` keeps 5; `{ max }`
   * up to 50. Default off: an address is personal data.
   */
  trackClients?: boolean | { max?: number };
}

/** R18: the longest grace period of a rotation by default, 7 days. */
export const DEFAULT_MAX_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

/** Default names of the management permissions. */
export const DEFAULT_MANAGEMENT_PERMISSIONS = {
  manageTokens: "api_tokens:manage",
  manageServiceUsers: "service_users:manage",
} as const;

const actionSchema = z
  .object({
    permission: z.string().min(1).max(200),
    access: z.enum(["view", "edit", "delete"]).optional(),
    item: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((a) => (a.access === undefined) === (a.item === undefined), {
    message: "an item action needs both `access` and `item`; an organization-level action neither",
  });

const optionsSchema = z.object({
  store: z.custom<KeywardStore>((s) => typeof s === "object" && s !== null && typeof (s as KeywardStore).loadDecision === "function", "expected a keyward store"),
  actions: z.record(z.string().min(1).max(200), actionSchema),
  limits: z.object({ userTokensPerUser: z.number().int().min(1).max(10_000).optional(), serviceTokensPerOrg: z.number().int().min(1).max(10_000).optional() }).optional(),
  inactivityMs: z.number().int().min(1).optional(),
  prefixes: z.object({ user: z.string().optional(), service_user: z.string().optional() }).optional(),
  permissions: z.object({ manageTokens: z.string().min(1).optional(), manageServiceUsers: z.string().min(1).optional() }).optional(),
  reauthThrottle: z.union([z.literal(false), z.object({}).passthrough()]).optional(),
  rotation: z.object({ maxGraceMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }).strict().optional(),
  warnings: z.object({ thresholdsMs: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(20).optional() }).strict().optional(),
  trackClients: z.union([z.boolean(), z.object({ max: z.number().int().min(1).max(50).optional() }).strict()]).optional(),
  telemetry: z
    .object({
      tracer: z.custom<TelemetryOptions["tracer"]>((t) => typeof (t as { startActiveSpan?: unknown } | null)?.startActiveSpan === "function", "expected an OpenTelemetry Tracer").optional(),
      meter: z
        .custom<TelemetryOptions["meter"]>((m) => {
          const x = m as Record<string, unknown> | null;
          return typeof x?.createCounter === "function" && typeof x.createHistogram === "function" && typeof x.createObservableCounter === "function";
        }, "expected an OpenTelemetry Meter")
        .optional(),
    })
    .optional(),
});

/** The resolved configuration and shared helpers. Internal. */
export interface Context {
  /** The host's store, with its reads timed when a meter is given. */
  store: KeywardStore;
  /** The store's synchronous reads, when it has them and they are its own (`sync.store === store`); else `null`. */
  sync: OwnReads | null;
  /** The instruments, or `null` without a tracer and a meter. */
  telemetry: Telemetry | null;
  actions: ReadonlyMap<string, ActionDefinition>;
  verifyPassword: KeywardOptions["verifyPassword"];
  /** R4's throttle of password attempts; `null` when turned off. */
  reauth: ReauthThrottle | null;
  limits: { userTokensPerUser: number; serviceTokensPerOrg: number };
  inactivityMs: number;
  /** R20: the warning thresholds (ms before the effective expiry), largest first, distinct. */
  warningThresholdsMs: readonly number[];
  /** Opt-in client tracking: how many clients a token keeps; `null` when off. */
  trackClients: { max: number } | null;
  prefixes: TokenPrefixes;
  parse: TokenParser;
  hash: TokenHasher;
  /** `hash`'s digest as words, written into {@link Context.digestOut}: for a store that finds digests by their words (`sync.findDigest`). */
  digestWords: DigestWords;
  /** The words of the digest being looked up (filled in by every call, read before anything waits). */
  digestOut: Int32Array;
  permissions: { manageTokens: string; manageServiceUsers: string };
  /** Whether `createKeyward` was given a `clock` (tests): then it wins over any store's clock. */
  clockInjected: boolean;
  /**
   * Monotonic now: never earlier than a time already handed out. `storeNow` is the time a store
   * read carried (`DecisionInput.now`, the database's clock): it is used as is, unless a clock
   * was injected (tests), which always wins.
   */
  now(storeNow?: number): number;
  newId(prefix: string): string;
  /** R18: the longest grace period `tokens.rotate()` accepts (ms). */
  maxGraceMs: number;
  /** R18: token id → when this instance last emitted `token.previous_secret_used` for it. */
  previousSecretEvents: Map<string, number>;
  /**
   * The one call object `authorize()` fills in for the pipeline, or `null` while a call is using
   * it (an event sink that calls `authorize()` again gets an object of its own). The pipeline
   * copies it before any wait, so it is free again when `runPipeline` returns.
   */
  spareCall: AuthorizeCall | null;
  /** Emits an event to the host's sink, if any. */
  emit(event: KeywardEvent): void;
  hasSink: boolean;
  /** Runs a store call; a failure of the store becomes `unavailable` (fail closed). */
  call<T>(f: () => Promise<T>): Promise<T>;
}

const REFUSED = new Set(["forbidden", "not_found", "invalid_input"]);

/** A string of the input worth naming in an audit event (an id), or null. */
function named(input: unknown, key: string): string | null {
  const v = typeof input === "object" && input !== null ? (input as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" && v.length > 0 && v.length <= 200 ? v : null;
}

/**
 * Wraps a management call so that a refusal (`forbidden`, `not_found`, `invalid_input`) emits
 * `management.refused` naming the actor, the operation and the code, then rethrows. The event
 * holds ids only, never the input (a password, a token).
 */
export function audited<I, R>(ctx: Context, operation: string, f: (input: I) => Promise<R>): (input: I) => Promise<R> {
  return async (input) => {
    try {
      return await f(input);
    } catch (e) {
      if (e instanceof KeywardError && REFUSED.has(e.code)) {
        ctx.emit({
          type: "management.refused",
          at: ctx.now(),
          actorId: named(input, "actorId") ?? named(input, "userId"),
          orgId: named(input, "orgId"),
          operation,
          code: e.code as "forbidden" | "not_found" | "invalid_input",
          ...(e.field === undefined ? {} : { field: e.field }),
        });
      }
      throw e;
    }
  };
}

/** The resolved `trackClients` option. */
function trackedClients(option: KeywardOptions["trackClients"]): { max: number } | null {
  if (option === undefined || option === false) return null;
  return { max: option === true ? DEFAULT_TRACKED_CLIENTS : (option.max ?? DEFAULT_TRACKED_CLIENTS) };
}

const nano = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 16);

/** Resolves and validates the options (`invalid_config` naming the field). */
export function createContext(options: KeywardOptions): Context {
  parseConfig(optionsSchema, options);
  if (options.reauthThrottle) parseConfig(reauthThrottleSchema, options.reauthThrottle, "options.reauthThrottle");
  const prefixes: TokenPrefixes = Object.freeze({ ...DEFAULT_PREFIXES, ...options.prefixes });
  if (!isValidPrefix(prefixes.user) || !isValidPrefix(prefixes.service_user) || prefixes.user === prefixes.service_user) {
    throw new KeywardError("invalid_config", "Token prefixes must be 2–16 lowercase letters or digits, start with a letter, and differ per kind.", { field: "options.prefixes" });
  }
  const actions = new Map<string, ActionDefinition>();
  for (const [name, def] of Object.entries(options.actions)) actions.set(name, Object.freeze({ ...(def as ActionDefinition) }));
  const clock = options.clock ?? Date.now;
  const injected = options.clock !== undefined;
  if (injected) options.store.useClock?.(clock);
  let high = -Infinity;
  const sink = options.onEvent;
  const onEventError = options.onEventError;
  const telemetry = createTelemetry(options.telemetry);
  const store = telemetry === null ? options.store : telemetry.store(options.store);
  return {
    store,
    sync: store.sync !== undefined && store.sync.store === store ? ownReadsOf(store.sync) : null,
    telemetry,
    actions,
    verifyPassword: options.verifyPassword,
    reauth: reauthThrottle(options.reauthThrottle),
    limits: {
      userTokensPerUser: options.limits?.userTokensPerUser ?? 10,
      serviceTokensPerOrg: options.limits?.serviceTokensPerOrg ?? 20,
    },
    inactivityMs: options.inactivityMs ?? DEFAULT_INACTIVITY_MS,
    warningThresholdsMs: Object.freeze([...new Set(options.warnings?.thresholdsMs ?? DEFAULT_WARNING_THRESHOLDS_MS)].sort((a, b) => b - a)),
    trackClients: trackedClients(options.trackClients),
    prefixes,
    parse: tokenParser(prefixes),
    hash: tokenHasher(options.pepper),
    digestWords: digestWords(options.pepper),
    digestOut: new Int32Array(8),
    permissions: { ...DEFAULT_MANAGEMENT_PERMISSIONS, ...options.permissions },
    clockInjected: injected,
    now(storeNow) {
      if (storeNow !== undefined && !injected) return storeNow;
      const t = clock();
      if (t > high) high = t;
      return high;
    },
    maxGraceMs: options.rotation?.maxGraceMs ?? DEFAULT_MAX_GRACE_MS,
    previousSecretEvents: new Map(),
    spareCall: { action: "", options: undefined, item: null, definition: undefined },
    newId: (prefix) => `${prefix}_${nano()}`,
    hasSink: sink !== undefined,
    emit(event) {
      if (sink === undefined) return;
      try {
        sink(event);
      } catch (e) {
        onEventError?.(e, event);
      }
    },
    async call(f) {
      try {
        return await f();
      } catch (e) {
        throw storeFailure(e);
      }
    },
  };
}
