import { memoryStore } from "../../src/memory.js";
import { describeStoreConformance } from "../../src/testing/index.js";

describeStoreConformance("memory", async () => ({ store: memoryStore() }));
