import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import { MIGRATIONS } from '../../src/store/duckdb/schema.js';
import { openStore } from '../../src/store/open.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { DUCKDB, POSTGRES } from './adapters.js';
import { contentHash, event, link, storeContract } from './contract.js';

const dirs: string[] = [];
async function tempFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-duckdb-'));
  dirs.push(dir);
  return path.join(dir, 'tally.duckdb');
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

storeContract('DuckDB', async () => openStore(await tempFile()), DUCKDB.lacks);
// Small batches hash in Node from their row texts read as strings, larger ones from them read as bytes,
// the largest by streaming their row hashes: each way passes the same contract with the same hashes.
storeContract('DuckDB, batch hashes from row texts read as bytes', async () =>
  DuckDBStore.open(await tempFile(), { hashInNodeMax: 0 }),
);
storeContract('DuckDB, row hashes streamed', async () =>
  DuckDBStore.open(await tempFile(), { hashInNodeMax: 0, hashTextsMax: 0 }),
);
// A server's small batches ask the in-memory key filter before SQL whether a key was logged before:
// the contract passes with the filter built from the first batch on.
storeContract('DuckDB, keys checked by the key filter', async () =>
  DuckDBStore.open(await tempFile(), { keyFilterAfter: 1 }),
);

describe('DuckDB key filter', () => {
  const many = (from: number, n: number, fields: Partial<Parameters<typeof event>[1]> = {}) =>
    Array.from({ length: n }, (_, i) => event(`k${from + i}`, fields));

  it('finds duplicates and new versions among many stored keys, after reopening and after a batch that bypassed it', async () => {
    const file = await tempFile();
    let store = await DuckDBStore.open(file, { keyFilterAfter: 1, keyFilterMax: 100 });
    await store.ingest('big', [many(0, 5000)]); // above keyFilterMax: SQL alone
    await store.ingest('small 1', [many(5000, 50)]); // the filter is built here, from the 5,000
    expect(await store.ingest('dup of big', [[event('k10'), event('new-1')]])).toEqual({
      batch: 3,
      stored: 1,
      duplicates: 1,
      superseded: 0,
    });
    expect(await store.ingest('version of small', [[event('k5001', { input_tokens: 7 })]])).toEqual({
      batch: 4,
      stored: 1,
      duplicates: 0,
      superseded: 1,
    });
    await store.ingest('big again', [many(6000, 200)]); // bypasses the filter: it is dropped
    expect(await store.ingest('dup of big again', [[event('k6100')]])).toMatchObject({
      stored: 0,
      duplicates: 1,
    });
    await store.close();
    store = await DuckDBStore.open(file, { keyFilterAfter: 1, keyFilterMax: 100 });
    expect(await store.ingest('after reopening', [[event('k6199'), event('k5049'), event('new-2')]])).toEqual(
      {
        batch: 6,
        stored: 1,
        duplicates: 2,
        superseded: 0,
      },
    );
    expect(await store.verify()).toMatchObject({ ok: true, events: 5000 + 50 + 1 + 1 + 200 + 1 });
    expect((await store.counters()).events).toBe(5000 + 50 + 1 + 200 + 1);
    await store.close();
  });
});

