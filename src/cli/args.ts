/** Argument parsing shared by the commands: node's parseArgs with usage errors as TallyErrors. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.js';
import { COMMAND_HELP, commandHelp } from './help.js';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  store: { type: 'string' },
} as const satisfies Options;

/** Thrown by `parse` for `--help`: the command's help goes to standard output, exit 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help');
  }
}

export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) throw new HelpRequested(commandHelp(command));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(
      `${command}: ${argumentProblem(err, Object.keys(options ?? {}))}; see \`tally ${command} --help\``,
    );
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  for (const [name, allowed] of Object.entries(COMMAND_HELP[command]?.choices ?? {})) {
    const v = values[name];
    if (typeof v === 'string') values[name] = choice(command, name, v, allowed);
  }
  return { values, positionals: parsed.positionals };
}

/** node's parseArgs messages, said shortly and with the nearest known option. */
function argumentProblem(err: unknown, known: readonly string[]): string {
  const text = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '(-{1,2}[^']*)'/.exec(text);
  if (unknown?.[1]) {
    const near = nearest(unknown[1].replace(/^-+/, ''), known);
    return `unknown option ${unknown[1]}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  const missing = /Option '(-{1,2}[^']*?)(?: <value>)?' argument missing/.exec(text);
  if (missing?.[1]) return `${missing[1]} needs a value`;
  const noValue = /Option '(-{1,2}[^']*)' does not take an argument/.exec(text);
  if (noValue?.[1]) return `${noValue[1]} takes no value`;
  return text.split('. ')[0] ?? text;
}

/** An option's value, matched case-insensitively against the allowed ones; otherwise a usage error with a suggestion. */
export function choice(command: string, option: string, value: string, allowed: readonly string[]): string {
  const found = allowed.find((a) => a.toLowerCase() === value.trim().toLowerCase());
  if (found !== undefined) return found;
  const near = nearest(value, allowed);
  throw new UsageError(
    `${command}: --${option} must be one of ${allowed.join(', ')}, got '${value}'${near ? ` (did you mean ${near}?)` : ''}`,
  );
}

/** The candidate within edit distance 2 (or sharing a prefix of 3), if any. */
export function nearest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const d =
      c.toLowerCase().startsWith(w.slice(0, 3)) && w.length >= 3
        ? Math.min(2, distance(w, c))
        : distance(w, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** `--out FILE` must name a file in a folder that exists: say so instead of a stack trace. */
export function checkOut(command: string, out: string | undefined): void {
  if (out === undefined) return;
  const dir = path.dirname(path.resolve(out));
  if (!existsSync(dir)) throw new UsageError(`${command}: the folder of --out does not exist: ${dir}`);
  if (existsSync(out) && statSync(out).isDirectory())
    throw new UsageError(`${command}: --out names a folder, not a file: ${out}`);
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
