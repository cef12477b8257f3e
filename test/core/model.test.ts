/**
 * Model-based test of the whole service (fast-check `asyncModelRun`): random sequences of
 * commands run against keyward (memory store) and against a deliberately simple model written
 * from the rules (plain Maps, counters for epochs, no store, no shared code). After each
 * `authorize`, `login` and listing, keyward must agree with the model.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createKeyward, KeywardError, type Decision, type Keyward, type KeywardStore } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";

const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const USER_LIMIT = 3;
const SERVICE_LIMIT = 3;
const SERVICE_USER = "svc_bot";

// ── the world both sides start from ──────────────────────────────────────────────────────────

const ACTIONS = {
  "items.view": { permission: "items:view", access: "view", item: "item" },
  "items.edit": { permission: "items:edit", access: "edit", item: "item" },
  "items.delete": { permission: "items:delete", access: "delete", item: "item" },
  "reports.export": { permission: "reports:export" },
} as const;
type ActionName = keyof typeof ACTIONS | "items.unknown";
const ACTION_NAMES: ActionName[] = ["items.view", "items.edit", "items.delete", "reports.export", "items.unknown"];

const SETS = {
  admin: { org: "acme", permissions: ["api_tokens:manage", "service_users:manage", "items:view", "items:edit", "items:delete", "reports:export"] },
  worker: { org: "acme", permissions: ["items:view", "items:edit", "reports:export"] },
  reader: { org: "acme", permissions: ["items:view"] },
  none: { org: "acme", permissions: [] as string[] },
  betaWorker: { org: "beta", permissions: ["items:view", "items:edit", "reports:export"] },
} as const;
type SetName = keyof typeof SETS;

/** Memberships: organization and user. */
const MEMBERS = { "acme:u_ada": ["acme", "u_ada"], "acme:u_ana": ["acme", "u_ana"], "beta:u_ana": ["beta", "u_ana"] } as const;
type MemberKey = keyof typeof MEMBERS;
const MEMBER_KEYS = Object.keys(MEMBERS) as MemberKey[];
const SETS_OF_ORG: Record<string, (SetName | null)[]> = { acme: ["admin", "worker", "reader", "none", null], beta: ["betaWorker", null] };

const ITEMS = [
  { orgId: "acme", type: "item", id: "a1" },
  { orgId: "acme", type: "item", id: "a2" },
  { orgId: "beta", type: "item", id: "b1" },
] as const;
type Item = (typeof ITEMS)[number];

type Grantee =
  | { kind: "user"; userId: string }
  | { kind: "service_user"; serviceUserId: string }
  | { kind: "group"; groupId: string }
  | { kind: "organization"; orgId: string; includeServiceUsers: boolean };
const GROUP_ORG: Record<string, string> = { g_acme: "acme", g_beta: "beta" };
const GRANTEES: Grantee[] = [
  { kind: "user", userId: "u_ada" },
  { kind: "user", userId: "u_ana" },
  { kind: "service_user", serviceUserId: SERVICE_USER },
  { kind: "group", groupId: "g_acme" },
  { kind: "group", groupId: "g_beta" },
  { kind: "organization", orgId: "acme", includeServiceUsers: false },
  { kind: "organization", orgId: "acme", includeServiceUsers: true },
  { kind: "organization", orgId: "beta", includeServiceUsers: true },
];
const LEVELS = ["view", "edit", "delete"] as const;
type Level = (typeof LEVELS)[number];
const RANK: Record<Level, number> = { view: 1, edit: 2, delete: 3 };

// ── the model ────────────────────────────────────────────────────────────────────────────────

