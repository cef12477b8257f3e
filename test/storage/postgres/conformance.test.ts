import { describe, it } from "vitest";
import { describeStoreConformance } from "../../../src/testing/index.js";
import { IN_CI, PG_URL, pgliteStore, serverStore } from "./support.js";

describeStoreConformance("postgres (PGlite)", async () => {
  const t = await pgliteStore();
  return { store: t.store, backdoor: t.backdoor, cleanup: t.cleanup };
});

// The same store composed with its read-cache layer (the leased LISTEN/NOTIFY source) and a short coalescing window.
describeStoreConformance("postgres (PGlite) with the read cache", async () => {
  const t = await pgliteStore({ cache: { ttlMs: 5000 }, lastUseWindowMs: 60_000 });
  return { store: t.store, backdoor: t.backdoor, cleanup: t.cleanup };
});

describe.runIf(PG_URL !== undefined)("on the PostgreSQL server", () => {
  describeStoreConformance("postgres (pg Pool)", async () => {
    const t = await serverStore();
    return { store: t.store, backdoor: t.backdoor, cleanup: t.cleanup };
  });
});

if (PG_URL === undefined && IN_CI) {
  it("has KEYWARD_PG_URL set, so the conformance suite runs against the real server", () => {
    throw new Error("CI is set but KEYWARD_PG_URL is not: the PostgreSQL conformance suite would silently not run");
  });
}
