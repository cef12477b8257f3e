/**
 * Validation at the public boundary (zod). A failure becomes `invalid_input` naming the field.
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import type { ItemRef } from "../core/types.js";

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

/** An identifier: 1–200 printable ASCII characters, no spaces. */
export const id = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
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

/** Parses `input` with `schema`, or throws `invalid_input` naming the first offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = ""): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [root, ...(issue?.path ?? []).map(String)].filter((p) => p !== "").join(".");
  throw new KeywardError("invalid_input", `Invalid input${path ? ` at "${path}"` : ""}: ${issue?.message ?? "invalid"}.`, {
    field: path || root,
    cause: result.error,
  });
}

/** {@link parseInput} for options checked once at start-up (root `"options"` unless named): throws `invalid_config` naming the first offending field. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, root = "options"): z.output<S> {
  try {
    return parseInput(schema, input, root);
  } catch (e) {
    const err = e as KeywardError;
    throw new KeywardError("invalid_config", err.message.replace("Invalid input", "Invalid configuration"), { field: err.field, cause: err.cause });
  }
}

const MAX_ID = 200;

function badItem(field: string, why: string): KeywardError {
  return new KeywardError("invalid_input", `Invalid input at "${field}": ${why}.`, { field });
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
    for (const key of Object.keys(attrs)) {
      const v = (attrs as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== "string") throw badItem(`item.attributes.${key}`, "expected a string");
    }
  }
  return it as unknown as ItemRef;
}
