import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { ev, fixture, parseText, readFixture } from './helpers.js';

const OPENAI_ROW = ev({
  id: 'chatcmpl-9f3b2a71-5c4e-4d2b-8f6a-1e2d3c4b5a69',
  source: 'litellm',
  time: Date.parse('2026-10-01T12:00:00.123Z'),
  provider: 'openai',
  model: 'gpt-4o-2024-08-06',
  input_tokens: 1200,
  output_tokens: 300,
  cache_read_tokens: 200, // metadata.additional_usage_values.prompt_tokens_details.cached_tokens
  api_key: 'c97dca33f689516756c0e1d60e67efa7b0a4900393c7bf9ac954f9565fc4662a', // the hashed token, kept whole
  tenant: 'tenant-acme', // spend_logs_metadata.tenant wins over the tenant: tag
  client_address: '10.1.2.3',
  reported_cost: '0.0042125',
});

const ANTHROPIC_ROW = ev({
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  source: 'litellm',
  time: Date.parse('2026-10-01T12:05:00Z'),
  provider: 'anthropic',
  model: 'claude-sonnet-4-5-20250929',
  input_tokens: 3584, // prompt_tokens, which already includes the cache tokens
  output_tokens: 512,
  cache_read_tokens: 512,
  cache_write_tokens: 1024,
  reasoning_tokens: 128,
  api_key: '7c9479b93522a7cb77ab519557e7fcd4a9ae4f29e1e5da75df227f42119668d5',
  tenant: 'tenant-globex', // from the tenant: request tag
  client_address: '10.1.2.4',
  reported_cost: '0.0123456',
});

const EMBEDDING_ROW = ev({
  id: 'emb-2c6a1b77-91f0-4a57-a3a0-5d1d8b9e0f11',
  source: 'litellm',
  time: Date.parse('2026-10-01T12:10:00Z'),
  provider: 'openai',
  model: 'text-embedding-3-small', // model is empty: model_group
  operation: 'embeddings',
  input_tokens: 512,
  api_key: 'c97dca33f689516756c0e1d60e67efa7b0a4900393c7bf9ac954f9565fc4662a',
  tenant: 'tenant-initech', // end_user
  reported_cost: '0.00001024', // 1.024e-05 in the file
});

const FAILED_ROW = ev({
  id: 'failed-1a2b3c4d',
  source: 'litellm',
  time: Date.parse('2026-10-01T12:15:00Z'),
  provider: 'openai',
  model: 'gpt-4o',
  api_key: 'c97dca33f689516756c0e1d60e67efa7b0a4900393c7bf9ac954f9565fc4662a',
  client_address: '203.0.113.9',
  status: 'error',
  error_type: 'RateLimitError',
  reported_cost: '0',
});

const IMAGE_ROW = ev({
  id: 'img-77aa88bb',
  source: 'litellm',
  time: Date.parse('2026-10-01T12:20:00Z'),
  provider: 'openai',
  model: 'dall-e-3',
  operation: 'aimage_generation', // other call types keep their name
  api_key: 'c97dca33f689516756c0e1d60e67efa7b0a4900393c7bf9ac954f9565fc4662a',
  reported_cost: '0.04',
});

