// A document in chunks is streamed to the client as it is read (src/server/http.ts `streamOf`):
// made a chunk at a time, never held whole, and a client that goes away ends the generator.
import { describe, expect, it } from 'vitest';
import { streamOf } from '../../src/server/http.js';

describe('a document streamed in chunks', () => {
  it('makes a chunk only when the one before was taken', async () => {
    let made = 0;
    function* chunks() {
      for (let i = 0; i < 1000; i++) {
        made++;
        yield `line ${i}\n`;
      }
    }
    const reader = streamOf(chunks()).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('line 0\n');
    expect(made).toBeLessThanOrEqual(3);
    await reader.cancel();
  });

  it('ends the generator when the client goes away, so that its cleanup runs', async () => {
    let cleaned = false;
    function* chunks() {
      try {
        for (;;) yield new Uint8Array([1, 2, 3]);
      } finally {
        cleaned = true;
      }
    }
    const reader = streamOf(chunks()).getReader();
    await reader.read();
    await reader.cancel();
    expect(cleaned).toBe(true);
  });

  it('sends text as UTF-8 and bytes as they are, in order', async () => {
    const body = await new Response(
      streamOf(['Zürich, ', new Uint8Array(Buffer.from('naïve ')), '日本\n']),
    ).text();
    expect(body).toBe('Zürich, naïve 日本\n');
  });

  it('cuts the response short when a chunk fails', async () => {
    function* chunks() {
      yield 'a';
      throw new Error('disk gone');
    }
    await expect(new Response(streamOf(chunks())).text()).rejects.toThrow('disk gone');
  });
});
