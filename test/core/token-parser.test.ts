/**
 * The token parser (one pass: prefix, alphabet, CRC32 from a precomputed head state, checksum
 * digits through a table) answers exactly as the definition of a token reads (R15): the exact
 * length, one of the two prefixes, base62 characters only, and the checksum of prefix and body.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checksumOf, generateToken, tokenParser } from "../../src/core/token-format.js";

const BASE62 = /^[0-9A-Za-z]*$/;
/** The definition, written the slow way. */
function reference(s: string, prefixes: { user: string; service_user: string }): "user" | "service_user" | null {
  for (const kind of ["user", "service_user"] as const) {
    const head = `${prefixes[kind]}_`;
    if (!s.startsWith(head) || s.length !== head.length + 49) continue;
    const rest = s.slice(head.length);
    if (!BASE62.test(rest)) return null;
    return checksumOf(s.slice(0, -6)) === s.slice(-6) ? kind : null;
  }
  return null;
}

// Characters next to the base62 ranges, outside ASCII, and ones whose low byte is a base62 character.
const odd = fc.constantFrom("/", ":", "@", "[", "`", "{", "_", "-", " ", "\u00e9", "\u0130", "\u0141", "\u0161", "\uff21", "0", "9", "A", "Z", "a", "z");
const prefix = fc.stringMatching(/^[a-z]{2,6}$/);

describe("tokenParser", () => {
  it("R15 accepts exactly the real tokens of its prefixes, with their kind, under any single or double edit", () => {
    fc.assert(
      fc.property(prefix, prefix, fc.boolean(), fc.array(fc.tuple(fc.nat(), odd), { maxLength: 2 }), (u, s, asService, edits) => {
        fc.pre(u !== s);
        const prefixes = { user: u, service_user: s };
        let token = generateToken(asService ? "service_user" : "user", prefixes);
        for (const [at, c] of edits) {
          const i = at % token.length;
          token = token.slice(0, i) + c + token.slice(i + 1);
        }
        expect(tokenParser(prefixes)(token)).toBe(reference(token, prefixes));
      }),
      { numRuns: 2000 },
    );
  });

  it("R15 an unedited token parses as its own kind", () => {
    for (const kind of ["user", "service_user"] as const) expect(tokenParser()(generateToken(kind))).toBe(kind);
  });
});
