/**
 * R22 through `keyward/leaks`: GitHub secret scanning partner reports, signed with a local ECDSA
 * P-256 key pair and served by a fake keys endpoint (no network). The handler verifies the
 * signature over the raw body, discards malformed strings before any store read, revokes every
 * real token with the cause `leaked`, and answers with GitHub's feedback labels.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { beforeEach, describe, expect, it } from "vitest";
import { createKeyward, KeywardError, type KeywardEvent } from "../../src/index.js";
import { generateToken } from "../../src/core.js";
import { DEFAULT_PREFIX_WARNING, derToRaw, fromBase64, leakReportHandler, type LeakReportOptions } from "../../src/leaks/index.js";
import { memoryStore } from "../../src/memory.js";
import { mountManagement as mountExpress } from "../../src/middleware/express.js";
import { mountManagement as mountFastify } from "../../src/middleware/fastify.js";
import { mountManagement as mountHono } from "../../src/middleware/hono.js";
import { ACTIONS, spyStore, world, type World } from "../core/fixture.js";
import { listen, type Running } from "../support/servers.js";

const BASE = "/hooks/secret-scanning";
const KEYS_URL = "https://scanner.test/meta/public_keys/secret_scanning";

interface Pair {
  id: string;
  pem: string;
  privateKey: KeyObject;
}

function keyPair(id: string): Pair {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { id, pem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

/** The scanner's keys endpoint, in memory: which keys it serves, whether it is down, how often it was asked. */
function keysEndpoint(served: Pair[]) {
  const state = { served, down: false as false | "reject" | 500, calls: 0 };
  const fetch: NonNullable<LeakReportOptions["fetch"]> = async (url) => {
    state.calls++;
    expect(url).toBe(KEYS_URL);
    if (state.down === "reject") throw new TypeError("fetch failed");
    if (state.down === 500) return new Response("oops", { status: 500 });
    return Response.json({ public_keys: state.served.map((k, i) => ({ key_identifier: k.id, key: k.pem, is_current: i === 0 })) });
  };
  return { state, fetch };
}

/** A report as GitHub sends it: the raw body, signed (base64 DER) with `signer`, naming `keyId`. */
function signedRequest(body: string, signer: Pair, keyId = signer.id, url = `http://app.test${BASE}`): Request {
  const signature = sign("sha256", Buffer.from(body), signer.privateKey).toString("base64");
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/json", "github-public-key-identifier": keyId, "github-public-key-signature": signature },
    body,
  });
}

const entry = (token: string, extra: Record<string, string> = {}) => ({ token, type: "acme_api_token", url: "https://example.com/acme/blob/abc/.env", source: "content", ...extra });

