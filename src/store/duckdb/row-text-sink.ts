/**
 * Row texts handed to Node's hasher by a scalar function of the database, as
 * DuckDB writes them: `SELECT count(fn(batch_seq, text)) FROM …` hashes every
 * row of the query (`RowTextHasher`) without collecting the texts into a
 * result. A streamed result copied each chunk of texts once more and was
 * written by one thread at a time; the aggregate is written by every DuckDB
 * thread, each handing its chunk to the main thread (DuckDB's C API calls
 * the function there) and going on with the next.
 */
import { createRequire } from 'node:module';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RowTextHasher } from '../audit.js';
import { eachTextBytes, integerColumn } from './text-bytes.js';
import type { ChunkDb } from './usage-read.js';

const require = createRequire(import.meta.url);
const bindings = require('@duckdb/node-bindings') as typeof import('@duckdb/node-bindings');
const { DuckDBScalarFunction } = require('@duckdb/node-api') as typeof import('@duckdb/node-api');

/** The function's name: (batch_seq INTEGER, row text VARCHAR) -> INTEGER (no value). */
const NAME = 'tally_hash_row_text';

/** The scalar function of one database and the hasher it feeds while a statement runs. */
export class RowTextSink {
  private hasher: RowTextHasher | null = null;

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
    bindings.scalar_function_set_return_type(fn, bindings.create_logical_type(bindings.Type.INTEGER));
    // Called for every chunk, never folded into a constant.
    bindings.scalar_function_set_volatile(fn);
    bindings.scalar_function_set_function(fn, (_info, input) => sink.add(input));
    conn.registerScalarFunction(wrapper);
    return sink;
  }

  /**
   * Hashes into `hasher` the row texts of `textsSql` (a query of batch_seq and the text, as
   * `rowTextsSql` writes it) on each of `queries`' connections at once.
   */
  async hash(hasher: RowTextHasher, queries: readonly { db: ChunkDb; textsSql: string }[]): Promise<void> {
    if (this.hasher !== null) throw new Error('RowTextSink: a hash is already running');
    this.hasher = hasher;
    try {
      // Every statement ended before the hasher is let go, even when one failed.
      const ended = await Promise.allSettled(
        queries.map(({ db, textsSql }) =>
          db.rows(`SELECT count(${NAME}(batch_seq, t)) AS n FROM (${textsSql}) r`),
        ),
      );
      for (const e of ended) if (e.status === 'rejected') throw e.reason;
    } finally {
      this.hasher = null;
    }
  }

  private add(input: import('@duckdb/node-bindings').DataChunk): void {
    const hasher = this.hasher;
    if (hasher === null) throw new Error(`${NAME} is called only by the store's hashing`);
    const chunk = { chunk: input, rowCount: bindings.data_chunk_get_size(input) };
    const seqs = integerColumn(chunk, 0);
    eachTextBytes(chunk, 1, (bytes, row) => hasher.add(seqs[row] as number, bytes));
  }
}
