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
import { MAX_DOCUMENT_CHARS, MAX_JSON_DEPTH, MAX_RECORD_CHARS, mib, tooDeepAt } from './limits.js';

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
  // Leading whitespace is counted, not kept: a gigabyte of blanks (a gzip bomb) costs no memory.
  let skippedLines = 0;
  let chunk = '';
  let first = -1;
  while (first < 0) {
    const r = await it.next();
    if (r.done) return;
    first = firstNonSpace(r.value);
    if (first < 0) skippedLines += countNewlines(r.value, 0, r.value.length);
    else chunk = r.value;
  }
  if (chunk.charCodeAt(first) === 0x5b /* [ */) {
    yield* arrayRecords(chunk, first + 1, skippedLines + 1 + countNewlines(chunk, 0, first), it, file);
    return;
  }
  // One record per line when the first line is a whole JSON value; else one document (or several) read whole.
  const parts = [chunk];
  let size = chunk.length;
  let nl = chunk.indexOf('\n', first);
  while (nl < 0 && size <= MAX_RECORD_CHARS) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
    size += r.value.length;
    nl = r.value.indexOf('\n');
  }
  const head = parts.join('');
  const start = firstNonSpace(head);
  const end = head.indexOf('\n', start);
  const firstLine = end < 0 ? head.slice(start) : head.slice(start, end);
  let firstValue: unknown;
  // JSON.parse itself copes with any depth; the depth check comes with the record (lineRecord).
  if (firstLine.length <= MAX_RECORD_CHARS) {
    try {
      firstValue = JSON.parse(firstLine);
    } catch {
      yield await wholeRecords(head, it, file, skippedLines);
      return;
    }
    yield* lineRecords(head, it, file, firstValue, skippedLines);
    return;
  }
  yield await wholeRecords(head, it, file, skippedLines);
}

function firstNonSpace(s: string, from = 0): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
  }
  return -1;
}

/**
 * NDJSON, line by line. Each chunk is searched once for line breaks and a
 * line longer than a chunk is kept as its parts, so time is linear in the
 * input whatever the line lengths; a line past MAX_RECORD_CHARS is dropped
 * as it streams by and reported.
 */
async function* lineRecords(
  start: string,
  it: AsyncIterator<string>,
  file: string,
  firstValue: unknown,
  skippedLines: number,
): AsyncGenerator<JsonRecord[]> {
  let line = skippedLines;
  // The first record was parsed to choose this mode; it is not parsed twice.
  let reuse: { value: unknown } | undefined = { value: firstValue };
  let parts: string[] = [];
  let size = 0;
  let overlong = false;
  const finish = (out: JsonRecord[]): void => {
    line++;
    if (overlong) {
      const where: Where = { file, record: line, recordKind: 'line' };
      out.push({
        where,
        raw: '',
        line,
        problem: { ...where, reason: `the line is longer than ${mib(MAX_RECORD_CHARS)}` },
      });
    } else if (
      lineRecord(parts.length === 1 ? (parts[0] as string) : parts.join(''), line, file, out, reuse)
    ) {
      reuse = undefined;
    }
    parts = [];
    size = 0;
    overlong = false;
  };
  const add = (piece: string): void => {
    if (overlong || piece.length === 0) return;
    size += piece.length;
    if (size > MAX_RECORD_CHARS) {
      overlong = true;
      parts = [];
    } else parts.push(piece);
  };
  let chunk: string | undefined = start;
  while (chunk !== undefined) {
    const out: JsonRecord[] = [];
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      add(chunk.slice(from, nl));
      finish(out);
      from = nl + 1;
    }
    add(chunk.slice(from));
    if (out.length > 0) yield out;
    const r = await it.next();
    chunk = r.done ? undefined : r.value;
  }
  if (size > 0 || overlong) {
    const out: JsonRecord[] = [];
    finish(out);
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
  if (reuse && tooDeepAt(raw) < 0) {
    out.push({ where, raw, line, value: reuse.value });
    return true;
  }
  out.push(parseRecord(raw, where, line, false));
  return true;
}

