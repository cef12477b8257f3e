import { memoryStore } from "../../src/memory.js";
import { describeStoreConformance, type Backdoor } from "../../src/testing/index.js";

describeStoreConformance("memory", async () => {
  let backdoor!: Backdoor;
  return { store: memoryStore({ backdoor: (b) => (backdoor = b) }), backdoor };
});
