/**
 * Bad inputs and faults: each gives a denial or a KeywardError with a
 * stable code — never an allow, never a bare Error. R5, R15 and the fail-closed rule.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeywardError, MAX_TOKEN_LENGTH, type KeywardStore } from "../../src/index.js";
import { generateToken, tokenHasher, tokenParser } from "../../src/core.js";
import { admission } from "../../src/core/admit.js";
import { memoryStore } from "../../src/memory.js";
import { ACTIONS, caught, spyStore, THIRTY_DAYS, world } from "./fixture.js";

const BASE62_AND_UNDERSCORE = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";

/** A world whose store records every call made after set-up, and a live admin token. */
async function spiedWorld() {
  const spy = spyStore(memoryStore());
  const w = await world({ store: spy.store });
  const { token } = await w.userToken(w.users.ada.id);
  spy.calls.length = 0;
  return { ...w, calls: spy.calls, token };
}

const fullwidth = (s: string) =>
  [...s].map((c) => (c >= "!" && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join("");

describe("R15 malformed tokens: token_malformed, without a single store call", () => {
  it("R15 every truncation of a real token is token_malformed", async () => {
    const w = await spiedWorld();
    for (let n = 0; n < w.token.length; n++) {
      expect((await w.kw.authorize(w.token.slice(0, n), "reports.export")).reason).toBe("token_malformed");
    }
    expect(w.calls).toEqual([]);
  });

  it("R15 changing any single character of a real token to any other character gives token_malformed (the checksum)", async () => {
    const w = await spiedWorld();
    let variants = 0;
    for (let i = 0; i < w.token.length; i++) {
      for (const c of BASE62_AND_UNDERSCORE) {
        if (c === w.token[i]) continue;
        const flipped = w.token.slice(0, i) + c + w.token.slice(i + 1);
        const d = await w.kw.authorize(flipped, "reports.export");
        if (d.reason !== "token_malformed") throw new Error(`position ${i} → ${c}: ${d.reason}`);
        variants++;
      }
    }
    expect(variants).toBe(w.token.length * (BASE62_AND_UNDERSCORE.length - 1));
    expect(w.calls).toEqual([]);
  });

  it("R15 swapping two adjacent different characters of a real token gives token_malformed", async () => {
    const w = await spiedWorld();
    for (let i = 0; i + 1 < w.token.length; i++) {
      if (w.token[i] === w.token[i + 1]) continue;
      const swapped = w.token.slice(0, i) + w.token[i + 1] + w.token[i] + w.token.slice(i + 2);
      expect((await w.kw.authorize(swapped, "reports.export")).reason).toBe("token_malformed");
    }
    expect(w.calls).toEqual([]);
  });

  it.each([
    ["a GitHub token", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"],
    ["a GitHub fine-grained token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"],
    ["a Stripe secret key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc4eC39HqLyjWDarjtT1zdp7dc"],
    ["a Slack bot token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"],
    ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
    ["the empty string", ""],
    ["a prefix alone", "kwu_"],
    ["the header, not the token", "Bearer kwu_0000000000000000000000000000000000000000000000000"],
    ["a service prefix on a user-length body of zeros", "kws_" + "0".repeat(49)],
  ])("R15 %s is token_malformed", async (_label, token) => {
    const w = await spiedWorld();
    expect(await w.kw.authorize(token, "reports.export")).toEqual({ allowed: false, reason: "token_malformed", action: "reports.export" });
    expect(w.calls).toEqual([]);
  });

  it.each([
    ["padded to 256 characters", (t: string) => t + "A".repeat(MAX_TOKEN_LENGTH + 1 - t.length)],
    ["one megabyte long", (t: string) => t + "A".repeat(1 << 20)],
    ["repeated twice", (t: string) => t + t],
    ["with a trailing newline", (t: string) => `${t}\n`],
    ["with a leading space", (t: string) => ` ${t}`],
    ["with a NUL byte", (t: string) => `${t.slice(0, 10)}\u0000${t.slice(11)}`],
    ["upper-cased prefix", (t: string) => t.slice(0, 3).toUpperCase() + t.slice(3)],
    ["a Cyrillic homoglyph", (t: string) => t.slice(0, 1).replace("k", "\u043a") + t.slice(1)],
    ["a Greek capital omicron for a letter O or a zero", (t: string) => t.slice(0, 10) + "\u039f" + t.slice(11)],
    ["in fullwidth characters (NFKC maps them back)", (t: string) => fullwidth(t)],
    ["with a zero-width space inside", (t: string) => `${t.slice(0, 20)}\u200b${t.slice(20)}`],
    ["with a zero-width joiner replacing a character", (t: string) => `${t.slice(0, 20)}\u200d${t.slice(21)}`],
    ["with a non-breaking space", (t: string) => `${t.slice(0, 20)}\u00a0${t.slice(21)}`],
    ["with a combining accent", (t: string) => `${t.slice(0, 20)}\u0301${t.slice(20)}`],
    ["with an emoji", (t: string) => `${t.slice(0, 20)}🔑${t.slice(22)}`],
  ])("R15 a real token %s is token_malformed", async (_label, mangle) => {
    const w = await spiedWorld();
    expect((await w.kw.authorize(mangle(w.token), "reports.export")).reason).toBe("token_malformed");
    expect(w.calls).toEqual([]);
  });

  it("R15 no Unicode normalization: the fullwidth form of a real token normalizes to it but is still malformed", async () => {
    const w = await spiedWorld();
    expect(fullwidth(w.token).normalize("NFKC")).toBe(w.token);
    expect((await w.kw.authorize(fullwidth(w.token), "reports.export")).reason).toBe("token_malformed");
  });

  it.each([
    ["undefined", () => undefined],
    ["null", () => null],
    ["a number", () => 42],
    ["a bigint", () => 10n ** 60n],
    ["a boolean", () => true],
    ["a symbol", () => Symbol("kwu")],
    ["an object whose toString is the token", (t: string) => ({ toString: () => t })],
    ["a String object of the token", (t: string) => new String(t)],
    ["an array holding the token", (t: string) => [t]],
    ["the token's bytes", (t: string) => new TextEncoder().encode(t)],
    ["a function", () => () => "kwu_"],
  ])("R15 a non-string token (%s) is token_malformed", async (_label, make) => {
    const w = await spiedWorld();
    expect(await w.kw.authorize(make(w.token), "reports.export")).toEqual({ allowed: false, reason: "token_malformed", action: "reports.export" });
    expect(w.calls).toEqual([]);
  });

  it("R10 login with a malformed token throws token_malformed without a store call", async () => {
    const w = await spiedWorld();
    expect(await caught(() => w.kw.login(w.token.slice(1)))).toMatchObject({ code: "token_malformed" });
    expect(w.calls).toEqual([]);
  });

  it("R15 a well-formed unknown token costs exactly one store read", async () => {
    const w = await spiedWorld();
    const other = await world();
    const { token } = await other.userToken(other.users.ana.id);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_unknown");
    expect(w.calls).toEqual(["loadDecision"]);
  });
});

describe("R15 a token whose prefix names the other kind than its record", () => {
  it("R15 a user-prefixed token stored as a service token is token_unknown (an integrity failure, never an allow)", async () => {
    const w = await world();
    const forged = generateToken("user");
    const now = w.clock.now;
    const inserted = await w.store.insertToken(
      {
        id: "tok_forged",
        kind: "service_user",
        orgId: "acme",
        subjectId: w.bot.id,
        name: "forged",
        hash: tokenHasher()(forged),
        hint: "kwu_…",
        epoch: null,
        createdAt: now,
        createdBy: null,
        lastUsedAt: null,
        revokedAt: null,
        deletedAt: null,
        expiredAt: null,
      },
      admission({ max: 20, now, inactivityMs: THIRTY_DAYS }),
    );
    expect(inserted).toEqual({ ok: true });
    expect(await w.kw.authorize(forged, "reports.export")).toEqual({ allowed: false, reason: "token_unknown", action: "reports.export" });
  });
});

describe("R15 unknown actions are denied, never allowed, never a bare Error", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "", " ", "reports.export ", "REPORTS.EXPORT", "reports", "x".repeat(10_000)])(
    "R15 the action %j is permission_denied with unknownAction",
    async (action) => {
      const w = await spiedWorld();
      const d = await w.kw.authorize(w.token, action as never);
      expect(d).toMatchObject({ allowed: false, reason: "permission_denied", unknownAction: true });
    },
  );

  it.each(["__proto__", "constructor", "toString"])("R15 the action %j with an item is permission_denied too", async (action) => {
    const w = await spiedWorld();
    expect(await w.kw.authorize(w.token, action as never, w.inspection("insp_1"))).toMatchObject({ allowed: false, reason: "permission_denied", unknownAction: true });
  });

  it("R15 an unknown action still emits an authorization event (the host's configuration error is visible)", async () => {
    const w = await spiedWorld();
    await w.kw.authorize(w.token, "__proto__" as never);
    expect(w.events.at(-1)).toMatchObject({ type: "authorization", outcome: "denied", reason: "permission_denied", action: "__proto__" });
  });

  it.each([
    ["a number", 7],
    ["null", null],
    ["an object", { toString: () => "reports.export" }],
    ["a String object", new String("reports.export")],
  ])("R15 a non-string action (%s) is invalid_input naming the action", async (_label, action) => {
    const w = await spiedWorld();
    const e = await caught(() => w.kw.authorize(w.token, action as never));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "invalid_input", field: "action" });
  });
});

