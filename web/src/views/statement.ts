import { type Dimension, DIMENSIONS as LINE_FIELDS, type Line, type Statement } from '../api.js';
import type { Ctx } from '../context.js';
import { csvButton, h, notice, table, valued } from '../dom.js';
import { type Dim, filterParams, filterSelect, filtersOf } from '../filters.js';
import { cents, count, percent, total } from '../format.js';
import { named } from '../names.js';
import { href } from '../router.js';
import { focusButton } from './breakdown.js';
import { differsNotice, glossary } from './overview.js';

const LEVELS = ['line', 'team', 'application', 'tenant', 'cost_center'] as const;
/** The line fields the statement filters on (all of them but the pool, which rides with its category). */
const FILTERS = [
  'cost_center',
  'team',
  'application',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
] as const satisfies readonly (Dimension & Dim)[];
type Filter = (typeof FILTERS)[number];
const LABELS: Record<Dimension, string> = {
  cost_center: 'Cost center',
  team: 'Team',
  application: 'Application',
  tenant: 'Tenant',
  environment: 'Environment',
  category: 'Category',
  status: 'Status',
  reason: 'Reason',
  pool: 'Pool',
};

export async function statementView(ctx: Ctx): Promise<Node> {
  const level = LEVELS.find((l) => l === ctx.params.get('level')) ?? 'line';
  // The server scopes the statement to a team (and refuses a team token another team's); the other filters apply here.
  const st = await ctx.api<Statement>('/v1/statements', {
    ...ctx.winParams,
    level,
    team: ctx.params.get('team') || null,
  });
  const all = filtersOf(ctx.params);
  const filter: Partial<Record<Filter, string | null>> = {};
  for (const d of FILTERS) if (all[d] !== undefined) filter[d] = all[d];
  const active = FILTERS.filter((d) => filter[d] !== undefined);
  const lines = st.lines.filter((l) => active.every((d) => l[d] === filter[d]));
  const shown = LINE_FIELDS.filter((d) => st.lines.some((l) => l[d] !== null));
  const holder = h('div', {}, lines.length ? lineTable(ctx, st, lines, level, shown) : null);

  return h(
    'div',
    {},
    differsNotice(st),
    filterForm(ctx, st, level, shown, filter),
    summary(st, lines, active.length > 0),
    glossary(),
    lines.length === 0
      ? notice(
          'empty',
          st.lines.length === 0
            ? `No statement lines in ${ctx.label}. Pick another period above (the latest with data is ${ctx.latest}).`
            : 'No statement lines match these filters. Clear a filter to see more.',
          h('a', { href: href('statement', { ...ctx.winParams, level }) }, 'Clear filters'),
        )
      : [
          h(
            'p',
            { class: 'actions' },
            csvButton(() => holder, `tally-statement-${level}-${ctx.label.replace(/\s+/g, '')}.csv`),
            ' ',
            focusButton(ctx, filter),
          ),
          holder,
        ],
    h(
      'p',
      { class: 'help inputs' },
      `Computed from ${count(Number(st.inputs.events ?? 0))} events; configuration ${String(st.inputs.config_sha256 ?? '').slice(0, 12)}, catalog ${String(st.inputs.catalog_version ?? '')}, audit head ${String(st.inputs.audit_head ?? '').slice(0, 12)}.`,
    ),
  );
}

function filterForm(
  ctx: Ctx,
  st: Statement,
  level: string,
  shown: Dimension[],
  filter: Partial<Record<Filter, string | null>>,
): HTMLElement {
  const go = (f: Partial<Record<Filter, string | null>>, lvl = level) => {
    location.hash = href('statement', { ...ctx.winParams, level: lvl, ...filterParams(f) });
  };
  const dims = FILTERS.filter((d) => shown.includes(d) && !(d === 'team' && ctx.session.role === 'team'));
  return h(
    'form',
    { class: 'filters', 'aria-label': 'Filters', onsubmit: (e: Event) => e.preventDefault() },
    h(
      'label',
      {},
      'Level',
      h(
        'select',
        {
          name: 'level',
          'data-testid': 'level',
          onchange: (e: Event) => go(filter, (e.target as HTMLSelectElement).value),
        },
        LEVELS.map((l) => h('option', { value: l, selected: l === level }, l.replace('_', ' '))),
      ),
    ),
    dims.map((d) =>
      filterSelect(
        ctx,
        d,
        [...new Set(st.lines.map((l) => l[d]))].sort((a, b) => (a ?? '~').localeCompare(b ?? '~')),
        filter[d],
        (_, v) => {
          const f = { ...filter };
          if (v === undefined) delete f[d];
          else f[d] = v;
          go(f);
        },
      ),
    ),
    h('a', { href: href('statement', { ...ctx.winParams, level }) }, 'Clear filters'),
  );
}

