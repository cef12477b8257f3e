/**
 * The inspections platform of the example: its actions (keyward's vocabulary), its own data
 * (templates, inspections, assets: keyward never stores items, only shares and rules about them),
 * and a seed of the directory that tells the story of both token kinds: an organization with users,
 * groups and sites, a partner organization, a service user.
 */
import type { AccessFilter, ItemRef, Keyward } from "../../src/index.js";

/** The host's actions: a permission, and for item actions an access level on an item type. */
export const ACTIONS = {
  "templates.view": { permission: "templates:view", access: "view", item: "template" },
  "templates.edit": { permission: "templates:edit", access: "edit", item: "template" },
  "templates.delete": { permission: "templates:delete", access: "delete", item: "template" },
  "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
  "inspections.edit": { permission: "inspections:edit", access: "edit", item: "inspection" },
  "assets.view": { permission: "assets:view", access: "view", item: "asset" },
  "users.manage": { permission: "users:manage" },
  "tokens.manage": { permission: "api_tokens:manage" },
} as const;
export type Action = keyof typeof ACTIONS;
export type InspectionsKeyward = Keyward<Action>;

/** A row of the host's own database. */
export interface Row {
  id: string;
  orgId: string;
  title: string;
  /** What access rules may test: the site and template of an inspection, the site of an asset. */
  attributes: Record<string, string>;
}

/** The host's own data: three tables, and the `ItemRef` keyward needs for a row. */
export interface InspectionsDb {
  templates: Map<string, Row>;
  inspections: Map<string, Row>;
  assets: Map<string, Row>;
  /** The item keyward authorizes for a row, or `null` when there is no such row. */
  ref(type: "template" | "inspection" | "asset", id: string | undefined): ItemRef | null;
}

/** An empty database. */
export function createDb(): InspectionsDb {
  const db: InspectionsDb = {
    templates: new Map(),
    inspections: new Map(),
    assets: new Map(),
    ref(type, id) {
      const table = type === "template" ? db.templates : type === "inspection" ? db.inspections : db.assets;
      const row = id === undefined ? undefined : table.get(id);
      return row ? { orgId: row.orgId, type, id: row.id, attributes: row.attributes } : null;
    },
  };
  return db;
}

/**
 * The rows of one table that a list filter matches: what a list endpoint answers. The filter
 * comes from ONE `kw.accessible(token, action, type)` call (the list guard); `matches` is exactly
 * `authorize(token, action, item).allowed` for each row.
 *
 * @example
 * ```ts
 * app.get("/inspections", guard.list({ action: "inspections.view" }), (req, res) => res.json(visibleRows(db, "inspection", accessOf(res).filter)));
 * ```
 */
export function visibleRows(db: InspectionsDb, type: "template" | "inspection" | "asset", filter: Pick<AccessFilter, "matches">): Row[] {
  const table = type === "template" ? db.templates : type === "inspection" ? db.inspections : db.assets;
  return [...table.values()].filter((row) => filter.matches({ orgId: row.orgId, type, id: row.id, attributes: row.attributes }));
}

/** Passwords of the seeded people (the host's own login system checks them: R4). */
export const PASSWORDS: ReadonlyMap<string, string> = new Map([
  ["u_ada", "correct horse"],
  ["u_ben", "battery staple"],
  ["u_cleo", "tr0ub4dor"],
]);

/**
 * Seeds the directory and the host's data:
 * - Acme Inspections: Ada (administrator), Ben (inspector, in the Auditors group and the North
 *   region), Cleo (inspector at Oslo, which lies inside North); the service user "BI export"
 *   with the Reporting permission set, created by Ada;
 * - the template tpl_safety, shared with Auditors (edit) and with BI export (view); a rule that
 *   gives Oslo's members edit on Oslo's inspections; an inspection and an asset at Oslo; an
 *   inspection at North that no rule covers, shared with BI export (view);
 * - Globex, a partner, shares one checklist with all of Acme's users (view) and keeps another private.
 */
