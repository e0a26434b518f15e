import { get, type Query, type Session } from './api.js';
import type { Names } from './names.js';

/** The window a view shows: a calendar month, or a range of UTC dates (`to` exclusive). */
export type Win = { period: string } | { from: string; to: string };

/** What a view gets: who is signed in, the route's parameters and the window being looked at. */
export interface Ctx {
  session: Session;
  params: URLSearchParams;
  win: Win;
  /** The month for monthly views (budgets): the period, or the month the range starts in. */
  period: string;
  /** The window as dates, `to` exclusive. */
  range: { from: string; to: string };
  /** The window's parameters, for the API and for links that keep it. */
  winParams: Record<string, string>;
  /** `2026-10`, or `2026-10-05 – 2026-10-19`. */
  label: string;
  names: Names;
  /** The latest month with data, for empty states to point to. */
  latest: string;
  api<T>(path: string, query?: Query): Promise<T>;
  /** Runs once the view is in the document: charts need their laid-out size. */
  onMount(fn: () => void): void;
}

export type ViewFn = (ctx: Ctx) => Promise<Node>;

export function makeCtx(
  session: Session,
  params: URLSearchParams,
  win: Win,
  boot: { names: Names; latest: string },
  mounts: Array<() => void>,
): Ctx {
  const range = 'period' in win ? periodWindow(win.period) : { from: win.from, to: win.to };
  return {
    session,
    params,
    win,
    period: 'period' in win ? win.period : win.from.slice(0, 7),
    range,
    winParams: 'period' in win ? { period: win.period } : { from: win.from, to: win.to },
    label: windowLabel(win),
    names: boot.names,
    latest: boot.latest,
    api: (path, query) => get(session.token, path, query),
    onMount: (fn) => mounts.push(fn),
  };
}

/** A range is shown with its last day (the day before the exclusive end). */
export function windowLabel(win: Win): string {
  if ('period' in win) return win.period;
  return `${win.from} – ${addDays(win.to, -1)}`;
}

export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The period as a window: `from` inclusive, `to` exclusive (dates, UTC). */
export function periodWindow(period: string): { from: string; to: string } {
  const [y = 0, m = 1] = period.split('-').map(Number);
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { from: `${period}-01`, to: next };
}

/** A window the API sends back (`start`, `end` times) as a month or a date range, to label it alike. */
export function apiWindow(p: { start: string; end: string }): Win {
  const from = p.start.slice(0, 10);
  const to = p.end.slice(0, 10);
  const period = from.slice(0, 7);
  return from.endsWith('-01') && periodWindow(period).to === to ? { period } : { from, to };
}
