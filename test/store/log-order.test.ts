// The DuckDB log's row order (src/store/duckdb/schema.ts LOG_ROW_ORDER): a file's
// batch is written by day, then by its selectors (api_key, service, agent,
// project, nulls last), whatever the order of the file's lines, so that an
// identity's events lie together within each day; the batch's content hash does
// not depend on it. A batch appended straight to the log keeps its own order.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/core/budgets.js';
import { SELECTOR_FIELDS } from '../../src/core/config.js';
import type { UsageEvent } from '../../src/core/event.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { bulk, contentHash, event, jsonLine } from './contract.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-log-order-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Key = [number, ...(string | null)[]];

/** 60 events over three days and five selector shapes (nulls included), in a scrambled order. */
function scrambled(): UsageEvent[] {
  const shapes: Partial<UsageEvent>[] = [
    { api_key: 'k-b' },
    { api_key: 'k-a', service: 'svc' },
    { service: 'svc', agent: 'planner' },
    { agent: 'planner', project: 'p1' },
    { api_key: 'k-a' },
  ];
  // Days and shapes taken by strides, so the events' order is none of the log's.
  return Array.from({ length: 60 }, (_, i) =>
    event(`e${String(i).padStart(2, '0')}`, {
      ...shapes[(i * 7) % shapes.length],
      time: Date.UTC(2026, 9, 1 + ((i * 11) % 3), (i * 5) % 24, i % 60),
    }),
  );
}

const keyOf = (e: Pick<UsageEvent, 'time' | (typeof SELECTOR_FIELDS)[number]>): Key => [
  Math.floor(e.time / DAY_MS),
  ...SELECTOR_FIELDS.map((f) => e[f]),
];

