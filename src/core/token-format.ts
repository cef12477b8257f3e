/**
 * The token format: `<prefix>_<43 base62 characters: 256 bits from a CSPRNG><6 base62 characters: CRC32>`.
 *
 * The prefix names the kind (user or service user) so secret scanners can tell them apart; the
 * checksum lets a mistyped or truncated token be rejected without a store read. Only Web APIs
 * (`crypto.getRandomValues`), so this runs on Node, Bun, Deno and edge runtimes.
 * @module
 */
import { KeywardError } from "./errors.js";
import type { SubjectKind } from "./types.js";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/**
 * Base62 characters of the random body: 62^43 > 2^256.
 *
 * @example
 * ```ts
 * token.length === "kwu_".length + BODY_LENGTH + CHECKSUM_LENGTH
 * ```
 */
export const BODY_LENGTH = 43;
/**
 * Base62 characters of the CRC32 checksum: 62^6 > 2^32.
 *
 * @example
 * ```ts
 * token.slice(-CHECKSUM_LENGTH) // the checksum characters
 * ```
 */
export const CHECKSUM_LENGTH = 6;
/**
 * Longest token keyward will even look at; anything longer is malformed without further work.
 *
 * @example
 * ```ts
 * if (header.length > MAX_TOKEN_LENGTH) reject()
 * ```
 */
export const MAX_TOKEN_LENGTH = 255;

/** The prefixes that name each kind of token. */
export interface TokenPrefixes {
  user: string;
  service_user: string;
}

/**
 * Default prefixes: `kwu` for user tokens, `kws` for service user tokens.
 *
 * @example
 * ```ts
 * tokenParser({ ...DEFAULT_PREFIXES, user: "acmeu" })
 * ```
 */
export const DEFAULT_PREFIXES: TokenPrefixes = { user: "kwu", service_user: "kws" };

const PREFIX_RE = /^[a-z][a-z0-9]{1,15}$/;

/**
 * Whether a prefix is acceptable: 2–16 lowercase letters and digits, starting with a letter.
 *
 * @example
 * ```ts
 * isValidPrefix("acmeu") // true
 * ```
 */
export function isValidPrefix(prefix: string): boolean {
  return PREFIX_RE.test(prefix);
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC32 (IEEE) of the first `end` characters of an ASCII string. */
function crc32(s: string, end: number): number {
  let c = -1;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function encodeFixed(value: number, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** ASCII code → its base62 value (`0-9A-Za-z`, as {@link decodeFixed} reads it), or -1. */
const BASE62_VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 48; c <= 57; c++) t[c] = c - 48;
  for (let c = 65; c <= 90; c++) t[c] = c - 55;
  for (let c = 97; c <= 122; c++) t[c] = c - 61;
  return t;
})();

/** The (unfinished) CRC32 state after `head`: where a token's checksum continues from. */
function crcAfter(head: string): number {
  let c32 = -1;
  for (let i = 0; i < head.length; i++) c32 = CRC_TABLE[(c32 ^ head.charCodeAt(i)) & 0xff]! ^ (c32 >>> 8);
  return c32;
}

/** Decodes the base62 digits of `s` from `start` to its end (already checked to be base62). */
function decodeFixed(s: string, start: number): number {
  let n = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n = n * 62 + (c <= 57 ? c - 48 : c <= 90 ? c - 55 : c - 61);
  }
  return n;
}

/**
 * The 6-character checksum of a token's `<prefix>_<body>` part.
 *
 * @example
 * ```ts
 * checksumOf("kwu_" + body) // 6 base62 characters
 * ```
 */
export function checksumOf(prefixAndBody: string): string {
  return encodeFixed(crc32(prefixAndBody, prefixAndBody.length), CHECKSUM_LENGTH);
}

