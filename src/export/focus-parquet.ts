/**
 * FOCUS rows as Parquet, written by DuckDB. Rows are appended as they come
 * (a month's a day at a time) to a file of JSON lines in a folder the caller
 * gives, a row an array of its values in FOCUS_COLUMNS order, so that memory
 * holds a chunk of them, not the month; at the end DuckDB reads that file
 * (on every thread) and its COPY writes the Parquet file. JSON keeps each
 * value as it is (a null apart from an empty text, no CSV neutralising) and
 * costs a fraction of handing DuckDB the values one by one (arrays: less than
 * half of objects with their keys, a third of the bytes). Values are read as
 * text and cast once in SQL, so decimals stay exact (DECIMAL(38,12), the
 * scale of Money) and timestamps are stored as UTC instants.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  FOCUS_COLUMNS,
  FOCUS_NAMES,
  type FocusColumn,
  type FocusColumnType,
  type FocusRow,
} from './focus.js';

const SQL_TYPES: Record<FocusColumnType, string> = {
  varchar: 'VARCHAR',
  decimal: 'DECIMAL(38,12)',
  timestamp: 'TIMESTAMPTZ',
  json: 'JSON',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
};

const sqlText = (p: string) => `'${p.replaceAll("'", "''")}'`;

/** The rows of a JSON lines file of value arrays, every column as text. */
function jsonLinesSql(file: string): string {
  const columns = FOCUS_NAMES.map((name, i) => `v[${i + 1}] AS "${name}"`).join(', ');
  return `(SELECT ${columns} FROM read_json(${sqlText(file)}, format = 'newline_delimited', records = false,
    columns = {'v': 'VARCHAR[]'}))`;
}

/** No rows, every column as text. */
const NO_ROWS = `(SELECT ${FOCUS_NAMES.map((name) => `NULL::VARCHAR AS "${name}"`).join(', ')} WHERE false)`;

export class FocusParquetWriter {
  readonly #lines: string;
  #fd: number | null;
  #rows = 0;

  /** A writer whose rows wait in `dir` (where DuckDB also spills, beyond its memory cap of 1.5 GB). */
  constructor(private readonly dir: string) {
    this.#lines = path.join(dir, 'focus.jsonl');
    this.#fd = openSync(this.#lines, 'w');
  }

  append(rows: readonly FocusRow[]): void {
    if (this.#fd === null) throw new RangeError('FOCUS Parquet: rows appended after the file was written');
    if (rows.length === 0) return;
    // One array of values reused for every row, written as the row's line.
    const values = new Array<FocusRow[FocusColumn]>(FOCUS_NAMES.length);
    const lines = new Array<string>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as FocusRow;
      for (let i = 0; i < FOCUS_NAMES.length; i++) values[i] = row[FOCUS_NAMES[i] as FocusColumn];
      lines[r] = JSON.stringify(values);
    }
    writeSync(this.#fd, `${lines.join('\n')}\n`);
    this.#rows += rows.length;
  }

  /** Writes every row appended, in order, to the Parquet file `file`; the writer is closed. Returns the rows written. */
  async finish(file: string): Promise<number> {
    this.close();
    // Under 1.2 GB DuckDB wrote the file on one thread (twice the time); it used ~600–800 MB.
    const db = await DuckDBInstance.create(':memory:', {
      memory_limit: '1536MB',
      temp_directory: path.join(this.dir, 'spill'),
    });
    const conn = await db.connect();
    try {
      const typed = FOCUS_COLUMNS.map(([name, type]) => `CAST("${name}" AS ${SQL_TYPES[type]}) AS "${name}"`);
      const from = this.#rows > 0 ? jsonLinesSql(this.#lines) : NO_ROWS;
      await conn.run(`COPY (SELECT ${typed.join(', ')} FROM ${from}) TO ${sqlText(file)} (FORMAT parquet)`);
      return this.#rows;
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }

  /** Stops appending (the folder is the caller's to remove). */
  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** Writes FOCUS rows, given in chunks, to the Parquet file `file`; returns the rows written. */
export async function writeFocusParquet(
  chunks: Iterable<readonly FocusRow[]>,
  file: string,
): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-focus-'));
  try {
    const writer = new FocusParquetWriter(dir);
    try {
      for (const rows of chunks) writer.append(rows);
    } catch (e) {
      writer.close();
      throw e;
    }
    return await writer.finish(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
