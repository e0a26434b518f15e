import type { Ctx } from '../context.js';
import { h, notice, table } from '../dom.js';
import { cents } from '../format.js';

interface Budget {
  scope: string;
  id: string;
  monthly: string;
  actual: string;
  forecast: string;
  percent: number;
  alert_at: number[];
  crossed: number[];
}

export async function budgetsView(ctx: Ctx): Promise<Node> {
  const res = await ctx.api<Budget[] | { budgets: Budget[] }>('/v1/budgets', { period: ctx.period });
  const list = Array.isArray(res) ? res : res.budgets;
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
      cents(b.monthly),
      cents(b.actual),
      cents(b.forecast),
      meter(b.percent),
      b.alert_at.map((a) => h('span', { class: b.crossed.includes(a) ? 'chip crossed' : 'chip' }, `${a} %`)),
    ]),
    { 'data-testid': 'budgets' },
  );
}

function meter(pct: number): HTMLElement {
  return h(
    'span',
    { class: 'meter-cell' },
    h('meter', { min: 0, max: 100, low: 80, high: 99.9, optimum: 0, value: Math.min(pct, 100) }),
    ` ${pct.toFixed(0)} %`,
  );
}
