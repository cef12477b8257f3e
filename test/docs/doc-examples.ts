/**
 * Shared by the docs tests: the ```ts examples of the README and of the reference pages
 * (`docs/*.md`), and a type-check of each against the source, as a host would compile it.
 *
 * Each example is checked as its own module: `import … from "keyward/…"` resolves to `src/`,
 * its other lines run inside an async function (so an example may `await` and `return`, as in a
 * request handler), and names an example takes for granted (`kw`, `token`, `app`…) come from
 * the ambient declarations below or from an HTML comment just above the fence:
 * `<!-- ts-check: declare const app: import("fastify").FastifyInstance; -->`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { entries } from "../../tsup.config.js";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** One ```ts block of a document. */
export interface DocExample {
  /** `README.md:120` — the line of the opening fence. */
  where: string;
  code: string;
  /** Declarations from the `ts-check:` comment above it. */
  prelude: string;
}

/** The documents whose examples are checked: the README and every reference page it ships. */
export function documents(): string[] {
  const docs = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

/** Every ```ts block of a document. */
export function examplesOf(doc: string): DocExample[] {
  const lines = readFileSync(join(root, doc), "utf8").split("\n");
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++) body.push(lines[i]!);
    const above = lines[start - 1] ?? "";
    const m = /^<!--\s*ts-check:\s*([\s\S]*?)\s*-->$/.exec(above.trim());
    out.push({ where: `${doc}:${start + 1}`, code: body.join("\n"), prelude: m?.[1] ?? "" });
  }
  return out;
}

/** Names the examples take for granted: what a host's code around them would hold. */
const AMBIENT = `
type KW = import("keyward").Keyward<string>;
declare const kw: KW;
declare const store: import("keyward").KeywardStore;
declare const actions: Record<string, import("keyward").ActionDefinition>;
declare const token: string;
declare const botToken: string;
declare const foundString: string;
declare const password: string;
declare const orgId: string;
declare const userId: string;
declare const adminId: string;
declare const actorId: string;
declare const tokenId: string;
declare const item: import("keyward").ItemRef;
declare const oslo: import("keyward").Site;
declare const reporting: import("keyward").PermissionSet;
declare const record: import("keyward").TokenView;
declare const request: Request;
declare const rows: import("keyward").ItemRef[];
declare const inspections: import("keyward").ItemRef[];
declare const pool: import("pg").Pool;
declare const db: { inspectionRef(id: unknown): Promise<import("keyward").ItemRef | null>; inspection(id: unknown): object };
declare const myAuth: { check(userId: string, password: string): Promise<boolean> };
declare const auditLog: { write(event: import("keyward").KeywardEvent): void };
declare const mySessions: { read(request: Request): Promise<{ orgId: string; userId: string } | null> };
declare function deny(reason: string): unknown;
declare function showLimitDialog(): unknown;
declare function sendMail(to: string, text: string): void;
`;

/** Subpath → source file, from the build's entries (the same list package.json exports). */
function paths(): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const [name, file] of Object.entries(entries)) map[name === "index" ? "keyward" : `keyward/${name}`] = [join(root, file)];
  return map;
}

/** Turns an example into a module: imports at the top, the rest in an async function. */
export function asModule(e: DocExample): string {
  const imports: string[] = [];
  const rest: string[] = [];
  let inImport = false;
  for (const line of e.code.split("\n")) {
    if (inImport || /^import\s/.test(line)) {
      imports.push(line);
      // A multi-line import goes on until its `from "…"` (or a `;`).
      inImport = !/;\s*(\/\/.*)?$/.test(line) && !/from\s+["'][^"']+["']/.test(line);
    } else if (rest.length === 0 && /^\s*(\/\/.*)?$/.test(line)) imports.push(line);
    else rest.push(line.replace(/^export default /, "const __default = "));
  }
  return [...imports, e.prelude, "export async function __example() {", ...rest, "}", ""].join("\n");
}

/** Type-checks examples against the source; returns the diagnostics per example (empty: clean). */
export function typeCheck(examples: DocExample[]): Map<string, string[]> {
  const files = new Map<string, string>();
  const ambient = join(root, "test/docs/__ambient__.d.ts");
  files.set(ambient, AMBIENT);
  const names = examples.map((e, i) => {
    const f = join(root, `test/docs/__example_${i}__.ts`);
    files.set(f, asModule(e));
    return f;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: ["node"],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    allowImportingTsExtensions: false,
    noUnusedLocals: false,
    baseUrl: root,
    paths: paths(),
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSource = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f) ?? read(f);
  host.fileExists = (f) => files.has(f) || exists(f);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = files.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSource(f, lang, onError, create);
  };
  const program = ts.createProgram([ambient, ...names], options, host);
  const result = new Map<string, string[]>();
  names.forEach((f, i) => {
    const sf = program.getSourceFile(f)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    result.set(
      examples[i]!.where,
      diags.map((d) => {
        const line = d.start === undefined ? "?" : sf.getLineAndCharacterOfPosition(d.start).line + 1;
        return `line ${line} of the module: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      }),
    );
  });
  return result;
}
