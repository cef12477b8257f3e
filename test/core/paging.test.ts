/**
 * Paged listings (issue 11 finding 6): tokens and members come a page at a time (`limit`,
 * opaque `cursor`), filtered by status and search, sorted, with a total — never everything at once.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from "../../src/index.js";
import { caught, DAY, PASSWORD, world } from "./fixture.js";

async function all<T>(first: (cursor: string | null) => Promise<Page<T>>): Promise<{ items: T[]; pages: number; totals: number[] }> {
  const items: T[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  for (let pages = 1; ; pages++) {
    const page = await first(cursor);
    items.push(...page.items);
    totals.push(page.total);
    if (page.nextCursor === null) return { items, pages, totals };
    cursor = page.nextCursor;
  }
}

describe("paged token listings (R5, R10, R11)", () => {
  it("R11 the organization's tokens come 50 a page by default, every token once, with the total on every page", async () => {
    const w = await world({ limits: { userTokensPerUser: 200 } });
    for (let i = 0; i < 120; i++) {
      await w.kw.tokens.createUserToken({ orgId: "acme", userId: [w.users.ana.id, w.users.bob.id][i % 2]!, name: `t${i}`, password: PASSWORD });
      w.advance(1000);
    }
    const first = await w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id });
    expect(first.items).toHaveLength(DEFAULT_PAGE_SIZE);
    expect(first.total).toBe(120);
    const walked = await all((cursor) => w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id, cursor }));
    expect(walked.pages).toBe(3);
    expect(walked.totals).toEqual([120, 120, 120]);
    expect(walked.items.map((t) => t.name)).toEqual(Array.from({ length: 120 }, (_, i) => `t${i}`));
    // Newest first, 7 at a time, the same set.
    const desc = await all((cursor) => w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id, order: "desc", limit: 7, cursor }));
    expect(desc.items.map((t) => t.name)).toEqual(Array.from({ length: 120 }, (_, i) => `t${119 - i}`));
  });

  it("R5 no page, cursor or total carries a secret or a digest", async () => {
    const w = await world();
    const { token } = await w.userToken(w.users.ana.id);
    const page = await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id, limit: 1 });
    const text = JSON.stringify(page);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(-12));
  });

  it("R11 status filters: every status but deleted by default; one, several or all on request; active by last use", async () => {
    const w = await world();
    const a = await w.userToken(w.users.ana.id, "acme", "a");
    w.advance(1000);
    const b = await w.userToken(w.users.ana.id, "acme", "b");
    w.advance(1000);
    const c = await w.userToken(w.users.ana.id, "acme", "c");
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: b.record.id, actorId: w.users.ana.id });
    await w.kw.tokens.delete({ orgId: "acme", tokenId: c.record.id, actorId: w.users.ada.id });
    const names = async (status?: Parameters<typeof w.kw.tokens.listMine>[0]["status"]) =>
      (await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id, ...(status === undefined ? {} : { status }) })).items.map((t) => `${t.name}:${t.status}`);
    expect(await names()).toEqual(["a:active", "b:revoked"]);
    expect(await names("active")).toEqual(["a:active"]);
    expect(await names(["deleted", "revoked"])).toEqual(["b:revoked", "c:deleted"]);
    expect(await names("all")).toEqual(["a:active", "b:revoked", "c:deleted"]);
    w.advance(31 * DAY);
    expect(await names("expired")).toEqual(["a:expired"]);
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id, status: "active" })).total).toBe(0);
    void a;
  });

  it("R11 the administrator searches token and owner names, any case, and sorts by last use and expiry", async () => {
    const w = await world();
    const ana = await w.userToken(w.users.ana.id, "acme", "Deploy");
    w.advance(1000);
    await w.userToken(w.users.bob.id, "acme", "laptop");
    w.advance(1000);
    await w.userToken(w.users.bob.id, "acme", "never used");
    w.advance(DAY);
    expect((await w.kw.authorize(ana.token, "reports.export")).allowed).toBe(true);
    const list = (options: Omit<Parameters<typeof w.kw.tokens.listOrganization>[0], "orgId" | "actorId">) =>
      w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id, ...options }).then((p) => p.items.map((t) => t.name));
    expect(await list({ search: "DEPLOY" })).toEqual(["Deploy"]);
    expect(await list({ search: w.users.bob.name.toUpperCase() })).toEqual(["laptop", "never used"]);
    expect(await list({ search: "  " })).toHaveLength(3);
    // Last used: most recent first by default, the never used after it (between themselves by id).
    const byUse = await list({ sort: "last_used" });
    expect(byUse[0]).toBe("Deploy");
    expect(byUse.slice(1).sort()).toEqual(["laptop", "never used"]);
    // Expiry (R6 inactivity deadline): soonest first by default; Ana's use pushed hers last.
    expect(await list({ sort: "expires" })).toEqual(["laptop", "never used", "Deploy"]);
    expect(await list({ sort: "expires", order: "desc" })).toEqual(["Deploy", "never used", "laptop"]);
  });

  it.each([
    [{ limit: 0 }, "limit"],
    [{ limit: MAX_PAGE_SIZE + 1 }, "limit"],
    [{ limit: 2.5 }, "limit"],
    [{ cursor: "not a cursor!" }, "cursor"],
    [{ cursor: "eyJ0IjoidG9rIn0" }, "cursor"],
    [{ status: "gone" }, "status"],
    [{ sort: "name" }, "sort"],
    [{ search: "x".repeat(201) }, "search"],
  ])("bad listing option %j is invalid_input naming %s", async (options, field) => {
    const w = await world();
    const e = await caught(() => w.kw.tokens.listOrganization({ orgId: "acme", actorId: w.users.ada.id, ...(options as object) }));
    expect(e).toMatchObject({ code: "invalid_input" });
    expect((e as { field?: string }).field ?? "").toContain(field);
  });

  it("a cursor of one order is refused in another (invalid_input on cursor), and works again in its own", async () => {
    const w = await world();
    for (let i = 0; i < 3; i++) {
      await w.userToken(w.users.ana.id, "acme", `t${i}`);
      w.advance(1000);
    }
    const page = await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id, limit: 1, sort: "created" });
    expect(page.nextCursor).not.toBeNull();
    expect(await caught(() => w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id, limit: 1, sort: "expires", cursor: page.nextCursor }))).toMatchObject({ code: "invalid_input", field: "cursor" });
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: w.users.ana.id, limit: 1, cursor: page.nextCursor })).items[0]!.name).toBe("t1");
  });

  it("R11 service-user token lists page too, and narrow to one service user", async () => {
    const w = await world();
    const other = await w.kw.serviceUsers.create({ orgId: "acme", name: "Zap", permissionSetId: w.sets.bot.id, actorId: w.users.ada.id });
    await w.serviceToken(w.bot.id, "one");
    w.advance(1000);
    await w.serviceToken(other.id, "two");
    const both = await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.ada.id, limit: 1 });
    expect(both).toMatchObject({ total: 2, items: [{ name: "one" }] });
    expect(both.nextCursor).not.toBeNull();
    const zap = await w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.ada.id, serviceUserId: other.id });
    expect(zap.items.map((t) => t.name)).toEqual(["two"]);
    expect(await caught(() => w.kw.tokens.listServiceTokens({ orgId: "acme", actorId: w.users.bob.id, limit: 1 }))).toMatchObject({ code: "forbidden" });
  });
});

describe("paged member listing (R9)", () => {
  it("R9 members come by name a page at a time, with search and status, and never a service user", async () => {
    const w = await world();
    const everyone = await all((cursor) => w.kw.directory.listMembers({ orgId: "acme", limit: 2, cursor }));
    const names = everyone.items.map((m) => m.user.name);
    expect(names).toEqual([...names].sort());
    expect(everyone.totals.every((t) => t === names.length)).toBe(true);
    expect(names).not.toContain(w.bot.name);
    expect((await w.kw.directory.listMembers({ orgId: "acme" })).items.map((m) => m.user.name)).toEqual(names);
    const hit = await w.kw.directory.listMembers({ orgId: "acme", search: w.users.ana.name.slice(0, 3).toLowerCase() });
    expect(hit.items.map((m) => m.user.id)).toContain(w.users.ana.id);
    await w.kw.directory.removeMember({ orgId: "acme", userId: w.users.bob.id });
    expect((await w.kw.directory.listMembers({ orgId: "acme" })).items.map((m) => m.user.id)).not.toContain(w.users.bob.id);
    expect((await w.kw.directory.listMembers({ orgId: "acme", status: "left" })).items.map((m) => m.user.id)).toEqual([w.users.bob.id]);
    expect(await caught(() => w.kw.directory.listMembers({ orgId: "acme", limit: 501 }))).toMatchObject({ code: "invalid_input" });
  });
});
