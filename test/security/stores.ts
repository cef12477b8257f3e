/**
 * The stores the issue-11 tests run on: memory, PGlite, and the PostgreSQL server when
 * KEYWARD_PG_URL is set (then each case runs three times).
 */
import { describe } from "vitest";
import type { KeywardStore } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";
import { PG_URL, pgliteStore, serverStore } from "../storage/postgres/support.js";

export interface StoreUnderTest {
  store: KeywardStore;
  cleanup(): Promise<void>;
}

export const STORES: readonly [string, () => Promise<StoreUnderTest>][] = [
  ["memory", async () => ({ store: memoryStore(), cleanup: async () => {} })],
  ["postgres (PGlite)", async () => pgliteStore()],
  ...(PG_URL === undefined ? [] : ([["postgres (server)", async () => serverStore()]] as [string, () => Promise<StoreUnderTest>][])),
];

/** `describe` once per store; `body` receives the factory of a fresh store. */
export function describeStores(title: string, body: (make: () => Promise<StoreUnderTest>) => void): void {
  describe.each(STORES)(`${title} (%s)`, (_name, make) => body(make));
}
