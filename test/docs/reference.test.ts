/**
 * The reference is complete and shipped: every export of every entry point is named in
 * `docs/reference.md`; every error code, denial reason, event type and token status has its
 * row; the README links the page; the package ships `docs/`; and no message an end user sees
 * carries a rule number (those stay in tests and docs).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { DENIAL_REASONS, ERROR_CODES } from "../../src/index.js";
import { MANAGEMENT_STATUS } from "../../src/manage/index.js";
import { entries } from "../../tsup.config.js";
import { root } from "./doc-examples.js";

const reference = readFileSync(join(root, "docs/reference.md"), "utf8");
const readme = readFileSync(join(root, "README.md"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { files: string[]; exports: Record<string, unknown> };

/** The exported names of each entry point, read by the compiler as a host's editor would. */
function exportsByEntry(): Map<string, string[]> {
  const files = Object.values(entries).map((f) => join(root, f));
  const program = ts.createProgram(files, { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const [name, file] of Object.entries(entries)) {
    const sf = program.getSourceFile(join(root, file))!;
    out.set(name === "index" ? "keyward" : `keyward/${name}`, checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).map((s) => s.getName()));
  }
  return out;
}

/** The part of the reference about one entry point: from its `## \`keyward/…\`` heading to the next. */
function section(entry: string): string {
  const start = reference.indexOf(`## \`${entry}\``);
  if (start < 0) return "";
  const next = reference.indexOf("\n## `", start + 1);
  return reference.slice(start, next < 0 ? undefined : next);
}

const byEntry = exportsByEntry();

describe("the reference names every export of every entry point", () => {
  it("the build's entries are exactly package.json's exports (so the list below is the public surface)", () => {
    const fromExports = Object.keys(pkg.exports).filter((k) => k !== "./package.json").map((k) => (k === "." ? "keyward" : `keyward/${k.slice(2)}`));
    expect([...byEntry.keys()].sort()).toEqual(fromExports.sort());
  });

  it.each([...byEntry.entries()])("%s: every export is named, in backticks, in its section", (entry, names) => {
    const text = section(entry);
    expect(text, `no section "## \`${entry}\`" in docs/reference.md`).not.toBe("");
    const missing = names.filter((n) => !new RegExp("`[^`\\n]*\\b" + n + "\\b[^`\\n]*`").test(text));
    expect(missing).toEqual([]);
  });
});

describe("every outcome has its row", () => {
  const rowOf = (code: string) => new RegExp("^\\|\\s*`" + code + "`", "m");
  it.each(Object.keys(ERROR_CODES).filter((c) => !(DENIAL_REASONS as readonly string[]).includes(c)))("error code %s has a row in the errors table", (code) => {
    expect(reference).toMatch(rowOf(code));
  });
  it.each([...DENIAL_REASONS])("denial reason %s has a row in the reasons table", (reason) => {
    expect(reference).toMatch(rowOf(reason));
  });
  it.each(["token.created", "token.revoked", "token.deleted", "token.expired", "token.leaked", "authorization", "login", "management.refused", "token.integrity", "rate_limit.store_failed"])(
    "R16 event %s has a row in the events table",
    (type) => {
      expect(reference).toMatch(rowOf(type));
    },
  );
  it.each(["active", "revoked", "expired", "subject_inactive", "deleted"])("token status %s has a row", (status) => {
    expect(reference).toMatch(rowOf(status));
  });
  it.each(Object.keys(MANAGEMENT_STATUS))("management problem code %s is named", (code) => {
    expect(reference).toContain(`\`${code}\``);
  });
});

describe("the reference is shipped and linked", () => {
  it("package.json ships docs/ with the README", () => {
    expect(pkg.files).toEqual(expect.arrayContaining(["README.md", "docs"]));
  });
  it("the README links the reference page, and every docs/ link of the README and the reference resolves to a heading", () => {
    expect(readme).toContain("](docs/reference.md)");
    const anchors = (md: string) =>
      new Set(
        [...md.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
          m[1]!
            .toLowerCase()
            .replace(/[^\p{L}\p{N} _-]/gu, "")
            .replace(/ /g, "-"),
        ),
      );
    const refAnchors = anchors(reference);
    const readmeAnchors = anchors(readme);
    for (const [, target] of readme.matchAll(/\]\(docs\/reference\.md#([^)]+)\)/g)) expect(refAnchors, `README → reference#${target}`).toContain(target);
    for (const [, target] of reference.matchAll(/\]\(#([^)]+)\)/g)) expect(refAnchors, `reference → #${target}`).toContain(target);
    for (const [, target] of reference.matchAll(/\]\(\.\.\/README\.md#([^)]+)\)/g)) expect(readmeAnchors, `reference → README#${target}`).toContain(target);
  });
});

describe("no rule number in a message an end user sees", () => {
  it.each(Object.entries(ERROR_CODES))("the default message of %s cites no rule", (_code, message) => {
    expect(message).not.toMatch(/\bR\d+\b/);
  });
  it("no KeywardError message or problem detail in src cites a rule (R1…R22) or an unshipped document", () => {
    const grep = (dir: string): string[] =>
      ts.sys.readDirectory(join(root, dir), [".ts"]).flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ f, i, line }))
          .filter(({ line }) => !/^\s*(\*|\/\/|\/\*)/.test(line) && !/^\s*it\(|describe\(/.test(line))
          .filter(({ line }) => /["'`][^"'`]*\bR\d{1,2}\b[^"'`]*["'`]/.test(line) || /REQ-[A-Z]\d|security\.md|DESIGN\.md|SPEC\.md/.test(line))
          .map(({ f, i, line }) => `${f.slice(root.length + 1)}:${i + 1}: ${line.trim()}`),
      );
    expect(grep("src").filter((l) => !l.startsWith("src/testing/"))).toEqual([]);
  });
});
