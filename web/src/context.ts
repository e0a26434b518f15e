import { get, type Query, type Session } from './api.js';

/** What a view gets: who is signed in, the route's parameters and the period being looked at. */
export interface Ctx {
  session: Session;
  params: URLSearchParams;
  period: string;
  api<T>(path: string, query?: Query): Promise<T>;
  /** Runs once the view is in the document: charts need their laid-out size. */
  onMount(fn: () => void): void;
}

export type ViewFn = (ctx: Ctx) => Promise<Node>;

export function makeCtx(
  session: Session,
  params: URLSearchParams,
  period: string,
  mounts: Array<() => void>,
): Ctx {
  return {
    session,
    params,
    period,
    api: (path, query) => get(session.token, path, query),
    onMount: (fn) => mounts.push(fn),
  };
}

/** The period as a window: `from` inclusive, `to` exclusive (dates, UTC). */
export function periodWindow(period: string): { from: string; to: string } {
  const [y = 0, m = 1] = period.split('-').map(Number);
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { from: `${period}-01`, to: next };
}
