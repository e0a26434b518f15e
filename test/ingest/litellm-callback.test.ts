// LiteLLM's standard logging payload (what its generic_api callback posts) maps through
// the spend-log rule, so a request reported live and later exported counts once.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FieldError } from '../../src/ingest/fields.js';
import { litellmPayloadEvent } from '../../src/ingest/litellm-callback.js';
import { fixture, parseText } from './helpers.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const payloads = JSON.parse(readFileSync(fixture('litellm', 'callback-payloads.json'), 'utf8')) as unknown[];

describe('LiteLLM logging payload', () => {
  it('gives the same event as the spend-log row of the same request', async () => {
    const rows = JSON.parse(readFileSync(fixture('litellm', 'spend-logs.json'), 'utf8')) as unknown[];
    const { events } = await parseText(JSON.stringify([rows[0]]), 'litellm');
    // startTime 1790856000.123 s = 2026-10-01T12:00:00.123Z, as the spend log has it.
    expect(litellmPayloadEvent(payloads[0], NOW)).toEqual(events[0]);
  });

  it('maps a failure to an error event with its class, and never reads prompts', () => {
    const e = litellmPayloadEvent(payloads[1], NOW);
    expect(e).toMatchObject({
      id: 'b1d4e5f6-0a1b-4c2d-8e3f-4a5b6c7d8e9f',
      source: 'litellm',
      status: 'error',
      error_type: 'RateLimitError',
      input_tokens: 0,
      time: Date.parse('2026-10-01T12:01:00Z'),
    });
    expect(JSON.stringify(litellmPayloadEvent(payloads[0], NOW))).not.toContain('must never store');
  });

  it("agrees with the spend log on a router deployment's model, which the spend log names with its provider prefix", async () => {
    const rows = JSON.parse(readFileSync(fixture('litellm', 'spend-logs.json'), 'utf8')) as Array<
      Record<string, unknown>
    >;
    // LiteLLM's reconstruct_model_name: the deployment `openai/gpt-4o-2024-08-06` in the spend log.
    const row = { ...rows[0], model: 'openai/gpt-4o-2024-08-06' };
    const { events } = await parseText(JSON.stringify([row]), 'litellm');
    const live = litellmPayloadEvent(payloads[0], NOW);
    expect(events[0]).toEqual(live);
    expect(live.model).toBe('gpt-4o-2024-08-06');
  });

  it("takes the key's end user when the payload leaves end_user empty, as LiteLLM writes unset strings", () => {
    const p = payloads[0] as { metadata: Record<string, unknown> };
    const e = litellmPayloadEvent(
      {
        ...p,
        end_user: '',
        request_tags: [],
        metadata: { ...p.metadata, spend_logs_metadata: null, user_api_key_end_user_id: 'customer-7' },
      },
      NOW,
    );
    expect(e.tenant).toBe('customer-7');
  });

  it("reads a payload shaped as LiteLLM's own test payload: string times, empty strings for unset fields", () => {
    expect(litellmPayloadEvent(payloads[2], NOW)).toMatchObject({
      id: 'chatcmpl-5b1e7c2a-0d4f-4e8b-9a6c-3f2e1d0c9b8a',
      time: Date.parse('2026-10-02T09:20:46.847Z'),
      model: 'gpt-4o',
      provider: 'openai',
      operation: 'chat',
      input_tokens: 10,
      output_tokens: 20,
      api_key: null,
      tenant: null,
      status: 'ok',
      error_type: null,
      reported_cost: '0.000225',
    });
  });

  it('rounds startTime to the milliseconds the spend table keeps, and finds the provider of an older payload', () => {
    const at = (startTime: number) =>
      litellmPayloadEvent({ ...(payloads[0] as object), startTime }, NOW).time;
    // The spend table keeps milliseconds, rounded (PostgreSQL timestamp(3)): .123456 → .123, .1236 → .124.
    expect(at(1790856000.123456)).toBe(Date.parse('2026-10-01T12:00:00.123Z'));
    expect(at(1790856000.1236)).toBe(Date.parse('2026-10-01T12:00:00.124Z'));
    expect(at(1790856000.9996)).toBe(Date.parse('2026-10-01T12:00:01.000Z'));
    const older = { ...(payloads[2] as object), custom_llm_provider: undefined };
    const withMap = {
      ...older,
      model_map_information: { model_map_key: 'gpt-4o', model_map_value: { litellm_provider: 'openai' } },
    };
    expect(litellmPayloadEvent(withMap, NOW).provider).toBe('openai');
  });

  it('names the payload field that is wrong', () => {
    const problem = (over: Record<string, unknown>) => {
      try {
        litellmPayloadEvent({ ...(payloads[0] as object), ...over }, NOW);
      } catch (e) {
        return e as FieldError;
      }
      throw new Error('accepted');
    };
    expect(problem({ id: '' })).toMatchObject({ field: 'id', reason: 'is required' });
    expect(problem({ startTime: true })).toMatchObject({ field: 'startTime' });
    expect(problem({ prompt_tokens: -1 })).toMatchObject({
      field: 'prompt_tokens',
      reason: 'must not be negative, got -1',
    });
  });
});
