import { formatMoney, type Money } from '../../../src/core/money.js';
import type { DailySpend, Line, Statement } from '../api.js';
import { axisMoney, chart } from '../charts.js';
import type { Ctx } from '../context.js';
import { h, notice, table } from '../dom.js';
import { cents, count, parseMoney, percent, signedCents, sum } from '../format.js';
import { href } from '../router.js';
import { VOCABULARY } from '../vocabulary.js';

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
  const c = t.cents;
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
      'Effective',
      cents(c.effective_cost, cur),
      t.effective_cost,
      'direct + shared, every status',
    ),
    kpi('billed', 'Billed', cents(c.billed_cost, cur), t.billed_cost, 'charged to owners'),
    kpi(
      'attributed',
      'Attributed',
      cents(c.attributed_cost, cur),
      t.attributed_cost,
      'with an accountable owner',
    ),
    kpi('coverage', 'Coverage', percent(t.coverage), String(t.coverage), 'attributed ÷ direct cost'),
    kpi(
      'unattributed',
      'Unattributed',
      cents(c.unattributed_cost, cur),
      t.unattributed_cost,
      'no accountable owner',
    ),
    kpi('disputed', 'Disputed', cents(c.disputed_cost, cur), t.disputed_cost, 'held for review'),
    kpi('shared', 'Shared', cents(c.shared_cost, cur), t.shared_cost, 'shared pools'),
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
  if (t.events === 0) {
    // a month without usage still carries its shared pools, unallocated (SPEC §4.9)
    return h(
      'div',
      {},
      differsNotice(byTeam),
      kpis,
      notice(
        'empty',
        `No usage in ${period}: its shared pools (${cents(c.shared_cost, cur)}) are carried as unattributed, pool without consumers.`,
      ),
      teamTable(ctx, byTeam),
    );
  }
  return h(
    'div',
    { class: 'overview' },
    differsNotice(byTeam),
    kpis,
    glossary(),
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

/** Late data for an issued period: the statement says so until a restatement is issued (SPEC §5.3). */
export function differsNotice(st: Statement): HTMLElement | null {
  const d = st.differs_from_issued;
  if (!d) return null;
  return h(
    'p',
    { class: 'notice warning', role: 'status', 'data-testid': 'differs-from-issued' },
    `This period differs from issued statement v${d.version}: effective ${signedCents(d.effective_cost_delta, st.currency)} since it was issued (late data or a changed configuration). Issue a restatement to invoice it.`,
  );
}

/** What each figure means, defined once (web/src/vocabulary.ts, docs/vocabulary.md). */
export function glossary(): HTMLElement {
  return h(
    'details',
    { class: 'help glossary', 'data-testid': 'glossary' },
    h('summary', {}, 'What the numbers mean'),
    h(
      'dl',
      {},
      VOCABULARY.map(([term, meaning]) => [h('dt', {}, term), h('dd', {}, meaning)]),
    ),
  );
}

/** Spend (attributed effective cost, in the statement's cents) per key, largest first. */
function rank(lines: Line[], key: 'application' | 'tenant'): Array<{ id: string; amount: Money }> {
  const by = new Map<string, Money>();
  for (const l of lines) {
    const id = l[key];
    if (id === null || l.status !== 'attributed') continue;
    by.set(id, (by.get(id) ?? 0n) + parseMoney(l.cents.effective_cost));
  }
  return [...by]
    .map(([id, amount]) => ({ id, amount }))
    .sort((a, b) => (a.amount === b.amount ? a.id.localeCompare(b.id) : a.amount > b.amount ? -1 : 1));
}

/** The name of a daily series: the team for attributed usage, else the status. */
function seriesName(s: DailySpend['series'][number]): string {
  return s.status === 'attributed' ? (s.team ?? NO_TEAM) : s.status;
}

function dailyChart(ctx: Ctx, daily: DailySpend): HTMLElement {
  const names = daily.series.map(seriesName);
  const all = sum(daily.series.flatMap((s) => s.costs.map(parseMoney)));
  const box = h('div', {
    class: 'chart tall',
    role: 'img',
    'aria-label': `Daily direct cost: attributed usage stacked by team, disputed and unattributed money apart; ${names.length} series, ${cents(daily.total_cents, daily.currency)} in total`,
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
      // Disputed and unattributed money is nobody's spend: a bar of its own beside the teams' stack.
      series: daily.series.map((s, i) => ({
        name: names[i],
        type: 'bar',
        stack: s.status === 'attributed' ? 'spend' : 'held',
        ...(s.status === 'disputed'
          ? { itemStyle: { color: '#b00020' } }
          : s.status === 'unattributed'
            ? { itemStyle: { color: '#888888' } }
            : {}),
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
      `${cents(daily.total_cents, daily.currency)} of direct cost by UTC day: attributed usage stacked by team, disputed and unattributed money in a bar of its own. Shared pools are monthly and left out.`,
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
          [
            { label: filter === 'application' ? 'Application' : 'Tenant' },
            { label: 'Spend (attributed)', numeric: true },
          ],
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
  const eff = lines.map((l) => cents(l.cents.effective_cost, st.currency));
  const billed = lines.map((l) => cents(l.cents.billed_cost, st.currency));
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
        { label: 'Effective', numeric: true },
        { label: 'Billed', numeric: true },
        { label: 'Events', numeric: true },
      ],
      rows,
      { 'data-testid': 'team-table' },
      [
        'Total',
        '',
        cents(st.totals.cents.effective_cost, st.currency),
        cents(st.totals.cents.billed_cost, st.currency),
        count(st.totals.events),
      ],
    ),
  );
}
