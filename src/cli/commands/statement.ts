import { writeFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.js';
import { formatMoney } from '../../core/money.js';
import { LEVELS, type Level, rollUp, statementJson } from '../../core/statement.js';
import { renderCsv } from '../../export/csv.js';
import { focusRows, renderFocusCsv } from '../../export/focus.js';
import { writeFocusParquet } from '../../export/focus-parquet.js';
import { renderHtml } from '../../export/html.js';
import { namesOf } from '../../export/names.js';
import { renderTable } from '../../export/table.js';
import { issueStatement } from '../../service/issue.js';
import { computeStatement } from '../../service/statement.js';
import { COMMON_OPTIONS, checkOut, parse, str, windowFrom } from '../args.js';
import { withContext } from '../context.js';

const FORMATS = ['table', 'json', 'csv', 'html', 'focus', 'focus-parquet'] as const;
type StatementFormat = (typeof FORMATS)[number];

export async function statementCommand(argv: string[]): Promise<number> {
  const { values } = parse('statement', argv, {
    ...COMMON_OPTIONS,
    period: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    level: { type: 'string', default: 'line' },
    format: { type: 'string', default: 'table' },
    out: { type: 'string' },
    issue: { type: 'boolean', default: false },
  });
  const window = windowFrom(values);
  const level = str(values, 'level') as Level;
  if (!LEVELS.includes(level)) throw new UsageError(`statement: --level must be one of ${LEVELS.join(', ')}`);
  const format = str(values, 'format') as StatementFormat;
  if (!FORMATS.includes(format))
    throw new UsageError(`statement: --format must be one of ${FORMATS.join(', ')}`);
  const out = str(values, 'out');
  checkOut('statement', out);
  if (format === 'focus-parquet' && !out)
    throw new UsageError('statement: --format focus-parquet needs --out FILE');

  return withContext(values, async ({ store, config }) => {
    const focus = format === 'focus' || format === 'focus-parquet';
    const {
      statement: lines,
      charges,
      shares,
    } = await computeStatement(store, config, window, { byDay: focus });
    if (values.issue) {
      const issued = await issueStatement(store, window.label, lines, Date.now());
      process.stderr.write(
        issued.created
          ? `issued statement ${issued.period} v${issued.version}: content ${issued.contentSha256}, config ${issued.configSha256}, audit head ${issued.auditHead ?? '(empty)'}\n`
          : `statement ${issued.period} is identical to issued v${issued.version} (content ${issued.contentSha256}): no new version\n`,
      );
      lines.differs_from_issued = null;
    } else if (lines.differs_from_issued && format !== 'table') {
      const d = lines.differs_from_issued;
      process.stderr.write(
        `note: ${window.label} differs from issued v${d.version} (effective ${formatMoney(d.effective_cost_delta)}); issue a restatement with --issue\n`,
      );
    }
    const statement = rollUp(lines, level);
    if (focus) {
      const rows = focusRows(charges, shares, {
        period: statement.period,
        currency: config.currency,
        pools: config.sharedPools,
        names: namesOf(config),
      });
      if (format === 'focus-parquet') {
        await writeFocusParquet(rows, out as string);
        process.stderr.write(`wrote ${rows.length} FOCUS rows to ${out}\n`);
        return 0;
      }
      return emit(renderFocusCsv(rows), out);
    }
    const text =
      format === 'json'
        ? `${JSON.stringify(statementJson(statement), null, 2)}\n`
        : format === 'csv'
          ? renderCsv(statement)
          : format === 'html'
            ? renderHtml(statement, { names: namesOf(config) })
            : renderTable(statement);
    return emit(text, out);
  });
}

async function emit(text: string, out: string | undefined): Promise<number> {
  if (out) await writeFile(out, text);
  else process.stdout.write(text);
  return 0;
}
