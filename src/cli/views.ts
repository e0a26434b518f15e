/** Terminal renderings that are not statement formats: the demo summary. */
import { formatFixed, type Money } from '../core/money.js';
import type { Signal } from '../core/signals/signal.js';
import { coverageRatio } from '../core/statement.js';
import type { Computed } from '../service/statement.js';

const usd = (m: Money) => `$${formatFixed(m, 2)}`;

function top(rows: Iterable<[string, Money]>, n: number): Array<[string, Money]> {
  return [...rows]
    .sort((a, b) => (a[1] === b[1] ? (a[0] < b[0] ? -1 : 1) : a[1] > b[1] ? -1 : 1))
    .slice(0, n);
}

function sumBy<T extends { effective_cost: Money }>(
  rows: readonly T[],
  key: (r: T) => string | null,
): Map<string, Money> {
  const out = new Map<string, Money>();
  for (const c of rows) {
    const k = key(c);
    if (k === null) continue;
    out.set(k, (out.get(k) ?? 0n) + c.effective_cost);
  }
  return out;
}

export function renderDemoSummary(
  c: Computed,
  ctx: { month: string; dir: string; incident: { identity: string } },
): string {
  const t = c.statement.totals;
  const cov = coverageRatio(t);
  const lines: string[] = [];
  lines.push('', `Statement ${ctx.month} (${c.statement.currency})`);
  lines.push(`  total (effective)  ${usd(t.effective_cost)}`);
  lines.push(`  billed             ${usd(t.billed_cost)}`);
  lines.push(`  shared pools       ${usd(t.shared_cost)}`);
  lines.push(`  coverage           ${cov === null ? 'n/a' : `${(cov * 100).toFixed(1)} %`}`);
  lines.push(`  unpriced events    ${t.unpriced_events}`);
  const lineRows = c.statement.lines;
  const attributed = lineRows.filter((l) => l.status === 'attributed');
  lines.push('', 'Top teams');
  for (const [k, v] of top(
    sumBy(attributed, (l) => l.team),
    5,
  ))
    lines.push(`  ${k.padEnd(28)} ${usd(v)}`);
  lines.push('', 'Top applications');
  for (const [k, v] of top(
    sumBy(
      attributed.filter((l) => l.pool === null),
      (l) => l.application,
    ),
    5,
  ))
    lines.push(`  ${k.padEnd(28)} ${usd(v)}`);
  for (const status of ['unattributed', 'disputed'] as const) {
    const rows = lineRows.filter((l) => l.status === status);
    const total = rows.reduce((s, l) => s + l.effective_cost, 0n);
    lines.push('', `${status[0]?.toUpperCase()}${status.slice(1)}: ${usd(total)}`);
    for (const [k, v] of top(
      sumBy(rows, (l) => l.reason),
      10,
    ))
      lines.push(`  ${k.padEnd(28)} ${usd(v)}`);
  }
  lines.push(
    '',
    'Next:',
    `  cd ${ctx.dir}`,
    `  npx tally statement --period ${ctx.month}`,
    `  npx tally statement --period ${ctx.month} --format focus --out focus.csv`,
    '  npx tally verify',
  );
  return `${lines.join('\n')}\n`;
}

/** One line a signal: what `tally signals` shows in full, for the demo's closing summary. */
export function renderSignalsSummary(signals: readonly Signal[]): string {
  const lines = ['', `Signals (${signals.length}; \`npx tally signals\` shows their evidence)`];
  for (const s of signals) {
    lines.push(
      `  ${s.severity.padEnd(9)} ${s.rule}  ${s.identity.padEnd(28)} ${String(s.events).padStart(6)} events  ${usd(s.cost).padStart(10)}  ${s.title}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
