/**
 * Frameworks (and OpenTelemetry) are optional peer dependencies: `import "keyward"` (and `keyward/core`, `keyward/memory`,
 * `keyward/fetch`, `keyward/manage`, `keyward/leaks`) must pull none of them. Checked on the source module graph, and on the built
 * files when they exist (CI builds before it tests, so there they must exist).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FRAMEWORKS = /^(express|fastify|hono|@hono\/.*|@fastify\/.*|fastify-plugin)(\/.*)?$/;
/** OpenTelemetry is optional too: keyward calls the host's tracer and meter through structural types and never imports it, not even for types. */
const OTEL = /^@opentelemetry\//;
const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^"';]*?\sfrom\s)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;

/** Every module specifier reachable from `entry` through relative imports (type-only imports included: they are erased, so counting them only makes the check stricter). */
function graph(entry: string): { files: string[]; bare: Set<string> } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith(".")) {
        const base = resolve(dirname(file), spec);
        const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts"), base.replace(/\.js$/, ".cjs")];
        const hit = candidates.find((c) => existsSync(c) && !c.endsWith("/"));
        if (hit && !hit.endsWith(".map")) stack.push(hit);
      } else bare.add(spec);
    }
  }
  return { files: [...seen], bare };
}

describe("importing keyward pulls no framework (optional peer dependencies)", () => {
  it.each(["src/index.ts", "src/core.ts", "src/memory.ts", "src/middleware/fetch.ts", "src/manage/index.ts", "src/leaks/index.ts"])("the source graph of %s imports no framework", (entry) => {
    const { files, bare } = graph(join(root, entry));
    expect(files.length).toBeGreaterThan(3);
    expect([...bare].filter((s) => FRAMEWORKS.test(s))).toEqual([]);
    expect([...bare].filter((s) => OTEL.test(s))).toEqual([]);
  });

  it("the OpenTelemetry check can fail: the telemetry test's graph does reach @opentelemetry/api", () => {
    const { bare } = graph(join(root, "test/telemetry/otel.test.ts"));
    expect([...bare].some((s) => OTEL.test(s))).toBe(true);
  });

  it("the check can fail: the graph of keyward/express does reach express", () => {
    const { bare } = graph(join(root, "src/middleware/express.ts"));
    expect([...bare].some((s) => FRAMEWORKS.test(s))).toBe(true);
  });

  const built = existsSync(join(root, "dist/index.js"));
  it.runIf(built || process.env.CI !== undefined)("the built dist/index.js and dist/index.cjs (with their chunks) import no framework", () => {
    for (const entry of ["dist/index.js", "dist/index.cjs", "dist/core.js", "dist/core.cjs", "dist/memory.js", "dist/fetch.js", "dist/manage.js", "dist/manage.cjs", "dist/leaks.js", "dist/leaks.cjs"]) {
      expect(existsSync(join(root, entry)), `${entry} must exist (npm run build)`).toBe(true);
      const { files, bare } = graph(join(root, entry));
      expect(files.length, `${entry} and its chunks`).toBeGreaterThan(1);
      expect([...bare].filter((s) => FRAMEWORKS.test(s) || OTEL.test(s)), entry).toEqual([]);
    }
  });

  // The re-authentication throttle (on by default) uses rate-limiter-flexible's in-memory limiter
  // alone, which requires nothing Node-only; everything else of the library (its cluster, SQL and
  // Redis limiters) and the Redis clients are reached only through keyward/ratelimit.
  const LIMITER = /^(rate-limiter-flexible|ioredis|redis)(\/.*)?$/;
  const THROTTLE = "rate-limiter-flexible/lib/RateLimiterMemory.js";
  it.each(["src/index.ts", "src/core.ts", "src/memory.ts", "src/postgres.ts", "src/middleware/fetch.ts", "src/middleware/express.ts", "src/middleware/fastify.ts", "src/middleware/hono.ts", "src/manage/index.ts"])(
    "R21 the source graph of %s imports no rate limiter (only keyward/ratelimit does)",
    (entry) => {
      const { bare } = graph(join(root, entry));
      expect([...bare].filter((s) => LIMITER.test(s) && s !== THROTTLE)).toEqual([]);
    },
  );

  it("R21 the check can fail: the graph of keyward/ratelimit does reach rate-limiter-flexible", () => {
    expect([...graph(join(root, "src/ratelimit/index.ts")).bare]).toContain("rate-limiter-flexible");
  });

  it("package.json lists each framework and Redis client as an optional peer dependency; rate-limiter-flexible is a dependency (the throttle)", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }>; dependencies: Record<string, string> };
    expect(pkg.dependencies["rate-limiter-flexible"]).toBeDefined();
    for (const name of ["express", "fastify", "hono", "ioredis", "redis", "@opentelemetry/api"]) {
      expect(pkg.peerDependencies[name]).toBeDefined();
      expect(pkg.peerDependenciesMeta[name]?.optional).toBe(true);
      expect(pkg.dependencies[name]).toBeUndefined();
    }
  });
});
