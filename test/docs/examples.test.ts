/**
 * The manual cannot rot: every ```ts example of the README and of the reference pages it links
 * (`docs/*.md`) type-checks against the source, as a host's own code would (imports of
 * `keyward/…` resolve to `src/`). A renamed call, a changed argument or result shape, or a
 * removed export fails here, naming the document and line.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { documents, examplesOf, typeCheck, type DocExample } from "./doc-examples.js";

const examples: DocExample[] = documents().flatMap(examplesOf);
let diagnostics: Map<string, string[]>;

beforeAll(() => {
  diagnostics = typeCheck(examples);
}, 120_000);

describe("the examples of the README and the reference pages type-check against the source", () => {
  it("there are examples in the README and in docs/reference.md", () => {
    expect(examples.filter((e) => e.where.startsWith("README.md:")).length).toBeGreaterThan(20);
    expect(examples.filter((e) => e.where.startsWith("docs/reference.md:")).length).toBeGreaterThan(10);
  });

  it.each(examples.map((e) => [e.where, e] as const))("%s", (where) => {
    expect(diagnostics.get(where)).toEqual([]);
  });
});

describe("the checker itself", () => {
  it("reports a wrong argument, an unknown export and an unknown name (it can fail)", () => {
    const bad: DocExample[] = [
      { where: "bad:1", prelude: "", code: 'await kw.tokens.revoke({ orgId: "acme", tokenId: 42, actorId: "u" });' },
      { where: "bad:2", prelude: "", code: 'import { noSuchExport } from "keyward";\nnoSuchExport();' },
      { where: "bad:3", prelude: "", code: "undeclaredThing.call();" },
      { where: "good", prelude: "", code: 'import { tokenPattern } from "keyward";\nif (!(await kw.authorize(token, "x")).allowed) return tokenPattern().source;' },
    ];
    const r = typeCheck(bad);
    expect(r.get("bad:1")!.join("\n")).toMatch(/number.*not assignable to.*string/);
    expect(r.get("bad:2")!.join("\n")).toMatch(/noSuchExport/);
    expect(r.get("bad:3")!.join("\n")).toMatch(/undeclaredThing/);
    expect(r.get("good")).toEqual([]);
  }, 120_000);
});
