// The drill-down attributes each event as the statement attributes its usage
// group, whatever the page's reach: its first look for a trace's other spans
// is within a day of the page's events, and a trace whose walk still meets a
// missing span is then read whole. A shared agent's span invoked by a
// parent two days earlier, and a tenant claimed there, land where the
// statement puts them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/core/money.js';
import { Drilldown } from '../../src/server/drilldown.js';
import { BASE, ev, line, OCT, type Scenario, scenario } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

const TOKENS = { input_tokens: 1_000_000, output_tokens: 500_000 };

const EVENTS = [
  // svc-two (app-two) invokes the shared rag service, whose retrieval calls a model two days later, claiming tenant-y
  ev('root', '2026-10-10T00:00:00Z', {
    service: 'svc-two',
    trace_id: 'tr',
    span_id: 'a',
    tenant: 'tenant-y',
  }),
  ev('mid', '2026-10-11T00:00:00Z', {
    service: 'rag',
    trace_id: 'tr',
    span_id: 'b',
    parent_span_id: 'a',
    operation: 'retrieval',
  }),
  ev('late', '2026-10-12T06:00:00Z', {
    service: 'rag',
    trace_id: 'tr',
    span_id: 'c',
    parent_span_id: 'b',
    ...TOKENS,
  }),
  // the same shared service called with no invoker at all
  ev('alone', '2026-10-12T07:00:00Z', { service: 'rag', ...TOKENS }),
];

describe.each(ADAPTERS)('$name store: drill-down over long traces', (adapter) => {
  let s: Scenario;
  beforeAll(async () => {
    // the late span arrives first, its ancestors in later batches
    s = await scenario(
      BASE,
      [[EVENTS[2], EVENTS[3]], [EVENTS[1]], [EVENTS[0]]].map((b) => b.flatMap((e) => (e ? [e] : []))),
      adapter,
    );
  });
  afterAll(() => s.close());

  const drill = async (filter: Record<string, string>, window = OCT) => {
    const page = await new Drilldown(s.store, s.config).page(window, filter, null, 100);
    return page.events.map((e) => [e.id, e.application, e.tenant, e.cost]);
  };

  it('charges a span to its invoker two days up the trace, with the tenant claimed there', async () => {
    const rows = await drill({ application: 'app-two', tenant: 'tenant-y' });
    expect(rows).toEqual([
      ['late', 'app-two', 'tenant-y', '2.00'],
      ['mid', 'app-two', 'tenant-y', '0.00'],
      ['root', 'app-two', 'tenant-y', '0.00'],
    ]);
    const computed = await s.compute();
    expect(
      formatMoney(
        line(computed, { application: 'app-two', tenant: 'tenant-y', category: 'inference' }).effective_cost,
      ),
    ).toBe('2.00');
  });

  it('keeps a span without an invoker on the shared identity, and finds no tenant that no span claims', async () => {
    expect(await drill({ application: 'app-rag' })).toEqual([['alone', 'app-rag', null, '2.00']]);
    expect(await drill({ tenant: 'tenant-x' })).toEqual([]);
  });

  it('reads a whole trace when its ancestors lie more than a day before the page', async () => {
    // October 12 alone: the late span's parent (October 11, 00:00) is beyond the first look's reach
    const day = { start: Date.UTC(2026, 9, 12), end: Date.UTC(2026, 9, 13) };
    expect(await drill({ application: 'app-two' }, day)).toEqual([['late', 'app-two', 'tenant-y', '2.00']]);
  });
});
