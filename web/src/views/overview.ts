import { formatMoney, type Money } from '../../../src/core/money.js';
import type { DailySpend, Line, Statement } from '../api.js';
import { axisMoney, chart } from '../charts.js';
import type { Ctx } from '../context.js';
import { h, notice, table } from '../dom.js';
import { cents, centsColumn, count, parseMoney, percent, sum } from '../format.js';
import { href } from '../router.js';

const TOP = 8;
const NO_TEAM = '(no team)';

export async function overviewView(ctx: Ctx): Promise<Node> {
  const period = ctx.period;
  const [byTeam, byApp, byTenant, daily] = await Promise.all([
    ctx.api<Statement>('/v1/statements', { period, level: 'team' }),
    ctx.api<Statement>('/v1/statements', { period, level: 'application' }),
    ctx.api<Statement>('/v1/statements', { period, level: 'tenant' }),
    ctx.api<DailySpend>('/v1/spend/daily', { period }),
  ]);
  const cur = byTeam.currency;
  const t = byTeam.totals;
  const kpi = (id: string, label: string, value: string, raw: string, note?: string) =>
    h(
      'div',
      { class: 'kpi' },
      h('dt', {}, label),
      h('dd', { 'data-testid': `total-${id}`, 'data-value': raw }, value),
      note ? h('dd', { class: 'note' }, note) : null,
    );
  const kpis = h(
    'dl',
    { class: 'kpis', 'aria-label': 'Totals' },
    kpi(
      'effective',
      'Total spend',
      cents(t.effective_cost, cur),
      t.effective_cost,
      'effective cost incl. shared pools',
    ),
    kpi('billed', 'Billed', cents(t.billed_cost, cur), t.billed_cost, 'charged to teams'),
    kpi('coverage', 'Coverage', percent(t.coverage), String(t.coverage), 'attributed direct cost'),
    kpi(
      'unattributed',
      'Unattributed',
      cents(t.unattributed_cost, cur),
      t.unattributed_cost,
      'no accountable owner',
    ),
    kpi('disputed', 'Disputed', cents(t.disputed_cost, cur), t.disputed_cost, 'held, not billed as usage'),
    kpi('shared', 'Shared pools', cents(t.shared_cost, cur), t.shared_cost),
    kpi(
      'events',
      'Events',
      count(t.events),
      String(t.events),
      t.unpriced_events ? `${count(t.unpriced_events)} unpriced` : undefined,
    ),
  );
  if (t.events === 0 && byTeam.lines.length === 0) {
    return h('div', {}, kpis, notice('empty', `No usage in ${period}. Pick another period above.`));
  }
  return h(
    'div',
    { class: 'overview' },
    kpis,
    dailyChart(ctx, daily),
    h(
      'div',
      { class: 'pair' },
      topChart(ctx, 'applications', 'Top applications', rank(byApp.lines, 'application'), cur, 'application'),
      topChart(ctx, 'tenants', 'Top tenants', rank(byTenant.lines, 'tenant'), cur, 'tenant'),
    ),
    teamTable(ctx, byTeam),
  );
}

/** Spend per key (status lines of one key are added up), largest first. */
function rank(lines: Line[], key: 'application' | 'tenant'): Array<{ id: string; amount: Money }> {
  const by = new Map<string, Money>();
  for (const l of lines) {
    const id = l[key];
    if (id === null) continue;
    by.set(id, (by.get(id) ?? 0n) + parseMoney(l.effective_cost));
  }
  return [...by]
    .map(([id, amount]) => ({ id, amount }))
    .sort((a, b) => (a.amount === b.amount ? a.id.localeCompare(b.id) : a.amount > b.amount ? -1 : 1));
}

