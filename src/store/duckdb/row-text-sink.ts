/**
 * Row texts handed to Node's hasher by a scalar function of the database, as
 * DuckDB writes them: `SELECT count(fn(batch_seq, text)) FROM …` hashes every
 * row of the query (`RowTextHasher`) without collecting the texts into a
 * result. A streamed result copied each chunk of texts once more and was
 * written by one thread at a time; the aggregate is written by every DuckDB
 * thread, each handing its chunk to the main thread (DuckDB's C API calls
 * the function there) and going on with the next.
 *
 * The function returns true, so that an insert can call it in a column its filter reads
 * (`insertHashingSql`): the rows are hashed as they are written, instead of
 * read back and written as texts again once the insert is done.
 */
import { createRequire } from 'node:module';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type RowTextHasher, rowTextSql } from '../audit.js';
import { DUCKDB_AUDIT } from './audit.js';
import { AsideHasher } from './row-hash-aside.js';
import { LOG_ROW_ORDER, TYPED_FIELDS } from './schema.js';
import { eachTextBytes, integerColumn, packTextBytes } from './text-bytes.js';
import type { ChunkDb } from './usage-read.js';

const require = createRequire(import.meta.url);
const bindings = require('@duckdb/node-bindings') as typeof import('@duckdb/node-bindings');
const { DuckDBScalarFunction } = require('@duckdb/node-api') as typeof import('@duckdb/node-api');

/** The function's name: (batch_seq INTEGER, row text VARCHAR) -> BOOLEAN (true). */
const NAME = 'tally_hash_row_text';

/** As many `true` bytes as the largest chunk so far: the function's result. */
let TRUES = new Uint8Array(2048).fill(1);

/** The scalar function of one database and the hasher it feeds while a statement runs. */
export class RowTextSink {
  private hasher: RowTextHasher | AsideHasher | null = null;

  private constructor() {}

  /** Registers the function in `conn`'s database (every connection of it sees it). */
  static register(conn: DuckDBConnection): RowTextSink {
    const sink = new RowTextSink();
    const wrapper = new DuckDBScalarFunction();
    // Its input read straight from the chunk (the client's wrapper would read every value first).
    const fn = wrapper.scalar_function;
    bindings.scalar_function_set_name(fn, NAME);
    bindings.scalar_function_add_parameter(fn, bindings.create_logical_type(bindings.Type.INTEGER));
    bindings.scalar_function_add_parameter(fn, bindings.create_logical_type(bindings.Type.VARCHAR));
    bindings.scalar_function_set_return_type(fn, bindings.create_logical_type(bindings.Type.BOOLEAN));
    // Called for every chunk, never folded into a constant.
    bindings.scalar_function_set_volatile(fn);
    bindings.scalar_function_set_function(fn, (_info, input, output) => sink.add(input, output));
    conn.registerScalarFunction(wrapper);
    return sink;
  }

  /**
   * Hashes into `hasher` the row texts of `textsSql` (a query of batch_seq and the text, as
   * `rowTextsSql` writes it) on each of `queries`' connections at once.
   */
  async hash(
    hasher: RowTextHasher | AsideHasher,
    queries: readonly { db: ChunkDb; textsSql: string }[],
  ): Promise<void> {
    await this.during(hasher, async () => {
      // Every statement ended before the hasher is let go, even when one failed.
      const ended = await Promise.allSettled(
        queries.map(({ db, textsSql }) =>
          db.rows(`SELECT count(${NAME}(batch_seq, t)) AS n FROM (${textsSql}) r`),
        ),
      );
      for (const e of ended) if (e.status === 'rejected') throw e.reason;
    });
  }

  /** Hashes into `hasher` the row texts that statements run by `body` hand to the function (`insertHashingSql`). */
  async during<T>(hasher: RowTextHasher | AsideHasher, body: () => Promise<T>): Promise<T> {
    if (this.hasher !== null) throw new Error('RowTextSink: a hash is already running');
    this.hasher = hasher;
    try {
      return await body();
    } finally {
      this.hasher = null;
    }
  }

  private add(
    input: import('@duckdb/node-bindings').DataChunk,
    output: import('@duckdb/node-bindings').Vector,
  ): void {
    const hasher = this.hasher;
    if (hasher === null) throw new Error(`${NAME} is called only by the store's hashing`);
    const chunk = { chunk: input, rowCount: bindings.data_chunk_get_size(input) };
    if (hasher instanceof AsideHasher) hasher.take(integerColumn(chunk, 0), packTextBytes(chunk, 1));
    // A hasher past its limit takes no more rows: their texts are not read.
    else if (hasher.complete) {
      const seqs = integerColumn(chunk, 0);
      eachTextBytes(chunk, 1, (bytes, row) => hasher.add(seqs[row] as number, bytes));
    }
    // The result, all true (`vector_get_data` gives a copy: the vector is written by copying into it).
    if (TRUES.length < chunk.rowCount) TRUES = new Uint8Array(chunk.rowCount).fill(1);
    bindings.copy_data_to_vector(output, 0, TRUES.buffer, 0, chunk.rowCount);
  }
}

/**
 * Inserts `rows` (a query of the log's columns and `batch_seq`) into the log,
 * each row's text (audit.ts `rowTextSql`, over the values cast to the log's
 * column types, as stored) handed to the sink's hasher as DuckDB writes it,
 * in the log's row order (`LOG_ROW_ORDER`). Run within `RowTextSink.during`.
 */
export function insertHashingSql(rows: string): string {
  // The call is a column the filter reads: as a filter of its own, DuckDB took ten times as long.
  return `INSERT INTO event_log BY NAME
  SELECT * EXCLUDE (hashed) FROM (
    SELECT *, ${NAME}(batch_seq, ${rowTextSql(DUCKDB_AUDIT)}) AS hashed FROM (SELECT ${TYPED_FIELDS}, batch_seq FROM (${rows}) r))
  WHERE hashed ORDER BY ${LOG_ROW_ORDER}`;
}