describe("the leak report handler (R22, GitHub secret scanning)", () => {
  const current = keyPair("key-current");
  const stranger = keyPair("key-stranger");
  let w: World;
  let keys: ReturnType<typeof keysEndpoint>;
  let clock: { now: number };
  let warnings: string[];
  const handler = (extra: Partial<LeakReportOptions> = {}, kw: Parameters<typeof leakReportHandler>[0] = w.kw) =>
    leakReportHandler(kw, { basePath: BASE, keysUrl: KEYS_URL, fetch: keys.fetch, clock: () => clock.now, onWarning: (m) => warnings.push(m), ...extra });

  beforeEach(async () => {
    w = await world();
    keys = keysEndpoint([current]);
    clock = { now: 1_000_000 };
    warnings = [];
  });

  it("R22 a valid signed report revokes the token (cause leaked), tells its owner, and labels it true_positive", async () => {
    const { token, record } = await w.userToken(w.users.ana.id);
    const body = JSON.stringify([entry(token)]);
    const res = await handler().fetch(signedRequest(body, current));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual([{ token_raw: token, token_type: "acme_api_token", label: "true_positive" }]);
    expect(await w.kw.authorize(token, "reports.export")).toMatchObject({ allowed: false, reason: "token_revoked" });
    expect((await w.store.getToken(record.id))!.revokedCause).toBe("leaked");
    const leaked = w.events.find((e) => e.type === "token.leaked") as Extract<KeywardEvent, { type: "token.leaked" }>;
    expect(leaked).toMatchObject({ tokenId: record.id, subject: { kind: "user", id: "u_ana", name: "Ana Inspector" }, found: { source: "content", url: "https://example.com/acme/blob/abc/.env" }, revoked: true });
    expect(JSON.stringify(w.events)).not.toContain(token);
  });

  it("R22 several tokens in one report: each handled once, labels in the order of the report", async () => {
    const a = await w.userToken(w.users.ana.id);
    const s = await w.serviceToken();
    const unknown = generateToken("user");
    const body = JSON.stringify([entry(a.token), entry("not-a-token"), entry(s.token, { type: "acme_service_token", source: "commit" }), entry(unknown), entry(a.token)]);
    const res = await handler().fetch(signedRequest(body, current));
    expect(res.status).toBe(200);
    expect((await res.json()).map((x: { label: string; token_type: string }) => [x.label, x.token_type])).toEqual([
      ["true_positive", "acme_api_token"],
      ["false_positive", "acme_api_token"],
      ["true_positive", "acme_service_token"],
      ["false_positive", "acme_api_token"],
      ["true_positive", "acme_api_token"],
    ]);
    for (const t of [a.token, s.token]) expect((await w.kw.authorize(t, "reports.export")).reason).toBe("token_revoked");
    // The duplicate entry did not revoke twice.
    expect(w.events.filter((e) => e.type === "token.revoked")).toHaveLength(2);
    expect(w.events.filter((e) => e.type === "token.leaked")).toHaveLength(2);
  });

  it("R22 an already revoked token is still a true_positive (a real credential), with no second revocation", async () => {
    const { token, record } = await w.userToken(w.users.ana.id);
    await w.kw.tokens.revoke({ orgId: "acme", tokenId: record.id, actorId: "u_ana" });
    w.events.length = 0;
    const res = await handler().fetch(signedRequest(JSON.stringify([entry(token)]), current));
    expect(await res.json()).toEqual([{ token_raw: token, token_type: "acme_api_token", label: "true_positive" }]);
    expect(w.events.map((e) => e.type)).toEqual(["token.leaked"]);
  });

  it("R22 an entry without a source, or with a URL past 2048 characters, is still handled (source unknown, URL cut)", async () => {
    const { token } = await w.userToken(w.users.ana.id);
    const long = `https://example.com/${"x".repeat(3000)}`;
    const res = await handler().fetch(signedRequest(JSON.stringify([{ token, type: "acme_api_token", url: long }]), current));
    expect(res.status).toBe(200);
    expect((await res.json())[0].label).toBe("true_positive");
    const leaked = w.events.find((e) => e.type === "token.leaked") as Extract<KeywardEvent, { type: "token.leaked" }>;
    expect(leaked.found).toEqual({ source: "unknown", url: long.slice(0, 2048) });
  });

  it("R22 an unknown token (well formed, valid checksum, no record) is a false_positive", async () => {
    const unknown = generateToken("service_user");
    const res = await handler().fetch(signedRequest(JSON.stringify([entry(unknown)]), current));
    expect(await res.json()).toEqual([{ token_raw: unknown, token_type: "acme_api_token", label: "false_positive" }]);
  });

  it("R22 malformed strings (format, checksum) are false_positive and cause zero store reads", async () => {
    const { store, calls } = spyStore(memoryStore());
    const kw = createKeyward({ store, actions: ACTIONS });
    const real = generateToken("user");
    const badChecksum = real.slice(0, -1) + (real.endsWith("A") ? "B" : "A");
    const strings = ["", "hello", badChecksum, real.slice(0, -1), `${real}x`, "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"];
    const res = await handler({}, kw).fetch(signedRequest(JSON.stringify(strings.map((t) => entry(t))), current));
    expect(res.status).toBe(200);
    expect((await res.json()).map((x: { label: string }) => x.label)).toEqual(strings.map(() => "false_positive"));
    expect(calls).toEqual([]);
  });

  it("R22 a bad signature is refused with 401 invalid_signature: nothing read, nothing revoked", async () => {
    const { token } = await w.userToken(w.users.ana.id);
    const { store, calls } = spyStore(w.store);
    const kw = createKeyward({ store, actions: ACTIONS });
    const body = JSON.stringify([entry(token)]);
    // Signed by a key the scanner does not own, under the current key's id.
    const forged = await handler({}, kw).fetch(signedRequest(body, stranger, current.id));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ code: "invalid_signature" });
    // A genuine signature of another body (the body was altered in transit).
    const genuine = signedRequest(JSON.stringify([entry(generateToken("user"))]), current);
    const altered = new Request(genuine.url, { method: "POST", headers: genuine.headers, body });
    expect((await handler({}, kw).fetch(altered)).status).toBe(401);
    // Not a DER signature at all.
    const junkHeaders = new Headers(genuine.headers);
    junkHeaders.set("github-public-key-signature", "bm90IGEgc2lnbmF0dXJl");
    const junk = new Request(genuine.url, { method: "POST", headers: junkHeaders, body });
    expect((await handler({}, kw).fetch(junk)).status).toBe(401);
    expect(calls).toEqual([]);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R22 a report without the signature headers is refused with 401 signature_required", async () => {
    const res = await handler().fetch(new Request(`http://app.test${BASE}`, { method: "POST", headers: { "content-type": "application/json" }, body: "[]" }));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "signature_required" });
    expect(keys.state.calls).toBe(0);
  });

  it("R22 an unknown key id refetches the keys once, then refuses with 401 unknown_key; no refetch storm within the interval", async () => {
    const { token } = await w.userToken(w.users.ana.id);
    const h = handler({ minRefetchIntervalMs: 60_000 });
    expect((await h.fetch(signedRequest(JSON.stringify([]), current))).status).toBe(200);
    expect(keys.state.calls).toBe(1);
    clock.now += 60_000;
    const res = await h.fetch(signedRequest(JSON.stringify([entry(token)]), stranger));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unknown_key" });
    expect(keys.state.calls).toBe(2);
    // Within the interval: refused at once, the keys endpoint is not asked again.
    clock.now += 1000;
    expect((await h.fetch(signedRequest(JSON.stringify([entry(token)]), stranger))).status).toBe(401);
    expect(keys.state.calls).toBe(2);
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
  });

  it("R22 a key the scanner rotated in is fetched on first sight and accepted; the known key is served from the cache", async () => {
    const { token } = await w.userToken(w.users.ana.id);
    const next = keyPair("key-next");
    const h = handler();
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(200);
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(200);
    expect(keys.state.calls).toBe(1);
    keys.state.served = [next, current];
    clock.now += 60_000;
    const res = await h.fetch(signedRequest(JSON.stringify([entry(token)]), next));
    expect(res.status).toBe(200);
    expect(keys.state.calls).toBe(2);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_revoked");
  });

  it.each([["rejects", "reject" as const], ["answers 500", 500 as const]])("R22 fails closed when the keys endpoint %s: 503 with Retry-After, nothing revoked", async (_what, down) => {
    const { token } = await w.userToken(w.users.ana.id);
    keys.state.down = down;
    const h = handler();
    const res = await h.fetch(signedRequest(JSON.stringify([entry(token)]), current));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ code: "unavailable" });
    expect((await w.kw.authorize(token, "reports.export")).allowed).toBe(true);
    // Once the endpoint is back (and the interval passed), the same report goes through.
    keys.state.down = false;
    clock.now += 60_000;
    expect((await h.fetch(signedRequest(JSON.stringify([entry(token)]), current))).status).toBe(200);
    expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_revoked");
  });

  it("R22 a failed refetch for an unknown key id keeps the keys in hand (503 for that id, 200 for the known key); past keysMaxAgeMs nothing is accepted", async () => {
    const h = handler({ keysMaxAgeMs: 3_600_000 });
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(200);
    keys.state.down = "reject";
    clock.now += 60_000;
    expect((await h.fetch(signedRequest("[]", stranger))).status).toBe(503);
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(200);
    clock.now += 3_600_000;
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(503);
    expect(keys.state.calls).toBe(3);
  });

  it("R22 keys older than keysMaxAgeMs are fetched again, so a withdrawn key stops working", async () => {
    const h = handler({ keysMaxAgeMs: 3_600_000 });
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(200);
    keys.state.served = [keyPair("key-other")];
    clock.now += 3_600_000;
    expect((await h.fetch(signedRequest("[]", current))).status).toBe(401);
    expect(keys.state.calls).toBe(2);
  });

  it("R22 a body over maxBodyBytes is refused with 413 before any key fetch or store read", async () => {
    const { store, calls } = spyStore(memoryStore());
    const kw = createKeyward({ store, actions: ACTIONS });
    const body = JSON.stringify(Array.from({ length: 50 }, () => entry(generateToken("user"))));
    const res = await handler({ maxBodyBytes: 1024 }, kw).fetch(signedRequest(body, current));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
    expect(keys.state.calls).toBe(0);
    expect(calls).toEqual([]);
  });

  it("a signed body that is not an array of reports is 400 invalid_input", async () => {
    for (const body of ["{}", "not json", JSON.stringify([{ type: "x" }])]) {
      const res = await handler().fetch(signedRequest(body, current));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_input" });
    }
  });

  it("answers POST at its basePath only: 405 with Allow for other methods, 404 elsewhere", async () => {
    const h = handler();
    const get = await h.fetch(new Request(`http://app.test${BASE}`));
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await h.fetch(signedRequest("[]", current, current.id, "http://app.test/elsewhere"))).status).toBe(404);
    expect((await h.fetch(signedRequest("[]", current, current.id, `http://app.test${BASE}/`))).status).toBe(200);
  });

  it("with feedback: token_hash, the answer names each token by its SHA-256 (hex) and holds no secret", async () => {
    const { token } = await w.userToken(w.users.ana.id);
    const res = await handler({ feedback: "token_hash" }).fetch(signedRequest(JSON.stringify([entry(token)]), current));
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(JSON.parse(text)).toEqual([{ token_hash: createHash("sha256").update(token).digest("hex"), token_type: "acme_api_token", label: "true_positive" }]);
  });

  it("a failing store answers 503 (the scanner retries; a retry is safe)", async () => {
    const { token } = await w.userToken(w.users.ana.id);
    const { store } = spyStore(w.store, { loadDecision: () => Promise.reject(new Error("connection reset")) });
    const errors: unknown[] = [];
    const res = await handler({ onError: (e) => errors.push(e) }, createKeyward({ store, actions: ACTIONS })).fetch(signedRequest(JSON.stringify([entry(token)]), current));
    expect(res.status).toBe(503);
    expect(errors).toHaveLength(1);
  });

  it.each([
    [new KeywardError("invalid_input", 'Invalid input at "source": too long.', { field: "source" }), 400, "invalid_input", 0],
    [new KeywardError("invalid_config"), 500, "invalid_config", 1],
    [new TypeError("postgres://user:secret@db"), 500, "internal_error", 1],
  ])("an error while handling is answered as the management router answers it (%s → %i), reported to onError only when a 5xx", async (error, status, code, reported) => {
    const errors: unknown[] = [];
    const kw = { prefixes: { user: "acmeu", service_user: "acmes" }, tokens: { reportLeak: () => Promise.reject(error) } };
    const res = await handler({ onError: (e) => errors.push(e) }, kw).fetch(signedRequest(JSON.stringify([entry("acmeu_x")]), current));
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code, status });
    expect(text).not.toContain("secret");
    expect(errors).toHaveLength(reported);
  });

  it("warns at start-up with the default prefixes kwu/kws, and not with the host's own", () => {
    handler();
    expect(warnings).toEqual([DEFAULT_PREFIX_WARNING]);
    warnings.length = 0;
    handler({}, createKeyward({ store: memoryStore(), actions: ACTIONS, prefixes: { user: "acmeu", service_user: "acmes" } }));
    expect(warnings).toEqual([]);
  });

  it("checks its options once: invalid_config naming the field", () => {
    expect(() => leakReportHandler(w.kw, { basePath: "no-slash", keysUrl: KEYS_URL })).toThrow(expect.objectContaining({ code: "invalid_config" }));
    expect(() => leakReportHandler(w.kw, { basePath: BASE, keysUrl: "not a url" })).toThrow(expect.objectContaining({ code: "invalid_config" }));
  });
});