describe('litellm', () => {
  it('maps /spend/logs rows (JSON array, metadata as objects)', async () => {
    const { events, rejected } = await readFixture('auto', 'litellm', 'spend-logs.json');
    expect(rejected).toEqual([]);
    expect(events).toEqual([OPENAI_ROW, ANTHROPIC_ROW, EMBEDDING_ROW, FAILED_ROW, IMAGE_ROW]);
  });

  it('maps NDJSON rows', async () => {
    const { events } = await readFixture('auto', 'litellm', 'spend-logs.ndjson');
    expect(events).toEqual([OPENAI_ROW, ANTHROPIC_ROW, EMBEDDING_ROW]);
  });

  it('maps the CSV table export: JSON columns as text, a multi-line cell, zone-less UTC times, exact spend', async () => {
    const { events, rejected } = await readFixture('auto', 'litellm', 'spend-logs.csv');
    expect(rejected).toEqual([]);
    const expected: UsageEvent[] = [
      { ...OPENAI_ROW, reported_cost: '0.000123456789012345678' }, // more digits than a double holds
      ANTHROPIC_ROW,
      EMBEDDING_ROW,
    ];
    expect(events).toEqual(expected);
  });

  it('reads a paged reply that wraps rows in data', async () => {
    const rows = JSON.parse(readFileSync(fixture('litellm', 'spend-logs.json'), 'utf8'));
    const { events } = await parseText(
      JSON.stringify({ data: rows.slice(0, 2), total: 2, page: 1 }),
      'litellm',
    );
    expect(events).toEqual([OPENAI_ROW, ANTHROPIC_ROW]);
  });

  it('never reads stored prompts (messages, response, proxy_server_request)', async () => {
    const row = {
      request_id: 'r1',
      call_type: 'completion',
      startTime: '2026-10-01T00:00:00Z',
      messages: [{ role: 'user', content: 'tell me about ACME' }],
      response: { choices: [{ message: { content: 'ACME is' } }] },
      proxy_server_request: { body: { messages: [{ content: 'ACME' }] } },
      api_key: 'sk-1234567890abcdefghij',
    };
    const { events } = await parseText(JSON.stringify([row]), 'litellm');
    expect(JSON.stringify(events)).not.toMatch(/ACME|sk-/);
  });

  it('rejects negative and non-numeric token counts, bad JSON columns and times, naming row and field', async () => {
    const csv = [
      'request_id,call_type,startTime,prompt_tokens,completion_tokens,metadata,spend',
      'a,completion,2026-10-01 00:00:00,-3,1,,0.1',
      'b,completion,2026-10-01 00:00:00,3,lots,,0.1',
      'c,completion,2026-10-01 00:00:00,3,1,{not json,0.1',
      'd,completion,01/10/2026,3,1,,0.1',
      'e,completion,2026-10-01 00:00:00,3,1,,-0.5',
      ',completion,2026-10-01 00:00:00,3,1,,0.1',
    ].join('\n');
    const { events, rejected } = await parseText(csv, 'litellm', { skipInvalid: true, file: 'spend.csv' });
    expect(events).toEqual([]);
    expect(rejected.map((r) => r.problem)).toEqual([
      {
        file: 'spend.csv',
        record: 2,
        recordKind: 'line',
        field: 'prompt_tokens',
        reason: 'must not be negative, got -3',
      },
      {
        file: 'spend.csv',
        record: 3,
        recordKind: 'line',
        field: 'completion_tokens',
        reason: 'is not a number: "lots"',
      },
      { file: 'spend.csv', record: 4, recordKind: 'line', field: 'metadata', reason: 'is not valid JSON' },
      {
        file: 'spend.csv',
        record: 5,
        recordKind: 'line',
        field: 'startTime',
        reason: 'is not an ISO-8601 time: "01/10/2026"',
      },
      {
        file: 'spend.csv',
        record: 6,
        recordKind: 'line',
        field: 'spend',
        reason: 'must not be negative, got -0.5',
      },
      { file: 'spend.csv', record: 7, recordKind: 'line', field: 'request_id', reason: 'is required' },
    ]);
    expect(rejected[0]?.raw).toBe('a,completion,2026-10-01 00:00:00,-3,1,,0.1');
  });

  it('reads a failure row (empty call_type, as LiteLLM writes failed requests) as an error event', async () => {
    // Shape of a failed request in LiteLLM_SpendLogs: status "failure", call_type "", no usage,
    // metadata.error_information with the exception's class and HTTP code.
    const row = {
      request_id: 'failed-1',
      call_type: '',
      api_key: '88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b',
      spend: 0,
      total_tokens: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      startTime: '2026-10-01T00:00:00Z',
      endTime: '2026-10-01T00:00:01Z',
      model: 'gpt-4o',
      custom_llm_provider: 'openai',
      status: 'failure',
      metadata: {
        status: 'failure',
        error_information: { error_code: '401', error_class: 'AuthenticationError', llm_provider: 'openai' },
      },
    };
    const { events, rejected } = await parseText(JSON.stringify([row]), 'litellm');
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: 'failed-1',
      operation: 'unknown',
      status: 'error',
      error_type: 'AuthenticationError',
      input_tokens: 0,
      output_tokens: 0,
      model: 'gpt-4o',
    });
  });
});
