/**
 * Issue 11 #7 (R16): a refused management call emits `management.refused` naming the actor, the
 * operation and the code (never the input: no password, no token), and a token whose stored kind
 * differs from its prefix emits `token.integrity` and is denied.
 */
import { afterEach, expect, it } from "vitest";
import { createKeyward, type KeywardEvent } from "../../src/index.js";
import { managementRouter } from "../../src/manage/index.js";
import { ACTIONS, caught, PASSWORD, world, type World } from "../core/fixture.js";
import { describeStores, type StoreUnderTest } from "./stores.js";

const refused = (events: KeywardEvent[]) => events.filter((e) => e.type === "management.refused");

describeStores("issue 11 #7 R16 audit events", (make) => {
  let t: StoreUnderTest;
  let w: World;
  afterEach(async () => t.cleanup());

  it("issue 11 #7 a refused management call emits management.refused with the actor, the operation and the code", async () => {
    t = await make();
    w = await world({ store: t.store });
    const { record } = await w.serviceToken();
    w.events.length = 0;
    await caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id }));
    await caught(() => w.kw.serviceUsers.create({ orgId: "acme", name: "Escalator", permissionSetId: w.sets.admin.id, actorId: w.users.ana.id }));
    await caught(() => w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.carl.id }));
    expect(refused(w.events)).toEqual([
      { type: "management.refused", at: expect.any(Number), actorId: "u_bob", orgId: "acme", operation: "tokens.revoke", code: "not_found" },
      { type: "management.refused", at: expect.any(Number), actorId: "u_ana", orgId: "acme", operation: "serviceUsers.create", code: "forbidden" },
      { type: "management.refused", at: expect.any(Number), actorId: "u_carl", orgId: "acme", operation: "tokens.listOrganization", code: "forbidden" },
    ]);
  });

  it("issue 11 #7 a refused creation with bad input names the field and never the password", async () => {
    t = await make();
    w = await world({ store: t.store });
    await caught(() => w.kw.tokens.createUserToken({ orgId: "acme", userId: w.users.ana.id, name: "", password: PASSWORD }));
    expect(refused(w.events)).toEqual([
      { type: "management.refused", at: expect.any(Number), actorId: "u_ana", orgId: "acme", operation: "tokens.createUserToken", code: "invalid_input", field: "name" },
    ]);
    expect(JSON.stringify(w.events)).not.toContain(PASSWORD);
  });

  it("issue 11 #7 a token whose stored kind differs from its prefix emits token.integrity and is denied (authorize, accessible, login)", async () => {
    t = await make();
    w = await world({ store: t.store });
    const { token, record } = await w.userToken(w.users.ana.id);
    // The same store read by an instance whose prefixes name the kinds the other way round.
    const events: KeywardEvent[] = [];
    const swapped = createKeyward({ store: t.store, actions: ACTIONS, prefixes: { user: "kws", service_user: "kwu" }, onEvent: (e) => events.push(e) });
    expect((await swapped.authorize(token, "reports.export")).reason).toBe("token_unknown");
    expect(await swapped.accessible(token, "inspections.view", "inspection")).toMatchObject({ allowed: false, reason: "token_unknown" });
    expect(await caught(() => swapped.login(token))).toMatchObject({ code: "token_unknown" });
    const integrity = events.filter((e) => e.type === "token.integrity");
    expect(integrity).toHaveLength(3);
    expect(integrity[0]).toEqual({ type: "token.integrity", at: expect.any(Number), tokenId: record.id, orgId: "acme", presentedKind: "service_user", storedKind: "user" });
    expect(JSON.stringify(events)).not.toContain(token);
    // And a service user's token presented as a user's (a store may read only the presented kind's subject).
    const svc = await w.serviceToken();
    events.length = 0;
    expect(await swapped.authorize(svc.token, "inspections.view", w.inspection("i_1"))).toMatchObject({ allowed: false, reason: "token_unknown" });
    expect(await swapped.accessible(svc.token, "inspections.view", "inspection")).toMatchObject({ allowed: false, reason: "token_unknown" });
    expect(events.filter((e) => e.type === "token.integrity")).toEqual([
      { type: "token.integrity", at: expect.any(Number), tokenId: svc.record.id, orgId: "acme", presentedKind: "user", storedKind: "service_user" },
      { type: "token.integrity", at: expect.any(Number), tokenId: svc.record.id, orgId: "acme", presentedKind: "user", storedKind: "service_user" },
    ]);
  });
});

it("issue 11 #7 the management page asking what the caller may manage is not a refused call", async () => {
  const w = await world();
  const router = managementRouter(w.kw, { session: () => ({ orgId: "acme", userId: "u_bob" }) });
  const res = await router.fetch(new Request("http://app.test/api/me"));
  expect(await res.json()).toMatchObject({ can: { manageTokens: false, manageServiceUsers: false } });
  expect(refused(w.events)).toEqual([]);
});
