// The drill-down's store filters (EventsPageQuery match, tenant, provider,
// model) select the same events on every adapter: a superset that
// attribution then narrows, so each must keep every event that could match.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyEvent, type TraceLink, type UsageEvent } from '../../src/core/event.js';
import type { EventsPageQuery, Store } from '../../src/store/store.js';
import { ADAPTERS, type Adapter, openFresh } from './adapters.js';
import { link as contractLink } from './contract.js';

const T = Date.UTC(2026, 9, 10);
const HASH = 'ab'.repeat(32);

function ev(id: string, over: Partial<UsageEvent>): UsageEvent {
  return { ...emptyEvent(id, 'test', T + Number(id.slice(1)) * 1000), provider: 'p', model: 'm', ...over };
}

const EVENTS: UsageEvent[] = [
  ev('e1', { service: 'svc-a', tenant: 't1' }),
  ev('e2', { service: 'svc-a', tenant: 't2' }),
  ev('e3', { service: 'svc-b', tenant: 't1', model: 'other' }),
  ev('e4', { api_key: HASH, tenant: null, provider: null }),
  // a shared agent's spans: one invoked from svc-a's trace, one from svc-b's
  ev('e5', { service: 'svc-a', trace_id: 'tr1', span_id: 's1' }),
  ev('e6', { service: 'agents', trace_id: 'tr1', span_id: 's2', parent_span_id: 's1' }),
  ev('e7', { service: 'svc-b', trace_id: 'tr2', span_id: 's3', tenant: 't1' }),
  ev('e8', { service: 'agents', trace_id: 'tr2', span_id: 's4', parent_span_id: 's3' }),
  // 16 hex digits stored as they came (a provider's key id, not a hash): a selector of the same text matches it
  ev('e9', { api_key: '0123456789abcdef' }),
  ev('e10', { api_key: 'cd'.repeat(32) }),
];

/** A fresh store of the adapter in a temporary folder, and how to close and remove both. */
async function freshStore(adapter: Adapter): Promise<{ store: Store; close: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-page-'));
  const store = await openFresh(adapter, dir);
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.each(ADAPTERS)('$name store: eventsPage filters', (adapter) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await freshStore(adapter));
    await store.ingest('test', [EVENTS]);
  });
  afterAll(() => close());

  const ids = async (q: Partial<EventsPageQuery>) =>
    (await store.eventsPage({ from: T, to: T + 86_400_000, limit: 100, ...q })).map((e) => e.id).sort();

  it('selects by selectors, with shared work only in a trace of an own selector', async () => {
    expect(await ids({ match: { own: [{ service: 'svc-a' }], shared: [] } })).toEqual(['e1', 'e2', 'e5']);
    expect(await ids({ match: { own: [{ service: 'svc-a' }], shared: [{ service: 'agents' }] } })).toEqual([
      'e1',
      'e2',
      'e5',
      'e6',
    ]);
    expect(await ids({ match: { own: [{ api_key: HASH.slice(0, 16) }], shared: [] } })).toEqual(['e4']);
    expect(await ids({ match: { own: [], shared: [{ service: 'agents' }] } })).toEqual([]);
  });

  it('matches key hashes whole, by a prefix of 16 to 63 digits, or a same-text value, many at once', async () => {
    const keys = (...api_keys: string[]) =>
      ids({ match: { own: api_keys.map((api_key) => ({ api_key })), shared: [] } });
    expect(await keys(HASH)).toEqual(['e4']);
    expect(await keys(HASH.slice(0, 20), 'cd'.repeat(10))).toEqual(['e10', 'e4']);
    expect(await keys('0123456789abcdef')).toEqual(['e9']);
    expect(await keys('0123456789abcde', 'ab'.repeat(7))).toEqual([]);
    // a prefix whose first 16 digits are another key's: only the whole prefix decides
    expect(await keys(`${'ab'.repeat(8)}ff`, 'cd'.repeat(8))).toEqual(['e10']);
    // key selectors beside a selector of another field
    const own = [{ api_key: HASH }, { api_key: 'cd'.repeat(8) }, { service: 'svc-b' }];
    expect(await ids({ match: { own, shared: [] } })).toEqual(['e10', 'e3', 'e4', 'e7']);
  });

  it('selects a tenant with the events that may inherit it in their trace, and provider and model as stored', async () => {
    // e8 may inherit t1 from e7 in its trace; e5 and e6 are in a trace where no span claims it
    expect(await ids({ tenant: 't1' })).toEqual(['e1', 'e3', 'e7', 'e8']);
    // no trace claims t2: its claiming events alone
    expect(await ids({ tenant: 't2' })).toEqual(['e2']);
    expect(await ids({ tenant: 't2', match: { own: [{ service: 'svc-a' }], shared: [] } })).toEqual(['e2']);
    expect(await ids({ tenant: 't2', match: { own: [{ service: 'svc-b' }], shared: [] } })).toEqual([]);
    expect(await ids({ provider: null })).toEqual(['e4']);
    expect(await ids({ model: 'other', provider: 'p' })).toEqual(['e3']);
  });
});

