import { UsageError } from '../../core/errors.js';
import { formatFixed } from '../../core/money.js';
import { iso } from '../../core/statement.js';
import { columnWidths } from '../../export/format.js';
import {
  type BudgetReport,
  budgetJson,
  computeBudgets,
  crossingJson,
  percentOf,
} from '../../service/budgets.js';
import { monthWindow, str } from '../args.js';
import { JSON_TYPE, text } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

interface BudgetsOptions {
  period: string | undefined;
  format: string;
}

/** `tally budgets [--period YYYY-MM] [--format table|json]`; the default period is the month of the latest event. */
export const budgetsSpec: CommandSpec<BudgetsOptions> = {
  name: 'budgets',
  flags: { period: { type: 'string' }, format: { type: 'string', default: 'table' } },
  options(values) {
    const format = str(values, 'format') as string;
    if (format !== 'table' && format !== 'json')
      throw new UsageError('budgets: --format must be table or json');
    const period = str(values, 'period');
    if (period !== undefined) monthWindow(period);
    return { period, format };
  },
  route: () => ({ method: 'GET', path: '/v1/budgets' }),
  async run({ store, config }, o, view) {
    const label =
      o.period ?? new Date((await store.latestEventTime()) ?? Date.now()).toISOString().slice(0, 7);
    const window = monthWindow(label);
    const report = await computeBudgets(store, config, { label, ...window });
    const shown = view.budgets(window);
    const mine = {
      ...report,
      budgets: report.budgets.filter(shown),
      crossings: report.crossings.filter(shown),
    };
    if (o.format === 'table') return text(renderTable(mine));
    const body = {
      period: { label, start: iso(report.start), end: iso(report.end) },
      currency: report.currency,
      budgets: mine.budgets.map(budgetJson),
      crossings: mine.crossings.map(crossingJson),
    };
    return text(`${JSON.stringify(body, null, 2)}\n`, JSON_TYPE);
  },
};

export function budgetsCommand(argv: string[]): Promise<number> {
  return runCommand(budgetsSpec, argv);
}

function renderTable(r: BudgetReport): string {
  const money = (m: bigint) => formatFixed(m, 2);
  const head = ['scope', 'id', 'budget', 'actual', '%', 'forecast', '%', 'crossed', 'forecast to cross'];
  const rows = r.budgets.map((b) => [
    b.scope,
    b.id,
    money(b.budget),
    money(b.actualCents),
    percentOf(b.actual, b.budget) ?? '',
    money(b.forecast),
    percentOf(b.forecast, b.budget) ?? '',
    b.thresholds
      .filter((t) => t.crossedAt !== null)
      .map((t) => `${t.percent}% on ${iso(t.crossedAt as number).slice(0, 10)}`)
      .join(', '),
    b.thresholds
      .filter((t) => t.forecastToCross)
      .map((t) => `${t.percent}%`)
      .join(', '),
  ]);
  const widths = columnWidths([head, ...rows]);
  const numeric = new Set([2, 3, 4, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const observed = r.budgets[0] ? `${r.budgets[0].observedDays} of ${r.budgets[0].days} days observed` : '';
  const out = [`Budgets ${r.period} (${r.currency})${observed ? `, ${observed}` : ''}`, ''];
  if (rows.length === 0) out.push('No budgets in the configuration (budgets: in tally.yaml).');
  else out.push(line(head), ...rows.map(line));
  out.push('');
  return out.join('\n');
}