describe("R15 items of the wrong shape are invalid_input naming the field", () => {
  const huge = "i".repeat(201);
  it.each([
    ["missing for an item action", undefined, "item"],
    ["null for an item action", null, "item"],
    ["an array", ["acme", "inspection", "insp_1"], "item"],
    ["a number", 42, "item"],
    ["a string", "acme/inspection/insp_1", "item"],
    ["missing its id", { orgId: "acme", type: "inspection" }, "item.id"],
    ["with a numeric id", { orgId: "acme", type: "inspection", id: 1 }, "item.id"],
    ["with an empty id", { orgId: "acme", type: "inspection", id: "" }, "item.id"],
    ["with a huge id", { orgId: "acme", type: "inspection", id: huge }, "item.id"],
    ["with an object id", { orgId: "acme", type: "inspection", id: { $ne: null } }, "item.id"],
    ["missing its organization", { type: "inspection", id: "insp_1" }, "item.orgId"],
    ["missing its type", { orgId: "acme", id: "insp_1" }, "item.type"],
    ["of another type than the action's", { orgId: "acme", type: "template", id: "insp_1" }, "item.type"],
    ["with attributes as an array", { orgId: "acme", type: "inspection", id: "i", attributes: ["site_oslo"] }, "item.attributes"],
    ["with attributes as a string", { orgId: "acme", type: "inspection", id: "i", attributes: "siteId=site_oslo" }, "item.attributes"],
    ["with a numeric attribute", { orgId: "acme", type: "inspection", id: "i", attributes: { siteId: 5 } }, "item.attributes.siteId"],
    ["with a null attribute", { orgId: "acme", type: "inspection", id: "i", attributes: { siteId: null } }, "item.attributes.siteId"],
    ["with an array attribute", { orgId: "acme", type: "inspection", id: "i", attributes: { siteId: ["site_oslo"] } }, "item.attributes.siteId"],
    ["with a __proto__ attribute key holding an object", JSON.parse('{"orgId":"acme","type":"inspection","id":"i","attributes":{"__proto__":{"siteId":"site_oslo"}}}'), "item.attributes.__proto__"],
  ])("R15 an item %s → invalid_input at %s", async (_label, item, field) => {
    const w = await spiedWorld();
    const e = await caught(() => w.kw.authorize(w.token, "inspections.view", item as never));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "invalid_input", field });
    expect((e as Error).message).toContain(field);
  });

  it.each([
    ["a valid item", { orgId: "acme", type: "inspection", id: "insp_1" }],
    ["an item of any type", { orgId: "beta", type: "report", id: "r_1" }],
  ])("R12 an organization-level action given %s is invalid_input at item (a programming error, never silently ignored), before any store read", async (_label, item) => {
    const w = await spiedWorld();
    const eventsBefore = w.events.length;
    const e = await caught(() => w.kw.authorize(w.token, "reports.export", item));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "invalid_input", field: "item" });
    expect(w.calls).toEqual([]);
    expect(w.events.length).toBe(eventsBefore);
    const thrown = await caught(() => w.kw.assertAuthorized(w.token, "reports.export", item));
    expect(thrown).toMatchObject({ code: "invalid_input", field: "item" });
  });

  it("R12 an organization-level action without an item (undefined or null) is decided as before", async () => {
    const w = await spiedWorld();
    expect(await w.kw.authorize(w.token, "reports.export")).toMatchObject({ allowed: true });
    expect(await w.kw.authorize(w.token, "reports.export", null)).toMatchObject({ allowed: true });
  });

  it("R15 an item with a __proto__ key of its own is judged on its real fields only (denied without a share)", async () => {
    const w = await spiedWorld();
    const item = JSON.parse('{"orgId":"acme","type":"inspection","id":"i","__proto__":{"orgId":"beta","grant":"delete"}}');
    expect(await w.kw.authorize(w.token, "inspections.view", item)).toMatchObject({ allowed: false, reason: "access_denied" });
  });

  it("R13 a rule cannot be satisfied by an attribute inherited from Object.prototype: such a condition is refused (issue 11 #2), and the decision stays closed", async () => {
    const w = await world();
    const e = await caught(() => w.kw.directory.addRule({ orgId: "acme", itemType: "inspection", conditions: { constructor: ["Object"], toString: ["x"] }, grantee: { kind: "user", userId: w.users.ana.id }, level: "view" }));
    expect(e).toMatchObject({ code: "invalid_input", field: "conditions.constructor" });
    const { token } = await w.userToken(w.users.ana.id);
    expect((await w.kw.authorize(token, "inspections.view", w.inspection("i", {}))).allowed).toBe(false);
  });
});