/** JSON.parse of one record, after the depth check. */
function parseRecord(raw: string, where: Where, line: number, multiline: boolean): JsonRecord {
  const deep = tooDeepAt(raw);
  if (deep >= 0) {
    const at = line + (multiline ? countNewlines(raw, 0, deep) : 0);
    return {
      where,
      raw: raw.slice(0, 200),
      line,
      problem: { ...where, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels at line ${at}` },
    };
  }
  try {
    return { where, raw, line, value: JSON.parse(raw) };
  } catch (e) {
    return { where, raw, line, problem: jsonProblem(e, raw, where, line, multiline) };
  }
}

/** One document read whole, or several concatenated ones (e.g. `jq .` of each page). */
async function wholeRecords(
  head: string,
  it: AsyncIterator<string>,
  file: string,
  skippedLines: number,
): Promise<JsonRecord[]> {
  const parts = [head];
  let size = head.length;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    size += r.value.length;
    if (size > MAX_DOCUMENT_CHARS) {
      const where: Where = { file, record: 0, recordKind: 'record' };
      const reason = `the JSON document is larger than ${mib(MAX_DOCUMENT_CHARS)}; write one record per line or a top-level array instead`;
      return [{ where, raw: head.slice(0, 200), line: skippedLines + 1, problem: { ...where, reason } }];
    }
    parts.push(r.value);
  }
  return splitDocuments(parts.join(''), file, skippedLines);
}

function splitDocuments(buf: string, file: string, skippedLines: number): JsonRecord[] {
  const start = firstNonSpace(buf);
  const line = skippedLines + lineAt(buf, start);
  const whole = parseRecord(buf, { file, record: 0, recordKind: 'record' }, line, true);
  if (!whole.problem || whole.problem.reason.startsWith('JSON nested')) return [whole];
  // Several concatenated documents, or a broken one.
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
        raw: buf.slice(pos, pos + 200),
        line: lines,
        problem: { ...where, reason: `truncated JSON: the document starting at line ${lines} is not closed` },
      });
      break;
    }
    if (end === pos) {
      // A separator between documents (`{…},{…}`) is not a document: say where it is and go on after it.
      const column = pos - buf.lastIndexOf('\n', pos - 1);
      out.push({
        where,
        raw: buf[pos] ?? '',
        line: lines,
        problem: {
          ...where,
          reason: `unexpected '${buf[pos]}' at line ${lines}, column ${column}: JSON documents are separated by white space only`,
        },
      });
      pos = firstNonSpace(buf, pos + 1);
      index++;
      continue;
    }
    out.push(parseRecord(buf.slice(pos, end), where, lines, true));
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

/** End (exclusive) of the JSON value starting at `pos`, or -1 when the input ends first; `pos` for a separator. */
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
 * Splits the elements of a top-level array with a small state machine
 * (depth, inside a string, after a backslash) run once over each chunk; an
 * element that spans chunks is kept as its parts, so time is linear in the
 * input.
 */
class ArraySplitter {
  line: number;
  index = 0;
  elemLine: number;
  /** What follows the closing bracket in its chunk, once the array is closed. */
  trailing: string | null = null;
  private depth = 0;
  private inStr = false;
  private escaped = false;
  private elemSeen = false;
  private parts: string[] = [];
  private size = 0;

  constructor(
    readonly file: string,
    firstLine: number,
  ) {
    this.line = firstLine;
    this.elemLine = firstLine;
  }

  where(): Where {
    return { file: this.file, record: this.index, recordKind: 'record' };
  }

  /** Scans a chunk from `pos`, adding each element it completes to `out`. */
  scan(chunk: string, pos: number, out: JsonRecord[]): void {
    let { line, depth, inStr, escaped, elemSeen } = this;
    let elemStart = pos;
    for (; pos < chunk.length; pos++) {
      const c = chunk.charCodeAt(pos);
      if (c === 0x0a) line++;
      if (inStr) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inStr = false;
        continue;
      }
      if (!elemSeen && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        elemSeen = true;
        this.elemLine = line;
      }
      if (c === 0x22) inStr = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && depth > 0) depth--;
      else if (depth === 0 && (c === 0x2c || c === 0x5d)) {
        this.line = line;
        this.parts.push(chunk.slice(elemStart, pos));
        this.element(out, c === 0x5d);
        elemSeen = false;
        elemStart = pos + 1;
        if (c === 0x5d) {
          this.trailing = chunk.slice(pos + 1);
          break;
        }
      }
    }
    Object.assign(this, { line, depth, inStr, escaped, elemSeen });
    if (this.trailing === null) {
      const rest = chunk.slice(elemStart);
      this.size += rest.length;
      this.parts.push(rest);
    }
  }

  private element(out: JsonRecord[], last: boolean): void {
    const raw = this.parts.join('').trim();
    const w = this.where();
    if (raw.length > 0) {
      out.push(parseRecord(raw, w, this.elemLine, true));
      this.index++;
    } else if (!last || this.index > 0) {
      out.push({
        where: w,
        raw,
        line: this.line,
        problem: { ...w, reason: `empty array element at line ${this.line}` },
      });
      this.index++;
    }
    this.parts = [];
    this.size = 0;
  }

  /** The element being read is past MAX_RECORD_CHARS: reading stops there. */
  tooLong(): JsonRecord | null {
    if (this.size <= MAX_RECORD_CHARS) return null;
    const w = this.where();
    const reason = `the record starting at line ${this.elemLine} is longer than ${mib(MAX_RECORD_CHARS)}; the rest of the input was not read`;
    return { where: w, raw: '', line: this.elemLine, problem: { ...w, reason } };
  }

  /** The input ended before the closing bracket. */
  unclosed(): JsonRecord {
    const w = this.where();
    const buf = this.parts.join('');
    const reason =
      firstNonSpace(buf) < 0
        ? 'truncated JSON: the top-level array is not closed'
        : `truncated JSON: the record starting at line ${this.elemLine} is incomplete`;
    return { where: w, raw: buf.trim().slice(0, 200), line: this.elemLine, problem: { ...w, reason } };
  }
}

/** Streams the elements of a top-level array; an element past MAX_RECORD_CHARS ends the input with a problem. */
async function* arrayRecords(
  first: string,
  from: number,
  firstLine: number,
  it: AsyncIterator<string>,
  file: string,
): AsyncGenerator<JsonRecord[]> {
  const split = new ArraySplitter(file, firstLine);
  let chunk: string | undefined = first;
  let pos = from;
  while (chunk !== undefined) {
    const out: JsonRecord[] = [];
    split.scan(chunk, pos, out);
    const long = split.trailing === null ? split.tooLong() : null;
    if (long) {
      yield [...out, long];
      return;
    }
    if (out.length > 0) yield out;
    if (split.trailing !== null) break;
    const r = await it.next();
    chunk = r.done ? undefined : r.value;
    pos = 0;
  }
  if (split.trailing === null) {
    yield [split.unclosed()];
    return;
  }
  yield* afterArray(split, it);
}

/** Anything after the closing bracket is an error. */
async function* afterArray(split: ArraySplitter, it: AsyncIterator<string>): AsyncGenerator<JsonRecord[]> {
  let rest = split.trailing ?? '';
  while (firstNonSpace(rest) < 0) {
    const r = await it.next();
    if (r.done) break;
    rest = r.value;
  }
  if (firstNonSpace(rest) < 0) return;
  const w = split.where();
  const problem = { ...w, reason: 'unexpected content after the top-level array' };
  yield [{ where: w, raw: rest.trim().slice(0, 200), line: split.line, problem }];
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