const link = (trace_id: string, span_id: string, over: Partial<TraceLink>): TraceLink =>
  contractLink(span_id, { trace_id, ...over });

// A tenant's events found in steps (the DuckDB store reads the log by row id):
// claims by events and by trace links, a span claiming another tenant inside
// a claimed trace, and a claim that a later version of its event withdrew.
const TRACED: UsageEvent[] = [
  ev('e21', { service: 'svc-a', trace_id: 'tr3', span_id: 's5', tenant: 't1' }),
  ev('e22', { service: 'agents', trace_id: 'tr3', span_id: 's6', parent_span_id: 's5', tenant: 't2' }),
  ev('e23', { service: 'agents', trace_id: 'tr3', span_id: 's7', parent_span_id: 's6' }),
  ev('e24', { service: 'svc-b', trace_id: 'tr4', span_id: 's8' }),
  ev('e25', { service: 'agents', trace_id: 'tr4', span_id: 's9', parent_span_id: 's8' }),
  ev('e26', { service: 'svc-b', tenant: 't1', model: 'other' }),
  ev('e27', { source: 'openai-usage', service: 'svc-b', trace_id: 'tr5', span_id: 's10', tenant: 't3' }),
  ev('e28', { service: 'agents', trace_id: 'tr5', span_id: 's11', parent_span_id: 's10' }),
  ev('e29', { service: 'agents', trace_id: 'tr6', span_id: 's13', parent_span_id: 's12' }),
  ev('e30', { service: 'agents', trace_id: 'tr7', span_id: 's15', parent_span_id: 's14' }),
  ev('e31', { api_key: null, tenant: 't1', trace_id: 'tr8', span_id: 's16' }),
];
const LINKS = [
  link('tr6', 's12', { service: 'gateway', tenant: 't4' }),
  link('tr7', 's14', { service: 'svc-c', tenant: 't5' }),
];

