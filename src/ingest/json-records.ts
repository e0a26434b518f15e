/**
 * Splits JSON input into records without holding the file in memory:
 * - a top-level array is streamed element by element (a small splitter that
 *   tracks depth and strings; JSON strings cannot hold raw newlines, so lines
 *   are counted outside strings only);
 * - NDJSON (the first value fits on its first line) is read line by line;
 * - anything else (one pretty-printed document, or several concatenated) is
 *   read whole and parsed: an OTLP request or a usage-report page is one
 *   document, and those are bounded by their exporters.
 */
import type { Problem } from '../core/errors.js';
import type { Where } from './fields.js';

export interface JsonRecord {
  where: Where;
  /** The record's text, for a quarantine file. */
  raw: string;
  /** 1-based line of the file where the record starts. */
  line: number;
  value?: unknown;
  problem?: Problem;
}

/** Yields records in batches (one batch per input chunk at most). */
export async function* jsonRecords(text: AsyncIterable<string>, file: string): AsyncGenerator<JsonRecord[]> {
  const it = text[Symbol.asyncIterator]();
  // Chunks are kept apart until needed: appending to one growing string and
  // searching it after each chunk would copy a large document many times.
  const parts: string[] = [];
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done) {
      done = true;
      return false;
    }
    parts.push(r.value);
    return true;
  };
  const take = (): string => {
    const all = parts.join('');
    parts.length = 0;
    return all;
  };

  let first = -1;
  while (first < 0) {
    if (!(await more())) return;
    first = firstNonSpace(parts[parts.length - 1] as string);
  }
  if ((parts[parts.length - 1] as string).charCodeAt(first) === 0x5b /* [ */) {
    yield* arrayRecords(more, take, file);
    return;
  }
  let nl = (parts[parts.length - 1] as string).indexOf('\n', first);
  while (nl < 0 && (await more())) nl = (parts[parts.length - 1] as string).indexOf('\n');
  const head = take();
  const start = firstNonSpace(head);
  const end = head.indexOf('\n', start);
  const firstLine = end < 0 ? head.slice(start) : head.slice(start, end);
  let firstValue: unknown;
  try {
    firstValue = JSON.parse(firstLine);
  } catch {
    while (await more());
    yield wholeRecords(head + take(), file);
    return;
  }
  yield* lineRecords(head, it, file, firstValue);
}

function firstNonSpace(s: string, from = 0): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
  }
  return -1;
}

async function* lineRecords(
  start: string,
  it: AsyncIterator<string>,
  file: string,
  firstValue: unknown,
): AsyncGenerator<JsonRecord[]> {
  let buf = start;
  let line = 0;
  // The first record was parsed to choose this mode; it is not parsed twice.
  let reuse: { value: unknown } | undefined = { value: firstValue };
  const record = (text: string, out: JsonRecord[]): void => {
    line++;
    if (lineRecord(text, line, file, out, reuse)) reuse = undefined;
  };
  for (;;) {
    const out: JsonRecord[] = [];
    let from = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', from)) {
      record(buf.slice(from, nl), out);
      from = nl + 1;
    }
    buf = buf.slice(from);
    if (out.length > 0) yield out;
    const r = await it.next();
    if (r.done) break;
    buf += r.value;
  }
  if (buf.length > 0) {
    const out: JsonRecord[] = [];
    record(buf, out);
    if (out.length > 0) yield out;
  }
}

/** Returns false for a blank line. */
function lineRecord(
  text: string,
  line: number,
  file: string,
  out: JsonRecord[],
  reuse: { value: unknown } | undefined,
): boolean {
  const raw = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (firstNonSpace(raw) < 0) return false;
  const where: Where = { file, record: line, recordKind: 'line' };
  if (reuse) {
    out.push({ where, raw, line, value: reuse.value });
    return true;
  }
  try {
    out.push({ where, raw, line, value: JSON.parse(raw) });
  } catch (e) {
    out.push({ where, raw, line, problem: jsonProblem(e, raw, where, line, false) });
  }
  return true;
}

