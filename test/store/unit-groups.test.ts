// `tally sampling` asks for every sampling unit apart (`allUnits`): an event
// without a trace is a unit of its own, so its usage group is that event
// alone. DuckDB writes such a group straight from the event's row instead of
// grouping it; both stores must give the group a grouping of that one event
// gives (`eventGroup`'s counts), and the traced events grouped per trace.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { eventGroup, type UsageGroup, type UsageQuery } from '../../src/core/usage.js';
import type { Store } from '../../src/store/store.js';
import { ADAPTERS, openFresh } from './adapters.js';
import { event } from './contract.js';

const NOW = Date.UTC(2026, 9, 15);
const QUERY: UsageQuery = {
  from: 0,
  to: NOW,
  boundaries: [],
  sharedTuples: [],
  payerTuples: [],
  byDay: false,
  allUnits: true,
};

/** Events without a trace, each unlike the others in some count, and two of one trace. */
const ALONE: UsageEvent[] = [
  event('a1', { api_key: 'k1', input_tokens: 1_000, output_tokens: 20, requests: 3 }),
  event('a2', { api_key: 'k1', input_tokens: 1_000, output_tokens: 20, requests: 3 }),
  event('a3', { api_key: 'k1', status: 'error', error_type: 'rate_limit', input_tokens: 0, requests: 1 }),
  event('a4', {
    service: 'svc',
    input_tokens: 4_000,
    cache_read_tokens: 1_000,
    cache_write_tokens: 500,
    cache_write_1h_tokens: 200,
    reasoning_tokens: 30,
    output_tokens: 90,
    requests: 0,
  }),
  event('a5', { service: 'svc', input_tokens: 7, adjusted_count: '4' }),
];
const TRACED: UsageEvent[] = [
  event('t1', { api_key: 'k1', input_tokens: 10, trace_id: 'tr', span_id: 's1' }),
  event('t2', { api_key: 'k1', input_tokens: 20, trace_id: 'tr', span_id: 's2' }),
];

const COUNTS = [
  'events',
  'requests',
  'tier_units',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'errors',
] as const satisfies readonly (keyof UsageGroup)[];

/** What a trace walk finds for an event without a trace: nothing. */
const ALONE_WALK = { shared: false, payer: null, tenant: null };

const countsOf = (g: Pick<UsageGroup, (typeof COUNTS)[number]>) => COUNTS.map((c) => g[c]);

describe.each(ADAPTERS)('$name store: the groups of every sampling unit', (adapter) => {
  let dir: string;
  let store: Store | null = null;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-units-'));
  });
  afterEach(async () => {
    await store?.close();
    store = null;
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each event without a trace its own group, its counts the event’s, and a trace one group', async () => {
    store = await openFresh(adapter, dir);
    await store.ingest('units', [[...ALONE, ...TRACED]]);
    const groups = await store.usageGroups(QUERY);
    const byUnit = new Map(groups.map((g) => [g.sample_unit, g]));
    expect(groups).toHaveLength(ALONE.length + 1);
    for (const e of ALONE) {
      const g = byUnit.get(`event:${e.source}:${e.id}`);
      expect(g, e.id).toBeDefined();
      expect(countsOf(g as UsageGroup)).toEqual(countsOf(eventGroup(e, ALONE_WALK)));
      expect(g?.time).toBe(e.time);
      expect(g?.cache_write_1h_tokens ?? 0).toBe(e.cache_write_1h_tokens ?? 0);
      expect(g?.adjusted_count ?? null).toBe(e.adjusted_count ?? null);
    }
    const trace = byUnit.get('trace:tr');
    expect(trace?.events).toBe(2);
    expect(trace?.input_tokens).toBe(30);
    // The same counts in all as the groups without units.
    const plain = await store.usageGroups({ ...QUERY, allUnits: false });
    const total = (gs: UsageGroup[]) => COUNTS.map((c) => gs.reduce((a, g) => a + g[c], 0));
    expect(total(groups)).toEqual(total(plain));
  });
});
