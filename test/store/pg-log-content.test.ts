import { createHash } from 'node:crypto';
import { to as copyTo } from 'pg-copy-streams';
import { afterEach, describe, expect, it } from 'vitest';
import { RowTextHasher } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { batchRanges, foldLines, logContent } from '../../src/store/postgres/log-content.js';
import { PG_AUDIT } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { POSTGRES, schemaClient } from './adapters.js';
import { event } from './contract.js';

const sha = (s: string) => createHash('sha256').update(s).digest();

async function* chunked(text: string, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    yield Buffer.from(text.slice(at, cut), 'latin1');
    at = cut;
  }
}

describe('verify on PostgreSQL: row hashes folded in Node', () => {
  it('folds COPY lines cut anywhere as the hasher folds the same digests', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ seq: 1 + (i % 3), digest: sha(`row ${i}`) }));
    const text = rows.map((r) => `${r.seq}\t${r.digest.toString('hex')}\n`).join('');
    const expected = new RowTextHasher();
    for (const r of rows) expected.addDigest(r.seq, r.digest);
    const want = expected.finish();
    for (const cuts of [[], [1], [70, 71, 72], [5, 500, 9000, 9001, 19000]]) {
      const hasher = new RowTextHasher();
      await foldLines(chunked(text, cuts), hasher);
      expect(hasher.finish()).toEqual(want);
    }
    // An uppercase hex digit reads as its lowercase one.
    const upper = new RowTextHasher();
    await foldLines(chunked(text.toUpperCase(), [33]), upper);
    expect(upper.finish()).toEqual(want);
  });

  it('refuses a line of another shape, and lines cut short', async () => {
    const good = `1\t${sha('a').toString('hex')}\n`;
    await expect(foldLines(chunked(`1\t${'z'.repeat(64)}\n`, []), new RowTextHasher())).rejects.toThrow(
      /not hex/,
    );
    await expect(foldLines(chunked(`1\tabc\n`, []), new RowTextHasher())).rejects.toThrow(/another shape/);
    await expect(foldLines(chunked(good.slice(0, 20), []), new RowTextHasher())).rejects.toThrow(
      /ended within/,
    );
  });

  it('groups consecutive batches into windows of up to the limit, a larger batch alone', () => {
    const b = (seq: number, n: number) => ({ seq, n });
    expect(batchRanges([b(1, 2), b(2, 1), b(3, 5), b(4, 1), b(5, 1)], 3)).toEqual([
      [1, 2],
      [3, 3],
      [4, 5],
    ]);
    expect(batchRanges([], 3)).toEqual([]);
  });

  const open: Store[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('gives each batch its recorded content, in windows of any size', async () => {
    const url = POSTGRES.url('');
    const store = await openStore(url);
    open.push(store);
    await store.ingest('one', [[event('a'), event('b', { tenant: 'ü' })]]);
    await store.ingest('two', [[event('c', { agent: 'tab\there' })]]);
    await store.ingest('three', [[event('d'), event('e'), event('a', { input_tokens: 9 })]]);
    const recorded = new Map(
      (await store.batches()).map((b) => [b.seq, { count: b.count, content: b.contentSha256 }]),
    );
    const c = await schemaClient(url);
    try {
      const db = {
        rows: async (sql: string) => (await c.query(sql)).rows as Record<string, unknown>[],
        copyOut: (sql: string) => c.query(copyTo(sql)) as AsyncIterable<Buffer>,
      };
      for (const window of [1, 2, 3, 100]) expect(await logContent(db, PG_AUDIT, window)).toEqual(recorded);
    } finally {
      await c.end();
    }
  });
});
