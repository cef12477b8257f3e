/**
 * The full paths `authorize()` is compared with: the hand-written evaluator behind a token's
 * digest, with and without the duties keyward's pipeline has before and after its read.
 * @module
 */
import { hash as oneShot } from "node:crypto";
import { digestWords } from "../../src/core/digest-words.js";
import { tokenParser } from "../../src/core/token-format.js";
import { DigestIndex } from "../../src/storage/digest-index.js";
import type { Scenario } from "../scenario.js";
import type { HandWritten } from "./handwritten.js";

/**
 * The best full path: one-shot SHA-256, a `Map` from digest to token, the hand-written
 * evaluator; synchronous, no checksum. `raw[i]` is query `i`'s token.
 */
export function bestFullPath(hw: HandWritten, s: Scenario, raw: readonly string[]): (i: number) => boolean {
  const q = s.queries;
  return (i) => {
    const id = hw.byDigest.get(oneShot("sha256", raw[i]!, "base64url"));
    return id !== undefined && hw.allowed(id, q[i]!.action, q[i]!.item);
  };
}

/**
 * The hand-written evaluator behind the steps keyward's pipeline must take around its read
 * (DESIGN.md: parse and checksum, then a digest, then the decision, answered through one
 * promise): the checksum by keyward's parser, the digest by `digestWords()` (no string: what the
 * 200-byte budget leaves room for) found in a `DigestIndex`, or, with `native`, `crypto.hash`'s
 * string in a `Map`. What `authorize()` could reach if its read, decision and use record cost
 * no more than the hand-written evaluator's lookups.
 */
export function dutiesPath(hw: HandWritten, s: Scenario, raw: readonly string[], native = false): (i: number) => Promise<boolean> {
  const parse = tokenParser();
  const toWords = digestWords();
  const index = new DigestIndex<string>();
  for (const [digest, id] of hw.byDigest) index.set(digest, id);
  const words = new Int32Array(8);
  const q = s.queries;
  return (i) => {
    const token = raw[i]!;
    if (parse(token) === null) return Promise.resolve(false);
    let id: string | undefined;
    if (native) id = hw.byDigest.get(oneShot("sha256", token, "base64url"));
    else id = toWords(token, words) ? index.find(words)?.value : undefined;
    return Promise.resolve(id !== undefined && hw.allowed(id, q[i]!.action, q[i]!.item));
  };
}
