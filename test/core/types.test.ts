/**
 * Type-level tests of the public API (checked by `npm run typecheck`; `expectTypeOf` is a no-op at run time).
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  createKeyward,
  isForbidden,
  KeywardError,
  type AllowedDecision,
  type CreatedToken,
  type Decision,
  type DenialReason,
  type ForbiddenError,
  type KeywardErrorCode,
  type KeywardEvent,
  type KeywardStore,
  type LeakResult,
  type Session,
  type SubjectRef,
  type TokenView,
  type Page,
} from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";

const kw = createKeyward({
  store: memoryStore(),
  actions: {
    "inspections.view": { permission: "inspections:view", access: "view", item: "inspection" },
    "reports.export": { permission: "reports:export" },
  },
});

describe("types of the public API", () => {
  it("R15 authorize's action is the union of the host's declared actions", () => {
    expectTypeOf(kw.authorize).parameter(1).toEqualTypeOf<"inspections.view" | "reports.export">();
    // @ts-expect-error an undeclared action is a type error (at run time it is permission_denied)
    void (() => kw.authorize("kwu_…", "inspections.delete"));
  });

  it("R15 the token parameter takes anything (it comes from a request) and the result is a Decision", () => {
    expectTypeOf(kw.authorize).parameter(0).toEqualTypeOf<unknown>();
    expectTypeOf(kw.authorize).returns.toEqualTypeOf<Promise<Decision>>();
  });

  it("R15 an allowed decision narrows to one that names subject, organization and token", () => {
    const d = {} as Decision;
    if (d.allowed) {
      expectTypeOf(d).toEqualTypeOf<AllowedDecision>();
      expectTypeOf(d.subject).toEqualTypeOf<SubjectRef>();
      expectTypeOf(d.orgId).toEqualTypeOf<string>();
      expectTypeOf(d.tokenId).toEqualTypeOf<string>();
      expectTypeOf(d.reason).toEqualTypeOf<"allowed">();
    } else {
      expectTypeOf(d.reason).toEqualTypeOf<DenialReason>();
      expectTypeOf(d.subject).toEqualTypeOf<SubjectRef | undefined>();
    }
  });

  it("R15 the throwing form resolves to an allowed decision only", () => {
    expectTypeOf(kw.assertAuthorized).returns.resolves.toEqualTypeOf<AllowedDecision>();
  });

  it("R5 a creation returns the secret once; the listed view has no secret and no digest", () => {
    expectTypeOf(kw.tokens.createUserToken).returns.resolves.toEqualTypeOf<CreatedToken>();
    expectTypeOf<CreatedToken["token"]>().toEqualTypeOf<string>();
    expectTypeOf<CreatedToken["record"]>().toEqualTypeOf<TokenView>();
    expectTypeOf<TokenView>().not.toHaveProperty("hash");
    expectTypeOf<TokenView>().not.toHaveProperty("token");
    expectTypeOf<TokenView>().not.toHaveProperty("secret");
    expectTypeOf(kw.tokens.listMine).returns.resolves.toEqualTypeOf<Page<TokenView>>();
  });

  it("R10 login yields a user session", () => {
    expectTypeOf(kw.login).returns.resolves.toEqualTypeOf<Session>();
    expectTypeOf<Session["subject"]["kind"]>().toEqualTypeOf<"user">();
  });

  it("errors carry a stable code, and isForbidden narrows to the denial codes with an action", () => {
    expectTypeOf<KeywardError["code"]>().toEqualTypeOf<KeywardErrorCode>();
    const e: unknown = null;
    if (isForbidden(e)) {
      expectTypeOf(e).toEqualTypeOf<ForbiddenError>();
      expectTypeOf(e.code).toEqualTypeOf<DenialReason>();
      expectTypeOf(e.action).toEqualTypeOf<string>();
    }
  });

  it("R16 events are a union discriminated by type, each naming its subject", () => {
    const ev = {} as KeywardEvent;
    if (ev.type === "token.expired") expectTypeOf(ev.cause).toEqualTypeOf<"inactivity" | "date" | "policy" | "subject_inactive" | undefined>();
    if (ev.type === "token.revoked") expectTypeOf(ev.cause).toEqualTypeOf<"leaked" | undefined>();
    if (ev.type === "token.leaked") expectTypeOf(ev.found).toEqualTypeOf<{ source: string; url: string }>();
    if (ev.type === "authorization") expectTypeOf(ev.outcome).toEqualTypeOf<"allowed" | "denied">();
    expectTypeOf<(KeywardEvent & { type: "token.created" })["subject"]>().toEqualTypeOf<SubjectRef>();
  });

  it("R22 reportLeak resolves to a LeakResult whose outcome is one of four", () => {
    const kw = createKeyward({ store: memoryStore(), actions: {} });
    expectTypeOf(kw.tokens.reportLeak).returns.resolves.toEqualTypeOf<LeakResult>();
    expectTypeOf<LeakResult["outcome"]>().toEqualTypeOf<"revoked" | "already_revoked" | "unknown" | "malformed">();
    // @ts-expect-error the location is { source, url }
    void (() => kw.tokens.reportLeak({ secret: "x", found: { source: "s" } }));
  });

  it("the memory store is a KeywardStore", () => {
    expectTypeOf(memoryStore).returns.toEqualTypeOf<KeywardStore>();
  });

  it("R3 limits and R6 inactivity are typed options", () => {
    // @ts-expect-error limits are numbers
    void (() => createKeyward({ store: memoryStore(), actions: {}, limits: { userTokensPerUser: "10" } }));
    // @ts-expect-error an item action's access level is one of view, edit, delete
    void (() => createKeyward({ store: memoryStore(), actions: { a: { permission: "p", access: "admin", item: "x" } } }));
  });
});
