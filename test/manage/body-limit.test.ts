/**
 * The management router's body limit (16 KiB by default) holds on every mount, over real
 * loopback sockets: a chunked body much larger than the limit is answered 413
 * `payload_too_large` (problem+json) after reading about the limit, never after buffering the
 * whole body. The client's body is a lazy 64 MiB source that counts the bytes pulled from it:
 * when the answer arrives, the server can have taken at most the limit plus what the sockets
 * and stream buffers hold — not the 64 MiB.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CSRF_HEADER, managementRouter, toNodeHandler, type ManagementRouter } from "../../src/manage/index.js";
import { mountManagement as mountExpress } from "../../src/middleware/express.js";
import { mountManagement as mountFastify } from "../../src/middleware/fastify.js";
import { mountManagement as mountHono } from "../../src/middleware/hono.js";
import { world, type World } from "../core/fixture.js";
import { listen, type Running } from "../support/servers.js";

const BASE = "/settings/api-tokens";
const HUGE = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** Far below the 64 MiB sent, far above the limit plus loopback socket and stream buffers (a few MiB). */
const SENT_BOUND = 16 * 1024 * 1024;
/** What the server may have read off the socket by its answer: the 16 KiB limit plus stream buffers and a few socket reads — not 1 MiB. */
const READ_BOUND = 512 * 1024;

function routerFor(w: World): ManagementRouter {
  return managementRouter(w.kw, { basePath: BASE, session: () => ({ orgId: "acme", userId: "u_ana" }) });
}

/** Each way of serving the router, on a loopback port, with its `node:http` server. */
const mounts: Record<string, (router: ManagementRouter) => Promise<Running & { server: Server }>> = {
  "the Fetch handler (router.fetch on @hono/node-server)": (router) => served(createServer(getRequestListener(router.fetch))),
  "toNodeHandler (node:http)": (router) => served(createServer(toNodeHandler(router))),
  "Hono mountManagement": (router) => {
    const app = new Hono();
    mountHono(app, router);
    return served(createServer(getRequestListener(app.fetch)));
  },
  "Express mountManagement": (router) => {
    const app = express();
    mountExpress(app, router);
    return served(createServer(app));
  },
  "Fastify mountManagement": async (router) => {
    const app = Fastify();
    await mountFastify(app, router);
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close(), server: app.server };
  },
};

async function served(server: Server): Promise<Running & { server: Server }> {
  return { ...(await listen(server)), server };
}

/** The bytes the server had read from the request's socket when its answer was complete (before any draining after it). */
function bytesReadWhenAnswered(server: Server): Promise<number> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      server.off("request", onRequest);
      res.once("finish", () => resolve(req.socket.bytesRead));
    };
    server.prependListener("request", onRequest);
  });
}

/** A lazy source of `total` bytes (a JSON object that never ends), counting what was pulled from it. */
function countingSource(total: number): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  const chunk = Buffer.alloc(CHUNK, "x");
  const stream = new Readable({
    read() {
      if (pulled >= total) return void this.push(null);
      const next = pulled === 0 ? Buffer.concat([Buffer.from('{"name":"'), chunk.subarray(9)]) : chunk;
      pulled += next.byteLength;
      this.push(next);
    },
  });
  return { stream, pulled: () => pulled };
}

/** POSTs a chunked `total`-byte body; resolves when the answer's headers and body arrive, with the bytes pulled by then. */
function postChunked(url: string, total: number): Promise<{ status: number; type: string | undefined; connection: string | undefined; body: string; pulled: number }> {
  return new Promise((resolve, reject) => {
    const source = countingSource(total);
    const target = new URL(`${url}${BASE}/api/tokens`);
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-type": "application/json", [CSRF_HEADER]: "1", "transfer-encoding": "chunked" } },
      (res) => {
        const pulled = source.pulled();
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          resolve({ status: res.statusCode!, type: res.headers["content-type"], connection: res.headers.connection, body, pulled });
          req.destroy();
          source.stream.destroy();
        });
      },
    );
    // The server may close the connection while the client still writes: that is expected here.
    req.on("error", (e) => (req.writableEnded || (e as NodeJS.ErrnoException).code === "EPIPE" || (e as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(e)));
    source.stream.pipe(req);
  });
}

describe.each(Object.entries(mounts))("the management router's body limit on %s", (_name, start) => {
  let w: World;
  let server: (Running & { server: Server }) | undefined;
  beforeAll(async () => {
    w = await world();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("a 64 MiB chunked body is refused with 413 payload_too_large (problem+json) before the server reads it", async () => {
    server = await start(routerFor(w));
    const read = bytesReadWhenAnswered(server.server);
    const r = await postChunked(server.url, HUGE);
    expect(r.status).toBe(413);
    expect(r.pulled).toBeLessThan(SENT_BOUND);
    expect(await read).toBeLessThan(READ_BOUND);
    expect(r.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(r.body)).toMatchObject({ code: "payload_too_large", status: 413 });
    // The rest of the body is never read: the connection cannot be reused.
    expect(r.connection).toBe("close");
    expect((await w.kw.tokens.listMine({ orgId: "acme", userId: "u_ana" })).items).toEqual([]);
  });
});

describe("the management router's body limit, in process", () => {
  it("router.fetch stops reading a streamed body at the limit: it pulls at most one chunk past 16 KiB", async () => {
    const w = await world();
    const router = routerFor(w);
    let pulled = 0;
    const chunk = new Uint8Array(1024).fill(120);
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled += chunk.byteLength;
          controller.enqueue(chunk);
          if (pulled >= HUGE) controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const res = await router.fetch(
      new Request(`http://app.test${BASE}/api/tokens`, { method: "POST", headers: { "content-type": "application/json", [CSRF_HEADER]: "1" }, body, duplex: "half" } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe("payload_too_large");
    expect(pulled).toBeLessThanOrEqual(16_384 + 2 * chunk.byteLength);
  });

  it("a body within the limit still reaches the route (the count is of bytes, not characters)", async () => {
    const w = await world();
    const router = routerFor(w);
    // 3-byte characters: about 12 KiB of bytes in 4,000 characters.
    const res = await router.fetch(
      new Request(`http://app.test${BASE}/api/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", [CSRF_HEADER]: "1" },
        body: JSON.stringify({ name: "€".repeat(100), password: "€".repeat(1000) }),
      }),
    );
    expect(res.status).toBe(403); // the wrong password: the body was read whole and parsed
  });
});
