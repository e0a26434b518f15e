import type { Replay, ReplaySpan, Signal } from '../api.js';
import type { Ctx } from '../context.js';
import { dash, h, notice, table } from '../dom.js';
import { cents, count, precise, utc } from '../format.js';
import { href } from '../router.js';

/** Traces drawn at first; an identity over a month can have hundreds. */
const TRACES_AT_ONCE = 40;

export async function replayView(ctx: Ctx): Promise<Node> {
  const p = ctx.params;
  const trace = p.get('trace');
  const identity = p.get('identity');
  const period = ctx.range;
  // A trace is replayed whole unless a window is given; an identity needs one, the period by default.
  const from = p.get('from') ?? (trace ? null : period.from);
  const to = p.get('to') ?? (trace ? null : period.to);
  if (!identity && !trace) {
    return h(
      'div',
      {},
      notice('empty', 'Choose what to replay: an identity and a window, or a trace. Signals link here.'),
      selectionForm(ctx, period.from, period.to),
    );
  }
  const r = await ctx.api<Replay>('/v1/replay', { from, to, identity, trace });
  const cur = r.currency;
  const t = r.totals;
  const kpi = (id: string, label: string, raw: string) =>
    h(
      'div',
      { class: 'kpi' },
      h('dt', {}, label),
      h('dd', { 'data-testid': `replay-${id}`, 'data-value': raw }, cents(raw, cur)),
    );

  const list = h('div', { 'data-testid': 'replay-tree' });
  let shown = 0;
  const more = h('button', { type: 'button' }, 'Show more traces');
  const showMore = () => {
    for (const tr of r.traces.slice(shown, shown + TRACES_AT_ONCE))
      list.appendChild(traceSection(ctx, tr, r));
    shown = Math.min(r.traces.length, shown + TRACES_AT_ONCE);
    more.hidden = shown >= r.traces.length;
  };
  more.addEventListener('click', showMore);
  showMore();

  return h(
    'div',
    {},
    h(
      'p',
      { class: 'chips' },
      identity ? h('span', { class: 'chip' }, `identity: ${identity}`) : null,
      trace ? h('span', { class: 'chip' }, `trace: ${trace}`) : null,
      h('span', { class: 'chip' }, `${utc(r.window.start)} – ${utc(r.window.end)}`),
    ),
    h(
      'dl',
      { class: 'kpis small', 'aria-label': 'Replay totals' },
      kpi('effective', 'Spend in the window', t.effective_cost),
      kpi('legitimate', 'Legitimate', t.legitimate_cost),
      kpi('disputed', 'Disputed', t.disputed_cost),
      kpi('unattributed', 'Unattributed', t.unattributed_cost),
      kpi('billed', 'Billed', t.billed_cost),
      h('div', { class: 'kpi' }, h('dt', {}, 'Events'), h('dd', {}, count(t.events))),
    ),
    t.by_reason.length
      ? table(
          'Spend by verdict',
          [
            { label: 'Status' },
            { label: 'Reason' },
            { label: 'Events', numeric: true },
            { label: 'Cost', numeric: true },
          ],
          t.by_reason.map((b) => [b.status, dash(b.reason), count(b.events), cents(b.cost, cur)]),
          { class: 'compact' },
        )
      : null,
    r.signals.length ? signalList(r.signals) : null,
    h('h2', {}, `${count(r.traces.length)} traces`),
    r.traces.length ? list : notice('empty', 'No events in this window for this selection.'),
    more,
  );
}

function signalList(signals: Signal[]): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'fed-h' },
    h('h2', { id: 'fed-h' }, 'Signals these events fed'),
    h(
      'ul',
      {},
      signals.map((s) =>
        h(
          'li',
          {},
          h('span', { class: `badge sev-${s.severity}` }, s.severity),
          ` ${s.rule} · ${s.title} · ${s.identity}`,
        ),
      ),
    ),
  );
}

function traceSection(ctx: Ctx, t: Replay['traces'][number], r: Replay): HTMLElement {
  return h(
    'section',
    { class: 'trace', 'data-testid': 'trace' },
    h(
      'h3',
      {},
      t.trace_id ? `Trace ${t.trace_id}` : 'Event without a trace',
      h(
        'span',
        { class: 'sub' },
        ` · ${utc(t.start)} · `,
        h('span', { class: 'cost' }, cents(t.cost, r.currency)),
      ),
      t.trace_id && !ctx.params.get('trace')
        ? [' · ', h('a', { href: href('replay', { period: ctx.period, trace: t.trace_id }) }, 'whole trace')]
        : null,
    ),
    h(
      'ul',
      { class: 'tree' },
      t.spans.map((n) => spanItem(n, r)),
    ),
  );
}

function verdictText(n: ReplaySpan): string {
  const v = n.verdict;
  const parts = [v.status + (v.reason ? ` · ${v.reason}` : '')];
  if (v.lifecycle === 'unregistered') parts.push('not in the registry');
  else if (v.lifecycle !== 'active')
    parts.push(`key ${v.lifecycle}${v.lifecycle_since ? ` since ${utc(v.lifecycle_since)}` : ''}`);
  if (v.model_allowed === false) parts.push('model not allowed');
  if (v.tenant_allowed === false) parts.push(`tenant ${v.tenant_claim} refused`);
  if (v.owner_stale) parts.push('owner offboarded');
  return parts.join(' · ');
}

function spanItem(n: ReplaySpan, r: Replay): HTMLElement {
  const fed = n.signals.map((i) => r.signals[i]).filter((s): s is Signal => s !== undefined);
  const status = n.verdict.status;
  return h(
    'li',
    { class: n.selected ? null : 'context', 'data-testid': 'span' },
    h(
      'div',
      { class: 'span-row' },
      h('strong', {}, n.operation + (n.model ? ` ${n.model}` : '')),
      h('span', {}, dash(n.identity) + (n.payer && n.payer !== n.identity ? ` → paid by ${n.payer}` : '')),
      h('span', { class: 'help' }, utc(n.time)),
      h('span', { class: 'help' }, `${count(n.input_tokens)} in / ${count(n.output_tokens)} out`),
      h(
        'span',
        { class: 'cost', 'data-testid': 'span-cost' },
        n.priced ? precise(n.cost, r.currency) : 'unpriced',
      ),
      h('span', { class: `verdict ${status === 'attributed' ? 'ok' : status}` }, verdictText(n)),
      fed.map((s) => h('span', { class: `badge sev-${s.severity}`, title: s.title }, s.rule)),
      n.selected ? null : h('span', { class: 'help' }, '(context, not selected)'),
    ),
    n.children.length
      ? h(
          'ul',
          {},
          n.children.map((c) => spanItem(c, r)),
        )
      : null,
  );
}

function selectionForm(ctx: Ctx, from: string, to: string): HTMLElement {
  return h(
    'form',
    {
      class: 'filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const get = (k: string) => (f.get(k) as string | null) || null;
        location.hash = href('replay', {
          period: ctx.period,
          identity: get('identity'),
          trace: get('trace'),
          from: get('from'),
          to: get('to'),
        });
      },
    },
    h('label', {}, 'Identity', h('input', { name: 'identity', placeholder: 'nhi-… or api_key:…' })),
    h('label', {}, 'or trace id', h('input', { name: 'trace' })),
    h('label', {}, 'From', h('input', { name: 'from', value: from })),
    h('label', {}, 'To (exclusive)', h('input', { name: 'to', value: to })),
    h('button', { type: 'submit' }, 'Replay'),
  );
}
