/**
 * Events as rows of PostgreSQL's COPY text format, in the column order of
 * the staging table (ALL_EVENT_FIELDS): tab between columns, `\N` for NULL,
 * backslash escapes for the characters the format reserves.
 */
import { TallyError } from '../../core/errors.js';
import {
  ALL_EVENT_FIELDS,
  RICH_COUNT_FIELDS,
  type TraceLink,
  type UsageEvent,
  unitsText,
} from '../../core/event.js';
import { LINK_FIELDS } from '../audit.js';
import { storedText } from '../rows.js';

export const COPY_COLUMNS = ALL_EVENT_FIELDS.join(', ');

const RESERVED = /[\\\t\n\r]/g;
const HAS_RESERVED = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function text(what: string, field: string, v: string, redact = true): string {
  if (v.includes('\u0000'))
    throw new TallyError(
      'invalid_input',
      `invalid input: ${what}: field ${field} contains a NUL character, which the PostgreSQL store cannot hold`,
    );
  const s = redact ? storedText(field, v) : v;
  return HAS_RESERVED.test(s) ? s.replace(RESERVED, (c) => ESCAPES[c] ?? c) : s;
}

/** One event as a COPY text line (with its newline). */
export function copyLine(e: UsageEvent): string {
  const cells: string[] = [];
  for (const f of ALL_EVENT_FIELDS) {
    if (f === 'time') {
      cells.push(new Date(e.time).toISOString());
      continue;
    }
    if (f === 'units') {
      const u = unitsText(e.units);
      cells.push(u === null ? '\\N' : text(`event ${e.source}/${e.id}`, f, u));
      continue;
    }
    if (f === 'adjusted_count') {
      cells.push(e.adjusted_count ? text(`event ${e.source}/${e.id}`, f, e.adjusted_count, false) : '\\N');
      continue;
    }
    if ((RICH_COUNT_FIELDS as readonly string[]).includes(f)) {
      cells.push(String(e[f as (typeof RICH_COUNT_FIELDS)[number]] ?? 0));
      continue;
    }
    const v = e[f];
    if (v === null || v === undefined) cells.push('\\N');
    else if (typeof v === 'number') cells.push(String(v));
    else cells.push(text(`event ${e.source}/${e.id}`, f, String(v)));
  }
  return `${cells.join('\t')}\n`;
}

export const LINK_COPY_COLUMNS = LINK_FIELDS.join(', ');

/** One trace link as a COPY text line; span ids are kept as they are, selectors redacted as events' are. */
export function linkCopyLine(l: TraceLink): string {
  const what = `trace link ${l.trace_id}/${l.span_id}`;
  const cells = LINK_FIELDS.map((f) => {
    const v = l[f];
    if (v === null) return '\\N';
    return text(what, f, v, f !== 'trace_id' && f !== 'span_id' && f !== 'parent_span_id');
  });
  return `${cells.join('\t')}\n`;
}