function dailyChart(ctx: Ctx, daily: DailySpend): HTMLElement {
  const names = daily.series.map((s) => s.team ?? NO_TEAM);
  const all = sum(daily.series.flatMap((s) => s.costs.map(parseMoney)));
  const box = h('div', {
    class: 'chart tall',
    role: 'img',
    'aria-label': `Daily spend by team, stacked; ${names.length} teams, ${cents(all, daily.currency)} in total`,
    'data-testid': 'chart-daily',
    'data-series': JSON.stringify(names),
    'data-total': formatMoney(all),
  });
  ctx.onMount(() =>
    chart(box, {
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => axisMoney(Number(v)) },
      legend: { type: 'scroll', bottom: 0 },
      grid: {
        left: 8,
        right: 16,
        top: 16,
        bottom: 40,
        outerBoundsMode: 'same',
        outerBoundsContain: 'axisLabel',
      },
      xAxis: { type: 'category', data: daily.days.map((d) => d.slice(5)) },
      yAxis: { type: 'value', axisLabel: { formatter: axisMoney } },
      series: daily.series.map((s, i) => ({
        name: names[i],
        type: 'bar',
        stack: 'spend',
        data: s.costs.map(Number),
      })),
    }),
  );
  return h(
    'section',
    { 'aria-labelledby': 'daily-h' },
    h('h2', { id: 'daily-h' }, 'Spend over time by team'),
    h(
      'p',
      { class: 'help' },
      `${cents(all, daily.currency)} of usage by UTC day; shared pools are not daily and are left out.`,
    ),
    box,
  );
}

function topChart(
  ctx: Ctx,
  id: string,
  title: string,
  ranked: Array<{ id: string; amount: Money }>,
  cur: string,
  filter: 'application' | 'tenant',
): HTMLElement {
  const top = ranked.slice(0, TOP);
  const box = h('div', {
    class: 'chart',
    role: 'img',
    'aria-label': `${title}: ${top.map((r) => `${r.id} ${cents(r.amount, cur)}`).join(', ')}`,
    'data-testid': `chart-${id}`,
  });
  ctx.onMount(() =>
    chart(box, {
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v: unknown) => axisMoney(Number(v)),
      },
      grid: {
        left: 8,
        right: 24,
        top: 8,
        bottom: 8,
        outerBoundsMode: 'same',
        outerBoundsContain: 'axisLabel',
      },
      xAxis: { type: 'value', axisLabel: { formatter: axisMoney } },
      yAxis: { type: 'category', inverse: true, data: top.map((r) => r.id) },
      series: [{ type: 'bar', name: title, data: top.map((r) => Number(formatMoney(r.amount))) }],
    }),
  );
  const rows = top.map((r) => [
    h('a', { href: href('statement', { period: ctx.period, [filter]: r.id }) }, r.id),
    cents(r.amount, cur),
  ]);
  return h(
    'section',
    { 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, title),
    top.length ? box : notice('empty', `No ${id} in this period.`),
    top.length
      ? table(
          title,
          [{ label: filter === 'application' ? 'Application' : 'Tenant' }, { label: 'Spend', numeric: true }],
          rows,
          {
            'data-testid': `top-${id}`,
            class: 'compact',
          },
        )
      : null,
  );
}

function teamTable(ctx: Ctx, st: Statement): HTMLElement {
  const lines = [...st.lines].sort((a, b) => (a.team ?? '~').localeCompare(b.team ?? '~'));
  const eff = centsColumn(
    lines.map((l) => l.effective_cost),
    st.currency,
  );
  const billed = centsColumn(
    lines.map((l) => l.billed_cost),
    st.currency,
  );
  const rows = lines.map((l, i) => [
    l.team ? h('a', { href: href('statement', { period: ctx.period, team: l.team }) }, l.team) : NO_TEAM,
    l.status + (l.reason ? ` · ${l.reason}` : ''),
    eff[i],
    billed[i],
    count(l.events),
  ]);
  return h(
    'section',
    { 'aria-labelledby': 'teams-h' },
    h('h2', { id: 'teams-h' }, 'By team'),
    table(
      'Spend by team and status',
      [
        { label: 'Team' },
        { label: 'Status' },
        { label: 'Spend', numeric: true },
        { label: 'Billed', numeric: true },
        { label: 'Events', numeric: true },
      ],
      rows,
      { 'data-testid': 'team-table' },
      [
        'Total',
        '',
        cents(st.totals.effective_cost, st.currency),
        cents(st.totals.billed_cost, st.currency),
        count(st.totals.events),
      ],
    ),
  );
}
