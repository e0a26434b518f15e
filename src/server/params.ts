/** Query parameters of the read API: windows, levels, limits; bad values are 400s. */
import { checkWindow, MAX_WINDOW_DAYS } from '../core/bounds.js';
import { UsageError } from '../core/errors.js';

export interface Window {
  start: number;
  end: number;
  label: string;
}

export function monthWindow(period: string): Window {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  if (!m || mo < 1 || mo > 12) throw new UsageError(`period must be YYYY-MM, got '${period}'`);
  return { start: Date.UTC(y, mo - 1, 1), end: Date.UTC(y, mo, 1), label: period };
}

function time(name: string, v: string): number {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(v))
    throw new UsageError(`${name} must be a date (YYYY-MM-DD) or an RFC 3339 time, got '${v}'`);
  return t;
}

/**
 * `period`, or `from` and `to`; else `fallback` (or a 400 when there is none).
 * A window longer than `maxDays` is a 422 naming the bound, for every role.
 */
export function windowOf(
  q: URLSearchParams,
  fallback?: () => Window,
  maxDays: number = MAX_WINDOW_DAYS.read,
): Window {
  const w = parseWindow(q, fallback);
  checkWindow('read', w, maxDays);
  return w;
}

function parseWindow(q: URLSearchParams, fallback?: () => Window): Window {
  const period = q.get('period');
  const from = q.get('from');
  const to = q.get('to');
  if (period && (from || to)) throw new UsageError('give either period or from/to, not both');
  if (period) return monthWindow(period);
  if (from || to) {
    if (!from || !to) throw new UsageError('from and to go together');
    const start = time('from', from);
    const end = time('to', to);
    if (end <= start) throw new UsageError('to must be after from');
    return { start, end, label: `${from}..${to}` };
  }
  if (fallback) return fallback();
  throw new UsageError('a window is needed: period=YYYY-MM, or from and to');
}

export function currentMonth(now: number): Window {
  const d = new Date(now);
  const label = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  return monthWindow(label);
}

export function oneOf<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[], dflt: T): T {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!allowed.includes(v as T)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function intParam(q: URLSearchParams, name: string, min: number, max: number, dflt: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}