/** Runs statements on the store's file through a raw connection, as an attacker with file access would. */
async function tamper(file: string, ...sql: string[]): Promise<void> {
  const db = await DuckDBInstance.create(file);
  const conn = await db.connect();
  try {
    for (const s of sql) await conn.run(s);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

// A list of events with distinct keys (a server's request or group commit) is appended straight to
// the log; any other input is staged first. Both must store the same rows under the same hashes.
describe('DuckDB direct append', () => {
  const events = () => [
    event('a'),
    event('b', { input_tokens: 0, output_tokens: 12, service: 'svc', tenant: null }),
    event('c', { cache_write_1h_tokens: 5, units: { images: 2 } }),
    event('d', { adjusted_count: '4' }),
    event('a', { source: 'other', api_key: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345' }),
    // Hashed from what was appended: strings that might not read back as given are read back.
    event('e', { agent: 'a\u0000b', project: 'x\ud800y', tenant: 'emoji 😀', input_tokens: 2 ** 53 - 1 }),
    event('f', { agent: 'plain', output_tokens: -3, cache_write_1h_tokens: 0, units: {} }),
  ];
  async function* staged<T>(chunk: T): AsyncIterable<T> {
    yield chunk;
  }

  it('stores a list as the staged path does: same rows, same batch hash', async () => {
    const direct = await DuckDBStore.open(await tempFile());
    const viaStage = await DuckDBStore.open(await tempFile());
    try {
      const links = [link('f1'), link('f2', { service: 'svc' })];
      expect(await direct.ingest('x', [{ events: events(), links }])).toEqual(
        await viaStage.ingest('x', staged({ events: events(), links })),
      );
      expect((await direct.batches())[0]?.contentSha256).toBe((await viaStage.batches())[0]?.contentSha256);
      const next = () => [event('a', { input_tokens: 5 }), event('e')];
      expect(await direct.ingest('y', [next()])).toEqual(await viaStage.ingest('y', staged(next())));
      expect(await direct.auditHead()).toBe(await viaStage.auditHead());
      expect(await direct.verify()).toMatchObject({ ok: true, batches: 2 });
      expect(await direct.eventsById('a', null)).toEqual(await viaStage.eventsById('a', null));
    } finally {
      await direct.close();
      await viaStage.close();
    }
  });

  // A server writes a request's rows while the commit before it runs (prepareIngest); the commit
  // appends them under its batch number.
  it('writes a first request ahead once a server warmed its writes, and stores it as written in its commit', async () => {
    const warm = await DuckDBStore.open(await tempFile());
    const cold = await DuckDBStore.open(await tempFile());
    try {
      await warm.warmWrites();
      const first = [event('w1'), event('w2', { tenant: 'acme' })];
      expect(warm.prepareIngest(first)).toBe(true);
      expect(await warm.ingest('w', [first])).toEqual(
        await cold.ingest('w', [[event('w1'), event('w2', { tenant: 'acme' })]]),
      );
      expect(await warm.auditHead()).toBe(await cold.auditHead());
      await warm.warmWrites(); // again: nothing more to read
      expect(await warm.verify()).toMatchObject({ ok: true, batches: 1, events: 2 });
    } finally {
      await warm.close();
      await cold.close();
    }
  });

  it('stores rows written ahead of their commit as it stores rows written in it', async () => {
    const ahead = await DuckDBStore.open(await tempFile());
    const inCommit = await DuckDBStore.open(await tempFile());
    try {
      const first = () => [event('z')];
      const early = first();
      expect(ahead.prepareIngest(early)).toBe(false); // before a commit has read the log's columns
      expect(await ahead.ingest('w', [early])).toEqual(await inCommit.ingest('w', [first()]));
      const plain = () => [event('p1'), event('p2', { tenant: 'acme', units: { images: 1 } }), event('p3')];
      const links = [link('f1')];
      // One list whose texts are all known, one read back (event e), one not written ahead.
      const [readBack, known, late] = [events(), plain(), [event('q', { adjusted_count: '2' })]];
      expect(ahead.prepareIngest(readBack)).toBe(true);
      expect(ahead.prepareIngest(known)).toBe(true);
      expect(ahead.prepareIngest([])).toBe(false);
      const group = [{ events: known, links }, readBack, late];
      expect(await ahead.ingest('x', group)).toEqual(
        await inCommit.ingest('x', [
          { events: plain(), links: [link('f1')] },
          events(),
          [event('q', { adjusted_count: '2' })],
        ]),
      );
      // Written once, appended twice: a group retried request by request appends the same chunks again.
      const again = [event('p1', { input_tokens: 9 }), event('r')];
      expect(ahead.prepareIngest(again)).toBe(true);
      expect(await ahead.ingest('y', [again])).toEqual(
        await inCommit.ingest('y', [[event('p1', { input_tokens: 9 }), event('r')]]),
      );
      expect(await ahead.ingest('y2', [again])).toEqual(
        await inCommit.ingest('y2', [[event('p1', { input_tokens: 9 }), event('r')]]),
      );
      const chain = async (s: DuckDBStore) => (await s.batches()).map(({ ingestedAt, ...b }) => b);
      expect(await chain(ahead)).toEqual(await chain(inCommit));
      expect(await ahead.auditHead()).toBe(await inCommit.auditHead());
      expect(await ahead.verify()).toMatchObject({ ok: true, batches: 3 }); // y2 stored nothing new
      for (const id of ['p1', 'p2', 'e', 'r', 'q'])
        expect(await ahead.eventsById(id, null)).toEqual(await inCommit.eventsById(id, null));
    } finally {
      await ahead.close();
      await inCommit.close();
    }
  });

  it('stores nothing of a list whose event the log refuses, and chains the next batch on', async () => {
    const store = await DuckDBStore.open(await tempFile());
    try {
      await store.ingest('before', [[event('a')]]);
      await expect(store.ingest('bad', [[event('b'), event('c', { input_tokens: 1.5 })]])).rejects.toThrow();
      expect(await store.counters()).toMatchObject({ events: 1, batches: 1 });
      expect(await store.ingest('after', [[event('b')]])).toEqual({
        batch: 2,
        stored: 1,
        duplicates: 0,
        superseded: 0,
      });
      expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 2 });
    } finally {
      await store.close();
    }
  });

  // The parsers give whole milliseconds; a time that is not one is refused, written ahead or not.
  it('refuses an event whose time is not whole milliseconds, on every path', async () => {
    const store = await DuckDBStore.open(await tempFile());
    try {
      await store.ingest('before', [[event('a')]]);
      const half = event('h', { time: Date.UTC(2026, 9, 10, 12) + 0.5 });
      const ahead = [half];
      expect(store.prepareIngest(ahead)).toBe(false);
      await expect(store.ingest('direct', [ahead])).rejects.toThrow(/cannot be converted to a BigInt/);
      async function* staged() {
        yield [half];
      }
      await expect(store.ingest('staged', staged())).rejects.toThrow(/cannot be converted to a BigInt/);
      expect(await store.counters()).toMatchObject({ events: 1, batches: 1 });
    } finally {
      await store.close();
    }
  });

  it('chains the next batch on the stored head after a commit that failed once the batch was recorded', async () => {
    const store = await DuckDBStore.open(await tempFile());
    // The store's statements, with one COMMIT that fails as DuckDB fails one: rolled back.
    const internals = store as unknown as { run(sql: string): Promise<number> };
    const run = internals.run.bind(store);
    let failCommit = false;
    internals.run = async (sql: string) => {
      if (sql !== 'COMMIT' || !failCommit) return run(sql);
      failCommit = false;
      await run('ROLLBACK');
      throw new Error('commit failed');
    };
    try {
      await store.ingest('before', [[event('a')]]);
      failCommit = true;
      await expect(store.ingest('lost', [[event('b')]])).rejects.toThrow('commit failed');
      expect(await store.ingest('after', [[event('b')]])).toMatchObject({ batch: 2, stored: 1 });
      expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 2 });
    } finally {
      await store.close();
    }
  });
});

