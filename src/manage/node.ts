/**
 * Serving a Fetch handler with `node:http`: `IncomingMessage` → `Request`, `Response` →
 * `ServerResponse`. Types only from Node; the conversion uses Web APIs.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { collectBytes } from "../http/body.js";
import { buildProblem, type HttpProblem, type ProblemDocument } from "../http/mapping.js";

/** Options of {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * The public origin (`https://app.example.com`) to build request URLs with. Default: the
   * request's `Host` header over `http` (or `https` on a TLS socket). Set it behind a proxy,
   * since the router's same-origin check compares `Origin` with this.
   */
  origin?: string;
  /** Largest request body read, in bytes (the rest is refused with 413). Default 1 MiB. */
  maxBodyBytes?: number;
}

/** Anything with a Fetch handler, e.g. a management router. */
export interface FetchHandler {
  fetch(request: Request): Promise<Response> | Response;
}

const NO_BODY = new Set(["GET", "HEAD"]);

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array<ArrayBuffer> | "too_large"> {
  return collectBytes(req as AsyncIterable<Uint8Array | string>, max);
}

/**
 * The Fetch `Request` of a Node request whose body is already in hand (read from the stream, or
 * handed over by a framework): the URL from `url` (default `req.url`) on the public origin, every
 * header (duplicates kept), and the body for methods that carry one.
 *
 * @example
 * ```ts
 * const request = buildRequest(req, bytes, { url: req.originalUrl });
 * ```
 */
export function buildRequest(req: IncomingMessage, body: Uint8Array<ArrayBuffer> | null, options: NodeHandlerOptions & { url?: string } = {}): Request {
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const base = options.origin ?? `${encrypted ? "https" : "http"}://${req.headers.host ?? "localhost"}`;
  const url = new URL(options.url ?? req.url ?? "/", base);
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || key.startsWith(":")) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else headers.set(key, value);
  }
  const method = (req.method ?? "GET").toUpperCase();
  if (NO_BODY.has(method)) return new Request(url, { method, headers });
  if (body !== null && headers.has("content-length")) headers.set("content-length", String(body.byteLength));
  return new Request(url, { method, headers, body: body === null || body.byteLength === 0 ? null : body });
}

/**
 * Converts a Node request into a Fetch `Request` (or `"too_large"` past `maxBodyBytes`).
 *
 * @example
 * ```ts
 * const request = await toRequest(req, { origin: "https://app.example.com" });
 * ```
 */
export async function toRequest(req: IncomingMessage, options: NodeHandlerOptions = {}): Promise<Request | "too_large"> {
  const method = (req.method ?? "GET").toUpperCase();
  if (NO_BODY.has(method)) return buildRequest(req, null, options);
  const body = await readBody(req, options.maxBodyBytes ?? 1_048_576);
  if (body === "too_large") return "too_large";
  return buildRequest(req, body, options);
}

/** The adapter's own answers: a body over `maxBodyBytes`, and a handler that threw. */
const ADAPTER_PROBLEMS: Readonly<Record<"payload_too_large" | "internal_error", HttpProblem<ProblemDocument>>> = {
  payload_too_large: buildProblem("payload_too_large", 413, "Request too large", "The request body is too large.", {}, { connection: "close" }),
  internal_error: buildProblem("internal_error", 500, "Internal error", "Something went wrong on the server."),
};

function writeProblem(res: ServerResponse, problem: HttpProblem<ProblemDocument>): void {
  res.writeHead(problem.status, { ...problem.headers, "content-type": "application/problem+json; charset=utf-8" });
  res.end(JSON.stringify(problem.body));
}

/**
 * Serves one Node request with a Fetch handler: builds the `Request` (reading the body, unless
 * `body` hands it over), writes the `Response`; 413 past `maxBodyBytes`, 500 if the handler
 * throws (the connection is dropped if headers were already sent).
 *
 * @example
 * ```ts
 * app.use("/settings/api-tokens", (req, res) => void serveNode(router, req, res, { url: req.originalUrl }));
 * ```
 */
export async function serveNode(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  options: NodeHandlerOptions & { url?: string; body?: Uint8Array<ArrayBuffer> | null } = {},
): Promise<void> {
  try {
    let request: Request;
    if (options.body !== undefined) request = buildRequest(req, options.body, options);
    else {
      const method = (req.method ?? "GET").toUpperCase();
      const body = NO_BODY.has(method) ? null : await readBody(req, options.maxBodyBytes ?? 1_048_576);
      if (body === "too_large") {
        writeProblem(res, ADAPTER_PROBLEMS.payload_too_large);
        return;
      }
      request = buildRequest(req, body, options);
    }
    const response = await handler.fetch(request);
    await writeResponse(response, res, request.method);
  } catch {
    if (!res.headersSent) writeProblem(res, ADAPTER_PROBLEMS.internal_error);
    else res.destroy();
  }
}

/**
 * Writes a Fetch `Response` to a Node response (several `Set-Cookie` headers kept apart; no body for HEAD).
 *
 * @example
 * ```ts
 * await writeResponse(await router.fetch(request), res, request.method);
 * ```
 */
export async function writeResponse(response: Response, res: ServerResponse, method = "GET"): Promise<void> {
  res.statusCode = response.status;
  const cookies = typeof response.headers.getSetCookie === "function" ? response.headers.getSetCookie() : [];
  response.headers.forEach((value, key) => {
    if (key === "set-cookie") return;
    res.setHeader(key, value);
  });
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (method === "HEAD" || response.body === null) {
    res.end();
    return;
  }
  res.end(new Uint8Array(await response.arrayBuffer()));
}

/**
 * A `node:http` request listener serving a Fetch handler (such as `managementRouter()`).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { managementRouter, toNodeHandler } from "keyward/manage";
 *
 * const router = managementRouter(kw, { basePath: "/settings/api-tokens", session: readSession });
 * createServer(toNodeHandler(router)).listen(3000);
 * ```
 */
export function toNodeHandler(handler: FetchHandler, options: NodeHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serveNode(handler, req, res, options);
  };
}
