/**
 * The dimensions a view can group by and filter on, their labels, and how a
 * route's parameters carry filters: `model=gpt-4o`, and `none=tenant` for
 * money without a tenant (the API reads them the same way).
 */
import type { Ctx } from './context.js';
import { h } from './dom.js';
import { nameOf } from './names.js';

export const DIMENSIONS = [
  'model',
  'provider',
  'identity',
  'team',
  'application',
  'cost_center',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
] as const;
export type Dim = (typeof DIMENSIONS)[number];

export const LABELS: Record<Dim, string> = {
  model: 'Model',
  provider: 'Provider',
  identity: 'Identity (API key)',
  team: 'Team',
  application: 'Application',
  cost_center: 'Cost center',
  tenant: 'Tenant',
  environment: 'Environment',
  category: 'Category',
  status: 'Status',
  reason: 'Reason',
};

/** The filters of a route: a value, or null for "none". */
export function filtersOf(params: URLSearchParams): Partial<Record<Dim, string | null>> {
  const none = new Set((params.get('none') ?? '').split(',').filter(Boolean));
  const out: Partial<Record<Dim, string | null>> = {};
  for (const d of DIMENSIONS) {
    const v = params.get(d);
    if (v) out[d] = v;
    else if (none.has(d)) out[d] = null;
  }
  return out;
}

/** Filters as query parameters (for the API and for links). */
export function filterParams(f: Partial<Record<Dim, string | null>>): Record<string, string> {
  const out: Record<string, string> = {};
  const none: string[] = [];
  for (const [d, v] of Object.entries(f)) {
    if (v === null) none.push(d);
    else if (v !== undefined) out[d] = v;
  }
  if (none.length) out.none = none.join(',');
  return out;
}

const ANY = '*';
const NONE = '';

/** A select per dimension, the values the window has; changing one navigates with the new filters. */
export function filterSelect(
  ctx: Ctx,
  d: Dim,
  values: Array<string | null>,
  current: string | null | undefined,
  navigate: (d: Dim, v: string | null | undefined) => void,
): HTMLElement {
  const value = current === undefined ? ANY : current === null ? NONE : current;
  const options: Array<[string, string]> = [
    [ANY, 'all'],
    ...values.map((v): [string, string] => (v === null ? [NONE, '(none)'] : [v, nameOf(ctx.names, d, v)])),
  ];
  // a filter from a link whose value the window lacks stays visible
  if (value !== ANY && !options.some(([v]) => v === value)) options.push([value, value]);
  return h(
    'label',
    {},
    LABELS[d],
    h(
      'select',
      {
        name: d,
        'data-testid': `filter-${d}`,
        onchange: (e: Event) => {
          const v = (e.target as HTMLSelectElement).value;
          navigate(d, v === ANY ? undefined : v === NONE ? null : v);
        },
      },
      options.map(([v, text]) => h('option', { value: v, selected: v === value, title: v || null }, text)),
    ),
  );
}
