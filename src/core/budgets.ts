/**
 * Budgets (SPEC §6.1): actual spend of a team, application or tenant in a
 * month against its budget, a forecast to the month's end, and the alert
 * thresholds crossed.
 *
 * Actual is the effective cost of the statement lines at that scope that are
 * charged to it: attributed lines, and disputed ones when `policy.disputed`
 * is `charge` (held disputed spend is not the owner's until resolved). Shared
 * pool shares count too, accrued day by day by the rule of SPEC §4.9
 * (`poolAmountIn`), so that the month's actual ends equal to the statement's
 * effective cost at that scope, and its cents are the statement's cents.
 *
 * Forecast: the days after the last observed day are each expected to cost
 * the mean of the observed days that fall on the same weekday (the mean of
 * all observed days when none does), plus their part of the pool shares. A
 * month observed to its end forecasts its actual.
 */
import { poolAmountIn } from './allocation.js';
import type { Budget } from './config.js';
import { type Money, mulDiv, ONE, parseMoney } from './money.js';

export const DAY_MS = 86_400_000;

export interface BudgetSeries {
  budget: Budget;
  /** `YYYY-MM`. */
  period: string;
  /** The month, [start, end). */
  start: number;
  end: number;
  /** Usage cost per observed day, from the month's first day on; days after the last observed one are unknown. */
  usage: Money[];
  /** Shared pool cost of the scope for the whole month. */
  pools: Money;
  /** The statement's cents for the scope's counted lines over the whole month, pools included (core/cents.ts). */
  statementCents: Money;
}

export interface ThresholdStatus {
  percent: number;
  amount: Money;
  /** The first day on which the cumulative actual reached the threshold, or null. */
  crossedAt: number | null;
  /** Not crossed yet, but the forecast reaches it. */
  forecastToCross: boolean;
}

export interface BudgetStatus {
  scope: Budget['scope'];
  id: string;
  period: string;
  budget: Money;
  actual: Money;
  /** The actual to the cent, as the statement shows it (the month's pools not yet accrued left out). */
  actualCents: Money;
  forecast: Money;
  observedDays: number;
  days: number;
  thresholds: ThresholdStatus[];
}

/** A threshold crossed: what the server posts to the webhook, once per (period, scope, id, threshold). */
export interface Crossing {
  period: string;
  scope: Budget['scope'];
  id: string;
  threshold: number;
  crossedAt: number;
  /** The cumulative actual at the end of that day. */
  actual: Money;
  budget: Money;
}

export function daysIn(start: number, end: number): number {
  return Math.round((end - start) / DAY_MS);
}

/** The pool cost of each day of the month: the month's pools prorated by time, to the cent (SPEC §4.9). */
function poolDays(s: BudgetSeries): Money[] {
  return Array.from({ length: daysIn(s.start, s.end) }, (_, d) =>
    poolAmountIn(s.pools, { start: s.start + d * DAY_MS, end: s.start + (d + 1) * DAY_MS }),
  );
}

/** Cumulative actual at the end of each observed day. */
function cumulative(s: BudgetSeries): Money[] {
  const pools = poolDays(s);
  let running = 0n;
  return s.usage.map((u, i) => {
    running += u + (pools[i] ?? 0n);
    return running;
  });
}

export function thresholdAmount(budget: Budget, percent: number): Money {
  return mulDiv(budget.monthly, parseMoney(percent), 100n * ONE);
}

/** Every threshold the cumulative actual reached, with the first day it did, in threshold order. */
export function budgetCrossings(s: BudgetSeries): Crossing[] {
  const running = cumulative(s);
  const out: Crossing[] = [];
  for (const percent of s.budget.alertAt) {
    const amount = thresholdAmount(s.budget, percent);
    const day = running.findIndex((v) => v >= amount && v > 0n);
    if (day < 0) continue;
    out.push({
      period: s.period,
      scope: s.budget.scope,
      id: s.budget.id,
      threshold: percent,
      crossedAt: s.start + day * DAY_MS,
      actual: running[day] as Money,
      budget: s.budget.monthly,
    });
  }
  return out;
}

export function assessBudget(s: BudgetSeries): BudgetStatus {
  const days = daysIn(s.start, s.end);
  const pools = poolDays(s);
  const running = cumulative(s);
  const actual = running.at(-1) ?? 0n;
  const accrued = pools.slice(0, s.usage.length).reduce((a, b) => a + b, 0n);
  let forecast = actual;
  for (let d = s.usage.length; d < days; d++) forecast += expectedUsage(s, d) + (pools[d] ?? 0n);
  const crossed = new Map(budgetCrossings(s).map((c) => [c.threshold, c.crossedAt]));
  return {
    scope: s.budget.scope,
    id: s.budget.id,
    period: s.period,
    budget: s.budget.monthly,
    actual,
    actualCents: s.statementCents - (s.pools - accrued),
    forecast,
    observedDays: s.usage.length,
    days,
    thresholds: s.budget.alertAt.map((percent) => {
      const amount = thresholdAmount(s.budget, percent);
      const crossedAt = crossed.get(percent) ?? null;
      return {
        percent,
        amount,
        crossedAt,
        forecastToCross: crossedAt === null && forecast >= amount && forecast > 0n,
      };
    }),
  };
}

/** The mean usage of the observed days on the same weekday as day `d`, else of all observed days. */
function expectedUsage(s: BudgetSeries, d: number): Money {
  const weekday = (i: number) => new Date(s.start + i * DAY_MS).getUTCDay();
  const same = s.usage.filter((_, i) => weekday(i) === weekday(d));
  const pool = same.length > 0 ? same : s.usage;
  if (pool.length === 0) return 0n;
  return pool.reduce((a, b) => a + b, 0n) / BigInt(pool.length);
}
