/**
 * The same decisions in Casbin: RBAC with domains (a domain is an organization).
 *
 * Encoding. A request subject is a token's subject in its organization (`org_a/u1`). Role links
 * (`g`, per domain): the subject → its groups, its sites, `u:<id>` and its organization role
 * (`o:<org>` and `osu:<org>` for users, `osu:<org>` for service users; the last two in every
 * domain, so a share from another organization can name them, R14); a site → each site below it
 * (membership of a region covers its areas and sites, R13). Permission sets are policies
 * (`p`: set, domain, permission) reached through `g2`. Shares are role links too (`g3`, which
 * also holds the links of `g`): grantee → `item#level`, and `item#delete` → `item#edit` →
 * `item#view`, so one `g3(subject, item#needed)` walks the graph. (One policy per share would make
 * Casbin scan all 300,000 of them on every request.) Access rules are policies (`p3`), one per
 * rule, condition value and implied level. The token stage is the shared Map lookup of the
 * hand-written evaluator.
 * @module
 */
import { newEnforceContext, newEnforcer, newModelFromString, type Enforcer } from "casbin";
import type { Grantee } from "../../src/index.js";
import type { BenchItem, Scenario } from "../scenario.js";
import type { HandWritten } from "./handwritten.js";

const MODEL = `
[request_definition]
r = sub, dom, obj
r2 = sub, dom, obj
r3 = sub, dom, type, a1, a2, act
r4 = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj
p2 = sub
p3 = sub, dom, type, attr, act
p4 = sub, dom, obj, act

[role_definition]
g = _, _, _
g2 = _, _, _
g3 = _, _, _

[policy_effect]
e = some(where (p.eft == allow))
e2 = some(where (p.eft == allow))
e3 = some(where (p.eft == allow))
e4 = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.dom == p.dom && g2(r.sub, p.sub, r.dom)
m2 = g3(r2.sub, r2.obj, r2.dom)
m3 = r3.dom == p3.dom && r3.type == p3.type && r3.act == p3.act && (r3.a1 == p3.attr || r3.a2 == p3.attr) && g(r3.sub, p3.sub, r3.dom)
m4 = r4.obj == p4.obj && r4.act == p4.act && r4.dom == p4.dom && g(r4.sub, p4.sub, r4.dom)
`;

const LEVELS = ["view", "edit", "delete"] as const;

export interface CasbinEngine {
  allowed(tokenId: string, action: string, item: BenchItem | null): boolean;
  enforcer: Enforcer;
}

/**
 * `sharesAs: "policies"` encodes each share as policies instead (`p4`: grantee role, domain, item,
 * level, one per implied level) — the textbook encoding, which makes every request evaluate the
 * matcher against every share policy. Measured on a few queries only.
 */
export async function casbinEngine(s: Scenario, hw: HandWritten, options: { sharesAs?: "links" | "policies" } = {}): Promise<CasbinEngine> {
  const asPolicies = options.sharesAs === "policies";
  const e = await newEnforcer(newModelFromString(MODEL));
  e.enableAutoBuildRoleLinks(false);
  const role = (g: Grantee): string => {
    switch (g.kind) {
      case "user": return `u:${g.userId}`;
      case "service_user": return `s:${g.serviceUserId}`;
      case "group": return `group:${g.groupId}`;
      case "site": return `site:${g.siteId}`;
      case "organization": return g.includeServiceUsers ? `osu:${g.orgId}` : `o:${g.orgId}`;
    }
  };
  const orgIds = s.orgs.map((o) => o.id);
  const g: string[][] = [];
  const g2: string[][] = [];
  const g3: string[][] = [];
  for (const site of s.sites) if (site.parentId !== null) g.push([`site:${site.parentId}`, `site:${site.id}`, site.orgId]);
  for (const m of s.memberships) {
    const sub = `${m.orgId}/${m.userId}`;
    for (const dom of orgIds) g.push([sub, `u:${m.userId}`, dom], [sub, `o:${m.orgId}`, dom], [sub, `osu:${m.orgId}`, dom]);
    for (const x of m.groupIds) g.push([sub, `group:${x}`, m.orgId]);
    for (const x of m.siteIds) g.push([sub, `site:${x}`, m.orgId]);
    if (m.permissionSetId !== null) g2.push([sub, `ps:${m.permissionSetId}`, m.orgId]);
  }
  for (const su of s.serviceUsers) {
    const sub = `${su.orgId}/${su.id}`;
    for (const dom of orgIds) g.push([sub, `s:${su.id}`, dom], [sub, `osu:${su.orgId}`, dom]);
    if (su.permissionSetId !== null) g2.push([sub, `ps:${su.permissionSetId}`, su.orgId]);
  }
  const p = s.permissionSets.flatMap((set) => set.permissions.map((perm) => [`ps:${set.id}`, set.orgId, perm]));
  const seen = new Set<string>();
  const p4: string[][] = [];
  for (const sh of s.shares) {
    if (asPolicies) {
      const obj = `${sh.item.type}/${sh.item.id}`;
      for (const level of LEVELS.slice(0, LEVELS.indexOf(sh.level) + 1)) p4.push([role(sh.grantee), sh.item.orgId, obj, level]);
      continue;
    }
    const obj = `${sh.item.type}/${sh.item.id}`;
    g3.push([role(sh.grantee), `${obj}#${sh.level}`, sh.item.orgId]);
    const key = `${sh.item.orgId}\0${obj}`;
    if (!seen.has(key)) {
      seen.add(key);
      g3.push([`${obj}#delete`, `${obj}#edit`, sh.item.orgId], [`${obj}#edit`, `${obj}#view`, sh.item.orgId]);
    }
  }
  g3.push(...g);
  const p3: string[][] = [];
  for (const r of s.rules) {
    const entries = Object.entries(r.conditions);
    if (entries.length !== 1) throw new Error("the Casbin encoding handles rules on one attribute");
    const [attr, values] = entries[0]!;
    for (const v of values) for (const level of LEVELS.slice(0, LEVELS.indexOf(r.level) + 1)) p3.push([role(r.grantee), r.orgId, r.itemType, `${attr}=${v}`, level]);
  }
  await e.addPolicies(p);
  await e.addNamedPolicies("p2", [["nobody"]]);
  await e.addNamedPolicies("p3", p3);
  if (asPolicies) await e.addNamedPolicies("p4", p4);
  await e.addNamedGroupingPolicies("g", g);
  await e.addNamedGroupingPolicies("g2", g2);
  await e.addNamedGroupingPolicies("g3", g3);
  await e.buildRoleLinks();

  const ctx2 = newEnforceContext("2");
  const ctx3 = newEnforceContext("3");
  const ctx4 = newEnforceContext("4");
  return {
    enforcer: e,
    allowed(tokenId, action, item) {
      const tok = hw.tokenStage(tokenId);
      if (tok === undefined) return false;
      const def = s.actions[action];
      if (def === undefined) return false;
      const sub = `${tok.orgId}/${tok.subjectId}`;
      if (!e.enforceSync(sub, tok.orgId, def.permission)) return false;
      if (def.access === undefined) return true;
      if (item === null || item.type !== def.item) return false;
      if (asPolicies ? e.enforceSync(ctx4, sub, item.orgId, `${item.type}/${item.id}`, def.access) : e.enforceSync(ctx2, sub, item.orgId, `${item.type}/${item.id}#${def.access}`)) return true;
      return e.enforceSync(ctx3, sub, item.orgId, item.type, `siteId=${item.attributes.siteId}`, `status=${item.attributes.status}`, def.access);
    },
  };
}
