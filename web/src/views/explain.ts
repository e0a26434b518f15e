/**
 * The explain panel of a drill-down row: why this event was charged where it
 * was, as GET /v1/explain tells it (docs/reference/explain.md). It opens
 * under the row; every figure is the API's.
 */
import type { EventRow } from '../api.js';
import type { Ctx } from '../context.js';
import { h, notice, table } from '../dom.js';
import { cents, count, precise, utc } from '../format.js';
import { named } from '../names.js';

type Obj = Record<string, unknown>;

export function explainButton(ctx: Ctx, e: EventRow): HTMLElement {
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'link',
      'data-testid': 'explain',
      'aria-expanded': 'false',
      title: 'Why this event was charged where it was',
      onclick: async () => {
        const row = button.closest('tr');
        const next = row?.nextElementSibling;
        if (next?.classList.contains('explain-row')) {
          next.remove();
          button.setAttribute('aria-expanded', 'false');
          return;
        }
        button.disabled = true;
        const cell = h(
          'td',
          { colspan: row?.cells.length ?? 1 },
          notice('loading', 'Explaining this event…'),
        );
        row?.after(h('tr', { class: 'explain-row detail-row' }, cell));
        button.setAttribute('aria-expanded', 'true');
        try {
          const body = await ctx.api<Obj>('/v1/explain', { id: e.id, source: e.source });
          cell.replaceChildren(panel(ctx, body));
        } catch (err) {
          cell.replaceChildren(
            notice(
              'error',
              `Could not explain this event: ${(err as Error).message}. Try again, or run tally explain ${e.id} --source ${e.source}.`,
            ),
          );
        } finally {
          button.disabled = false;
        }
      },
    },
    'explain',
  );
  return button;
}

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (v === null || v === undefined || v === '' ? '—' : String(v));

function fact(label: string, ...value: Array<Node | string | null>): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function section(title: string, ...facts: Array<HTMLElement[] | null>): HTMLElement {
  return h('div', { class: 'explain-part' }, h('h3', {}, title), h('dl', { class: 'facts' }, facts));
}

function panel(ctx: Ctx, x: Obj): HTMLElement {
  const cur = typeof x.currency === 'string' ? x.currency : 'USD';
  return h(
    'div',
    { class: 'explain', 'data-testid': 'explain-panel' },
    identityPart(x),
    ownerPart(ctx, x),
    verdictPart(ctx, x),
    pricePart(x, cur),
    linePart(ctx, x, cur),
  );
}

function identityPart(x: Obj): HTMLElement {
  const id = obj(x.identity);
  const inv = obj(x.invoker);
  const selectors = Object.entries(obj(id.selectors))
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const matched = arr(id.matched).map(
    (m) =>
      `${str(m.identity)} by ${JSON.stringify(m.selector)} (${str(m.score)} field${m.score === 1 ? '' : 's'})${m.chosen ? ' ← chosen' : ''}`,
  );
  const near = arr(id.near_misses).map((m) => `${str(m.identity)} by ${JSON.stringify(m.selector)}`);
  const path = arr(inv.path).map(
    (p) =>
      `span ${str(p.span_id)}: ${str(p.identity)}${p.shared ? ' (shared)' : ''}${p.can_pay ? ' (can pay)' : ''}${p.stored === false ? ' (not stored: the walk stops)' : ''}`,
  );
  return section(
    'Identity',
    fact('The event carried', selectors || '—'),
    fact('Verdict', h('span', { 'data-testid': 'explain-identity' }, `${str(id.verdict)}: ${str(id.id)}`)),
    matched.length ? fact('Selectors that match', list(matched)) : null,
    near.length ? fact('Near misses', list(near)) : null,
    fact(
      'Who pays',
      `${str(inv.payer)} (${str(inv.rollup)}${inv.shared ? ', shared work paid by its invoker' : ''})`,
    ),
    path.length ? fact('Invoker path', list(path)) : null,
  );
}

function ownerPart(ctx: Ctx, x: Obj): HTMLElement {
  const o = obj(x.owner);
  const entries = arr(o.owners).map(
    (e) =>
      `${str(e.team)} from ${e.from ? utc(String(e.from)) : 'always'}${e.until ? ` until ${utc(String(e.until))}` : ''}${e.in_effect ? ' ← in effect' : ''}`,
  );
  return section(
    `Owner at ${o.at ? utc(String(o.at)) : 'the event’s time'}`,
    fact(
      'Chain',
      named(ctx.names, 'application', (o.application as string) ?? null),
      ' → ',
      named(ctx.names, 'team', (o.team as string) ?? null),
      ' → ',
      named(ctx.names, 'cost_center', (o.cost_center as string) ?? null),
    ),
    fact('Verdict', `${str(o.verdict)}${o.stale ? ' (owner offboarded or retired before the event)' : ''}`),
    entries.length ? fact('Owner entries', list(entries)) : null,
  );
}

