/** Terminal renderings that are not statement formats: the demo summary. */
import { pushAll } from '../core/arrays.js';
import { formatFixed, type Money } from '../core/money.js';
import { interval95, type SampleUnits } from '../core/sampling.js';
import type { Signal } from '../core/signals/signal.js';
import { type Level, type Line, rollUp } from '../core/statement.js';
import { coveragePercent } from '../export/format.js';
import type { Computed } from '../service/statement.js';

const usd = (m: Money) => `$${formatFixed(m, 2)}`;

function top(rows: Iterable<[string, Money]>, n: number): Array<[string, Money]> {
  return [...rows]
    .sort((a, b) => (a[1] === b[1] ? (a[0] < b[0] ? -1 : 1) : a[1] > b[1] ? -1 : 1))
    .slice(0, n);
}

/** The effective cents of the lines, summed by a key (lines without it left out). */
function centsBy(lines: readonly Line[], key: (l: Line) => string | null): Map<string, Money> {
  const out = new Map<string, Money>();
  for (const l of lines) {
    const k = key(l);
    if (k === null) continue;
    out.set(k, (out.get(k) ?? 0n) + l.cents.effective_cost);
  }
  return out;
}

/**
 * The demo's closing summary, in the statement's own figures and words
 * (docs/vocabulary.md): totals and the top teams, applications and tenants
 * by attributed effective cost, to the same cents as `tally statement`.
 */
/** Teams whose spend is partly estimated from sampled traces (SPEC §11), with the 95 % interval. */
function estimatedTeams(c: Computed): string[] {
  const teams = rollUp(c.statement, 'team').lines.filter((l) => l.sample && l.sample.size > 0);
  if (teams.length === 0) return [];
  const out = ['', 'Estimated from sampled traces (effective cost, 95 % interval; docs/sampling.md)'];
  for (const l of teams) {
    const [low, high] = interval95(l.effective_cost, l.sample as SampleUnits);
    const range = `≈ ${formatFixed(low, 2)} – ${formatFixed(high, 2)}`;
    out.push(`  ${(l.team ?? '-').padEnd(28)} ${usd(l.cents.effective_cost)}  ${range}`);
  }
  return out;
}

export function renderDemoSummary(
  c: Computed,
  ctx: { month: string; dir: string; incident: { identity: string } },
): string {
  const t = c.statement.totals;
  const lines: string[] = [];
  lines.push('', `Statement ${ctx.month} (${c.statement.currency})`);
  lines.push(`  effective          ${usd(t.cents.effective_cost)}`);
  lines.push(`  billed             ${usd(t.cents.billed_cost)}`);
  lines.push(`  shared (pools)     ${usd(t.cents.shared_cost)}`);
  lines.push(`  coverage           ${coveragePercent(t)}`);
  lines.push(`  unpriced events    ${t.unpriced_events}`);
  const attributed = (level: Level) =>
    rollUp(c.statement, level).lines.filter((l) => l.status === 'attributed');
  const tops: [string, Level, (l: Line) => string | null][] = [
    ['Top teams', 'team', (l) => l.team],
    ['Top applications', 'application', (l) => l.application],
    ['Top tenants', 'tenant', (l) => l.tenant],
  ];
  for (const [title, level, key] of tops) {
    lines.push('', `${title} (attributed effective cost)`);
    for (const [k, v] of top(centsBy(attributed(level), key), 5)) lines.push(`  ${k.padEnd(28)} ${usd(v)}`);
  }
  pushAll(lines, estimatedTeams(c));
  for (const status of ['unattributed', 'disputed'] as const) {
    const rows = c.statement.lines.filter((l) => l.status === status);
    lines.push('', `${status[0]?.toUpperCase()}${status.slice(1)}: ${usd(t.cents[`${status}_cost`])}`);
    for (const [k, v] of top(
      centsBy(rows, (l) => l.reason),
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
