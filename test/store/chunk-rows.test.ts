/** Rows appended a data chunk at a time (src/store/duckdb/chunk-rows.ts) store what the appender's own methods store. */
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampValue,
} from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appenderTypes,
  appendHeld,
  ChunkRows,
  HeldRows,
  type RowSink,
} from '../../src/store/duckdb/chunk-rows.js';

let db: DuckDBInstance;
let conn: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});
afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

const TABLE = '(n BIGINT, t TIMESTAMP, seq INTEGER, s VARCHAR, u VARCHAR)';

/** Row `i`: every type, nulls in a pattern of its own in each column, strings of several scripts and sizes. */
function writeRow(a: RowSink, i: number): void {
  if (i % 3 === 0) a.appendNull();
  else a.appendBigInt(BigInt(i) * 1_000_000_007n - 9_000_000_000_000_000_000n);
  if (i % 5 === 0) a.appendNull();
  else a.appendTimestamp(new DuckDBTimestampValue(BigInt(i) * 3_600_000_000n));
  if (i % 7 === 0) a.appendNull();
  else a.appendInteger(i % 2 === 0 ? -2147483648 + i : 2147483647 - i);
  if (i % 64 === 1) a.appendNull();
  else a.appendVarchar(`row ${i} ${'é€😀'.repeat(i % 9)}${'x'.repeat(i % 40)}`);
  if (i < 3000) a.appendNull();
  else a.appendVarchar(String(i));
  a.endRow();
}

async function tableOf(name: string, fill: (a: DuckDBAppender) => void): Promise<void> {
  await conn.run(`CREATE OR REPLACE TABLE ${name} ${TABLE}`);
  const appender = await conn.createAppender(name);
  fill(appender);
  appender.closeSync();
}

