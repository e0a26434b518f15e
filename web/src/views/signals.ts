import type { Signal, Signals } from '../api.js';
import type { Ctx } from '../context.js';
import { dash, h, notice } from '../dom.js';
import { cents, count, utc } from '../format.js';
import { href } from '../router.js';

const ORDER = ['critical', 'high', 'medium', 'low'];

export async function signalsView(ctx: Ctx): Promise<Node> {
  const { from, to } = ctx.range;
  const res = await ctx.api<Signals>('/v1/signals', { from, to });
  const list = [...res.signals].sort(
    (a, b) =>
      ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity) || a.first_seen.localeCompare(b.first_seen),
  );
  const bySeverity = ORDER.map((s) => [s, list.filter((x) => x.severity === s).length] as const);
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'chips', 'data-testid': 'signal-counts' },
      bySeverity.map(([s, n]) => h('span', { class: `chip sev-${s}` }, `${n} ${s}`)),
      res.window ? ` in ${utc(res.window.start)} – ${utc(res.window.end)}` : '',
    ),
    list.length === 0
      ? notice(
          'empty',
          `No signals in ${ctx.label}. Pick another period above; signals need usage in the window.`,
        )
      : h(
          'ol',
          { class: 'signals', 'data-testid': 'signals' },
          list.map((s) => h('li', {}, card(ctx, s))),
        ),
  );
}

/** The replay window covers the signal's events: `to` is exclusive, so it ends just after the last one. */
function replayLink(ctx: Ctx, s: Signal): string {
  const to = new Date(Date.parse(s.last_seen) + 1000).toISOString();
  return href('replay', { period: ctx.period, identity: s.identity, from: s.first_seen, to });
}

function card(ctx: Ctx, s: Signal): HTMLElement {
  const { events = [], ...figures } = s.evidence;
  return h(
    'article',
    { class: `signal sev-${s.severity}`, 'data-testid': 'signal', 'data-rule': s.rule },
    h('h2', {}, h('span', { class: `badge sev-${s.severity}` }, s.severity), ` ${s.rule} · ${s.title}`),
    h(
      'dl',
      { class: 'facts' },
      fact('Identity', s.identity),
      fact('Team', dash(s.team)),
      fact('Seen', `${utc(s.first_seen)} – ${utc(s.last_seen)}`),
      fact('Events', count(s.events)),
      fact('Cost', cents(s.cost)),
      s.refs.length ? fact('References', s.refs.join(', ')) : null,
    ),
    h(
      'details',
      {},
      h('summary', {}, 'Evidence'),
      h(
        'dl',
        { class: 'facts' },
        Object.entries(figures).map(([k, v]) => fact(k.replace(/_/g, ' '), show(v))),
      ),
      events.length ? h('p', {}, 'Events: ', h('code', {}, events.join(', '))) : null,
    ),
    h(
      'p',
      {},
      h(
        'a',
        { href: replayLink(ctx, s), 'data-testid': 'replay-link', class: 'button' },
        'Replay the incident',
      ),
    ),
  );
}

function fact(label: string, value: string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function show(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : JSON.stringify(v);
}
