/**
 * FOCUS rows as Parquet, written by a DuckDB of its own. Rows are appended
 * as they come (a month's a day at a time) to a table in a database file in
 * a folder the caller gives, so that memory holds a chunk of them, not the
 * month; DuckDB's COPY writes the Parquet file at the end. Values go in as
 * text and are cast once in SQL, so decimals stay exact (DECIMAL(38,12), the
 * scale of Money) and timestamps are stored as UTC instants.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  VARCHAR,
} from '@duckdb/node-api';
import { FOCUS_COLUMNS, type FocusColumnType, type FocusRow } from './focus.js';

const SQL_TYPES: Record<FocusColumnType, string> = {
  varchar: 'VARCHAR',
  decimal: 'DECIMAL(38,12)',
  timestamp: 'TIMESTAMPTZ',
  json: 'JSON',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
};

const CHUNK_ROWS = 2048;
const TYPES = FOCUS_COLUMNS.map(() => VARCHAR);
const sqlPath = (p: string) => `'${p.replaceAll("'", "''")}'`;

export class FocusParquetWriter {
  #rows = 0;
  #open = true;

  private constructor(
    private readonly db: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly appender: DuckDBAppender,
  ) {}

  /** A writer whose rows wait in a database file in `dir` (spilling there too, beyond a modest memory cap). */
  static async open(dir: string): Promise<FocusParquetWriter> {
    const db = await DuckDBInstance.create(path.join(dir, 'focus.duckdb'), {
      memory_limit: '512MB',
      temp_directory: path.join(dir, 'spill'),
    });
    const conn = await db.connect();
    try {
      await conn.run(`CREATE TABLE focus (${FOCUS_COLUMNS.map(([name]) => `"${name}" VARCHAR`).join(', ')})`);
      return new FocusParquetWriter(db, conn, await conn.createAppender('focus'));
    } catch (e) {
      conn.closeSync();
      db.closeSync();
      throw e;
    }
  }

  /** The rows appended so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends rows, column by column a chunk of DuckDB's vector size at a time (a call per column and chunk, not per value). */
  append(rows: readonly FocusRow[]): void {
    if (!this.#open) throw new RangeError('FOCUS Parquet: rows appended after the file was written');
    for (let at = 0; at < rows.length; at += CHUNK_ROWS) {
      const slice = rows.slice(at, at + CHUNK_ROWS);
      const chunk = DuckDBDataChunk.create(TYPES, slice.length);
      chunk.setColumns(
        FOCUS_COLUMNS.map(([name]) => slice.map((r) => (r[name] === null ? null : String(r[name])))),
      );
      this.appender.appendDataChunk(chunk);
    }
    this.#rows += rows.length;
  }

  /** Writes every row appended, in order, to the Parquet file `file`; the writer is closed. Returns the rows written. */
  async finish(file: string): Promise<number> {
    try {
      this.appender.closeSync();
      const typed = FOCUS_COLUMNS.map(([name, type]) => `CAST("${name}" AS ${SQL_TYPES[type]}) AS "${name}"`);
      await this.conn.run(
        `COPY (SELECT ${typed.join(', ')} FROM focus) TO ${sqlPath(file)} (FORMAT parquet)`,
      );
      return this.#rows;
    } finally {
      this.close();
    }
  }

  /** Lets the database go (its folder is the caller's to remove). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.conn.closeSync();
    this.db.closeSync();
  }
}

/** Writes FOCUS rows, given in chunks, to the Parquet file `file`; returns the rows written. */
export async function writeFocusParquet(
  chunks: Iterable<readonly FocusRow[]>,
  file: string,
): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-focus-'));
  try {
    const writer = await FocusParquetWriter.open(dir);
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
