// `tally sampling` folds a period's charges as they are made (core/sampling-plan.ts
// PlanSums): an event without a trace is a sampling unit whole in its one
// charge, squared at once; a trace's costs are held until the period is read.
// So a plan holds the period's traces, not its events: both stores count the
// traces, and past MAX_SAMPLING_TRACES a plan is refused at once with a
// LimitError naming the count. The plan equals the definition (Σ w·y² over each
// team's units) computed from every charge kept.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SAMPLING_TRACES } from '../../src/core/bounds.js';
import { LimitError } from '../../src/core/errors.js';
import { computeSamplingPlan } from '../../src/service/sampling.js';
import { computeStatement } from '../../src/service/statement.js';
import { BASE, ev, OCT, type Scenario, scenario as scenarioOn } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';
import { definedPlan } from './world.js';

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
      // Another model: a usage group of its own, in the same trace and team as t2-b.
      model: 'm2',
      input_tokens: 5_000,
      trace_id: 't2',
      span_id: 's3',
    }),
    ev('alone-1', '2026-10-05T00:00:00Z', { api_key: 'key-one', input_tokens: 6_000 }),
    ev('alone-2', '2026-10-06T00:00:00Z', { service: 'svc-two', input_tokens: 7_000 }),
    ev('before', '2026-09-30T23:59:59Z', { api_key: 'key-one', input_tokens: 8_000 }),
  ];

  it('counts the traces of the period, each once', async () => {
    s = await scenarioOn(BASE, [events], adapter);
    expect(await s.store.samplingTraces({ from: OCT.start, to: OCT.end })).toBe(2);
    expect(await s.store.samplingTraces({ from: OCT.start - 1_000, to: OCT.end })).toBe(2);
    expect(await s.store.samplingTraces({ from: OCT.start, to: Date.UTC(2026, 9, 4) })).toBe(1);
  });

  it('folds to the plan of every charge kept, each unit squared once per team and tenant', async () => {
    s = await scenarioOn(BASE, [events], adapter);
    const plan = await computeSamplingPlan(s.store, s.config, OCT, 0.1, 0.05);
    const { charges } = await computeStatement(s.store, s.config, OCT, { allUnits: true });
    expect(plan).toEqual(definedPlan(charges, 0.1, 0.05));
    // Trace t2 is charged to both applications' teams: a unit of each; t1 and alone-1 to one, alone-2 to the other.
    const units = plan.rows.filter((r) => r.level === 'team').map((r) => r.units);
    expect(units.sort()).toEqual([2, 3]);
  });

  it('plans up to the bound, and refuses past it with the count', async () => {
    s = await scenarioOn(BASE, [events], adapter);
    await expect(computeSamplingPlan(s.store, s.config, OCT, 0.1, 0.05, 2)).resolves.toBeDefined();
    const refused = computeSamplingPlan(s.store, s.config, OCT, 0.1, 0.05, 1);
    await expect(refused).rejects.toThrow(LimitError);
    await expect(refused).rejects.toThrow(/2 traces; .* at most 1/);
    expect(MAX_SAMPLING_TRACES).toBeGreaterThanOrEqual(1_000_000);
  });
});
