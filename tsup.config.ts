import { defineConfig } from "tsup";

/** One entry per public subpath; package.json "exports" mirrors this list. */
export const entries = {
  index: "src/index.ts",
  memory: "src/memory.ts",
  testing: "src/testing/index.ts",
  postgres: "src/postgres.ts",
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
