/**
 * R16: `KeywardEvent` is a union discriminated by `type`: a host's `switch (event.type)` sees
 * each event's own fields, without casts. Type tests (checked by `tsc` and by vitest's
 * `expectTypeOf`), plus one run through a real instance.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { createKeyward, type EndedToken, type GrantRef, type KeywardEvent, type LeakLocation, type SubjectKind, type SubjectRef } from "../../src/index.js";
import { memoryStore } from "../../src/memory.js";

type Of<T extends KeywardEvent["type"]> = Extract<KeywardEvent, { type: T }>;

describe("R16 KeywardEvent narrows by type", () => {
  it("R16 every event type narrows to its own fields", () => {
    expectTypeOf<Of<"token.created">["tokenName"]>().toEqualTypeOf<string>();
    expectTypeOf<Of<"token.created">["subject"]>().toEqualTypeOf<SubjectRef>();
    expectTypeOf<Of<"token.expired">["cause"]>().toEqualTypeOf<"inactivity" | "date" | "policy" | "subject_inactive" | undefined>();
    expectTypeOf<Of<"token.expiring">["cause"]>().toEqualTypeOf<"inactivity" | "date" | "policy">();
    expectTypeOf<Of<"token.expiring">["thresholdMs"]>().toEqualTypeOf<number>();
    expectTypeOf<Of<"subject.tokens_ended">["cause"]>().toEqualTypeOf<"deactivated" | "left" | "deleted">();
    expectTypeOf<Of<"subject.tokens_ended">["tokens"]>().toEqualTypeOf<EndedToken[]>();
    expectTypeOf<Of<"token.revoked">["cause"]>().toEqualTypeOf<"leaked" | undefined>();
    expectTypeOf<Of<"token.leaked">["found"]>().toEqualTypeOf<LeakLocation>();
    expectTypeOf<Of<"token.leaked">["revoked"]>().toEqualTypeOf<boolean>();
    expectTypeOf<Of<"authorization">["outcome"]>().toEqualTypeOf<"allowed" | "denied">();
    expectTypeOf<Of<"authorization">["grant"]>().toEqualTypeOf<GrantRef | undefined>();
    expectTypeOf<Of<"rate_limit.store_failed">["fallback"]>().toEqualTypeOf<"fail_closed" | "insurance">();
    expectTypeOf<Of<"token.integrity">["storedKind"]>().toEqualTypeOf<SubjectKind>();
    expectTypeOf<Of<"management.refused">["code"]>().toEqualTypeOf<"forbidden" | "not_found" | "invalid_input">();
    expectTypeOf<Of<"login">["reason"]>().toEqualTypeOf<string>();
    expectTypeOf<Of<"token.rotated">["graceUntil"]>().toEqualTypeOf<number | null>();
    expectTypeOf<Of<"token.previous_secret_used">["graceUntil"]>().toEqualTypeOf<number>();
    expectTypeOf<Of<"token.previous_secret_used">["client"]>().toEqualTypeOf<{ ip: string | null; userAgent: string | null } | undefined>();
  });

  it("R16 a switch on event.type reaches each event's fields without a cast, and covers every type", () => {
    const describeEvent = (e: KeywardEvent): string => {
      switch (e.type) {
        case "token.created":
        case "token.deleted":
          return `${e.type} ${e.tokenId} ${e.subject.name}`;
        case "token.expired":
          return `expired (${e.cause ?? "?"})`;
        case "token.expiring":
          return `expires ${new Date(e.expiresAt).toISOString()} (${e.cause})`;
        case "subject.tokens_ended":
          return `${e.subject.name} ${e.cause}: ${e.tokens.map((t) => t.name).join(", ")}`;
        case "token.revoked":
          return `revoked${e.cause ? ` (${e.cause})` : ""}`;
        case "token.rotated":
          return `rotated, previous secret until ${e.graceUntil ?? "now"}`;
        case "token.previous_secret_used":
          return `previous secret of ${e.tokenName} used by ${e.client?.userAgent ?? "?"}`;
        case "token.leaked":
          return `leaked at ${e.found.url}, revoked now: ${e.revoked}`;
        case "authorization":
          return `${e.outcome} ${e.action} ${e.reason}${e.grant ? ` via ${e.grant.via}` : ""}`;
        case "rate_limit.store_failed":
          return `limiter ${e.policy} failed: ${e.fallback}`;
        case "token.integrity":
          return `integrity ${e.presentedKind}/${e.storedKind}`;
        case "management.refused":
          return `refused ${e.operation} ${e.code}`;
        case "login":
          return `login ${e.outcome}`;
        default: {
          const never: never = e;
          return never;
        }
      }
    };
    expect(describeEvent({ type: "token.leaked", at: 0, tokenId: "t", orgId: "o", subject: { kind: "user", id: "u", name: "U" }, tokenName: "n", found: { source: "s", url: "https://x" }, revoked: true })).toBe(
      "leaked at https://x, revoked now: true",
    );
  });

  it("R16 the events of a real creation and decision narrow as typed", async () => {
    const events: KeywardEvent[] = [];
    const kw = createKeyward({ store: memoryStore(), actions: { "reports.export": { permission: "reports:export" } }, verifyPassword: () => true, onEvent: (e) => events.push(e) });
    await kw.directory.createOrganization({ id: "acme", name: "Acme" });
    const ps = await kw.directory.createPermissionSet({ orgId: "acme", name: "R", permissions: ["reports:export"] });
    await kw.directory.upsertUser({ id: "u_ana", name: "Ana" });
    await kw.directory.addMember({ orgId: "acme", userId: "u_ana", permissionSetId: ps.id });
    const { token } = await kw.tokens.createUserToken({ orgId: "acme", userId: "u_ana", name: "CI", password: "pw" });
    await kw.authorize(token, "reports.export");
    const created = events.find((e): e is Of<"token.created"> => e.type === "token.created");
    const decided = events.find((e): e is Of<"authorization"> => e.type === "authorization");
    expect(created).toMatchObject({ tokenName: "CI", subject: { kind: "user", id: "u_ana", name: "Ana" } });
    expect(decided).toMatchObject({ outcome: "allowed", reason: "allowed", action: "reports.export", subject: { id: "u_ana" } });
  });
});
