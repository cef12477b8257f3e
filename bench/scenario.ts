/**
 * The benchmark scenario, generated in code from a fixed seed (no downloads): organizations,
 * users and memberships, groups, nested sites, permission sets, service users, items with
 * shares, access rules, tokens in every state, and the queries every engine answers.
 *
 * Only the token secrets are random (they come from `generateToken`, the real CSPRNG path); every
 * decision depends on the seeded data alone, so every run asks the same questions.
 * @module
 */
import { generateToken, tokenHasher, tokenHint } from "../src/core.js";
import type {
  AccessLevel,
  AccessRule,
  ActionDefinition,
  Grantee,
  Group,
  ItemRef,
  Membership,
  Organization,
  PermissionSet,
  ServiceUser,
  Share,
  Site,
  TokenRecord,
  User,
} from "../src/index.js";

/** Sizes of one scenario. */
export interface ScenarioSize {
  users: number;
  items: number;
  queries: number;
}

/** The headline scenario of the issue. */
export const MAIN_SIZE: ScenarioSize = { users: 10_000, items: 100_000, queries: 10_000 };

/** One query: a token (index into `tokens`), an action, and the item (or `null` for an organization-level action). */
export interface Query {
  token: number;
  action: string;
  item: BenchItem | null;
}

/** An item as the host passes it to `authorize()`: key plus the attributes rules test. */
export interface BenchItem extends ItemRef {
  attributes: { siteId: string; status: string };
}

export interface Scenario {
  seed: number;
  /** The fixed clock of every engine. */
  now: number;
  inactivityMs: number;
  actions: Record<string, ActionDefinition>;
  orgs: Organization[];
  users: User[];
  memberships: Membership[];
  permissionSets: PermissionSet[];
  groups: Group[];
  sites: Site[];
  serviceUsers: ServiceUser[];
  items: BenchItem[];
  shares: Share[];
  rules: AccessRule[];
  /** Real tokens: the secret (what a client sends) and the record the store keeps. */
  tokens: { raw: string; record: TokenRecord }[];
  queries: Query[];
}

/** mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const ITEM_TYPES = ["template", "inspection", "asset"] as const;
/** 18 verbs per item type (54 item actions) and 6 organization-level actions: 60 actions. */
const VERBS: [string, AccessLevel][] = [
  ["view", "view"], ["list", "view"], ["export", "view"], ["print", "view"], ["comment", "view"], ["download", "view"],
  ["subscribe", "view"], ["edit", "edit"], ["rename", "edit"], ["tag", "edit"], ["assign", "edit"], ["schedule", "edit"],
  ["attach", "edit"], ["approve", "edit"], ["archive", "delete"], ["delete", "delete"], ["restore", "delete"], ["transfer", "delete"],
];
const ORG_ACTIONS = ["users.manage", "groups.manage", "sites.manage", "billing.view", "reports.run", "integrations.manage"];
const STATUSES = ["draft", "active", "archived"] as const;

/** The host's 60 actions: permission `type:verb` (or the org action's name), the level, the item type. */
export function benchActions(): Record<string, ActionDefinition> {
  const actions: Record<string, ActionDefinition> = {};
  for (const type of ITEM_TYPES) {
    for (const [verb, access] of VERBS) actions[`${type}s.${verb}`] = { permission: `${type}s:${verb}`, access, item: type };
  }
  for (const a of ORG_ACTIONS) actions[a] = { permission: a.replace(".", ":") };
  return actions;
}

/**
 * Generates a scenario. `users` users (10% of them also members of the other organization),
 * 500 groups and 200 sites (region › area › site) over 2 organizations, 20 permission sets of
 * 5–30 permissions, 50 service users, `items` items with 0–6 shares each (about 3% naming the
 * other organization or one of its users), 10 access rules per organization, one token per
 * membership and service user (about 1% revoked, 1% idle-expired, 1% of members deactivated),
 * and `queries` queries of which about 60% are allowed.
 */