export async function seedInspections(kw: InspectionsKeyward, db: InspectionsDb = createDb()) {
  const d = kw.directory;
  const acme = await d.createOrganization({ id: "acme", name: "Acme Inspections" });
  const globex = await d.createOrganization({ id: "globex", name: "Globex (a partner)" });
  const sets = {
    admin: await d.createPermissionSet({ id: "ps_admin", orgId: acme.id, name: "Administrator", permissions: ["api_tokens:manage", "service_users:manage", "users:manage", "templates:view", "templates:edit", "templates:delete", "inspections:view", "inspections:edit", "assets:view"] }),
    inspector: await d.createPermissionSet({ id: "ps_inspector", orgId: acme.id, name: "Inspector", permissions: ["templates:view", "templates:edit", "templates:delete", "inspections:view", "inspections:edit", "assets:view"] }),
    reporting: await d.createPermissionSet({ id: "ps_reporting", orgId: acme.id, name: "Reporting", permissions: ["templates:view", "inspections:view", "assets:view"] }),
  };
  const auditors = await d.createGroup({ id: "grp_auditors", orgId: acme.id, name: "Auditors" });
  const north = await d.createSite({ id: "site_north", orgId: acme.id, name: "North region" });
  const oslo = await d.createSite({ id: "site_oslo", orgId: acme.id, name: "Oslo", parentId: north.id });
  for (const [id, name] of [["u_ada", "Ada Admin"], ["u_ben", "Ben Berg"], ["u_cleo", "Cleo Costa"]] as const) await d.upsertUser({ id, name });
  await d.addMember({ orgId: acme.id, userId: "u_ada", permissionSetId: sets.admin.id });
  await d.addMember({ orgId: acme.id, userId: "u_ben", permissionSetId: sets.inspector.id, groupIds: [auditors.id], siteIds: [north.id] });
  await d.addMember({ orgId: acme.id, userId: "u_cleo", permissionSetId: sets.inspector.id, siteIds: [oslo.id] });
  const bi = await kw.serviceUsers.create({ id: "svc_bi", orgId: acme.id, name: "BI export", permissionSetId: sets.reporting.id, actorId: "u_ada" });

  db.templates.set("tpl_safety", { id: "tpl_safety", orgId: acme.id, title: "Site safety walk", attributes: {} });
  db.templates.set("tpl_partner_checklist", { id: "tpl_partner_checklist", orgId: globex.id, title: "Partner handover checklist", attributes: {} });
  db.templates.set("tpl_internal", { id: "tpl_internal", orgId: globex.id, title: "Globex internal audit", attributes: {} });
  db.inspections.set("insp_1042", { id: "insp_1042", orgId: acme.id, title: "Oslo depot, weekly walk", attributes: { siteId: oslo.id, templateId: "tpl_safety" } });
  db.inspections.set("insp_1043", { id: "insp_1043", orgId: acme.id, title: "North yard, monthly audit", attributes: { siteId: north.id, templateId: "tpl_safety" } });
  db.assets.set("asset_forklift_7", { id: "asset_forklift_7", orgId: acme.id, title: "Forklift 7", attributes: { siteId: oslo.id } });

  await d.share({ item: { orgId: acme.id, type: "template", id: "tpl_safety" }, grantee: { kind: "group", groupId: auditors.id }, level: "edit" });
  await d.share({ item: { orgId: acme.id, type: "template", id: "tpl_safety" }, grantee: { kind: "service_user", serviceUserId: bi.id }, level: "view" });
  await d.addRule({ orgId: acme.id, itemType: "inspection", conditions: { siteId: [oslo.id] }, grantee: { kind: "site", siteId: oslo.id }, level: "edit" });
  await d.addRule({ orgId: acme.id, itemType: "asset", conditions: { siteId: [oslo.id] }, grantee: { kind: "site", siteId: oslo.id }, level: "view" });
  await d.share({ item: { orgId: globex.id, type: "template", id: "tpl_partner_checklist" }, grantee: { kind: "organization", orgId: acme.id, includeServiceUsers: false }, level: "view" });
  // The North yard audit is no rule's: only the BI export sees it, through its own share.
  await d.share({ item: { orgId: acme.id, type: "inspection", id: "insp_1043" }, grantee: { kind: "service_user", serviceUserId: bi.id }, level: "view" });

  return { db, acme, globex, sets, auditors, sites: { north, oslo }, bi };
}
