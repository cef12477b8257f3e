/**
 * R4's re-authentication, throttled per organization and user: wrong passwords are counted in a
 * rate-limiter-flexible limiter (`RateLimiterMemory` by default, or the host's own, e.g.
 * `RateLimiterPostgres` / `RateLimiterRedis`, so the count holds across instances). Past the
 * limit an attempt is refused (`reauthentication_failed` with `retryAfter`) before the host's
 * `verifyPassword` is asked; a success deletes the count; a failing limiter store refuses
 * (`unavailable`), never lets attempts through. The attempts of one user in one organization run
 * one at a time in each process, so a burst of parallel guesses cannot pass the count together.
 * @module
 */
import RateLimiterMemory from "rate-limiter-flexible/lib/RateLimiterMemory.js";
import { z } from "zod";
import { KeywardError } from "../core/errors.js";

/**
 * The part of a rate-limiter-flexible limiter the throttle uses (any of its limiters has it:
 * `RateLimiterMemory`, `RateLimiterPostgres`, `RateLimiterRedis`, …): `points` (the failures
 * allowed per window), `get` (the count and `msBeforeNext`, or `null`), `penalty` (one more
 * failure) and `delete`. A method that rejects means its store failed.
 */
export interface ReauthLimiter {
  readonly points: number;
  get(key: string): Promise<{ consumedPoints: number; msBeforeNext: number } | null>;
  penalty(key: string, points?: number): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/**
 * `reauthThrottle` of `createKeyward()`: `{ attempts, windowMs }` (defaults 5 and 15 minutes,
 * counted in this process), `{ limiter }` (a rate-limiter-flexible limiter of yours — its
 * `points` and `duration` are the attempts and the window — shared by every instance), or
 * `false` (no throttle).
 */
export type ReauthThrottleOption = false | { attempts?: number; windowMs?: number } | { limiter: ReauthLimiter };

/** Default attempts per window and window of the re-authentication throttle. */
export const DEFAULT_REAUTH_THROTTLE = { attempts: 5, windowMs: 15 * 60_000 } as const;

const isFunction = (f: unknown) => typeof f === "function";

/** The option's schema when it is not `false` (checked with the other options of `createKeyward()`). */
export const reauthThrottleSchema = z
  .object({
    attempts: z.number().int().min(1).max(1_000).optional(),
    windowMs: z.number().int().min(1_000).max(86_400_000).optional(),
    limiter: z
      .object({
        points: z.number().int().min(1),
        get: z.custom<ReauthLimiter["get"]>(isFunction, "expected a rate-limiter-flexible limiter (get)"),
        penalty: z.custom<ReauthLimiter["penalty"]>(isFunction, "expected a rate-limiter-flexible limiter (penalty)"),
        delete: z.custom<ReauthLimiter["delete"]>(isFunction, "expected a rate-limiter-flexible limiter (delete)"),
      })
      .passthrough()
      .optional(),
  })
  .strict()
  .refine((o) => o.limiter === undefined || (o.attempts === undefined && o.windowMs === undefined), {
    message: "give either a limiter (its points and duration apply) or attempts and windowMs",
    path: ["limiter"],
  });

/** The throttle of one keyward instance. */
export interface ReauthThrottle {
  /**
   * Runs one password check of `userId` in `orgId` under the throttle: refused past the limit
   * (`reauthentication_failed` with `retryAfter`, seconds) without calling `verify`; a wrong
   * password (or a throwing `verify`) is counted, a right one deletes the count. `unavailable`
   * when the limiter's store fails (fail closed).
   */
  check(orgId: string, userId: string, verify: () => Promise<boolean>): Promise<boolean>;
}

const unavailable = (cause: unknown) => new KeywardError("unavailable", "The re-authentication throttle's store is unavailable: the password was not accepted.", { cause });

/**
 * Creates the throttle for an option value; `null` when it is `false`.
 *
 * @example
 * ```ts
 * const throttle = reauthThrottle({ attempts: 5, windowMs: 15 * 60_000 });
 * const ok = await throttle!.check("acme", "u_ana", () => verifyPassword("u_ana", password));
 * ```
 */
export function reauthThrottle(option: ReauthThrottleOption | undefined): ReauthThrottle | null {
  if (option === false) return null;
  const limiter: ReauthLimiter =
    option !== undefined && "limiter" in option
      ? option.limiter
      : new RateLimiterMemory({
          points: option?.attempts ?? DEFAULT_REAUTH_THROTTLE.attempts,
          duration: Math.ceil((option?.windowMs ?? DEFAULT_REAUTH_THROTTLE.windowMs) / 1000),
          keyPrefix: "keyward_reauth",
        });
  /** key → the tail of its attempts: one at a time per organization and user in this process. */
  const queues = new Map<string, Promise<unknown>>();
  function exclusive<T>(key: string, f: () => Promise<T>): Promise<T> {
    const run = (queues.get(key) ?? Promise.resolve()).then(f, f);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  }
  return {
    check(orgId, userId, verify) {
      // Unambiguous for any ids (a separator could occur in an id).
      const key = JSON.stringify([orgId, userId]);
      return exclusive(key, async () => {
        let count: { consumedPoints: number; msBeforeNext: number } | null;
        try {
          count = await limiter.get(key);
        } catch (e) {
          throw unavailable(e);
        }
        if (count !== null && count.consumedPoints >= limiter.points) {
          const retryAfter = Math.max(1, Math.ceil(count.msBeforeNext / 1000));
          throw new KeywardError("reauthentication_failed", `Too many wrong passwords: try again in ${retryAfter} seconds.`, { retryAfter });
        }
        let ok: boolean;
        try {
          ok = await verify();
        } catch (e) {
          await penalty(key);
          throw e;
        }
        if (!ok) await penalty(key);
        else {
          try {
            await limiter.delete(key);
          } catch {
            // Ignored on purpose: the failures stay counted, which only errs on the strict side.
          }
        }
        return ok;
      });
    },
  };

  async function penalty(key: string): Promise<void> {
    try {
      await limiter.penalty(key, 1);
    } catch (e) {
      throw unavailable(e);
    }
  }
}
