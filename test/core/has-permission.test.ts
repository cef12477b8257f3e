/**
 * `hasPermission` is `includes` (R12), whatever the list and whether it is frozen (then a cached
 * `Set` answers), including after the same frozen list was asked before.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasPermission } from "../../src/core/decide.js";

const permission = fc.constantFrom("a:view", "a:edit", "b:view", "b:edit", "c:run", "d:x", "e:y", "f:z", "g:w", "h:v", "i:u", "constructor", "");

describe("hasPermission", () => {
  it("R12 answers exactly as includes, for frozen and unfrozen lists, asked twice", () => {
    fc.assert(
      fc.property(fc.array(permission, { maxLength: 30 }), permission, fc.boolean(), (list, p, freeze) => {
        const perms = freeze ? Object.freeze([...list]) : [...list];
        expect(hasPermission(perms, p)).toBe(list.includes(p));
        expect(hasPermission(perms, p)).toBe(list.includes(p));
      }),
    );
  });

  it("R12 an unfrozen list changed after a check is seen by the next check", () => {
    const perms = ["a:1", "a:2", "a:3", "a:4", "a:5", "a:6", "a:7", "a:8"];
    expect(hasPermission(perms, "b:9")).toBe(false);
    perms.push("b:9");
    expect(hasPermission(perms, "b:9")).toBe(true);
  });
});
