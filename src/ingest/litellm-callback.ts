/**
 * LiteLLM's standard logging payload (`StandardLoggingPayload`, what its
 * `generic_api` callback posts: one object, a JSON array, or NDJSON), read as
 * the spend-log row LiteLLM itself derives from it, so that both sources map
 * through one rule (litellm.ts) and the same request counts once: the
 * payload's `id` is the spend log's `request_id`, and
 * `metadata.user_api_key_hash` its `api_key`.
 *
 * Fields: `id`, `cache_hit`, `call_type`, `startTime` (epoch seconds, a float), `model`,
 * `model_group`, `custom_llm_provider`, `prompt_tokens`, `completion_tokens`,
 * `response_cost`, `status` (`success`/`failure`), `request_tags`,
 * `end_user`, `requester_ip_address`, `error_information`, and under
 * `metadata`: `user_api_key_hash`, `user_api_key_end_user_id`,
 * `spend_logs_metadata`, `usage_object`, `requester_ip_address`.
 * `messages` and `response` (prompts and completions) are never read.
 */
import type { UsageEvent } from '../core/event.js';
import { fail, isObject, typeName } from './fields.js';
import { litellmEvent } from './litellm.js';

/** One payload to an event; throws FieldError naming the payload's own fields. */
export function litellmPayloadEvent(payload: unknown, now: number): UsageEvent {
  return litellmEvent(spendLogRow(payload), now);
}

function spendLogRow(p: unknown): Record<string, unknown> {
  if (!isObject(p)) return fail(undefined, `a LiteLLM logging payload must be an object, got ${typeName(p)}`);
  if (typeof p.id !== 'string' || p.id === '') fail('id', 'is required');
  const metadata = isObject(p.metadata) ? p.metadata : {};
  return {
    // A cache hit carries the cached response's id: litellm.ts gives it the spend log's cache-hit id.
    request_id: p.cache_hit === true ? `${p.id}_cache_hit` : p.id,
    call_type: p.call_type,
    startTime: startTimeOf(p.startTime),
    api_key: metadata.user_api_key_hash ?? null,
    model: p.model,
    model_group: p.model_group,
    custom_llm_provider: given(p.custom_llm_provider) ?? providerOf(p),
    prompt_tokens: p.prompt_tokens,
    completion_tokens: p.completion_tokens,
    spend: p.response_cost,
    status: p.status,
    request_tags: p.request_tags,
    end_user: given(p.end_user) ?? given(metadata.user_api_key_end_user_id),
    requester_ip_address: given(p.requester_ip_address) ?? given(metadata.requester_ip_address),
    metadata: {
      spend_logs_metadata: metadata.spend_logs_metadata ?? null,
      usage_object: metadata.usage_object ?? null,
      status: p.status,
      error_information: p.error_information ?? null,
    },
  };
}

/**
 * The provider where an older payload has no `custom_llm_provider`: the
 * model map's `litellm_provider`, or the provider an error names.
 */
function providerOf(p: Record<string, unknown>): unknown {
  const info = isObject(p.model_map_information) ? p.model_map_information : {};
  const value = isObject(info.model_map_value) ? info.model_map_value : {};
  const error = isObject(p.error_information) ? p.error_information : {};
  return given(value.litellm_provider) ?? given(error.llm_provider);
}

/** A value LiteLLM filled in: null, undefined and "" are not (it writes "" for unset strings). */
function given(v: unknown): unknown {
  return v === undefined || v === null || v === '' ? null : v;
}

/** Epoch seconds (LiteLLM's float) to an ISO time; an ISO string passes through. */
function startTimeOf(v: unknown): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 32_503_680_000)
    return fail('startTime', `must be epoch seconds, got ${typeName(v)}`);
  // Python's datetime.timestamp(): microseconds in a float. The spend table stores the same
  // time in milliseconds (Prisma's DateTime is timestamp(3), which PostgreSQL rounds half up):
  // rounded so, both give the same instant.
  const [whole = '0', micros = '0'] = v.toFixed(6).split('.');
  return new Date(Number(whole) * 1000 + Math.round(Number(micros) / 1000)).toISOString();
}
