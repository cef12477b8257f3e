/**
 * Validation at the public boundary (zod). A failure becomes `invalid_input` naming the field.
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import type { ItemRef } from "../core/types.js";

/** An identifier: 1–200 printable ASCII characters, no spaces. */
export const id = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
/** A display name: 1–200 characters, no control characters. */
export const name = z.string().trim().min(1).max(200).regex(/^[^\p{Cc}]+$/u, "must not contain control characters");
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

/** Parses options with `schema` (root `"options"`), or throws `invalid_config` naming the first offending field. */
export function parseConfig<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  try {
    return parseInput(schema, options, "options");
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
