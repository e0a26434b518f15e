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
 * - One-hour cache writes are also kept as `cache_write_1h_tokens` (a part
 *   of `cache_write_tokens`), priced at their own rate (SPEC §3).
 * - `server_tool_use.web_search_requests` → `units: {"web_search": n}`,
 *   priced per search.
 * - The report has no request count, so `requests` is 0 (a made-up count
 *   would skew per-request figures, and tokens carry the cost) and the bucket
 *   prices at the base tier; a `context_window: 200k-1M` row counts as one
 *   request, so that its tokens price at the long-context tier.
 * - The event id is the bucket's slot (buckets.ts) and every grouping
 *   field, each part redacted: a later fetch of the same bucket with newer
 *   numbers supersedes the earlier one (SPEC §3.3).
 * - Accepted as input: a report page, NDJSON or an array of pages, and a
 *   list of buckets collected across pages.
 */
import { emptyEvent, type UsageEvent } from '../core/event.js';
import { bucketId, bucketSlot, pageWidth } from './buckets.js';
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

/** The `context_window` of requests above 200k input tokens, which Anthropic bills at its long-context rates. */
const LONG_CONTEXT = '200k-1M';

/** Every field a report can be grouped by: all of them make the event id. */
const GROUP_FIELDS = ['workspace_id', 'api_key_id', 'model', 'service_tier', 'context_window'] as const;

function cacheWrites(r: Record<string, unknown>): { m5: number; h1: number } {
  if (r.cache_creation !== undefined && r.cache_creation !== null) {
    if (!isObject(r.cache_creation))
      fail('cache_creation', `must be an object, got ${typeName(r.cache_creation)}`);
    const cc = r.cache_creation;
    return {
      m5: optCount(cc.ephemeral_5m_input_tokens, 'cache_creation.ephemeral_5m_input_tokens', false, 0),
      h1: optCount(cc.ephemeral_1h_input_tokens, 'cache_creation.ephemeral_1h_input_tokens', false, 0),
    };
  }
  return {
    m5: optCount(r.cache_creation_5m_input_tokens, 'cache_creation_5m_input_tokens', false, 0),
    h1: optCount(r.cache_creation_1h_input_tokens, 'cache_creation_1h_input_tokens', false, 0),
  };
}

function webSearches(r: Record<string, unknown>): number {
  const use = r.server_tool_use;
  if (use === undefined || use === null) return 0;
  if (!isObject(use)) return fail('server_tool_use', `must be an object, got ${typeName(use)}`);
  return optCount(use.web_search_requests, 'server_tool_use.web_search_requests', false, 0);
}

/** `key`: the bucket's start and end as normalised text; `start`: the event's time. */
function resultEvent(r: unknown, key: readonly string[], start: number): UsageEvent {
  if (!isObject(r)) return fail(undefined, `must be an object, got ${typeName(r)}`);
  const group = GROUP_FIELDS.map((k) => optString(r[k], k) ?? '');
  const e = emptyEvent(bucketId(['messages', ...key, ...group]), 'anthropic-usage', start);
  e.provider = 'anthropic';
  e.operation = 'chat';
  // Without a request count a bucket prices at the base tier (core/usage.ts
  // tierUnitsOf); a row of requests above 200k input tokens counts as one
  // request, which keeps all of its tokens at the long-context rate, as billed.
  e.requests = r.context_window === LONG_CONTEXT ? 1 : 0;
  e.model = optString(r.model, 'model');
  e.project = optString(r.workspace_id, 'workspace_id');
  e.api_key = optString(r.api_key_id, 'api_key_id');
  const uncached = optCount(r.uncached_input_tokens, 'uncached_input_tokens', false, 0);
  const cacheRead = optCount(r.cache_read_input_tokens, 'cache_read_input_tokens', false, 0);
  const writes = cacheWrites(r);
  e.input_tokens = uncached + cacheRead + writes.m5 + writes.h1;
  e.cache_read_tokens = cacheRead;
  e.cache_write_tokens = writes.m5 + writes.h1;
  if (writes.h1 > 0) e.cache_write_1h_tokens = writes.h1;
  e.output_tokens = optCount(r.output_tokens, 'output_tokens', false, 0);
  const searches = webSearches(r);
  if (searches > 0) e.units = { web_search: searches };
  return redactEvent(e);
}

interface Bucket {
  start: number;
  /** Null when the report gives no end. */
  end: number | null;
  results: unknown[];
}

function readBucket(bucket: unknown, now: number): Bucket {
  if (!isObject(bucket)) return fail(undefined, `must be an object, got ${typeName(bucket)}`);
  const start = notFuture(
    parseTime(reqString(bucket.starting_at, 'starting_at'), 'starting_at', true),
    'starting_at',
    now,
  );
  const endText = optString(bucket.ending_at, 'ending_at');
  const end = endText === null ? null : parseTime(endText, 'ending_at', true);
  if (!Array.isArray(bucket.results)) fail('results', `must be an array, got ${typeName(bucket.results)}`);
  return { start, end, results: bucket.results as unknown[] };
}

/** A record that is one bucket (an element of a collected list) rather than a report page. */
function isBucket(v: unknown): boolean {
  return isObject(v) && v.data === undefined && v.starting_at !== undefined;
}

/** Maps one report page, or one bucket of a list; an invalid result is rejected alone, the rest is kept. */
export function mapAnthropicReport(
  report: unknown,
  where: Where,
  raw: string,
  now: number,
  sink: Sink,
): void {
  const single = isBucket(report);
  const data = single
    ? [report]
    : reportData(report, 'an Anthropic usage report', (p) => sink.reject(p, raw), where);
  if (data === null) return;
  const buckets = data.map((bucket, i): Bucket | null => {
    try {
      return readBucket(bucket, now);
    } catch (e) {
      sink.reject(toProblem(e, where, single ? '' : `data[${i}].`), JSON.stringify(bucket) ?? '');
      return null;
    }
  });
  const spans = buckets.flatMap((b) => (b && b.end !== null ? [{ start: b.start, end: b.end }] : []));
  const width = pageWidth(spans);
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (!b) continue;
    // Normalised times: the same bucket written differently is the same event.
    // Without an end the bucket is known by its start alone.
    const slot = b.end === null ? null : bucketSlot(b.start, b.end, width);
    const start = slot?.start ?? b.start;
    const key = [new Date(start).toISOString(), slot === null ? '' : new Date(slot.end).toISOString()];
    for (let j = 0; j < b.results.length; j++) {
      try {
        sink.event(resultEvent(b.results[j], key, start));
      } catch (e) {
        const prefix = single ? `results[${j}].` : `data[${i}].results[${j}].`;
        sink.reject(toProblem(e, where, prefix), JSON.stringify(b.results[j]) ?? '');
      }
    }
  }
}
