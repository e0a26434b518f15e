/** Small helpers every route uses: JSON replies, optional query values, byte views. */

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** A JSON document made in chunks (`statementJsonText`), streamed as they are made. */
export function jsonChunks(chunks: Iterable<string>): Response {
  return new Response(streamOf(chunks), { headers: JSON_HEADERS });
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** A query value, or undefined when absent or empty. */
export function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

export function bytes(b: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
}

/**
 * A document in chunks as a response body streamed as it is read: each chunk
 * is made (and a text one encoded to UTF-8) only when the client takes the
 * one before, so a month's document is never held whole. A client that goes
 * away ends the iteration, so that a generator's `finally` (a temporary file
 * removed) still runs. A chunk that fails after the first was sent cuts the
 * response short (the status was already sent).
 */
export function streamOf(chunks: Iterable<string | Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.iterator]();
  const utf8 = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(typeof next.value === 'string' ? utf8.encode(next.value) : next.value);
    },
    cancel() {
      it.return?.();
    },
  });
}
