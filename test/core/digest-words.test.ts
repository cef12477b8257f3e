/**
 * The digest as words (R5: only a digest is stored, and the words are that same digest): the
 * hand-written SHA-256 and HMAC-SHA-256 agree with `node:crypto` on every ASCII string, over one
 * block, its padding boundaries (55, 56, 63, 64 bytes) and several blocks; keys shorter and
 * longer than a block; and the base64url text stores keep is read back to the same words.
 */
import { createHmac, hash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digestWords, readDigest } from "../../src/core/digest-words.js";
import { tokenHasher } from "../../src/core/secret.js";
import { generateToken } from "../../src/core/token-format.js";
import { digestText } from "../support/digest-text.js";

const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 300 });
const words = () => new Int32Array(8);

describe("digestWords", () => {
  it("R5 SHA-256 of any ASCII string is node:crypto's, whatever its length", () => {
    const sha = digestWords();
    fc.assert(
      fc.property(ascii, (s) => {
        const out = words();
        expect(sha(s, out)).toBe(true);
        expect(digestText(out)).toBe(hash("sha256", s, "base64url"));
      }),
      { numRuns: 2000 },
    );
  });

  it("R5 is right at every padding boundary and on the published test vectors", () => {
    const sha = digestWords();
    const out = words();
    for (let n = 0; n <= 200; n++) {
      const s = "k".repeat(n);
      sha(s, out);
      expect(digestText(out), `length ${n}`).toBe(hash("sha256", s, "base64url"));
    }
    sha("abc", out);
    expect(Buffer.from(digestText(out), "base64url").toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha("", out);
    expect(Buffer.from(digestText(out), "base64url").toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("R5 with a pepper, HMAC-SHA-256 is node:crypto's for keys of any length, as text or bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 100 }), fc.uint8Array({ maxLength: 150 })), ascii, (pepper, s) => {
        const out = words();
        expect(digestWords(pepper)(s, out)).toBe(true);
        expect(digestText(out)).toBe(createHmac("sha256", pepper).update(s).digest("base64url"));
      }),
      { numRuns: 1000 },
    );
  });

  it("R5 gives tokenHasher's digest for real tokens, with and without a pepper", () => {
    for (const pepper of [undefined, "s3cr3t", new Uint8Array(80).fill(7)]) {
      const sha = digestWords(pepper);
      const hasher = tokenHasher(pepper);
      for (let i = 0; i < 50; i++) {
        const token = generateToken(i % 2 === 0 ? "user" : "service_user");
        const out = words();
        sha(token, out);
        expect(digestText(out)).toBe(hasher(token));
      }
    }
  });

  it("refuses a string that is not ASCII (the caller hashes it as text instead)", () => {
    fc.assert(
      fc.property(ascii, fc.integer({ min: 0x80, max: 0xffff }), fc.nat(), (s, c, at) => {
        const i = s.length === 0 ? 0 : at % (s.length + 1);
        const odd = s.slice(0, i) + String.fromCharCode(c) + s.slice(i);
        expect(digestWords()(odd, words())).toBe(false);
        expect(digestWords("p")(odd, words())).toBe(false);
      }),
    );
  });
});

describe("the digest's text and its words", () => {
  it("R5 readDigest reads any 256-bit digest's base64url text back to its words", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (a) => {
        const expected = new Int32Array(8);
        for (let i = 0; i < 8; i++) expected[i] = Buffer.from(a).readInt32BE(i * 4);
        const out = words();
        expect(readDigest(Buffer.from(a).toString("base64url"), out)).toBe(true);
        expect([...out]).toEqual([...expected]);
      }),
      { numRuns: 2000 },
    );
  });

  it("readDigest refuses text that is no canonical digest", () => {
    const out = words();
    digestWords()("kwu_x", out);
    const t = digestText(out);
    const last = t.at(-1)!;
    // The last character carries two zero bits: its neighbour in the alphabet sets one of them.
    const nonCanonical = t.slice(0, 42) + String.fromCharCode(last.charCodeAt(0) + 1);
    for (const odd of ["", "h1", t.slice(1), `${t}A`, `${t.slice(0, 42)}=`, `${t.slice(0, 42)}é`, `+${t.slice(1)}`, `/${t.slice(1)}`, nonCanonical]) expect(readDigest(odd, words()), odd).toBe(false);
  });
});
