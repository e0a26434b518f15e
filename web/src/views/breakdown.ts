/**
 * Breakdown: the window's money by one dimension (model, provider, identity,
 * team, …) with filters on all of them, the previous window beside it, and
 * downloads of what is on screen (CSV of the table, FOCUS rows of the same
 * selection). Every figure is the API's (GET /v1/breakdown).
 */
import { type Breakdown, type BreakdownRow, getText } from '../api.js';
import { rankedBars } from '../charts.js';
import { apiWindow, type Ctx, windowLabel } from '../context.js';
import { csvButton, download, h, notice, table, valued } from '../dom.js';
import { DIMENSIONS, type Dim, filterParams, filterSelect, filtersOf, LABELS } from '../filters.js';
import { cents, change, count, share } from '../format.js';
import { named, nameOf } from '../names.js';
import { href } from '../router.js';

const TOP = 12;
/** Filters on these are drill-downs in /v1/events; category and status cannot be asked to be empty there. */
const EVENT_NONE = new Set<Dim>([
  'team',
  'application',
  'cost_center',
  'tenant',
  'environment',
  'reason',
  'provider',
  'model',
  'identity',
]);

export async function breakdownView(ctx: Ctx): Promise<Node> {
  const by = DIMENSIONS.find((d) => d === ctx.params.get('by')) ?? 'model';
  const filter = filtersOf(ctx.params);
  const b = await ctx.api<Breakdown>('/v1/breakdown', {
    ...ctx.winParams,
    ...filterParams(filter),
    by,
    compare: 'previous',
  });
  const navigate = (d: Dim | 'by', v: string | null | undefined) => {
    const f = { ...filter };
    if (d !== 'by') {
      if (v === undefined) delete f[d];
      else f[d] = v;
    }
    location.hash = href('breakdown', {
      ...ctx.winParams,
      by: d === 'by' ? (v ?? 'model') : by,
      ...filterParams(f),
    });
  };
  const holder = h('div', {}, b.rows.length ? rowsTable(ctx, b, by, filter) : null);
  return h(
    'div',
    { 'data-testid': 'breakdown' },
    controls(ctx, b, by, filter, navigate),
    summary(b),
    b.rows.length === 0
      ? notice(
          'empty',
          `No money in ${ctx.label} for these filters. Clear a filter or pick another period above.`,
          h('a', { href: href('breakdown', { ...ctx.winParams, by }) }, 'Clear filters'),
        )
      : [
          topChart(ctx, b, by),
          h(
            'p',
            { class: 'actions' },
            csvButton(() => holder, `tally-breakdown-${by}-${ctx.label.replace(/\s+/g, '')}.csv`),
            ' ',
            focusButton(ctx, filter),
          ),
          holder,
        ],
  );
}

function controls(
  ctx: Ctx,
  b: Breakdown,
  by: Dim,
  filter: Partial<Record<Dim, string | null>>,
  navigate: (d: Dim | 'by', v: string | null | undefined) => void,
): HTMLElement {
  const dims = DIMENSIONS.filter((d) => !(d === 'team' && ctx.session.role === 'team'));
  return h(
    'form',
    { class: 'filters', 'aria-label': 'Group and filter', onsubmit: (e: Event) => e.preventDefault() },
    h(
      'label',
      { class: 'group-by' },
      'Group by',
      h(
        'select',
        {
          name: 'by',
          'data-testid': 'group-by',
          onchange: (e: Event) => navigate('by', (e.target as HTMLSelectElement).value),
        },
        DIMENSIONS.map((d) => h('option', { value: d, selected: d === by }, LABELS[d])),
      ),
    ),
    dims.map((d) => filterSelect(ctx, d, b.values[d] ?? [], filter[d], navigate)),
    h('a', { href: href('breakdown', { ...ctx.winParams, by }) }, 'Clear filters'),
  );
}

function summary(b: Breakdown): HTMLElement {
  const cur = b.currency;
  const prev = b.previous;
  const item = (id: string, label: string, value: string, raw: string, note?: string) =>
    h(
      'div',
      { class: 'kpi' },
      h('dt', {}, label),
      h('dd', { 'data-testid': `breakdown-${id}`, 'data-value': raw }, value),
      note ? h('dd', { class: 'note' }, note) : null,
    );
  return h(
    'dl',
    { class: 'kpis small', 'aria-label': 'Selection totals' },
    item('effective', 'Effective', cents(b.totals.cents.effective_cost, cur), b.totals.cents.effective_cost),
    item('billed', 'Billed', cents(b.totals.cents.billed_cost, cur), b.totals.cents.billed_cost),
    item('events', 'Events', count(b.totals.events), String(b.totals.events)),
    prev
      ? item(
          'previous',
          'Previous window',
          cents(prev.cents.effective_cost, cur),
          prev.cents.effective_cost,
          windowLabel(apiWindow(prev.period)),
        )
      : null,
    prev ? item('change', 'Change', change(prev.change_percent), prev.change_percent ?? '') : null,
  );
}

