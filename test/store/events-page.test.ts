// The drill-down's store filters (EventsPageQuery match, tenant, provider,
// model) select the same events on every adapter: a superset that
// attribution then narrows, so each must keep every event that could match.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyEvent, type UsageEvent } from '../../src/core/event.js';
import type { EventsPageQuery, Store } from '../../src/store/store.js';
import { ADAPTERS, openFresh } from './adapters.js';

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

describe.each(ADAPTERS)('$name store: eventsPage filters', (adapter) => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-page-'));
    store = await openFresh(adapter, dir);
    await store.ingest('test', [EVENTS]);
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

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
    expect(await ids({ provider: null })).toEqual(['e4']);
    expect(await ids({ model: 'other', provider: 'p' })).toEqual(['e3']);
  });
});