interface MToken {
  secret: string;
  id: string;
  kind: "user" | "service_user";
  org: string;
  subject: string;
  /** The membership epoch (a counter) at creation; null for service tokens. */
  epoch: number | null;
  createdAt: number;
  lastUsed: number | null;
  revoked: boolean;
  deleted: boolean;
}
interface MMember {
  status: "active" | "deactivated" | "left";
  epoch: number;
  set: SetName | null;
  groups: string[];
}
interface Model {
  now: number;
  members: Map<MemberKey, MMember>;
  tokens: MToken[];
  /** Real share id → share. */
  shares: Map<string, { item: Item; grantee: Grantee; level: Level }>;
  nextEpoch: number;
}
interface Real {
  kw: Keyward<keyof typeof ACTIONS>;
  /** The store the instance was created with: the test reads it raw (the instance has no `store`). */
  store: KeywardStore;
  clock: { now: number };
}

const T0 = Date.UTC(2026, 0, 1);

function initialModel(): Model {
  return {
    now: T0,
    members: new Map<MemberKey, MMember>([
      ["acme:u_ada", { status: "active", epoch: 1, set: "admin", groups: [] }],
      ["acme:u_ana", { status: "active", epoch: 2, set: "worker", groups: ["g_acme"] }],
      ["beta:u_ana", { status: "active", epoch: 3, set: "betaWorker", groups: ["g_beta"] }],
    ]),
    tokens: [],
    shares: new Map(),
    nextEpoch: 4,
  };
}

async function initialReal(): Promise<Real> {
  const clock = { now: T0 };
  const store = memoryStore();
  const kw = createKeyward({
    store,
    actions: ACTIONS,
    clock: () => clock.now,
    verifyPassword: () => true,
    limits: { userTokensPerUser: USER_LIMIT, serviceTokensPerOrg: SERVICE_LIMIT },
  });
  const d = kw.directory;
  await d.createOrganization({ id: "acme", name: "Acme" });
  await d.createOrganization({ id: "beta", name: "Beta" });
  await d.upsertUser({ id: "u_ada", name: "Ada" });
  await d.upsertUser({ id: "u_ana", name: "Ana" });
  for (const [name, s] of Object.entries(SETS)) await d.createPermissionSet({ id: name, orgId: s.org, name, permissions: [...s.permissions] });
  await d.createGroup({ id: "g_acme", orgId: "acme", name: "Acme crew" });
  await d.createGroup({ id: "g_beta", orgId: "beta", name: "Beta crew" });
  await d.addMember({ orgId: "acme", userId: "u_ada", permissionSetId: "admin" });
  await d.addMember({ orgId: "acme", userId: "u_ana", permissionSetId: "worker", groupIds: ["g_acme"] });
  await d.addMember({ orgId: "beta", userId: "u_ana", permissionSetId: "betaWorker", groupIds: ["g_beta"] });
  await kw.serviceUsers.create({ id: SERVICE_USER, orgId: "acme", name: "Bot", permissionSetId: "worker", actorId: "u_ada" });
  return { kw, store, clock };
}

// The rules, in the model's own plain words.

const hasPermission = (m: Model, key: MemberKey, permission: string): boolean => {
  const member = m.members.get(key)!;
  return member.status === "active" && member.set !== null && (SETS[member.set].permissions as readonly string[]).includes(permission);
};

type Status = "active" | "revoked" | "deleted" | "expired" | "subject_inactive";
function status(m: Model, t: MToken): Status {
  if (t.deleted) return "deleted";
  if (t.revoked) return "revoked";
  if (t.kind === "user" && m.now >= (t.lastUsed ?? t.createdAt) + WINDOW) return "expired";
  if (t.kind === "user") {
    const member = m.members.get(`${t.org}:${t.subject}` as MemberKey)!;
    if (member.status !== "active" || member.epoch !== t.epoch) return "subject_inactive";
  }
  return "active";
}

const REASON_OF: Record<Exclude<Status, "active">, string> = {
  deleted: "token_revoked",
  revoked: "token_revoked",
  expired: "token_expired",
  subject_inactive: "subject_inactive",
};

function includes(m: Model, t: MToken, g: Grantee, item: Item): boolean {
  switch (g.kind) {
    case "user":
      return t.kind === "user" && t.subject === g.userId;
    case "service_user":
      return t.kind === "service_user" && t.subject === g.serviceUserId;
    case "group":
      return t.kind === "user" && item.orgId === t.org && m.members.get(`${t.org}:${t.subject}` as MemberKey)!.groups.includes(g.groupId);
    case "organization":
      return g.orgId === t.org && (t.kind === "user" || g.includeServiceUsers);
  }
}

