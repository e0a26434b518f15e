// Pools in any window (SPEC §4.9), amounts worked out by hand.
import { afterEach, describe, expect, it } from 'vitest';
import { poolAmountIn } from '../../src/core/allocation.js';
import { assessBudget } from '../../src/core/budgets.js';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { renderTable } from '../../src/export/table.js';
import { BASE, ev, line, type Scenario, scenario as scenarioOn } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const $ = (v: string) => parseMoney(v);
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`);

  const POOLS = `
shared_pools:
  - { id: pool-a, amount: 31.00, level: team, method: even }
  - { id: pool-b, amount: 45.00, level: team, method: weighted, weights: { team-a: 1, team-b: 2 } }
`;

  const usage = [
    ev('i1', '2026-10-02T10:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 }), // $1.00 team-a
    ev('i2', '2026-10-03T10:00:00Z', { service: 'svc-two', input_tokens: 3_000_000 }), // $3.00 team-b
    ev('i3', '2026-10-20T10:00:00Z', { service: 'svc-two', input_tokens: 5_000_000 }), // outside the window
  ];

  describe('a pool in a window that is not one month', () => {
    it('prorates each month by the part of its time the window covers, to the cent', () => {
      // October has 31 days: a day of a $31.00 pool is $1.00, of a $45.00 pool 45/31 = 1.4516… → 1.45
      expect(formatMoney(poolAmountIn($('31'), { start: day('2026-10-02'), end: day('2026-10-04') }))).toBe(
        '2.00',
      );
      // accrued to the cent at the window's ends: round(45 × 3/31 = 4.3548…) − round(45 × 1/31 = 1.4516…) = 4.35 − 1.45
      expect(formatMoney(poolAmountIn($('45'), { start: day('2026-10-02'), end: day('2026-10-04') }))).toBe(
        '2.90',
      );
      // Oct 31 and Nov 1: 31.00 − 30.00 in October, then round(31 × 1/30 = 1.0333…) = 1.03 in November
      expect(formatMoney(poolAmountIn($('31'), { start: day('2026-10-31'), end: day('2026-11-02') }))).toBe(
        '2.03',
      );
      // the whole month is the whole amount, and the days of a month add up to it exactly
      expect(poolAmountIn($('45'), { start: day('2026-10-01'), end: day('2026-11-01') })).toBe($('45'));
      let days = 0n;
      for (let d = 1; d <= 31; d++)
        days += poolAmountIn($('45'), { start: Date.UTC(2026, 9, d), end: Date.UTC(2026, 9, d + 1) });
      expect(days).toBe($('45'));
    });

    it('gives a two-day statement two days of each pool, split among that window’s consumers', async () => {
      s = await scenario(BASE + POOLS, [usage]);
      const c = await s.compute({}, { start: day('2026-10-02'), end: day('2026-10-04') });
      const share = (pool: string, team: string) => formatMoney(line(c, { pool, team }).effective_cost);
      // pool-a: 2.00 evenly between the two teams with usage in the window
      expect(share('pool-a', 'team-a')).toBe('1.00');
      expect(share('pool-a', 'team-b')).toBe('1.00');
      // pool-b: 2.90 by 1 : 2 → 0.9666… and 1.9333… → 0.96 + 1.93 = 2.89, the spare cent to the larger remainder (team-a)
      expect(share('pool-b', 'team-a')).toBe('0.97');
      expect(share('pool-b', 'team-b')).toBe('1.93');
      // 1.00 + 3.00 of usage + 2.00 + 2.90 of pools
      expect(formatMoney(c.statement.totals.effective_cost)).toBe('8.90');
      expect(formatMoney(c.statement.totals.shared_cost)).toBe('4.90');
    });

    it('accrues budgets’ pools by the same rule', () => {
      const budget = { scope: 'team' as const, id: 'team-a', monthly: $('100'), alertAt: [] };
      // one day observed without usage: the first day of a $45.00 month is round(45/31) = 1.45
      const b = assessBudget({
        budget,
        period: '2026-10',
        start: day('2026-10-01'),
        end: day('2026-11-01'),
        usage: [0n],
        pools: $('45'),
        statementCents: $('45'),
      });
      expect(formatMoney(b.actual)).toBe('1.45');
      expect(formatMoney(b.actualCents)).toBe('1.45');
      // the forecast runs to the month's end: the whole pool
      expect(formatMoney(b.forecast)).toBe('45.00');
    });
  });

  describe('a month without events', () => {
    it('still carries every pool, unallocated, weighted pools included', async () => {
      s = await scenario(BASE + POOLS, [usage]);
      const c = await s.compute({}, { start: day('2026-11-01'), end: day('2026-12-01') });
      expect(c.statement.totals.events).toBe(0);
      expect(
        c.statement.lines.map((l) => [l.pool, l.status, l.reason, formatMoney(l.effective_cost)]),
      ).toEqual([
        ['pool-a', 'unattributed', 'pool_without_consumers', '31.00'],
        ['pool-b', 'unattributed', 'pool_without_consumers', '45.00'],
      ]);
      expect(c.statement.totals.attributed_cost).toBe(0n);
      expect(formatMoney(c.statement.totals.unattributed_cost)).toBe('76.00');
      expect(c.statement.totals.billed_cost).toBe(0n);
      expect(renderTable(c.statement)).toMatch(/^unattributed +76\.00$/m);
    });
  });
});
