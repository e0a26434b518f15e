import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkWindow, MAX_WINDOW_DAYS } from '../../core/bounds.js';
import type { Config } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import { formatMoney } from '../../core/money.js';
import { LEVELS, type Level, rollUp, type Statement, statementJsonText } from '../../core/statement.js';
import { renderCsv } from '../../export/csv.js';
import { type FocusRow, FocusUsage, focusCsvChunks, focusRowChunks } from '../../export/focus.js';
import { writeFocusParquet } from '../../export/focus-parquet.js';
import { renderHtml } from '../../export/html.js';
import { namesOf } from '../../export/names.js';
import { renderTable } from '../../export/table.js';
import { issueStatement } from '../../service/issue.js';
import { computeStatement, computeStatementEach, computeStatementOnly } from '../../service/statement.js';
import { str, windowFrom } from '../args.js';
import { chunked, JSON_TYPE, type Output, text } from '../output.js';
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
    const { window, format } = o;
    // Control totals need every charge; FOCUS rows are summed from the charges as they come; the other formats show the statement only.
    const full = o.controlTotals
      ? await computeStatement(store, config, window, {
          byDay: isFocus(format),
          controlTotals: o.controlTotals,
        })
      : null;
    const usage = isFocus(format) && full === null ? new FocusUsage() : null;
    const computed =
      full ??
      (usage
        ? await computeStatementEach(store, config, window, { byDay: true }, (c) => usage.add(c))
        : await computeStatementOnly(store, config, window));
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
    if (isFocus(format)) {
      const rows = (usage ?? FocusUsage.of(full?.charges ?? [])).rows();
      const chunks = focusRowChunks(rows, computed.shares, {
        period: statement.period,
        currency: config.currency,
        pools: config.sharedPools,
        names: namesOf(config),
      });
      return { ...(await focusDocument(chunks, format)), notes };
    }
    return { ...document(statement, format, config), notes };
  },
};

function document(statement: Statement, format: StatementFormat, config: Config): Output {
  if (format === 'json') return chunked(statementJsonText(statement), JSON_TYPE);
  if (format === 'csv') return text(renderCsv(statement), 'text/csv; charset=utf-8');
  if (format === 'html')
    return text(renderHtml(statement, { names: namesOf(config) }), 'text/html; charset=utf-8');
  return text(renderTable(statement));
}

/** FOCUS CSV, or Parquet (written by DuckDB to a temporary file and read back); the rows come in chunks. */
async function focusDocument(chunks: Iterable<FocusRow[]>, format: StatementFormat): Promise<Output> {
  if (format === 'focus') return chunked(focusCsvChunks(chunks), 'text/csv; charset=utf-8');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-focus-'));
  try {
    const file = path.join(dir, 'focus.parquet');
    const rows = await writeFocusParquet(chunks, file);
    return {
      body: new Uint8Array(await readFile(file)),
      type: 'application/vnd.apache.parquet',
      notes: [],
      exit: 0,
      wrote: `${rows} FOCUS rows`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function statementCommand(argv: string[]): Promise<number> {
  return runCommand(statementSpec, argv);
}
