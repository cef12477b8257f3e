/**
 * `keyward/leaks`: a Fetch handler for GitHub secret scanning partner reports (R22). It checks the
 * ECDSA P-256 signature over the raw body with the key GitHub names (fetched from the keys URL
 * through the host's `fetch`, cached by key id), discards strings that are not well-formed
 * tokens before any store read, revokes every real token with the cause `leaked`, and answers
 * with GitHub's feedback labels. Web APIs only; no framework.
 *
 * @example
 * ```ts
 * import { leakReportHandler, GITHUB_SECRET_SCANNING_KEYS_URL } from "keyward/leaks";
 * import { mountManagement } from "keyward/express"; // mounts any { fetch, basePath }
 *
 * const leaks = leakReportHandler(kw, { basePath: "/hooks/secret-scanning", keysUrl: GITHUB_SECRET_SCANNING_KEYS_URL });
 * mountManagement(app, leaks); // before express.json(): the signature is over the raw body
 * ```
 * @module
 */
import { z } from "zod";
import { fieldError } from "../core/errors.js";
import { statusTable, type AnyProblemCode } from "../core/reasons.js";
import { DEFAULT_PREFIXES, type TokenPrefixes } from "../core/token-format.js";
import { readLimited } from "../http/body.js";
import { answering, managementProblem } from "../manage/problem.js";
import type { ReportLeakInput } from "../service/inputs.js";
import type { LeakResult } from "../service/leaks.js";
import { parseConfig, parseInput } from "../service/schemas.js";
import { importPublicKey, verifySignature } from "./signature.js";

export { derToRaw, fromBase64, importPublicKey, verifySignature } from "./signature.js";

/**
 * Where GitHub publishes the public keys of secret scanning (`{ public_keys: [{ key_identifier, key, is_current }] }`).
 *
 * @example
 * ```ts
 * leakReportHandler(kw, { basePath: "/hooks/secret-scanning", keysUrl: GITHUB_SECRET_SCANNING_KEYS_URL });
 * ```
 */
export const GITHUB_SECRET_SCANNING_KEYS_URL = "https://api.github.com/meta/public_keys/secret_scanning";

/** What the handler uses of a keyward instance. */
export interface LeakKeyward {
  tokens: { reportLeak(input: ReportLeakInput): Promise<LeakResult> };
  /** The token prefixes in use (for the start-up warning about the defaults). */
  prefixes: Readonly<TokenPrefixes>;
}

