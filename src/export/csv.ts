/**
 * CSV as RFC 4180 says: CRLF between records, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled inside. null is an empty field.
 */
import { emptyAmounts } from '../core/attribution.js';
import { blankKey, type Line, type Statement, statementJson } from '../core/statement.js';

export type CsvValue = string | number | null;

export function csvField(v: CsvValue): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvTable(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const out = [header.map(csvField).join(',')];
  for (const row of rows) out.push(row.map(csvField).join(','));
  return `${out.join('\r\n')}\r\n`;
}

/** One row per statement line; the columns and values are those of the JSON form (SPEC §5). */
export function renderCsv(s: Statement): string {
  const json = statementJson({ ...s, lines: [BLANK, ...s.lines] }) as { lines: Record<string, CsvValue>[] };
  const [blank, ...lines] = json.lines;
  const header = Object.keys(blank ?? {});
  return csvTable(
    header,
    lines.map((l) => header.map((h) => l[h] ?? null)),
  );
}

/** Only its keys are used: they give the header even when the statement has no lines. */
const BLANK: Line = { ...blankKey(), ...emptyAmounts() };
