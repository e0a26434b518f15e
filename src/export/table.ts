/**
 * The terminal form of a statement: the totals, then the lines in aligned
 * columns, one block per status so that disputed and unattributed money
 * stands apart. Amounts are the statement's cents (core/cents.ts), so the
 * lines add up to each subtotal and the subtotals to the totals; the exact
 * figures are in the JSON and FOCUS forms.
 */
import { maxOf } from '../core/arrays.js';
import type { Status } from '../core/attribution.js';
import type { LineCents } from '../core/cents.js';
import { formatFixed, type Money } from '../core/money.js';
import { interval95, type SampleUnits } from '../core/sampling.js';
import { centsText, iso, LEVEL_FIELDS, type Line, type Statement } from '../core/statement.js';
import { columnWidths, coveragePercent, signedCents } from './format.js';

const STATUSES: readonly Status[] = ['attributed', 'disputed', 'unattributed'];

const AMOUNTS = [
  ['direct', 'direct_cost'],
  ['shared', 'shared_cost'],
  ['effective', 'effective_cost'],
  ['list', 'list_cost'],
  ['billed', 'billed_cost'],
] as const satisfies readonly (readonly [string, keyof LineCents])[];

export function renderTable(s: Statement): string {
  const blocks = [header(s)];
  for (const status of STATUSES) {
    const lines = s.lines.filter((l) => l.status === status);
    if (lines.length > 0) blocks.push(`${status.toUpperCase()} (${lines.length})\n${linesTable(s, lines)}`);
  }
  if (s.lines.length === 0) blocks.push('no lines');
  return `${blocks.join('\n\n')}\n`;
}

function header(s: Statement): string {
  const t = s.totals;
  const pairs: [string, string][] = [
    ['period', `${iso(s.period.start)} .. ${iso(s.period.end)} (end exclusive)`],
    ['currency', s.currency],
    ['level', s.level],
    ['effective', centsText(t.cents.effective_cost)],
    ['billed', centsText(t.cents.billed_cost)],
    ['attributed', centsText(t.cents.attributed_cost)],
    ['unattributed', centsText(t.cents.unattributed_cost)],
    ['disputed', centsText(t.cents.disputed_cost)],
    ['shared', centsText(t.cents.shared_cost)],
    ['coverage', coveragePercent(t)],
    ['events', String(t.events)],
    ['unpriced events', String(t.unpriced_events)],
  ];
  const ci = estimateText(t.effective_cost, t.sample);
  if (ci) pairs.splice(3, 0, ['estimated', `${ci} (95 % interval of effective; sampled telemetry)`]);
  const d = s.differs_from_issued;
  if (d)
    pairs.push([
      'DIFFERS FROM ISSUED',
      `v${d.version}: effective ${signedCents(d.effective_cost_delta)} since it was issued (late data or a changed configuration); restate or issue again`,
    ]);
  return align(
    pairs,
    pairs.map(() => false),
  );
}

/** `≈ low – high`, the 95 % interval of an estimated amount in cents; null when it is exact. */
function estimateText(effective: Money, sample: SampleUnits | undefined): string | null {
  if (!sample || sample.size === 0) return null;
  const [low, high] = interval95(effective, sample);
  return `≈ ${formatFixed(low, 2)} – ${formatFixed(high, 2)}`;
}

function linesTable(s: Statement, lines: readonly Line[]): string {
  const keys = LEVEL_FIELDS[s.level].filter((f) => f !== 'status');
  // Only a statement with sampled telemetry gets the interval column: every other table is as before.
  const sampled = lines.some((l) => l.sample && l.sample.size > 0);
  const head = [
    ...keys,
    ...AMOUNTS.map(([h]) => h),
    'events',
    ...(sampled ? ['effective 95 % interval'] : []),
  ];
  const rows = lines.map((l) => [
    ...keys.map((k) => l[k] ?? '-'),
    ...AMOUNTS.map(([, f]) => centsText(l.cents[f])),
    String(l.events),
    ...(sampled ? [estimateText(l.effective_cost, l.sample) ?? ''] : []),
  ]);
  const subtotal = [
    ...keys.map((_, i) => (i === 0 ? 'total' : '')),
    ...AMOUNTS.map(([, f]) => centsText(lines.reduce((sum, l) => sum + l.cents[f], 0n))),
    String(lines.reduce((n, l) => n + l.events, 0)),
    ...(sampled ? [''] : []),
  ];
  const right = head.map((_, i) => i >= keys.length);
  const [top = '', ...rest] = align([head, ...rows, subtotal], right).split('\n');
  // A month has hundreds of thousands of lines (core/arrays.ts).
  const rule = '-'.repeat(maxOf([top, ...rest].map((r) => r.length)));
  return [top, rule, ...rest.slice(0, -1), rule, rest.at(-1)].join('\n');
}

/** Pads every cell to its column's width; right-aligned columns for numbers. */
function align(rows: readonly (readonly string[])[], right: readonly boolean[]): string {
  const widths = columnWidths(rows);
  return rows
    .map((r) =>
      r
        .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