/** Options of {@link leakReportHandler}. */
export interface LeakReportOptions {
  /** Where the handler is mounted, e.g. `"/hooks/secret-scanning"`: it answers `POST` at exactly this path. */
  basePath: string;
  /** The URL of the scanner's public keys, in GitHub's format. For GitHub: {@link GITHUB_SECRET_SCANNING_KEYS_URL}. */
  keysUrl: string;
  /**
   * How the keys are fetched. Default `globalThis.fetch`. Pass your own to add an `Authorization`
   * header (GitHub rate-limits anonymous calls), a proxy, or, in tests, local keys.
   */
  fetch?: (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;
  /** Time limit of one key fetch. Default 5000 ms. */
  keysTimeoutMs?: number;
  /** An unknown key id refetches the keys at most once per this interval (else it is refused at once). Default 60 000 ms. */
  minRefetchIntervalMs?: number;
  /** Keys older than this are fetched again before use, so a key the scanner withdrew stops working. Default 24 hours. */
  keysMaxAgeMs?: number;
  /** Largest accepted body, in bytes (413 past it). Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How each reported token is named in the feedback: `"token_raw"` (GitHub's raw form: the
   * string it sent, echoed back to it) or `"token_hash"` (its SHA-256, hex, so the answer holds
   * no secret). Default `"token_raw"`.
   */
  feedback?: "token_raw" | "token_hash";
  /** Start-up warnings (the default prefixes `kwu`/`kws` are in use). Default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Unexpected errors (a bug, a failing store) before a 5xx is answered. Never given a secret. */
  onError?: (error: unknown, request: Request) => void;
  /** The clock of the key cache, in epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
}

/** The handler: one Fetch function and its mount path (mount it like the management router). */
export interface LeakReportHandler {
  fetch(request: Request): Promise<Response>;
  /** The normalized mount path (no trailing slash). */
  readonly basePath: string;
}

/** One element of the feedback array GitHub accepts. */
export type LeakFeedback =
  | { token_raw: string; token_type: string; label: "true_positive" | "false_positive" }
  | { token_hash: string; token_type: string; label: "true_positive" | "false_positive" };

/** The handler's problem codes. */
const LEAK_PROBLEM_CODES = ["not_found", "method_not_allowed", "payload_too_large", "invalid_input", "signature_required", "invalid_signature", "unknown_key", "unavailable", "internal_error"] as const satisfies readonly AnyProblemCode[];

/** A problem code of the leak handler. */
export type LeakProblemCode = (typeof LEAK_PROBLEM_CODES)[number];

/**
 * The handler's problem codes, with their status (from keyward's table of outcomes).
 *
 * @example
 * ```ts
 * LEAK_PROBLEM_STATUS.invalid_signature // 401
 * ```
 */
export const LEAK_PROBLEM_STATUS: Readonly<Record<LeakProblemCode, number>> = statusTable(LEAK_PROBLEM_CODES);

function problem(code: LeakProblemCode, detail: string, headers: Record<string, string> = {}): Response {
  return managementProblem(code, detail, { headers });
}

const optionsSchema = z.object({
  basePath: z.string().max(200).regex(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+\/?$/, "must be a path such as /hooks/secret-scanning"),
  keysUrl: z.string().url(),
  fetch: z.custom<LeakReportOptions["fetch"]>((f) => typeof f === "function", "expected a fetch function").optional(),
  keysTimeoutMs: z.number().int().min(1).max(60_000).optional(),
  minRefetchIntervalMs: z.number().int().min(0).optional(),
  keysMaxAgeMs: z.number().int().min(1).optional(),
  maxBodyBytes: z.number().int().min(64).max(64 * 1_048_576).optional(),
  feedback: z.enum(["token_raw", "token_hash"]).optional(),
  onWarning: z.custom<LeakReportOptions["onWarning"]>((f) => typeof f === "function").optional(),
  onError: z.custom<LeakReportOptions["onError"]>((f) => typeof f === "function").optional(),
  clock: z.custom<LeakReportOptions["clock"]>((f) => typeof f === "function").optional(),
});

const keysSchema = z.object({
  public_keys: z.array(z.object({ key_identifier: z.string().min(1).max(512), key: z.string().min(1).max(8192) }).loose()).max(100),
});

const reportSchema = z
  .array(
    z
      .object({
        token: z.string().max(4096),
        type: z.string().max(200).optional(),
        url: z.string().max(4096).optional(),
        source: z.string().max(200).optional(),
      })
      .loose(),
  )
  .max(100_000);

/** Reads at most `max` bytes of a body; `"too_large"` past it (the declared length first). */
function readBody(request: Request, max: number): Promise<Uint8Array<ArrayBuffer> | "too_large"> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > max) return Promise.resolve("too_large");
  return readLimited(request.body, max);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** Why the key of a report cannot be used: the keys could not be fetched (503), or the id is not among them (401). */
type KeyMiss = "keys_unavailable" | "unknown_key";

/**
 * The key cache: keys by id, fetched all at once from `keysUrl`; an unknown id (or keys past
 * `keysMaxAgeMs`) refetches at most once per `minRefetchIntervalMs` (concurrent misses share one
 * fetch). A failed fetch keeps the keys in hand until they reach `keysMaxAgeMs`, never past it;
 * meanwhile an unknown id is refused as unavailable (503), not as unknown.
 */
function keyCache(options: Required<Pick<LeakReportOptions, "keysUrl" | "minRefetchIntervalMs" | "keysMaxAgeMs" | "keysTimeoutMs" | "clock">> & { fetch: NonNullable<LeakReportOptions["fetch"]> }) {
  let keys = new Map<string, CryptoKey>();
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let ok = false;
  let pending: Promise<void> | null = null;

  async function load(): Promise<void> {
    attemptedAt = options.clock();
    try {
      const response = await options.fetch(options.keysUrl, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(options.keysTimeoutMs),
      });
      if (!response.ok) throw new Error(`the keys URL answered ${response.status}`);
      const parsed = keysSchema.parse(await response.json());
      const next = new Map<string, CryptoKey>();
      for (const k of parsed.public_keys) {
        try {
          next.set(k.key_identifier, await importPublicKey(k.key));
        } catch {
          // Not an ECDSA P-256 key: skip it (a signature naming it is refused as unknown).
        }
      }
      keys = next;
      fetchedAt = options.clock();
      ok = true;
    } catch {
      // Keep the keys in hand (they still expire at keysMaxAgeMs); an unknown id is now a 503.
      ok = false;
    }
  }

