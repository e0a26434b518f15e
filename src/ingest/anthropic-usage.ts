/**
 * Anthropic Admin API messages usage report
 * (`/v1/organizations/usage_report/messages`): `{data: [bucket], has_more,
 * next_page}`, each bucket `{starting_at, ending_at, results: [...]}` in
 * RFC 3339. One event per bucket and result (SPEC §3).
 *
 * Decisions:
 * - Anthropic reports input in parts; `input_tokens` is their sum
 *   (uncached + cache reads + cache writes of both TTLs) to follow the
 *   inclusive convention of SPEC §3. Cache writes are read from the nested
 *   `cache_creation` object, or from flat `cache_creation_{5m,1h}_input_tokens`.
 * - The report has no request count, so `requests` is 0: a made-up count
 *   would skew per-request figures, and tokens carry the cost.
 * - `server_tool_use.web_search_requests` has no field in the event and is
 *   not mapped.
 */
import { emptyEvent, type UsageEvent } from '../core/event.js';
import {
  fail,
  isObject,
  notFuture,
  optCount,
  optString,
  parseTime,
  redactEvent,
  reportData,
  reqString,
  toProblem,
  typeName,
  type Where,
} from './fields.js';
import type { Sink } from './sink.js';

/** Every field a report can be grouped by: all of them make the event id. */
const GROUP_FIELDS = ['workspace_id', 'api_key_id', 'model', 'service_tier', 'context_window'] as const;

function resultEvent(r: unknown, bucket: string, start: number): UsageEvent {
  if (!isObject(r)) return fail(undefined, `must be an object, got ${typeName(r)}`);
  const group = GROUP_FIELDS.map((k) => optString(r[k], k) ?? '');
  const e = emptyEvent(`messages|${bucket}|${group.join('|')}`, 'anthropic-usage', start);
  e.provider = 'anthropic';
  e.operation = 'chat';
  e.requests = 0;
  e.model = optString(r.model, 'model');
  e.project = optString(r.workspace_id, 'workspace_id');
  e.api_key = optString(r.api_key_id, 'api_key_id');
  const uncached = optCount(r.uncached_input_tokens, 'uncached_input_tokens', false, 0);
  const cacheRead = optCount(r.cache_read_input_tokens, 'cache_read_input_tokens', false, 0);
  let cacheWrite: number;
  if (r.cache_creation !== undefined && r.cache_creation !== null) {
    if (!isObject(r.cache_creation))
      fail('cache_creation', `must be an object, got ${typeName(r.cache_creation)}`);
    const cc = r.cache_creation;
    cacheWrite =
      optCount(cc.ephemeral_5m_input_tokens, 'cache_creation.ephemeral_5m_input_tokens', false, 0) +
      optCount(cc.ephemeral_1h_input_tokens, 'cache_creation.ephemeral_1h_input_tokens', false, 0);
  } else {
    cacheWrite =
      optCount(r.cache_creation_5m_input_tokens, 'cache_creation_5m_input_tokens', false, 0) +
      optCount(r.cache_creation_1h_input_tokens, 'cache_creation_1h_input_tokens', false, 0);
  }
  e.input_tokens = uncached + cacheRead + cacheWrite;
  e.cache_read_tokens = cacheRead;
  e.cache_write_tokens = cacheWrite;
  e.output_tokens = optCount(r.output_tokens, 'output_tokens', false, 0);
  return redactEvent(e);
}

/** Maps one report page; an invalid result is rejected alone, the rest is kept. */
export function mapAnthropicReport(
  report: unknown,
  where: Where,
  raw: string,
  now: number,
  sink: Sink,
): void {
  const data = reportData(report, 'an Anthropic usage report', (p) => sink.reject(p, raw), where);
  if (data === null) return;
  for (let i = 0; i < data.length; i++) {
    const bucket = data[i];
    let bucketKey: string;
    let start: number;
    let results: unknown[];
    try {
      if (!isObject(bucket)) fail(undefined, `must be an object, got ${typeName(bucket)}`);
      start = notFuture(
        parseTime(reqString(bucket.starting_at, 'starting_at'), 'starting_at', true),
        'starting_at',
        now,
      );
      const endText = optString(bucket.ending_at, 'ending_at');
      const end = endText === null ? null : parseTime(endText, 'ending_at', true);
      // Normalised times in the id: the same bucket written differently is the same event.
      bucketKey = `${new Date(start).toISOString()}|${end === null ? '' : new Date(end).toISOString()}`;
      if (!Array.isArray(bucket.results))
        fail('results', `must be an array, got ${typeName(bucket.results)}`);
      results = bucket.results;
    } catch (e) {
      sink.reject(toProblem(e, where, `data[${i}].`), JSON.stringify(bucket) ?? '');
      continue;
    }
    for (let j = 0; j < results.length; j++) {
      try {
        sink.event(resultEvent(results[j], bucketKey, start));
      } catch (e) {
        sink.reject(toProblem(e, where, `data[${i}].results[${j}].`), JSON.stringify(results[j]) ?? '');
      }
    }
  }
}
