/**
 * A streaming RFC 4180 reader: comma-separated, fields optionally quoted,
 * `""` inside quotes is a quote, and quoted fields may hold commas and line
 * breaks. A record ends at a line break outside quotes, which is found by
 * quote parity (every `"` toggles, `""` toggles twice), so the reader works
 * line by line and only joins lines while a quote is open.
 */
import type { Problem } from '../core/errors.js';
import { MAX_RECORD_CHARS, mib } from './limits.js';

export interface CsvRecord {
  cells: string[];
  /** The record's text without its line break, for a quarantine file. */
  raw: string;
  /** 1-based line where the record starts. */
  line: number;
  problem?: Problem;
}

/**
 * Yields records in batches, skipping blank lines. Each chunk is searched
 * once for line breaks (a long line is kept as its parts), so time is linear
 * in the input; a record past MAX_RECORD_CHARS is reported, not kept.
 */
export async function* csvRecords(text: AsyncIterable<string>, file: string): AsyncGenerator<CsvRecord[]> {
  let line = 0;
  let pending = '';
  let pendingLine = 0;
  let quotes = 0;
  let overlong = false;
  let partial: string[] = [];
  let partialSize = 0;
  const out: CsvRecord[] = [];
  const take = (textLine: string): void => {
    line++;
    const l = textLine.endsWith('\r') ? textLine.slice(0, -1) : textLine;
    if (pending === '' && quotes === 0 && !overlong) {
      if (l.length === 0) return;
      pendingLine = line;
    }
    quotes += countQuotes(l);
    if (!overlong) {
      pending = pending === '' && pendingLine === line ? l : `${pending}\n${l}`;
      if (pending.length > MAX_RECORD_CHARS) {
        overlong = true;
        pending = '';
      }
    }
    if (quotes % 2 === 0) {
      out.push(overlong ? tooLong(pendingLine, file) : record(pending, pendingLine, file));
      pending = '';
      quotes = 0;
      overlong = false;
    }
  };
  // A line longer than a chunk: its parts, or only its quote count once it is too long to keep.
  const addPartial = (piece: string): void => {
    if (partialSize > MAX_RECORD_CHARS) {
      quotes += countQuotes(piece);
      return;
    }
    partial.push(piece);
    partialSize += piece.length;
    if (partialSize > MAX_RECORD_CHARS) {
      quotes += countQuotes(partial.join(''));
      partial = [];
    }
  };
  const endLine = (piece: string): void => {
    if (partialSize > MAX_RECORD_CHARS) {
      quotes += countQuotes(piece);
      line++;
      if (pending === '' && !overlong) pendingLine = line;
      overlong = true;
      pending = '';
      if (quotes % 2 === 0) {
        out.push(tooLong(pendingLine, file));
        quotes = 0;
        overlong = false;
      }
    } else {
      partial.push(piece);
      take(partial.length === 1 ? piece : partial.join(''));
    }
    partial = [];
    partialSize = 0;
  };
  for await (const chunk of text) {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      endLine(chunk.slice(from, nl));
      from = nl + 1;
    }
    if (from < chunk.length) addPartial(chunk.slice(from));
    if (out.length > 0) yield out.splice(0);
  }
  if (partialSize > 0) endLine('');
  if (quotes % 2 === 1) {
    out.push({
      cells: [],
      raw: pending.slice(0, 200),
      line: pendingLine,
      problem: {
        file,
        record: pendingLine,
        recordKind: 'line',
        reason: overlong
          ? `the record is longer than ${mib(MAX_RECORD_CHARS)}`
          : 'unterminated quoted field: the file ends inside quotes',
      },
    });
  }
  if (out.length > 0) yield out;
}

function tooLong(line: number, file: string): CsvRecord {
  return {
    cells: [],
    raw: '',
    line,
    problem: {
      file,
      record: line,
      recordKind: 'line',
      reason: `the record is longer than ${mib(MAX_RECORD_CHARS)}`,
    },
  };
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** Splits one complete record into cells. */
export function parseCsvRecord(raw: string): string[] | string {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (raw.charCodeAt(i) === 0x22) {
      let cell = '';
      let j = i + 1;
      for (;;) {
        const q = raw.indexOf('"', j);
        if (q < 0) return 'unterminated quoted field';
        cell += raw.slice(j, q);
        if (raw.charCodeAt(q + 1) === 0x22) {
          cell += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cells.push(cell);
      if (i >= raw.length) return cells;
      if (raw.charCodeAt(i) !== 0x2c) return `unexpected character after a quoted field at column ${i + 1}`;
      i++;
    } else {
      const c = raw.indexOf(',', i);
      if (c < 0) {
        cells.push(raw.slice(i));
        return cells;
      }
      cells.push(raw.slice(i, c));
      i = c + 1;
    }
  }
}

function record(raw: string, line: number, file: string): CsvRecord {
  const cells = parseCsvRecord(raw);
  if (typeof cells === 'string') {
    return {
      cells: [],
      raw,
      line,
      problem: { file, record: line, recordKind: 'line', reason: `malformed CSV: ${cells}` },
    };
  }
  return { cells, raw, line };
}
