/**
 * Validation at the public boundary (zod). A failure becomes `invalid_input` naming the field.
 * @module
 */
import { z } from "zod";
import { fieldError, KeywardError } from "../core/errors.js";
import type { TokenStatus } from "../core/lifecycle.js";
import type { ItemRef, MembershipStatus } from "../core/types.js";
import { pageOptions, statusOption } from "./paging.js";

/**
 * Size limits of directory objects: beyond them a call is `invalid_input` naming
 * the field. Documented in the README's table of limits.
 */
export const LIMITS = {
  /** Characters in a display name (organization, user, permission set, group, site, service user, token). */
  name: 200,
  /** Conditions (attributes) of one access rule. */
  conditionsPerRule: 32,
  /** Values of one condition. */
  valuesPerCondition: 100,
  /** Characters in one condition value. */
  conditionValue: 200,
  /** Characters in an attribute name. */
  attributeName: 100,
  /** Sites from the root to a site, itself included (region › area › site is 3). */
  siteDepth: 16,
} as const;

/** What an id is made of: printable ASCII without spaces. */
const PRINTABLE_ID = /^[\x21-\x7e]+$/;
/** An identifier: 1–200 printable ASCII characters, no spaces. */
export const id = z.string().min(1).max(200).regex(PRINTABLE_ID, "must be printable ASCII without spaces");
/** A display name: 1–200 characters, no control characters. */
export const name = z.string().trim().min(1).max(LIMITS.name).regex(/^[^\p{Cc}]+$/u, "must not contain control characters");
/**
 * An attribute name in a rule's condition: an identifier (`siteId`, `template_id`) that is not a
 * property every object has (`__proto__`, `constructor`, `toString`…), nor `prototype`: such a
 * key is dropped or misread by plain objects, and a dropped condition widens a rule.
 */
export const attributeName = z
  .string()
  .max(LIMITS.attributeName)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an identifier (a letter or _, then letters, digits or _)")
  .refine((k) => !(k in Object.prototype) && k !== "prototype", "is a reserved name");

/**
 * A rule's conditions. The raw object's own keys are checked one by one before zod builds its
 * copy, and the copy must keep every one of them: a condition is never silently dropped.
 */
export const conditions = z.unknown().transform((raw, ctx): Record<string, string[]> => {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    ctx.addIssue({ code: "custom", message: "expected an object of attribute → values" });
    return z.NEVER;
  }
  const keys = Object.keys(raw);
  if (keys.length > LIMITS.conditionsPerRule) {
    ctx.addIssue({ code: "custom", message: `at most ${LIMITS.conditionsPerRule} conditions per rule` });
    return z.NEVER;
  }
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const values = z.array(z.string().min(1).max(LIMITS.conditionValue)).min(1).max(LIMITS.valuesPerCondition);
  for (const key of keys) {
    const k = attributeName.safeParse(key);
    if (!k.success) {
      ctx.addIssue({ code: "custom", message: `attribute name ${JSON.stringify(key)} ${k.error.issues[0]?.message ?? "is not allowed"}`, path: [key] });
      return z.NEVER;
    }
    const v = values.safeParse((raw as Record<string, unknown>)[key]);
    if (!v.success) {
      ctx.addIssue({ code: "custom", message: v.error.issues[0]?.message ?? "invalid values", path: [key, ...(v.error.issues[0]?.path ?? [])] as PropertyKey[] });
      return z.NEVER;
    }
    out[key] = v.data;
  }
  if (Object.keys(out).length !== keys.length) {
    ctx.addIssue({ code: "custom", message: "a condition would be dropped" });
    return z.NEVER;
  }
  // A plain object again (stores serialize it); every key was checked above.
  return { ...out };
}) as unknown as z.ZodType<Record<string, string[]>, Record<string, readonly string[]>>;

/** A permission name. */
export const permission = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/);
/** An access level (R13). */
export const level = z.enum(["view", "edit", "delete"]);

export const grantee = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("user"), userId: id }).strict(),
  z.object({ kind: z.literal("service_user"), serviceUserId: id }).strict(),
  z.object({ kind: z.literal("group"), groupId: id }).strict(),
  z.object({ kind: z.literal("site"), siteId: id }).strict(),
  z
    .object({ kind: z.literal("organization"), orgId: id, includeServiceUsers: z.boolean().default(false) })
    .strict(),
]);

export const itemKey = z.object({ orgId: id, type: id, id });

/** Most entries of one list of a token's restriction (R17). */
const RESTRICTION_LIST_MAX = 1000;

/**
 * A token's restriction (R17), as a creation takes it: each list at most 1000 entries; `maxLevel`
 * `view` or `edit`. `null` or absent: a full-access token.
 */
