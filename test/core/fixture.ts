/**
 * A small, readable world for the core tests: two organizations, a few people with different
 * permission sets, nested sites, a group and a service user, over the public API
 * (`createKeyward` + `memoryStore`) with an injected clock and a captured event log.
 */
import { createKeyward, type KeywardEvent, type KeywardOptions, type KeywardStore, type SyncReads } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;
export const THIRTY_DAYS = 30 * DAY;
/** 2026-01-01T00:00:00Z: where every test clock starts. */
export const T0 = Date.UTC(2026, 0, 1);
export const PASSWORD = "correct horse battery staple";

/** The host's vocabulary for the tests. */
export const ACTIONS = {
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
  "inspections.delete": { permission: "inspections:delete", access: "delete", item: "inspection" },
  "templates.view": { permission: "templates:view", access: "view", item: "template" },
  "reports.export": { permission: "reports:export" },
} as const;
export type Action = keyof typeof ACTIONS;

export const ADMIN_PERMISSIONS = [
  "api_tokens:manage",
  "service_users:manage",
  "inspections:view",
  "inspections:edit",
  "inspections:delete",
  "templates:view",
  "reports:export",
];
export const INSPECTOR_PERMISSIONS = ["inspections:view", "inspections:edit", "inspections:delete", "templates:view", "reports:export"];

export interface WorldOptions {
  store?: KeywardStore;
  limits?: KeywardOptions["limits"];
  inactivityMs?: number;
  pepper?: string;
  verifyPassword?: KeywardOptions["verifyPassword"];
  trackClients?: KeywardOptions["trackClients"];
  warnings?: KeywardOptions["warnings"];
}

/**
 * Builds the world:
 * - `acme` (password logins) and `beta` (another organization), `sso` (SSO-only);
 * - Ada: acme administrator (every permission, manages tokens and service users);
 * - Ana: acme inspector, member of the region "North" and of the group "Auditors"; also a beta member;
 * - Bob: acme viewer (`inspections:view` only), member of the site "Harbour" (North › Oslo › Harbour);
 * - Carl: acme member with no permission set;
 * - Bea: beta administrator; Sam: member of the SSO-only organization;
 * - "BI export": an acme service user created by Ada, with its own permission set.
 */
