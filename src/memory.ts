/**
 * `keyward/memory`: the in-memory store, the zero-set-up default for one process.
 * @example
 * ```ts
 * import { memoryStore } from "keyward/memory";
 * ```
 * @module
 */
export { memoryStore, type MemoryStoreOptions } from "./storage/memory.js";
