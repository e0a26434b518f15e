import { checkWindow, MAX_WINDOW_DAYS } from '../../core/bounds.js';
import type { Config } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import { formatMoney } from '../../core/money.js';
import { LEVELS, type Level, rollUp, type Statement, statementJsonText } from '../../core/statement.js';
import { renderCsv } from '../../export/csv.js';
import { FocusUsage, focusMeta } from '../../export/focus.js';
import { renderHtml } from '../../export/html.js';
import { namesOf } from '../../export/names.js';
import { renderTable } from '../../export/table.js';
import { issueStatement } from '../../service/issue.js';
import {
  computeStatement,
  computeStatementEach,
  computeStatementOnly,
  type StatementOnly,
} from '../../service/statement.js';
import { str, windowFrom } from '../args.js';
import { FocusCsvFile, type FocusDayFile, FocusParquetFile } from '../focus-file.js';
import { chunked, JSON_TYPE, type Output, type RunContext, text, type View } from '../output.js';
import { type CommandSpec, runCommand } from '../runner.js';

export const STATEMENT_FORMATS = ['table', 'json', 'csv', 'html', 'focus', 'focus-parquet'] as const;
type StatementFormat = (typeof STATEMENT_FORMATS)[number];

interface StatementOptions {
  window: { start: number; end: number; label: string };
  level: Level;
  format: StatementFormat;
  issue: boolean;
  controlTotals: 'usage' | undefined;
}

const isFocus = (f: StatementFormat) => f === 'focus' || f === 'focus-parquet';

export const statementSpec: CommandSpec<StatementOptions> = {
  name: 'statement',
  flags: {
    period: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    level: { type: 'string', default: 'line' },
    format: { type: 'string', default: 'table' },
    out: { type: 'string' },
    issue: { type: 'boolean', default: false },
    'control-totals': { type: 'string' },
  },
  options(values) {
    const window = windowFrom(values);
    checkWindow('statement', window, MAX_WINDOW_DAYS.read);
    const level = str(values, 'level') as Level;
    if (!LEVELS.includes(level))
      throw new UsageError(`statement: --level must be one of ${LEVELS.join(', ')}`);
    const format = str(values, 'format') as StatementFormat;
    if (!STATEMENT_FORMATS.includes(format))
      throw new UsageError(`statement: --format must be one of ${STATEMENT_FORMATS.join(', ')}`);
    const control = str(values, 'control-totals');
    if (control !== undefined && control !== 'usage')
      throw new UsageError(`statement: --control-totals must be usage, got '${control}'`);
    return { window, level, format, issue: values.issue === true, controlTotals: control };
  },
  check(o, out) {
    if (o.format === 'focus-parquet' && !out)
      throw new UsageError('statement: --format focus-parquet needs --out FILE');
  },
  route(o) {
    if (o.issue) return { method: 'POST', path: '/v1/statements/issue' };
    return { method: 'GET', path: isFocus(o.format) ? '/v1/statements/focus' : '/v1/statements' };
  },
  async run({ store, config }, o, view) {
    const focus = isFocus(o.format) ? focusSums(config, o) : null;
    try {
      const ctx = { store, config };
      return await statementOutput(ctx, await computedFor(ctx, o, focus), o, view, focus);
    } catch (e) {
      focus?.file.discard();
      throw e;
    }
  },
};

/** How a FOCUS document's usage rows are summed: as the charges come, each day's written to a file once summed. */
interface FocusSums {
  usage: FocusUsage;
  file: FocusDayFile;
}

function focusSums(config: Config, o: StatementOptions): FocusSums {
  const meta = focusMeta(config, o.window);
  const file = o.format === 'focus-parquet' ? new FocusParquetFile(meta) : new FocusCsvFile(meta);
  // Control totals scale every charge against the others: those are kept, and summed at the end.
  return { usage: new FocusUsage(o.controlTotals ? undefined : (rows) => file.write(rows)), file };
}

/** The statement the format needs: every charge kept (control totals), summed into FOCUS rows as they come, or none. */
async function computedFor(
  { store, config }: RunContext,
  o: StatementOptions,
  focus: FocusSums | null,
): Promise<StatementOnly> {
  const { window, format } = o;
  if (o.controlTotals) {
    const full = await computeStatement(store, config, window, {
      byDay: isFocus(format),
      controlTotals: o.controlTotals,
    });
    for (const c of full.charges) focus?.usage.add(c);
    return full;
  }
  if (focus) return computeStatementEach(store, config, window, { byDay: true }, (c) => focus.usage.add(c));
  return computeStatementOnly(store, config, window);
}

/** The document of a computed statement in the format asked for, the statement issued first with `--issue`. */
async function statementOutput(
  { store, config }: RunContext,
  computed: StatementOnly,
  o: StatementOptions,
  view: View,
  focus: FocusSums | null,
): Promise<Output> {
  const { window, format } = o;
  const notes: string[] = [];
  const lines = computed.statement;
  if (o.issue) {
    const issued = await issueStatement(store, window.label, lines, Date.now());
    notes.push(
      issued.created
        ? `issued statement ${issued.period} v${issued.version}: content ${issued.contentSha256}, config ${issued.configSha256}, audit head ${issued.auditHead ?? '(empty)'}`
        : `statement ${issued.period} is identical to issued v${issued.version} (content ${issued.contentSha256}): no new version`,
    );
    lines.differs_from_issued = null;
  }
  const statement = rollUp(view.statement(lines, o.level), o.level);
  const d = statement.differs_from_issued;
  if (!o.issue && d && format !== 'table')
    notes.push(
      `note: ${window.label} differs from issued v${d.version} (effective ${formatMoney(d.effective_cost_delta)}); issue a restatement with --issue`,
    );
  if (focus) return { ...(await focus.file.output(focus.usage.rows(), computed.shares)), notes };
  return { ...document(statement, format, config), notes };
}

function document(statement: Statement, format: StatementFormat, config: Config): Output {
  if (format === 'json') return chunked(statementJsonText(statement), JSON_TYPE);
  if (format === 'csv') return text(renderCsv(statement), 'text/csv; charset=utf-8');
  if (format === 'html')
    return text(renderHtml(statement, { names: namesOf(config) }), 'text/html; charset=utf-8');
  return text(renderTable(statement));
}

export function statementCommand(argv: string[]): Promise<number> {
  return runCommand(statementSpec, argv);
}