/** 43 base62 characters encoding 32 bytes from the CSPRNG. */
function randomBody(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  for (let i = 0; i < BODY_LENGTH; i++) {
    out = ALPHABET[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out;
}

/**
 * Generates a new token of a kind: the secret that is shown once (R5).
 *
 * @example
 * ```ts
 * const secret = generateToken("user"); // "kwu_3fQ…" (53 characters)
 * ```
 */
export function generateToken(kind: SubjectKind, prefixes: TokenPrefixes = DEFAULT_PREFIXES): string {
  const head = `${prefixes[kind]}_${randomBody()}`;
  return head + checksumOf(head);
}

/** A parser for one pair of prefixes: returns the token's kind, or `null` when the token is malformed. */
export type TokenParser = (raw: unknown) => SubjectKind | null;

/**
 * Builds the parser for a pair of prefixes. It rejects, without any store read, anything that
 * is not a string of the exact length, not ASCII `[A-Za-z0-9_]`, has an unknown prefix, or a
 * wrong checksum (a single mistyped character always changes the CRC32).
 *
 * @example
 * ```ts
 * const parse = tokenParser();
 * parse("kwu_…") // "user" | "service_user" | null
 * ```
 */
export function tokenParser(prefixes: TokenPrefixes = DEFAULT_PREFIXES): TokenParser {
  const userHead = `${prefixes.user}_`;
  const serviceHead = `${prefixes.service_user}_`;
  // The CRC32 state after each head is fixed: computed once, not per token.
  const userStart = crcAfter(userHead);
  const serviceStart = crcAfter(serviceHead);
  /** Whether `raw` is `head` + base62 body + the body's checksum: one pass over the characters. */
  const matches = (raw: string, head: string, start: number): boolean => {
    if (raw.length !== head.length + BODY_LENGTH + CHECKSUM_LENGTH || !raw.startsWith(head)) return false;
    const end = raw.length - CHECKSUM_LENGTH;
    let c32 = start;
    for (let i = head.length; i < end; i++) {
      const c = raw.charCodeAt(i);
      if (c > 127 || BASE62_VALUE[c]! < 0) return false;
      c32 = CRC_TABLE[(c32 ^ c) & 0xff]! ^ (c32 >>> 8);
    }
    let n = 0;
    for (let i = end; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      const v = c > 127 ? -1 : BASE62_VALUE[c]!;
      if (v < 0) return false;
      n = n * 62 + v;
    }
    return n === (c32 ^ -1) >>> 0;
  };
  return (raw) => {
    if (typeof raw !== "string" || raw.length > MAX_TOKEN_LENGTH) return null;
    // Prefixes hold no `_`, so at most one head can start the string.
    if (matches(raw, userHead, userStart)) return "user";
    if (matches(raw, serviceHead, serviceStart)) return "service_user";
    return null;
  };
}

/** Options of {@link tokenPattern}. */
export interface TokenPatternOptions {
  /** A global pattern (flag `g`), for `String.prototype.matchAll` or `replace`. Default `false`: a pattern safe to reuse with `.test()`. */
  global?: boolean;
}

/**
 * A regular expression matching tokens of these prefixes, for secret scanners. A match still
 * needs {@link verifyChecksum} to be a real token. Every call returns a fresh pattern; without
 * `{ global: true }` it keeps no state between calls of `.test()` or `.exec()`. A token is
 * matched wherever no letter or digit touches it, so `_` next to it (`API_KEY_kwu_…`,
 * `kwu_…_old`) does not hide it, while a longer run of letters and digits is not a token.
 *
 * @example
 * ```ts
 * tokenPattern().test(text);                                   // reusable
 * for (const m of text.matchAll(tokenPattern({ global: true }))) report(m[0]);
 * ```
 */
export function tokenPattern(prefixes?: TokenPrefixes, options?: TokenPatternOptions): RegExp;
export function tokenPattern(options: TokenPatternOptions): RegExp;
export function tokenPattern(a: TokenPrefixes | TokenPatternOptions = DEFAULT_PREFIXES, b: TokenPatternOptions = {}): RegExp {
  const isPrefixes = "user" in a || "service_user" in a;
  const prefixes = isPrefixes ? (a as TokenPrefixes) : DEFAULT_PREFIXES;
  const options = isPrefixes ? b : (a as TokenPatternOptions);
  // The prefixes become part of the pattern: only the shape keyward accepts for them.
  if (!isValidPrefix(prefixes.user) || !isValidPrefix(prefixes.service_user)) throw new KeywardError("invalid_input", "Token prefixes must be 2–16 lowercase letters or digits, starting with a letter.", { field: "prefixes" });
  return new RegExp(
    `(?<![0-9A-Za-z])(?:${prefixes.user}|${prefixes.service_user})_[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}(?![0-9A-Za-z])`,
    options.global === true ? "g" : "",
  );
}

/**
 * Whether a string is a well-formed token of these prefixes with a valid checksum.
 *
 * @example
 * ```ts
 * verifyChecksum("kwu_…") // true or false
 * ```
 */
export function verifyChecksum(token: string, prefixes: TokenPrefixes = DEFAULT_PREFIXES): boolean {
  return tokenParser(prefixes)(token) !== null;
}

/**
 * The non-secret hint that lists show: the prefix and the last four characters.
 *
 * @example
 * ```ts
 * tokenHint(token) // "kwu_…x9Qa"
 * ```
 */
export function tokenHint(token: string): string {
  const sep = token.indexOf("_");
  return `${token.slice(0, sep + 1)}…${token.slice(-4)}`;
}