describe('DuckDB row texts hashed in Node', () => {
  const line = (id: string, extra = '') =>
    JSON.stringify({ ...event(id), time: new Date(event(id).time).toISOString() }).replace('{', `{${extra}`);

  it('hashes the next file after one rolled back once its rows were hashed', async () => {
    const file = await tempFile();
    const store = await DuckDBStore.open(file, { hashInNodeMax: 0 });
    try {
      // The unknown key is found by the scan of the file, after the rows were inserted and hashed.
      const bad = path.join(path.dirname(file), 'bad.jsonl');
      await writeFile(bad, `${line('a')}\n${line('b', '"input_token":5,')}\n`);
      const opts = { label: 'f', now: Date.UTC(2026, 9, 15) };
      await expect(store.ingestCanonicalFile(bad, 'jsonl', opts)).rejects.toMatchObject({
        code: 'invalid_input',
      });
      const good = path.join(path.dirname(file), 'good.jsonl');
      await writeFile(good, `${line('a')}\n${line('b')}\n`);
      expect(await store.ingestCanonicalFile(good, 'jsonl', opts)).toMatchObject({ batch: 1, stored: 2 });
      expect(await store.verify()).toMatchObject({ ok: true, batches: 1, events: 2 });
    } finally {
      await store.close();
    }
  });

  it('hashes rows as they are inserted, and reads them back when the hasher stopped or rows went', async () => {
    const file = await tempFile();
    const opts = { label: 'f', now: Date.UTC(2026, 9, 15) };
    const write = async (name: string, lines: string[]) => {
      const at = path.join(path.dirname(file), name);
      await writeFile(at, `${lines.join('\n')}\n`);
      return at;
    };
    const three = await write('three.jsonl', [line('a'), line('b'), line('c')]);
    // The same key twice in one file: the bulk path drops the earlier row after inserting both.
    const twice = await write('twice.jsonl', [
      line('d'),
      line('e'),
      JSON.stringify({ ...event('d', { input_tokens: 99 }), time: new Date(event('d').time).toISOString() }),
    ]);
    const contents = async (store: DuckDBStore) => {
      const a = await store.ingestCanonicalFile(three, 'jsonl', opts);
      const b = await store.ingestCanonicalFile(twice, 'jsonl', opts);
      const c = await store.ingest('staged', [[event('f'), event('g')]]);
      expect(await store.verify()).toMatchObject({ ok: true, batches: 3, events: 7 });
      return {
        stored: [a.stored, b.stored, c.stored],
        content: (await store.batches()).map((x) => x.contentSha256),
      };
    };
    // Each store's batch hashes, once by hashing as inserted (all but the file with a key twice),
    // once by a hasher that stops after two rows (every batch read back): the same.
    const asInserted = await DuckDBStore.open(file);
    const stopped = await DuckDBStore.open(await tempFile(), { hashTextsMax: 2 });
    try {
      const a = await contents(asInserted);
      expect(a.stored).toEqual([3, 2, 2]);
      expect(a).toEqual(await contents(stopped));
    } finally {
      await asInserted.close();
      await stopped.close();
    }
  });
});

