// Shared pools (SPEC §4.9), amounts worked out by hand.
import { afterEach, describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/core/money.js';
import { ADAPTERS } from '../store/adapters.js';
import { BASE, ev, line, POOLS, type Scenario, scenario as scenarioOn } from './helpers.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const usage = [
    // app-one (team-a until the 15th): retrieval $0.0004 × 3, and $1.00 of inference
    ev('r1', '2026-10-02T00:00:00Z', {
      api_key: 'key-one',
      operation: 'retrieval',
      data_source: 'kb',
      model: null,
    }),
    ev('r2', '2026-10-02T00:00:01Z', {
      api_key: 'key-one',
      operation: 'retrieval',
      data_source: 'kb',
      model: null,
    }),
    ev('r3', '2026-10-02T00:00:02Z', {
      api_key: 'key-one',
      operation: 'retrieval',
      data_source: 'kb',
      model: null,
    }),
    ev('i1', '2026-10-02T00:00:03Z', { api_key: 'key-one', input_tokens: 1_000_000 }),
    // app-two (team-b, in cc-b from the 10th): retrieval $0.0004 × 1, and $3.00 of inference
    ev('r4', '2026-10-12T00:00:00Z', {
      service: 'svc-two',
      operation: 'retrieval',
      data_source: 'kb',
      model: null,
    }),
    ev('i2', '2026-10-12T00:00:01Z', { service: 'svc-two', input_tokens: 3_000_000 }),
    // disputed and unknown usage never earn a share
    ev('d1', '2026-10-25T00:00:00Z', {
      api_key: 'key-old',
      operation: 'retrieval',
      data_source: 'kb',
      model: null,
    }),
    ev('u1', '2026-10-25T00:00:00Z', { api_key: 'nobody', input_tokens: 9_000_000 }),
  ];

  describe('shared pools', () => {
    it('allocates proportionally, evenly and by weight, to the cent, and never drops a pool', async () => {
      s = await scenario(BASE + POOLS, [usage]);
      const c = await s.compute();
      const share = (pool: string, field: string, id: string | null) =>
        formatMoney(line(c, { pool, [field]: id }).effective_cost);
      // retrieval basis 0.0012 : 0.0004 = 3 : 1
      expect(share('pool-vec', 'application', 'app-one')).toBe('75.00');
      expect(share('pool-vec', 'application', 'app-two')).toBe('25.00');
      // app-one's share goes to its owner at the period's last instant: team-b
      expect(line(c, { pool: 'pool-vec', application: 'app-one' }).team).toBe('team-b');
      // even among teams with attributed cost (team-a via app-one early in the month, team-b)
      expect(share('pool-fee', 'team', 'team-a')).toBe('5.00');
      expect(share('pool-fee', 'team', 'team-b')).toBe('5.00');
      // 1 : 2 of $100 → 33.33… and 66.66…; the spare cent goes to the larger remainder
      expect(share('pool-gpu', 'team', 'team-a')).toBe('33.33');
      expect(share('pool-gpu', 'team', 'team-b')).toBe('66.67');
      // no tenant had attributed usage: one unattributed line, never dropped
      const orphan = line(c, { pool: 'pool-tenants' });
      expect([orphan.status, orphan.reason, formatMoney(orphan.effective_cost)]).toEqual([
        'unattributed',
        'pool_without_consumers',
        '7.00',
      ]);
      // a one-cent tie goes to the lower id
      expect(share('pool-penny', 'team', 'team-a')).toBe('0.01');
      expect(
        c.statement.lines.some(
          (l) => l.pool === 'pool-penny' && l.team === 'team-b' && l.effective_cost > 0n,
        ),
      ).toBe(false);
      // by cost center: cc-a had 1.0012 (app-one before the 15th), cc-b 3.0004 → 0.25 : 0.75
      expect(share('pool-cost', 'cost_center', 'cc-a')).toBe('0.25');
      expect(share('pool-cost', 'cost_center', 'cc-b')).toBe('0.75');
      expect(formatMoney(c.statement.totals.shared_cost)).toBe('218.01');
      for (const l of c.statement.lines.filter((x) => x.pool)) expect(l.category).toBe('shared');
    });
  });
});