  function refresh(): Promise<void> {
    pending ??= load().finally(() => {
      pending = null;
    });
    return pending;
  }

  return async function keyFor(id: string): Promise<CryptoKey | KeyMiss> {
    const now = options.clock();
    const stale = now - fetchedAt >= options.keysMaxAgeMs;
    if ((stale || !keys.has(id)) && now - attemptedAt >= options.minRefetchIntervalMs) await refresh();
    else if (pending !== null) await pending;
    // Never a key past its age: fail closed until a fetch succeeds.
    if (options.clock() - fetchedAt >= options.keysMaxAgeMs) return "keys_unavailable";
    const key = keys.get(id);
    if (key !== undefined) return key;
    return ok ? "unknown_key" : "keys_unavailable";
  };
}

function normalizeBase(basePath: string): string {
  return basePath.endsWith("/") ? basePath.slice(0, -1) : basePath;
}

/**
 * The warning given when the handler runs with keyward's default prefixes: a scanner matches
 * tokens by prefix, so enrolment needs prefixes of the host's own.
 */
export const DEFAULT_PREFIX_WARNING =
  "keyward/leaks: tokens use keyward's default prefixes (kwu_, kws_). A secret scanner matches tokens by prefix, so enrolling with one needs your own: set createKeyward({ prefixes: { user, service_user } }) and give the scanner tokenPattern(kw.prefixes). See the README, \"Leaked tokens\".";

/**
 * Creates the leak report handler (R22). It answers `POST basePath` only:
 *
 * | Situation | Status | Body |
 * |---|---|---|
 * | signed report, every entry handled | 200 | `[{ token_raw, token_type, label }]`, one per entry, in order |
 * | missing `Github-Public-Key-Identifier` / `-Signature` | 401 | problem `signature_required` |
 * | key id not among the keys (after one refetch) | 401 | problem `unknown_key` |
 * | signature does not verify over the raw body | 401 | problem `invalid_signature` |
 * | the keys cannot be fetched, or the store fails | 503 + `Retry-After` | problem `unavailable` (nothing revoked by a key failure) |
 * | body over `maxBodyBytes` | 413 | problem `payload_too_large` |
 * | not a JSON array of `{ token, type, url, source }` | 400 | problem `invalid_input` |
 *
 * Labels: `true_positive` for a real token of this deployment, whether revoked now or already
 * revoked or deleted; `false_positive` for a string that is not a token (format, checksum) or no
 * token has. Warns once at creation when the default prefixes are in use ({@link DEFAULT_PREFIX_WARNING}).
 *
 * @example
 * ```ts
 * import { leakReportHandler, GITHUB_SECRET_SCANNING_KEYS_URL } from "keyward/leaks";
 * const leaks = leakReportHandler(kw, {
 *   basePath: "/hooks/secret-scanning",
 *   keysUrl: GITHUB_SECRET_SCANNING_KEYS_URL,
 *   fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${process.env.GITHUB_TOKEN}` } }),
 * });
 * export default { fetch: leaks.fetch }; // or mountManagement(app, leaks) in Express, Fastify, Hono
 * ```
 */
