/**
 * FOCUS rows as Parquet, written by an in-memory DuckDB. Values go in as text
 * and are cast once in SQL, so decimals stay exact (DECIMAL(38,12), the scale
 * of Money) and timestamps are stored as UTC instants.
 */
import { DuckDBDataChunk, DuckDBInstance, VARCHAR } from '@duckdb/node-api';
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

export async function writeFocusParquet(
  chunks: Iterable<readonly FocusRow[]>,
  path: string,
): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  let written = 0;
  try {
    await conn.run(`CREATE TABLE focus (${FOCUS_COLUMNS.map(([name]) => `"${name}" VARCHAR`).join(', ')})`);
    const appender = await conn.createAppender('focus');
    const types = FOCUS_COLUMNS.map(() => VARCHAR);
    // Column-wise chunks of DuckDB's vector size: a call per column and chunk instead of one per value.
    for (const rows of chunks) {
      for (let at = 0; at < rows.length; at += CHUNK_ROWS) {
        const slice = rows.slice(at, at + CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(types, slice.length);
        chunk.setColumns(
          FOCUS_COLUMNS.map(([name]) => slice.map((r) => (r[name] === null ? null : String(r[name])))),
        );
        appender.appendDataChunk(chunk);
      }
      written += rows.length;
    }
    appender.closeSync();
    const typed = FOCUS_COLUMNS.map(([name, type]) => `CAST("${name}" AS ${SQL_TYPES[type]}) AS "${name}"`);
    await conn.run(
      `COPY (SELECT ${typed.join(', ')} FROM focus) TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`,
    );
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return written;
}
