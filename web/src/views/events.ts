import type { EventPage, EventRow } from '../api.js';
import { type Ctx, periodWindow } from '../context.js';
import { dash, h, notice, table } from '../dom.js';
import { count, precise, utc } from '../format.js';
import { href } from '../router.js';

/** Filters the API takes; an empty value ("none") cannot be asked of it and is applied here. */
const SERVER = [
  'team',
  'application',
  'tenant',
  'category',
  'status',
  'reason',
  'identity',
  'trace',
] as const;
/** Every filter a statement line can hand over, and the event field it compares. */
const LOCAL: Record<string, keyof EventRow> = {
  cost_center: 'cost_center',
  team: 'team',
  application: 'application',
  tenant: 'tenant',
  environment: 'environment',
  category: 'category',
  status: 'attribution',
  reason: 'reason',
};
const PAGE = 200;
/** Pages fetched per click at most, when local filters leave pages empty. */
const MAX_PAGES = 25;

export async function eventsView(ctx: Ctx): Promise<Node> {
  const query: Record<string, string> = { period: ctx.period, limit: String(PAGE) };
  for (const k of SERVER) {
    const v = ctx.params.get(k);
    if (v) query[k] = v;
  }
  const local = Object.entries(LOCAL).filter(([k]) => ctx.params.has(k));
  const keep = (e: EventRow) => local.every(([k, field]) => (e[field] ?? '') === ctx.params.get(k));

  let cursor: string | null = null;
  const shown: EventRow[] = [];
  const loadMore = async (): Promise<void> => {
    const before = shown.length;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page: EventPage = await ctx.api<EventPage>('/v1/events', cursor ? { ...query, cursor } : query);
      shown.push(...page.events.filter(keep));
      cursor = page.next_cursor;
      if (cursor === null || shown.length - before >= PAGE) break;
    }
  };
  await loadMore();

  const body = h('div', {});
  const status = h('p', { class: 'help', 'data-testid': 'events-count', role: 'status' });
  const more = h('button', { type: 'button', 'data-testid': 'load-more' }, 'Load more');
  more.addEventListener('click', async () => {
    more.disabled = true;
    await loadMore();
    draw();
    more.disabled = false;
  });
  const draw = () => {
    status.textContent = `${count(shown.length)} events${cursor ? ' so far' : ''}, newest first.`;
    body.replaceChildren(
      shown.length ? eventTable(ctx, shown) : notice('empty', 'No events match these filters.'),
    );
    more.hidden = cursor === null;
  };
  draw();
  return h('div', {}, chips(ctx), status, body, more);
}

function chips(ctx: Ctx): HTMLElement {
  const items = [...ctx.params].filter(([k]) => k !== 'period');
  return h(
    'p',
    { class: 'chips', 'aria-label': 'Active filters' },
    items.length === 0
      ? 'All events of the period.'
      : items.map(([k, v]) =>
          h('span', { class: 'chip' }, `${k.replace('_', ' ')}: ${v === '' ? '(none)' : v}`),
        ),
    ' ',
    h('a', { href: href('statement', { period: ctx.period }) }, 'Back to the statement'),
  );
}

function eventTable(ctx: Ctx, rows: EventRow[]): HTMLElement {
  const { from, to } = periodWindow(ctx.period);
  return table(
    'Events',
    [
      { label: 'Time (UTC)' },
      { label: 'Identity' },
      { label: 'Team' },
      { label: 'Application' },
      { label: 'Tenant' },
      { label: 'Operation' },
      { label: 'Model' },
      { label: 'Tokens in / out', numeric: true },
      { label: 'Status' },
      { label: 'Cost', numeric: true },
      { label: 'Trace' },
    ],
    rows.map((e) => [
      utc(e.time),
      dash(e.identity) + (e.payer && e.payer !== e.identity ? ` → ${e.payer}` : ''),
      dash(e.team),
      dash(e.application),
      dash(e.tenant),
      e.operation,
      dash(e.model),
      `${count(e.input_tokens)} / ${count(e.output_tokens)}`,
      e.attribution + (e.reason ? ` · ${e.reason}` : '') + (e.status === 'error' ? ' (error)' : ''),
      e.priced ? precise(e.cost) : 'unpriced',
      e.trace_id
        ? h(
            'a',
            { href: href('replay', { period: ctx.period, trace: e.trace_id, from, to }) },
            e.trace_id.slice(0, 8),
          )
        : '—',
    ]),
    { 'data-testid': 'events-table', class: 'lines' },
  );
}
