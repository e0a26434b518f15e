/**
 * LiteLLM proxy `LiteLLM_SpendLogs` rows (schema.prisma), from the `/spend/logs`
 * API (JSON, `metadata` and `request_tags` as objects) or a table export
 * (CSV or JSON, those two columns as JSON text). Mapping: SPEC §3.
 *
 * Decisions:
 * - Tokens: LiteLLM normalises usage to the OpenAI shape, where
 *   `prompt_tokens` includes cached tokens; for Anthropic models its
 *   transformation adds `cache_read_input_tokens` and
 *   `cache_creation_input_tokens` into `prompt_tokens` (older releases added
 *   only the cache reads). So `input_tokens = prompt_tokens`, except that a
 *   row whose cache tokens exceed `prompt_tokens` cannot be inclusive, and
 *   then input is raised to the cache total.
 * - A `<custom_llm_provider>/` prefix is taken off the model (`openai/gpt-4o`
 *   → `gpt-4o`): the spend log keeps a router deployment's prefix, the
 *   logging payload and the price catalog do not.
 * - `model_group` replaces `model` only when `model` is empty: the event has
 *   one model field, so "try `model_group` when `model` has no price" is not
 *   possible after ingestion.
 * - `api_key` is LiteLLM's SHA-256 hex of the virtual key: exactly tally's
 *   fingerprint of the raw key (core/secrets.ts), kept whole, so the
 *   registry names a key once for every source.
 * - `startTime` without a zone is UTC (LiteLLM writes UTC).
 * - A cache hit's id (`<id>_cache_hit<write time>`) becomes
 *   `<id>_cache_hit@<start time>`, the id its logging payload also gets.
 * - `messages`, `response` and `proxy_server_request` (prompts, when the
 *   proxy stores them) are never read.
 */
import { emptyEvent, type UsageEvent } from '../core/event.js';
import {
  count,
  fail,
  isObject,
  notFuture,
  optDecimal,
  optString,
  parseTime,
  redactEvent,
  reqString,
  typeName,
} from './fields.js';

const CHAT_CALLS = /^a?(?:completion|text_completion)(?:_stream(?:ing)?)?$/;
const EMBEDDING_CALLS = /^a?embedding$/;

function operationOf(callType: string): string {
  if (CHAT_CALLS.test(callType)) return 'chat';
  if (EMBEDDING_CALLS.test(callType)) return 'embeddings';
  return callType;
}

/** A JSON column: an object/array as is, JSON text parsed, empty → undefined. */
function jsonColumn(v: unknown, field: string): unknown {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return fail(field, 'is not valid JSON');
  }
}

function optObject(v: unknown, field: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return fail(field, `must be an object, got ${typeName(v)}`);
  return v;
}

function firstCount(candidates: [unknown, string][]): number | null {
  for (const [v, field] of candidates)
    if (v !== undefined && v !== null && v !== '') return count(v, field, true);
  return null;
}

