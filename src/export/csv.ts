/**
 * CSV as RFC 4180 says: CRLF between records, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled inside. null is an empty field.
 * A text cell that would start a formula is neutralised (`neutralise`).
 */
import { CENT_COLUMNS } from '../core/cents.js';
import { centsText, KEY_FIELDS, type Statement } from '../core/statement.js';

export type CsvValue = string | number | null;

export function csvField(v: CsvValue): string {
  if (v === null) return '';
  // A number's text holds none of the characters that need quotes.
  if (typeof v === 'number') return String(v);
  const s = neutralise(v);
  return QUOTED.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** What makes a field need quotes. */
const QUOTED = /[",\r\n]/;

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
  return FORMULA_STARTS.has(s.charCodeAt(0)) && !NUMBER.test(s) ? `'${s}` : s;
}

/** The first characters of a formula: `=`, `+`, `-`, `@`, tab and carriage return. */
const FORMULA_STARTS = new Set([...'=+-@\t\r'].map((c) => c.charCodeAt(0)));

export function csvTable(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  return csvRecords([header, ...rows]);
}

/** Records, each ended by CRLF (a table in parts: the header's, then its rows'). */
export function csvRecords(rows: readonly (readonly CsvValue[])[]): string {
  return `${rows.map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

const COUNTS = ['events', 'unpriced_events', 'input_tokens', 'output_tokens'] as const;

/**
 * One row per statement line, with the JSON line fields (SPEC §5). Amounts
 * are the statement's cents (SPEC §4.8: the same cents as the table, the HTML
 * report and the dashboard, and the rows add up to the totals); the exact
 * amounts are in the JSON and FOCUS forms.
 */
export function renderCsv(s: Statement): string {
  return csvTable(
    [...KEY_FIELDS, ...CENT_COLUMNS, ...COUNTS],
    s.lines.map((l) => [
      ...KEY_FIELDS.map((f) => l[f]),
      ...CENT_COLUMNS.map((f) => centsText(l.cents[f])),
      ...COUNTS.map((f) => l[f]),
    ]),
  );
}
