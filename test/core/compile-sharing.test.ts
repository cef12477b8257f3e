/**
 * What the compile step adds for decisions without changing any: the 32-bit key summaries a
 * decision skips a grant index by, and one permission `Set` per frozen permission list. Each is
 * a law over random input: a summary that missed a shared key would hide a grant (R13); a shared
 * set that differed from the list would change R12.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileShares, compileSubject, keyBits, keyHash, noGrants, pathsFrom } from "../../src/core/compile.js";
import { decide } from "../../src/core/decide.js";
import type { LoadedSubject, Share, TokenRecord } from "../../src/core/types.js";

const T0 = 1_700_000_000_000;
const token: TokenRecord = {
  id: "tok",
  kind: "user",
  orgId: "A",
  subjectId: "u1",
  name: "t",
  hash: "h",
  hint: "x",
  epoch: "e1",
  createdAt: T0,
  createdBy: null,
  lastUsedAt: null,
  revokedAt: null,
  deletedAt: null,
  expiredAt: null,
};
const member = (permissions: readonly string[], groupIds: string[] = []): LoadedSubject => ({
  kind: "user",
  user: { id: "u1", name: "Una" },
  membership: { orgId: "A", userId: "u1", permissionSetId: "p", groupIds, siteIds: [], status: "active", seat: true, epoch: "e1" },
  permissions: permissions as string[],
});
const key = fc.string({ maxLength: 12 });

describe("key summaries (keyBits)", () => {
  it("R13 two key lists that share a key share a bit: skipping an index whose bits miss the subject's never hides a grant", () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 8 }), fc.array(key, { maxLength: 8 }), key, (a, b, shared) => {
        expect(keyBits([...a, shared]) & keyBits([shared, ...b])).not.toBe(0);
        // the bits of a list are the union of its keys' bits, and of a prefix the prefix's
        expect(keyBits([...a, ...b])).toBe(keyBits(a) | keyBits(b));
        expect(keyBits([...a, ...b], a.length)).toBe(keyBits(a));
      }),
    );
  });

  it("the compiled subject and grant index carry the bits of their keys (across: the first acrossCount keys)", () => {
    const subject = compileSubject({ token, subject: member(["x"], ["g1", "g2"]) });
    expect(subject.keyBits).toBe(keyBits(subject.keys));
    expect(subject.acrossKeyBits).toBe(keyBits(subject.keys, subject.acrossCount));
    const shares: Share[] = [
      { id: "sh1", item: { orgId: "A", type: "inspection", id: "i1" }, grantee: { kind: "group", groupId: "g1" }, level: "edit", createdAt: T0 },
      { id: "sh2", item: { orgId: "A", type: "inspection", id: "i1" }, grantee: { kind: "user", userId: "u9" }, level: "view", createdAt: T0 },
    ];
    const index = compileShares(shares, pathsFrom({}));
    expect(index.bits).toBe(keyBits([...index.byKey.keys()]));
    expect(index.bits & subject.keyBits).not.toBe(0);
  });

  it("R13 a grant under a key that shares no bit with the subject's keys denies; one under a subject key allows", () => {
    const subject = member(["inspections:edit"], ["g1"]);
    const compiled = compileSubject({ token, subject });
    // A group whose key's bit is none of the subject's: the decision skips the index (denied, not visible).
    let other = 0;
    while ((keyBits([`g\0other${other}`]) & compiled.keyBits) !== 0) other++;
    const def = { permission: "inspections:edit", access: "edit" as const, item: "inspection" };
    const it1 = { orgId: "A", type: "inspection", id: "i1" };
    const grantTo = (groupId: string) => compileShares([{ id: "sh", item: it1, grantee: { kind: "group", groupId }, level: "edit" }], pathsFrom({}));
    const input = (shares: ReturnType<typeof grantTo>) => ({ token, subject, compiled, shares, rules: noGrants() });
    expect(decide(input(grantTo(`other${other}`)), "inspections.edit", def, it1, T0, { inactivityMs: 1e12 })).toMatchObject({ allowed: false, reason: "access_denied", visible: false });
    expect(decide(input(grantTo("g1")), "inspections.edit", def, it1, T0, { inactivityMs: 1e12 })).toMatchObject({ allowed: true, grant: { source: "share", id: "sh", via: "group" } });
  });
});

describe("key hashes (keyHash)", () => {
  it("the compiled subject and grant index carry the hash of each key, in the keys' order", () => {
    const subject = compileSubject({ token, subject: member(["x"], ["g1", "g2"]) });
    expect(subject.hashes).toEqual(subject.keys.map(keyHash));
    // the first three inline, the bits of the others apart
    expect([subject.key0, subject.key1, subject.key2]).toEqual(subject.keys.slice(0, 3));
    expect([subject.hash0, subject.hash1, subject.hash2]).toEqual(subject.hashes.slice(0, 3));
    expect(subject.restKeyBits).toBe(keyBits(subject.keys.slice(3)));
    const service = compileSubject({ token: { ...token, kind: "service_user", epoch: null }, subject: { kind: "service_user", serviceUser: null, permissions: [] } });
    expect([service.key0, service.key1, service.key2, service.hash2, service.restKeyBits]).toEqual([service.keys[0], service.keys[1], null, -1, 0]);
    const it1 = { orgId: "A", type: "inspection", id: "i1" };
    const index = compileShares([
      { id: "sh1", item: it1, grantee: { kind: "group", groupId: "g1" }, level: "edit" },
      { id: "sh2", item: it1, grantee: { kind: "group", groupId: "g1" }, level: "view" },
      { id: "sh3", item: it1, grantee: { kind: "user", userId: "u9" }, level: "view" },
    ], pathsFrom({}));
    const triples = [];
    for (let i = 0; i < index.entries.length; i += 3) triples.push([index.entries[i], index.entries[i + 1], (index.entries[i + 2] as { id: string }).id]);
    expect(triples).toEqual([[keyHash("g\0g1"), "g\0g1", "sh1"], [keyHash("g\0g1"), "g\0g1", "sh2"], [keyHash("u\0u9"), "u\0u9", "sh3"]]);
  });

  it("R13 a grant under another key of the same hash includes no one: the decision compares the key itself", () => {
    // Two group ids whose keys collide (30 bits: a collision within some 40,000 ids).
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const h = keyHash(`g\0grp${i}`);
      const before = seen.get(h);
      if (before !== undefined) pair = [before, `grp${i}`];
      else seen.set(h, `grp${i}`);
    }
    const [mine, theirs] = pair;
    expect(keyHash(`g\0${mine}`)).toBe(keyHash(`g\0${theirs}`));
    const subject = member(["inspections:edit"], [mine]);
    const compiled = compileSubject({ token, subject });
    const def = { permission: "inspections:edit", access: "edit" as const, item: "inspection" };
    const it1 = { orgId: "A", type: "inspection", id: "i1" };
    const grantTo = (groupId: string) => compileShares([{ id: "sh", item: it1, grantee: { kind: "group", groupId }, level: "edit" }], pathsFrom({}));
    const decideOn = (groupId: string) => decide({ token, subject, compiled, shares: grantTo(groupId), rules: noGrants() }, "inspections.edit", def, it1, T0, { inactivityMs: 1e12 });
    expect(decideOn(theirs)).toMatchObject({ allowed: false, reason: "access_denied", visible: false });
    expect(decideOn(mine)).toMatchObject({ allowed: true, grant: { source: "share", id: "sh", via: "group" } });
  });
});

describe("permission sets", () => {
  it("R12 subjects holding one frozen permission list share one Set of exactly its permissions; a list that is not frozen gets its own", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 10 }), (perms) => {
        const frozen = Object.freeze([...perms]);
        const a = compileSubject({ token, subject: member(frozen) });
        const b = compileSubject({ token, subject: member(frozen, ["g1"]) });
        expect(a.permissions).toBe(b.permissions);
        expect([...a.permissions].sort()).toEqual([...perms].sort());
        const loose = [...perms];
        const c = compileSubject({ token, subject: member(loose) });
        const d = compileSubject({ token, subject: member(loose) });
        expect(c.permissions).not.toBe(d.permissions);
        expect([...c.permissions].sort()).toEqual([...perms].sort());
      }),
    );
  });
});
