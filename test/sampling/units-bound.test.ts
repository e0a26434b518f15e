// `tally sampling` splits a period's charges by sampling unit (a trace, or an
// event without one) and holds each in memory. Past MAX_SAMPLING_UNITS a plan
// is refused at once with a LimitError naming the count (the 10M-event month's
// 8.4M units ran out of memory after minutes). Both stores count the units
// as the plan splits by them.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SAMPLING_UNITS } from '../../src/core/bounds.js';
import { LimitError } from '../../src/core/errors.js';
import { computeSamplingPlan } from '../../src/service/sampling.js';
import { BASE, ev, OCT, type Scenario, scenario as scenarioOn } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  // Two traces of two and three events, two events without a trace, and one outside the period.
  const events = [
    ev('t1-a', '2026-10-03T10:00:00Z', {
      api_key: 'key-one',
      input_tokens: 1_000,
      trace_id: 't1',
      span_id: 's1',
    }),
    ev('t1-b', '2026-10-03T10:00:01Z', {
      api_key: 'key-one',
      input_tokens: 2_000,
      trace_id: 't1',
      span_id: 's2',
    }),
    ev('t2-a', '2026-10-04T10:00:00Z', {
      api_key: 'key-one',
      input_tokens: 3_000,
      trace_id: 't2',
      span_id: 's1',
    }),
    ev('t2-b', '2026-10-04T10:00:01Z', {
      service: 'svc-two',
      input_tokens: 4_000,
      trace_id: 't2',
      span_id: 's2',
    }),
    ev('t2-c', '2026-10-04T10:00:02Z', {
      service: 'svc-two',
      input_tokens: 5_000,
      trace_id: 't2',
      span_id: 's3',
    }),
    ev('alone-1', '2026-10-05T00:00:00Z', { api_key: 'key-one', input_tokens: 6_000 }),
    ev('alone-2', '2026-10-06T00:00:00Z', { service: 'svc-two', input_tokens: 7_000 }),
    ev('before', '2026-09-30T23:59:59Z', { api_key: 'key-one', input_tokens: 8_000 }),
  ];

  it('counts the units of the period: each trace once, each event without one', async () => {
    s = await scenarioOn(BASE, [events], adapter);
    expect(await s.store.samplingUnits({ from: OCT.start, to: OCT.end })).toBe(4);
    expect(await s.store.samplingUnits({ from: OCT.start - 1_000, to: OCT.end })).toBe(5);
  });

  it('plans up to the bound, and refuses past it with the count', async () => {
    s = await scenarioOn(BASE, [events], adapter);
    const plan = await computeSamplingPlan(s.store, s.config, OCT, 0.1, 0.05, 4);
    // Trace t2 is charged to both applications' teams: a unit of each.
    const units = Object.fromEntries(plan.rows.filter((r) => r.level === 'team').map((r) => [r.id, r.units]));
    expect(Object.values(units).sort()).toEqual([2, 3]);
    const refused = computeSamplingPlan(s.store, s.config, OCT, 0.1, 0.05, 3);
    await expect(refused).rejects.toThrow(LimitError);
    await expect(refused).rejects.toThrow(/4 sampling units .* at most 3/);
    expect(MAX_SAMPLING_UNITS).toBeGreaterThanOrEqual(1_000_000);
  });
});
