/**
 * Rows handed to a DuckDB appender a data chunk at a time. The appender's own
 * methods cross into DuckDB once a value, nulls and numbers included; here a
 * column's numbers go over in one copy, its nulls in one bitmask and its short
 * ASCII strings in one copy of their entries, and only a longer or non-ASCII
 * string still crosses alone (docs/decisions.md: the server's appends).
 * `ChunkRows` has the appender's methods, so that a row is written the same
 * way to either; `HeldRows` keeps the chunks for an appender to take later.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import type { DuckDBAppender, DuckDBDataChunk, DuckDBTimestampValue, DuckDBType } from '@duckdb/node-api';

const require = createRequire(import.meta.url);
/** The client, required as the CommonJS package it is (see duckdb-store.ts). */
const duckdb = require('@duckdb/node-api') as typeof import('@duckdb/node-api');
/** The C API beneath it: a chunk's vectors are written through it. */
const capi = require('@duckdb/node-bindings') as typeof import('@duckdb/node-bindings');

/** What writing a row needs of an appender. */
export type RowSink = Pick<
  DuckDBAppender,
  'appendNull' | 'appendBigInt' | 'appendInteger' | 'appendTimestamp' | 'appendVarchar' | 'endRow'
>;

/** Where the low 32 bits of a 64-bit number stand in memory (DuckDB reads the machine's order). */
const LOW = endianness() === 'LE' ? 0 : 1;

/** DuckDB's vector size: a chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/** One column of the rows not yet appended: its values by row, and which rows are null. */
interface Column {
  kind: 'int64' | 'int32' | 'string';
  numbers: BigInt64Array | Int32Array | null;
  /** An int64 column's numbers as 32-bit halves, for whole numbers written without a BigInt. */
  halves: Int32Array | null;
  strings: (string | null)[] | null;
  /** A bit a row, 32 rows a word (DuckDB's 64-bit validity words, little-endian). */
  nulls: Uint32Array;
  anyNull: boolean;
}

const KINDS: Record<string, Column['kind']> = {
  BIGINT: 'int64',
  TIMESTAMP: 'int64',
  INTEGER: 'int32',
  VARCHAR: 'string',
};

/** An appender's column types: a chunk's must be its table's exactly (the appender casts nothing in a chunk). */
export function appenderTypes(appender: DuckDBAppender): DuckDBType[] {
  return Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
}

/**
 * Rows written into data chunks of the given column types; each chunk, once full (or ended), is
 * handed to `emit`.
 */
export abstract class ChunkWriter implements RowSink {
  private readonly columns: Column[];
  /** Rows a chunk holds: fewer than DuckDB's vector for a batch known to be smaller (a request of a few events). */
  private readonly capacity: number;
  private column = 0;
  private rows = 0;

  constructor(
    protected readonly types: readonly DuckDBType[],
    rows: number,
  ) {
    this.capacity = Math.max(1, Math.min(CHUNK_ROWS, Math.trunc(rows)));
    this.columns = types.map((t) => {
      const kind = KINDS[t.toString()];
      if (kind === undefined) throw new Error(`no chunk writer for a ${t.toString()} column`);
      return emptyColumn(kind, this.capacity);
    });
  }

  appendNull(): void {
    const c = this.next();
    c.nulls[this.rows >>> 5] = (c.nulls[this.rows >>> 5] ?? 0) | (1 << (this.rows & 31));
    c.anyNull = true;
    if (c.strings) c.strings[this.rows] = null;
  }

  appendBigInt(value: bigint): void {
    this.number(value, 'int64');
  }

  appendTimestamp(value: DuckDBTimestampValue): void {
    this.number(value.micros, 'int64');
  }

  /**
   * A whole number within ±2^53 (`Number.isSafeInteger`) into a BIGINT column, or as microseconds
   * into a TIMESTAMP one: what `appendBigInt(BigInt(value))` writes, without making a BigInt.
   */
  appendSafeInteger(value: number): void {
    const c = this.next();
    if (c.halves === null) throw new Error(`an int64 value for a ${c.kind} column`);
    if (!Number.isSafeInteger(value)) throw new Error(`${value} is not a safe integer`);
    const hi = Math.floor(value / 2 ** 32);
    const at = 2 * this.rows;
    c.halves[at + LOW] = value - hi * 2 ** 32;
    c.halves[at + 1 - LOW] = hi;
  }

  appendInteger(value: number): void {
    if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647)
      throw new Error(`${value} is not a 32-bit integer`);
    this.number(value, 'int32');
  }

  appendVarchar(value: string): void {
    const c = this.next();
    if (c.strings === null) throw new Error(`a string for a ${c.kind} column`);
    c.strings[this.rows] = value;
  }

  endRow(): void {
    if (this.column !== this.columns.length)
      throw new Error(`a row of ${this.column} values for ${this.columns.length} columns`);
    this.column = 0;
    if (++this.rows === this.capacity) this.endChunk();
  }

  /** Hands on the rows not yet handed on, as a chunk of their own (none when there are none). */
  endChunk(): void {
    if (this.column !== 0) throw new Error('a row was begun and not ended');
    if (this.rows === 0) return;
    const n = this.rows;
    const chunk = duckdb.DuckDBDataChunk.create(this.types, n);
    this.columns.forEach((c, i) => {
      writeColumn(capi.data_chunk_get_vector(chunk.chunk, i), c, n);
    });
    this.rows = 0;
    this.emit(chunk);
  }

  protected abstract emit(chunk: DuckDBDataChunk): void;

  private next(): Column {
    const c = this.columns[this.column++];
    if (c === undefined) throw new Error(`a row of more than ${this.columns.length} values`);
    return c;
  }

  private number(value: bigint | number, kind: 'int64' | 'int32'): void {
    const c = this.next();
    if (c.kind !== kind || c.numbers === null) throw new Error(`a ${kind} value for a ${c.kind} column`);
    if (kind === 'int64') {
      if (BigInt.asIntN(64, value as bigint) !== value)
        throw new Error(`${value} is out of the 64-bit range`);
      (c.numbers as BigInt64Array)[this.rows] = value as bigint;
    } else (c.numbers as Int32Array)[this.rows] = value as number;
  }
}

