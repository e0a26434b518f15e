import { afterEach, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { MIGRATIONS } from '../../src/store/postgres/schema.js';
import type { Store } from '../../src/store/store.js';
import { POSTGRES, schemaClient } from './adapters.js';
import { contentHash, event, storeContract } from './contract.js';

storeContract('PostgreSQL', () => openStore(POSTGRES.url('')), POSTGRES.lacks);

const T0 = Date.UTC(2026, 9, 1, 12);

/** Runs SQL in the store's schema through a connection of its own, as a DBA (or an attacker) would. */
async function sql(url: string, ...statements: string[]): Promise<Array<Record<string, unknown>>> {
  const c = await schemaClient(url);
  try {
    let last: Array<Record<string, unknown>> = [];
    for (const s of statements) last = (await c.query(s)).rows;
    return last;
  } finally {
    await c.end();
  }
}

describe('PostgreSQL store', () => {
  const open: Store[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  async function store(url: string): Promise<Store> {
    const s = await openStore(url);
    open.push(s);
    return s;
  }

  it('applies its migrations once, partitions the log by month', async () => {
    const url = POSTGRES.url('');
    const a = await store(url);
    await a.ingest('two months', [[event('a'), event('b', { time: Date.UTC(2026, 10, 3) })]]);
    await store(url);
    const versions = await sql(url, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const parts = await sql(
      url,
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'event_log'::regclass ORDER BY 1`,
    );
    expect(parts.map((r) => r.relname)).toEqual(['event_log_2026_10', 'event_log_2026_11']);
  });

  it('opens a new schema from several processes at once', async () => {
    const url = POSTGRES.url('');
    const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(url)));
    open.push(...stores);
    const versions = await sql(url, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('keeps one chain and stores each event once with two writers at once', async () => {
    const url = POSTGRES.url('');
    const [a, b] = [await store(url), await store(url)];
    // Each writer sends 20 batches; every event id is sent by both, half of them in the same content.
    const batch = (w: string, i: number) =>
      Array.from({ length: 50 }, (_, k) =>
        event(`e${i}-${k}`, { time: T0 + k, input_tokens: k % 2 === 0 ? 100 : w === 'a' ? 1 : 2 }),
      );
    const results = await Promise.all(
      ['a', 'b'].map(async (w) => {
        const s = w === 'a' ? a : b;
        const out = [];
        for (let i = 0; i < 20; i++) out.push(await s.ingest(`${w}:${i}`, [batch(w, i)]));
        return out;
      }),
    );
    const all = results.flat();
    const seqs = all.flatMap((r) => (r.batch === null ? [] : [r.batch])).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const counters = await a.counters();
    // 20 × 50 distinct (source, id): each live once, whichever writer came second
    expect(counters.events).toBe(1000);
    expect(all.reduce((n, r) => n + r.duplicates, 0)).toBe(500);
    expect(all.reduce((n, r) => n + r.superseded, 0)).toBe(500);
    const v = await b.verify();
    expect(v).toMatchObject({ ok: true, batches: seqs.length, events: 1500, firstBad: null });
    expect(v.head).toBe(await a.auditHead());
  });

  it('decides duplicates and versions as if the batches ran one after another, with four writers on the same ids', async () => {
    const url = POSTGRES.url('');
    const writers = await Promise.all([1, 2, 3, 4].map(() => store(url)));
    // Every writer sends every id in every round; content takes one of three values, so the
    // log sees repeats of the live version (duplicates) and changes (new versions) from all sides.
    const batch = (w: number, round: number) =>
      Array.from({ length: 40 }, (_, k) =>
        event(`k${k}`, { time: T0 + k, input_tokens: (w * 7 + round * 3 + k) % 3 }),
      );
    const results = (
      await Promise.all(
        writers.map(async (s, w) => {
          const out = [];
          for (let round = 0; round < 15; round++)
            out.push(await s.ingest(`w${w}:${round}`, [batch(w, round)]));
          return out;
        }),
      )
    ).flat();
    const seqs = results.flatMap((r) => (r.batch === null ? [] : [r.batch])).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const stored = results.reduce((n, r) => n + r.stored, 0);
    expect(stored + results.reduce((n, r) => n + r.duplicates, 0)).toBe(4 * 15 * 40);
    expect((await writers[0]?.counters())?.events).toBe(40);
    // In batch order, no version repeats the one before it (that would be a duplicate stored twice),
    // and each replaced version is marked once, by the batch that replaced it.
    const repeats = await sql(
      url,
      `SELECT count(*) AS n FROM (SELECT id, input_tokens, lag(input_tokens) OVER (PARTITION BY id ORDER BY batch_seq) AS prev
         FROM event_log) v WHERE input_tokens = prev`,
    );
    expect(Number(repeats[0]?.n)).toBe(0);
    const marks = await sql(url, 'SELECT count(*) AS n FROM superseded');
    expect(Number(marks[0]?.n)).toBe(stored - 40);
    expect(results.reduce((n, r) => n + r.superseded, 0)).toBe(stored - 40);
    const v = await writers[1]?.verify();
    expect(v).toMatchObject({ ok: true, batches: seqs.length, events: stored, firstBad: null });
  });

  it('finds an edited, a deleted and an inserted event, and a rewritten chain', async () => {
    const url = POSTGRES.url('');
    const s = await store(url);
    await s.ingest('one', [[event('a'), event('b')]]);
    await s.ingest('two', [[event('c'), event('d')]]);
    await s.ingest('three', [[event('e')]]);
    expect((await s.verify()).ok).toBe(true);
    await sql(url, `UPDATE event_log SET input_tokens = 5 WHERE id = 'c'`);
    expect((await s.verify()).firstBad).toMatchObject({ seq: 2, reason: /content hash mismatch/ });
    await sql(
      url,
      `UPDATE event_log SET input_tokens = 100 WHERE id = 'c'`,
      `DELETE FROM event_log WHERE id = 'e'`,
    );
    expect((await s.verify()).firstBad).toMatchObject({ seq: 3, reason: /count mismatch/ });
    await sql(
      url,
      `INSERT INTO event_log SELECT * FROM event_log WHERE id = 'a'`,
      `UPDATE event_log SET id = 'e' WHERE ctid = (SELECT max(ctid) FROM event_log WHERE id = 'a')`,
    );
    expect((await s.verify()).firstBad).toMatchObject({ seq: 1 });
  });

  it('refuses a NUL character with the event and field named, storing nothing', async () => {
    const s = await store(POSTGRES.url(''));
    await expect(s.ingest('nul', [[event('a'), event('b', { model: 'x\u0000y' })]])).rejects.toMatchObject({
      code: 'invalid_input',
      message: /gw\/b: field model contains a NUL/,
    });
    expect((await s.counters()).events).toBe(0);
  });

  it('hashes a batch in Node as it is staged only when its rows read back as given, each key once', async () => {
    const s = await store(POSTGRES.url(''));
    // Staged and hashed in Node; a lone surrogate is stored as U+FFFD (Node's UTF-8 hashes it so too); a key
    // twice keeps the last, so that batch is hashed by the database.
    await s.ingest('plain', [[event('a', { tenant: 'emoji 😀', units: { images: 2 } }), event('b')]]);
    await s.ingest('surrogate', [[event('c', { agent: 'x\ud800y' }), event('d')]]);
    await s.ingest('twice', [[event('e'), event('f'), event('e', { input_tokens: 7 })]]);
    const batches = await s.batches();
    expect(batches.map((b) => b.count)).toEqual([2, 2, 2]);
    expect(batches[0]?.contentSha256).toBe(
      contentHash([event('a', { tenant: 'emoji 😀', units: { images: 2 } }), event('b')]),
    );
    expect(batches[1]?.contentSha256).toBe(contentHash([event('c', { agent: 'x\ufffdy' }), event('d')]));
    expect(batches[2]?.contentSha256).toBe(contentHash([event('f'), event('e', { input_tokens: 7 })]));
    expect(await s.verify()).toMatchObject({ ok: true, batches: 3, events: 6 });
  });

  it('names the server it cannot reach, without the password', async () => {
    const err = await openStore('postgres://tally:secret@127.0.0.1:1/tally').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'store_failure' });
    expect(String((err as Error).message)).toContain('postgres://tally:***@127.0.0.1:1/tally');
    expect(String((err as Error).message)).not.toContain('secret');
  });

  it('refuses to read a database or schema that holds no store, naming it', async () => {
    const url = POSTGRES.url('');
    await expect(openStore(url, { mustExist: true })).rejects.toMatchObject({
      code: 'usage',
      message: /no tally store at postgres:.*schema=t_/,
    });
    const gone = inject('pgUrl').replace(/\/[^/]+$/, '/tally_no_such_db');
    await expect(openStore(gone, { mustExist: true })).rejects.toMatchObject({ code: 'usage' });
    await store(url);
    const again = await openStore(url, { mustExist: true });
    await again.close();
  });

  it('lives through a connection the server drops while a snapshot holds it', async () => {
    // A DBA's pg_terminate_backend, a failover or a proxy's cut between two of a snapshot's queries:
    // the client out of the pool hears the error; unheard, it would end the process.
    const url = POSTGRES.url('');
    const s = await store(url);
    await s.ingest('one', [[event('a')]]);
    await expect(
      s.snapshot(async (snap) => {
        const [cut] = await sql(
          url,
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND state = 'idle in transaction' AND query LIKE 'SELECT 1 FROM batches%'`,
        );
        expect(cut?.n).toBe(1);
        await new Promise((r) => setTimeout(r, 300));
        return snap.latestEventTime();
      }),
    ).rejects.toThrow();
    // The dropped client is let go; the store goes on with a new one.
    expect(await s.latestEventTime()).toBe(event('a').time);
  });

  it('uses the test database of this run', () => {
    expect(inject('pgUrl')).toMatch(/\/tally_test_[0-9a-z]+_[0-9a-f]{6}_\d+_[0-9a-f]{8}$/);
  });
});
