// Richer usage in the store (SPEC §3): stored, read back, hashed only where
// set, so that a store written before these fields existed still verifies.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { ingestFile } from '../../src/service/ingest.js';
import { MIGRATIONS } from '../../src/store/duckdb/schema.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { chainHash, contentHash, event } from './contract.js';

let dir: string;
let file: string;
let store: Store | null;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-rich-'));
  file = path.join(dir, 'tally.duckdb');
  store = null;
});
afterEach(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const NOW = Date.UTC(2026, 9, 15);
const rich = event('r1', {
  input_tokens: 3000,
  cache_write_tokens: 1500,
  cache_write_1h_tokens: 1000,
  input_audio_tokens: 300,
  output_tokens: 500,
  output_audio_tokens: 200,
  units: { web_search: 10 },
});

const jsonLine = (e: UsageEvent) => JSON.stringify({ ...e, time: new Date(e.time).toISOString() });

async function hashesOf(s: Store): Promise<string[]> {
  return (await s.batches()).map((b) => b.contentSha256);
}

describe('richer usage in the store', () => {
  it('stores, reads back and hashes the richer-usage fields', async () => {
    store = await openStore(file);
    await store.ingest('rich', [[rich, event('plain')]]);
    expect(await hashesOf(store)).toEqual([contentHash([rich, event('plain')])]);
    const all = await store.eventsInWindow({ from: 0, to: NOW });
    expect(all.find((e) => e.id === 'r1')).toEqual(rich);
    expect(all.find((e) => e.id === 'plain')).toEqual(event('plain'));
    const groups = await store.usageGroups({
      from: 0,
      to: NOW,
      boundaries: [],
      sharedTuples: [],
      payerTuples: [],
      byDay: false,
    });
    const g = groups.find((x) => x.units);
    expect(g).toMatchObject({
      cache_write_1h_tokens: 1000,
      input_audio_tokens: 300,
      output_audio_tokens: 200,
      units: { web_search: 10 },
    });
    expect((await store.verify()).ok).toBe(true);
  });

  it('sums the units of a group: its events’ units times their count', async () => {
    store = await openStore(file);
    const a = event('a', { units: { web_search: 2 } });
    await store.ingest('u', [[a, { ...a, id: 'b' }, { ...a, id: 'c', units: { web_search: 5 } }]]);
    const groups = await store.usageGroups({
      from: 0,
      to: NOW,
      boundaries: [],
      sharedTuples: [],
      payerTuples: [],
      byDay: false,
    });
    // 2 + 2 + 5 = 9 searches over the groups
    const searches = groups.reduce((n, g) => n + (g.units?.web_search ?? 0), 0);
    expect(searches).toBe(9);
  });

  it('a canonical file with units (parser path) and one with audio counts (bulk path) hash as the events do', async () => {
    store = await openStore(file);
    const withUnits = path.join(dir, 'units.jsonl');
    await writeFile(withUnits, `${jsonLine(rich)}\n`);
    const audio = event('a1', { input_tokens: 900, input_audio_tokens: 400 });
    const withAudio = path.join(dir, 'audio.jsonl');
    await writeFile(withAudio, `${jsonLine(audio)}\n`);
    const opts = { format: 'auto' as const, skipInvalid: false, now: NOW };
    expect(await ingestFile(store, withUnits, opts)).toMatchObject({ stored: 1 });
    expect(await ingestFile(store, withAudio, opts)).toMatchObject({ stored: 1 });
    expect(await hashesOf(store)).toEqual([contentHash([rich]), contentHash([audio])]);
  });

  it('reads units from a CSV cell of JSON text', async () => {
    store = await openStore(file);
    const csv = path.join(dir, 'units.csv');
    await writeFile(
      csv,
      'id,source,time,operation,model,input_tokens,cache_write_tokens,cache_write_1h_tokens,units\n' +
        'c1,gw,2026-10-01T12:00:00Z,chat,gpt-4o,100,40,30,"{""web_search"":3}"\n' +
        'c2,gw,2026-10-01T12:00:00Z,chat,gpt-4o,100,0,,\n',
    );
    expect(await ingestFile(store, csv, { format: 'auto', skipInvalid: false, now: NOW })).toMatchObject({
      stored: 2,
    });
    const all = await store.eventsInWindow({ from: 0, to: NOW });
    expect(all.find((e) => e.id === 'c1')).toMatchObject({
      cache_write_1h_tokens: 30,
      units: { web_search: 3 },
    });
    expect(all.find((e) => e.id === 'c2')?.units).toBeUndefined();
  });

  it('refuses a part larger than its total, on the bulk path and in the parser', async () => {
    store = await openStore(file);
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, `${jsonLine(event('x', { input_tokens: 10, input_audio_tokens: 11 }))}\n`);
    await expect(store.ingestCanonicalFile?.(bad, 'jsonl', { label: 'bad', now: NOW })).rejects.toThrow(
      /not a valid canonical jsonl/,
    );
    await expect(ingestFile(store, bad, { format: 'auto', skipInvalid: false, now: NOW })).rejects.toThrow(
      /input_audio_tokens: is a part of input_tokens and must not exceed it \(11 > 10\)/,
    );
    expect((await store.counters()).events).toBe(0);
  });
});