describe("a failing store fails closed: unavailable, with the cause, never an allow", () => {
  const boom = new Error("connection reset by peer");
  const failing = {
    rejecting: () => Promise.reject(boom),
    throwing: () => {
      throw boom;
    },
  };

  it.each(Object.keys(failing) as (keyof typeof failing)[])("R15 a %s loadDecision makes authorize reject with unavailable", async (how) => {
    const inner = memoryStore();
    const w = await world({ store: inner });
    const { token } = await w.userToken(w.users.ada.id);
    const broken = spyStore(inner, { loadDecision: failing[how] }).store;
    const kw = (await import("../../src/index.js")).createKeyward({ store: broken, actions: ACTIONS, clock: () => w.clock.now });
    const e = await caught(() => kw.authorize(token, "reports.export"));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e).toMatchObject({ code: "unavailable" });
    expect((e as KeywardError).cause).toBe(boom);
  });

  it.each(Object.keys(failing) as (keyof typeof failing)[])("R10 a %s store makes login reject with unavailable", async (how) => {
    const inner = memoryStore();
    const w = await world({ store: inner });
    const { token } = await w.userToken(w.users.ada.id);
    const { createKeyward } = await import("../../src/index.js");
    const kw = createKeyward({ store: spyStore(inner, { loadDecision: failing[how] }).store, actions: ACTIONS });
    expect(await caught(() => kw.login(token))).toMatchObject({ code: "unavailable", cause: boom });
  });

  /** A keyward over a store in which every method fails. */
  async function allBroken(how: keyof typeof failing) {
    const inner = memoryStore();
    const w = await world({ store: inner });
    const { token } = await w.userToken(w.users.ada.id);
    const methods = Object.keys(inner) as (keyof KeywardStore)[];
    const overrides = Object.fromEntries(methods.map((m) => [m, failing[how]]));
    const { createKeyward } = await import("../../src/index.js");
    const kw = createKeyward({ store: spyStore(inner, overrides).store, actions: ACTIONS, verifyPassword: () => true });
    return { kw, token, w };
  }

  it.each(Object.keys(failing) as (keyof typeof failing)[])("R3 with a %s store, creating a token rejects with unavailable", async (how) => {
    const { kw, w } = await allBroken(how);
    expect(await caught(() => kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "x", password: "p" }))).toMatchObject({ code: "unavailable" });
  });

  it.each(Object.keys(failing) as (keyof typeof failing)[])("R11 with a %s store, listing and revoking reject with unavailable", async (how) => {
    const { kw, w } = await allBroken(how);
    expect(await caught(() => kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id }))).toMatchObject({ code: "unavailable" });
    expect(await caught(() => kw.tokens.revoke({ orgId: "acme", tokenId: "tok_x", actorId: w.users.ana.id }))).toMatchObject({ code: "unavailable" });
  });

  it.each(Object.keys(failing) as (keyof typeof failing)[])("R6 a %s use record does not change an allowed decision", async (how) => {
    const inner = memoryStore();
    const w = await world({ store: inner });
    const { token } = await w.userToken(w.users.ada.id);
    const { createKeyward } = await import("../../src/index.js");
    const kw = createKeyward({ store: spyStore(inner, { recordTokenUse: failing[how] }).store, actions: ACTIONS, clock: () => w.clock.now });
    expect(await kw.authorize(token, "reports.export")).toMatchObject({ allowed: true });
  });

  it.each(Object.keys(failing) as (keyof typeof failing)[])("R6 a %s expiry record does not change the token_expired decision", async (how) => {
    const inner = memoryStore();
    const w = await world({ store: inner });
    const { token } = await w.userToken(w.users.ada.id);
    w.advance(THIRTY_DAYS);
    const { createKeyward } = await import("../../src/index.js");
    const kw = createKeyward({ store: spyStore(inner, { markTokenExpired: failing[how] }).store, actions: ACTIONS, clock: () => w.clock.now });
    expect(await kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_expired" });
  });
});

