/**
 * Stored digests found by their words (`digestWords`): the first word (a small integer on 64-bit
 * V8) keys a `Map` to the digest's entry, or to the few entries that share it, and the entry
 * holds the other seven words to compare. A lookup returns the stored entry (the digest's text
 * and what the store keeps under it), so no string is made.
 * @module
 */
import { readDigest } from "../core/digest-words.js";

/** A stored digest's text and what its store keeps under it. */
export interface DigestEntry<T> {
  readonly digest: string;
  readonly value: T;
}

/** An entry with the digest's words 1–7 (word 0 is its key): a lookup compares seven integers, not the text. */
interface Entry<T> extends DigestEntry<T> {
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly w4: number;
  readonly w5: number;
  readonly w6: number;
  readonly w7: number;
}

/** Whether `e` is the entry of the digest whose words are `w`. */
function matches<T>(e: Entry<T>, w: Int32Array): boolean {
  return e.w1 === w[1] && e.w2 === w[2] && e.w3 === w[3] && e.w4 === w[4] && e.w5 === w[5] && e.w6 === w[6] && e.w7 === w[7];
}

/** The words of the digest being listed or unlisted. */
const scratch = new Int32Array(8);

export class DigestIndex<T> {
  private readonly byWord = new Map<number, Entry<T> | Entry<T>[]>();

  /** Lists a stored digest (again: its value replaced). Text that is not a digest in base64url is left out: no word digest can match it. */
  set(digest: string, value: T): void {
    if (!readDigest(digest, scratch)) return;
    const w = scratch;
    const entry: Entry<T> = { digest, value, w1: w[1]!, w2: w[2]!, w3: w[3]!, w4: w[4]!, w5: w[5]!, w6: w[6]!, w7: w[7]! };
    const at = this.byWord.get(w[0]!);
    if (at === undefined) this.byWord.set(w[0]!, entry);
    else if (!Array.isArray(at)) this.byWord.set(w[0]!, at.digest === digest ? entry : [at, entry]);
    else this.byWord.set(w[0]!, [...at.filter((e) => e.digest !== digest), entry]);
  }

  /** Unlists a stored digest. */
  delete(digest: string): void {
    if (!readDigest(digest, scratch)) return;
    const key = scratch[0]!;
    const at = this.byWord.get(key);
    if (at === undefined) return;
    if (!Array.isArray(at)) {
      if (at.digest === digest) this.byWord.delete(key);
      return;
    }
    const rest = at.filter((e) => e.digest !== digest);
    this.byWord.set(key, rest.length === 1 ? rest[0]! : rest);
  }

  /** The entry of the stored digest whose words are `words`, or `null`. */
  find(words: Int32Array): DigestEntry<T> | null {
    const at = this.byWord.get(words[0]!);
    if (at === undefined) return null;
    if (!Array.isArray(at)) return matches(at, words) ? at : null;
    for (const e of at) if (matches(e, words)) return e;
    return null;
  }
}
