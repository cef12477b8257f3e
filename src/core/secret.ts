/**
 * Digests of tokens: SHA-256 of the whole token, or HMAC-SHA-256 keyed with a server-side pepper,
 * as base64url. Only the digest is ever stored (R5).
 *
 * The digest is the largest cost of a decision, so this uses `node:crypto`'s one-shot
 * `crypto.hash` where the runtime has it (Node ≥ 20.12), found through
 * `process.getBuiltinModule` so nothing Node-only is imported statically, and `@noble/hashes`
 * everywhere else (Bun without it, Deno, edge runtimes, browsers).
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

/** A function from a token to its stored digest. */
export type TokenHasher = (token: string) => string;

interface NodeCrypto {
  hash?: (algorithm: string, data: string, encoding: "base64url") => string;
  createHmac: (algorithm: string, key: string | Uint8Array) => {
    update(data: string): { digest(encoding: "base64url"): string };
  };
}

function nodeCrypto(): NodeCrypto | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined) ?? null;
  } catch {
    return null;
  }
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Builds the token hasher. With a `pepper`, the digest is HMAC-SHA-256(pepper, token), so a
 * stolen database alone cannot confirm a guessed token.
 *
 * @example
 * ```ts
 * const hash = tokenHasher();             // SHA-256
 * const peppered = tokenHasher("s3cr3t"); // HMAC-SHA-256
 * hash("kwu_…") // 43 base64url characters
 * ```
 */
export function tokenHasher(pepper?: string | Uint8Array, options: { preferNode?: boolean } = {}): TokenHasher {
  const node = options.preferNode === false ? null : nodeCrypto();
  if (pepper === undefined) {
    const oneShot = node?.hash;
    if (oneShot) return (token) => oneShot("sha256", token, "base64url");
    return (token) => base64url(sha256(encoder.encode(token)));
  }
  const key = typeof pepper === "string" ? encoder.encode(pepper) : pepper;
  if (node) return (token) => node.createHmac("sha256", key).update(token).digest("base64url");
  return (token) => base64url(hmac(sha256, key, encoder.encode(token)));
}
