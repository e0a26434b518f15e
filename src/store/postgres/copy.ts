/**
 * Events as rows of PostgreSQL's COPY text format, in the column order of
 * the staging table (ALL_EVENT_FIELDS): tab between columns, `\N` for NULL,
 * backslash escapes for the characters the format reserves.
 */
import { TallyError } from '../../core/errors.js';
import {
  ALL_EVENT_FIELDS,
  EVENT_FIELDS,
  RICH_COUNT_FIELDS,
  RICH_FIELDS,
  type TraceLink,
  type UsageEvent,
  unitsText,
} from '../../core/event.js';
import { LINK_FIELDS, readsBack, rowText } from '../audit.js';
import { storedText } from '../rows.js';

export const COPY_COLUMNS = ALL_EVENT_FIELDS.join(', ');

const RESERVED = /[\\\t\n\r]/g;
const HAS_RESERVED = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function text(what: string, field: string, v: string, redact = true): string {
  return escaped(checked(what, field, redact ? storedText(field, v) : v));
}

function escaped(v: string): string {
  return HAS_RESERVED.test(v) ? v.replace(RESERVED, (c) => ESCAPES[c] ?? c) : v;
}

/**
 * One event as a COPY text line (with its newline) and the audit text of the
 * row it stores (audit.ts `rowText`): null when that text might not be the
 * stored row's (a time that is not whole milliseconds, a string that might
 * not read back as given), and the row is then hashed as stored.
 */
export function copyEvent(e: UsageEvent): { line: string; text: string | null } {
  const stored: (string | null)[] = new Array(ALL_EVENT_FIELDS.length);
  const cells: string[] = new Array(ALL_EVENT_FIELDS.length);
  for (let i = 0; i < ALL_EVENT_FIELDS.length; i++) {
    const v = storedValue(i, e);
    stored[i] = v;
    cells[i] = v === null ? '\\N' : i === TIME ? new Date(e.time).toISOString() : escaped(v);
  }
  const base = stored.slice(0, EVENT_FIELDS.length);
  const rich = stored.slice(EVENT_FIELDS.length, EVENT_FIELDS.length + RICH_FIELDS.length);
  const text = rowText(base, rich, stored[ALL_EVENT_FIELDS.length - 1] ?? null);
  return { line: `${cells.join('\t')}\n`, text: Number.isInteger(e.time) && readsBack(text) ? text : null };
}

/** How each field (by its place in ALL_EVENT_FIELDS) is stored. */
const KINDS = ALL_EVENT_FIELDS.map((f) => {
  if (f === 'units' || f === 'adjusted_count') return f;
  return (RICH_COUNT_FIELDS as readonly string[]).includes(f) ? 'rich count' : 'field';
});
const TIME = ALL_EVENT_FIELDS.indexOf('time');

/** The text field `i` of `e` is stored as (the time in epoch milliseconds), null for NULL. */
function storedValue(i: number, e: UsageEvent): string | null {
  const f = ALL_EVENT_FIELDS[i] as (typeof ALL_EVENT_FIELDS)[number];
  switch (KINDS[i]) {
    case 'units': {
      const u = unitsText(e.units);
      return u === null ? null : checked(e, f, u);
    }
    case 'adjusted_count':
      return e.adjusted_count ? checked(e, f, e.adjusted_count) : null;
    case 'rich count':
      return String(e[f as (typeof RICH_COUNT_FIELDS)[number]] ?? 0);
  }
  const v = e[f];
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return String(v);
  return checked(e, f, storedText(f, String(v)));
}

/** `v`, unless it holds a NUL; `owner`: the event, or what to name in the error. */
function checked(owner: string | UsageEvent, field: string, v: string): string {
  if (v.includes('\u0000'))
    throw new TallyError(
      'invalid_input',
      `invalid input: ${typeof owner === 'string' ? owner : `event ${owner.source}/${owner.id}`}: field ${field} contains a NUL character, which the PostgreSQL store cannot hold`,
    );
  return v;
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
