/**
 * Serving a Fetch handler with `node:http`: `IncomingMessage` → `Request`, `Response` →
 * `ServerResponse`. Types only from Node; the conversion uses Web APIs.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KeywardError } from "../core/errors.js";
import { problemMeta } from "../core/reasons.js";
import { buildProblem, type HttpProblem, type ProblemDocument } from "../http/mapping.js";

/** Options of {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * The public origin (`https://app.example.com`) to build request URLs with. Default: the
   * request's `Host` header over `http` (or `https` on a TLS socket). Set it behind a proxy,
   * since the router's same-origin check compares `Origin` with this.
   */
  origin?: string;
  /**
   * Largest request body read, in bytes: the body is streamed to the handler as it reads it,
   * and past this the stream fails (the handler's answer, or 413 if it throws). Default 1 MiB.
   * The management router stops at its own `maxBodyBytes` (16 KiB) first.
   */
  maxBodyBytes?: number;
}

/** Anything with a Fetch handler, e.g. a management router. */
export interface FetchHandler {
  fetch(request: Request): Promise<Response> | Response;
}

const NO_BODY = new Set(["GET", "HEAD"]);

/** What a streamed request body did: whether reading began, ended, or passed the cap. */
export interface BodyState {
  started: boolean;
  ended: boolean;
  tooLarge: boolean;
}

/**
 * The body of a Node request as a stream that is read only when the handler reads it, counting
 * bytes: past `max` it fails (with the error the management router answers 413) and reads no
 * more. Never buffered here; when the handler stops early the rest stays unread on the socket
 * (the answer then closes the connection).
 *
 * @example
 * ```ts
 * const { stream, state } = bodyStream(req, 1_048_576);
 * const request = buildRequest(req, stream, { url: req.url });
 * ```
 */
export function bodyStream(req: IncomingMessage, max: number): { stream: ReadableStream<Uint8Array>; state: BodyState } {
  const state: BodyState = { started: false, ended: false, tooLarge: false };
  let chunks: AsyncIterator<unknown> | undefined;
  let size = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        state.started = true;
        chunks ??= (req as AsyncIterable<unknown>)[Symbol.asyncIterator]();
        try {
          const next = await chunks.next();
          if (next.done === true) {
            state.ended = true;
            controller.close();
            return;
          }
          const bytes = typeof next.value === "string" ? new TextEncoder().encode(next.value) : (next.value as Uint8Array);
          size += bytes.byteLength;
          if (size > max) {
            state.tooLarge = true;
            controller.error(new KeywardError("payload_too_large"));
            return;
          }
          controller.enqueue(bytes);
        } catch (e) {
          controller.error(e);
        }
      },
      // Cancelling leaves the socket alone (destroying the request would destroy it before the answer is written).
      cancel() {},
    },
    // Nothing is read before the handler asks: a handler that never reads leaves Node to discard the body.
    { highWaterMark: 0 },
  );
  return { stream, state };
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
export function buildRequest(
  req: IncomingMessage,
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null,
  options: NodeHandlerOptions & { url?: string } = {},
): Request {
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
  if (body instanceof ReadableStream) return new Request(url, { method, headers, body, duplex: "half" } as RequestInit);
  if (body !== null && headers.has("content-length")) headers.set("content-length", String(body.byteLength));
  return new Request(url, { method, headers, body: body === null || body.byteLength === 0 ? null : body });
}

/**
 * Converts a Node request into a Fetch `Request` whose body streams from the socket as it is
 * read (failing past `maxBodyBytes`).
 *
 * @example
 * ```ts
 * const request = await toRequest(req, { origin: "https://app.example.com" });
 * ```
 */
export async function toRequest(req: IncomingMessage, options: NodeHandlerOptions = {}): Promise<Request | "too_large"> {
  const method = (req.method ?? "GET").toUpperCase();
  if (NO_BODY.has(method)) return buildRequest(req, null, options);
  return buildRequest(req, bodyStream(req, options.maxBodyBytes ?? 1_048_576).stream, options);
}

function adapterProblem(code: "payload_too_large" | "internal_error", detail: string, headers?: Record<string, string>): HttpProblem<ProblemDocument> {
  const { status, title } = problemMeta(code);
  return buildProblem(code, status, title, detail, {}, headers);
}

/** The adapter's own answers: a body over `maxBodyBytes`, and a handler that threw. */
const ADAPTER_PROBLEMS: Readonly<Record<"payload_too_large" | "internal_error", HttpProblem<ProblemDocument>>> = {
  payload_too_large: adapterProblem("payload_too_large", "The request body is too large.", { connection: "close" }),
  internal_error: adapterProblem("internal_error", "Something went wrong on the server."),
};

function writeProblem(res: ServerResponse, problem: HttpProblem<ProblemDocument>): void {
  res.writeHead(problem.status, { ...problem.headers, "content-type": "application/problem+json; charset=utf-8" });
  res.end(JSON.stringify(problem.body));
}

/**
 * Serves one Node request with a Fetch handler: builds the `Request` (its body streamed from
 * the socket as the handler reads it, unless `body` hands it over), writes the `Response`; 413
 * if the handler throws after reading past `maxBodyBytes`, 500 if it throws otherwise (the
 * connection is dropped if headers were already sent). A body the handler read only in part
 * closes the connection after the answer.
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
  let body: { stream: ReadableStream<Uint8Array>; state: BodyState } | null = null;
  try {
    let request: Request;
    if (options.body !== undefined) request = buildRequest(req, options.body, options);
    else {
      const method = (req.method ?? "GET").toUpperCase();
      body = NO_BODY.has(method) ? null : bodyStream(req, options.maxBodyBytes ?? 1_048_576);
      request = buildRequest(req, body?.stream ?? null, options);
    }
    const response = await handler.fetch(request);
    // A body read in part is left on the connection: it cannot carry another request.
    if (body !== null && body.state.started && !body.state.ended) res.setHeader("connection", "close");
    await writeResponse(response, res, request.method);
  } catch {
    if (res.headersSent) res.destroy();
    else writeProblem(res, body?.state.tooLarge === true ? ADAPTER_PROBLEMS.payload_too_large : ADAPTER_PROBLEMS.internal_error);
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
