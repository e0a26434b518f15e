// The trace walk kept in the store between reads (src/store/duckdb/walk-memo.ts):
// a read of the same query on an unchanged store recalls it and gives the same
// groups; a stored batch, other shared or paying tuples, or a memo whose rows
// do not match its check give a walk computed afresh, equal to the groups of a
// store that never kept one.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGGREGATE_OPERATIONS, type UsageEvent } from '../../src/core/event.js';
import type { SignalFacts, SignalQuery } from '../../src/core/signals/facts.js';
import type { UsageGroup, UsageQuery } from '../../src/core/usage.js';
import { PROBE_ERRORS } from '../../src/service/signals.js';
import type { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { event, tuple } from './contract.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-walk-memo-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PAYER = tuple({ api_key: 'payer' });
const OTHER_PAYER = tuple({ api_key: 'other' });
const SHARED = tuple({ service: 'shared-svc' });
const QUERY: UsageQuery = {
  from: 0,
  to: Date.UTC(2030, 0, 1),
  boundaries: [],
  sharedTuples: [SHARED],
  payerTuples: [PAYER, OTHER_PAYER],
  byDay: false,
};

/** A payer's root with a tenant, a shared child and grandchild; a shared span whose parent comes later. */
const FIRST: UsageEvent[] = [
  event('root', { ...PAYER, trace_id: 't1', span_id: 's1', tenant: 'tn', input_tokens: 1 }),
  event('child', { ...SHARED, trace_id: 't1', span_id: 's2', parent_span_id: 's1', input_tokens: 2 }),
  event('grandchild', {
    ...SHARED,
    trace_id: 't1',
    span_id: 's3',
    parent_span_id: 's2',
    input_tokens: 3,
    model: 'gpt-4o-mini',
  }),
  event('orphan', { ...SHARED, trace_id: 't2', span_id: 'o2', parent_span_id: 'o1', input_tokens: 4 }),
];
/** The orphan's parent: another payer, another tenant. */
const LATER: UsageEvent[] = [
  event('late-root', { ...OTHER_PAYER, trace_id: 't2', span_id: 'o1', tenant: 'tn2', input_tokens: 5 }),
];

const sorted = (gs: UsageGroup[]) => [...gs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** The groups of `q` read in a snapshot (where the walk is kept and recalled). */
async function groups(store: Store, q: UsageQuery = QUERY): Promise<UsageGroup[]> {
  const read = sorted(await store.snapshot((s) => s.usageGroups(q)));
  // The walk is kept after the answer, in the background.
  await (store as DuckDBStore).readsEnded();
  return read;
}

/** What `read` gives on a store of `batches` that keeps nothing: everything computed afresh. */
async function onFresh<T>(batches: UsageEvent[][], read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(path.join(dir, `fresh-${Math.random()}.duckdb`), { steadyWriter: true });
  try {
    for (const [i, b] of batches.entries()) await store.ingest(`b${i}`, [b]);
    return await read(store);
  } finally {
    await store.close();
  }
}

/** The groups of `q` with the walk computed afresh. */
const fresh = (batches: UsageEvent[][], q: UsageQuery = QUERY) => onFresh(batches, (s) => groups(s, q));

const counts = (store: Store) => (store as DuckDBStore).walkMemo();

async function storeOf(batches: UsageEvent[][]): Promise<{ store: Store; file: string }> {
  const file = path.join(dir, 'tally.duckdb');
  const store = await openStore(file);
  for (const [i, b] of batches.entries()) await store.ingest(`b${i}`, [b]);
  return { store, file };
}

describe('the trace walk kept between reads', () => {
  it('is recalled by the next read of the same query, with the same groups', async () => {
    const { store } = await storeOf([FIRST]);
    try {
      const first = await groups(store);
      expect(counts(store)).toEqual({ kept: 1, recalled: 0 });
      const again = await groups(store);
      expect(counts(store)).toEqual({ kept: 1, recalled: 1 });
      expect(again).toEqual(first);
      expect(first).toEqual(await fresh([FIRST]));
      // The shared child and grandchild roll up to the payer, with its tenant.
      const child = first.find((g) => g.own.service === 'shared-svc' && g.input_tokens === 2);
      expect(child?.payer).toEqual(PAYER);
      expect(child?.tenant).toBe('tn');
    } finally {
      await store.close();
    }
  });

  it('is recalled by another process opening the same file', async () => {
    const { store, file } = await storeOf([FIRST]);
    const first = await groups(store);
    await store.close();
    const reopened = await openStore(file);
    try {
      expect(await groups(reopened)).toEqual(first);
      expect(counts(reopened)).toEqual({ kept: 0, recalled: 1 });
    } finally {
      await reopened.close();
    }
  });

  it('is walked afresh once a batch is stored, which can give a span its payer and tenant', async () => {
    const { store } = await storeOf([FIRST]);
    try {
      const before = await groups(store);
      expect(before.find((g) => g.input_tokens === 4)?.rollup).toBe('self');
      await store.ingest('later', [LATER]);
      const after = await groups(store);
      expect(counts(store)).toEqual({ kept: 2, recalled: 0 });
      expect(after).toEqual(await fresh([FIRST, LATER]));
      const orphan = after.find((g) => g.input_tokens === 4);
      expect(orphan?.payer).toEqual(OTHER_PAYER);
      expect(orphan?.tenant).toBe('tn2');
    } finally {
      await store.close();
    }
  });

  it('is walked afresh for other shared or paying tuples, and for another window', async () => {
    const { store } = await storeOf([FIRST, LATER]);
    try {
      await groups(store);
      const noShared = { ...QUERY, sharedTuples: [] };
      expect(await groups(store, noShared)).toEqual(await fresh([FIRST, LATER], noShared));
      const onePayer = { ...QUERY, payerTuples: [OTHER_PAYER] };
      expect(await groups(store, onePayer)).toEqual(await fresh([FIRST, LATER], onePayer));
      const later = { ...QUERY, from: Date.UTC(2029, 0, 1) };
      expect(await groups(store, later)).toEqual(await fresh([FIRST, LATER], later));
      expect(counts(store)).toEqual({ kept: 4, recalled: 0 });
      // The tuples in another order are the same walk.
      const reordered = { ...QUERY, payerTuples: [...QUERY.payerTuples].reverse() };
      await groups(store, later);
      expect(await groups(store, reordered)).toEqual(await fresh([FIRST, LATER]));
      await groups(store, reordered);
      expect(counts(store).recalled).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('is walked afresh when its rows no longer match their check', async () => {
    const { store, file } = await storeOf([FIRST]);
    const first = await groups(store);
    await store.close();
    const instance = await DuckDBInstance.create(file);
    const conn = await instance.connect();
    await conn.run(`UPDATE tally_memo_walk SET tenant_found = 'forged' WHERE tenant_found = 'tn'`);
    conn.closeSync();
    instance.closeSync();
    const reopened = await openStore(file);
    try {
      expect(await groups(reopened)).toEqual(first);
      expect(counts(reopened)).toEqual({ kept: 1, recalled: 0 });
    } finally {
      await reopened.close();
    }
  });

  it('is kept by one of two snapshots reading at once, and both read right', async () => {
    const { store } = await storeOf([FIRST, LATER]);
    try {
      const [a, b] = await Promise.all([
        store.snapshot((s) => s.usageGroups(QUERY)).then(sorted),
        store.snapshot((s) => s.usageGroups(QUERY)).then(sorted),
      ]);
      await (store as DuckDBStore).readsEnded();
      expect(a).toEqual(b);
      expect(a).toEqual(await fresh([FIRST, LATER]));
      expect(counts(store).kept).toBe(1);
      expect(await groups(store)).toEqual(a);
      expect(counts(store).recalled).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('is kept only by the one store of the process open on the file', async () => {
    const { store, file } = await storeOf([FIRST]);
    const second = await openStore(file);
    try {
      // Two DuckDB instances on one file in one process: one's writes beside the other's corrupt its log.
      expect(await groups(store)).toEqual(await groups(second));
      expect(counts(store).kept + counts(second).kept).toBe(0);
    } finally {
      await second.close();
    }
    try {
      await groups(store);
      expect(counts(store).kept).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('is not kept by a process that commits all the time (the server)', async () => {
    const file = path.join(dir, 'served.duckdb');
    const store = await openStore(file, { steadyWriter: true });
    try {
      await store.ingest('b', [FIRST]);
      await groups(store);
      await groups(store);
      expect(counts(store)).toEqual({ kept: 0, recalled: 0 });
    } finally {
      await store.close();
    }
    const instance = await DuckDBInstance.create(file);
    const conn = await instance.connect();
    const tables = (
      await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'tally_memo%'`)
    ).getRows();
    conn.closeSync();
    instance.closeSync();
    expect(tables).toEqual([]);
  });

  it("keeps the signals' keys too: recalled by the same query, computed afresh after a batch", async () => {
    const { store } = await storeOf([FIRST]);
    try {
      const first = norm(await store.signalFacts(SIGNALS));
      expect(counts(store)).toEqual({ kept: 1, recalled: 0 });
      // The same rates in another order are the same query.
      const reversed = {
        ...SIGNALS,
        price: (pairs: Parameters<SignalQuery['price']>[0]) => SIGNALS.price(pairs).reverse(),
      };
      expect(norm(await store.signalFacts(reversed))).toEqual(first);
      expect(counts(store)).toEqual({ kept: 1, recalled: 1 });
      await store.ingest('later', [LATER]);
      const after = norm(await store.signalFacts(SIGNALS));
      expect(counts(store)).toEqual({ kept: 2, recalled: 1 });
      expect(after).toEqual(await freshFacts([FIRST, LATER]));
      expect(after).not.toEqual(first);
      // Other rates are another query: computed afresh.
      const cheaper = { ...SIGNALS, price: priced(1n) };
      expect(norm(await store.signalFacts(cheaper))).toEqual(await freshFacts([FIRST, LATER], cheaper));
      expect(counts(store).recalled).toBe(1);
    } finally {
      await store.close();
    }
  });
});

const DAY = 86_400_000;
const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
const priced =
  (cents: bigint): SignalQuery['price'] =>
  (pairs) =>
    pairs.map((p) => ({
      ...p,
      from: -1e15,
      until: 1e15,
      input: cents * 10_000_000_000n,
      output: cents * 30_000_000_000n,
      cacheRead: 0n,
      cacheWrite: 0n,
      reasoning: 0n,
    }));
/** Every tuple one identity's, a flat rate, thresholds that any hour passes. */
const SIGNALS: SignalQuery = {
  start: OCT.start,
  end: OCT.end,
  historyStart: OCT.start - 35 * DAY,
  baselineWeeks: 1,
  baselineDays: 7,
  identify: (tuples) => tuples.map((tuple) => ({ tuple, identity: `id-${tuple.api_key ?? tuple.service}` })),
  price: priced(50n),
  units: [],
  aggregateOperations: [...AGGREGATE_OPERATIONS],
  probeErrors: PROBE_ERRORS,
  prefilter: {
    spikeFloor: 0n,
    offHoursMinEvents: 1,
    errorBurstMin: 1,
    addressBurstMin: 1,
    shapeMinRequests: 1,
    shapeMinLogDistance: 0,
  },
};

/** Facts with each list in one order (the store's are in none). */
function norm(facts: SignalFacts): Record<string, unknown> {
  const text = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
  return Object.fromEntries(
    Object.entries(facts).map(([k, v]) => [
      k,
      Array.isArray(v) ? [...v].sort((a, b) => (text(a) < text(b) ? -1 : 1)) : v,
    ]),
  );
}

/** The signal facts of `q` with the keys computed afresh. */
const freshFacts = (batches: UsageEvent[][], q: SignalQuery = SIGNALS) =>
  onFresh(batches, async (s) => norm(await s.signalFacts(q)));
