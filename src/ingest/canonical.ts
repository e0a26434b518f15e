/**
 * The canonical event (SPEC §3) as JSON (`jsonl`, `POST /v1/events`) or as a
 * CSV row (`csv`). Strict on purpose: an unknown field or column is an error,
 * because a misspelt `input_token` column would otherwise drop tokens
 * without a word.
 */
import { ALL_EVENT_FIELDS, UNIT_NAME, type Units, type UsageEvent } from '../core/event.js';
import { adjustedCountOf } from '../core/sampling.js';
import {
  clip,
  count,
  fail,
  isObject,
  notFuture,
  optCount,
  optDecimal,
  optString,
  parseTime,
  redactEvent,
  reqString,
  typeName,
} from './fields.js';

const KNOWN: ReadonlySet<string> = new Set(ALL_EVENT_FIELDS);
const REQUIRED = ['id', 'source', 'time', 'operation'] as const;

/**
 * One canonical record to an event; throws FieldError. `text` is true for
 * CSV cells, where every value is a string and counts are decimal digits.
 */
export function canonicalEvent(rec: unknown, text: boolean, now: number): UsageEvent {
  if (!isObject(rec)) return fail(undefined, `a canonical event must be a JSON object, got ${typeName(rec)}`);
  for (const k in rec) if (!KNOWN.has(k)) fail(k, 'unknown field (see docs/reference/canonical-event.md)');
  const rawTime = rec.time;
  if (rawTime === undefined || rawTime === null || rawTime === '') fail('time', 'is required');
  if (typeof rawTime !== 'string') fail('time', `must be an ISO-8601 string, got ${typeName(rawTime)}`);
  const status = optString(rec.status, 'status') ?? 'ok';
  if (status !== 'ok' && status !== 'error') fail('status', `must be "ok" or "error", got "${clip(status)}"`);
  const e: UsageEvent = {
    id: reqString(rec.id, 'id'),
    source: reqString(rec.source, 'source'),
    time: notFuture(parseTime(rawTime, 'time', true), 'time', now),
    provider: optString(rec.provider, 'provider'),
    model: optString(rec.model, 'model'),
    operation: reqString(rec.operation, 'operation'),
    input_tokens: optCount(rec.input_tokens, 'input_tokens', text, 0),
    output_tokens: optCount(rec.output_tokens, 'output_tokens', text, 0),
    cache_read_tokens: optCount(rec.cache_read_tokens, 'cache_read_tokens', text, 0),
    cache_write_tokens: optCount(rec.cache_write_tokens, 'cache_write_tokens', text, 0),
    reasoning_tokens: optCount(rec.reasoning_tokens, 'reasoning_tokens', text, 0),
    requests: optCount(rec.requests, 'requests', text, 1),
    tool: optString(rec.tool, 'tool'),
    data_source: optString(rec.data_source, 'data_source'),
    api_key: optString(rec.api_key, 'api_key'),
    service: optString(rec.service, 'service'),
    agent: optString(rec.agent, 'agent'),
    project: optString(rec.project, 'project'),
    tenant: optString(rec.tenant, 'tenant'),
    environment: optString(rec.environment, 'environment'),
    trace_id: optString(rec.trace_id, 'trace_id'),
    span_id: optString(rec.span_id, 'span_id'),
    parent_span_id: optString(rec.parent_span_id, 'parent_span_id'),
    status,
    error_type: optString(rec.error_type, 'error_type'),
    client_address: optString(rec.client_address, 'client_address'),
    reported_cost: optDecimal(rec.reported_cost, 'reported_cost'),
  };
  richUsage(e, rec, text);
  const adjusted = adjustedCount(rec.adjusted_count);
  if (adjusted !== null) e.adjusted_count = adjusted;
  return redactEvent(e);
}

/** `adjusted_count` (SPEC §11): a decimal ≥ 1, as a string or a JSON number; absent or 1 means unsampled. */
function adjustedCount(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' && typeof v !== 'number')
    return fail('adjusted_count', `must be a decimal number ≥ 1, got ${typeName(v)}`);
  try {
    return adjustedCountOf(String(v));
  } catch (e) {
    if (e instanceof RangeError) return fail('adjusted_count', e.message);
    throw e;
  }
}

/**
 * The richer-usage fields (SPEC §3): each is a part of a total, so it may
 * not exceed it. Set on the event only when non-zero, as the store reads
 * them back.
 */
function richUsage(e: UsageEvent, rec: Record<string, unknown>, text: boolean): void {
  const part = (
    field: 'cache_write_1h_tokens' | 'input_audio_tokens' | 'output_audio_tokens',
    of: keyof UsageEvent,
  ) => {
    const n = optCount(rec[field], field, text, 0);
    if (n > (e[of] as number)) fail(field, `is a part of ${of} and must not exceed it (${n} > ${e[of]})`);
    if (n > 0) e[field] = n;
  };
  part('cache_write_1h_tokens', 'cache_write_tokens');
  part('input_audio_tokens', 'input_tokens');
  part('output_audio_tokens', 'output_tokens');
  const units = parseUnits(rec.units, text);
  if (units !== null) e.units = units;
}

/** `units`: an object of unit name → count (in CSV, that object as JSON text); null when empty. */
export function parseUnits(v: unknown, text: boolean): Units | null {
  if (v === undefined || v === null || v === '') return null;
  let obj: unknown = v;
  if (typeof v === 'string') {
    if (!text) fail('units', 'must be an object of unit name → count, got string');
    try {
      obj = JSON.parse(v);
    } catch {
      fail('units', 'must be a JSON object of unit name → count');
    }
  }
  if (!isObject(obj) || Array.isArray(obj))
    fail('units', `must be an object of unit name → count, got ${typeName(obj)}`);
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(obj)) {
    if (!UNIT_NAME.test(k)) fail(`units.${k}`, 'is not a unit name (lower-case letters, digits, _ . -)');
    const c = count(n, `units.${k}`, false);
    if (c > 0) out[k] = c;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** Checks a canonical CSV header: every column known, none twice, the required ones present. */
export function checkCanonicalHeader(columns: readonly string[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (!KNOWN.has(c)) fail(c, 'unknown column (use the field names of docs/reference/canonical-event.md)');
    if (seen.has(c)) fail(c, 'column appears twice');
    seen.add(c);
  }
  for (const r of REQUIRED) if (!seen.has(r)) fail(r, 'required column is missing');
}
