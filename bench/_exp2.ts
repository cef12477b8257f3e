import { tokenHasher, granteeIncludes, ruleMatches, LEVEL_RANK, type DecisionInput, type ItemRef } from "../src/index.js";
import { loadMemory } from "./load.js";
import { generateScenario } from "./scenario.js";
import { measure, table } from "./measure.js";
const s = generateScenario({ users: 2_000, items: 20_000, queries: 5_000 });
const store = await loadMemory(s);
const hash = tokenHasher();
const raw = s.queries.map((q) => s.tokens[q.token]!.raw);
const inputs = await Promise.all(s.queries.map(async (q, i) => (await store.loadDecision(hash(raw[i]!), q.item))!));
const n = s.queries.length;
const q = s.queries;
const rank = (l: string) => (l === "view" ? 1 : l === "edit" ? 2 : 3);
function sharesOnly(input: DecisionInput, item: ItemRef) {
  const crossOrg = item.orgId !== input.token.orgId; let b = 0;
  for (let i = 0; i < input.shares.length; i++) { const sh = input.shares[i]!; const r = LEVEL_RANK[sh.level]; if (r <= b) continue; const k = sh.item; if (k.id !== item.id || k.type !== item.type || k.orgId !== item.orgId) continue; if (!granteeIncludes(sh.grantee, input, crossOrg)) continue; b = r; }
  return b;
}
function sharesNoRank(input: DecisionInput, item: ItemRef) {
  const crossOrg = item.orgId !== input.token.orgId; let b = 0;
  for (let i = 0; i < input.shares.length; i++) { const sh = input.shares[i]!; const r = rank(sh.level); if (r <= b) continue; const k = sh.item; if (k.id !== item.id || k.type !== item.type || k.orgId !== item.orgId) continue; if (!granteeIncludes(sh.grantee, input, crossOrg)) continue; b = r; }
  return b;
}
function rulesOnly(input: DecisionInput, item: ItemRef) {
  const crossOrg = item.orgId !== input.token.orgId; let b = 0;
  for (let i = 0; i < input.rules.length; i++) { const ru = input.rules[i]!; const r = LEVEL_RANK[ru.level]; if (r <= b) continue; if (!ruleMatches(ru, item) || !granteeIncludes(ru.grantee, input, crossOrg)) continue; b = r; }
  return b;
}
function rulesMatchOnly(input: DecisionInput, item: ItemRef) {
  let b = 0;
  for (let i = 0; i < input.rules.length; i++) { if (ruleMatches(input.rules[i]!, item)) b++; }
  return b;
}
const r = await measure([
  { name: "sharesOnly", n, run: (i) => q[i]!.item && sharesOnly(inputs[i]!, q[i]!.item!) },
  { name: "sharesOnly hot (100 inputs)", n: 100, run: (i) => q[i]!.item && sharesOnly(inputs[i]!, q[i]!.item!) },
  { name: "rulesOnly", n, run: (i) => q[i]!.item && rulesOnly(inputs[i]!, q[i]!.item!) },
  { name: "rulesMatchOnly", n, run: (i) => q[i]!.item && rulesMatchOnly(inputs[i]!, q[i]!.item!) },
], { rounds: 3, targetMs: 100 });
console.log(table(r));
console.log("avg shares", inputs.reduce((a, x) => a + x.shares.length, 0) / n, "avg rules", inputs.reduce((a, x) => a + x.rules.length, 0) / n);
