import { createHash } from 'node:crypto';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_EVENT_FIELDS } from '../../src/core/event.js';
import { RowTextHasher, rowTextsSql, sortedDigests, WIDE_AT } from '../../src/store/audit.js';
import { DUCKDB_AUDIT } from '../../src/store/duckdb/audit.js';
import { rowIdRanges, windows } from '../../src/store/duckdb/log-content.js';
import { insertHashingSql, RowTextSink } from '../../src/store/duckdb/row-text-sink.js';
import { columnType } from '../../src/store/duckdb/schema.js';
import {
  doubleColumn,
  eachTextBytes,
  integerColumn,
  packTextBytes,
  textColumn,
} from '../../src/store/duckdb/text-bytes.js';

describe('reading a chunk as bytes', () => {
  let instance: DuckDBInstance;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => instance.closeSync());

  /** Every row of `sql` (an INTEGER and a VARCHAR column) as read by `eachTextBytes` and by the client. */
  async function both(sql: string) {
    const conn = await instance.connect();
    const read: [number, string][] = [];
    const packed: [number, string][] = [];
    const texts: [number, string][] = [];
    const expected: [number, string][] = [];
    try {
      const result = await conn.stream(sql);
      for (
        let chunk = await result.fetchChunk();
        chunk && chunk.rowCount > 0;
        chunk = await result.fetchChunk()
      ) {
        const ints = integerColumn(chunk, 0);
        eachTextBytes(chunk, 1, (bytes, row) =>
          read.push([ints[row] as number, Buffer.from(bytes).toString('utf8')]),
        );
        // The same rows packed end to end, as a chunk is handed to another thread.
        const { bytes, ends } = packTextBytes(chunk, 1);
        for (let row = 0, at = 0; row < ends.length; at = ends[row] as number, row++)
          packed.push([ints[row] as number, Buffer.from(bytes.subarray(at, ends[row])).toString('utf8')]);
        // The same rows as strings (a usage group's sampling unit).
        for (const [row, t] of textColumn(chunk, 1).entries()) texts.push([ints[row] as number, t]);
        const values = chunk.getColumnValues(1);
        for (const [i, v] of chunk.getColumnValues(0).entries())
          expected.push([Number(v), String(values[i])]);
      }
    } finally {
      conn.closeSync();
    }
    return { read, packed, texts, expected };
  }

  it('reads every row of a text column as the client does: long strings end to end, short ones inline, any UTF-8', async () => {
    const { read, packed, texts, expected } =
      await both(`SELECT i::INTEGER, CASE WHEN i % 7 = 0 THEN 'short ' || (i % 10)
        WHEN i % 11 = 0 THEN '' ELSE concat_ws(chr(31), 'row', i, repeat('é🙂x', i % 50), chr(30)) END
      FROM range(10000) t(i)`);
    expect(read).toHaveLength(10000);
    expect(read).toEqual(expected);
    expect(packed).toEqual(expected);
    expect(texts).toEqual(expected);
  });

  it('reads rows whose strings are not end to end in memory (a column of the table as stored)', async () => {
    const conn = await instance.connect();
    await conn.run(
      `CREATE TABLE t AS SELECT i::INTEGER AS i, 'value number ' || i || repeat('z', i % 30) AS v FROM range(5000) r(i)`,
    );
    conn.closeSync();
    const { read, packed, texts, expected } = await both(`SELECT i, v FROM t WHERE i % 3 <> 1`);
    expect(read.length).toBeGreaterThan(3000);
    expect(read).toEqual(expected);
    expect(packed).toEqual(expected);
    expect(texts).toEqual(expected);
  });

  it('refuses a NULL', async () => {
    await expect(
      both(`SELECT 1, NULL::VARCHAR UNION ALL SELECT 2, 'long enough to be a pointer'`),
    ).rejects.toThrow(/NULL/);
  });

  it('copies whole-number and double columns out of each chunk as the client reads them, kept past the next chunk', async () => {
    const conn = await instance.connect();
    const ints: Int32Array[] = [];
    const doubles: Float64Array[] = [];
    const expected: [number, number][] = [];
    try {
      const result = await conn.stream(`SELECT (i * 7919 - 2147483000)::INTEGER,
          CASE WHEN i % 5 = 0 THEN -i / 3.0 WHEN i % 5 = 1 THEN 'NaN'::DOUBLE ELSE i * 1e300 / 7 END
        FROM range(5000) r(i)`);
      for (
        let chunk = await result.fetchChunk();
        chunk && chunk.rowCount > 0;
        chunk = await result.fetchChunk()
      ) {
        ints.push(integerColumn(chunk, 0));
        doubles.push(doubleColumn(chunk, 1));
        const d = chunk.getColumnValues(1);
        for (const [i, v] of chunk.getColumnValues(0).entries()) expected.push([Number(v), Number(d[i])]);
      }
    } finally {
      conn.closeSync();
    }
    const read = ints.flatMap((column, c) => [...column].map((v, row) => [v, doubles[c]?.[row]]));
    expect(ints.length).toBeGreaterThan(1);
    expect(read).toEqual(expected);
  });
});

