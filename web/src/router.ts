/** Hash routes: `#/statement?period=2026-10&team=team-search`. */

const VIEWS = ['overview', 'statement', 'events', 'signals', 'replay', 'posture', 'budgets'] as const;
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

/** The month being invoiced is the one that just closed. */
export function defaultPeriod(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function isPeriod(p: string | null): p is string {
  return p !== null && /^\d{4}-(0[1-9]|1[0-2])$/.test(p);
}