/** The expected reason (and best level when allowed); records the use like keyward does. */
function expectedDecision(m: Model, t: MToken, action: ActionName, item: Item): { reason: string; level?: Level } {
  const s = status(m, t);
  if (s !== "active") return { reason: REASON_OF[s] };
  t.lastUsed = m.now;
  if (action === "items.unknown") return { reason: "permission_denied" };
  const def = ACTIONS[action];
  const set = t.kind === "user" ? m.members.get(`${t.org}:${t.subject}` as MemberKey)!.set : "worker";
  if (set === null || !(SETS[set].permissions as readonly string[]).includes(def.permission)) return { reason: "permission_denied" };
  if (!("access" in def)) return { reason: "allowed" };
  let best: Level | null = null;
  for (const sh of m.shares.values()) {
    if (sh.item.id !== item.id || sh.item.orgId !== item.orgId) continue;
    if (!includes(m, t, sh.grantee, item)) continue;
    if (best === null || RANK[sh.level] > RANK[best]) best = sh.level;
  }
  if (best === null || RANK[best] < RANK[def.access]) return { reason: "access_denied" };
  return { reason: "allowed", level: best };
}

const activeCount = (m: Model, pred: (t: MToken) => boolean) => m.tokens.filter((t) => pred(t) && status(m, t) === "active").length;

/** Runs a call that may fail; returns the error code or "ok". Anything but a KeywardError fails the test. */
async function outcome(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return "ok";
  } catch (e) {
    if (!(e instanceof KeywardError)) throw e;
    return e.code;
  }
}

// ── commands: one small class each ───────────────────────────────────────────────────────────

type Cmd = fc.AsyncCommand<Model, Real, false>;

class CreateUserToken implements Cmd {
  constructor(readonly key: MemberKey) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [org, user] = MEMBERS[this.key];
    const member = m.members.get(this.key)!;
    const expected =
      member.status !== "active" ? "forbidden" : activeCount(m, (t) => t.kind === "user" && t.org === org && t.subject === user) >= USER_LIMIT ? "token_limit_reached" : "ok";
    let created: { token: string; record: { id: string } } | undefined;
    const got = await outcome(async () => {
      created = await r.kw.tokens.createUserToken({ orgId: org, userId: user, name: `t${m.tokens.length}`, password: "pw" });
    });
    expect(got).toBe(expected);
    if (created) m.tokens.push({ secret: created.token, id: created.record.id, kind: "user", org, subject: user, epoch: member.epoch, createdAt: m.now, lastUsed: null, revoked: false, deleted: false });
  }
  toString = () => `createUserToken(${this.key})`;
}

class CreateServiceToken implements Cmd {
  constructor(readonly actor: "u_ada" | "u_ana") {}
  check = () => true;
  async run(m: Model, r: Real) {
    const expected = !hasPermission(m, `acme:${this.actor}`, "service_users:manage")
      ? "forbidden"
      : activeCount(m, (t) => t.kind === "service_user") >= SERVICE_LIMIT
        ? "token_limit_reached"
        : "ok";
    let created: { token: string; record: { id: string } } | undefined;
    const got = await outcome(async () => {
      created = await r.kw.tokens.createServiceToken({ orgId: "acme", serviceUserId: SERVICE_USER, name: `s${m.tokens.length}`, actorId: this.actor });
    });
    expect(got).toBe(expected);
    if (created) m.tokens.push({ secret: created.token, id: created.record.id, kind: "service_user", org: "acme", subject: SERVICE_USER, epoch: null, createdAt: m.now, lastUsed: null, revoked: false, deleted: false });
  }
  toString = () => `createServiceToken(by ${this.actor})`;
}