export const restriction = z
  .object({
    permissions: z.array(permission).max(RESTRICTION_LIST_MAX).readonly().optional(),
    maxLevel: z.enum(["view", "edit"]).optional(),
    itemTypes: z.array(id).max(RESTRICTION_LIST_MAX).readonly().optional(),
    groupIds: z.array(id).max(RESTRICTION_LIST_MAX).readonly().optional(),
    siteIds: z.array(id).max(RESTRICTION_LIST_MAX).readonly().optional(),
    items: z.array(z.object({ orgId: id, type: id, id }).strict()).max(RESTRICTION_LIST_MAX).readonly().optional(),
  })
  .strict();

// ── the schemas of the instance's calls; each one's input is the named type of `inputs.ts` (a type test checks it) ──
// Internal: no schema is exported from a package entry. Use: `const v = parseInput(memberRefSchema, input)`.

const MEMBER_STATUSES = ["active", "deactivated", "left"] as const;
const TOKEN_STATUSES = ["active", "revoked", "expired", "subject_inactive", "deleted"] as const;
/** The statuses a member listing filters on. */
export const memberStatuses: readonly MembershipStatus[] = MEMBER_STATUSES;
/** The statuses a token listing filters on. */
export const tokenStatuses: readonly TokenStatus[] = TOKEN_STATUSES;

const tokenListOptions = {
  ...pageOptions,
  status: statusOption(TOKEN_STATUSES),
  sort: z.enum(["created", "last_used", "expires"]).optional(),
  order: z.enum(["asc", "desc"]).optional(),
};

/** R19: an expiry date in epoch milliseconds (whether it is after now is checked against the clock). */
export const expiresAtSchema = z.number().int().min(1).max(8.64e15);
export const createUserTokenSchema = z.object({ orgId: id, userId: id, name, password: z.string().max(1024).optional(), expiresAt: expiresAtSchema.optional(), restriction: restriction.nullable().optional() }).strict();
export const createServiceTokenSchema = z.object({ orgId: id, serviceUserId: id, name, actorId: id, expiresAt: expiresAtSchema.optional(), restriction: restriction.nullable().optional() }).strict();
export const previewReachSchema = z
  .object({ orgId: id, actorId: id, subject: z.object({ kind: z.enum(["user", "service_user"]), id }).strict(), restriction: restriction.nullable().optional() })
  .strict();
/** R19: a lifetime in milliseconds: a positive integer, at most 100 years. */
const lifetimeMs = z.number().int().min(1).max(100 * 366 * 86_400_000);
/** R19: an organization's token policy. */
export const tokenPolicySchema = z
  .object({
    maxLifetimeMs: z.object({ user: lifetimeMs.nullable().optional(), service_user: lifetimeMs.nullable().optional() }).strict().optional(),
    requireExpiry: z.boolean().optional(),
    userTokens: z.boolean().optional(),
  })
  .strict();
export const setTokenPolicySchema = z
  .object({
    orgId: id,
    policy: tokenPolicySchema.nullable(),
    existing: z.enum(["keep", "apply"]).default("keep"),
    noticeMs: z.number().int().min(0).max(100 * 366 * 86_400_000).optional(),
  })
  .strict();
export const getTokenPolicySchema = z.object({ orgId: id }).strict();
export const listMyTokensSchema = z.object({ orgId: id, userId: id, ...tokenListOptions }).strict();
export const listOrganizationTokensSchema = z.object({ orgId: id, actorId: id, ...tokenListOptions }).strict();
export const listServiceTokensSchema = z.object({ orgId: id, actorId: id, serviceUserId: id.optional(), ...tokenListOptions }).strict();
export const tokenActionSchema = z.object({ orgId: id, tokenId: id, actorId: id }).strict();
export const sweepExpiredSchema = z.object({ orgId: id }).strict();
export const rotateTokenSchema = z
  .object({ orgId: id, tokenId: id, actorId: id, password: z.string().max(1024).optional(), graceMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() })
  .strict();
export const actorSchema = z.object({ orgId: id, actorId: id }).strict();
/** Where a leaked secret was found (R22); the secret itself is checked by the token parser. */
export const leakLocationSchema = z.object({ source: z.string().min(1).max(200), url: z.string().max(2048) }).strict();
/** A leak report: any `secret` is accepted here (one that is not a token is answered `malformed`, not refused). */
export const reportLeakSchema = z.object({ secret: z.unknown(), found: leakLocationSchema }).strict();

