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
  const lines = new RecordAssembler(file);
  for await (const chunk of text) {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      lines.endLine(chunk.slice(from, nl));
      from = nl + 1;
    }
    if (from < chunk.length) lines.addPartial(chunk.slice(from));
    if (lines.out.length > 0) yield lines.out.splice(0);
  }
  lines.finish();
  if (lines.out.length > 0) yield lines.out;
}

/**
 * Joins lines into records by quote parity. A line arrives whole
 * (`endLine`) or in parts (`addPartial` until its `endLine`); a record
 * longer than MAX_RECORD_CHARS is only counted, not kept.
 */
class RecordAssembler {
  readonly out: CsvRecord[] = [];
  private line = 0;
  private pending = '';
  private pendingLine = 0;
  private quotes = 0;
  private overlong = false;
  private partial: string[] = [];
  private partialSize = 0;

  constructor(private readonly file: string) {}

  /** A piece of a line longer than a chunk: kept, or only its quotes counted once it is too long to keep. */
  addPartial(piece: string): void {
    if (this.partialSize > MAX_RECORD_CHARS) {
      this.quotes += countQuotes(piece);
      return;
    }
    this.partial.push(piece);
    this.partialSize += piece.length;
    if (this.partialSize > MAX_RECORD_CHARS) {
      this.quotes += countQuotes(this.partial.join(''));
      this.partial = [];
    }
  }

  /** The last piece of a line (the whole line when it had no earlier parts). */
  endLine(piece: string): void {
    if (this.partialSize > MAX_RECORD_CHARS) this.endOverlongLine(piece);
    else {
      this.partial.push(piece);
      this.take(this.partial.length === 1 ? piece : this.partial.join(''));
    }
    this.partial = [];
    this.partialSize = 0;
  }

  /** The end of the input: a last line without a break, and a quote still open. */
  finish(): void {
    if (this.partialSize > 0) this.endLine('');
    if (this.quotes % 2 === 1)
      this.out.push({
        cells: [],
        raw: this.pending.slice(0, 200),
        line: this.pendingLine,
        problem: {
          file: this.file,
          record: this.pendingLine,
          recordKind: 'line',
          reason: this.overlong
            ? `the record is longer than ${mib(MAX_RECORD_CHARS)}`
            : 'unterminated quoted field: the file ends inside quotes',
        },
      });
  }

  private endOverlongLine(piece: string): void {
    this.quotes += countQuotes(piece);
    this.line++;
    if (this.pending === '' && !this.overlong) this.pendingLine = this.line;
    this.overlong = true;
    this.pending = '';
    if (this.quotes % 2 === 0) {
      this.out.push(tooLong(this.pendingLine, this.file));
      this.quotes = 0;
      this.overlong = false;
    }
  }

  /** A whole line: it starts a record, continues one inside quotes, or ends one. */
  private take(textLine: string): void {
    this.line++;
    const l = textLine.endsWith('\r') ? textLine.slice(0, -1) : textLine;
    if (this.pending === '' && this.quotes === 0 && !this.overlong) {
      if (l.length === 0) return;
      this.pendingLine = this.line;
    }
    this.quotes += countQuotes(l);
    if (!this.overlong) {
      this.pending = this.pending === '' && this.pendingLine === this.line ? l : `${this.pending}\n${l}`;
      if (this.pending.length > MAX_RECORD_CHARS) {
        this.overlong = true;
        this.pending = '';
      }
    }
    if (this.quotes % 2 === 0) {
      this.out.push(
        this.overlong
          ? tooLong(this.pendingLine, this.file)
          : record(this.pending, this.pendingLine, this.file),
      );
      this.pending = '';
      this.quotes = 0;
      this.overlong = false;
    }
  }
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