export function leakReportHandler(kw: LeakKeyward, options: LeakReportOptions): LeakReportHandler {
  parseConfig(optionsSchema, options);
  const fetchKeys = options.fetch ?? (globalThis.fetch as unknown as NonNullable<LeakReportOptions["fetch"]> | undefined);
  if (fetchKeys === undefined) throw fieldError("invalid_config", "options.fetch", "this runtime has no global fetch; pass one");
  const basePath = normalizeBase(options.basePath);
  const maxBody = options.maxBodyBytes ?? 1_048_576;
  const feedback = options.feedback ?? "token_raw";
  const keyFor = keyCache({
    keysUrl: options.keysUrl,
    fetch: fetchKeys,
    keysTimeoutMs: options.keysTimeoutMs ?? 5000,
    minRefetchIntervalMs: options.minRefetchIntervalMs ?? 60_000,
    keysMaxAgeMs: options.keysMaxAgeMs ?? 24 * 60 * 60 * 1000,
    clock: options.clock ?? Date.now,
  });
  if (kw.prefixes.user === DEFAULT_PREFIXES.user || kw.prefixes.service_user === DEFAULT_PREFIXES.service_user) {
    (options.onWarning ?? ((m: string) => console.warn(m)))(DEFAULT_PREFIX_WARNING);
  }

  async function handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path !== basePath && path !== `${basePath}/`) return problem("not_found", "Not found.");
    if (request.method.toUpperCase() !== "POST") return problem("method_not_allowed", "Use POST.", { allow: "POST" });
    const keyId = request.headers.get("github-public-key-identifier");
    const signature = request.headers.get("github-public-key-signature");
    const body = await readBody(request, maxBody);
    if (body === "too_large") return problem("payload_too_large", `The request body exceeds ${maxBody} bytes.`, { connection: "close" });
    if (keyId === null || signature === null || keyId === "" || signature === "") {
      return problem("signature_required", "Send the report with the Github-Public-Key-Identifier and Github-Public-Key-Signature headers.");
    }
    const key = await keyFor(keyId);
    if (key === "keys_unavailable") return problem("unavailable", "The scanner's public keys cannot be fetched now. Try again later.");
    if (key === "unknown_key") return problem("unknown_key", "The key that signed this report is not among the scanner's public keys.");
    if (!(await verifySignature(key, signature, body))) return problem("invalid_signature", "The signature does not match the report.");
    let entries: z.output<typeof reportSchema>;
    try {
      entries = parseInput(reportSchema, JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as unknown, "body");
    } catch {
      return problem("invalid_input", "Send a JSON array of { token, type, url, source }.");
    }
    // One revocation per distinct string, however often it is reported in this request.
    const done = new Map<string, Promise<LeakResult>>();
    const results: LeakResult[] = [];
    for (const e of entries) {
      let r = done.get(e.token);
      if (r === undefined) {
        // What reportLeak() accepts: a source of 1–200 characters, a URL of at most 2048 (longer ones cut, not refused).
        const found = { source: e.source === undefined || e.source === "" ? "unknown" : e.source, url: (e.url ?? "").slice(0, 2048) };
        r = kw.tokens.reportLeak({ secret: e.token, found });
        done.set(e.token, r);
      }
      results.push(await r);
    }
    const answer: LeakFeedback[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const label = results[i]!.outcome === "revoked" || results[i]!.outcome === "already_revoked" ? "true_positive" : "false_positive";
      const tokenType = e.type ?? "";
      answer.push(feedback === "token_hash" ? { token_hash: await sha256Hex(e.token), token_type: tokenType, label } : { token_raw: e.token, token_type: tokenType, label });
    }
    return new Response(JSON.stringify(answer), {
      status: 200,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" },
    });
  }

  return {
    basePath,
    fetch: answering(handle, options.onError),
  };
}