export async function world(options: WorldOptions = {}) {
  const clock = { now: T0 };
  const events: KeywardEvent[] = [];
  const store = options.store ?? memoryStore();
  const kw = createKeyward({
    store,
    actions: ACTIONS,
    clock: () => clock.now,
    verifyPassword: options.verifyPassword ?? ((_userId, password) => password === PASSWORD),
    onEvent: (e) => events.push(e),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.inactivityMs ? { inactivityMs: options.inactivityMs } : {}),
    ...(options.pepper ? { pepper: options.pepper } : {}),
    ...(options.trackClients !== undefined ? { trackClients: options.trackClients } : {}),
    ...(options.warnings !== undefined ? { warnings: options.warnings } : {}),
  });
  const d = kw.directory;
  const acme = await d.createOrganization({ id: "acme", name: "Acme Inspections" });
  const beta = await d.createOrganization({ id: "beta", name: "Beta Builders" });
  const sso = await d.createOrganization({ id: "sso", name: "SSO Only Ltd", ssoOnly: true });

  const ada = await d.upsertUser({ id: "u_ada", name: "Ada Admin" });
  const ana = await d.upsertUser({ id: "u_ana", name: "Ana Inspector" });
  const bob = await d.upsertUser({ id: "u_bob", name: "Bob Viewer" });
  const carl = await d.upsertUser({ id: "u_carl", name: "Carl Nobody" });
  const bea = await d.upsertUser({ id: "u_bea", name: "Bea Beta" });
  const sam = await d.upsertUser({ id: "u_sam", name: "Sam Sso" });

  const sets = {
    admin: await d.createPermissionSet({ id: "ps_admin", orgId: acme.id, name: "Administrator", permissions: ADMIN_PERMISSIONS }),
    inspector: await d.createPermissionSet({ id: "ps_inspector", orgId: acme.id, name: "Inspector", permissions: INSPECTOR_PERMISSIONS }),
    viewer: await d.createPermissionSet({ id: "ps_viewer", orgId: acme.id, name: "Viewer", permissions: ["inspections:view"] }),
    none: await d.createPermissionSet({ id: "ps_none", orgId: acme.id, name: "Nothing", permissions: [] }),
    bot: await d.createPermissionSet({ id: "ps_bot", orgId: acme.id, name: "Bot", permissions: ["inspections:view", "inspections:edit", "reports:export"] }),
    betaAdmin: await d.createPermissionSet({ id: "ps_beta_admin", orgId: beta.id, name: "Beta admin", permissions: ADMIN_PERMISSIONS }),
    betaInspector: await d.createPermissionSet({ id: "ps_beta_inspector", orgId: beta.id, name: "Beta inspector", permissions: INSPECTOR_PERMISSIONS }),
    ssoMember: await d.createPermissionSet({ id: "ps_sso", orgId: sso.id, name: "SSO member", permissions: ["inspections:view"] }),
  };

  const north = await d.createSite({ id: "site_north", orgId: acme.id, name: "North" });
  const oslo = await d.createSite({ id: "site_oslo", orgId: acme.id, name: "Oslo", parentId: north.id });
  const harbour = await d.createSite({ id: "site_harbour", orgId: acme.id, name: "Harbour", parentId: oslo.id });
  const south = await d.createSite({ id: "site_south", orgId: acme.id, name: "South" });
  const auditors = await d.createGroup({ id: "grp_auditors", orgId: acme.id, name: "Auditors" });
  const betaCrew = await d.createGroup({ id: "grp_beta_crew", orgId: beta.id, name: "Beta crew" });
  const betaSite = await d.createSite({ id: "site_beta", orgId: beta.id, name: "Beta HQ" });

  await d.addMember({ orgId: acme.id, userId: ada.id, permissionSetId: sets.admin.id });
  await d.addMember({ orgId: acme.id, userId: ana.id, permissionSetId: sets.inspector.id, siteIds: [north.id], groupIds: [auditors.id] });
  await d.addMember({ orgId: acme.id, userId: bob.id, permissionSetId: sets.viewer.id, siteIds: [harbour.id] });
  await d.addMember({ orgId: acme.id, userId: carl.id });
  await d.addMember({ orgId: beta.id, userId: bea.id, permissionSetId: sets.betaAdmin.id, groupIds: [betaCrew.id], siteIds: [betaSite.id] });
  await d.addMember({ orgId: beta.id, userId: ana.id, permissionSetId: sets.betaInspector.id, groupIds: [betaCrew.id], siteIds: [betaSite.id] });
  await d.addMember({ orgId: sso.id, userId: sam.id, permissionSetId: sets.ssoMember.id });

  const bot = await kw.serviceUsers.create({ id: "svc_bi", orgId: acme.id, name: "BI export", permissionSetId: sets.bot.id, actorId: ada.id });

  /** An acme inspection (or another organization's, with `orgId`). */
  const inspection = (id: string, attributes?: Record<string, string>, orgId = acme.id) => ({
    orgId,
    type: "inspection",
    id,
    ...(attributes ? { attributes } : {}),
  });

  const userToken = (userId: string, orgId: string = acme.id, name = "laptop") =>
    kw.tokens.createUserToken({ orgId, userId, name, password: PASSWORD });
  const serviceToken = (serviceUserId: string = bot.id, name = "nightly export", actorId: string = ada.id) =>
    kw.tokens.createServiceToken({ orgId: acme.id, serviceUserId, name, actorId });

  events.length = 0;
  return {
    kw,
    store,
    clock,
    events,
    advance: (ms: number) => {
      clock.now += ms;
    },
    orgs: { acme, beta, sso },
    users: { ada, ana, bob, carl, bea, sam },
    sets,
    sites: { north, oslo, harbour, south, betaSite },
    groups: { auditors, betaCrew },
    bot,
    inspection,
    userToken,
    serviceToken,
  };
}

export type World = Awaited<ReturnType<typeof world>>;

/** Runs `f` and returns the error it throws (or rejects with); fails when it does not throw. */
export async function caught(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection, but the call succeeded");
}

/**
 * Wraps a store so every method call is counted (`calls`), and optionally replaced.
 * Used to show that malformed tokens cause no store call, and to make a store fail.
 */
export function spyStore(
  inner: KeywardStore,
  override: Partial<Record<keyof KeywardStore, (...args: unknown[]) => unknown>> = {},
): { store: KeywardStore; calls: string[] } {
  const calls: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any store method
  const spied = (name: string, f: (...a: any[]) => unknown, self: unknown) => (...args: unknown[]) => {
    calls.push(name);
    const replacement = override[name as keyof KeywardStore];
    return replacement ? replacement(...args) : f.apply(self, args);
  };
  // The synchronous reads (memory store) are spied on too, under the same names. A store whose
  // reads or use record are overridden has none: the overrides are asynchronous.
  const overridden = "loadDecision" in override || "loadAccess" in override || "recordTokenUse" in override;
  let sync: SyncReads | undefined;
  const store: KeywardStore = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "sync") return sync;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== "string" || typeof value !== "function") return value;
      return spied(prop, value as (...a: unknown[]) => unknown, target);
    },
  });
  const own = inner.sync;
  if (own !== undefined && !overridden) {
    sync = {
      store,
      loadDecision: spied("loadDecision", own.loadDecision, own) as SyncReads["loadDecision"],
      loadAccess: spied("loadAccess", own.loadAccess, own) as SyncReads["loadAccess"],
      recordTokenUse: spied("recordTokenUse", own.recordTokenUse, own) as SyncReads["recordTokenUse"],
    };
  }
  return { store, calls };
}
