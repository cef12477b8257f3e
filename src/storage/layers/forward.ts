/**
 * The method names of each part of the store contract, and a plain object that forwards every
 * method to a store: the base every layer overrides a few methods of. Works for a host's store
 * written as a class too (methods are bound, never spread).
 * @module
 */
import type { DecisionReads, DirectoryStore, KeywardStore, TokenStore } from "../types.js";

/**
 * The methods of {@link DirectoryStore}, checked complete by the type below.
 *
 * @example
 * ```ts
 * DIRECTORY_METHODS.length // 23
 * ```
 */
export const DIRECTORY_METHODS = [
  "putOrganization", "getOrganization", "putUser", "getUser", "getMembership", "updateMembership", "listMembers", "pageMembers",
  "putPermissionSet", "insertPermissionSet", "getPermissionSet", "putGroup", "getGroup", "putSite", "getSite",
  "getServiceUser", "updateServiceUser", "listServiceUsers", "putShare", "deleteShare", "listShares", "putRule", "deleteRule", "loadSubjectAccess",
] as const satisfies readonly (keyof DirectoryStore)[];
/**
 * The methods of {@link TokenStore}.
 *
 * @example
 * ```ts
 * TOKEN_METHODS.includes("insertToken") // true
 * ```
 */
export const TOKEN_METHODS = [
  "insertToken", "getToken", "listTokens", "pageTokens", "revokeToken", "rotateToken", "markTokenExpired", "recordTokenUse", "setTokenPolicyExpiry", "markTokenWarned",
] as const satisfies readonly (keyof TokenStore)[];
/**
 * The methods of {@link DecisionReads}.
 *
 * @example
 * ```ts
 * READ_METHODS // ["loadDecision", "loadAccess"]
 * ```
 */
export const READ_METHODS = ["loadDecision", "loadAccess"] as const satisfies readonly (keyof DecisionReads)[];

/** `true` when every method of a part is listed (a compile error names the one missing). */
type Complete<Part, Listed> = [Exclude<keyof Part, Listed>] extends [never] ? true : Exclude<keyof Part, Listed>;
const complete: [
  Complete<DirectoryStore, (typeof DIRECTORY_METHODS)[number]>,
  Complete<TokenStore, (typeof TOKEN_METHODS)[number]>,
  Complete<DecisionReads, (typeof READ_METHODS)[number]>,
] = [true, true, true];
void complete;

/**
 * The writes that can change what {@link DecisionReads} return, on this instance or another:
 * a read cache drops its entries after each and waits for the other instances. Groups are not
 * read by decisions; a new token is never cached (a miss is not cached); an expiry mark is
 * seen by every instance by itself (same clock, same last use); a use is merged in by the
 * coalescing layer.
 *
 * @example
 * ```ts
 * CHANGE_METHODS.includes("revokeToken") // true: a cache drops its entries after it
 * ```
 */
export const CHANGE_METHODS = [
  "putOrganization", "putUser", "updateMembership", "putPermissionSet", "insertPermissionSet", "putSite",
  "updateServiceUser", "putShare", "deleteShare", "putRule", "deleteRule", "revokeToken", "setTokenPolicyExpiry", "rotateToken",
] as const satisfies readonly (keyof KeywardStore)[];

/**
 * A plain object forwarding every method of the contract (and `useClock` when the store has
 * one) to `store`.
 *
 * @example
 * ```ts
 * const layered: KeywardStore = { ...forward(store), close: async () => { stop(); await store.close(); } };
 * ```
 */
export function forward(store: KeywardStore): KeywardStore {
  const out: Record<string, unknown> = {};
  for (const name of [...DIRECTORY_METHODS, ...TOKEN_METHODS, ...READ_METHODS, "close"] as const) {
    const method = store[name] as (...args: unknown[]) => unknown;
    out[name] = method.bind(store);
  }
  if (store.useClock !== undefined) out.useClock = store.useClock.bind(store);
  return out as unknown as KeywardStore;
}
