import { StringDecoder } from 'node:string_decoder';

/** Bytes to text chunks: UTF-8 decoded across chunk boundaries, a leading BOM dropped. */
export async function* decodeText(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let first = true;
  for await (const chunk of input) {
    let s = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (first && s.length > 0) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      first = false;
    }
    if (s.length > 0) yield s;
  }
  const tail = decoder.end();
  if (tail.length > 0) yield tail;
}

/**
 * Reads ahead until `enough(head)` holds or the input ends, and returns what
 * was read together with the whole input (read-ahead included) to go on with.
 */
export async function peekText(
  text: AsyncIterable<string>,
  enough: (head: string) => boolean,
): Promise<{ head: string; all: AsyncIterable<string> }> {
  const it = text[Symbol.asyncIterator]();
  let head = '';
  let done = false;
  while (!enough(head)) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head += r.value;
  }
  async function* all(): AsyncGenerator<string> {
    if (head.length > 0) yield head;
    while (!done) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, all: all() };
}
