/** Hash routes: `#/statement?period=2026-10&team=team-search`, or a range: `?from=2026-10-05&to=2026-10-20`. */
import type { Win } from './context.js';

const VIEWS = [
  'overview',
  'breakdown',
  'statement',
  'events',
  'signals',
  'replay',
  'posture',
  'budgets',
  'sampling',
] as const;
export type View = (typeof VIEWS)[number];

interface Route {
  view: View;
  params: URLSearchParams;
}

/** Returns null for hashes that are not routes (an in-page anchor such as the skip link). */
export function parseHash(hash: string): Route | null {
  if (hash === '' || hash === '#' || hash === '#/')
    return { view: 'overview', params: new URLSearchParams() };
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  const view = VIEWS.find((v) => v === m[1]) ?? 'overview';
  return { view, params: new URLSearchParams(m[2] ?? '') };
}

export function href(view: View, params: Record<string, string | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) q.set(k, v);
  const qs = q.toString();
  return `#/${view}${qs ? `?${qs}` : ''}`;
}

/** Without data to go by, the month being invoiced: the one that just closed. */
export function previousMonth(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function isPeriod(p: string | null): p is string {
  return p !== null && /^\d{4}-(0[1-9]|1[0-2])$/.test(p);
}

export function isDate(d: string | null): d is string {
  return d !== null && /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`));
}

/**
 * The window of a route: `from` and `to` when both are dates and `to` is
 * later, else `period`, else `fallback` (the latest month with data).
 * (The replay's own `from`/`to` may be times; those leave the window alone.)
 */
export function windowOf(params: URLSearchParams, fallback: string): Win {
  const from = params.get('from');
  const to = params.get('to');
  if (isDate(from) && isDate(to) && to > from) return { from, to };
  const period = params.get('period');
  return { period: isPeriod(period) ? period : fallback };
}
