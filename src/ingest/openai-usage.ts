/**
 * OpenAI organization usage API pages (`/v1/organization/usage/completions`
 * and `/embeddings`): `{object: "page", data: [bucket], has_more, next_page}`,
 * each bucket `{start_time, end_time, results: [...]}` with times in unix
 * seconds. One event per bucket and result (SPEC §3).
 *
 * The event id is built from the bucket's slot (its aligned start and end,
 * see buckets.ts), the result kind and every grouping field, each part
 * redacted: fetching the same bucket again gives the same id, whether the
 * earlier fetch saw it whole or cut at the query's edge, so the later fetch
 * supersedes the earlier (SPEC §3.3); a 1h and a 1d bucket starting at the
 * same time do not collide. The event's time is the slot's start.
 *
 * `input_tokens` already includes cached, cache-write and audio tokens in
 * this API; `input_audio_tokens`, `output_audio_tokens`,
 * `input_cached_tokens` and, where present, `input_cache_write_tokens` are
 * kept as the parts they are.
 *
 * Accepted as input: a page, NDJSON or an array of pages, and a list of
 * buckets (what the official cookbook collects across pages).
 */
import { emptyEvent, type UsageEvent } from '../core/event.js';
import { bucketId, bucketSlot, pageWidth } from './buckets.js';
import {
  count,
  fail,
  isObject,
  notFuture,
  optCount,
  optString,
  redactEvent,
  reportData,
  toProblem,
  typeName,
  type Where,
} from './fields.js';
import type { Sink } from './sink.js';

const KINDS: Readonly<Record<string, { kind: string; operation: string }>> = {
  'organization.usage.completions.result': { kind: 'completions', operation: 'chat' },
  'organization.usage.embeddings.result': { kind: 'embeddings', operation: 'embeddings' },
};

/** Every field a page can be grouped by: all of them make the event id. */
const GROUP_FIELDS = ['project_id', 'api_key_id', 'model', 'user_id', 'batch', 'service_tier'] as const;

function seconds(v: unknown, field: string): number {
  if (typeof v !== 'number') return fail(field, `must be unix seconds (a number), got ${typeName(v)}`);
  return count(v, field, false) * 1000;
}

function optText(v: unknown, field: string): string {
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return optString(v, field) ?? '';
}

function resultEvent(r: unknown, slot: Slot, now: number): UsageEvent {
  if (!isObject(r)) return fail(undefined, `must be an object, got ${typeName(r)}`);
  const kind = typeof r.object === 'string' ? KINDS[r.object] : undefined;
  if (!kind) {
    return fail(
      'object',
      `unsupported usage result "${String(r.object)}": only completions and embeddings pages are read`,
    );
  }
  const group = GROUP_FIELDS.map((k) => optText(r[k], k));
  const e = emptyEvent(
    bucketId([kind.kind, String(slot.start / 1000), String(slot.end / 1000), ...group]),
    'openai-usage',
    slot.start,
  );
  notFuture(slot.start, 'start_time', now);
  e.provider = 'openai';
  e.operation = kind.operation;
  e.model = optString(r.model, 'model');
  e.project = optString(r.project_id, 'project_id');
  e.api_key = optString(r.api_key_id, 'api_key_id');
  e.input_tokens = count(r.input_tokens, 'input_tokens', false);
  e.output_tokens = optCount(r.output_tokens, 'output_tokens', false, 0);
  e.cache_read_tokens = optCount(r.input_cached_tokens, 'input_cached_tokens', false, 0);
  e.cache_write_tokens = optCount(r.input_cache_write_tokens, 'input_cache_write_tokens', false, 0);
  const inAudio = optCount(r.input_audio_tokens, 'input_audio_tokens', false, 0);
  const outAudio = optCount(r.output_audio_tokens, 'output_audio_tokens', false, 0);
  if (inAudio > 0) e.input_audio_tokens = inAudio;
  if (outAudio > 0) e.output_audio_tokens = outAudio;
  e.requests = count(r.num_model_requests, 'num_model_requests', false);
  return redactEvent(e);
}

interface Slot {
  start: number;
  end: number;
}

/** A bucket's times and results; throws FieldError. */
function readBucket(bucket: unknown): { start: number; end: number; results: unknown[] } {
  if (!isObject(bucket)) return fail(undefined, `must be an object, got ${typeName(bucket)}`);
  const start = seconds(bucket.start_time, 'start_time');
  const end =
    bucket.end_time === undefined || bucket.end_time === null ? start : seconds(bucket.end_time, 'end_time');
  if (!Array.isArray(bucket.results)) fail('results', `must be an array, got ${typeName(bucket.results)}`);
  return { start, end, results: bucket.results as unknown[] };
}

/** A record that is one bucket (an element of a cookbook list) rather than a page. */
function isBucket(v: unknown): boolean {
  return isObject(v) && v.data === undefined && (v.object === 'bucket' || v.start_time !== undefined);
}

/**
 * Maps one page, or one bucket of a bucket list; an invalid bucket or
 * result is rejected alone, the rest of the page is kept.
 */
export function mapOpenAiPage(page: unknown, where: Where, raw: string, now: number, sink: Sink): void {
  const single = isBucket(page);
  const data = single ? [page] : reportData(page, 'an OpenAI usage page', (p) => sink.reject(p, raw), where);
  if (data === null) return;
  const buckets: Array<{ start: number; end: number; results: unknown[] } | null> = data.map((bucket, i) => {
    try {
      return readBucket(bucket);
    } catch (e) {
      sink.reject(toProblem(e, where, single ? '' : `data[${i}].`), JSON.stringify(bucket) ?? '');
      return null;
    }
  });
  const width = pageWidth(buckets.filter((b) => b !== null));
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (!b) continue;
    const slot = bucketSlot(b.start, b.end, width);
    for (let j = 0; j < b.results.length; j++) {
      try {
        sink.event(resultEvent(b.results[j], slot, now));
      } catch (e) {
        const prefix = single ? `results[${j}].` : `data[${i}].results[${j}].`;
        sink.reject(toProblem(e, where, prefix), JSON.stringify(b.results[j]) ?? '');
      }
    }
  }
}
