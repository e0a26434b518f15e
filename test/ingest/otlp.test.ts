import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/core/secrets.js';
import { otlpRequestToEvents } from '../../src/ingest/index.js';
import { ev, fixture, NOW, parseText, readFixture } from './helpers.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE_B64 = '5b8efff798038103d269b633813fc60c'; // W47/95gDgQPSabYzgT/GDA== in the fixture

describe('otlp: agent-trace.json (one OTLP/HTTP JSON request)', () => {
  it('maps every GenAI span exactly and ignores the HTTP span', async () => {
    const { events, rejected, ignored } = await readFixture('otlp', 'otlp', 'agent-trace.json');
    expect(rejected).toEqual([]);
    expect(ignored).toBe(1);
    const agentPlatform = {
      source: 'otlp',
      service: 'agent-platform',
      environment: 'production',
      trace_id: TRACE,
    };
    expect(events).toEqual([
      ev({
        ...agentPlatform,
        id: `${TRACE}:00f067aa0ba902b7`,
        time: Date.parse('2026-10-01T12:00:00.000Z'),
        operation: 'invoke_agent',
        provider: 'openai',
        model: 'gpt-4o',
        input_tokens: 1500,
        output_tokens: 420,
        agent: 'asst_5j66UpCpwteGg4YSxUnt7lPY',
        tenant: 'tenant-acme', // the span's tenant.id wins over the resource's
        span_id: '00f067aa0ba902b7',
      }),
      ev({
        ...agentPlatform,
        id: `${TRACE}:b7ad6b7169203331`,
        time: Date.parse('2026-10-01T12:00:00.250Z'),
        operation: 'chat',
        provider: 'openai',
        model: 'gpt-4o-2024-08-06', // response model, given as an arrayValue
        input_tokens: 1200,
        output_tokens: 300,
        cache_read_tokens: 200,
        api_key: fingerprint('sk-proj-Abc123Def456Ghi789Jkl'),
        tenant: 'tenant-globex', // from the resource
        span_id: 'b7ad6b7169203331',
        parent_span_id: 'a1b2c3d4e5f60718', // its parent, the HTTP span: not an event, kept as a trace link
        client_address: '10.1.2.3',
      }),
      ev({
        ...agentPlatform,
        id: `${TRACE}:c8f3e2d1a0b99887`,
        time: Date.parse('2026-10-01T12:00:01.100Z'),
        operation: 'execute_tool',
        tool: 'web_search',
        tenant: 'tenant-globex',
        span_id: 'c8f3e2d1a0b99887',
        parent_span_id: '00f067aa0ba902b7',
        status: 'error',
        error_type: 'timeout',
      }),
      ev({
        ...agentPlatform,
        id: `${TRACE}:d9e8f7a6b5c4d3e2`,
        time: Date.parse('2026-10-01T12:00:02.500Z'), // startTimeUnixNano as a JSON number
        operation: 'retrieval',
        data_source: 'kb-main',
        tenant: 'tenant-globex',
        span_id: 'd9e8f7a6b5c4d3e2',
        parent_span_id: '00f067aa0ba902b7',
      }),
      ev({
        id: `${TRACE_B64}:eee19b7ec3c1b174`, // base64 ids converted to hex
        source: 'otlp',
        time: Date.parse('2026-10-02T09:30:00.000Z'),
        operation: 'embeddings',
        provider: 'openai', // deprecated gen_ai.system
        model: 'text-embedding-3-small',
        input_tokens: 512, // deprecated gen_ai.usage.prompt_tokens
        api_key: '88dc28d0f030c55e', // resource attribute
        service: 'support-bot',
        environment: 'staging', // deprecated deployment.environment
        trace_id: TRACE_B64,
        span_id: 'eee19b7ec3c1b174',
      }),
      ev({
        id: `${TRACE_B64}:eee19b7ec3c1b173`,
        source: 'otlp',
        time: Date.parse('2026-10-02T09:30:05.000Z'),
        operation: 'chat',
        provider: 'anthropic', // gen_ai.provider.name wins over gen_ai.system
        model: 'claude-sonnet-4-5-20250929',
        input_tokens: 2048, // a doubleValue
        output_tokens: 512,
        cache_read_tokens: 512,
        cache_write_tokens: 1024,
        api_key: '88dc28d0f030c55e',
        service: 'support-bot',
        tenant: 'tenant-acme',
        environment: 'production', // the span's current key wins over the resource's deprecated one
        trace_id: TRACE_B64,
        span_id: 'eee19b7ec3c1b173',
        parent_span_id: 'eee19b7ec3c1b174',
      }),
    ]);
  });

  it('never carries prompt or completion content, nor the raw key', async () => {
    const { events } = await readFixture('otlp', 'otlp', 'agent-trace.json');
    const text = JSON.stringify(events);
    expect(text).not.toContain('ACME contract');
    expect(text).not.toContain('renewal');
    expect(text).not.toContain('sk-proj');
  });

  it('gives the same events from the protobuf-decoded object as from the file', async () => {
    const req = JSON.parse(readFileSync(fixture('otlp', 'agent-trace.json'), 'utf8'));
    const direct = otlpRequestToEvents(req, { file: 'POST /v1/traces', now: NOW, skipInvalid: false });
    const { events } = await readFixture('otlp', 'otlp', 'agent-trace.json');
    expect(direct).toEqual({
      events,
      rejected: [],
      ignored: 1,
      links: [
        {
          trace_id: TRACE,
          span_id: 'a1b2c3d4e5f60718',
          parent_span_id: '00f067aa0ba902b7',
          tenant: 'tenant-globex',
          api_key: null,
          service: 'agent-platform',
          agent: null,
          project: null,
        },
      ],
    });
  });
});