describe('DuckDB store file', () => {
  let file: string;
  let store: Store;
  beforeEach(async () => {
    file = await tempFile();
    store = await openStore(`duckdb:${file}`);
    await store.ingest('one', [[event('a'), event('b')]]);
    await store.ingest('two', [[event('c'), event('d')]]);
    await store.ingest('three', [[event('e')]]);
    await store.close();
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
  });

  async function verifyAfter(...sql: string[]) {
    await tamper(file, ...sql);
    store = await openStore(file);
    return store.verify();
  }

  it('keeps its data and migrations across reopening', async () => {
    store = await openStore(file);
    expect(await store.counters()).toEqual({
      events: 5,
      duplicates: 0,
      superseded: 0,
      rejected: 0,
      ignored: 0,
      batches: 3,
    });
    expect((await store.verify()).ok).toBe(true);
    await store.close();
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    const rows = (
      await conn.runAndReadAll('SELECT version FROM schema_migrations ORDER BY version')
    ).getRowsJS();
    conn.closeSync();
    db.closeSync();
    expect(rows).toEqual(MIGRATIONS.map((_, i) => [i + 1]));
  });

  it('verifies an untouched file', async () => {
    const v = await verifyAfter();
    expect(v).toMatchObject({ ok: true, batches: 3, events: 5, firstBad: null });
  });

  it('finds an edited token count', async () => {
    const v = await verifyAfter(`UPDATE event_log SET input_tokens = 1 WHERE id = 'c'`);
    expect(v.firstBad).toEqual({
      seq: 2,
      reason: 'content hash mismatch: an event or trace link was edited, deleted or inserted',
    });
    expect(v.ok).toBe(false);
  });

  it('finds a deleted event', async () => {
    const v = await verifyAfter(`DELETE FROM event_log WHERE id = 'b'`);
    expect(v.firstBad?.seq).toBe(1);
    expect(v.firstBad?.reason).toMatch(/^count mismatch/);
  });

  it('finds an inserted event', async () => {
    const v = await verifyAfter(
      `INSERT INTO event_log SELECT * REPLACE ('z' AS id) FROM event_log WHERE id = 'e'`,
    );
    expect(v.firstBad?.seq).toBe(3);
    expect(v.firstBad?.reason).toMatch(/^count mismatch/);
  });

  it('finds an edited event whose batch hash was rewritten to match', async () => {
    const v = await verifyAfter(
      `UPDATE event_log SET input_tokens = 1 WHERE id = 'c'`,
      `UPDATE batches SET content_sha256 = '${contentHash([event('c', { input_tokens: 1 }), event('d')])}' WHERE seq = 2`,
    );
    expect(v.firstBad).toMatchObject({ seq: 2 });
    expect(v.firstBad?.reason).toMatch(/^chain broken/);
  });

  it('finds batches reordered', async () => {
    const v = await verifyAfter(
      `UPDATE batches SET seq = -1 WHERE seq = 1`,
      `UPDATE batches SET seq = 1 WHERE seq = 2`,
      `UPDATE batches SET seq = 2 WHERE seq = -1`,
      `UPDATE event_log SET batch_seq = CASE batch_seq WHEN 1 THEN 2 WHEN 2 THEN 1 ELSE batch_seq END`,
    );
    expect(v.firstBad).toMatchObject({ seq: 1 });
    expect(v.firstBad?.reason).toMatch(/^chain broken/);
  });

  it('finds an edited, deleted or inserted trace link', async () => {
    const linked = async (...sql: string[]) => {
      const f = await tempFile();
      const s = await DuckDBStore.open(f);
      await s.ingest('links', [
        { events: [event('x')], links: [link('1000000000000001', { service: 'app' })] },
      ]);
      await s.ingest('more', [{ events: [], links: [link('1000000000000002', { service: 'app' })] }]);
      await s.close();
      await tamper(f, ...sql);
      const again = await DuckDBStore.open(f);
      try {
        return await again.verify();
      } finally {
        await again.close();
      }
    };
    expect((await linked()).ok).toBe(true);
    expect(
      (await linked(`UPDATE spans SET service = 'other' WHERE span_id = '1000000000000001'`)).firstBad,
    ).toEqual({
      seq: 1,
      reason: 'content hash mismatch: an event or trace link was edited, deleted or inserted',
    });
    expect((await linked(`DELETE FROM spans WHERE span_id = '1000000000000002'`)).firstBad?.seq).toBe(2);
    expect(
      (
        await linked(
          `INSERT INTO spans SELECT * REPLACE ('1000000000000009' AS span_id) FROM spans WHERE batch_seq = 1`,
        )
      ).firstBad?.seq,
    ).toBe(1);
  });

  it('reads the log in windows of whole batches: finds the same, on one connection or several', async () => {
    const windowed = async (settings: Record<string, string>, ...sql: string[]) => {
      await tamper(file, ...sql);
      const s = await DuckDBStore.open(file, { verifyWindow: 1, settings });
      try {
        return await s.verify();
      } finally {
        await s.close();
      }
    };
    expect(await windowed({ threads: '1' })).toMatchObject({ ok: true, batches: 3, events: 5 });
    expect(await windowed({ threads: '3' })).toMatchObject({ ok: true, batches: 3, events: 5 });
    const edited = await windowed({ threads: '2' }, `UPDATE event_log SET input_tokens = 1 WHERE id = 'd'`);
    expect(edited.firstBad?.seq).toBe(2);
    const unknown = await windowed(
      { threads: '2' },
      `UPDATE event_log SET input_tokens = 100 WHERE id = 'd'`,
      `INSERT INTO event_log SELECT * REPLACE ('z' AS id, 9 AS batch_seq) FROM event_log WHERE id = 'e'`,
    );
    expect(unknown.firstBad).toEqual({ seq: 9, reason: 'events or trace links reference unknown batch 9' });
  });

  it('hashes a window in a worker thread when it is large enough: the same verdicts as on this thread', async () => {
    // The worker runs the built code (dist/, compiled before the tests).
    const script = pathToFileURL(
      path.join(import.meta.dirname, '../../dist/store/duckdb/row-hash-worker.js'),
    );
    const big = Array.from({ length: 6_000 }, (_, i) => event(`big-${i}`, { tenant: `t-${i % 7}-é` }));
    const s0 = await openStore(file);
    await s0.ingest('big', [big]);
    await s0.close();
    const both = async (...sql: string[]) => {
      await tamper(file, ...sql);
      const verdicts = [];
      for (const verifyAside of [{ minRows: 1, script }, { minRows: Number.POSITIVE_INFINITY }]) {
        const s = await DuckDBStore.open(file, { verifyAside, verifyWindow: 4_000 });
        try {
          verdicts.push(await s.verify());
        } finally {
          await s.close();
        }
      }
      expect(verdicts[0]).toEqual(verdicts[1]);
      return verdicts[0];
    };
    expect(await both()).toMatchObject({ ok: true, batches: 4, events: 6_005 });
    expect((await both(`UPDATE event_log SET input_tokens = 7 WHERE id = 'big-4321'`))?.firstBad).toEqual({
      seq: 4,
      reason: 'content hash mismatch: an event or trace link was edited, deleted or inserted',
    });
  });

  it('finds events of a batch that does not exist', async () => {
    const v = await verifyAfter(
      `INSERT INTO event_log SELECT * REPLACE ('z' AS id, 9 AS batch_seq) FROM event_log WHERE id = 'e'`,
    );
    expect(v.firstBad).toEqual({ seq: 9, reason: 'events or trace links reference unknown batch 9' });
  });

  it('finds a batch removed with its events', async () => {
    const v = await verifyAfter(
      `DELETE FROM event_log WHERE batch_seq = 2`,
      `DELETE FROM batches WHERE seq = 2`,
    );
    expect(v.firstBad).toMatchObject({ seq: 3 });
    expect(v.firstBad?.reason).toMatch(/^chain broken/);
  });
});

