import { TallyError } from '../core/errors.js';
import { parseCsvRecord } from './csv.js';

export type Format = 'otlp' | 'litellm' | 'openai-usage' | 'anthropic-usage' | 'jsonl' | 'csv';

export const FORMATS: readonly Format[] = [
  'otlp',
  'litellm',
  'openai-usage',
  'anthropic-usage',
  'jsonl',
  'csv',
];

/** How much of the input `auto` reads before deciding. */
export const DETECT_HEAD_CHARS = 64 * 1024;

function unknown(fileName: string, why: string): TallyError {
  return new TallyError(
    'unknown_format',
    `cannot tell the format of ${fileName}: ${why}; give it with --format (one of ${FORMATS.join(', ')})`,
  );
}

/**
 * Detects the format from the first bytes, by the keys of the first record
 * (JSON) or the header (CSV). The content decides; the file name only names
 * the file in the error.
 */
export function detectFormat(head: string, fileName: string): Format {
  const s = head.replace(/^\uFEFF/, '').trimStart();
  if (s === '') throw unknown(fileName, 'it is empty');
  const c = s[0];
  if (c === '{' || c === '[') {
    const has = (key: string) => new RegExp(`"${key}"\\s*:`).test(s);
    if (has('resourceSpans')) return 'otlp';
    // A page, or a list of buckets collected across pages (the official cookbook's `all_data`).
    if (
      /"object"\s*:\s*"page"/.test(s) ||
      /"organization\.usage\.(?:completions|embeddings)\.result"/.test(s) ||
      (/"object"\s*:\s*"bucket"/.test(s) && has('start_time'))
    ) {
      return 'openai-usage';
    }
    if (has('starting_at') && has('results')) return 'anthropic-usage';
    if (has('request_id') && (has('call_type') || has('spend'))) return 'litellm';
    if (has('id') && has('source') && has('time')) return 'jsonl';
    throw unknown(fileName, 'the JSON has none of the keys of a known format');
  }
  const nl = s.indexOf('\n');
  const cells = parseCsvRecord((nl < 0 ? s : s.slice(0, nl)).replace(/\r$/, ''));
  const columns = typeof cells === 'string' ? [] : cells.map((h) => h.trim());
  if (columns.includes('request_id') && (columns.includes('call_type') || columns.includes('spend')))
    return 'litellm';
  // Unknown columns are left for the parser, which names them.
  if (['id', 'source', 'time'].every((h) => columns.includes(h))) return 'csv';
  throw unknown(fileName, 'it is neither JSON nor a CSV with a known header');
}
