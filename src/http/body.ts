/**
 * Reading a request body with a size limit, from any async source of chunks (a Node request, a
 * Fetch body stream): shared by the `node:http` adapter and the leak report handler.
 * @module
 */

/**
 * Collects the chunks of `source` into one byte array, or `"too_large"` as soon as they pass
 * `max` bytes (the rest is not read; the source's iterator is closed).
 *
 * @example
 * ```ts
 * const body = await collectBytes(req, 1_048_576); // Uint8Array | "too_large"
 * ```
 */
export async function collectBytes(source: AsyncIterable<Uint8Array | string>, max: number): Promise<Uint8Array<ArrayBuffer> | "too_large"> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.byteLength;
    if (size > max) return "too_large";
    chunks.push(bytes);
  }
  return concatBytes(chunks, size);
}

/**
 * The chunks as one byte array of `size` bytes (their total length).
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])], 3); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The chunks of a Fetch body stream as an async iterable; leaving the loop early cancels the
 * stream.
 *
 * @example
 * ```ts
 * const body = request.body === null ? new Uint8Array(0) : await collectBytes(streamChunks(request.body), max);
 * ```
 */
export async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}
