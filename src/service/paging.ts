/**
 * Paged listings: the options every listing takes (`limit`, an opaque
 * `cursor`, a status filter, a search) and the `{ items, nextCursor, total }` it returns.
 * @module
 */
import { z } from "zod";
import { KeywardError } from "../core/errors.js";
import type { TokenSort } from "../core/lifecycle.js";

/** Default number of items per page. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest accepted `limit`; more is `invalid_input`. */
export const MAX_PAGE_SIZE = 500;
/** Longest accepted `search`. */
export const MAX_SEARCH_LENGTH = 200;

/**
 * One page of a listing: the items, the cursor of the next page (`null` on the last page), and
 * how many items match the listing's filters in all.
 *
 * @example
 * ```ts
 * let page = await kw.tokens.listOrganization({ orgId, actorId, limit: 100 });
 * while (page.nextCursor !== null) page = await kw.tokens.listOrganization({ orgId, actorId, limit: 100, cursor: page.nextCursor });
 * ```
 */
export interface Page<T> {
  items: T[];
  /** Pass it back as `cursor` for the next page; `null` when this page is the last. */
  nextCursor: string | null;
  /** How many items match the filters (status, search) across all pages. */
  total: number;
}

/** `limit`, `cursor` and `search`, shared by every listing. */
export const pageOptions = {
  limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  cursor: z.string().min(1).max(1000).nullable().optional(),
  search: z.string().max(MAX_SEARCH_LENGTH).optional(),
};

/** A status option: one status, several, or `"all"`. */
export function statusOption<S extends string>(values: readonly [S, ...S[]]) {
  const one = z.enum(values);
  return z.union([one, z.array(one).min(1).max(values.length), z.literal("all")]).optional();
}

/** The statuses a status option names, `fallback` when it is absent. */
export function statusesOf<S extends string>(option: S | S[] | "all" | undefined, all: readonly S[], fallback: readonly S[]): S[] {
  if (option === undefined) return [...fallback];
  if (option === "all") return [...all];
  return [...new Set(Array.isArray(option) ? option : [option])];
}

/** The search term: trimmed, `null` when empty. */
export const searchOf = (search: string | undefined): string | null => {
  const s = search?.trim() ?? "";
  return s === "" ? null : s;
};

/** What a token cursor holds: the listing's order and the position of the last item shown. */
interface TokenCursor {
  sort: TokenSort;
  order: "asc" | "desc";
  key: number;
  id: string;
}

/** base64url of the JSON, with Web APIs only (no Node `Buffer`), so it runs on every runtime. */
function encode(value: unknown): string {
  let binary = "";
  for (const b of new TextEncoder().encode(JSON.stringify(value))) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(cursor: string): unknown {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error("not base64url");
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as unknown;
  } catch {
    throw new KeywardError("invalid_input", "The cursor is not one this listing returned.", { field: "cursor" });
  }
}

const tokenCursorSchema = z.object({ t: z.literal("tok"), s: z.enum(["created", "last_used", "expires"]), o: z.enum(["asc", "desc"]), k: z.number().int(), i: z.string().min(1).max(200) }).strict();
const memberCursorSchema = z.object({ t: z.literal("mem"), n: z.string().max(1000), i: z.string().min(1).max(200) }).strict();

/** The opaque cursor after a token at `key`/`id` in a listing sorted by `sort`, `order`. */
export const tokenCursor = (c: TokenCursor): string => encode({ t: "tok", s: c.sort, o: c.order, k: c.key, i: c.id });

/** The position a token cursor names; `invalid_input` (field `cursor`) if it is not one, or belongs to another order. */
export function readTokenCursor(cursor: string, sort: TokenSort, order: "asc" | "desc"): { key: number; id: string } {
  const parsed = tokenCursorSchema.safeParse(decode(cursor));
  if (!parsed.success) throw new KeywardError("invalid_input", "The cursor is not one this listing returned.", { field: "cursor" });
  if (parsed.data.s !== sort || parsed.data.o !== order) {
    throw new KeywardError("invalid_input", "The cursor belongs to a listing in another order: keep `sort` and `order` while paging.", { field: "cursor" });
  }
  return { key: parsed.data.k, id: parsed.data.i };
}

/** The opaque cursor after a member. */
export const memberCursor = (name: string, userId: string): string => encode({ t: "mem", n: name, i: userId });

/** The position a member cursor names; `invalid_input` (field `cursor`) if it is not one. */
export function readMemberCursor(cursor: string): { name: string; id: string } {
  const parsed = memberCursorSchema.safeParse(decode(cursor));
  if (!parsed.success) throw new KeywardError("invalid_input", "The cursor is not one this listing returned.", { field: "cursor" });
  return { name: parsed.data.n, id: parsed.data.i };
}
