/**
 * The memory store finds a presented token's digest by its words (no digest string made per
 * call): the index answers exactly as the digest's text would (R5), a rotated token's previous
 * digest through its grace period only (R18), digests sharing their first word apart, and
 * `authorize()` on the memory store takes that path, with or without a pepper.
 */
import nodeCrypto from "node:crypto";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { digestWords, readDigest } from "../../src/core/digest-words.js";
import { memoryStore } from "../../src/memory.js";
import { DigestIndex } from "../../src/storage/digest-index.js";
import { ownReadsOf } from "../../src/storage/own-reads.js";
import { MINUTE, world } from "../core/fixture.js";
import { digestText } from "../support/digest-text.js";

/** The words of a digest's text. */
function wordsOf(digest: string): Int32Array {
  const w = new Int32Array(8);
  expect(readDigest(digest, w)).toBe(true);
  return w;
}


const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("base64url"));

describe("DigestIndex", () => {
  it("R5 finds exactly the digests listed and not unlisted, as a Map of their texts would, first words shared or not", () => {
    // Digests whose every word is one of two values: most lookups meet digests that share
    // their first word and differ from them in a single other word, or in none.
    const shared = fc.array(fc.constantFrom(0, -1), { minLength: 8, maxLength: 8 }).map((ws) => {
      const b = Buffer.alloc(32);
      ws.forEach((w, i) => b.writeInt32BE(w, i * 4));
      return b.toString("base64url");
    });
    const op = fc.tuple(fc.constantFrom("set", "delete", "find"), fc.oneof(shared, digest), fc.nat());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new DigestIndex<number>();
        const model = new Map<string, number>();
        for (const [what, d, value] of ops) {
          if (what === "set") {
            index.set(d, value);
            model.set(d, value);
          } else if (what === "delete") {
            index.delete(d);
            model.delete(d);
          }
          for (const [text, v] of model) expect(index.find(wordsOf(text))).toMatchObject({ digest: text, value: v });
          const e = index.find(wordsOf(d));
          expect(e === null ? undefined : [e.digest, e.value]).toEqual(model.has(d) ? [d, model.get(d)] : undefined);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("leaves out text that is no digest (a host may store any string), which no word digest matches", () => {
    const index = new DigestIndex<number>();
    index.set("digest_1", 1);
    const w = new Int32Array(8);
    digestWords()("digest_1", w);
    expect(index.find(w)).toBeNull();
  });
});

describe("the memory store's own reads", () => {
  it("R5 R18 find a token's stored digest by its words, the previous one while it still finds the token", async () => {
    const w = await world({ store: memoryStore() });
    const reads = ownReadsOf(w.store.sync!);
    const sha = digestWords();
    const words = (token: string) => {
      const out = new Int32Array(8);
      sha(token, out);
      return out;
    };
    const first = await w.serviceToken();
    const firstHash = digestText(words(first.token));
    expect(reads.findDigest!(words(first.token))).toBe(firstHash);
    const rotate = () => w.kw.tokens.rotate({ orgId: "acme", tokenId: first.record.id, actorId: w.users.ada.id, graceMs: 10 * MINUTE });
    const second = await rotate();
    const secondHash = digestText(words(second.token));
    expect(reads.findDigest!(words(second.token))).toBe(secondHash);
    expect(reads.findDigest!(words(first.token))).toBe(firstHash);
    const third = await rotate();
    // Only one previous secret: the first one is no longer found at all.
    expect(reads.findDigest!(words(first.token))).toBeNull();
    expect(reads.findDigest!(words(second.token))).toBe(secondHash);
    expect(reads.findDigest!(words(third.token))).toBe(digestText(words(third.token)));
    expect(reads.findDigest!(words(`${first.token}x`))).toBeNull();
  });
});

describe("authorize() on the memory store", () => {
  afterEach(() => vi.restoreAllMocks());

  /** `crypto.hash` and `crypto.createHmac` counted: what makes a digest string. */
  function countDigestStrings() {
    const spies = [vi.spyOn(nodeCrypto, "hash"), vi.spyOn(nodeCrypto, "createHmac")];
    return () => spies.reduce((n, s) => n + s.mock.calls.length, 0);
  }

  for (const pepper of [undefined, "p3pp3r"]) {
    it(`R5 makes no digest string (${pepper === undefined ? "SHA-256" : "HMAC with a pepper"}), and decides as on a store without word lookups`, async () => {
      const made = countDigestStrings();
      const w = await world({ store: memoryStore(), ...(pepper === undefined ? {} : { pepper }) });
      // A copy of the store keeps only its asynchronous reads, keyed by the digest's text.
      const layered = await world({ store: { ...memoryStore() }, ...(pepper === undefined ? {} : { pepper }) });
      const [a, b] = [await w.serviceToken(), await layered.serviceToken()];
      const before = made();
      const d = await w.kw.authorize(a.token, "reports.export");
      expect(made()).toBe(before);
      expect(d).toMatchObject({ allowed: true, tokenId: a.record.id });
      // A store without the lookup by words hashes to text.
      expect(await layered.kw.authorize(b.token, "reports.export")).toMatchObject({ allowed: true, tokenId: b.record.id });
      expect(made()).toBeGreaterThan(before);
      const unknown = `${a.token.slice(0, -8)}${b.token.slice(-8)}`;
      expect((await w.kw.authorize(unknown, "reports.export")).reason).toBe((await layered.kw.authorize(unknown, "reports.export")).reason);
    });
  }
});
