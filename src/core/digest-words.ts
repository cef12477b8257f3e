/**
 * A token's digest as eight 32-bit words, made without allocating: SHA-256, or HMAC-SHA-256
 * with the pepper, of an ASCII token, written into a caller's `Int32Array`. The same digest as
 * {@link tokenHasher}'s (whose base64url text is what stores keep), for the one read that can
 * look a digest up by its words (the memory store's): `crypto.hash` hands its digest back as a
 * new string, 88 of the bytes `authorize()` allocated per call.
 *
 * Hand-written because no library fits: `node:crypto` and `@noble/hashes` both allocate their
 * output, and neither exposes the compression function HMAC's precomputed pads need. It is
 * checked against `node:crypto` on random tokens, keys and lengths (test/core/digest-words.test.ts),
 * and runs in constant time for a given length (no branch or table index depends on the data
 * but the check that it is ASCII).
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";

/** Writes the digest of an ASCII `token` into `out` (8 words); `false`, with `out` unusable, when `token` is not ASCII. */
export type DigestWords = (token: string, out: Int32Array) => boolean;

// prettier-ignore
const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);
const IV = Int32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);

/** The message schedule: a block's 16 words, then the 48 derived from them. Shared (nothing here waits). */
const W = new Int32Array(64);

/** SHA-256's compression of the block in `W[0..15]` into the state `H`. */
function compress(H: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
  H[5] = (H[5]! + f) | 0;
  H[6] = (H[6]! + g) | 0;
  H[7] = (H[7]! + h) | 0;
}

/** The byte at `p` of the padded message: the string's, then 0x80, then zeros (−1 for a character that is not ASCII). */
function paddedByte(s: string, p: number): number {
  if (p < s.length) {
    const c = s.charCodeAt(p);
    return c > 0x7f ? -1 : c;
  }
  return p === s.length ? 0x80 : 0;
}

/**
 * Runs the ASCII string `s`, padded, through the state `H`, which has already compressed
 * `before` bytes (a multiple of 64: HMAC's key block). `false` when `s` is not ASCII.
 */
function absorb(s: string, H: Int32Array, before: number): boolean {
  const len = s.length;
  const blocks = ((len + 8) >>> 6) + 1;
  for (let b = 0; b < blocks; b++) {
    const base = b << 6;
    // The words wholly inside the string, read four characters at a time; then the padded rest.
    const whole = len - base >= 64 ? 16 : (len - base) >> 2;
    let i = 0;
    for (; i < whole; i++) {
      const p = base + (i << 2);
      const c0 = s.charCodeAt(p), c1 = s.charCodeAt(p + 1), c2 = s.charCodeAt(p + 2), c3 = s.charCodeAt(p + 3);
      if ((c0 | c1 | c2 | c3) > 0x7f) return false;
      W[i] = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3;
    }
    for (; i < 16; i++) {
      const p = base + (i << 2);
      const c0 = paddedByte(s, p), c1 = paddedByte(s, p + 1), c2 = paddedByte(s, p + 2), c3 = paddedByte(s, p + 3);
      if ((c0 | c1 | c2 | c3) < 0) return false;
      W[i] = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3;
    }
    if (b === blocks - 1) {
      // The message's length in bits, big-endian, in the last two words.
      const bytes = before + len;
      W[14] = Math.floor(bytes / 0x20000000);
      W[15] = (bytes * 8) | 0;
    }
    compress(H);
  }
  return true;
}

/** HMAC's pad of the key (64 bytes, XORed with `pad`) compressed from SHA-256's initial state. */
function padState(key: Uint8Array, pad: number): Int32Array {
  const H = IV.slice();
  for (let i = 0; i < 16; i++) {
    let w = 0;
    for (let j = 0; j < 4; j++) w = (w << 8) | ((key[(i << 2) + j] ?? 0) ^ pad);
    W[i] = w;
  }
  compress(H);
  return H;
}

/**
 * The word-digest function matching `tokenHasher(pepper)`: SHA-256 of the token, or with a
 * `pepper` HMAC-SHA-256(pepper, token), the pepper's pads compressed once here.
 *
 * @example
 * ```ts
 * const words = new Int32Array(8);
 * if (digestWords()(token, words)) index.find(words);
 * ```
 */
export function digestWords(pepper?: string | Uint8Array): DigestWords {
  if (pepper === undefined) {
    return (token, out) => {
      out.set(IV);
      return absorb(token, out, 0);
    };
  }
  const raw = typeof pepper === "string" ? new TextEncoder().encode(pepper) : pepper;
  const key = raw.length > 64 ? sha256(raw) : raw;
  const inner = padState(key, 0x36);
  const outer = padState(key, 0x5c);
  return (token, out) => {
    out.set(inner);
    if (!absorb(token, out, 64)) return false;
    // The outer hash: the outer pad's state, then one block of the inner digest and its padding (64 + 32 bytes).
    for (let i = 0; i < 8; i++) W[i] = out[i]!;
    W[8] = 0x80000000 | 0;
    for (let i = 9; i < 15; i++) W[i] = 0;
    W[15] = (64 + 32) * 8;
    out.set(outer);
    compress(out);
    return true;
  };
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** A base64url character's value, −1 for any other character code below 128. */
const SEXTET = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[BASE64URL.charCodeAt(i)] = i;
  return t;
})();

/** The length of a 256-bit digest in base64url without padding. */
const DIGEST_LENGTH = 43;

/**
 * The words of a digest kept as base64url text (what `tokenHasher` makes), into `out`; `false`
 * when `digest` is not 43 base64url characters (a store may hold any string a host wrote).
 */
export function readDigest(digest: string, out: Int32Array): boolean {
  if (digest.length !== DIGEST_LENGTH) return false;
  // Bits in hand, most significant first: `bits` of them in `acc` (at most 32).
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < DIGEST_LENGTH; i++) {
    const c = digest.charCodeAt(i);
    const v = c < 128 ? SEXTET[c]! : -1;
    if (v < 0) return false;
    if (bits <= 26) {
      acc = (acc << 6) | v;
      bits += 6;
    } else {
      // The word completes inside this sextet: its high bits end the word, the rest begin the next.
      const take = 32 - bits;
      out[at++] = (acc << take) | (v >>> (6 - take));
      acc = v & ((1 << (6 - take)) - 1);
      bits = 6 - take;
    }
  }
  // 43 sextets are 258 bits: the eight words, then two bits that are zero in canonical text.
  return acc === 0;
}
