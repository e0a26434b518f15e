/** Budgets over HTTP: their JSON form, and which budgets a team token may see. */

import type { BudgetStatus } from '../core/budgets.js';
import type { Budget, Config } from '../core/config.js';
import { formatFixed, formatMoney } from '../core/money.js';
import { iso } from '../core/statement.js';

export function budgetStatusJson(b: BudgetStatus): unknown {
  return {
    scope: b.scope,
    id: b.id,
    period: b.period,
    budget: formatMoney(b.budget),
    actual: formatMoney(b.actual),
    actual_cents: formatFixed(b.actualCents, 2),
    forecast: formatMoney(b.forecast),
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

/**
 * A team sees its own team budget and the budgets of applications that it
 * alone owned during the whole window (an application that changed hands
 * holds another team's spend too). Tenant budgets span teams: never.
 */
export function visibleToTeam(
  config: Config,
  team: string,
  window: { start: number; end: number },
): (b: Pick<Budget, 'scope' | 'id'>) => boolean {
  const owned = new Set(
    config.applications
      .filter((a) => {
        const during = a.owner.filter(
          (o) => (o.from === null || o.from < window.end) && (o.until === null || o.until > window.start),
        );
        const covers = during.some(
          (o) => (o.from === null || o.from <= window.start) && (o.until === null || o.until >= window.end),
        );
        return covers && during.every((o) => o.team === team);
      })
      .map((a) => a.id),
  );
  return (b) => (b.scope === 'team' ? b.id === team : b.scope === 'application' && owned.has(b.id));
}