describe("fuzz: anything as token, action or item never allows and never throws a bare Error", () => {
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
  });
  const onlyKeywardErrors = async (f: () => Promise<{ allowed: boolean }>) => {
    try {
      expect((await f()).allowed).toBe(false);
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
    }
  };

  it("R15 anything as the token", async () => {
    const w = await spiedWorld();
    await fc.assert(
      fc.asyncProperty(fc.oneof(anything, fc.string({ unit: "binary" }), fc.string({ minLength: 50, maxLength: 60 }).map((s) => `kwu_${s}`)), (token) =>
        onlyKeywardErrors(() => w.kw.authorize(token, "reports.export")),
      ),
      { numRuns: 300 },
    );
    expect(w.calls).toEqual([]);
  });

  it("R15 anything as the action, with a live administrator token", async () => {
    const w = await spiedWorld();
    await fc.assert(
      fc.asyncProperty(
        anything.filter((a) => typeof a !== "string" || !Object.hasOwn(ACTIONS, a)),
        (action) => onlyKeywardErrors(() => w.kw.authorize(w.token, action as never)),
      ),
      { numRuns: 300 },
    );
  });

  it("R15 anything as the item, with a live administrator token and nothing shared", async () => {
    const w = await spiedWorld();
    const itemLike = fc.record(
      { orgId: fc.oneof(fc.constant("acme"), anything), type: fc.oneof(fc.constant("inspection"), anything), id: anything, attributes: anything },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(anything, itemLike), (item) => onlyKeywardErrors(() => w.kw.authorize(w.token, "inspections.view", item as never))),
      { numRuns: 300 },
    );
  });

  it("R15 the token parser accepts nothing but real tokens", () => {
    const parse = tokenParser();
    fc.assert(fc.property(anything, (x) => parse(x) === null), { numRuns: 500 });
  });
});
