/**
 * Issue 11 #9 (R11): revoking a token of your own organization that you may not manage answers
 * `not_found`, exactly as an unknown id does, so a member cannot tell which token ids exist.
 */
import { afterEach, expect, it } from "vitest";
import { caught, world, type World } from "../core/fixture.js";
import { describeStores, type StoreUnderTest } from "./stores.js";

describeStores("issue 11 #9 R11 revoking a token you may not manage", (make) => {
  let t: StoreUnderTest;
  let w: World;
  afterEach(async () => t.cleanup());

  it("issue 11 #9 answers not_found for a service token, the same as for an unknown id", async () => {
    t = await make();
    w = await world({ store: t.store });
    const { record } = await w.serviceToken();
    const own = await caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id }));
    const unknown = await caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: "tok_nope", actorId: w.users.bob.id }));
    expect(own).toMatchObject({ code: "not_found" });
    expect(own).toMatchObject({ code: (unknown as { code: string }).code, message: (unknown as Error).message });
    // and nothing was revoked
    expect((await t.store.getToken(record.id))?.revokedAt).toBeNull();
  });

  it("issue 11 #9 answers not_found for another member's user token", async () => {
    t = await make();
    w = await world({ store: t.store });
    const { record } = await w.userToken(w.users.ana.id);
    expect(await caught(() => w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: w.users.bob.id }))).toMatchObject({ code: "not_found" });
  });
});
