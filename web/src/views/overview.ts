import { formatMoney, type Money } from '../../../src/core/money.js';
import type { Breakdown, DailySpend, Line, Statement } from '../api.js';
import { axisMoney, chart, rankedBars } from '../charts.js';
import { apiWindow, type Ctx, windowLabel } from '../context.js';
import { csvButton, h, notice, table, valued } from '../dom.js';
import { cents, change, count, parseMoney, percent, signedCents, sum } from '../format.js';
import { named, nameOf } from '../names.js';
import { href } from '../router.js';
import { VOCABULARY } from '../vocabulary.js';
import { focusButton } from './breakdown.js';

const TOP = 8;
const NO_TEAM = '(no team)';

export async function overviewView(ctx: Ctx): Promise<Node> {
  const w = ctx.winParams;
  const [byTeam, byApp, byTenant, daily, byModel, byProvider] = await Promise.all([
    ctx.api<Statement>('/v1/statements', { ...w, level: 'team' }),
    ctx.api<Statement>('/v1/statements', { ...w, level: 'application' }),
    ctx.api<Statement>('/v1/statements', { ...w, level: 'tenant' }),
    ctx.api<DailySpend>('/v1/spend/daily', w),
    ctx.api<Breakdown>('/v1/breakdown', { ...w, by: 'model', compare: 'previous' }),
    ctx.api<Breakdown>('/v1/breakdown', { ...w, by: 'provider' }),
  ]);
  const kpis = totals(byTeam, byModel);
  const t = byTeam.totals;
  if (t.events === 0 && byTeam.lines.length === 0) {
    return h('div', {}, kpis, noUsage(ctx));
  }
  if (t.events === 0) {
    // a month without usage still carries its shared pools, unallocated (SPEC §4.9)
    return h(
      'div',
      {},
      differsNotice(byTeam),
      kpis,
      noUsage(
        ctx,
        `Its shared pools (${cents(t.cents.shared_cost, byTeam.currency)}) are carried as unattributed, pool without consumers.`,
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
      topChart(ctx, 'models', 'Top models', fromBreakdown(byModel), byModel.currency, 'model'),
      topChart(ctx, 'providers', 'By provider', fromBreakdown(byProvider), byProvider.currency, 'provider'),
    ),
    h(
      'div',
      { class: 'pair' },
      topChart(
        ctx,
        'applications',
        'Top applications',
        rank(byApp.lines, 'application'),
        byTeam.currency,
        'application',
      ),
      topChart(ctx, 'tenants', 'Top tenants', rank(byTenant.lines, 'tenant'), byTeam.currency, 'tenant'),
    ),
    teamTable(ctx, byTeam),
  );
}

/** What to do when the window has no usage: another window, the latest with data, or ingesting. */
function noUsage(ctx: Ctx, extra = ''): HTMLElement {
  const latest = ctx.latest !== ctx.label;
  return notice(
    'empty',
    `No usage in ${ctx.label}. ${extra}`.trim(),
    h(
      'p',
      {},
      latest
        ? [
            'The latest month with data is ',
            h(
              'a',
              { href: href('overview', { period: ctx.latest }), 'data-testid': 'latest-link' },
              ctx.latest,
            ),
            '; or pick another period above.',
          ]
        : 'Pick another period above, or send usage first (tally ingest, or an OpenTelemetry exporter to /v1/traces).',
    ),
  );
}

function totals(st: Statement, withPrevious: Breakdown): HTMLElement {
  const cur = st.currency;
  const t = st.totals;
  const c = t.cents;
  const prev = withPrevious.previous;
  const kpi = (id: string, label: string, value: string, raw: string, note?: HTMLElement | string | null) =>
    h(
      'div',
      { class: 'kpi' },
      h('dt', {}, label),
      h('dd', { 'data-testid': `total-${id}`, 'data-value': raw }, value),
      note ? h('dd', { class: 'note' }, note) : null,
    );
  const mom = prev
    ? h(
        'span',
        { 'data-testid': 'mom', 'data-value': prev.change_percent ?? '' },
        `${change(prev.change_percent)} vs ${windowLabel(apiWindow(prev.period))} (${cents(prev.cents.effective_cost, cur)})`,
      )
    : 'direct + shared, every status';
  return h(
    'dl',
    { class: 'kpis', 'aria-label': 'Totals' },
    kpi('effective', 'Effective', cents(c.effective_cost, cur), t.effective_cost, mom),
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
function fromBreakdown(b: Breakdown): Array<{ id: string; amount: Money }> {
  return b.rows
    .filter((r) => r.key !== null)
    .map((r) => ({ id: r.key as string, amount: parseMoney(r.cents.effective_cost) }));
}

function seriesName(s: DailySpend['series'][number]): string {
  return s.status === 'attributed' ? (s.team ?? NO_TEAM) : s.status;
}

function dailyChart(ctx: Ctx, daily: DailySpend): HTMLElement {
  const names = daily.series.map(seriesName);
  // the legend shows display names; data-series keeps the ids
  const shown = daily.series.map((s, i) =>
    s.team && s.status === 'attributed' ? nameOf(ctx.names, 'team', s.team) : names[i],
  );
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
        name: shown[i],
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

type TopKind = 'application' | 'tenant' | 'model' | 'provider';
const TOP_LABEL: Record<TopKind, string> = {
  application: 'Application',
  tenant: 'Tenant',
  model: 'Model',
  provider: 'Provider',
};

/** Applications and tenants link to the statement filtered on them; models and providers to the breakdown. */
function topLink(ctx: Ctx, kind: TopKind, id: string): string {
  return kind === 'application' || kind === 'tenant'
    ? href('statement', { ...ctx.winParams, [kind]: id })
    : href('breakdown', { ...ctx.winParams, by: kind === 'model' ? 'team' : 'model', [kind]: id });
}

function topChart(
  ctx: Ctx,
  id: string,
  title: string,
  ranked: Array<{ id: string; amount: Money }>,
  cur: string,
  kind: TopKind,
): HTMLElement {
  const top = ranked.slice(0, TOP);
  const label = (r: { id: string }) => nameOf(ctx.names, kind, r.id);
  const box = h('div', {
    class: 'chart',
    role: 'img',
    'aria-label': `${title}: ${top.map((r) => `${label(r)} ${cents(r.amount, cur)}`).join(', ')}`,
    'data-testid': `chart-${id}`,
  });
  ctx.onMount(() =>
    rankedBars(
      box,
      title,
      top.map(label),
      top.map((r) => Number(formatMoney(r.amount))),
    ),
  );
  const rows = top.map((r) => [
    named(ctx.names, kind, r.id, topLink(ctx, kind, r.id)),
    valued(cents(r.amount, cur), formatMoney(r.amount)),
  ]);
  const spend = kind === 'application' || kind === 'tenant' ? 'Spend (attributed)' : 'Effective';
  return h(
    'section',
    { 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, title),
    top.length ? box : notice('empty', `No ${id} in ${ctx.label}.`),
    top.length
      ? table(title, [{ label: TOP_LABEL[kind] }, { label: spend, numeric: true }], rows, {
          'data-testid': `top-${id}`,
          class: 'compact',
        })
      : null,
  );
}

function teamTable(ctx: Ctx, st: Statement): HTMLElement {
  const lines = [...st.lines].sort((a, b) => (a.team ?? '~').localeCompare(b.team ?? '~'));
  const rows = lines.map((l) => [
    l.team
      ? named(ctx.names, 'team', l.team, href('statement', { ...ctx.winParams, team: l.team }))
      : NO_TEAM,
    l.status + (l.reason ? ` · ${l.reason}` : ''),
    valued(cents(l.cents.effective_cost, st.currency), l.cents.effective_cost),
    valued(cents(l.cents.billed_cost, st.currency), l.cents.billed_cost),
    valued(count(l.events), String(l.events)),
  ]);
  const wrap = table(
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
  );
  return h(
    'section',
    { 'aria-labelledby': 'teams-h' },
    h('h2', { id: 'teams-h' }, 'By team'),
    h(
      'p',
      { class: 'actions' },
      csvButton(() => wrap, `tally-teams-${ctx.label.replace(/\s+/g, '')}.csv`),
      ' ',
      focusButton(ctx, {}),
    ),
    wrap,
  );
}