describe('windows of the log', () => {
  const span = (seq: number, n: number, lo: number) => ({ seq, n, lo, hi: lo + n - 1 });

  it('groups consecutive batches up to the window, a larger batch alone', () => {
    const spans = [span(1, 3, 0), span(2, 3, 3), span(3, 10, 6), span(4, 1, 16), span(9, 2, 17)];
    expect(windows(spans, 6)).toEqual([
      { from: 1, to: 2, lo: 0, hi: 5, rows: 6 },
      { from: 3, to: 3, lo: 6, hi: 15, rows: 10 },
      { from: 4, to: 9, lo: 16, hi: 18, rows: 3 },
    ]);
    expect(windows([], 6)).toEqual([]);
  });

  it('holds a window of hundreds of thousands of one-event batches', () => {
    const spans = Array.from({ length: 300_000 }, (_, i) => span(i + 1, 1, 2 * i));
    expect(windows(spans, 4_000_000)).toEqual([{ from: 1, to: 300_000, lo: 0, hi: 599_998, rows: 300_000 }]);
  });

  it('splits row ids into ranges that cover each id once', () => {
    for (const [lo, hi, k] of [
      [0, 0, 2],
      [0, 9, 2],
      [5, 1_000_002, 3],
      [7, 8, 8],
    ] as const) {
      const ranges = rowIdRanges({ lo, hi }, k);
      expect(ranges.length).toBeLessThanOrEqual(k);
      expect(ranges[0]?.[0]).toBe(lo);
      expect(ranges.at(-1)?.[1]).toBe(hi);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.[0]).toBe((ranges[i - 1]?.[1] ?? 0) + 1);
    }
  });
});

describe('RowTextHasher', () => {
  const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
  /** The definition, written plainly: row hashes sorted, grouped by their first two hex digits. */
  function reference(texts: readonly string[]): string {
    const hashes = texts.map((t) => sha(t)).sort();
    const buckets = new Map<string, string[]>();
    for (const h of hashes) buckets.set(h.slice(0, 2), [...(buckets.get(h.slice(0, 2)) ?? []), h]);
    return sha(
      [...buckets.keys()]
        .sort()
        .map((k) => sha((buckets.get(k) ?? []).join('')))
        .join(''),
    );
  }

  it('folds rows given in any order, as strings or bytes, into the defined content of each batch', () => {
    const texts = Array.from({ length: 20_000 }, (_, i) => `event ${i}\u001f${'ü'.repeat(i % 5)}`);
    const hasher = new RowTextHasher();
    for (let i = texts.length - 1; i >= 0; i--) {
      const t = texts[i] as string;
      hasher.add(i % 3 === 0 ? 7 : 2, i % 2 === 0 ? t : new Uint8Array(Buffer.from(t)));
    }
    const few = texts.slice(0, 300);
    for (const t of few) hasher.add(9, t); // a batch kept in one list, not split by bucket
    const out = hasher.finish();
    expect([...out.keys()]).toEqual([2, 7, 9]);
    expect(out.get(9)).toEqual({ count: 300, content: reference(few) });
    expect(out.get(7)).toEqual({ count: 6667, content: reference(texts.filter((_, i) => i % 3 === 0)) });
    expect(out.get(2)).toEqual({ count: 13333, content: reference(texts.filter((_, i) => i % 3 !== 0)) });
  });

  it('past its limit lets every digest go, takes no more rows and will not give a content', () => {
    const hasher = new RowTextHasher(3);
    for (const t of ['a', 'b', 'c']) hasher.add(1, t);
    expect(hasher.complete).toBe(true);
    hasher.add(2, 'd');
    expect(hasher.complete).toBe(false);
    hasher.add(1, 'e');
    expect(() => hasher.finish()).toThrow(/more than 3 rows/);
    const within = new RowTextHasher(3);
    for (const t of ['a', 'b', 'c']) within.add(1, t);
    expect(within.finish().get(1)).toEqual({ count: 3, content: reference(['a', 'b', 'c']) });
  });
});

