/**
 * A/B of `authorize()` on the memory store: this checkout against another one (say, main),
 * loaded side by side in ONE process and measured in interleaved rounds, so that a busy machine
 * slows both alike. Not a test: run by hand, e.g.
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   BASE=/tmp/base npx tsx bench/ab-authorize.mts
 *
 * Sizes as `bench/authorize.ts` (1000 users/tokens, 10000 shared items, a rule per site).
 */
import { fileURLToPath } from "node:url";

if (process.env.BASE === undefined) throw new Error("Set BASE to the root of the checkout to compare with.");
const roots = { base: `${process.env.BASE}/src`, new: fileURLToPath(new URL("../src", import.meta.url)) } as const;
async function setup(root: string) {
  const { createKeyward } = await import(`${root}/index.ts`);
  const { memoryStore } = await import(`${root}/memory.ts`);
  const USERS = 1000, ITEMS = 10_000;
  const actions = { "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" } } as const;
  const kw = createKeyward({ store: memoryStore(), actions, verifyPassword: () => true });
  const org = await kw.directory.createOrganization({ id: "acme", name: "Acme" });
  const set = await kw.directory.createPermissionSet({ orgId: org.id, name: "I", permissions: ["inspections:view", "inspections:edit"] });
  const groups = await Promise.all(Array.from({ length: 50 }, (_, i) => kw.directory.createGroup({ orgId: org.id, name: `g${i}` })));
  const sites = await Promise.all(Array.from({ length: 20 }, (_, i) => kw.directory.createSite({ orgId: org.id, name: `s${i}` })));
  const tokens: string[] = [];
  for (let u = 0; u < USERS; u++) {
    await kw.directory.upsertUser({ id: `u${u}`, name: `User ${u}` });
    await kw.directory.addMember({ orgId: org.id, userId: `u${u}`, permissionSetId: set.id, groupIds: [groups[u % 50]!.id], siteIds: [sites[u % 20]!.id] });
    tokens.push((await kw.tokens.createUserToken({ orgId: org.id, userId: `u${u}`, name: "b", password: "x" })).token);
  }
  const items: { orgId: string; type: string; id: string; attributes: { siteId: string } }[] = [];
  for (let i = 0; i < ITEMS; i++) {
    const item = { orgId: org.id, type: "inspection", id: `i${i}`, attributes: { siteId: sites[i % 20]!.id } };
    await kw.directory.share({ item, grantee: { kind: "group", groupId: groups[i % 50]!.id }, level: "edit" });
    items.push(item);
  }
  for (const s of sites) await kw.directory.addRule({ orgId: org.id, itemType: "inspection", conditions: { siteId: [s.id] }, grantee: { kind: "site", siteId: s.id }, level: "view" });
  return { kw, tokens, items };
}
const worlds = { base: await setup(roots.base), new: await setup(roots.new) };
const N = 40_000;
async function round(w: Awaited<ReturnType<typeof setup>>) {
  const t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < N; i++) allowed += (await w.kw.authorize(w.tokens[i % w.tokens.length], "inspections.edit", w.items[(i * 7) % w.items.length])).allowed ? 1 : 0;
  return (N / (performance.now() - t0)) * 1000;
}
for (const k of ["base", "new"] as const) await round(worlds[k]); // warm-up
const r: Record<string, number[]> = { base: [], new: [] };
for (let i = 0; i < Number(process.env.ROUNDS ?? 15); i++) for (const k of i % 2 ? (["new", "base"] as const) : (["base", "new"] as const)) r[k]!.push(await round(worlds[k]));
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const max = (a: number[]) => Math.max(...a);
console.log(`authorize() ops/s over ${r.base!.length} interleaved rounds of ${N}: base median ${Math.round(med(r.base!))} best ${Math.round(max(r.base!))}; new median ${Math.round(med(r.new!))} best ${Math.round(max(r.new!))}; ratio new/base median ${(med(r.new!) / med(r.base!)).toFixed(3)}, best ${(max(r.new!) / max(r.base!)).toFixed(3)}`);