describe('openStore', () => {
  it('opens a PostgreSQL URL with the PostgreSQL adapter', async () => {
    const store = await openStore(POSTGRES.url(''));
    try {
      expect(store).toBeInstanceOf(PostgresStore);
    } finally {
      await store.close();
    }
  });
});

// A store that a server or a queue worker holds commits small batches all the time: its checkpoints
// append row groups without merging (rewriting) the earlier ones, which stalled every commit meanwhile.
describe('DuckDB steady writer', () => {
  async function rowGroupsAfterSmallCommits(opts: { steadyWriter?: boolean }, query = ''): Promise<number> {
    const file = await tempFile();
    // Every commit checkpoints (a tiny threshold), as a server's does every ~16 MB of log.
    const store = await openStore(`duckdb:${file}?checkpoint_threshold=1KB${query}`, opts);
    for (let b = 0; b < 6; b++)
      await store.ingest(`batch ${b}`, [Array.from({ length: 3000 }, (_, i) => event(`e${b}-${i}`))]);
    await store.close();
    const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const rows = await conn.runAndReadAll(
      `SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM pragma_storage_info('event_log')`,
    );
    conn.closeSync();
    db.closeSync();
    return Number(rows.getRowObjectsJS()[0]?.n);
  }

  it('keeps the row group each checkpoint appended, where a store opened as usual merges them', async () => {
    expect(await rowGroupsAfterSmallCommits({ steadyWriter: true })).toBe(6);
    expect(await rowGroupsAfterSmallCommits({})).toBeLessThan(6);
  });

  /** The write-ahead log's size after committing about 6 MB of it in small batches (0: none left). */
  async function walAfterSmallCommits(opts: { steadyWriter?: boolean }, query = ''): Promise<number> {
    const file = await tempFile();
    const store = await openStore(`duckdb:${file}${query}`, opts);
    try {
      for (let b = 0; b < 12; b++)
        await store.ingest(`batch ${b}`, [
          Array.from({ length: 2000 }, (_, i) => event(`e${b}-${i}`, { project: 'p'.repeat(120) })),
        ]);
      return await stat(`${file}.wal`).then(
        (s) => s.size,
        () => 0,
      );
    } finally {
      await store.close();
    }
  }

  it('checkpoints every 4 MB of log, where a store opened as usual waits for 16 MB', async () => {
    const MB = 1024 * 1024;
    const usual = await walAfterSmallCommits({});
    expect(usual).toBeGreaterThan(5 * MB);
    expect(await walAfterSmallCommits({ steadyWriter: true })).toBeLessThan(4.5 * MB);
    expect(await walAfterSmallCommits({ steadyWriter: true }, '?checkpoint_threshold=16MB')).toBe(usual);
  });

  it('lets the store URL set the vacuum back', async () => {
    expect(await rowGroupsAfterSmallCommits({ steadyWriter: true }, '&max_vacuum_tasks=100')).toBeLessThan(6);
  });
});

storeContract('DuckDB, a steady writer (no vacuum at checkpoints)', async () =>
  openStore(await tempFile(), { steadyWriter: true }),
);
