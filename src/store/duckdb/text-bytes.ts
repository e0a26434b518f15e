/**
 * A result chunk's text and integer columns read as bytes and numbers
 * straight from DuckDB's vectors, for hashing a million row texts in Node
 * (`verify`): the client's own reading makes a native call, a buffer and a
 * JavaScript string per row, which cost more than the SHA-256 itself.
 */
import { createRequire } from 'node:module';
import type { DuckDBDataChunk } from '@duckdb/node-api';

/** DuckDB's C client (the layer under `@duckdb/node-api`), required as the CommonJS package it is. */
const bindings = createRequire(import.meta.url)(
  '@duckdb/node-bindings',
) as typeof import('@duckdb/node-bindings');

/**
 * A VARCHAR vector holds a 16-byte `duckdb_string_t` a row: the length in
 * bytes (uint32) first; up to 12 bytes inline after it, longer strings as a
 * pointer at byte 8 (DuckDB's C API, `duckdb.h`).
 */
const STRING_T = 16;
const INLINE_MAX = 12;

/** A data chunk: a result's or a scalar function's input. */
export type Chunk = Pick<DuckDBDataChunk, 'chunk' | 'rowCount'>;

/**
 * Calls `each` with the UTF-8 bytes of every row of a VARCHAR column without
 * NULLs, and the row's index. Strings that lie end to end in DuckDB's memory
 * (most of a chunk's, as DuckDB writes a computed column) are copied out in
 * one call and handed on as views; the views are valid during the call only.
 */
export function eachTextBytes(
  chunk: Chunk,
  column: number,
  each: (bytes: Uint8Array, row: number) => void,
): void {
  eachTextRun(chunk, column, (bytes, from, to, length) => {
    // Plain views (not Buffer's subarray, which builds a Buffer a row).
    for (let row = from, at = bytes.byteOffset; row < to; row++) {
      const size = length(row);
      each(new Uint8Array(bytes.buffer, at, size), row);
      at += size;
    }
  });
}

/** The rows of a VARCHAR column without NULLs, as strings (decoded run by run, without a native call a row). */
export function textColumn(chunk: Chunk, column: number): string[] {
  const out = new Array<string>(chunk.rowCount);
  eachTextRun(chunk, column, (bytes, from, to, length) => {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let row = from, at = 0; row < to; row++) {
      const size = length(row);
      out[row] = buffer.toString('utf8', at, at + size);
      at += size;
    }
  });
  return out;
}

/**
 * Calls `run` with each run of rows `[from, to)` of a VARCHAR column without NULLs whose
 * strings lie end to end: their bytes (a copy, or a view of the vector for one inline string),
 * and each row's length.
 */
function eachTextRun(
  chunk: Chunk,
  column: number,
  run: (bytes: Uint8Array, from: number, to: number, length: (row: number) => number) => void,
): void {
  const n = chunk.rowCount;
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  noNull(vector, n);
  const data = bindings.vector_get_data(vector, n * STRING_T);
  const entries = stringEntries(data, n);
  const length = (row: number) => entries[row * 4] as number;
  for (let row = 0; row < n; ) {
    const size = length(row);
    if (size <= INLINE_MAX) {
      run(data.subarray(row * STRING_T + 4, row * STRING_T + 4 + size), row, row + 1, length);
      row++;
      continue;
    }
    // The run of rows from `row` whose strings follow one another in memory.
    const start = pointerOf(entries, row);
    let end = start + size;
    let last = row + 1;
    while (last < n && length(last) > INLINE_MAX && pointerOf(entries, last) === end) {
      end += length(last);
      last++;
    }
    run(
      bindings.get_data_from_pointer(
        data.buffer as ArrayBuffer,
        data.byteOffset + row * STRING_T + 8,
        end - start,
      ),
      row,
      last,
      length,
    );
    row = last;
  }
}

/** A text column's rows as one run of bytes and where each row ends in it. */
export interface PackedTexts {
  bytes: Uint8Array;
  ends: Uint32Array;
}

/**
 * The UTF-8 bytes of every row of a VARCHAR column without NULLs, end to end in one array, with
 * each row's end: to be handed to another thread whole (`eachTextBytes` hands each row on).
 */
export function packTextBytes(chunk: Chunk, column: number): PackedTexts {
  const ends = new Uint32Array(chunk.rowCount);
  let total = 0;
  const pieces: Uint8Array[] = [];
  eachTextRun(chunk, column, (bytes, from, to, length) => {
    pieces.push(bytes);
    for (let row = from; row < to; row++) {
      total += length(row);
      ends[row] = total;
    }
  });
  // One run of long strings is a copy already; an inline string is a view of the vector's memory.
  if (pieces.length === 1 && total > INLINE_MAX) return { bytes: pieces[0] as Uint8Array, ends };
  return { bytes: Buffer.concat(pieces, total), ends };
}

/** A VARCHAR vector's entries as 32-bit words (four a row), copied when not 4-byte aligned. */
function stringEntries(data: Uint8Array, n: number): Uint32Array {
  const aligned = data.byteOffset % 4 === 0 ? data : new Uint8Array(data);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, n * 4);
}

/** The pointer of a row's string (bytes 8-15, little-endian), as a number (addresses fit in 53 bits). */
function pointerOf(entries: Uint32Array, row: number): number {
  return (entries[row * 4 + 2] as number) + (entries[row * 4 + 3] as number) * 2 ** 32;
}

/** The values of an INTEGER column without NULLs. */
export function integerColumn(chunk: Chunk, column: number): Int32Array {
  return new Int32Array(fixedColumn(chunk, column, Int32Array.BYTES_PER_ELEMENT));
}

/** The values of a DOUBLE column without NULLs. */
export function doubleColumn(chunk: Chunk, column: number): Float64Array {
  return new Float64Array(fixedColumn(chunk, column, Float64Array.BYTES_PER_ELEMENT));
}

/**
 * A fixed-width column without NULLs, its bytes copied out of the chunk's memory into a buffer
 * of its own (so aligned, and kept past the chunk). DuckDB writes the values in the machine's
 * byte order, which typed arrays read (as `stringEntries` and `pointerOf` do).
 */
function fixedColumn(chunk: Chunk, column: number, width: number): ArrayBuffer {
  const n = chunk.rowCount;
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  noNull(vector, n);
  const data = bindings.vector_get_data(vector, n * width);
  return data.buffer.slice(data.byteOffset, data.byteOffset + n * width) as ArrayBuffer;
}

/** Refuses a vector with a NULL among its first `n` rows (its bytes would be no value). */
function noNull(vector: ReturnType<typeof bindings.data_chunk_get_vector>, n: number): void {
  const validity = bindings.vector_get_validity(vector, Math.ceil(n / 64) * 8);
  if (validity === null) return;
  for (let row = 0; row < n; row++)
    if (!bindings.validity_row_is_valid(validity, row))
      throw new Error(`a NULL where none was expected (row ${row})`);
}
