import { formatFixed, parseMoney } from '../../../src/core/money.js';
import { BAR_GRID, chart } from '../charts.js';
import type { Ctx } from '../context.js';
import { h, notice, table, valued } from '../dom.js';
import { count } from '../format.js';
import { named, nameOf } from '../names.js';
import { href } from '../router.js';

interface PlanRow {
  level: 'team' | 'tenant';
  id: string;
  cost: string;
  units: number;
  expected_relative_error: number | null;
  rate_for: number | null;
}

interface Plan {
  rate: number;
  target: number;
  rate_for: number | null;
  rows: PlanRow[];
}

/** The rates a team weighs; any other comes through the URL (`rate=`). */
const RATES = ['0.01', '0.05', '0.1', '0.25', '0.5', '1'];

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`);

/** What sampling traces at a rate would cost each team and tenant in billing precision (SPEC §11). */
export async function samplingView(ctx: Ctx): Promise<Node> {
  const rate = ctx.params.get('rate') ?? '0.1';
  const plan = await ctx.api<Plan>('/v1/sampling', { period: ctx.period, rate, target: '0.05' });
  const teams = plan.rows.filter((r) => r.level === 'team');
  return h(
    'div',
    { 'data-testid': 'sampling' },
    h(
      'p',
      { class: 'help' },
      `If traces were kept at the rate chosen, each figure of ${ctx.period} would be an estimate: the expected 95 % error, and the smallest rate that keeps it within ±${pct(plan.target)} (docs/sampling.md).`,
    ),
    rateControl(ctx, rate),
    h(
      'p',
      { 'data-testid': 'sampling-rate-for' },
      `Every team within ±${pct(plan.target)} needs a rate of at least ${pct(plan.rate_for)}.`,
    ),
    teams.length === 0 ? notice('empty', `No spend in ${ctx.period} to plan from.`) : errorChart(ctx, teams),
    plan.rows.length === 0 ? null : planTable(ctx, plan),
  );
}

function rateControl(ctx: Ctx, rate: string): HTMLElement {
  const select = h(
    'select',
    { name: 'rate', 'aria-label': 'Sampling rate', 'data-testid': 'sampling-rate' },
    RATES.map((r) => h('option', { value: r, selected: r === rate ? '' : null }, pct(Number(r)))),
  ) as HTMLSelectElement;
  select.addEventListener('change', () => {
    location.hash = href('sampling', { ...ctx.winParams, rate: select.value });
  });
  return h('form', { class: 'filters' }, h('label', {}, 'Rate ', select));
}

function errorChart(ctx: Ctx, teams: readonly PlanRow[]): HTMLElement {
  const shown = teams.filter((r) => r.expected_relative_error !== null);
  const box = h('div', {
    class: 'chart',
    role: 'img',
    'aria-label': `Expected error by team: ${shown.map((r) => `${nameOf(ctx.names, 'team', r.id)} ${pct(r.expected_relative_error)}`).join(', ')}`,
    'data-testid': 'chart-sampling',
  });
  ctx.onMount(() =>
    chart(box, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: BAR_GRID,
      xAxis: { type: 'value', axisLabel: { formatter: (v: number) => `${v} %` } },
      yAxis: { type: 'category', inverse: true, data: shown.map((r) => nameOf(ctx.names, 'team', r.id)) },
      series: [
        {
          type: 'bar',
          name: 'Expected 95 % error',
          data: shown.map((r) => Number(((r.expected_relative_error ?? 0) * 100).toFixed(2))),
        },
      ],
    }),
  );
  return h(
    'section',
    { 'aria-labelledby': 'sampling-chart-h' },
    h('h2', { id: 'sampling-chart-h' }, 'Expected error by team'),
    box,
  );
}

function planTable(ctx: Ctx, plan: Plan): HTMLElement {
  return table(
    `Teams and tenants at a rate of ${pct(plan.rate)}`,
    [
      { label: 'Level' },
      { label: 'Team or tenant' },
      { label: 'Cost', numeric: true },
      { label: 'Units', numeric: true },
      { label: 'Expected error', numeric: true },
      { label: `Rate for ±${pct(plan.target)}`, numeric: true },
    ],
    plan.rows.map((r) => [
      r.level,
      named(ctx.names, r.level, r.id),
      valued(`$${formatFixed(parseMoney(r.cost), 2)}`, r.cost),
      count(r.units),
      pct(r.expected_relative_error),
      pct(r.rate_for),
    ]),
    { 'data-testid': 'sampling-table' },
  );
}