function nested(o: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined {
  const v = o?.[key];
  return isObject(v) ? v : undefined;
}

/**
 * The model without its provider prefix: LiteLLM's spend log names a router
 * deployment's model as configured (`openai/gpt-4o`, and always
 * `bedrock/…`), its logging payload as sent to the provider (`gpt-4o`).
 */
function withoutProvider(model: string | null, provider: string | null): string | null {
  if (model === null || provider === null) return model;
  const prefix = `${provider.toLowerCase()}/`;
  return model.toLowerCase().startsWith(prefix) && model.length > prefix.length
    ? model.slice(prefix.length)
    : model;
}

/** LiteLLM's cache-hit suffix: `_cache_hit` and the time the row was written (spend logs). */
const CACHE_HIT = /_cache_hit[0-9.]*$/;

/**
 * The event id. A cache hit answers with the cached response's id, so
 * LiteLLM suffixes its spend-log id with `_cache_hit` and the time it wrote
 * the row, which its logging payload does not carry: both become
 * `<id>_cache_hit@<start time>`, one id whichever path reports the hit.
 */
export function requestId(id: string, time: number): string {
  const m = CACHE_HIT.exec(id);
  return m ? `${id.slice(0, m.index)}_cache_hit@${new Date(time).toISOString()}` : id;
}

/** One SpendLogs row to an event; throws FieldError. */
export function litellmEvent(row: unknown, now: number): UsageEvent {
  if (!isObject(row))
    return fail(undefined, `a LiteLLM spend log row must be an object, got ${typeName(row)}`);
  const start = reqString(row.startTime, 'startTime');
  const time = notFuture(parseTime(start, 'startTime', false), 'startTime', now);
  const e = emptyEvent(requestId(reqString(row.request_id, 'request_id'), time), 'litellm', time);
  const callType = optString(row.call_type, 'call_type');
  // LiteLLM writes failed requests with an empty call_type (SPEC §3): an error event, not an invalid row.
  e.operation = callType === null ? 'unknown' : operationOf(callType);

  const metadata = optObject(jsonColumn(row.metadata, 'metadata'), 'metadata');
  const tags = jsonColumn(row.request_tags, 'request_tags');
  if (tags !== undefined && !Array.isArray(tags))
    fail('request_tags', `must be an array, got ${typeName(tags)}`);

  e.provider = optString(row.custom_llm_provider, 'custom_llm_provider');
  e.model = withoutProvider(
    optString(row.model, 'model') ?? optString(row.model_group, 'model_group'),
    e.provider,
  );

  const additional = optObject(metadata?.additional_usage_values, 'metadata.additional_usage_values');
  const usage = optObject(metadata?.usage_object, 'metadata.usage_object');
  const au = 'metadata.additional_usage_values';
  const uo = 'metadata.usage_object';
  const cacheRead =
    firstCount([
      [additional?.cache_read_input_tokens, `${au}.cache_read_input_tokens`],
      [usage?.cache_read_input_tokens, `${uo}.cache_read_input_tokens`],
      [
        nested(additional, 'prompt_tokens_details')?.cached_tokens,
        `${au}.prompt_tokens_details.cached_tokens`,
      ],
      [nested(usage, 'prompt_tokens_details')?.cached_tokens, `${uo}.prompt_tokens_details.cached_tokens`],
    ]) ?? 0;
  const cacheWrite =
    firstCount([
      [additional?.cache_creation_input_tokens, `${au}.cache_creation_input_tokens`],
      [usage?.cache_creation_input_tokens, `${uo}.cache_creation_input_tokens`],
    ]) ?? 0;
  const reasoning =
    firstCount([
      [
        nested(additional, 'completion_tokens_details')?.reasoning_tokens,
        `${au}.completion_tokens_details.reasoning_tokens`,
      ],
      [
        nested(usage, 'completion_tokens_details')?.reasoning_tokens,
        `${uo}.completion_tokens_details.reasoning_tokens`,
      ],
    ]) ?? 0;
  const prompt = firstCount([[row.prompt_tokens, 'prompt_tokens']]) ?? 0;
  e.input_tokens = Math.max(prompt, cacheRead + cacheWrite);
  e.output_tokens = firstCount([[row.completion_tokens, 'completion_tokens']]) ?? 0;
  e.cache_read_tokens = cacheRead;
  e.cache_write_tokens = cacheWrite;
  e.reasoning_tokens = reasoning;

  e.api_key = optString(row.api_key, 'api_key');
  e.agent = optString(row.agent_id, 'agent_id');
  e.tenant = tenantOf(metadata, tags as unknown[] | undefined, optString(row.end_user, 'end_user'));
  e.client_address =
    optString(row.requester_ip_address, 'requester_ip_address') ??
    optString(metadata?.requester_ip_address, 'metadata.requester_ip_address');
  const failed = callType === null || row.status === 'failure' || metadata?.status === 'failure';
  if (failed) e.status = 'error';
  const errorInfo = nested(metadata, 'error_information');
  const errorType = errorInfo?.error_class ?? errorInfo?.error_code;
  e.error_type =
    typeof errorType === 'string' || typeof errorType === 'number' ? String(errorType) || null : null;
  e.reported_cost = optDecimal(row.spend, 'spend');
  return redactEvent(e);
}

function tenantOf(
  metadata: Record<string, unknown> | undefined,
  tags: unknown[] | undefined,
  endUser: string | null,
): string | null {
  const claimed = nested(metadata, 'spend_logs_metadata')?.tenant;
  if (typeof claimed === 'string' && claimed !== '') return claimed;
  for (const t of tags ?? [])
    if (typeof t === 'string' && t.startsWith('tenant:') && t.length > 7) return t.slice(7);
  return endUser;
}
