/**
 * A streaming RFC 4180 reader: comma-separated, fields optionally quoted,
 * `""` inside quotes is a quote, and quoted fields may hold commas and line
 * breaks. A record ends at a line break outside quotes, which is found by
 * quote parity (every `"` toggles, `""` toggles twice), so the reader works
 * line by line and only joins lines while a quote is open.
 */
import type { Problem } from '../core/errors.js';

export interface CsvRecord {
  cells: string[];
  /** The record's text without its line break, for a quarantine file. */
  raw: string;
  /** 1-based line where the record starts. */
  line: number;
  problem?: Problem;
}

/** Yields records in batches, skipping blank lines. */
export async function* csvRecords(text: AsyncIterable<string>, file: string): AsyncGenerator<CsvRecord[]> {
  let buf = '';
  let line = 0;
  let pending = '';
  let pendingLine = 0;
  let quotes = 0;
  const out: CsvRecord[] = [];
  const take = (textLine: string): void => {
    line++;
    const l = textLine.endsWith('\r') ? textLine.slice(0, -1) : textLine;
    if (pending === '' && quotes === 0) {
      if (l.length === 0) return;
      pendingLine = line;
      pending = l;
    } else {
      pending += `\n${l}`;
    }
    quotes += countQuotes(l);
    if (quotes % 2 === 0) {
      out.push(record(pending, pendingLine, file));
      pending = '';
      quotes = 0;
    }
  };
  for await (const chunk of text) {
    buf += chunk;
    let from = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', from)) {
      take(buf.slice(from, nl));
      from = nl + 1;
    }
    buf = buf.slice(from);
    if (out.length > 0) yield out.splice(0);
  }
  if (buf.length > 0) take(buf);
  if (quotes % 2 === 1) {
    out.push({
      cells: [],
      raw: pending,
      line: pendingLine,
      problem: {
        file,
        record: pendingLine,
        recordKind: 'line',
        reason: 'unterminated quoted field: the file ends inside quotes',
      },
    });
  }
  if (out.length > 0) yield out;
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
