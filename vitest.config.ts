import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets a fresh module graph; files run in parallel across the machine's cores.
    pool: "forks",
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
