/**
 * R3: the PostgreSQL store's limit counts with exactly the predicate authorize() uses. For
 * random token histories (revoked, deleted, marked expired, idle, of an old epoch, of a deleted
 * service user), the number of free slots `insertToken` sees equals the limit minus the tokens
 * that `isTokenActive` calls active — on PGlite, one schema per property run.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTokenActive } from "../../../src/core/lifecycle.js";
import type { TokenRecord } from "../../../src/core/types.js";
import { params, queries } from "../../../src/storage/postgres/sql.js";
import { pgliteStore, type TestStore } from "./support.js";

const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const T0 = Date.UTC(2026, 3, 1);

const maybe = (at: fc.Arbitrary<number>) => fc.option(at, { nil: null, freq: 2 });
const when = fc.integer({ min: T0 - 45 * DAY, max: T0 });

const tokenArb = (kind: "user" | "service_user") =>
  fc.record({
    subjectId: kind === "user" ? fc.constant("u_1") : fc.constantFrom("svc_1", "svc_2"),
    epoch: kind === "user" ? fc.constantFrom("ep1", "ep1", "ep0") : fc.constant(null),
    createdAt: when,
    lastUsedAt: maybe(when),
    revokedAt: fc.option(fc.constant(T0 - DAY), { nil: null, freq: 4 }),
    deletedAt: fc.option(fc.constant(T0 - DAY), { nil: null, freq: 5 }),
    expiredAt: fc.option(fc.constant(T0 - DAY), { nil: null, freq: 5 }),
  });

describe("R3 the store's limit counts exactly the tokens isTokenActive calls active", () => {
  let t: TestStore;
  let n = 0;
  beforeAll(async () => {
    t = await pgliteStore();
    const s = t.store;
    await s.putOrganization({ id: "org_a", name: "A", ssoOnly: false });
    await s.updateMembership("org_a", "u_1", () => ({ orgId: "org_a", userId: "u_1", permissionSetId: null, groupIds: [], siteIds: [], status: "active", seat: true, epoch: "ep1" }));
    await s.updateServiceUser("svc_1", () => ({ id: "svc_1", orgId: "org_a", name: "one", permissionSetId: null, status: "active", createdBy: null, createdAt: T0 }));
    await s.updateServiceUser("svc_2", () => ({ id: "svc_2", orgId: "org_a", name: "two", permissionSetId: null, status: "deleted", createdBy: null, createdAt: T0 }));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it.each(["user", "service_user"] as const)("for %s tokens: insertToken succeeds at max = active + 1 and refuses at max = active", async (kind) => {
    const q = queries(t.schema);
    await fc.assert(
      fc.asyncProperty(fc.array(tokenArb(kind), { maxLength: 12 }), fc.integer({ min: 0, max: 20 * DAY }), async (specs, inactivityShift) => {
        await t.raw.query(`DELETE FROM "${t.schema}".tokens`);
        const inactivityMs = WINDOW - inactivityShift;
        for (const spec of specs) {
          n++;
          const record: TokenRecord = { id: `tok_${n}`, kind, orgId: "org_a", name: "t", hash: `h_${n}`, hint: "…", createdBy: null, ...spec };
          await t.raw.query(q.insertToken, params.token(record));
        }
        const listed = await t.store.listTokens({ orgId: "org_a", kind });
        const active = listed.filter((e) => isTokenActive(e.token, e.subject, T0, inactivityMs)).length;
        const fresh = (): TokenRecord => {
          n++;
          return { id: `tok_${n}`, kind, orgId: "org_a", subjectId: kind === "user" ? "u_1" : "svc_1", name: "new", hash: `h_${n}`, hint: "…", epoch: kind === "user" ? "ep1" : null, createdAt: T0, createdBy: null, lastUsedAt: null, revokedAt: null, deletedAt: null, expiredAt: null };
        };
        if (active > 0) expect(await t.store.insertToken(fresh(), { max: active, now: T0, inactivityMs })).toEqual({ ok: false, reason: "limit_reached" });
        expect(await t.store.insertToken(fresh(), { max: active + 1, now: T0, inactivityMs })).toEqual({ ok: true });
      }),
      { numRuns: 40 },
    );
  });
});
