/**
 * Group commit (src/server/writer.ts): requests that arrive while the store
 * commits are stored together, each answered with its own outcome.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupWriter } from '../../src/server/writer.js';
import { CommitTimes } from '../../src/store/commit-times.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import { event } from '../store/contract.js';

describe('GroupWriter', () => {
  let dir: string;
  let store: DuckDBStore;
  let writer: GroupWriter;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-group-'));
    store = await DuckDBStore.open(path.join(dir, 'tally.duckdb'));
    writer = new GroupWriter(store);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  // The first write commits at once; the next ones wait for it and are grouped.
  it('stores the requests that wait for a commit in one commit, answering each after it', async () => {
    const [first, second, third] = await Promise.all([
      writer.write('events:http', [event('a')]),
      writer.write('events:http', [event('b'), event('c')]),
      writer.write('events:http', [event('d')]),
    ]);
    expect(first).toEqual({ batch: 1, stored: 1, duplicates: 0, superseded: 0, requests: 1 });
    expect(second).toEqual({ batch: 2, stored: 3, duplicates: 0, superseded: 0, requests: 2 });
    expect(third).toEqual(second);
    expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 4 });
  });

  it('tells the metrics one duration per commit, not per request', async () => {
    const times = new CommitTimes();
    const timed = new GroupWriter(store, times);
    await Promise.all([
      timed.write('events:http', [event('a')]),
      timed.write('events:http', [event('b')]),
      timed.write('events:http', [event('c')]),
    ]);
    const lines = times.lines('t');
    expect(lines).toContain('t_count 2');
    expect(lines).toContain('t_bucket{le="+Inf"} 2');
  });

  it('still finds duplicates and versions across the requests of one group', async () => {
    const [, second, third] = await Promise.all([
      writer.write('events:http', [event('a')]),
      writer.write('events:http', [event('b'), event('c')]),
      writer.write('events:http', [event('b'), event('c', { input_tokens: 7 }), event('a')]),
    ]);
    // b twice alike: a duplicate; c changed: the later request's version; a stored by the first commit.
    expect(second).toEqual({ batch: 2, stored: 2, duplicates: 2, superseded: 1, requests: 2 });
    expect(third).toEqual(second);
    expect(await store.counters()).toMatchObject({ events: 3, duplicates: 2, superseded: 1, batches: 2 });
    expect(await store.verify()).toMatchObject({ ok: true });
  });

  it('does not refuse the other requests of a group when the store refuses one', async () => {
    // A token count that is not a whole number gets past no parser; the store refuses it.
    const [first, refused, after] = await Promise.allSettled([
      writer.write('events:http', [event('a')]),
      writer.write('events:http', [event('b'), event('c', { input_tokens: 1.5 })]),
      writer.write('events:http', [event('d')]),
    ]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { batch: 1, stored: 1 } });
    expect(refused.status).toBe('rejected');
    expect(after).toEqual({
      status: 'fulfilled',
      value: { batch: 2, stored: 1, duplicates: 0, superseded: 0, requests: 1 },
    });
    expect(await store.counters()).toMatchObject({ events: 2, batches: 2 });
    expect(await store.verify()).toMatchObject({ ok: true });
  });

  // Once a commit has read the log's columns, each request's rows are written as it is queued.
  it('writes the rows of requests ahead of their commit, and a request the store refuses still fails alone', async () => {
    await writer.write('events:http', [event('a')]);
    const ahead = [event('b'), event('c', { tenant: 'acme' })];
    expect(store.prepareIngest([event('z')])).toBe(true);
    const [stored, refused, after] = await Promise.allSettled([
      writer.write('events:http', ahead),
      writer.write('events:http', [event('d'), event('e', { input_tokens: 1.5 })]),
      writer.write('events:http', [event('f'), event('a')]),
    ]);
    expect(stored).toMatchObject({ status: 'fulfilled', value: { batch: 2, stored: 2 } });
    expect(refused).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/1.5 cannot be converted/) },
    });
    expect(after).toEqual({
      status: 'fulfilled',
      value: { batch: 3, stored: 1, duplicates: 1, superseded: 0, requests: 1 },
    });
    expect(await store.counters()).toMatchObject({ events: 4, duplicates: 1, batches: 3 });
    expect(await store.verify()).toMatchObject({ ok: true });
    expect(await store.eventsById('c', null)).toMatchObject([{ tenant: 'acme' }]);
  });
});
