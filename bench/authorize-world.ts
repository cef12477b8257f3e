/**
 * The world of the authorize() benchmarks (`bench/authorize.ts`, `bench/ab-authorize.mts`): one
 * organization, `users` users (each with one token), `items` items each shared with one group of
 * 50, and a rule per site (20 sites).
 * @module
 */

/** The part of a keyward instance the world is built with (any checkout's `createKeyward()` fits). */
interface Populated {
  directory: {
    createOrganization(input: { id: string; name: string }): Promise<{ id: string }>;
    createPermissionSet(input: { orgId: string; name: string; permissions: string[] }): Promise<{ id: string }>;
    createGroup(input: { orgId: string; name: string }): Promise<{ id: string }>;
    createSite(input: { orgId: string; name: string }): Promise<{ id: string }>;
    upsertUser(input: { id: string; name: string }): Promise<unknown>;
    addMember(input: { orgId: string; userId: string; permissionSetId: string; groupIds: string[]; siteIds: string[] }): Promise<unknown>;
    share(input: { item: BenchItem; grantee: { kind: "group"; groupId: string }; level: "edit" }): Promise<unknown>;
    addRule(input: { orgId: string; itemType: string; conditions: { siteId: string[] }; grantee: { kind: "site"; siteId: string }; level: "view" }): Promise<unknown>;
  };
  tokens: { createUserToken(input: { orgId: string; userId: string; name: string; password: string }): Promise<{ token: string }> };
}

/** An item of the world. */
export interface BenchItem {
  orgId: string;
  type: string;
  id: string;
  attributes: { siteId: string };
}

/** The benchmarks' one action. */
export const BENCH_ACTIONS = { "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" } } as const;

/**
 * Fills a keyward instance (created with {@link BENCH_ACTIONS} and a `verifyPassword` that accepts anything).
 *
 * @example
 * ```ts
 * const { tokens, items } = await populate(createKeyward({ store: memoryStore(), actions: BENCH_ACTIONS, verifyPassword: () => true }), 1000, 10_000);
 * ```
 */
export async function populate(kw: Populated, users: number, itemCount: number): Promise<{ tokens: string[]; items: BenchItem[] }> {
  const org = await kw.directory.createOrganization({ id: "acme", name: "Acme" });
  const set = await kw.directory.createPermissionSet({ orgId: org.id, name: "Inspector", permissions: ["inspections:view", "inspections:edit"] });
  const groups = await Promise.all(Array.from({ length: 50 }, (_, i) => kw.directory.createGroup({ orgId: org.id, name: `g${i}` })));
  const sites = await Promise.all(Array.from({ length: 20 }, (_, i) => kw.directory.createSite({ orgId: org.id, name: `s${i}` })));
  const tokens: string[] = [];
  for (let u = 0; u < users; u++) {
    await kw.directory.upsertUser({ id: `u${u}`, name: `User ${u}` });
    await kw.directory.addMember({ orgId: org.id, userId: `u${u}`, permissionSetId: set.id, groupIds: [groups[u % 50]!.id], siteIds: [sites[u % 20]!.id] });
    tokens.push((await kw.tokens.createUserToken({ orgId: org.id, userId: `u${u}`, name: "bench", password: "x" })).token);
  }
  const items: BenchItem[] = [];
  for (let i = 0; i < itemCount; i++) {
    const item = { orgId: org.id, type: "inspection", id: `i${i}`, attributes: { siteId: sites[i % 20]!.id } };
    await kw.directory.share({ item, grantee: { kind: "group", groupId: groups[i % 50]!.id }, level: "edit" });
    items.push(item);
  }
  for (const s of sites) await kw.directory.addRule({ orgId: org.id, itemType: "inspection", conditions: { siteId: [s.id] }, grantee: { kind: "site", siteId: s.id }, level: "view" });
  return { tokens, items };
}
