/**
 * A layer that runs a hook after every change that can alter the two reads (and the expiry
 * mark), so that a cache, or a store whose other instances cache, can drop entries and wait.
 * @module
 */
import { storeFailure } from "../../core/errors.js";
import type { KeywardStore } from "../types.js";
import { CHANGE_METHODS, forward } from "./forward.js";

/**
 * What {@link afterChanges} runs.
 *
 * @example
 * ```ts
 * const hooks: ChangeHooks = { changed: async () => {}, expired: () => cache.clear() };
 * ```
 */
export interface ChangeHooks {
  /** After each change resolved in the store: resolves once the change may be reported (a rejection is reported as `unavailable`). */
  changed(): Promise<void>;
  /** After an expiry mark (`markTokenExpired`), which every instance also sees by itself: no waiting. */
  expired?(): void;
}

/**
 * `store` with `hooks.changed()` awaited after each of its changes (`CHANGE_METHODS`): the
 * change resolves only once the hook has. A change that fails runs no hook; the hook's own
 * failure becomes `KeywardError("unavailable")`.
 *
 * @example
 * ```ts
 * const store = afterChanges(inner, { changed: () => peers.acknowledged() });
 * ```
 */
export function afterChanges(store: KeywardStore, hooks: ChangeHooks): KeywardStore {
  const out = forward(store) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of CHANGE_METHODS) {
    const write = out[name]!;
    out[name] = async (...args: unknown[]) => {
      const result = await write(...args);
      try {
        await hooks.changed();
      } catch (e) {
        throw storeFailure(e);
      }
      return result;
    };
  }
  const expired = hooks.expired;
  if (expired !== undefined) {
    const mark = out.markTokenExpired!;
    out.markTokenExpired = async (...args: unknown[]) => {
      const changed = await mark(...args);
      expired();
      return changed;
    };
  }
  return out as unknown as KeywardStore;
}
