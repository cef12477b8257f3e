/**
 * Reading a request body with a size limit: shared by the management router and the leak report
 * handler (the `node:http` adapter caps its own stream, see `bodyStream`).
 * @module
 */
import { KeywardError } from "../core/errors.js";

/**
 * The bytes of a body stream, counted as they arrive: `"too_large"` as soon as they pass `max`
 * (the reader is released, never drained: the rest is neither read nor buffered, and the socket
 * is left for the answer). A stream that fails because a server adapter's own cap was passed (see
 * `toNodeHandler`) counts as too large; any other read failure is `invalid_input` on `body`.
 *
 * @example
 * ```ts
 * const bytes = await readLimited(request.body, 16_384); // Uint8Array | "too_large"
 * ```
 */
export async function readLimited(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array<ArrayBuffer> | "too_large"> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return "too_large";
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof KeywardError && e.code === "payload_too_large") return "too_large";
    throw new KeywardError("invalid_input", "The request body could not be read.", { field: "body", cause: e });
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
