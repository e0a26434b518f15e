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

/** What bounds a JSON text before it is parsed, counted in one pass (strings skipped). */
export interface JsonShape {
  /** Index where the nesting of arrays and objects first goes deeper than the bound, or -1. */
  tooDeepAt: number;
  /** Objects and arrays in the text. */
  containers: number;
  /**
   * Elements of the top-level array, as its commas plus one (0 when the text is not an array):
   * parsing millions of empty records takes seconds, counting them milliseconds.
   */
  elements: number;
}

/**
 * The shape of `text` in one scan: what `tooDeepAt` finds, and the counts that bound a request
 * body (a body of 1,000 events is scanned once rather than once per bound). An unterminated
 * string ends the count, as JSON.parse then refuses the text.
 */
export function jsonShape(text: string, maxDepth = MAX_JSON_DEPTH): JsonShape {
  const start = text.search(/\S/);
  const array = start >= 0 && text.charCodeAt(start) === 0x5b;
  let deepAt = -1;
  let depth = 0;
  let containers = 0;
  let commas = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i + 1);
      if (i < 0) break;
    } else if (c === 0x7b || c === 0x5b) {
      containers++;
      if (++depth > maxDepth && deepAt < 0) deepAt = i;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 1) commas++;
  }
  return { tooDeepAt: deepAt, containers, elements: array ? commas + 1 : 0 };
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
