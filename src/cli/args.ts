/** Argument parsing shared by the commands: node's parseArgs with usage errors as TallyErrors. */
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.js';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  store: { type: 'string' },
} as const satisfies Options;

export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (err) {
    throw new UsageError(`${command}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function str(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** `YYYY-MM` → [start, end) in epoch ms UTC. */
export function monthWindow(period: string): { start: number; end: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  if (!m) throw new UsageError(`--period must be YYYY-MM, got '${period}'`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12) throw new UsageError(`--period month must be 01-12, got '${period}'`);
  return { start: Date.UTC(y, mo - 1, 1), end: Date.UTC(y, mo, 1) };
}

export function parseTime(flag: string, value: string): number {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(`${flag} must be a date (YYYY-MM-DD) or an RFC 3339 time, got '${value}'`);
  }
  return t;
}

/** The statement window from --period or --from/--to. */
export function windowFrom(values: Record<string, unknown>): { start: number; end: number; label: string } {
  const period = str(values, 'period');
  const from = str(values, 'from');
  const to = str(values, 'to');
  if (period && (from || to)) throw new UsageError('give either --period or --from/--to, not both');
  if (period) return { ...monthWindow(period), label: period };
  if (from && to) {
    const start = parseTime('--from', from);
    const end = parseTime('--to', to);
    if (end <= start) throw new UsageError('--to must be after --from');
    return { start, end, label: `${from}..${to}` };
  }
  throw new UsageError('a window is needed: --period YYYY-MM, or --from and --to');
}