class Revoke implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.tokens.length > 0;
  async run(m: Model, r: Real) {
    const t = m.tokens[this.index % m.tokens.length]!;
    // A user revokes their own token; service tokens are revoked by Ada, who needs the permission.
    const actor = t.kind === "user" ? t.subject : "u_ada";
    // One who may not manage it is told not_found, as for an unknown id (issue 11 #9).
    const expected = t.deleted ? "not_found" : t.kind === "service_user" && !hasPermission(m, "acme:u_ada", "service_users:manage") ? "not_found" : "ok";
    expect(await outcome(() => r.kw.tokens.revoke({ orgId: t.org, tokenId: t.id, actorId: actor }))).toBe(expected);
    if (expected === "ok") t.revoked = true;
  }
  toString = () => `revoke(#${this.index})`;
}

class AdminDelete implements Cmd {
  constructor(
    readonly index: number,
    readonly actor: "u_ada" | "u_ana",
  ) {}
  check = (m: Readonly<Model>) => m.tokens.length > 0;
  async run(m: Model, r: Real) {
    const t = m.tokens[this.index % m.tokens.length]!;
    const key = `${t.org}:${this.actor}` as MemberKey;
    const permission = t.kind === "user" ? "api_tokens:manage" : "service_users:manage";
    const allowed = key in MEMBERS && hasPermission(m, key, permission);
    const expected = !allowed ? "forbidden" : t.deleted ? "not_found" : "ok";
    expect(await outcome(() => r.kw.tokens.delete({ orgId: t.org, tokenId: t.id, actorId: this.actor }))).toBe(expected);
    if (expected === "ok") t.deleted = true;
  }
  toString = () => `adminDelete(#${this.index} by ${this.actor})`;
}

class Deactivate implements Cmd {
  constructor(readonly key: MemberKey) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [orgId, userId] = MEMBERS[this.key];
    const member = m.members.get(this.key)!;
    // A user who left is no longer a member: nothing to deactivate.
    const expected = member.status === "left" ? "not_found" : "ok";
    expect(await outcome(() => r.kw.directory.deactivateMember({ orgId, userId }))).toBe(expected);
    if (expected === "ok") member.status = "deactivated";
  }
  toString = () => `deactivate(${this.key})`;
}

class Reactivate implements Cmd {
  constructor(readonly key: MemberKey) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [orgId, userId] = MEMBERS[this.key];
    const member = m.members.get(this.key)!;
    // Only addMember brings back a user who left.
    const expected = member.status === "left" ? "not_found" : "ok";
    expect(await outcome(() => r.kw.directory.reactivateMember({ orgId, userId }))).toBe(expected);
    if (member.status === "deactivated") {
      member.status = "active";
      member.epoch = m.nextEpoch++;
    }
  }
  toString = () => `reactivate(${this.key})`;
}

class Leave implements Cmd {
  constructor(readonly key: MemberKey) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [orgId, userId] = MEMBERS[this.key];
    await r.kw.directory.removeMember({ orgId, userId });
    const member = m.members.get(this.key)!;
    member.status = "left";
    member.groups = [];
  }
  toString = () => `leave(${this.key})`;
}

class Rejoin implements Cmd {
  constructor(
    readonly key: MemberKey,
    readonly pick: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [orgId, userId] = MEMBERS[this.key];
    const options = SETS_OF_ORG[orgId]!;
    const set = options[this.pick % options.length]!;
    await r.kw.directory.addMember({ orgId, userId, permissionSetId: set });
    const member = m.members.get(this.key)!;
    member.set = set;
    if (member.status !== "active") {
      member.status = "active";
      member.epoch = m.nextEpoch++;
      member.groups = [];
    }
  }
  toString = () => `rejoin(${this.key}, set #${this.pick})`;
}

class ChangePermissions implements Cmd {
  constructor(
    readonly key: MemberKey,
    readonly pick: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [orgId, userId] = MEMBERS[this.key];
    const options = SETS_OF_ORG[orgId]!;
    const set = options[this.pick % options.length]!;
    const member = m.members.get(this.key)!;
    const expected = member.status === "left" ? "not_found" : "ok";
    expect(await outcome(() => r.kw.directory.updateMember({ orgId, userId, permissionSetId: set }))).toBe(expected);
    if (expected === "ok") member.set = set;
  }
  toString = () => `changePermissions(${this.key}, set #${this.pick})`;
}