/** Rows handed to an appender a chunk at a time. */
export class ChunkRows extends ChunkWriter {
  /** `types`: the appender's (`appenderTypes`), passed by a caller that keeps them; `rows`: how many will come, when known. */
  constructor(
    readonly appender: DuckDBAppender,
    types: readonly DuckDBType[] = appenderTypes(appender),
    rows = CHUNK_ROWS,
  ) {
    super(types, rows);
  }

  /** Appends the rows not yet appended, then flushes the appender into its table. */
  flushSync(): void {
    this.endChunk();
    this.appender.flushSync();
  }

  protected emit(chunk: DuckDBDataChunk): void {
    this.appender.appendDataChunk(chunk);
  }
}

/**
 * Rows written into chunks before there is an appender to take them: a server's request is
 * written while the commit before it is under way, and its chunks are appended (`appendHeld`)
 * in its own. A column the caller fills in later (the batch number) is written as a placeholder.
 */
export class HeldRows extends ChunkWriter {
  private readonly held: DuckDBDataChunk[] = [];

  /** The chunks of every row written, the last ended. */
  chunks(): DuckDBDataChunk[] {
    this.endChunk();
    return this.held;
  }

  protected emit(chunk: DuckDBDataChunk): void {
    this.held.push(chunk);
  }
}

/**
 * Appends chunks held ahead (`HeldRows`), with the INTEGER column at `column` set to `value` in
 * every row. The appender copies each chunk, so the chunks can be appended again (a group commit
 * retried one request at a time).
 */
export function appendHeld(
  appender: DuckDBAppender,
  chunks: readonly DuckDBDataChunk[],
  column: number,
  value: number,
): void {
  for (const chunk of chunks) {
    const n = chunk.rowCount;
    const vector = capi.data_chunk_get_vector(chunk.chunk, column);
    capi.copy_data_to_vector(vector, 0, new Int32Array(n).fill(value).buffer, 0, n * 4);
    // Valid in every row, whatever was written there.
    const words = Math.ceil(n / 64) * 2;
    capi.vector_ensure_validity_writable(vector);
    capi.copy_data_to_vector_validity(
      vector,
      0,
      new Uint32Array(words).fill(0xffffffff).buffer,
      0,
      words * 4,
    );
    appender.appendDataChunk(chunk);
  }
}

/**
 * Writes a column's strings into its vector. DuckDB keeps a string of at most 12 bytes inside its
 * 16-byte entry (length, then the bytes, zero-padded: the C API's `duckdb_string_t`), so the
 * entries of short ASCII strings are written in JavaScript and copied in at once; every other
 * string (longer, not ASCII, holding a NUL) is then assigned alone, as all were before.
 */
function writeStrings(
  vector: ReturnType<typeof capi.data_chunk_get_vector>,
  strings: readonly (string | null)[],
  n: number,
): void {
  const entries = new Uint8Array(16 * n);
  const alone: number[] = [];
  for (let row = 0; row < n; row++) {
    const s = strings[row];
    if (s === null || s === undefined) continue;
    if (!(s.length <= 12 && inlineAscii(entries, 16 * row, s))) alone.push(row);
  }
  capi.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.length);
  for (const row of alone) capi.vector_assign_string_element(vector, row, strings[row] as string);
}

/** Writes `s` as an inlined entry at `at` when all its characters are ASCII other than NUL. */
function inlineAscii(entries: Uint8Array, at: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0 || code > 127) return false;
    entries[at + 4 + i] = code;
  }
  // The length, a 32-bit number in the machine's order (at most 12: one byte).
  entries[at + (LOW === 0 ? 0 : 3)] = s.length;
  return true;
}

function emptyColumn(kind: Column['kind'], rows: number): Column {
  const numbers = numbersOf(kind, rows);
  return {
    kind,
    numbers,
    halves: numbers instanceof BigInt64Array ? new Int32Array(numbers.buffer) : null,
    strings: kind === 'string' ? new Array<string | null>(rows).fill(null) : null,
    nulls: new Uint32Array(Math.ceil(rows / 64) * 2),
    anyNull: false,
  };
}

function numbersOf(kind: Column['kind'], rows: number): Column['numbers'] {
  if (kind === 'int64') return new BigInt64Array(rows);
  if (kind === 'int32') return new Int32Array(rows);
  return null;
}

/** Writes a column's first `n` rows into its vector, then clears its nulls for the next chunk. */
function writeColumn(vector: ReturnType<typeof capi.data_chunk_get_vector>, c: Column, n: number): void {
  if (c.numbers !== null)
    capi.copy_data_to_vector(vector, 0, c.numbers.buffer as ArrayBuffer, 0, n * c.numbers.BYTES_PER_ELEMENT);
  if (c.strings !== null) writeStrings(vector, c.strings, n);
  if (!c.anyNull) return;
  // DuckDB's validity has a set bit for a valid row; whole 64-bit words are copied.
  const words = Math.ceil(n / 64) * 2;
  const valid = new Uint32Array(words);
  for (let w = 0; w < words; w++) valid[w] = ~(c.nulls[w] ?? 0);
  capi.vector_ensure_validity_writable(vector);
  capi.copy_data_to_vector_validity(vector, 0, valid.buffer, 0, words * 4);
  c.nulls.fill(0);
  c.anyNull = false;
}