function summary(st: Statement, lines: Line[], filtered: boolean): HTMLElement {
  const t = st.totals;
  const item = (id: string, label: string, value: string, raw: string) =>
    h(
      'div',
      { class: 'kpi' },
      h('dt', {}, label),
      h('dd', { 'data-testid': `statement-${id}`, 'data-value': raw }, value),
    );
  // the filtered lines' cents, which add up as the table's rows do
  const eff = total(lines.map((l) => l.cents.effective_cost));
  const billed = total(lines.map((l) => l.cents.billed_cost));
  const c = t.cents;
  return h(
    'dl',
    { class: 'kpis small', 'aria-label': 'Statement totals' },
    item('effective', 'Effective', cents(c.effective_cost, st.currency), t.effective_cost),
    item('billed', 'Billed', cents(c.billed_cost, st.currency), t.billed_cost),
    item('attributed', 'Attributed', cents(c.attributed_cost, st.currency), t.attributed_cost),
    item('unattributed', 'Unattributed', cents(c.unattributed_cost, st.currency), t.unattributed_cost),
    item('disputed', 'Disputed', cents(c.disputed_cost, st.currency), t.disputed_cost),
    item('coverage', 'Coverage', percent(t.coverage), String(t.coverage)),
    t.estimated && t.effective_cost_ci95
      ? item(
          'estimate',
          'Estimated, 95 %',
          interval(t.effective_cost_ci95, st.currency),
          t.effective_cost_ci95.join(' '),
        )
      : null,
    filtered ? item('filtered-effective', 'Filtered effective', cents(eff, st.currency), String(eff)) : null,
    filtered ? item('filtered-billed', 'Filtered billed', cents(billed, st.currency), String(billed)) : null,
  );
}

/** The events behind a line: its own fields, and `none` for those it has none of (at the line level). */
function drillDown(ctx: Ctx, l: Line, level: string): string {
  const f: Partial<Record<Filter, string | null>> = {};
  for (const d of FILTERS) {
    const v = l[d];
    if (v !== null) f[d] = v;
    else if (level === 'line') f[d] = null;
  }
  return href('events', { ...ctx.winParams, ...filterParams(f) });
}

/** A 95 % interval of an estimate (SPEC §11), in cents: `$1.20–$1.60`. */
function interval([low, high]: [string, string], currency: string): string {
  return `${cents(low, currency)}–${cents(high, currency)}`;
}

/** A line's effective cost; an estimated line (sampled telemetry) shows its interval beneath, marked. */
function effectiveCell(l: Line, currency: string): HTMLElement | string {
  const shown = cents(l.cents.effective_cost, currency);
  if (!l.estimated || !l.effective_cost_ci95) return shown;
  return h(
    'span',
    { class: 'estimated', title: 'estimated from sampled traces: 95 % confidence interval' },
    `≈ ${shown}`,
    h('small', { 'data-testid': 'estimate' }, ` (95 %: ${interval(l.effective_cost_ci95, currency)})`),
  );
}

/** The pool rides with its category and the reason with its status, to keep the table narrow. */
const JOINED: Partial<Record<Dimension, Dimension>> = { category: 'pool', status: 'reason' };
function cellOf(ctx: Ctx, l: Line, d: Dimension): HTMLElement | string {
  const extra = JOINED[d];
  const more = extra ? l[extra] : null;
  if (more) return `${l[d] ?? '—'} · ${more}`;
  return named(ctx.names, d, l[d]);
}

function lineTable(ctx: Ctx, st: Statement, lines: Line[], level: string, all: Dimension[]): HTMLElement {
  const shown = all.filter((d) => d !== 'pool' && d !== 'reason');
  const rows = lines.map((l) => [
    ...shown.map((d) => cellOf(ctx, l, d)),
    valued(effectiveCell(l, st.currency), l.cents.effective_cost),
    valued(cents(l.cents.billed_cost, st.currency), l.cents.billed_cost),
    valued(
      count(l.events) + (l.unpriced_events ? ` (${count(l.unpriced_events)} unpriced)` : ''),
      String(l.events),
    ),
    l.events > 0 ? h('a', { href: drillDown(ctx, l, level), 'data-testid': 'drill' }, 'events') : '',
  ]);
  const sumEff = total(lines.map((l) => l.cents.effective_cost));
  const sumBilled = total(lines.map((l) => l.cents.billed_cost));
  return table(
    `${lines.length} statement lines at ${level.replace('_', ' ')} level, ${ctx.label}`,
    [
      ...shown.map((d) => ({ label: LABELS[d] })),
      { label: 'Effective', numeric: true },
      { label: 'Billed', numeric: true },
      { label: 'Events', numeric: true },
      { label: 'Drill-down', sortable: false },
    ],
    rows,
    { 'data-testid': 'statement-lines', class: 'lines' },
    [
      'Total',
      ...shown.slice(1).map(() => ''),
      cents(sumEff, st.currency),
      cents(sumBilled, st.currency),
      count(lines.reduce((a, l) => a + l.events, 0)),
      '',
    ],
  );
}