class Share implements Cmd {
  constructor(
    readonly item: Item,
    readonly grantee: Grantee,
    readonly level: Level,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    // A group can only be named by its own organization's items.
    const expected = this.grantee.kind === "group" && GROUP_ORG[this.grantee.groupId] !== this.item.orgId ? "not_found" : "ok";
    let id: string | undefined;
    expect(
      await outcome(async () => {
        id = (await r.kw.directory.share({ item: this.item, grantee: this.grantee, level: this.level })).id;
      }),
    ).toBe(expected);
    if (id !== undefined) m.shares.set(id, { item: this.item, grantee: this.grantee, level: this.level });
  }
  toString = () => `share(${this.item.id} → ${JSON.stringify(this.grantee)} @${this.level})`;
}

class Unshare implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.shares.size > 0;
  async run(m: Model, r: Real) {
    const id = [...m.shares.keys()][this.index % m.shares.size]!;
    expect(await r.kw.directory.unshare({ orgId: m.shares.get(id)!.item.orgId, id })).toBe(true);
    m.shares.delete(id);
  }
  toString = () => `unshare(#${this.index})`;
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += this.ms;
    r.clock.now = m.now;
  }
  toString = () => `advance(${this.ms} ms)`;
}

/** Jumps to just before, exactly at, or just after a user token's 30-day boundary. */
class AdvanceToBoundary implements Cmd {
  constructor(
    readonly index: number,
    readonly delta: -1 | 0 | 1,
  ) {}
  check = (m: Readonly<Model>) => m.tokens.some((t) => t.kind === "user");
  async run(m: Model, r: Real) {
    const users = m.tokens.filter((t) => t.kind === "user");
    const t = users[this.index % users.length]!;
    const target = (t.lastUsed ?? t.createdAt) + WINDOW + this.delta;
    if (target > m.now) m.now = target;
    r.clock.now = m.now;
  }
  toString = () => `advanceToBoundary(user token #${this.index}, ${this.delta} ms)`;
}

class Authorize implements Cmd {
  constructor(
    readonly index: number,
    readonly action: ActionName,
    readonly item: Item,
  ) {}
  check = (m: Readonly<Model>) => m.tokens.length > 0;
  async run(m: Model, r: Real) {
    const t = m.tokens[this.index % m.tokens.length]!;
    const expected = expectedDecision(m, t, this.action, this.item);
    const needsItem = this.action !== "reports.export" && this.action !== "items.unknown";
    const d: Decision = await r.kw.authorize(t.secret, this.action as keyof typeof ACTIONS, needsItem ? this.item : undefined);
    expect({ reason: d.reason, level: d.allowed ? d.grant?.level : undefined }).toEqual({ reason: expected.reason, level: expected.level });
    expect(d.allowed).toBe(expected.reason === "allowed");
    if (d.allowed) expect(d).toMatchObject({ tokenId: t.id, orgId: t.org, subject: { kind: t.kind, id: t.subject } });
  }
  toString = () => `authorize(#${this.index}, ${this.action}, ${this.item.orgId}/${this.item.id})`;
}

class Login implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.tokens.length > 0;
  async run(m: Model, r: Real) {
    const t = m.tokens[this.index % m.tokens.length]!;
    const s = status(m, t);
    const expected = s !== "active" ? REASON_OF[s] : t.kind === "service_user" ? "login_not_allowed" : "ok";
    if (s === "active") t.lastUsed = m.now;
    expect(await outcome(() => r.kw.login(t.secret))).toBe(expected);
  }
  toString = () => `login(#${this.index})`;
}