describe('ChunkRows', () => {
  it('stores the same rows as the appender, across chunks and with nulls in every type', async () => {
    const n = 5_000; // three chunks, the last partial
    await tableOf('by_value', (a) => {
      for (let i = 0; i < n; i++) writeRow(a, i);
      a.flushSync();
    });
    await tableOf('by_chunk', (a) => {
      const rows = new ChunkRows(a);
      for (let i = 0; i < n; i++) writeRow(rows, i);
      rows.flushSync();
    });
    const count = async (sql: string) => Number((await conn.runAndReadAll(sql)).getRowsJS()[0]?.[0]);
    expect(await count('SELECT count(*) FROM by_chunk')).toBe(n);
    expect(
      await count('SELECT count(*) FROM (SELECT * FROM by_value EXCEPT ALL SELECT * FROM by_chunk)'),
    ).toBe(0);
    expect(
      await count('SELECT count(*) FROM (SELECT * FROM by_chunk EXCEPT ALL SELECT * FROM by_value)'),
    ).toBe(0);
    expect(await count('SELECT count(*) FROM by_chunk WHERE n IS NULL')).toBe(Math.ceil(n / 3));
    expect(await count('SELECT count(*) FROM by_chunk WHERE u IS NULL')).toBe(3000);
  });

  it('holds rows written before there is an appender, and appends them with a column set, as often as asked', async () => {
    const n = 2_500; // two chunks, the second partial
    await tableOf('by_value2', (a) => {
      for (let i = 0; i < n; i++) writeRow(a, i);
      a.flushSync();
    });
    await conn.run(`CREATE OR REPLACE TABLE held ${TABLE}`);
    const appender = await conn.createAppender('held');
    const rows = new HeldRows(appenderTypes(appender), n);
    for (let i = 0; i < n; i++) writeRow(rows, i);
    const chunks = rows.chunks();
    expect(chunks.map((c) => c.rowCount)).toEqual([2048, n - 2048]);
    appendHeld(appender, chunks, 2, 7);
    appendHeld(appender, chunks, 2, -8);
    appender.closeSync();
    const count = async (sql: string) => Number((await conn.runAndReadAll(sql)).getRowsJS()[0]?.[0]);
    for (const seq of [7, -8]) {
      const held = `SELECT n, t, s, u FROM held WHERE seq = ${seq}`;
      const byValue = 'SELECT n, t, s, u FROM by_value2';
      expect(await count(`SELECT count(*) FROM (${held})`)).toBe(n);
      expect(await count(`SELECT count(*) FROM (${held} EXCEPT ALL ${byValue})`)).toBe(0);
      expect(await count(`SELECT count(*) FROM (${byValue} EXCEPT ALL ${held})`)).toBe(0);
    }
  });

  it('writes a whole number without a BigInt as appendBigInt writes it, in a BIGINT or a TIMESTAMP column', async () => {
    const values = [0, -0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 5, -(2 ** 32) - 5];
    values.push(
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      1_760_097_600_123_000,
      -8_000_000_000_000_000,
    );
    for (const name of ['as_bigint', 'as_safe']) {
      await conn.run(`CREATE OR REPLACE TABLE ${name} (i INTEGER, n BIGINT, t TIMESTAMP)`);
      const appender = await conn.createAppender(name);
      const rows = new ChunkRows(appender);
      values.forEach((v, i) => {
        rows.appendInteger(i);
        if (name === 'as_safe') {
          rows.appendSafeInteger(v);
          rows.appendSafeInteger(v);
        } else {
          rows.appendBigInt(BigInt(v));
          rows.appendTimestamp(new DuckDBTimestampValue(BigInt(v)));
        }
        rows.endRow();
      });
      rows.flushSync();
      appender.closeSync();
    }
    const rowsOf = async (t: string) =>
      (
        await conn.runAndReadAll(`SELECT i, n::VARCHAR, epoch_us(t)::VARCHAR FROM ${t} ORDER BY i`)
      ).getRowsJS();
    expect(await rowsOf('as_safe')).toEqual(await rowsOf('as_bigint'));
    expect((await rowsOf('as_safe')).map((r) => r[1])).toEqual(values.map((v) => BigInt(v).toString()));
    const refused = new ChunkRows(await conn.createAppender('as_safe'));
    refused.appendInteger(1);
    expect(() => refused.appendSafeInteger(2 ** 53)).toThrow(/not a safe integer/);
    expect(() => refused.appendSafeInteger(1.5)).toThrow(/not a safe integer/);
    expect(() => new ChunkRows(refused.appender).appendSafeInteger(1)).toThrow(
      /int64 value for a int32 column/,
    );
  });

  it('stores short strings written into their entries as the appender stores them', async () => {
    const strings = [
      '',
      'a',
      'abcdefghijkl',
      'abcdefghijklm',
      'a\u0000b',
      'é',
      'x😀',
      '\u007f~',
      ' 12 ',
      'sk-x',
    ];
    const n = 3 * strings.length;
    await conn.run(`CREATE OR REPLACE TABLE short_by_value (i INTEGER, s VARCHAR)`);
    await conn.run(`CREATE OR REPLACE TABLE short_by_chunk (i INTEGER, s VARCHAR)`);
    const byValue = await conn.createAppender('short_by_value');
    const byChunk = await conn.createAppender('short_by_chunk');
    const rows = new ChunkRows(byChunk);
    for (let i = 0; i < n; i++)
      for (const a of [byValue, rows]) {
        a.appendInteger(i);
        if (i % 7 === 6) a.appendNull();
        else a.appendVarchar(strings[i % strings.length] as string);
        a.endRow();
      }
    byValue.flushSync();
    rows.flushSync();
    byValue.closeSync();
    byChunk.closeSync();
    const read = async (t: string) =>
      (await conn.runAndReadAll(`SELECT i, s, octet_length(encode(s)) FROM ${t} ORDER BY i`)).getRowsJS();
    expect(await read('short_by_chunk')).toEqual(await read('short_by_value'));
    expect((await read('short_by_chunk')).slice(0, 4).map((r) => r[1])).toEqual(strings.slice(0, 4));
  });

  it('refuses a row of the wrong length or a value of the wrong type, and a column it cannot write', async () => {
    await conn.run(`CREATE OR REPLACE TABLE narrow (n BIGINT, s VARCHAR)`);
    const rows = new ChunkRows(await conn.createAppender('narrow'));
    rows.appendBigInt(1n);
    expect(() => rows.endRow()).toThrow(/a row of 1 values for 2 columns/);
    expect(() => rows.appendBigInt(2n)).toThrow(/int64 value for a string column/);
    expect(() => rows.appendVarchar('x')).toThrow(/more than 2 values/);
    const wide = new ChunkRows(await conn.createAppender('narrow'));
    expect(() => wide.appendBigInt(1n << 64n)).toThrow(/64-bit range/);
    await conn.run(`CREATE OR REPLACE TABLE floats (x DOUBLE)`);
    const appender = await conn.createAppender('floats');
    expect(() => new ChunkRows(appender)).toThrow(/no chunk writer for a DOUBLE column/);
    appender.closeSync();
  });
});
