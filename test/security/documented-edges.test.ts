/**
 * Issue 11 #11: two answers the README documents, pinned over real HTTP on Express. A token in a
 * form body is 401 `missing_credentials` (the guards never read bodies), and a malformed `%`
 * escape in a route parameter is Express's own 400, before the guard (no authorization event).
 * (Documentation findings: these pin behaviour that already held.)
 */
import { afterEach, expect, it } from "vitest";
import { world } from "../core/fixture.js";
import { startExpress, type Running } from "../middleware/apps.js";

let running: Running | undefined;
afterEach(async () => running?.close());

it("issue 11 #11 a token in a form body is 401 missing_credentials, and one in the header works", async () => {
  const w = await world();
  await w.kw.directory.share({ item: w.inspection("insp_1"), grantee: { kind: "user", userId: w.users.ana.id }, level: "edit" });
  running = await startExpress({ kw: w.kw, inspections: new Map([["insp_1", w.inspection("insp_1")]]) });
  const { token } = await w.userToken(w.users.ana.id);
  const form = await fetch(`${running.url}/inspections/insp_1`, { method: "PUT", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `access_token=${token}` });
  expect(form.status).toBe(401);
  expect(await form.json()).toMatchObject({ code: "missing_credentials" });
  expect((await fetch(`${running.url}/inspections/insp_1`, { method: "PUT", headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
});

it("issue 11 #11 Express answers a malformed % escape with its own 400 before the guard runs", async () => {
  const w = await world();
  running = await startExpress({ kw: w.kw, inspections: new Map() });
  const { token } = await w.userToken(w.users.ana.id);
  w.events.length = 0;
  const res = await fetch(`${running.url}/inspections/%E0%A4%A`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(400);
  expect(w.events.filter((e) => e.type === "authorization")).toEqual([]);
});
