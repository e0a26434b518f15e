import { parseMoney } from '../../../src/core/money.js';
import type { BudgetStatus } from '../api.js';
import type { Ctx } from '../context.js';
import { h, notice, table } from '../dom.js';
import { cents } from '../format.js';

/** Budgets: actual so far in the statement's cents (attributed spend, pools accrued by day), forecast, alerts. */
export async function budgetsView(ctx: Ctx): Promise<Node> {
  const res = await ctx.api<{ budgets: BudgetStatus[]; currency: string }>('/v1/budgets', {
    period: ctx.period,
  });
  const list = res.budgets;
  if (list.length === 0) return notice('empty', 'No budgets apply to this token (budgets: in tally.yaml).');
  return table(
    'Monthly budgets: actual so far and forecast to the end of the period',
    [
      { label: 'Scope' },
      { label: 'Budget for' },
      { label: 'Monthly', numeric: true },
      { label: 'Actual', numeric: true },
      { label: 'Forecast', numeric: true },
      { label: 'Used' },
      { label: 'Alerts crossed' },
    ],
    list.map((b) => [
      b.scope,
      b.id,
      cents(b.budget, res.currency),
      h('span', { 'data-testid': `budget-actual-${b.id}` }, cents(b.actual_cents, res.currency)),
      cents(b.forecast, res.currency),
      meter(used(b)),
      b.thresholds.map((t) =>
        h('span', { class: t.crossed_at !== null ? 'chip crossed' : 'chip' }, `${t.percent} %`),
      ),
    ]),
    { 'data-testid': 'budgets' },
  );
}

/** Per cent of the budget used, for the meter only (exact figures are in the table). */
function used(b: BudgetStatus): number {
  const budget = parseMoney(b.budget);
  if (budget === 0n) return 0;
  return Number((parseMoney(b.actual) * 1000n) / budget) / 10;
}

function meter(pct: number): HTMLElement {
  return h(
    'span',
    { class: 'meter-cell' },
    h('meter', { min: 0, max: 100, low: 80, high: 99.9, optimum: 0, value: Math.min(pct, 100) }),
    ` ${pct.toFixed(0)} %`,
  );
}
