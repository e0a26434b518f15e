/**
 * OpenAI organization usage API pages (`/v1/organization/usage/completions`
 * and `/embeddings`): `{object: "page", data: [bucket], has_more, next_page}`,
 * each bucket `{start_time, end_time, results: [...]}` with times in unix
 * seconds. One event per bucket and result (SPEC §3).
 *
 * The event id is built from the bucket's start and end, the result kind and
 * every grouping field, so fetching the same page again gives the same ids
 * (idempotent), while a 1h and a 1d bucket starting at the same time do not
 * collide. `input_tokens` already includes cached tokens in this API.
 */
import { emptyEvent, type UsageEvent } from '../core/event.js';
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

function resultEvent(r: unknown, start: number, end: number, now: number): UsageEvent {
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
    `${kind.kind}|${start / 1000}|${end / 1000}|${group.join('|')}`,
    'openai-usage',
    start,
  );
  notFuture(start, 'start_time', now);
  e.provider = 'openai';
  e.operation = kind.operation;
  e.model = optString(r.model, 'model');
  e.project = optString(r.project_id, 'project_id');
  e.api_key = optString(r.api_key_id, 'api_key_id');
  e.input_tokens = count(r.input_tokens, 'input_tokens', false);
  e.output_tokens = optCount(r.output_tokens, 'output_tokens', false, 0);
  e.cache_read_tokens = optCount(r.input_cached_tokens, 'input_cached_tokens', false, 0);
  e.requests = count(r.num_model_requests, 'num_model_requests', false);
  return redactEvent(e);
}

/** Maps one page; an invalid result is rejected alone, the rest of the page is kept. */
export function mapOpenAiPage(page: unknown, where: Where, raw: string, now: number, sink: Sink): void {
  const data = reportData(page, 'an OpenAI usage page', (p) => sink.reject(p, raw), where);
  if (data === null) return;
  for (let i = 0; i < data.length; i++) {
    const bucket = data[i];
    let start: number;
    let end: number;
    let results: unknown[];
    try {
      if (!isObject(bucket)) fail(undefined, `must be an object, got ${typeName(bucket)}`);
      start = seconds(bucket.start_time, 'start_time');
      end =
        bucket.end_time === undefined || bucket.end_time === null
          ? start
          : seconds(bucket.end_time, 'end_time');
      if (!Array.isArray(bucket.results))
        fail('results', `must be an array, got ${typeName(bucket.results)}`);
      results = bucket.results;
    } catch (e) {
      sink.reject(toProblem(e, where, `data[${i}].`), JSON.stringify(bucket) ?? '');
      continue;
    }
    for (let j = 0; j < results.length; j++) {
      try {
        sink.event(resultEvent(results[j], start, end, now));
      } catch (e) {
        sink.reject(toProblem(e, where, `data[${i}].results[${j}].`), JSON.stringify(results[j]) ?? '');
      }
    }
  }
}
