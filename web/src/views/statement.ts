import { DIMENSIONS, type Dimension, type Line, type Statement } from '../api.js';
import type { Ctx } from '../context.js';
import { dash, h, notice, table } from '../dom.js';
import { cents, count, percent, total } from '../format.js';
import { href } from '../router.js';
import { differsNotice, glossary } from './overview.js';

const LEVELS = ['line', 'team', 'application', 'tenant', 'cost_center'] as const;
const FILTERS: Dimension[] = [
  'cost_center',
  'team',
  'application',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
];
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
/** In a URL an empty value stands for "none" (a line without a tenant, say); an absent one for "any". */
const NONE = '';

export async function statementView(ctx: Ctx): Promise<Node> {
  const level = LEVELS.find((l) => l === ctx.params.get('level')) ?? 'line';
  // The server scopes the statement to a team (and refuses a team token another team's); the other filters apply here.
  const st = await ctx.api<Statement>('/v1/statements', {
    period: ctx.period,
    level,
    team: ctx.params.get('team') || null,
  });
  const active = FILTERS.filter((d) => ctx.params.has(d));
  const lines = st.lines.filter((l) => active.every((d) => (l[d] ?? NONE) === ctx.params.get(d)));
  const shown = DIMENSIONS.filter((d) => st.lines.some((l) => l[d] !== null));

  return h(
    'div',
    {},
    differsNotice(st),
    filterForm(ctx, st, level, shown),
    summary(st, lines, active.length > 0),
    glossary(),
    lines.length === 0
      ? notice('empty', 'No statement lines match these filters.')
      : lineTable(ctx, st, lines, level, shown),
    h(
      'p',
      { class: 'help inputs' },
      `Computed from ${count(Number(st.inputs.events ?? 0))} events; configuration ${String(st.inputs.config_sha256 ?? '').slice(0, 12)}, catalog ${String(st.inputs.catalog_version ?? '')}, audit head ${String(st.inputs.audit_head ?? '').slice(0, 12)}.`,
    ),
  );
}

function filterForm(ctx: Ctx, st: Statement, level: string, shown: Dimension[]): HTMLElement {
  const navigate = (form: HTMLFormElement) => {
    const q: Record<string, string> = { period: ctx.period };
    for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v !== '*') q[k] = v;
    location.hash = href('statement', q);
  };
  const select = (name: string, label: string, options: Array<[string, string]>, value: string) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name, onchange: (e: Event) => navigate((e.target as HTMLSelectElement).form!) },
        options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
      ),
    );
  const dims = FILTERS.filter((d) => shown.includes(d));
  return h(
    'form',
    { class: 'filters', 'aria-label': 'Filters', onsubmit: (e: Event) => e.preventDefault() },
    select(
      'level',
      'Level',
      LEVELS.map((l) => [l, l.replace('_', ' ')]),
      level,
    ),
    dims.map((d) => {
      const values = [...new Set(st.lines.map((l) => l[d] ?? NONE))].sort();
      return select(
        d,
        LABELS[d],
        [['*', 'all'], ...values.map((v): [string, string] => [v, v === NONE ? '(none)' : v])],
        ctx.params.get(d) ?? '*',
      );
    }),
    h('a', { href: href('statement', { period: ctx.period, level }) }, 'Clear filters'),
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
    filtered ? item('filtered-effective', 'Filtered effective', cents(eff, st.currency), String(eff)) : null,
    filtered ? item('filtered-billed', 'Filtered billed', cents(billed, st.currency), String(billed)) : null,
  );
}

/** The events behind a line: its own dimensions, `none` where the line has none. */
function drillDown(ctx: Ctx, l: Line, level: string): string {
  const q: Record<string, string> = { period: ctx.period };
  for (const d of FILTERS) {
    const v = l[d];
    if (v !== null) q[d] = v;
    else if (level === 'line') q[d] = NONE;
  }
  return href('events', q);
}

/** The pool rides with its category and the reason with its status, to keep the table narrow. */
const JOINED: Partial<Record<Dimension, Dimension>> = { category: 'pool', status: 'reason' };
const cellOf = (l: Line, d: Dimension): string => {
  const extra = JOINED[d];
  const more = extra ? l[extra] : null;
  return dash(l[d]) + (more ? ` · ${more}` : '');
};

function lineTable(ctx: Ctx, st: Statement, lines: Line[], level: string, all: Dimension[]): HTMLElement {
  const shown = all.filter((d) => d !== 'pool' && d !== 'reason');
  const eff = lines.map((l) => cents(l.cents.effective_cost, st.currency));
  const billed = lines.map((l) => cents(l.cents.billed_cost, st.currency));
  const rows = lines.map((l, i) => [
    ...shown.map((d) => cellOf(l, d)),
    eff[i],
    billed[i],
    count(l.events) + (l.unpriced_events ? ` (${count(l.unpriced_events)} unpriced)` : ''),
    l.events > 0 ? h('a', { href: drillDown(ctx, l, level), 'data-testid': 'drill' }, 'events') : '',
  ]);
  const sumEff = total(lines.map((l) => l.cents.effective_cost));
  const sumBilled = total(lines.map((l) => l.cents.billed_cost));
  return table(
    `${lines.length} statement lines at ${level.replace('_', ' ')} level`,
    [
      ...shown.map((d) => ({ label: LABELS[d] })),
      { label: 'Effective', numeric: true },
      { label: 'Billed', numeric: true },
      { label: 'Events', numeric: true },
      { label: 'Drill-down' },
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