export function generateScenario(size: ScenarioSize, seed = 0x6b657977): Scenario {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const sample = <T>(xs: readonly T[], n: number): T[] => {
    const out = new Set<T>();
    while (out.size < Math.min(n, xs.length)) out.add(pick(xs));
    return [...out];
  };
  const now = Date.UTC(2026, 0, 15);
  const inactivityMs = 30 * DAY;
  const actions = benchActions();
  const permissions = Object.values(actions).map((a) => a.permission);

  const orgs: Organization[] = [
    { id: "org_a", name: "Acme", ssoOnly: false },
    { id: "org_b", name: "Borealis", ssoOnly: false },
  ];
  const other = (orgId: string) => (orgId === "org_a" ? "org_b" : "org_a");
  const groups: Group[] = [];
  const sites: Site[] = [];
  const permissionSets: PermissionSet[] = [];
  const groupsOf = new Map<string, string[]>();
  const sitesOf = new Map<string, string[]>();
  const leavesOf = new Map<string, string[]>();
  const setsOf = new Map<string, string[]>();
  for (const org of orgs) {
    const gs: string[] = [];
    for (let i = 0; i < 250; i++) {
      const g = { id: `${org.id}_g${i}`, orgId: org.id, name: `Group ${i}` };
      groups.push(g);
      gs.push(g.id);
    }
    groupsOf.set(org.id, gs);
    // 4 regions › 4 areas each › 5 sites each: 4 + 16 + 80 = 100 sites per organization.
    const all: string[] = [];
    const leaves: string[] = [];
    for (let r = 0; r < 4; r++) {
      const region = { id: `${org.id}_r${r}`, orgId: org.id, name: `Region ${r}`, parentId: null, path: [`${org.id}_r${r}`] };
      sites.push(region);
      all.push(region.id);
      for (let a = 0; a < 4; a++) {
        const areaId = `${region.id}a${a}`;
        sites.push({ id: areaId, orgId: org.id, name: `Area ${r}.${a}`, parentId: region.id, path: [region.id, areaId] });
        all.push(areaId);
        for (let s = 0; s < 5; s++) {
          const siteId = `${areaId}s${s}`;
          sites.push({ id: siteId, orgId: org.id, name: `Site ${r}.${a}.${s}`, parentId: areaId, path: [region.id, areaId, siteId] });
          all.push(siteId);
          leaves.push(siteId);
        }
      }
    }
    sitesOf.set(org.id, all);
    leavesOf.set(org.id, leaves);
    const sets: string[] = [];
    for (let i = 0; i < 10; i++) {
      const set = { id: `${org.id}_ps${i}`, orgId: org.id, name: `Set ${i}`, permissions: sample(permissions, int(5, 30)) };
      permissionSets.push(set);
      sets.push(set.id);
    }
    setsOf.set(org.id, sets);
  }
  const sitePath = new Map(sites.map((s) => [s.id, s.path]));

  const users: User[] = [];
  const memberships: Membership[] = [];
  const member = (orgId: string, userId: string): Membership => ({
    orgId,
    userId,
    permissionSetId: pick(setsOf.get(orgId)!),
    groupIds: sample(groupsOf.get(orgId)!, int(1, 5)),
    siteIds: sample(sitesOf.get(orgId)!, int(1, 3)),
    status: "active",
    seat: true,
    epoch: `ep_${orgId}_${userId}`,
  });
  for (let u = 0; u < size.users; u++) {
    const user = { id: `u${u}`, name: `User ${u}` };
    users.push(user);
    const home = rnd() < 0.6 ? "org_a" : "org_b";
    memberships.push(member(home, user.id));
    if (rnd() < 0.1) memberships.push(member(other(home), user.id));
  }
  const serviceUsers: ServiceUser[] = [];
  for (let i = 0; i < 50; i++) {
    const orgId = i % 2 === 0 ? "org_a" : "org_b";
    serviceUsers.push({ id: `su${i}`, orgId, name: `Service ${i}`, permissionSetId: pick(setsOf.get(orgId)!), status: "active", createdBy: null, createdAt: now - 90 * DAY });
  }

  // Items and their shares. `reach` indexes shares by what a subject could hold, to aim queries.
  const items: BenchItem[] = [];
  const shares: Share[] = [];
  const reach = new Map<string, Share[]>();
  const addReach = (key: string, share: Share) => {
    const list = reach.get(key);
    if (list === undefined) reach.set(key, [share]);
    else list.push(share);
  };
  const levelOf = (): AccessLevel => {
    const x = rnd();
    return x < 0.5 ? "view" : x < 0.85 ? "edit" : "delete";
  };
  const usersOf = new Map<string, string[]>([["org_a", []], ["org_b", []]]);
  for (const m of memberships) usersOf.get(m.orgId)!.push(m.userId);
  const suOf = (orgId: string) => serviceUsers.filter((s) => s.orgId === orgId).map((s) => s.id);
  const suByOrg = new Map(orgs.map((o) => [o.id, suOf(o.id)]));
  let shareSeq = 0;
  for (let i = 0; i < size.items; i++) {
    const orgId = rnd() < 0.5 ? "org_a" : "org_b";
    const type = pick(ITEM_TYPES);
    const item: BenchItem = { orgId, type, id: `${type.slice(0, 3)}${i}`, attributes: { siteId: pick(leavesOf.get(orgId)!), status: pick(STATUSES) } };
    items.push(item);
    const n = int(0, 6);
    for (let k = 0; k < n; k++) {
      const x = rnd();
      let grantee: Grantee;
      if (x < 0.32) grantee = { kind: "user", userId: pick(usersOf.get(orgId)!) };
      else if (x < 0.62) grantee = { kind: "group", groupId: pick(groupsOf.get(orgId)!) };
      else if (x < 0.85) grantee = { kind: "site", siteId: pick(sitesOf.get(orgId)!) };
      else if (x < 0.89) grantee = { kind: "organization", orgId, includeServiceUsers: rnd() < 0.3 };
      else if (x < 0.97) grantee = { kind: "service_user", serviceUserId: pick(suByOrg.get(orgId)!) };
      else if (x < 0.985) grantee = { kind: "organization", orgId: other(orgId), includeServiceUsers: rnd() < 0.3 };
      else grantee = { kind: "user", userId: pick(usersOf.get(other(orgId))!) };
      const share: Share = { id: `sh${shareSeq++}`, item: { orgId, type, id: item.id }, grantee, level: levelOf(), createdAt: now - 10 * DAY };
      shares.push(share);
      switch (grantee.kind) {
        case "user": addReach(`u:${grantee.userId}`, share); break;
        case "service_user": addReach(`s:${grantee.serviceUserId}`, share); break;
        case "group": addReach(`g:${grantee.groupId}`, share); break;
        case "site": for (const p of sitePath.get(grantee.siteId)!) addReach(`site:${p}`, share); break;
        case "organization": addReach(`o:${grantee.orgId}`, share); break;
      }
    }
  }

  // Access rules: 10 per organization, on one attribute each (site or status).
  const rules: AccessRule[] = [];
  for (const org of orgs) {
    for (let i = 0; i < 10; i++) {
      const x = rnd();
      const grantee: Grantee =
        x < 0.4 ? { kind: "group", groupId: pick(groupsOf.get(org.id)!) }
        : x < 0.7 ? { kind: "site", siteId: pick(sitesOf.get(org.id)!) }
        : x < 0.85 ? { kind: "service_user", serviceUserId: pick(suByOrg.get(org.id)!) }
        : { kind: "organization", orgId: org.id, includeServiceUsers: rnd() < 0.5 };
      const conditions: Record<string, string[]> = i % 3 === 0 ? { status: [pick(STATUSES)] } : { siteId: sample(leavesOf.get(org.id)!, int(1, 3)) };
      rules.push({ id: `rule_${org.id}_${i}`, orgId: org.id, itemType: pick(ITEM_TYPES), conditions, grantee, level: rnd() < 0.7 ? "view" : "edit", createdAt: now - 30 * DAY });
    }
  }

  // Tokens: one per membership and per service user, through the real generator and hasher.
  const hash = tokenHasher();
  const tokens: Scenario["tokens"] = [];
  let tokenSeq = 0;
  const addToken = (kind: "user" | "service_user", orgId: string, subjectId: string, epoch: string | null) => {
    const raw = generateToken(kind);
    const x = rnd();
    const record: TokenRecord = {
      id: `tok${tokenSeq++}`,
      kind,
      orgId,
      subjectId,
      name: "bench",
      hash: hash(raw),
      hint: tokenHint(raw),
      epoch,
      createdAt: now - int(1, 25) * DAY,
      createdBy: kind === "user" ? subjectId : null,
      lastUsedAt: x < 0.3 ? null : now - int(0, 20) * DAY,
      revokedAt: x > 0.99 ? now - DAY : null,
      deletedAt: null,
      expiredAt: null,
    };
    // About 1% of user tokens idle-expired: last activity more than 30 days ago.
    if (kind === "user" && x > 0.98 && x <= 0.99) {
      record.createdAt = now - 60 * DAY;
      record.lastUsedAt = now - 40 * DAY;
    }
    tokens.push({ raw, record });
  };
  for (const m of memberships) addToken("user", m.orgId, m.userId, m.epoch);
  for (const su of serviceUsers) addToken("service_user", su.orgId, su.id, null);
  // About 1% of members deactivated after their token was created (R7): the token is dead.
  for (const m of memberships) if (rnd() < 0.01) m.status = "deactivated";

  // Queries: about 60% allowed. Most aim at something the subject can reach; the rest are random.
  const setById = new Map(permissionSets.map((s) => [s.id, s]));
  const memberOf = new Map(memberships.map((m) => [`${m.orgId}\0${m.userId}`, m]));
  const suById = new Map(serviceUsers.map((s) => [s.id, s]));
  const actionList = Object.entries(actions);
  const rank = { view: 1, edit: 2, delete: 3 } as const;
  const queries: Query[] = [];
  const itemByKey = new Map(items.map((it) => [`${it.orgId}\0${it.type}\0${it.id}`, it]));
  for (let q = 0; q < size.queries; q++) {
    const tokenIndex = rnd() < 0.95 ? int(0, tokens.length - serviceUsers.length - 1) : tokens.length - serviceUsers.length + int(0, serviceUsers.length - 1);
    const { record } = tokens[tokenIndex]!;
    const x = rnd();
    if (x < 0.04) {
      const orgActions = actionList.filter(([, d]) => d.access === undefined);
      queries.push({ token: tokenIndex, action: pick(orgActions)[0], item: null });
      continue;
    }
    if (x < 0.7) {
      // Aimed: a share that names something the subject holds, and an action it permits.
      const keys: string[] = [];
      let perms: readonly string[] = [];
      if (record.kind === "user") {
        const m = memberOf.get(`${record.orgId}\0${record.subjectId}`)!;
        perms = setById.get(m.permissionSetId!)!.permissions;
        keys.push(`u:${record.subjectId}`, `o:${record.orgId}`, ...m.groupIds.map((g) => `g:${g}`), ...m.siteIds.map((s) => `site:${s}`));
      } else {
        perms = setById.get(suById.get(record.subjectId)!.permissionSetId!)!.permissions;
        keys.push(`s:${record.subjectId}`, `o:${record.orgId}`);
      }
      const held = keys.map((k) => reach.get(k)).filter((l) => l !== undefined);
      if (held.length > 0) {
        const share = pick(pick(held));
        const item = itemByKey.get(`${share.item.orgId}\0${share.item.type}\0${share.item.id}`)!;
        const fitting = actionList.filter(([, d]) => d.item === item.type && perms.includes(d.permission) && rank[d.access!] <= rank[share.level]);
        const ofType = actionList.filter(([, d]) => d.item === item.type);
        queries.push({ token: tokenIndex, action: pick(fitting.length > 0 ? fitting : ofType)[0], item });
        continue;
      }
    }
    const item = pick(items);
    const ofType = actionList.filter(([, d]) => d.item === item.type);
    queries.push({ token: tokenIndex, action: pick(ofType)[0], item });
  }

  return { seed, now, inactivityMs, actions, orgs, users, memberships, permissionSets, groups, sites, serviceUsers, items, shares, rules, tokens, queries };
}