function wholeRecords(buf: string, file: string): JsonRecord[] {
  const start = firstNonSpace(buf);
  const line = lineAt(buf, start);
  try {
    return [{ where: { file, record: 0, recordKind: 'record' }, raw: buf, line, value: JSON.parse(buf) }];
  } catch {
    // Several concatenated documents (e.g. `jq .` of each page), or a broken one.
  }
  const out: JsonRecord[] = [];
  let pos = start;
  let lines = line;
  let counted = start;
  let index = 0;
  while (pos >= 0 && pos < buf.length) {
    lines += countNewlines(buf, counted, pos);
    counted = pos;
    const where: Where = { file, record: index, recordKind: 'record' };
    const end = valueEnd(buf, pos);
    if (end < 0) {
      out.push({
        where,
        raw: buf.slice(pos),
        line: lines,
        problem: { ...where, reason: `truncated JSON: the document starting at line ${lines} is not closed` },
      });
      break;
    }
    const raw = buf.slice(pos, end);
    try {
      out.push({ where, raw, line: lines, value: JSON.parse(raw) });
    } catch (e) {
      out.push({ where, raw, line: lines, problem: jsonProblem(e, raw, where, lines, true) });
    }
    index++;
    pos = firstNonSpace(buf, end);
  }
  return out;
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function lineAt(s: string, pos: number): number {
  return 1 + countNewlines(s, 0, pos);
}

/** End (exclusive) of the JSON value starting at `pos`, or -1 when the input ends first. */
function valueEnd(s: string, pos: number): number {
  const c = s.charCodeAt(pos);
  if (c !== 0x7b && c !== 0x5b && c !== 0x22) {
    let i = pos;
    while (i < s.length && !/[\s,\]}]/.test(s[i] ?? '')) i++;
    return i;
  }
  let depth = 0;
  let i = pos;
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch === 0x22) {
      const q = stringEnd(s, i + 1);
      if (q < 0) return -1;
      i = q + 1;
      if (depth === 0) return i;
      continue;
    }
    if (ch === 0x7b || ch === 0x5b) depth++;
    else if (ch === 0x7d || ch === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/** Index of the quote closing a string whose content starts at `from`, or -1. */
function stringEnd(s: string, from: number): number {
  let q = s.indexOf('"', from);
  while (q >= 0) {
    let b = q - 1;
    while (s.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    q = s.indexOf('"', q + 1);
  }
  return -1;
}

/**
 * Streams the elements of a top-level array. `take` hands over what has been
 * read so far; `more` reads the next chunk into it.
 */
async function* arrayRecords(
  more: () => Promise<boolean>,
  take: () => string,
  file: string,
): AsyncGenerator<JsonRecord[]> {
  let buf = take();
  let pos = buf.indexOf('[') + 1;
  let line = lineAt(buf, pos);
  let depth = 0;
  let inStr = false;
  let elemStart = pos;
  let elemLine = line;
  let elemSeen = false;
  let index = 0;
  let closed = false;
  let trailing = -1;
  for (;;) {
    const out: JsonRecord[] = [];
    while (pos < buf.length && !closed) {
      if (inStr) {
        const q = stringEnd(buf, pos);
        if (q < 0) {
          // The backslashes before a quote in the next chunk are still in `buf`.
          pos = buf.length;
          break;
        }
        inStr = false;
        pos = q + 1;
        continue;
      }
      const c = buf.charCodeAt(pos);
      if (!elemSeen && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        elemSeen = true;
        elemLine = line;
      }
      if (c === 0x22) inStr = true;
      else if (c === 0x0a) line++;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && depth > 0) depth--;
      else if (depth === 0 && (c === 0x2c || c === 0x5d)) {
        const raw = buf.slice(elemStart, pos).trim();
        const where: Where = { file, record: index, recordKind: 'record' };
        if (raw.length > 0) {
          try {
            out.push({ where, raw, line: elemLine, value: JSON.parse(raw) });
          } catch (e) {
            out.push({ where, raw, line: elemLine, problem: jsonProblem(e, raw, where, elemLine, true) });
          }
          index++;
        } else if (c === 0x2c || index > 0) {
          out.push({
            where,
            raw,
            line,
            problem: { ...where, reason: `empty array element at line ${line}` },
          });
          index++;
        }
        if (c === 0x5d) {
          closed = true;
          trailing = pos + 1;
        }
        elemStart = pos + 1;
        elemSeen = false;
      }
      pos++;
    }
    if (closed) {
      if (out.length > 0) yield out;
      break;
    }
    buf = buf.slice(elemStart);
    pos -= elemStart;
    elemStart = 0;
    if (out.length > 0) yield out;
    if (!(await more())) {
      const where: Where = { file, record: index, recordKind: 'record' };
      yield [
        {
          where,
          raw: buf.trim(),
          line: elemLine,
          problem: {
            ...where,
            reason:
              firstNonSpace(buf) < 0
                ? 'truncated JSON: the top-level array is not closed'
                : `truncated JSON: the record starting at line ${elemLine} is incomplete`,
          },
        },
      ];
      return;
    }
    buf += take();
  }
  // Anything after the closing bracket is an error.
  let rest = buf.slice(trailing);
  while (firstNonSpace(rest) < 0 && (await more())) rest += take();
  if (firstNonSpace(rest) >= 0) {
    const where: Where = { file, record: index, recordKind: 'record' };
    yield [
      {
        where,
        raw: rest.trim().slice(0, 200),
        line,
        problem: { ...where, reason: 'unexpected content after the top-level array' },
      },
    ];
  }
}

/** A JSON.parse failure as a Problem naming the line and column in the file. */
function jsonProblem(e: unknown, raw: string, where: Where, startLine: number, multiline: boolean): Problem {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /at position (\d+)/.exec(msg);
  const at = m ? Number(m[1]) : -1;
  // V8 reports a cut-off record as "Unexpected end" or as an error at its very end.
  if (/Unexpected end of JSON input|Unterminated string/.test(msg) || at >= raw.trimEnd().length) {
    return {
      ...where,
      reason: `truncated JSON: the record starting at line ${startLine} ends before it is complete`,
    };
  }
  const detail = msg.replace(/\s*in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/, '');
  if (at < 0) return { ...where, reason: `malformed JSON at line ${startLine}: ${detail}` };
  const before = raw.slice(0, at);
  const nl = before.lastIndexOf('\n');
  const line = startLine + (multiline ? countNewlines(before, 0, at) : 0);
  const column = at - nl;
  return { ...where, reason: `malformed JSON at line ${line}, column ${column}: ${detail}` };
}
