import type { EventPage, EventRow } from '../api.js';
import type { Ctx } from '../context.js';
import { csvButton, dash, h, notice, table, valued } from '../dom.js';
import { DIMENSIONS, filterParams, filtersOf, LABELS } from '../filters.js';
import { count, precise } from '../format.js';
import { named, nameOf } from '../names.js';
import { href } from '../router.js';
import { explainButton } from './explain.js';

const PAGE = 200;
/** Pages fetched per click at most, when sparse filters leave pages empty. */
const MAX_PAGES = 25;

/** The drill-down: every filter runs in the API (`none=tenant` for events without a tenant). */
export async function eventsView(ctx: Ctx): Promise<Node> {
  const filter = filtersOf(ctx.params);
  const trace = ctx.params.get('trace');
  const query: Record<string, string> = {
    ...ctx.winParams,
    ...filterParams(filter),
    ...(trace ? { trace } : {}),
    limit: String(PAGE),
  };
  let cursor: string | null = null;
  const shown: EventRow[] = [];
  const loadMore = async (): Promise<void> => {
    const before = shown.length;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page: EventPage = await ctx.api<EventPage>('/v1/events', cursor ? { ...query, cursor } : query);
      shown.push(...page.events);
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
      shown.length
        ? eventTable(ctx, shown)
        : notice(
            'empty',
            `No events in ${ctx.label} match these filters. Remove a filter, or pick another period above.`,
          ),
    );
    more.hidden = cursor === null;
  };
  draw();
  return h(
    'div',
    {},
    chips(ctx, filter, trace),
    h(
      'p',
      { class: 'actions' },
      status,
      csvButton(() => body, `tally-events-${ctx.label.replace(/\s+/g, '')}.csv`),
    ),
    body,
    more,
  );
}

function chips(ctx: Ctx, filter: ReturnType<typeof filtersOf>, trace: string | null): HTMLElement {
  const items = DIMENSIONS.filter((d) => filter[d] !== undefined).map((d) => {
    const v = filter[d];
    return h(
      'span',
      { class: 'chip', title: v ?? null },
      `${LABELS[d]}: ${v === null || v === undefined ? '(none)' : nameOf(ctx.names, d, v)}`,
    );
  });
  if (trace) items.push(h('span', { class: 'chip' }, `trace: ${trace}`));
  return h(
    'p',
    { class: 'chips', 'aria-label': 'Active filters' },
    items.length === 0 ? `All events of ${ctx.label}.` : items,
    ' ',
    h('a', { href: href('statement', ctx.winParams) }, 'Back to the statement'),
  );
}

function eventTable(ctx: Ctx, rows: EventRow[]): HTMLElement {
  const { from, to } = ctx.range;
  const paidBy = (e: EventRow) => e.payer && e.payer !== e.identity;
  return table(
    'Events',
    [
      { label: 'Time (UTC)' },
      { label: 'Identity' },
      { label: 'Team' },
      { label: 'Application' },
      { label: 'Tenant' },
      { label: 'Operation · model' },
      { label: 'Tokens in / out', numeric: true },
      { label: 'Status' },
      { label: 'Cost', numeric: true },
      { label: 'Trace · why', sortable: false },
    ],
    rows.map((e) => [
      valued(e.time.slice(0, 10) + ' ' + e.time.slice(11, 19), e.time),
      h(
        'span',
        { class: 'id', title: paidBy(e) ? `${e.identity} → paid by ${e.payer}` : e.identity },
        dash(e.identity) + (paidBy(e) ? ` → ${e.payer}` : ''),
      ),
      named(ctx.names, 'team', e.team),
      named(ctx.names, 'application', e.application),
      named(ctx.names, 'tenant', e.tenant),
      h(
        'span',
        {},
        e.operation,
        e.model
          ? [h('br', {}), h('span', { class: 'id', title: `${e.provider ?? ''} ${e.model}`.trim() }, e.model)]
          : null,
      ),
      valued(
        `${count(e.input_tokens)} / ${count(e.output_tokens)}`,
        String(e.input_tokens + e.output_tokens),
      ),
      e.attribution + (e.reason ? ` · ${e.reason}` : '') + (e.status === 'error' ? ' (error)' : ''),
      e.priced && e.cost !== null ? valued(precise(e.cost), e.cost) : 'unpriced',
      h(
        'span',
        { class: 'why' },
        e.trace_id
          ? h(
              'a',
              { href: href('replay', { ...ctx.winParams, trace: e.trace_id, from, to }), title: e.trace_id },
              e.trace_id.slice(0, 8),
            )
          : '—',
        ' ',
        explainButton(ctx, e),
      ),
    ]),
    { 'data-testid': 'events-table', class: 'lines events' },
  );
}