/** The listings agree with the model: each live token's status, and deleted ones are gone. */
class ListTokens implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    const listed = new Map<string, string>();
    for (const [orgId, userId] of Object.values(MEMBERS)) {
      for (const v of (await r.kw.tokens.listMine({ orgId, userId })).items) listed.set(v.id, v.status);
    }
    const svc = await r.store.listTokens({ orgId: "acme", kind: "service_user" });
    const expected = new Map<string, string>();
    for (const t of m.tokens) if (!t.deleted && t.kind === "user") expected.set(t.id, status(m, t));
    expect(listed).toEqual(expected);
    expect(svc.map((e) => e.token.id).sort()).toEqual(m.tokens.filter((t) => t.kind === "service_user").map((t) => t.id).sort());
    // Limits hold at every step.
    for (const [org, user] of Object.values(MEMBERS)) {
      expect(activeCount(m, (t) => t.kind === "user" && t.org === org && t.subject === user)).toBeLessThanOrEqual(USER_LIMIT);
    }
    expect(activeCount(m, (t) => t.kind === "service_user")).toBeLessThanOrEqual(SERVICE_LIMIT);
  }
  toString = () => "listTokens()";
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────

const memberKey = fc.constantFrom(...MEMBER_KEYS);
const actor = fc.constantFrom("u_ada" as const, "u_ana" as const);
const commands = [
  fc.tuple(memberKey).map(([k]) => new CreateUserToken(k)),
  fc.tuple(memberKey).map(([k]) => new CreateUserToken(k)),
  actor.map((a) => new CreateServiceToken(a)),
  fc.nat().map((i) => new Revoke(i)),
  fc.tuple(fc.nat(), actor).map(([i, a]) => new AdminDelete(i, a)),
  memberKey.map((k) => new Deactivate(k)),
  memberKey.map((k) => new Reactivate(k)),
  memberKey.map((k) => new Leave(k)),
  fc.tuple(memberKey, fc.nat()).map(([k, p]) => new Rejoin(k, p)),
  fc.tuple(memberKey, fc.nat()).map(([k, p]) => new ChangePermissions(k, p)),
  fc.tuple(fc.constantFrom(...ITEMS), fc.constantFrom(...GRANTEES), fc.constantFrom(...LEVELS)).map(([i, g, l]) => new Share(i, g, l)),
  fc.tuple(fc.constantFrom(...ITEMS), fc.constantFrom(...GRANTEES), fc.constantFrom(...LEVELS)).map(([i, g, l]) => new Share(i, g, l)),
  fc.nat().map((i) => new Unshare(i)),
  fc.oneof(fc.integer({ min: 0, max: 2 * DAY }), fc.integer({ min: 10 * DAY, max: 31 * DAY })).map((ms) => new Advance(ms)),
  fc.tuple(fc.nat(), fc.constantFrom(-1 as const, 0 as const, 1 as const)).map(([i, d]) => new AdvanceToBoundary(i, d)),
  fc.tuple(fc.nat(), fc.constantFrom(...ACTION_NAMES), fc.constantFrom(...ITEMS)).map(([i, a, it]) => new Authorize(i, a, it)),
  fc.tuple(fc.nat(), fc.constantFrom(...ACTION_NAMES), fc.constantFrom(...ITEMS)).map(([i, a, it]) => new Authorize(i, a, it)),
  fc.tuple(fc.nat(), fc.constantFrom(...ACTION_NAMES), fc.constantFrom(...ITEMS)).map(([i, a, it]) => new Authorize(i, a, it)),
  fc.nat().map((i) => new Login(i)),
  fc.constant(new ListTokens()),
];

/** Both sides, starting with one token per membership and one service token, so requests have material from the first command. */
async function setup(): Promise<{ model: Model; real: Real }> {
  const model = initialModel();
  const real = await initialReal();
  for (const key of MEMBER_KEYS) await new CreateUserToken(key).run(model, real);
  await new CreateServiceToken("u_ada").run(model, real);
  return { model, real };
}

describe("model-based: the whole service against a simple model", () => {
  it("R3–R16 any sequence of creations, revocations, deletions, membership and permission changes, shares and clock moves keeps keyward in step with the model", async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 50, size: "max" }), (cmds) => fc.asyncModelRun(setup, cmds)),
      { numRuns: 200 },
    );
  });
});
