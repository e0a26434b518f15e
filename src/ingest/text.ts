import { isUtf8 } from 'node:buffer';
import { InputError } from '../core/errors.js';

/**
 * Bytes to text chunks, a leading BOM dropped. The input must be UTF-8:
 * invalid bytes are an input error naming the line and byte, never replaced
 * (two ids that differ only in invalid bytes would otherwise become one).
 * A character split across chunks is carried over to the next.
 */
export async function* decodeText(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  file = 'input',
): AsyncGenerator<string> {
  let first = true;
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  let lines = 1;
  for await (const chunk of input) {
    let s: string;
    if (typeof chunk === 'string') s = chunk;
    else {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const cut = completeLength(data);
      const whole = data.subarray(0, cut);
      if (!isUtf8(whole)) throw invalidUtf8(file, whole, offset, lines);
      s = whole.toString('utf8');
      carry = Buffer.from(data.subarray(cut));
      offset += cut;
      lines += countByte(whole, 0x0a);
    }
    if (first && s.length > 0) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      first = false;
    }
    if (s.length > 0) yield s;
  }
  if (carry.length > 0) throw invalidUtf8(file, carry, offset, lines);
}

/** Bytes of `b` up to the last character that is complete (at most 3 bytes are held back). */
function completeLength(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const c = b[b.length - back] as number;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? b.length - back : b.length;
  }
  return b.length;
}

function countByte(b: Buffer, byte: number): number {
  let n = 0;
  for (let i = b.indexOf(byte); i >= 0; i = b.indexOf(byte, i + 1)) n++;
  return n;
}

function invalidUtf8(file: string, b: Buffer, offset: number, lines: number): InputError {
  const at = firstInvalid(b);
  const line = lines + countByte(b.subarray(0, at), 0x0a);
  return new InputError([
    {
      file,
      record: line,
      recordKind: 'line',
      reason: `invalid UTF-8 at byte ${offset + at} (0x${(b[at] ?? 0).toString(16).padStart(2, '0')}): input must be UTF-8 text`,
    },
  ]);
}

/** Index of the first byte that does not begin a valid UTF-8 sequence. */
function firstInvalid(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    if (n === 0) return i;
    i += n;
  }
  return b.length;
}

function sequenceLength(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const need = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (need === 0 || i + need > b.length) return 0;
  for (let k = 1; k < need; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  return isUtf8(b.subarray(i, i + need)) ? need : 0;
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
