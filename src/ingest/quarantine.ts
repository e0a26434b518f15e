/**
 * The line a rejected record gets in a `--skip-invalid` quarantine file
 * (SPEC §3): the problem and the record's text, with no raw secret anywhere
 * (core/secrets.ts) and no prompt or completion content. JSON records lose
 * the fields LiteLLM keeps content in (`messages`, `response`,
 * `proxy_server_request`); OTLP spans arrive without theirs (otlp.ts).
 */
import type { Problem } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';
import { isObject } from './fields.js';

const CONTENT_FIELDS: ReadonlySet<string> = new Set(['messages', 'response', 'proxy_server_request']);

export function quarantineLine(problem: Problem, raw: string): string {
  const shown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(problem)) shown[k] = typeof v === 'string' ? redactSecrets(v) : v;
  shown.raw = redactSecrets(withoutContent(raw));
  return JSON.stringify(shown);
}

/** A JSON object's text without its content fields; any other text as it is. */
function withoutContent(raw: string): string {
  if (!raw.trimStart().startsWith('{')) return raw;
  let record: unknown;
  try {
    record = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (!isObject(record) || !Object.keys(record).some((k) => CONTENT_FIELDS.has(k))) return raw;
  const kept = Object.fromEntries(Object.entries(record).filter(([k]) => !CONTENT_FIELDS.has(k)));
  return JSON.stringify(kept);
}
