/**
 * ECDSA P-256 / SHA-256 signatures as GitHub's secret scanning sends them: a base64 DER
 * signature over the raw body, checked with a PEM (SPKI) public key. Web Crypto only
 * (`crypto.subtle`), so it runs on Node, Bun, Deno and edge runtimes.
 * @module
 */

/** Decodes standard or URL-safe base64 (padding optional); `null` when it is not base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  const clean = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  try {
    const bin = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, "="));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** The DER bytes of a PEM `PUBLIC KEY` block (SPKI), or `null`. */
export function pemToDer(pem: string): Uint8Array<ArrayBuffer> | null {
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem);
  return m === null ? null : fromBase64(m[1]!);
}

/**
 * Imports a PEM SPKI public key for ECDSA P-256 verification. Rejects (a `DOMException` or
 * `TypeError`) when it is not such a key.
 *
 * @example
 * ```ts
 * const key = await importPublicKey(pem);
 * ```
 */
export async function importPublicKey(pem: string): Promise<CryptoKey> {
  const der = pemToDer(pem);
  if (der === null) throw new TypeError("not a PEM public key");
  return crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
}

/** Reads one DER length at `at`: `[length, next offset]`, or `null` (only short and one/two-byte long forms). */
function derLength(bytes: Uint8Array, at: number): [number, number] | null {
  const first = bytes[at];
  if (first === undefined) return null;
  if (first < 0x80) return [first, at + 1];
  if (first === 0x81 && bytes[at + 1] !== undefined && bytes[at + 1]! >= 0x80) return [bytes[at + 1]!, at + 2];
  return null;
}

/** One DER INTEGER at `at` as 32 big-endian bytes: `[bytes, next offset]`, or `null` (negative or too large). */
function derInteger(bytes: Uint8Array, at: number): [Uint8Array, number] | null {
  if (bytes[at] !== 0x02) return null;
  const len = derLength(bytes, at + 1);
  if (len === null || len[0] === 0) return null;
  const [n, start] = len;
  const end = start + n;
  if (end > bytes.length) return null;
  let value = bytes.subarray(start, end);
  if (value[0]! & 0x80) return null; // negative: never a valid r or s
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  if (value.length > 32) return null;
  const out = new Uint8Array(32);
  out.set(value, 32 - value.length);
  return [out, end];
}

/**
 * Converts a DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`) to the raw 64-byte
 * `r || s` form Web Crypto verifies. `null` for anything else (trailing bytes included).
 *
 * @example
 * ```ts
 * derToRaw(fromBase64(header)!) // Uint8Array(64) or null
 * ```
 */
export function derToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | null {
  if (der[0] !== 0x30) return null;
  const seq = derLength(der, 1);
  if (seq === null || seq[1] + seq[0] !== der.length) return null;
  const r = derInteger(der, seq[1]);
  if (r === null) return null;
  const s = derInteger(der, r[1]);
  if (s === null || s[1] !== der.length) return null;
  const raw = new Uint8Array(64);
  raw.set(r[0], 0);
  raw.set(s[0], 32);
  return raw;
}

/**
 * Whether `signature` (base64 DER, as in `Github-Public-Key-Signature`) is a valid ECDSA P-256
 * SHA-256 signature of `body` (the raw bytes, as received) under `key`.
 *
 * @example
 * ```ts
 * if (!(await verifySignature(key, request.headers.get("github-public-key-signature")!, body))) return unauthorized();
 * ```
 */
export async function verifySignature(key: CryptoKey, signature: string, body: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const der = fromBase64(signature);
  const raw = der === null ? null : derToRaw(der);
  if (raw === null) return false;
  try {
    return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, body);
  } catch {
    return false;
  }
}
