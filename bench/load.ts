/**
 * Loads a scenario into a memory store straight through the `KeywardStore` methods (not the
 * service, whose validation and events would only slow the set-up down), and creates the
 * keyward instance over it with the scenario's fixed clock.
 * @module
 */
import { createKeyward, type KeywardStore } from "../src/index.js";
import { admission } from "../src/core/admit.js";
import { memoryStore } from "../src/memory.js";
import type { Scenario } from "./scenario.js";

export async function loadMemory(s: Scenario): Promise<KeywardStore> {
  const store = memoryStore();
  await fill(store, s, admission);
  return store;
}

/**
 * Writes the scenario into `store` in the order the rules need, with `admit` the `admission` of
 * the checkout the store comes from (bench/ab-growth.mts loads two checkouts side by side).
 */
export async function fill(store: KeywardStore, s: Scenario, admit: typeof admission): Promise<void> {
  for (const o of s.orgs) await store.putOrganization(o);
  for (const u of s.users) await store.putUser(u);
  for (const p of s.permissionSets) await store.putPermissionSet(p);
  for (const g of s.groups) await store.putGroup(g);
  for (const x of s.sites) await store.putSite(x);
  // Members active first, so their tokens can be inserted; deactivations come after (R7).
  for (const m of s.memberships) await store.updateMembership(m.orgId, m.userId, () => ({ ...m, status: "active" }));
  for (const su of s.serviceUsers) await store.updateServiceUser(su.id, () => su);
  const quota = admit({ max: 1_000_000_000, now: s.now, inactivityMs: s.inactivityMs });
  for (const { record } of s.tokens) {
    const r = await store.insertToken(record, quota);
    if (!r.ok) throw new Error(`insertToken refused ${record.id}: ${r.reason}`);
  }
  for (const m of s.memberships) if (m.status !== "active") await store.updateMembership(m.orgId, m.userId, () => m);
  for (const sh of s.shares) await store.putShare(sh);
  for (const r of s.rules) await store.putRule(r);
}

export function keywardOn(store: KeywardStore, s: Scenario) {
  return createKeyward({ store, actions: s.actions, clock: () => s.now, inactivityMs: s.inactivityMs });
}
