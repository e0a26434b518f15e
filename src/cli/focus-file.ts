/**
 * A month's FOCUS document made a day at a time: each day's usage rows are
 * written to a temporary file as soon as the day is summed (`FocusUsage`
 * with a `done` sink, fed by a store handing over groups day by day), and the
 * document is made from that file once the last day's rows and the pool rows
 * are in. Only one day's rows are ever in memory; a month's 4M rows held at
 * once made garbage collection half of the export's time. CSV: the file is
 * the document's text; Parquet: the rows wait as JSON lines, which DuckDB
 * writes as the Parquet file at the end (export/focus-parquet.ts).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PoolShare } from '../core/allocation.js';
import {
  FOCUS_CSV_HEADER,
  type FocusMeta,
  focusCsvRecords,
  focusRowChunks,
  type UsageRow,
} from '../export/focus.js';
import { FocusParquetWriter } from '../export/focus-parquet.js';
import { type Chunk, chunked, type Output } from './output.js';

const READ_BYTES = 4 << 20;

/** Where a FOCUS document's days go once summed, and the document made from them. */
export interface FocusDayFile {
  /** Writes a day's usage rows. */
  write(rows: readonly UsageRow[]): void;
  /** The document: the days written, then `rows` and the pool rows of `shares`; the file is removed once read. */
  output(rows: readonly UsageRow[], shares: readonly PoolShare[]): Promise<Output>;
  /** Removes the file (when the document is not made: a failed statement). */
  discard(): void;
}

/** A new temporary folder for one document. */
const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'tally-focus-'));

/**
 * A file's bytes, 4 MiB at a time, then `tail`; the file's folder `dir` is removed once they are
 * read, or when the reading stops.
 */
function* fileThenTail(file: string, dir: string, tail: Iterable<Chunk> = []): Generator<Chunk> {
  try {
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        const buffer = new Uint8Array(READ_BYTES);
        const n = readSync(fd, buffer, 0, READ_BYTES, null);
        if (n === 0) break;
        yield buffer.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
    yield* tail;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class FocusCsvFile implements FocusDayFile {
  readonly #dir = tempDir();
  readonly #file = path.join(this.#dir, 'focus.csv');
  #fd: number | null;

  constructor(private readonly meta: FocusMeta) {
    this.#fd = openSync(this.#file, 'w');
    writeSync(this.#fd, FOCUS_CSV_HEADER);
  }

  write(rows: readonly UsageRow[]): void {
    if (this.#fd === null) throw new RangeError('FOCUS file: written after it was read');
    for (const chunk of focusRowChunks(rows, [], this.meta)) writeSync(this.#fd, focusCsvRecords(chunk));
  }

  /** The CSV text: the file, then `rows` and the pool rows of `shares`, made as they are read. */
  async output(rows: readonly UsageRow[], shares: readonly PoolShare[]): Promise<Output> {
    this.#close();
    const meta = this.meta;
    function* tail(): Generator<string> {
      for (const chunk of focusRowChunks(rows, shares, meta)) yield focusCsvRecords(chunk);
    }
    return chunked(fileThenTail(this.#file, this.#dir, tail()), 'text/csv; charset=utf-8');
  }

  discard(): void {
    this.#close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

export class FocusParquetFile implements FocusDayFile {
  readonly #dir = tempDir();
  readonly #writer: FocusParquetWriter;

  constructor(private readonly meta: FocusMeta) {
    try {
      this.#writer = new FocusParquetWriter(this.#dir);
    } catch (e) {
      rmSync(this.#dir, { recursive: true, force: true });
      throw e;
    }
  }

  write(rows: readonly UsageRow[]): void {
    for (const chunk of focusRowChunks(rows, [], this.meta)) this.#writer.append(chunk);
  }

  /** The Parquet file of every row written, `rows` and the pool rows of `shares`, written by DuckDB. */
  async output(rows: readonly UsageRow[], shares: readonly PoolShare[]): Promise<Output> {
    const file = path.join(this.#dir, 'focus.parquet');
    let written: number;
    try {
      for (const chunk of focusRowChunks(rows, shares, this.meta)) this.#writer.append(chunk);
      written = await this.#writer.finish(file);
    } catch (e) {
      this.discard();
      throw e;
    }
    return {
      ...chunked(fileThenTail(file, this.#dir), 'application/vnd.apache.parquet'),
      wrote: `${written} FOCUS rows`,
    };
  }

  discard(): void {
    this.#writer.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
