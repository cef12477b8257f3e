/**
 * Issue 11 #10: `tokenPattern()` is a fresh, non-global pattern (safe with `.test()` over and
 * over), `tokenPattern({ global: true })` is the one for `matchAll`, and a token is matched when
 * `_` or other non-token characters surround it (lookarounds, not `\b`).
 */
import { describe, expect, it } from "vitest";
import { generateToken } from "../../src/core/token-format.js";
import { tokenPattern, verifyChecksum } from "../../src/index.js";

const tokens = Array.from({ length: 6 }, (_, i) => generateToken(i % 2 === 0 ? "user" : "service_user"));

describe("issue 11 #10 tokenPattern()", () => {
  it("issue 11 #10 is non-global and answers .test() the same for every token, reused", () => {
    const pattern = tokenPattern();
    expect(pattern.global).toBe(false);
    expect(pattern.sticky).toBe(false);
    expect(tokens.map((t) => pattern.test(`Authorization: Bearer ${t}`))).toEqual(tokens.map(() => true));
  });

  it("issue 11 #10 returns a fresh object on every call", () => {
    expect(tokenPattern()).not.toBe(tokenPattern());
    expect(tokenPattern({ global: true })).not.toBe(tokenPattern({ global: true }));
  });

  it("issue 11 #10 with { global: true } finds every token with matchAll", () => {
    const text = tokens.join(" and ");
    const found = [...text.matchAll(tokenPattern({ global: true }))].map((m) => m[0]);
    expect(found).toEqual(tokens);
    expect(found.every((t) => verifyChecksum(t))).toBe(true);
  });

  it.each([
    ["followed by _", (t: string) => `${t}_suffix`],
    ["preceded by _", (t: string) => `API_KEY_${t}`],
    ["in an environment line", (t: string) => `KEYWARD_TOKEN=${t}\n`],
    ["in quotes", (t: string) => `"${t}"`],
  ])("issue 11 #10 matches a token %s", (_label, wrap) => {
    const t = tokens[0]!;
    expect(wrap(t).match(tokenPattern())?.[0]).toBe(t);
  });

  it.each([
    ["followed by a letter", (t: string) => `${t}x`],
    ["followed by a digit", (t: string) => `${t}0`],
    ["preceded by a letter", (t: string) => `x${t}`],
  ])("issue 11 #10 does not match a longer word: a token %s", (_label, wrap) => {
    expect(tokenPattern().test(wrap(tokens[1]!))).toBe(false);
  });
});

describe("issue 11 #10 tokenPattern(prefixes)", () => {
  it("issue 11 #10 takes custom prefixes and refuses one that is not a prefix (it would become part of the pattern)", () => {
    expect(tokenPattern({ user: "acmeu", service_user: "acmes" }, { global: true }).flags).toBe("g");
    expect(() => tokenPattern({ user: "a.*", service_user: "kws" })).toThrow(expect.objectContaining({ code: "invalid_input" }));
  });
});