function label(ctx: Ctx, by: Dim, r: BreakdownRow): string {
  return r.key === null ? `(no ${LABELS[by].toLowerCase()})` : nameOf(ctx.names, by, r.key);
}

function topChart(ctx: Ctx, b: Breakdown, by: Dim): HTMLElement {
  const top = b.rows.slice(0, TOP);
  const box = h('div', {
    class: 'chart',
    role: 'img',
    'aria-label': `Effective cost by ${LABELS[by].toLowerCase()}: ${top.map((r) => `${label(ctx, by, r)} ${cents(r.cents.effective_cost, b.currency)}`).join(', ')}`,
    'data-testid': 'chart-breakdown',
  });
  ctx.onMount(() =>
    rankedBars(
      box,
      'Effective',
      top.map((r) => label(ctx, by, r)),
      top.map((r) => Number(r.cents.effective_cost)),
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'bd-chart-h' },
    h('h2', { id: 'bd-chart-h' }, `Top ${Math.min(TOP, b.rows.length)} by ${LABELS[by].toLowerCase()}`),
    box,
  );
}

function drill(
  ctx: Ctx,
  by: Dim,
  r: BreakdownRow,
  filter: Partial<Record<Dim, string | null>>,
): string | null {
  if (r.events === 0 || (r.key === null && !EVENT_NONE.has(by))) return null;
  const f = { ...filter, [by]: r.key };
  if (Object.entries(f).some(([d, v]) => v === null && !EVENT_NONE.has(d as Dim))) return null;
  return href('events', { ...ctx.winParams, ...filterParams(f) });
}

function rowsTable(
  ctx: Ctx,
  b: Breakdown,
  by: Dim,
  filter: Partial<Record<Dim, string | null>>,
): HTMLElement {
  const cur = b.currency;
  const total = b.totals.cents.effective_cost;
  const rows = b.rows.map((r) => {
    const link = drill(ctx, by, r, filter);
    return [
      r.key === null ? label(ctx, by, r) : named(ctx.names, by, r.key),
      valued(cents(r.cents.effective_cost, cur), r.cents.effective_cost),
      valued(cents(r.cents.billed_cost, cur), r.cents.billed_cost),
      share(r.cents.effective_cost, total),
      r.previous_cents === null ? '—' : valued(cents(r.previous_cents, cur), r.previous_cents),
      valued(change(r.change_percent), r.change_percent ?? ''),
      valued(count(r.events), String(r.events)),
      valued(count(r.input_tokens), String(r.input_tokens)),
      valued(count(r.output_tokens), String(r.output_tokens)),
      link ? h('a', { href: link, 'data-testid': 'drill' }, 'events') : '',
    ];
  });
  return table(
    `${b.rows.length} rows by ${LABELS[by].toLowerCase()}, ${ctx.label}`,
    [
      { label: LABELS[by] },
      { label: 'Effective', numeric: true },
      { label: 'Billed', numeric: true },
      { label: 'Share', numeric: true },
      { label: 'Previous', numeric: true },
      { label: 'Change', numeric: true },
      { label: 'Events', numeric: true },
      { label: 'Tokens in', numeric: true },
      { label: 'Tokens out', numeric: true },
      { label: 'Drill-down', sortable: false },
    ],
    rows,
    { 'data-testid': 'breakdown-table', class: 'lines' },
    [
      'Total',
      cents(b.totals.cents.effective_cost, cur),
      cents(b.totals.cents.billed_cost, cur),
      '',
      b.previous ? cents(b.previous.cents.effective_cost, cur) : '',
      b.previous ? change(b.previous.change_percent) : '',
      count(b.totals.events),
      count(b.totals.input_tokens),
      count(b.totals.output_tokens),
      '',
    ],
  );
}

/** FOCUS rows of the selection on screen (GET /v1/breakdown/focus), saved as a file. */
export function focusButton(ctx: Ctx, filter: Partial<Record<Dim, string | null>>): HTMLElement {
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'data-testid': 'download-focus',
      onclick: async () => {
        button.disabled = true;
        try {
          const { text, filename } = await getText(ctx.session.token, '/v1/breakdown/focus', {
            ...ctx.winParams,
            ...filterParams(filter),
          });
          download(filename ?? 'tally-focus.csv', text);
        } catch (e) {
          button.after(notice('error', `The FOCUS download failed: ${(e as Error).message}. Try again.`));
        } finally {
          button.disabled = false;
        }
      },
    },
    'Download FOCUS',
  );
  return button;
}
