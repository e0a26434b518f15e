/**
 * The bounds every input is read within (docs/security.md): whatever a file
 * or a request holds, parsing takes memory and time in proportion to these,
 * never to what an attacker chose. Past a bound, the record (or the file) is
 * an input error that names the bound.
 */

/** Longest line (NDJSON, CSV record) or array element, in characters. */
export const MAX_RECORD_CHARS = 32 * 1024 * 1024;

/** Longest single JSON document read whole (one OTLP request or usage-report page), in characters. */
export const MAX_DOCUMENT_CHARS = 256 * 1024 * 1024;

/** Deepest nesting of arrays and objects in a JSON record (OTLP needs about 12). */
export const MAX_JSON_DEPTH = 64;

/** Longest number text (an amount such as `reported_cost` or `spend`), in characters. */
export const MAX_NUMBER_CHARS = 64;

/** Largest power of ten an amount may be written with (`1.5e-7`); beyond it the text is refused unread. */
export const MAX_EXPONENT = 30;

/** Digits before the decimal point of an amount: below 10^15 currency units. */
export const MAX_AMOUNT_DIGITS = 15;

export const MIB = 1024 * 1024;

/** `32 MiB` for messages. */
export function mib(chars: number): string {
  return `${Math.round(chars / MIB)} MiB`;
}

/**
 * Index in `text` where the nesting of arrays and objects first goes deeper
 * than `max`, or -1. Strings are skipped, so brackets inside them do not
 * count. Runs before JSON.parse, so that nothing recursive (JSON.stringify,
 * a decoder, DuckDB) ever sees a deeper value.
 */
export function tooDeepAt(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i + 1);
      if (i < 0) return -1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return -1;
}

/** Whether `text` holds more than `max` JSON objects and arrays (strings skipped); counted before parsing. */
export function containersOver(text: string, max: number): boolean {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i + 1);
      if (i < 0) return false;
    } else if ((c === 0x7b || c === 0x5b) && ++n > max) return true;
  }
  return false;
}

/**
 * Whether `text`, a JSON array, has more than `max` elements, by counting
 * its top-level commas (strings skipped) before anything is parsed: parsing
 * millions of empty records takes seconds, counting them milliseconds.
 */
export function arrayLongerThan(text: string, max: number): boolean {
  const start = text.search(/\S/);
  if (start < 0 || text.charCodeAt(start) !== 0x5b) return false;
  let depth = 0;
  let commas = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = closingQuote(text, i + 1);
      if (i < 0) return false;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 1 && ++commas >= max) return true;
  }
  return false;
}

/** Index of the quote closing a string whose content starts at `from`, or -1. */
function closingQuote(s: string, from: number): number {
  let q = s.indexOf('"', from);
  while (q >= 0) {
    let b = q - 1;
    while (s.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    q = s.indexOf('"', q + 1);
  }
  return -1;
}