describe("DER signatures to Web Crypto's raw form", () => {
  it("converts r and s with and without their sign-padding byte, and refuses trailing bytes or negative integers", () => {
    const der = (r: number[], s: number[], tail: number[] = []) => Uint8Array.from([0x30, 4 + r.length + s.length, 0x02, r.length, ...r, 0x02, s.length, ...s, ...tail]);
    const raw = derToRaw(der([0x00, 0x80, 0x01], [0x05]))!;
    expect([...raw.slice(30, 32)]).toEqual([0x80, 0x01]);
    expect(raw[63]).toBe(0x05);
    expect(derToRaw(Uint8Array.from([...der([1], [2]), 0]))).toBeNull();
    expect(derToRaw(der([0x80], [1]))).toBeNull();
    expect(derToRaw(der(new Array(33).fill(1), [1]))).toBeNull();
    expect(fromBase64("!!!")).toBeNull();
  });
});

/** The handler mounted with each framework's `mountManagement` (the same mechanism as the management router), over real HTTP. */
const frameworks: Record<string, (h: ReturnType<typeof leakReportHandler>) => Promise<Running>> = {
  express: async (h) => {
    const app = express();
    mountExpress(app, h);
    app.use(express.json());
    return listen(createServer(app));
  },
  fastify: async (h) => {
    const app = Fastify();
    await mountFastify(app, h);
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  hono: async (h) => {
    const app = new Hono();
    mountHono(app, h);
    return listen(createServer(getRequestListener(app.fetch)));
  },
};

describe.each(Object.entries(frameworks))("R22 the leak handler mounted on %s", (_name, start) => {
  it("revokes a reported token over HTTP (the raw body reaches the signature check unchanged)", async () => {
    const w = await world();
    const pair = keyPair("k1");
    const keys = keysEndpoint([pair]);
    const server = await start(leakReportHandler(w.kw, { basePath: BASE, keysUrl: KEYS_URL, fetch: keys.fetch, onWarning: () => {} }));
    try {
      const { token } = await w.userToken(w.users.ana.id);
      // Spacing and key order GitHub's serializer may use: a re-encoded body would not verify.
      const body = `[ {"source":"commit","token":"${token}","type":"acme_api_token","url":""} ]`;
      const signed = signedRequest(body, pair);
      const res = await fetch(`${server.url}${BASE}`, { method: "POST", headers: signed.headers, body });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([{ token_raw: token, token_type: "acme_api_token", label: "true_positive" }]);
      expect((await w.kw.authorize(token, "reports.export")).reason).toBe("token_revoked");
      const bad = await fetch(`${server.url}${BASE}`, { method: "POST", headers: signedRequest("[]", pair).headers, body });
      expect(bad.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