/** Ascending, nulls last: DuckDB's default order. */
function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The log's rows as keys, in the order they were written (row id). */
async function logKeys(file: string): Promise<Key[]> {
  const instance = await DuckDBInstance.create(file);
  const conn = await instance.connect();
  try {
    const rows = (
      await conn.runAndReadAll(
        `SELECT epoch_ms(time)::DOUBLE AS time, ${SELECTOR_FIELDS.join(', ')} FROM event_log ORDER BY rowid`,
      )
    ).getRowObjectsJS();
    return rows.map((r) => keyOf(r as unknown as UsageEvent));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const inLogOrder = (events: readonly UsageEvent[]) => events.map(keyOf).sort(compareKeys);

/** `events` written to a JSON lines file and loaded by the bulk path. */
async function ingestFile(store: Store, events: readonly UsageEvent[]) {
  const file = path.join(dir, 'events.jsonl');
  await writeFile(file, `${events.map(jsonLine).join('\n')}\n`);
  return bulk(store)(file, 'jsonl', { label: 'file', now: Date.UTC(2026, 10, 1) });
}

/** A batch's content hashed as DuckDB writes its rows, or (past the hasher's limit) from its stored rows. */
const HASHINGS = [
  ['hashed as it is written', {}],
  ['hashed from its stored rows', { hashTextsMax: 0 }],
] as const;

describe('the DuckDB log row order', () => {
  it('writes a JSON lines file by day and selectors, with the content hash of its events', async () => {
    const events = scrambled();
    expect(events.map(keyOf)).not.toEqual(inLogOrder(events));
    const storePath = path.join(dir, 'bulk.duckdb');
    const store = await openStore(storePath);
    try {
      expect((await ingestFile(store, events)).stored).toBe(60);
      expect((await store.batches())[0]?.contentSha256).toBe(contentHash(events));
    } finally {
      await store.close();
    }
    expect(await logKeys(storePath)).toEqual(inLogOrder(events));
  });

  it("keeps a file's last record of a repeated key, though the log's order puts it first", async () => {
    const first = event('repeated', { api_key: 'k-b', time: Date.UTC(2026, 9, 2, 9), input_tokens: 1 });
    const last = event('repeated', { api_key: 'k-a', time: Date.UTC(2026, 9, 1, 9), input_tokens: 2 });
    const again = event('twice', { api_key: 'k-c', time: Date.UTC(2026, 9, 3, 9) });
    const store = await openStore(path.join(dir, 'repeats.duckdb'));
    try {
      const r = await ingestFile(store, [first, again, ...scrambled(), again, last]);
      expect(r).toMatchObject({ stored: 62, duplicates: 1, superseded: 1 });
      const kept = await store.eventsPage({ from: 0, to: Date.UTC(2027, 0, 1), limit: 100 });
      expect(kept.filter((e) => e.id === 'repeated')).toEqual([last]);
      expect(kept.filter((e) => e.id === 'twice')).toHaveLength(1);
      const stored = [...scrambled(), again, last];
      expect((await store.batches())[0]?.contentSha256).toBe(contentHash(stored));
    } finally {
      await store.close();
    }
  });

  it('refuses a file whose repeated key reads otherwise the second time, naming it, and stores nothing', async () => {
    const first = event('repeated', { api_key: 'k-b', time: Date.UTC(2026, 9, 2, 9), input_tokens: 1 });
    const last = event('repeated', { api_key: 'k-a', time: Date.UTC(2026, 9, 1, 9), input_tokens: 2 });
    const file = path.join(dir, 'events.jsonl');
    const lines = (last: UsageEvent) => `${[first, ...scrambled(), last].map(jsonLine).join('\n')}\n`;
    await writeFile(file, lines(last));
    const store = await DuckDBStore.open(path.join(dir, 'changed.duckdb'));
    // The file really changes between the insert and the second read that finds each repeated
    // key's last record: the last record of `repeated` then matches no row the insert wrote.
    const conn = (store as unknown as { conn: DuckDBConnection }).conn;
    const run = conn.run.bind(conn);
    let changed = false;
    conn.run = async (sql, values) => {
      if (!changed && sql.includes('TEMP TABLE tally_kept')) {
        changed = true;
        await writeFile(file, lines({ ...last, input_tokens: 3 }));
      }
      return run(sql, values);
    };
    try {
      const load = bulk(store)(file, 'jsonl', { label: 'file', now: Date.UTC(2026, 10, 1) });
      await expect(load).rejects.toThrow(
        `${file} is not a valid canonical jsonl file (the last record of 1 repeated id(s) was not found when the input was read again: was it changed while it was loaded?)`,
      );
      await expect(load).rejects.toMatchObject({ code: 'invalid_input' });
      expect(changed).toBe(true);
      expect(await store.batches()).toEqual([]);
      expect(await store.eventsPage({ from: 0, to: Date.UTC(2027, 0, 1), limit: 100 })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.each(HASHINGS)(
    'keeps the last of three records of a key when two are the same (%s)',
    async (_, opts) => {
      const v1 = event('thrice', { api_key: 'k-a', time: Date.UTC(2026, 9, 1, 9), input_tokens: 1 });
      const v2 = event('thrice', { api_key: 'k-a', time: Date.UTC(2026, 9, 3, 9), input_tokens: 2 });
      const store = await DuckDBStore.open(path.join(dir, 'thrice.duckdb'), opts);
      try {
        const r = await ingestFile(store, [v1, ...scrambled(), v2, v1]);
        expect(r).toMatchObject({ stored: 61, duplicates: 1, superseded: 1 });
        const kept = await store.eventsPage({ from: 0, to: Date.UTC(2027, 0, 1), limit: 100 });
        expect(kept.filter((e) => e.id === 'thrice')).toEqual([v1]);
        expect((await store.batches())[0]?.contentSha256).toBe(contentHash([...scrambled(), v1]));
        expect(await store.verify()).toMatchObject({ ok: true, events: 61 });
      } finally {
        await store.close();
      }
    },
  );

  it.each(HASHINGS)(
    'stores a second file that repeats an event of the first and corrects another (%s)',
    async (_, opts) => {
      const first = scrambled();
      const same = first[3] as UsageEvent;
      const corrected = { ...(first[8] as UsageEvent), input_tokens: 999 };
      const fresh = scrambled().map((e) => ({ ...e, id: `next-${e.id}` }));
      const store = await DuckDBStore.open(path.join(dir, 'overlap.duckdb'), opts);
      try {
        await ingestFile(store, first);
        const r = await ingestFile(store, [...fresh.slice(0, 30), same, corrected, ...fresh.slice(30)]);
        expect(r).toMatchObject({ stored: 61, duplicates: 1, superseded: 1 });
        expect((await store.batches())[1]?.contentSha256).toBe(contentHash([...fresh, corrected]));
        expect(await store.verify()).toMatchObject({ ok: true, batches: 2 });
      } finally {
        await store.close();
      }
    },
  );

  it('writes a staged batch (chunks from an iterable) in the same order', async () => {
    const events = scrambled();
    const storePath = path.join(dir, 'staged.duckdb');
    const store = await openStore(storePath);
    try {
      async function* chunks() {
        yield events.slice(0, 25);
        yield events.slice(25);
      }
      expect((await store.ingest('staged', chunks())).stored).toBe(60);
      expect((await store.batches())[0]?.contentSha256).toBe(contentHash(events));
    } finally {
      await store.close();
    }
    expect(await logKeys(storePath)).toEqual(inLogOrder(events));
  });

  it("keeps a batch appended straight to the log (a server's request) in its own order", async () => {
    const events = scrambled();
    const storePath = path.join(dir, 'direct.duckdb');
    const store = await openStore(storePath);
    try {
      expect((await store.ingest('request', [events])).stored).toBe(60);
    } finally {
      await store.close();
    }
    expect(await logKeys(storePath)).toEqual(events.map(keyOf));
  });
});
