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