function verdictPart(ctx: Ctx, x: Obj): HTMLElement {
  const t = obj(x.tenant);
  const life = arr(obj(x.lifecycle).events).map(
    (l) => `${str(l.event)} ${l.at ? utc(String(l.at)) : ''}${l.before_event ? '' : ' (after the event)'}`,
  );
  const allow = obj(x.allowlist);
  const disputes = arr(x.disputes).map(String);
  const billing = obj(x.billing);
  return section(
    'Verdicts',
    fact(
      'Tenant',
      `${str(t.verdict)}${t.claim ? ` (claim ${t.claim}${t.inherited_from ? `, inherited from span ${t.inherited_from}` : ''})` : ''}: `,
      named(ctx.names, 'tenant', (t.charged as string) ?? null),
    ),
    fact('Lifecycle', life.length ? life.join('; ') : 'no entries'),
    fact(
      'Allowlist',
      allow.models === null || allow.models === undefined
        ? 'any model'
        : `${str(allow.model)} ${allow.allowed ? 'is in' : 'is not in'} ${(allow.models as string[]).join(', ')}`,
    ),
    fact('Disputes', disputes.length ? disputes.join(', ') : 'none'),
    fact(
      'Status',
      h('span', { 'data-testid': 'explain-status' }, `${str(x.status)}${x.reason ? ` · ${x.reason}` : ''}`),
    ),
    fact('Billed', billing.billed ? 'yes' : `no (${str(billing.not_billed)})`),
  );
}

function pricePart(x: Obj, cur: string): HTMLElement {
  const p = obj(x.price);
  const comps = arr(p.components);
  const org = obj(p.organisation_price);
  const from =
    p.source === 'organisation'
      ? `organisation price for ${str(org.provider)}/${str(org.model)}`
      : p.source === 'catalog'
        ? `catalog ${str(p.catalog_version)}`
        : `no token price (${str(p.stop)})`;
  const discount = obj(p.discount);
  return h(
    'div',
    { class: 'explain-part' },
    h('h3', {}, `Price: ${from}`),
    comps.length
      ? table(
          'Price components',
          [
            { label: 'Part' },
            { label: 'Quantity', numeric: true },
            { label: 'Rate', numeric: true },
            { label: 'Amount', numeric: true },
            { label: 'Source' },
          ],
          comps.map((c) => [
            str(c.part),
            count(Number(c.quantity ?? 0)),
            `${str(c.rate)} ${c.rate_unit === 'per_mtok' ? '/ Mtok' : '/ unit'}`,
            precise(String(c.amount ?? '0'), cur),
            str(c.source),
          ]),
          { class: 'compact', 'data-testid': 'explain-components' },
        )
      : null,
    h(
      'dl',
      { class: 'facts' },
      discount.percent !== undefined
        ? fact('Discount', `${str(discount.percent)} %: ${precise(String(p.discount_amount ?? '0'), cur)}`)
        : null,
      p.unit_cost && p.unit_cost !== '0.00' ? fact('Unit prices', precise(String(p.unit_cost), cur)) : null,
      fact(
        'Event cost',
        h(
          'strong',
          { 'data-testid': 'explain-cost' },
          p.effective_cost === null ? 'unpriced' : precise(String(p.effective_cost), cur),
        ),
        p.list_cost ? ` (list price ${precise(String(p.list_cost), cur)})` : null,
      ),
    ),
  );
}

function linePart(ctx: Ctx, x: Obj, cur: string): HTMLElement | null {
  const l = obj(x.line);
  if (!x.line) return null;
  const key = obj(l.key);
  const c = obj(l.cents);
  return section(
    'Statement line',
    fact(
      'Line',
      named(ctx.names, 'team', (key.team as string) ?? null),
      ' · ',
      named(ctx.names, 'application', (key.application as string) ?? null),
      ` · ${str(key.category)} · ${str(key.status)}${key.reason ? ` · ${key.reason}` : ''}`,
    ),
    fact('This event adds', `${precise(String(l.event_effective_cost ?? '0'), cur)} effective`),
    fact(
      'The line',
      `${count(Number(l.events ?? 0))} events, `,
      h('span', { 'data-testid': 'explain-line-cents' }, cents(String(c.effective_cost ?? '0'), cur)),
      ' on the statement',
    ),
  );
}

function list(items: string[]): HTMLElement {
  return h(
    'ul',
    { class: 'plain' },
    items.map((i) => h('li', {}, i)),
  );
}
