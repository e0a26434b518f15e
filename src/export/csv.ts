/**
 * CSV as RFC 4180 says: CRLF between records, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled inside. null is an empty field.
 * A text cell that would start a formula is neutralised (`neutralise`).
 */
import { emptyAmounts } from '../core/attribution.js';
import { blankKey, type Line, type Statement, statementJson } from '../core/statement.js';

export type CsvValue = string | number | null;

export function csvField(v: CsvValue): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? String(v) : neutralise(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Plain decimal numbers (amounts such as `-1.23`) are written as they are. */
const NUMBER = /^[+-]?[0-9]+(?:\.[0-9]+)?$/;

/**
 * A text cell that a spreadsheet would run as a formula (it starts with `=`,
 * `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP's
 * CSV injection guidance says; names come from telemetry anyone with an
 * ingest token can send. A plain decimal number is left alone, so amounts
 * stay numbers.
 */
export function neutralise(s: string): string {
  return /^[=+\-@\t\r]/.test(s) && !NUMBER.test(s) ? `'${s}` : s;
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