describe('otlp: file-exporter.jsonl (the Collector file exporter, one request per line)', () => {
  it('maps each line', async () => {
    const { events, rejected } = await readFixture('auto', 'otlp', 'file-exporter.jsonl');
    expect(rejected).toEqual([]);
    expect(events).toEqual([
      ev({
        id: '0af7651916cd43dd8448eb211c80319c:b9c7c989f97918e1',
        source: 'otlp',
        time: Date.parse('2026-10-02T00:00:00.000Z'),
        provider: 'openai',
        model: 'gpt-4o-mini',
        input_tokens: 830,
        output_tokens: 95,
        api_key: 'key_7Hc2Lm', // gen_ai.request.api_key_id
        service: 'gateway',
        tenant: 'tenant-globex',
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b9c7c989f97918e1',
      }),
      ev({
        id: '0af7651916cd43dd8448eb211c80319d:b9c7c989f97918e2',
        source: 'otlp',
        time: Date.parse('2026-10-02T00:01:00.000Z'),
        operation: 'text_completion',
        provider: 'openai',
        model: 'gpt-3.5-turbo-instruct',
        input_tokens: 40,
        output_tokens: 60, // deprecated gen_ai.usage.completion_tokens
        service: 'gateway',
        trace_id: '0af7651916cd43dd8448eb211c80319d',
        span_id: 'b9c7c989f97918e2',
      }),
    ]);
  });
});

function request(spans: unknown[], resource: unknown[] = []): unknown {
  return { resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ spans }] }] };
}

function span(attributes: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: TRACE,
    spanId: '00f067aa0ba902b7',
    startTimeUnixNano: '1790856000000000000',
    attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, ...attributes],
    ...extra,
  };
}

describe('otlp: invalid spans', () => {
  const opts = { file: 'POST /v1/traces', now: NOW, skipInvalid: false };

  it('rejects a negative token count with the path of the attribute, and keeps the valid spans', () => {
    const req = request([
      span([{ key: 'gen_ai.usage.input_tokens', value: { intValue: '-5' } }]),
      span([], { spanId: '00f067aa0ba902b8' }),
    ]);
    const out = otlpRequestToEvents(req, opts);
    expect(out.events.map((e) => e.span_id)).toEqual(['00f067aa0ba902b8']);
    expect(out.rejected.map((r) => r.problem)).toEqual([
      {
        file: 'POST /v1/traces',
        record: 0,
        recordKind: 'record',
        field: 'resourceSpans[0].scopeSpans[0].spans[0].attributes[1] (gen_ai.usage.input_tokens)',
        reason: 'must not be negative, got -5',
      },
    ]);
  });

  it('names a bad resource attribute by its place in the resource', () => {
    const req = request([span([])], [{ key: 'gen_ai.usage.output_tokens', value: { stringValue: 'many' } }]);
    const [r] = otlpRequestToEvents(req, opts).rejected;
    expect(r?.problem.field).toBe('resourceSpans[0].resource.attributes[0] (gen_ai.usage.output_tokens)');
    expect(r?.problem.reason).toBe('is not a number: "many"');
  });

  it('rejects fractional tokens, bad ids, a missing or future start time', () => {
    const reasons = otlpRequestToEvents(
      request([
        span([{ key: 'gen_ai.usage.output_tokens', value: { doubleValue: 1.5 } }]),
        span([], { spanId: 'xyz' }),
        span([], { startTimeUnixNano: undefined }),
        span([], { startTimeUnixNano: '1950000000000000000' }),
        span([{ key: 'gen_ai.request.model', value: { kvlistValue: { values: [] } } }]),
      ]),
      opts,
    ).rejected.map((r) => `${r.problem.field}: ${r.problem.reason}`);
    expect(reasons).toEqual([
      'resourceSpans[0].scopeSpans[0].spans[0].attributes[1] (gen_ai.usage.output_tokens): must be a whole number, got 1.5',
      'resourceSpans[0].scopeSpans[0].spans[1].spanId: must be 16 hex digits (or base64 of 8 bytes), got "xyz"',
      'resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano: is required',
      expect.stringMatching(
        /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[3\]\.startTimeUnixNano: is far in the future: 2031-/,
      ),
      'resourceSpans[0].scopeSpans[0].spans[4].attributes[1] (gen_ai.request.model): must be a string, got a kvlistValue',
    ]);
  });

  it('quarantines a rejected span without its prompt content', () => {
    const bad = span([
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 'x' } },
      { key: 'gen_ai.input.messages', value: { stringValue: 'secret plans for ACME' } },
    ]);
    bad.events = [
      {
        name: 'gen_ai.content.prompt',
        attributes: [{ key: 'gen_ai.prompt', value: { stringValue: 'secret plans' } }],
      },
    ];
    const [r] = otlpRequestToEvents(request([bad]), opts).rejected;
    expect(r?.raw).toContain('gen_ai.usage.input_tokens');
    expect(r?.raw).not.toContain('secret plans');
  });

  it('reports a whole request that is not OTLP', async () => {
    await expect(
      parseText('{"resourceSpans": {"spans": []}}\n', 'otlp', { file: 'x.jsonl' }),
    ).rejects.toThrow('x.jsonl, line 1, field resourceSpans: must be an array, got object');
  });
});
