import { UsageError } from '../../core/errors.js';
import { formatFixed, formatMoney } from '../../core/money.js';
import type { PlanRow, SamplingPlan } from '../../core/sampling-plan.js';
import { iso } from '../../core/statement.js';
import { columnWidths } from '../../export/format.js';
import { computeSamplingPlan } from '../../service/sampling.js';
import { monthWindow, str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

interface SamplingOptions {
  period: string;
  rate: number;
  target: number;
  format: string;
}

/** A ratio flag: a decimal in (0, 1]. */
function ratio(values: Record<string, unknown>, flag: string, fallback?: number): number {
  const raw = str(values, flag);
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`sampling: --${flag} is required (a probability such as 0.1)`);
  }
  const n = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n > 0 && n <= 1))
    throw new UsageError(`sampling: --${flag} must be a decimal in (0, 1], got '${raw}'`);
  return n;
}

/** `tally sampling --period P --rate R [--target 0.05] [--format table|json]` (SPEC §11). */
export const samplingSpec: CommandSpec<SamplingOptions> = {
  name: 'sampling',
  flags: {
    period: { type: 'string' },
    rate: { type: 'string' },
    target: { type: 'string' },
    format: { type: 'string', default: 'table' },
  },
  options(values) {
    const format = str(values, 'format') as string;
    if (format !== 'table' && format !== 'json')
      throw new UsageError('sampling: --format must be table or json');
    const period = str(values, 'period');
    if (period === undefined) throw new UsageError('sampling: --period YYYY-MM is required');
    monthWindow(period);
    return { period, rate: ratio(values, 'rate'), target: ratio(values, 'target', 0.05), format };
  },
  route: () => ({ method: 'GET', path: '/v1/sampling' }),
  async run({ store, config }, o, view) {
    const window = monthWindow(o.period);
    const plan = await computeSamplingPlan(store, config, window, o.rate, o.target);
    // A team sees its own row; tenants cut across teams, so a team view shows none.
    const rows = plan.rows.filter((r) => view.team === null || (r.level === 'team' && r.id === view.team));
    const mine: SamplingPlan = { ...plan, rows };
    if (o.format === 'table') return text(renderTable(o.period, mine));
    const body = {
      period: { label: o.period, start: iso(window.start), end: iso(window.end) },
      rate: plan.rate,
      target: plan.target,
      rate_for: view.team === null ? plan.rate_for : (rows[0]?.rate_for ?? null),
      rows: rows.map(rowJson),
    };
    return text(`${JSON.stringify(body, null, 2)}\n`, JSON_TYPE);
  },
};

export function samplingCommand(argv: string[]): Promise<number> {
  return runCommand(samplingSpec, argv);
}

function rowJson(r: PlanRow) {
  return {
    level: r.level,
    id: r.id,
    cost: formatMoney(r.cost),
    units: r.units,
    expected_relative_error: r.expected_relative_error,
    rate_for: r.rate_for,
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)} %`);

function renderTable(period: string, p: SamplingPlan): string {
  const head = ['level', 'id', 'cost', 'units', `error at ${pct(p.rate)}`, `rate for ±${pct(p.target)}`];
  const rows = p.rows.map((r) => [
    r.level,
    r.id,
    formatFixed(r.cost, 2),
    String(r.units),
    pct(r.expected_relative_error),
    pct(r.rate_for),
  ]);
  const widths = columnWidths([head, ...rows]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [
    `Sampling ${period}: expected 95 % relative error per team and tenant if traces were kept at ${pct(p.rate)}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `Every team within ±${pct(p.target)} from a sampling rate of ${pct(p.rate_for)}.`,
    '',
  ].join('\n');
}