export const createOrganizationSchema = z.object({ id: id.optional(), name, ssoOnly: z.boolean().default(false) }).strict();
export const updateOrganizationSchema = z.object({ id, name: name.optional(), ssoOnly: z.boolean().optional() }).strict();
export const upsertUserSchema = z.object({ id: id.optional(), name }).strict();
export const idSchema = z.object({ id }).strict();
export const memberSchema = z
  .object({
    orgId: id,
    userId: id,
    permissionSetId: id.nullable().optional(),
    groupIds: z.array(id).max(1000).optional(),
    siteIds: z.array(id).max(1000).optional(),
    seat: z.boolean().optional(),
  })
  .strict();
export const memberRefSchema = z.object({ orgId: id, userId: id, actorId: id.optional() }).strict();
export const listMembersSchema = z.object({ orgId: id, ...pageOptions, status: statusOption(MEMBER_STATUSES) }).strict();
export const seatCountSchema = z.object({ orgId: id }).strict();
export const createPermissionSetSchema = z.object({ id: id.optional(), orgId: id, name, permissions: z.array(permission).max(1000) }).strict();
export const updatePermissionSetSchema = z.object({ orgId: id, id, name: name.optional(), permissions: z.array(permission).max(1000).optional() }).strict();
export const createGroupSchema = z.object({ id: id.optional(), orgId: id, name }).strict();
export const createSiteSchema = z.object({ id: id.optional(), orgId: id, name, parentId: id.nullable().optional() }).strict();
export const placementSchema = z.object({ orgId: id, subjectId: id, groupId: id.optional(), siteId: id.optional() }).strict();
export const shareSchema = z.object({ id: id.optional(), item: itemKey, grantee, level }).strict();
/** A directory object named by its organization and id (`unshare`, `removeRule`). */
export const orgObjectRefSchema = z.object({ orgId: id, id }).strict();
export const addRuleSchema = z
  .object({
    id: id.optional(),
    orgId: id,
    itemType: id,
    conditions: conditions.optional(),
    grantee,
    level,
  })
  .strict();

export const createServiceUserSchema = z.object({ id: id.optional(), orgId: id, name, permissionSetId: id.nullable().optional(), actorId: id }).strict();
export const updateServiceUserSchema = z.object({ orgId: id, id, name: name.optional(), permissionSetId: id.nullable().optional(), actorId: id }).strict();
export const serviceUserRefSchema = z.object({ orgId: id, id, actorId: id }).strict();
export const serviceUserPreviewSchema = z.object({ orgId: id, serviceUserId: id, actorId: id }).strict();


/** Parses `input` with `schema`, or throws `code` naming the first offending field (under `root`). */
function parseOr<S extends z.ZodType>(code: "invalid_input" | "invalid_config", schema: S, input: unknown, root: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [root, ...(issue?.path ?? []).map(String)].filter((p) => p !== "").join(".");
  throw fieldError(code, path, issue?.message ?? "invalid", result.error);
}

/** Parses `input` with `schema`, or throws `invalid_input` naming the first offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = ""): z.output<S> {
  return parseOr("invalid_input", schema, input, root);
}

/** {@link parseInput} for options checked once at start-up (root `"options"` unless named): throws `invalid_config` naming the first offending field. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, root = "options"): z.output<S> {
  return parseOr("invalid_config", schema, input, root);
}

const MAX_ID = 200;

function badItem(field: string, why: string): KeywardError {
  return fieldError("invalid_input", field, why);
}

/**
 * {@link id} for a call on the hot path (`accessible()`'s item type): a valid id is returned as
 * it is, without zod's work and allocation; anything else gets exactly zod's error.
 */
export function checkId(value: unknown, field: string): string {
  return isId(value) && PRINTABLE_ID.test(value) ? value : parseInput(id, value, field);
}

function isId(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID;
}

/**
 * Validates the item of an `authorize()` call. Hand-written rather than zod because it is on
 * the hot path (measured in bench/); it accepts exactly what the `ItemRef` type says.
 */
export function checkItem(item: unknown): ItemRef {
  if (typeof item !== "object" || item === null || Array.isArray(item)) throw badItem("item", "expected an object");
  const it = item as Record<string, unknown>;
  if (!isId(it.orgId)) throw badItem("item.orgId", "expected a string of 1–200 characters");
  if (!isId(it.type)) throw badItem("item.type", "expected a string of 1–200 characters");
  if (!isId(it.id)) throw badItem("item.id", "expected a string of 1–200 characters");
  const attrs = it.attributes;
  if (attrs !== undefined) {
    if (typeof attrs !== "object" || attrs === null || Array.isArray(attrs)) {
      throw badItem("item.attributes", "expected an object of strings");
    }
    // for…in over own keys: no array of keys per call (this runs on every decision).
    for (const key in attrs) {
      if (!Object.hasOwn(attrs, key)) continue;
      const v = (attrs as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== "string") throw badItem(`item.attributes.${key}`, "expected a string");
    }
  }
  return it as unknown as ItemRef;
}
