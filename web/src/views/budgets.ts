import { parseMoney } from '../../../src/core/money.js';
import type { BudgetStatus } from '../api.js';
import type { Ctx } from '../context.js';
import { csvButton, h, notice, table, valued } from '../dom.js';
import { cents } from '../format.js';
import { named } from '../names.js';

/** Budgets: actual so far in the statement's cents (attributed spend, pools accrued by day), forecast, alerts. */
export async function budgetsView(ctx: Ctx): Promise<Node> {
  const res = await ctx.api<{ budgets: BudgetStatus[]; currency: string }>('/v1/budgets', {
    period: ctx.period,
  });
  const list = res.budgets;
  const monthly =
    'period' in ctx.win
      ? null
      : h(
          'p',
          { class: 'notice warning', role: 'status', 'data-testid': 'budgets-month' },
          `Budgets are monthly: showing ${ctx.period}, the month your range starts in.`,
        );
  if (list.length === 0)
    return h(
      'div',
      {},
      monthly,
      notice(
        'empty',
        ctx.session.role === 'team'
          ? `No budget for your team or its applications in ${ctx.period}. Ask finance to add one under budgets: in tally.yaml.`
          : `No budgets in ${ctx.period}. Add them under budgets: in tally.yaml (team, application or tenant, monthly amount, alert_at).`,
      ),
    );
  const wrap = table(
    `Monthly budgets, ${ctx.period}: actual so far and forecast to the end of the month`,
    [
      { label: 'Scope' },
      { label: 'Budget for' },
      { label: 'Monthly', numeric: true },
      { label: 'Actual', numeric: true },
      { label: 'Forecast', numeric: true },
      { label: 'Used', numeric: true },
      { label: 'Alerts crossed', sortable: false },
    ],
    list.map((b) => [
      b.scope,
      named(ctx.names, b.scope, b.id),
      valued(cents(b.budget, res.currency), b.budget),
      valued(
        h('span', { 'data-testid': `budget-actual-${b.id}` }, cents(b.actual_cents, res.currency)),
        b.actual_cents,
      ),
      valued(cents(b.forecast, res.currency), b.forecast),
      valued(meter(used(b)), String(used(b))),
      b.thresholds.map((t) =>
        h(
          'span',
          { class: t.crossed_at !== null ? 'chip crossed' : 'chip', title: t.crossed_at ?? 'not crossed' },
          `${t.percent} %`,
        ),
      ),
    ]),
    { 'data-testid': 'budgets' },
  );
  return h(
    'div',
    {},
    monthly,
    h(
      'p',
      { class: 'actions' },
      csvButton(() => wrap, `tally-budgets-${ctx.period}.csv`),
    ),
    wrap,
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
