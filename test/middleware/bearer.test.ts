/**
 * Laws of the shared bearer extraction and URL split (src/http/mapping.ts), by property tests.
 * The HTTP table (table.ts) checks the same rules end to end on every framework.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extractBearer, splitUrl } from "../../src/http/mapping.js";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
const b64token = fc
  .tuple(fc.string({ unit: fc.constantFrom(...B64), minLength: 1, maxLength: 80 }), fc.nat({ max: 2 }))
  .map(([body, pad]) => body + "=".repeat(pad));
const schemeCase = fc.constantFrom("Bearer", "bearer", "BEARER", "bEaReR");

describe("extractBearer (RFC 6750 §2.1)", () => {
  it("any b64token after a case-insensitive `Bearer` and one or more spaces is extracted unchanged", () => {
    fc.assert(
      fc.property(schemeCase, fc.integer({ min: 1, max: 3 }), b64token, (scheme, spaces, token) => {
        expect(extractBearer(`${scheme}${" ".repeat(spaces)}${token}`, "")).toEqual({ ok: true, token });
      }),
    );
  });

  it("whatever the header, an extracted token has no whitespace, comma or control character, and ends the header value", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (value) => {
        const r = extractBearer(value, "");
        if (r.ok) {
          expect(r.token).not.toMatch(/[\s,\x00-\x1f\x7f]/);
          expect(value.endsWith(r.token)).toBe(true);
          expect(value.slice(0, 6).toLowerCase()).toBe("bearer");
        }
      }),
    );
  });

  it("two or more Authorization values are always invalid_request, whatever they hold", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(b64token.map((t) => `Bearer ${t}`), fc.string()), { minLength: 2, maxLength: 4 }), (values) => {
        expect(extractBearer(values, "")).toEqual({ ok: false, code: "invalid_request" });
      }),
    );
  });

  it("an access_token in the query string is always invalid_request, with or without a header, and never returned", () => {
    fc.assert(
      fc.property(fc.option(b64token.map((t) => `Bearer ${t}`), { nil: undefined }), b64token, fc.string({ unit: fc.constantFrom("a", "b", "=", "&"), maxLength: 8 }), (header, token, noise) => {
        const r = extractBearer(header, `?${noise}&access_token=${encodeURIComponent(token)}`);
        expect(r).toEqual({ ok: false, code: "invalid_request" });
      }),
    );
  });

  it("other schemes are no bearer credentials; nothing at all is missing_credentials", () => {
    expect(extractBearer(undefined)).toEqual({ ok: false, code: "missing_credentials" });
    expect(extractBearer([])).toEqual({ ok: false, code: "missing_credentials" });
    expect(extractBearer("Basic YWRhOnNlY3JldA==")).toEqual({ ok: false, code: "missing_credentials" });
    expect(extractBearer("Bearerx abc")).toEqual({ ok: false, code: "missing_credentials" });
    expect(extractBearer("Basic a, Bearer b")).toEqual({ ok: false, code: "invalid_request" });
    expect(extractBearer("Basic a, bearer b")).toEqual({ ok: false, code: "invalid_request" });
    // A single credential of another scheme may hold commas in its auth-params:
    expect(extractBearer('Digest username="ada", realm="x", nonce="1"')).toEqual({ ok: false, code: "missing_credentials" });
  });
});

describe("splitUrl", () => {
  it("the path never holds the query or the fragment, and path + query give back the target", () => {
    fc.assert(
      fc.property(fc.webPath(), fc.option(fc.webQueryParameters(), { nil: undefined }), (path, query) => {
        const target = `${path || "/"}${query === undefined ? "" : `?${query}`}`;
        const { path: p, search } = splitUrl(target);
        expect(p).not.toContain("?");
        expect(p + search).toBe(target);
        expect(splitUrl(`http://127.0.0.1:8080${target}#frag`)).toEqual({ path: p, search });
      }),
    );
  });
});