describe('a store written before richer usage and restated buckets', () => {
  /** A store as the previous release wrote it: the first three migrations, one batch. */
  async function oldStore(events: UsageEvent[]): Promise<void> {
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    try {
      await conn.run(
        `CREATE TABLE schema_migrations (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)`,
      );
      for (let v = 1; v <= 3; v++) {
        await conn.run(MIGRATIONS[v - 1] as string);
        await conn.run(`INSERT INTO schema_migrations VALUES (${v}, now()::TIMESTAMP)`);
      }
      for (const e of events) {
        const q = (v: string | null) => (v === null ? 'NULL' : `'${v}'`);
        await conn.run(`INSERT INTO events (id, source, time, provider, model, operation, input_tokens,
          output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, requests, status, batch_seq)
          VALUES (${q(e.id)}, ${q(e.source)}, epoch_ms(${e.time}::BIGINT), ${q(e.provider)}, ${q(e.model)},
          ${q(e.operation)}, ${e.input_tokens}, ${e.output_tokens}, 0, 0, 0, ${e.requests}, 'ok', 1)`);
      }
      const content = contentHash(events);
      await conn.run(`INSERT INTO batches VALUES (1, 'old', ${events.length}, '${content}',
        '${chainHash('0'.repeat(64), 1, events.length, content)}', now()::TIMESTAMP)`);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }

  it('still verifies after the migration, and takes a new version of one of its events', async () => {
    await oldStore([event('o1'), event('o2')]);
    store = await openStore(file);
    expect(await store.verify()).toMatchObject({ ok: true, batches: 1, events: 2 });
    const r = await store.ingest('new', [[event('o1', { input_tokens: 700 }), event('o2')]]);
    expect(r).toEqual({ batch: 2, stored: 1, duplicates: 1, superseded: 1 });
    expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 3 });
    const groups = await store.usageGroups({
      from: 0,
      to: NOW,
      boundaries: [],
      sharedTuples: [],
      payerTuples: [],
      byDay: false,
    });
    // 700 (o1, the new version) + 100 (o2)
    expect(groups.reduce((n, g) => n + g.input_tokens, 0)).toBe(800);
  });

  /** A usage report restated once (its first version superseded), then `sql` run on the closed store's file. */
  async function restatedThenTampered(sql: string): Promise<Store> {
    const restated = await openStore(file);
    await restated.ingest('a', [[event('e1', { source: 'openai-usage' })]]);
    await restated.ingest('b', [[event('e1', { source: 'openai-usage', input_tokens: 5 })]]);
    expect((await restated.verify()).ok).toBe(true);
    await restated.close();
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    await conn.run(sql);
    conn.closeSync();
    db.closeSync();
    store = await openStore(file);
    return store;
  }

  it('verify finds a superseded marker that names no logged version', async () => {
    const tampered = await restatedThenTampered(`UPDATE superseded SET id = 'e-forged'`);
    expect((await tampered.verify()).firstBad).toEqual({
      seq: 2,
      reason: 'a superseded marker names no version the log replaced',
    });
  });

  it('verify finds a removed superseded marker (two live versions)', async () => {
    const tampered = await restatedThenTampered('DELETE FROM superseded');
    expect((await tampered.verify()).firstBad).toEqual({
      seq: 2,
      reason: 'an event has two live versions (a superseded marker was removed)',
    });
  });
});
