import { afterEach, describe, expect, it } from 'vitest';
import { assessBudget, type BudgetSeries, budgetCrossings } from '../../src/core/budgets.js';
import type { Budget } from '../../src/core/config.js';
import { parseMoney } from '../../src/core/money.js';
import { computeBudgets } from '../../src/service/budgets.js';
import { BASE, ev, OCT, type Scenario, scenario } from '../statement/helpers.js';

const $ = (s: string) => parseMoney(s);
const budget = (monthly: string, alertAt: number[]): Budget => ({
  scope: 'team',
  id: 'team-a',
  monthly: $(monthly),
  alertAt,
});
// October 2026 starts on a Thursday; a week observed: Thu 10, Fri 20, … Wed 70.
const WEEK = ['10', '20', '30', '40', '50', '60', '70'].map($);
const series = (b: Budget, usage = WEEK, pools = 0n): BudgetSeries => ({
  budget: b,
  period: '2026-10',
  start: OCT.start,
  end: OCT.end,
  usage,
  pools,
  statementCents: 0n,
});

describe('budget forecast', () => {
  it('projects the rest of the month from the same weekdays observed so far', () => {
    const s = assessBudget(series(budget('1000', [50, 80, 100])));
    expect(s.actual).toBe($('280'));
    // 24 days left: three whole weeks (3 × 280) and Thu, Fri, Sat (10 + 20 + 30).
    expect(s.forecast).toBe($('1180'));
    expect(s.observedDays).toBe(7);
    expect(s.days).toBe(31);
    expect(s.thresholds.map((t) => [t.percent, t.crossedAt, t.forecastToCross])).toEqual([
      [50, null, true],
      [80, null, true],
      [100, null, true],
    ]);
  });

  it('falls back to the mean of all observed days for a weekday not seen yet, and spreads pools evenly', () => {
    const s = assessBudget(series(budget('1000', [100]), [$('10'), $('20')], $('31')));
    // Days 3–31: Thu 10 × 4 + Fri 20 × 4 + 21 other days at 15, plus the pool at 1 a day.
    expect(s.actual).toBe($('32'));
    expect(s.forecast).toBe($('32') + $('40') + $('80') + $('315') + $('29'));
  });

  it('forecasts a complete month as its actual', () => {
    const full = Array.from({ length: 31 }, () => $('1'));
    const s = assessBudget(series(budget('10', [50]), full));
    expect(s.forecast).toBe(s.actual);
    expect(s.actual).toBe($('31'));
  });
});

describe('budget crossings', () => {
  it('dates each threshold by the first day the cumulative actual reached it, once', () => {
    const b = budget('200', [50, 100, 150]);
    const crossings = budgetCrossings(series(b));
    expect(crossings).toEqual([
      {
        period: '2026-10',
        scope: 'team',
        id: 'team-a',
        threshold: 50,
        crossedAt: Date.UTC(2026, 9, 4),
        actual: $('100'),
        budget: $('200'),
      },
      {
        period: '2026-10',
        scope: 'team',
        id: 'team-a',
        threshold: 100,
        crossedAt: Date.UTC(2026, 9, 6),
        actual: $('210'),
        budget: $('200'),
      },
    ]);
    // A later look at the same month dates the same crossings the same way: a receiver keyed
    // by (period, scope, id, threshold) is told once.
    const later = budgetCrossings(series(b, [...WEEK, $('100')]));
    expect(later.slice(0, 2)).toEqual(crossings);
    expect(later[2]).toMatchObject({ threshold: 150, crossedAt: Date.UTC(2026, 9, 8), actual: $('380') });
  });
});

describe('budgets over a store', () => {
  let s: Scenario | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('counts attributed spend at the scope, day by day, and leaves held disputed spend out', async () => {
    const yaml = `${BASE}
budgets:
  - { team: team-a, monthly: 2, alert_at: [50, 100] }
  - { application: app-two, monthly: 100 }
`;
    s = await scenario(yaml, [
      [
        ev('a1', '2026-10-01T10:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 }),
        ev('a2', '2026-10-03T10:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 }),
        ev('c1', '2026-10-02T10:00:00Z', { api_key: 'key-comp', model: 'm2', input_tokens: 1_000_000 }),
        ev('t1', '2026-10-02T10:00:00Z', { service: 'svc-two', input_tokens: 500_000 }),
      ],
    ]);
    const r = await computeBudgets(s.store, s.config, { label: '2026-10', ...OCT });
    const [teamA, appTwo] = r.budgets;
    expect(teamA).toMatchObject({ actual: $('2'), observedDays: 3 });
    expect(teamA?.forecast).toBeGreaterThan($('2'));
    expect(appTwo?.actual).toBe($('0.50'));
    expect(r.crossings.map((c) => [c.id, c.threshold, c.crossedAt])).toEqual([
      ['team-a', 50, Date.UTC(2026, 9, 1)],
      ['team-a', 100, Date.UTC(2026, 9, 3)],
    ]);
  });
});