describe('RowTextSink', () => {
  it('hands every row of several connections at once to the hasher: constant and inline values too', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conns = [await instance.connect(), await instance.connect(), await instance.connect()];
    try {
      await conns[0]?.run(`CREATE TABLE t AS SELECT (i % 3)::INTEGER AS batch_seq,
          CASE WHEN i % 5 = 0 THEN 'short ' || (i % 7) ELSE concat_ws(chr(31), 'row', i, repeat('é', i % 40)) END AS t
        FROM range(30000) r(i)`);
      const sink = RowTextSink.register(conns[0] as DuckDBConnection);
      const db = (conn: DuckDBConnection | undefined) => ({
        rows: async (sql: string) => (await (conn as DuckDBConnection).runAndReadAll(sql)).getRowObjectsJS(),
        run: async () => 0,
        chunks: async () => undefined,
      });
      const hasher = new RowTextHasher();
      await sink.hash(hasher, [
        { db: db(conns[0]), textsSql: 'SELECT batch_seq, t FROM t WHERE rowid < 10000' },
        // A constant batch number and a constant text (DuckDB passes them as constant vectors).
        {
          db: db(conns[1]),
          textsSql: "SELECT 7 AS batch_seq, 'the same text for every row' AS t FROM range(5000)",
        },
        { db: db(conns[2]), textsSql: 'SELECT batch_seq, t FROM t WHERE rowid >= 10000' },
      ]);
      const expected = new RowTextHasher();
      const rows = (await conns[0]?.runAndReadAll('SELECT batch_seq, t FROM t'))?.getRows() ?? [];
      for (const [seq, t] of rows) expected.add(Number(seq), String(t));
      for (let i = 0; i < 5000; i++) expected.add(7, 'the same text for every row');
      expect(hasher.finish()).toEqual(expected.finish());
      // Outside a hash the function refuses to run rather than drop rows.
      await expect(conns[1]?.run("SELECT tally_hash_row_text(1, 'x')")).rejects.toThrow(/only by the store/);
    } finally {
      for (const c of conns) c.closeSync();
      instance.closeSync();
    }
  });
});

describe('RowTextSink in an insert', () => {
  it('hashes each row inserted as its stored text, whatever the inserted query computes it from', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const columns = ALL_EVENT_FIELDS.map((f) => `${f} ${columnType(f)}`).join(', ');
      await conn.run(`CREATE TABLE event_log (${columns}, batch_seq INTEGER)`);
      const sink = RowTextSink.register(conn);
      // Values given as other types than the log's (a count as text, the time as text) are hashed as stored.
      const rows = `SELECT 'e' || i AS id, 's' AS source, '2026-10-01 12:00:00.25'::VARCHAR AS time, NULL AS provider,
          CASE WHEN i % 2 = 0 THEN 'm' END AS model, 'chat' AS operation, (i * 7)::VARCHAR AS input_tokens,
          0 AS output_tokens, 0 AS cache_read_tokens, i % 3 AS cache_write_tokens, 0 AS reasoning_tokens,
          1 AS requests, NULL AS tool, NULL AS data_source, 'kü' AS api_key, NULL AS service, NULL AS agent,
          NULL AS project, NULL AS tenant, NULL AS environment, NULL AS trace_id, NULL AS span_id,
          NULL AS parent_span_id, 'ok' AS status, NULL AS error_type, NULL AS client_address, '0.5' AS reported_cost,
          i % 3 AS cache_write_1h_tokens, 0 AS input_audio_tokens, 0 AS output_audio_tokens, NULL AS units,
          CASE WHEN i % 4 = 0 THEN '2.5' END AS adjusted_count, 4 AS batch_seq
        FROM range(5000) r(i)`;
      const hasher = new RowTextHasher();
      const inserted = await sink.during(hasher, async () => {
        const r = await conn.run(insertHashingSql(rows));
        return r.rowsChanged;
      });
      expect(inserted).toBe(5000);
      const expected = new RowTextHasher();
      const stored = (await conn.runAndReadAll(rowTextsSql(DUCKDB_AUDIT, 'event_log'))).getRows();
      expect(stored).toHaveLength(5000);
      for (const [seq, t] of stored) expected.add(Number(seq), String(t));
      expect(hasher.finish()).toEqual(expected.finish());
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});

describe('RowTextSink after a failed statement', () => {
  it('lets the hasher go only once every statement of the hash has ended', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conns = [await instance.connect(), await instance.connect(), await instance.connect()];
    const db = (conn: DuckDBConnection | undefined) => ({
      rows: async (sql: string) => (await (conn as DuckDBConnection).runAndReadAll(sql)).getRowObjectsJS(),
      run: async () => 0,
      chunks: async () => undefined,
    });
    try {
      const sink = RowTextSink.register(conns[0] as DuckDBConnection);
      const failed = sink.hash(new RowTextHasher(), [
        { db: db(conns[0]), textsSql: 'SELECT 1 AS batch_seq, NULL::VARCHAR AS t' },
        { db: db(conns[1]), textsSql: "SELECT 1 AS batch_seq, 'row ' || i AS t FROM range(1000000) r(i)" },
      ]);
      await expect(failed).rejects.toThrow(/NULL/);
      // The long statement does not go on feeding the next hash.
      const next = new RowTextHasher();
      await sink.hash(next, [{ db: db(conns[2]), textsSql: "SELECT 2 AS batch_seq, 'only' AS t" }]);
      const expected = new RowTextHasher();
      expected.add(2, 'only');
      expect(next.finish()).toEqual(expected.finish());
    } finally {
      for (const c of conns) c.closeSync();
      instance.closeSync();
    }
  });
});