describe.each(ADAPTERS)('$name store: eventsPage with a tenant', (adapter) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await freshStore(adapter));
    await store.ingest('test', [{ events: TRACED, links: LINKS }]);
    // e27's later version claims no tenant: its trace is no longer the tenant's
    const later = ev('e27', { source: 'openai-usage', service: 'svc-b', trace_id: 'tr5', span_id: 's10' });
    expect(await store.ingest('restated', [[{ ...later, input_tokens: 5 }]])).toMatchObject({
      superseded: 1,
    });
  });
  afterAll(() => close());

  const page = (q: Partial<EventsPageQuery>) =>
    store.eventsPage({ from: T, to: T + 86_400_000, limit: 100, ...q });
  const ids = async (q: Partial<EventsPageQuery>) => (await page(q)).map((e) => e.id).sort();
  const agents = [{ service: 'agents' }];

  it('keeps the spans of a claimed trace that claim no tenant, not those claiming another', async () => {
    expect(await ids({ tenant: 't1' })).toEqual(['e21', 'e23', 'e26', 'e31']);
    expect(await ids({ tenant: 't2' })).toEqual(['e22', 'e23']);
    expect(await ids({ tenant: 't1', model: 'other' })).toEqual(['e26']);
  });

  it('with selectors: own spans, and shared work in a trace with an own span', async () => {
    expect(await ids({ tenant: 't1', match: { own: [{ service: 'svc-a' }], shared: agents } })).toEqual([
      'e21',
      'e23',
    ]);
    expect(await ids({ tenant: 't1', match: { own: [{ service: 'svc-b' }], shared: agents } })).toEqual([
      'e26',
    ]);
    expect(
      await ids({ tenant: 't1', match: { own: [{ api_key: 'ab'.repeat(8) }], shared: agents } }),
    ).toEqual([]);
  });

  it('reads claims and own spans from trace links', async () => {
    expect(await ids({ tenant: 't4' })).toEqual(['e29']);
    expect(await ids({ tenant: 't5', match: { own: [{ service: 'svc-c' }], shared: agents } })).toEqual([
      'e30',
    ]);
    expect(await ids({ tenant: 't5', match: { own: [{ service: 'svc-b' }], shared: agents } })).toEqual([]);
  });

  it('forgets a claim its event withdrew in a later version', async () => {
    expect(await ids({ tenant: 't3' })).toEqual([]);
    const e27 = (await page({ match: { own: [{ service: 'svc-b' }], shared: [] } })).find(
      (e) => e.id === 'e27',
    );
    expect(e27).toMatchObject({ tenant: null, input_tokens: 5 });
  });

  it('pages newest first from a cursor', async () => {
    const [first] = await page({ tenant: 't1', limit: 1 });
    expect(first?.id).toBe('e31');
    const after = { time: first?.time ?? 0, source: 'test', id: 'e31' };
    expect((await page({ tenant: 't1', limit: 2, after })).map((e) => e.id)).toEqual(['e26', 'e23']);
  });
});

// The rows of a claimed trace whatever they claim: an own span claiming another tenant still makes
// the shared work below it a candidate (found in the DuckDB store's one scan of the claiming rows
// and their traces' rows), an own span that claims none inherits the tenant, and pages follow.
const INVOKED: UsageEvent[] = [
  ev('e41', { service: 'svc-a', trace_id: 'tr10', span_id: 'a1', tenant: 't1' }),
  ev('e42', { service: 'svc-d', trace_id: 'tr10', span_id: 'a2', parent_span_id: 'a1', tenant: 't6' }),
  ev('e43', { service: 'agents', trace_id: 'tr10', span_id: 'a3', parent_span_id: 'a2' }),
  ev('e44', { service: 'svc-a', trace_id: 'tr12', span_id: 'c1', tenant: 't1' }),
  ev('e45', { service: 'svc-d', trace_id: 'tr12', span_id: 'c2', parent_span_id: 'c1' }),
  ev('e46', { service: 'svc-d', tenant: 't1' }),
  ev('e47', { service: 'agents', trace_id: 'tr11', span_id: 'b2', parent_span_id: 'b1', tenant: 't1' }),
  ev('e48', { service: 'svc-d', tenant: 't6' }),
];

describe.each(ADAPTERS)('$name store: eventsPage with a tenant and selectors', (adapter) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await freshStore(adapter));
    await store.ingest('test', [INVOKED]);
  });
  afterAll(() => close());

  const q = { tenant: 't1', match: { own: [{ service: 'svc-d' }], shared: [{ service: 'agents' }] } };
  const page = (over: Partial<EventsPageQuery>) =>
    store.eventsPage({ from: T, to: T + 86_400_000, limit: 100, ...q, ...over });

  it('finds shared work under an own span that claims another tenant, and own spans inheriting it', async () => {
    expect((await page({})).map((e) => e.id)).toEqual(['e46', 'e45', 'e43']);
  });

  it('pages across the candidates one at a time, newest first, to the end', async () => {
    const seen: string[] = [];
    let after: EventsPageQuery['after'] = null;
    for (let i = 0; i < 5; i++) {
      const [e, ...rest] = await page({ limit: 1, after });
      expect(rest).toEqual([]);
      if (e === undefined) break;
      seen.push(e.id);
      after = { time: e.time, source: e.source, id: e.id };
    }
    expect(seen).toEqual(['e46', 'e45', 'e43']);
  });
});
