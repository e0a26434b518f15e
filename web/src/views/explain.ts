/**
 * The explain panel of a drill-down row: why this event was charged where it
 * was, as GET /v1/explain tells it. It opens under the row.
 */
import type { EventRow } from '../api.js';
import type { Ctx } from '../context.js';
import { h, notice } from '../dom.js';

export function explainButton(ctx: Ctx, e: EventRow): HTMLElement {
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'link',
      'data-testid': 'explain',
      'aria-expanded': 'false',
      onclick: async () => {
        const row = button.closest('tr');
        const open = row?.nextElementSibling?.classList.contains('explain-row');
        if (open) {
          row?.nextElementSibling?.remove();
          button.setAttribute('aria-expanded', 'false');
          return;
        }
        button.disabled = true;
        const cell = h('td', { colspan: row?.cells.length ?? 1 }, notice('loading', 'Explaining…'));
        row?.after(h('tr', { class: 'explain-row' }, cell));
        button.setAttribute('aria-expanded', 'true');
        try {
          const body = await ctx.api<Record<string, unknown>>('/v1/explain', { id: e.id, source: e.source });
          cell.replaceChildren(panel(body));
        } catch (err) {
          cell.replaceChildren(
            notice(
              'error',
              `Could not explain this event: ${(err as Error).message}. Try again, or run tally explain ${e.id}.`,
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

/** Every part of the explanation as a list of facts, nested parts as nested lists. */
function panel(body: Record<string, unknown>): HTMLElement {
  return h('div', { class: 'explain', 'data-testid': 'explain-panel' }, facts(body));
}

function facts(o: Record<string, unknown>): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    Object.entries(o).map(([k, v]) => [h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, value(v))]),
  );
}

function value(v: unknown): Node | string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v))
    return v.length === 0
      ? '—'
      : h(
          'ol',
          {},
          v.map((x) => h('li', {}, value(x))),
        );
  if (typeof v === 'object') return facts(v as Record<string, unknown>);
  return String(v);
}
