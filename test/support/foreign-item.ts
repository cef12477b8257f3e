/**
 * The set-up of issue 11's finding 5, shared by its test and `bench/share-index.ts`: Eve, a
 * member of acme who may view inspections, and beta's inspection `i_big` with 1,000 shares to
 * other users (written straight to the store, under `shareStore`).
 */
import { createKeyward } from "../../src/index.js";
import type { KeywardStore } from "../../src/storage/types.js";

export const T0 = Date.UTC(2026, 0, 1);
/** Beta's item with the 1,000 shares. */
export const FOREIGN_ITEM = { orgId: "beta", type: "inspection", id: "i_big" };

/** A keyward on `store` (acme, beta, Eve) with 1,000 shares on {@link FOREIGN_ITEM} put into `shareStore` (default `store`); Eve's token. */
export async function foreignItemWorld(store: KeywardStore, shareStore: KeywardStore = store) {
  const kw = createKeyward({
    store,
    actions: { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } },
    verifyPassword: () => true,
    clock: () => T0,
  });
  await kw.directory.createOrganization({ id: "acme", name: "Acme", ssoOnly: false });
  await kw.directory.createOrganization({ id: "beta", name: "Beta", ssoOnly: false });
  const set = await kw.directory.createPermissionSet({ orgId: "acme", name: "Inspector", permissions: ["inspections:view"] });
  await kw.directory.upsertUser({ id: "u_eve", name: "Eve" });
  await kw.directory.addMember({ orgId: "acme", userId: "u_eve", permissionSetId: set.id });
  for (let i = 0; i < 1_000; i++) await shareStore.putShare({ id: `sh_${i}`, item: FOREIGN_ITEM, grantee: { kind: "user", userId: `u_${i}` }, level: "view", createdAt: T0 });
  const { token } = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_eve", name: "probe", password: "x" });
  return { kw, token };
}
