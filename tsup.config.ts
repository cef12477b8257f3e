import { defineConfig } from "tsup";

/** One entry per public subpath; package.json "exports" mirrors this list. */
export const entries = {
  index: "src/index.ts",
  core: "src/core.ts",
  memory: "src/memory.ts",
  testing: "src/testing/index.ts",
  manage: "src/manage/index.ts",
  fetch: "src/middleware/fetch.ts",
  express: "src/middleware/express.ts",
  fastify: "src/middleware/fastify.ts",
  hono: "src/middleware/hono.ts",
  postgres: "src/postgres.ts",
  ratelimit: "src/ratelimit/index.ts",
  leaks: "src/leaks/index.ts",
  layers: "src/layers.ts",
};

export default defineConfig({
  entry: entries,
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  splitting: true,
  treeshake: true,
});
