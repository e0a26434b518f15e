import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/core/secrets.js';
import { canonicalRecordToEvent } from '../../src/ingest/index.js';
import { ev, NOW, parseText, readFixture } from './helpers.js';

const EVT1 = ev({
  id: 'evt-1',
  source: 'gateway-eu',
  time: Date.parse('2026-10-01T12:00:00.000Z'),
  provider: 'openai',
  model: 'gpt-4o',
  input_tokens: 1200,
  output_tokens: 300,
  cache_read_tokens: 200,
  api_key: '88dc28d0f030c55e',
  service: 'support-bot',
  tenant: 'tenant-acme',
  environment: 'production',
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  client_address: '10.1.2.3',
});

describe('jsonl', () => {
  it('maps canonical events: defaults for absent fields, zone offsets, secrets fingerprinted', async () => {
    const { events, rejected } = await readFixture('auto', 'canonical', 'events.jsonl');
    expect(rejected).toEqual([]);
    expect(events).toEqual([
      EVT1,
      ev({
        id: 'evt-2',
        source: 'gateway-eu',
        time: Date.parse('2026-10-01T12:00:00Z'), // 14:00 at +02:00
        operation: 'execute_tool',
        tool: 'web_search',
        status: 'error',
        error_type: 'timeout',
        api_key: fingerprint('sk-live-0123456789abcdefXYZ'),
        reported_cost: '0.01',
      }),
      ev({
        id: 'evt-3',
        source: 'batch-jobs',
        time: Date.parse('2026-10-01T12:00:00.500Z'),
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        input_tokens: 10000,
        cache_write_tokens: 4000,
        output_tokens: 800,
        reasoning_tokens: 200,
        requests: 25,
        reported_cost: '0.0421',
      }),
    ]);
  });
});

describe('csv', () => {
  it('maps canonical rows: any column order, empty cell = null, quoted commas, quotes and newlines', async () => {
    const { events, rejected } = await readFixture('auto', 'canonical', 'events.csv');
    expect(rejected).toEqual([]);
    expect(events).toEqual([
      ev({ ...EVT1, environment: null, trace_id: null, span_id: null, client_address: null }),
      ev({
        id: 'evt-c2',
        source: 'gateway-eu',
        time: Date.parse('2026-10-01T13:00:00Z'),
        provider: 'openai',
        model: 'text-embedding-3-small',
        operation: 'embeddings',
        input_tokens: 512,
        api_key: fingerprint('sk-ant-api03-AbCdEfGhIjKlMnOp'), // of the token, without "Bearer "
        reported_cost: '0.00001024',
        service: 'rag, ingest',
      }),
      ev({
        id: 'evt-c3',
        source: 'gateway-eu',
        time: Date.parse('2026-10-01T13:30:00Z'),
        operation: 'invoke_agent',
        tenant: 'tenant-acme',
        status: 'error',
        service: 'agent "platform"\nline two',
      }),
    ]);
  });

  it('rejects a header with an unknown column, naming it, even with skip-invalid', async () => {
    const csv = 'id,source,time,operation,input_token\nx,s,2026-10-01T00:00:00Z,chat,5\n';
    await expect(parseText(csv, 'csv', { file: 'e.csv', skipInvalid: true })).rejects.toThrow(
      'e.csv, line 1, field input_token: unknown column',
    );
  });

  it('rejects a row with the wrong number of cells, and an unterminated quote', async () => {
    const csv = 'id,source,time,operation\na,s,2026-10-01T00:00:00Z\nb,s,2026-10-01T00:00:00Z,"chat\n';
    const { rejected } = await parseText(csv, 'csv', { skipInvalid: true, file: 'e.csv' });
    expect(rejected.map((r) => r.problem)).toEqual([
      { file: 'e.csv', record: 2, recordKind: 'line', reason: 'the row has 3 cells, the header 4' },
      {
        file: 'e.csv',
        record: 3,
        recordKind: 'line',
        reason: 'unterminated quoted field: the file ends inside quotes',
      },
    ]);
  });
});

describe('canonicalRecordToEvent (for POST /v1/events)', () => {
  const where = { file: 'POST /v1/events', record: 3, recordKind: 'record' as const };
  const base = { id: 'e', source: 's', time: '2026-10-01T00:00:00Z', operation: 'chat' };

  it('returns the event', () => {
    expect(canonicalRecordToEvent(base, where, NOW)).toEqual(
      ev({ id: 'e', source: 's', time: Date.parse(base.time) }),
    );
  });

  it.each([
    [{ ...base, input_tokens: -1 }, 'input_tokens', 'must not be negative, got -1'],
    [{ ...base, input_tokens: 2.5 }, 'input_tokens', 'must be a whole number, got 2.5'],
    [{ ...base, input_tokens: '12' }, 'input_tokens', 'must be a whole number, got string "12"'],
    [{ ...base, model: 4 }, 'model', 'must be a string, got number'],
    [{ ...base, time: 1790812800000 }, 'time', 'must be an ISO-8601 string, got number'],
    [
      { ...base, time: '2026-10-01T00:00:00' },
      'time',
      expect.stringContaining('must be an ISO-8601 time with a time zone'),
    ],
    [{ ...base, time: '2026-02-30T00:00:00Z' }, 'time', 'is not a valid time: "2026-02-30T00:00:00Z"'],
    [
      { ...base, time: '2030-01-01T00:00:00Z' },
      'time',
      expect.stringContaining('is far in the future: 2030-01-01T00:00:00.000Z'),
    ],
    [{ ...base, status: 'failed' }, 'status', 'must be "ok" or "error", got "failed"'],
    [{ ...base, reported_cost: 'ten' }, 'reported_cost', 'is not a decimal amount: "ten"'],
    [{ ...base, id: '' }, 'id', 'is required'],
    [{ ...base, operation: undefined }, 'operation', 'is required'],
    [{ ...base, tokens: 5 }, 'tokens', expect.stringContaining('unknown field')],
  ])('rejects %j', (rec, field, reason) => {
    expect(canonicalRecordToEvent(rec, where, NOW)).toEqual({ ...where, field, reason });
  });

  it('rejects a value that is not an object', () => {
    expect(canonicalRecordToEvent([1], where, NOW)).toEqual({
      ...where,
      reason: 'a canonical event must be a JSON object, got array',
    });
  });
});
