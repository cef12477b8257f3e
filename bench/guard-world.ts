/**
 * The world of the guard benchmarks (`bench/middleware.ts`, `bench/ratelimit.ts`): one
 * organization, `users` members of one group with one user token each, and `items` inspections
 * shared with the group, on the memory store with an audit sink wired (as in production: the
 * event is built on every request).
 */
import { createKeyward } from "../src/index.js";
import { memoryStore } from "../src/memory.js";

export async function guardWorld(users: number, items: number) {
  const kw = createKeyward({
    store: memoryStore(),
    actions: { "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" } },
    verifyPassword: () => true,
    onEvent: () => {},
  });
  const org = await kw.directory.createOrganization({ id: "acme", name: "Acme" });
  const set = await kw.directory.createPermissionSet({ orgId: org.id, name: "Inspector", permissions: ["inspections:view"] });
  const group = await kw.directory.createGroup({ orgId: org.id, name: "Everyone" });
  const tokens: string[] = [];
  for (let u = 0; u < users; u++) {
    await kw.directory.upsertUser({ id: `u${u}`, name: `User ${u}` });
    await kw.directory.addMember({ orgId: org.id, userId: `u${u}`, permissionSetId: set.id, groupIds: [group.id] });
    tokens.push((await kw.tokens.createUserToken({ orgId: org.id, userId: `u${u}`, name: "bench", password: "x" })).token);
  }
  const ids: string[] = [];
  for (let i = 0; i < items; i++) {
    const id = `insp_${i}`;
    ids.push(id);
    await kw.directory.share({ item: { orgId: org.id, type: "inspection", id }, grantee: { kind: "group", groupId: group.id }, level: "view" });
  }
  return { kw, org, tokens, ids };
}
