/**
 * `tally budgets` (SPEC §6.1): each configured budget's daily spend in the
 * month, from the statement computed by day, then actual, forecast and
 * thresholds (core/budgets.ts). The month counts as observed up to the day of
 * the latest stored event.
 */
import type { Charge } from '../core/attribution.js';
import {
  assessBudget,
  type BudgetSeries,
  type BudgetStatus,
  budgetCrossings,
  type Crossing,
  DAY_MS,
  daysIn,
} from '../core/budgets.js';
import type { Budget, Config } from '../core/config.js';
import { formatMoney, type Money } from '../core/money.js';
import { centsText, iso, rollUp, type Statement } from '../core/statement.js';
import type { Store } from '../store/store.js';
import { computeIn } from './statement.js';

export interface BudgetReport {
  period: string;
  start: number;
  end: number;
  currency: string;
  budgets: BudgetStatus[];
  crossings: Crossing[];
}

export async function computeBudgets(
  store: Store,
  config: Config,
  period: { label: string; start: number; end: number },
): Promise<BudgetReport> {
  // the latest event and the statement from one snapshot, so that the days observed match the spend
  const { latest, computed } = await store.snapshot(async (snap) => ({
    latest: await snap.latestEventTime(),
    computed: config.budgets.length > 0 ? await computeIn(snap, config, period, { byDay: true }) : null,
  }));
  const days = daysIn(period.start, period.end);
  const observed =
    latest === null ? 0 : Math.max(0, Math.min(days, Math.floor((latest - period.start) / DAY_MS) + 1));
  const charges = computed?.charges ?? [];
  const shares = computed?.shares ?? [];

  const counts = (status: Charge['status']) =>
    status === 'attributed' || (status === 'disputed' && config.policy.disputed === 'charge');
  const series = config.budgets.map((budget): BudgetSeries => {
    const usage: Money[] = Array.from({ length: observed }, () => 0n);
    for (const c of charges) {
      if (!counts(c.status) || scopeOf(c, budget) !== budget.id || c.day === null) continue;
      const d = Math.floor((c.day - period.start) / DAY_MS);
      if (d >= 0 && d < observed) usage[d] = (usage[d] ?? 0n) + c.effective_cost;
    }
    const pools = shares
      .filter((s) => counts(s.status) && scopeOf(s, budget) === budget.id)
      .reduce((a, s) => a + s.amount, 0n);
    const statementCents = computed ? budgetCents(computed.statement, budget, config.policy.disputed) : 0n;
    return {
      budget,
      period: period.label,
      start: period.start,
      end: period.end,
      usage,
      pools,
      statementCents,
    };
  });
  return {
    period: period.label,
    start: period.start,
    end: period.end,
    currency: config.currency,
    budgets: series.map(assessBudget),
    crossings: series.flatMap(budgetCrossings),
  };
}

/**
 * The statement's cents of a budget's scope: the effective cents of its
 * lines that count (attributed, and disputed under `disputed: charge`), at
 * the line level for teams and applications and at the tenant level for
 * tenants, so they are the cents every other output shows for that scope.
 */
export function budgetCents(statement: Statement, budget: Budget, disputed: 'hold' | 'charge'): Money {
  const lines = budget.scope === 'tenant' ? rollUp(statement, 'tenant').lines : statement.lines;
  return lines
    .filter(
      (l) =>
        (l.status === 'attributed' || (l.status === 'disputed' && disputed === 'charge')) &&
        scopeOf(l, budget) === budget.id,
    )
    .reduce((a, l) => a + l.cents.effective_cost, 0n);
}

function scopeOf(
  line: { team: string | null; application: string | null; tenant: string | null },
  b: Budget,
): string | null {
  return line[b.scope];
}

/** Per cent of the budget to one decimal, exact (null for a zero budget). */
export function percentOf(amount: Money, budget: Money): string | null {
  if (budget === 0n) return null;
  const tenths = (amount * 1000n + budget / 2n) / budget;
  return `${tenths / 10n}.${tenths % 10n}`;
}

export function budgetJson(b: BudgetStatus): unknown {
  return {
    scope: b.scope,
    id: b.id,
    period: b.period,
    budget: formatMoney(b.budget),
    actual: formatMoney(b.actual),
    actual_cents: centsText(b.actualCents),
    forecast: formatMoney(b.forecast),
    percent: percentOf(b.actual, b.budget),
    forecast_percent: percentOf(b.forecast, b.budget),
    observed_days: b.observedDays,
    days: b.days,
    thresholds: b.thresholds.map((t) => ({
      percent: t.percent,
      amount: formatMoney(t.amount),
      crossed_at: t.crossedAt === null ? null : iso(t.crossedAt),
      forecast_to_cross: t.forecastToCross,
    })),
  };
}

export function crossingJson(c: Crossing): unknown {
  return {
    period: c.period,
    scope: c.scope,
    id: c.id,
    threshold: c.threshold,
    crossed_at: iso(c.crossedAt),
    actual: formatMoney(c.actual),
    budget: formatMoney(c.budget),
  };
}