describe('sortedDigests', () => {
  it('sorts 32-byte digests bytewise, also those alike in their first five bytes, in short runs and long ones', () => {
    const digests: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const d = createHash('sha256').update(String(i)).digest();
      d[0] = 0x5a;
      if (i % 4 === 0) d.fill(0x11, 1, 5); // a quarter share bytes 1-4
      if (i % 8 === 0) d.fill(0x22, 5, 20); // and some bytes beyond
      digests.push(d);
    }
    const expected = Buffer.concat([...digests].sort(Buffer.compare));
    const aligned = new Uint8Array(Buffer.concat(digests));
    expect(Buffer.from(sortedDigests(aligned, 3000, 1)).equals(expected)).toBe(true);
    const unaligned = new Uint8Array(3000 * 32 + 1).subarray(1);
    unaligned.set(aligned);
    expect(Buffer.from(sortedDigests(unaligned, 3000, 1)).equals(expected)).toBe(true);
    // A whole batch's digests (the first bytes differ): sorted from byte 0.
    const mixed = digests.map((d, i) => Buffer.concat([Buffer.from([i % 3]), d.subarray(1)]));
    const mixedExpected = Buffer.concat([...mixed].sort(Buffer.compare));
    expect(
      Buffer.from(sortedDigests(new Uint8Array(Buffer.concat(mixed)), 3000, 0)).equals(mixedExpected),
    ).toBe(true);
  });
});

describe('sortedDigests, a bucket of a large batch', () => {
  it('sorts a bucket past WIDE_AT digests bytewise, counted by two bytes, ties to the last byte included', () => {
    const n = WIDE_AT * 3;
    const digests: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const d = createHash('sha256').update(`row ${i}`).digest();
      d[0] = 0x9c;
      if (i % 5 === 0) d.fill(0x44, 1, 3); // the two counted bytes alike
      if (i % 10 === 0) d.fill(0x55, 3, 31); // and all but the last
      digests.push(d);
    }
    const expected = Buffer.concat([...digests].sort(Buffer.compare));
    expect(Buffer.from(sortedDigests(new Uint8Array(Buffer.concat(digests)), n, 1)).equals(expected)).toBe(
      true,
    );
  });
});

describe('sortedDigests, property', () => {
  it('orders any digests as a bytewise sort does, runs short and long, prefixes shared or not', () => {
    const digest = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(
        fc.array(digest, { maxLength: 400 }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        (raw, shared, sameFirst) => {
          // `shared` leading bytes made alike in half the digests: runs whose ties go past byte 5
          const digests = raw.map((d, i) => {
            const b = Buffer.from(d);
            if (sameFirst) b[0] = 0x7f;
            if (i % 2 === 0) b.fill(0x33, 1, 1 + shared);
            return b;
          });
          const expected = Buffer.concat([...digests].sort(Buffer.compare));
          const from = sameFirst ? 1 : 0;
          const all = new Uint8Array(Buffer.concat(digests));
          expect(Buffer.from(sortedDigests(all, digests.length, from)).equals(expected)).toBe(true);
          // Counted by two bytes, as a month's buckets are.
          expect(Buffer.from(sortedDigests(all, digests.length, from, 0)).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
