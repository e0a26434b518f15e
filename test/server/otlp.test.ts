// POST /v1/traces: OTLP/HTTP protobuf and JSON (as the OpenTelemetry JS SDK
// serialises them), gzip, partial success, error replies.
import { gzipSync } from 'node:zlib';
import { context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { otlpRequestToEvents } from '../../src/ingest/index.js';
import { decodeTraceRequest } from '../../src/server/otlp-proto.js';
import { type Harness, harness, NOW, TOKENS } from './helpers.js';
import { spansOf } from './spans.js';

const AT = Date.UTC(2026, 9, 10, 12);
let h: Harness;

beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

function post(body: Uint8Array | string, contentType: string, extra: Record<string, string> = {}) {
  return h.call('POST', '/v1/traces', TOKENS.ingest, {
    body: typeof body === 'string' ? body : Buffer.from(body),
    headers: { 'content-type': contentType, ...extra },
  });
}

async function teamCost(team: string): Promise<string> {
  const s = (await (
    await h.call('GET', '/v1/statements?period=2026-10&level=team', TOKENS.finance)
  ).json()) as {
    lines: Array<{ team: string; effective_cost: string }>;
  };
  return s.lines.find((l) => l.team === team)?.effective_cost ?? 'none';
}

describe('protobuf decoding', () => {
  it('gives the same events as the JSON encoding of the same spans', () => {
    const spans = spansOf(
      [
        {
          service: 'svc-a',
          input: 1234,
          output: 56,
          tenant: 'tenant-x',
          extra: { 'gen_ai.agent.id': 'ag-1', flag: true, ratio: 0.5, tags: ['x', 'y'] },
        },
        { service: 'svc-b', input: 9_007_199_254, output: 1 },
      ],
      AT,
    );
    const proto = ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array;
    const json = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    const opts = { file: 'x', now: NOW, skipInvalid: true };
    const fromProto = otlpRequestToEvents(decodeTraceRequest(Buffer.from(proto)), opts);
    const fromJson = otlpRequestToEvents(json, opts);
    expect(fromProto.rejected).toEqual([]);
    expect(fromProto.events).toHaveLength(4);
    expect(fromProto.events).toEqual(fromJson.events);
    const chat = fromProto.events.find((e) => e.operation === 'chat' && e.service === 'svc-a');
    expect(chat).toMatchObject({
      input_tokens: 1234,
      output_tokens: 56,
      tenant: 'tenant-x',
      agent: 'ag-1',
      time: AT,
    });
  });

  it('reads strings short and long, ASCII or not, and refuses one that is not UTF-8', () => {
    const len = (no: number, bytes: Buffer) =>
      Buffer.concat([Buffer.from([(no << 3) | 2, bytes.length]), bytes]);
    const request = (value: Buffer) =>
      len(1, len(1, len(1, Buffer.concat([len(1, Buffer.from('k')), len(2, len(1, value))]))));
    const attribute = (value: Buffer) => {
      const [rs] = decodeTraceRequest(request(value)).resourceSpans as [
        { resource: { attributes: unknown[] } },
      ];
      return rs.resource.attributes[0];
    };
    for (const text of ['svc-a', 'café', '東京', 'x'.repeat(100), `${'x'.repeat(70)}é`, ''])
      expect(attribute(Buffer.from(text))).toEqual({ key: 'k', value: { stringValue: text } });
    for (const bad of [
      Buffer.from([0x61, 0xff]),
      Buffer.concat([Buffer.from('x'.repeat(70)), Buffer.from([0xc3])]),
    ])
      expect(() => attribute(bad)).toThrow(/not valid UTF-8/);
  });

  it('reads 64-bit integers exactly on both sides of 2^49 and 2^53, and negative ones', () => {
    const varint = (v: bigint) => {
      const out: number[] = [];
      let n = BigInt.asUintN(64, v);
      while (n >= 0x80n) {
        out.push(Number(n & 0x7fn) | 0x80);
        n >>= 7n;
      }
      return Buffer.from([...out, Number(n)]);
    };
    const len = (no: number, bytes: Buffer) =>
      Buffer.concat([Buffer.from([(no << 3) | 2]), varint(BigInt(bytes.length)), bytes]);
    const decoded = (int: bigint, nanos: bigint) => {
      const start = Buffer.alloc(9);
      start[0] = (7 << 3) | 1;
      start.writeBigUInt64LE(nanos, 1);
      const kv = len(
        9,
        Buffer.concat([
          len(1, Buffer.from('n')),
          len(2, Buffer.concat([Buffer.from([3 << 3]), varint(int)])),
        ]),
      );
      const [rs] = decodeTraceRequest(len(1, len(2, len(2, Buffer.concat([start, kv]))))).resourceSpans as [
        {
          scopeSpans: [
            { spans: [{ startTimeUnixNano: string; attributes: [{ value: { intValue: string } }] }] },
          ];
        },
      ];
      const span = rs.scopeSpans[0].spans[0];
      return [span.attributes[0].value.intValue, span.startTimeUnixNano];
    };
    for (const v of [
      0n,
      127n,
      128n,
      2n ** 49n - 1n,
      2n ** 49n,
      2n ** 53n - 1n,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
      -1n,
      -(2n ** 63n),
    ])
      expect(decoded(v, 0n)[0]).toBe(String(v));
    for (const t of [
      0n,
      1_790_000_000_000_000_000n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 64n - 1n,
    ])
      expect(decoded(1n, t)[1]).toBe(String(t));
  });

  it('refuses bytes that are not a protobuf message', () => {
    expect(() => decodeTraceRequest(Buffer.from([0x0a, 0xff, 0xff, 0x01]))).toThrow(
      /not a valid OTLP protobuf/,
    );
    expect(() => decodeTraceRequest(Buffer.from([0x0f]))).toThrow(/not a valid OTLP protobuf/);
  });
});

/**
 * The application's HTTP client span (not AI work) and the shared gateway's
 * chat span below it, in one trace, as the OpenTelemetry JS SDK makes them.
 */
function gatewayTrace(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(exporter);
  const tracerOf = (service: string) =>
    new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [processor],
    }).getTracer('tally-test');
  const startTime = new Date(AT);
  const http = tracerOf('svc-a').startSpan('POST /v1/chat/completions', {
    startTime,
    attributes: { 'http.request.method': 'POST', 'server.address': 'rag.internal' },
  });
  const call = tracerOf('rag').startSpan(
    'chat m1',
    {
      startTime,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'acme',
        'gen_ai.request.model': 'm1',
        'gen_ai.usage.input_tokens': 2_000_000,
        'gen_ai.usage.output_tokens': 0,
      },
    },
    trace.setSpan(context.active(), http),
  );
  call.end(startTime);
  http.end(startTime);
  return exporter.getFinishedSpans();
}

describe('a trace cut into one request per span (SimpleSpanProcessor)', () => {
  it('has the shared gateway paid by the invoking application, and says what each request did', async () => {
    const spans = gatewayTrace();
    expect(spans.map((s) => s.name)).toEqual(['chat m1', 'POST /v1/chat/completions']);
    const replies = [];
    for (const span of spans) {
      const r = await post(
        ProtobufTraceSerializer.serializeRequest([span]) as Uint8Array,
        'application/x-protobuf',
      );
      expect(r.status).toBe(200);
      replies.push(
        Object.fromEntries(
          ['stored', 'duplicates', 'superseded', 'rejected', 'ignored'].map((k) => [
            k,
            r.headers.get(`x-tally-${k}`),
          ]),
        ),
      );
    }
    expect(replies).toEqual([
      { stored: '1', duplicates: '0', superseded: '0', rejected: '0', ignored: '0' },
      { stored: '0', duplicates: '0', superseded: '0', rejected: '0', ignored: '1' },
    ]);
    // acme m1 is $1 per million input tokens: 2,000,000 tokens are $2.00, paid by svc-a's team.
    expect(await teamCost('team-a')).toBe('2.00');
    expect(await teamCost('team-b')).toBe('none');
    const metrics = await (await h.call('GET', '/metrics')).text();
    expect(metrics).toMatch(/^tally_records_ignored_total 1$/m);
    expect(metrics).toMatch(/^tally_events_superseded_total 0$/m);
  });
});

describe('POST /v1/traces', () => {
  it('takes protobuf, plain and gzip, and prices and attributes the spans', async () => {
    const proto = ProtobufTraceSerializer.serializeRequest(
      spansOf([{ service: 'svc-a', input: 1_000_000 }], AT),
    ) as Uint8Array;
    const r = await post(proto, 'application/x-protobuf');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await r.arrayBuffer()).byteLength).toBe(0);
    const gz = gzipSync(
      ProtobufTraceSerializer.serializeRequest(
        spansOf([{ service: 'svc-b', input: 3_000_000 }], AT),
      ) as Uint8Array,
    );
    expect((await post(gz, 'application/x-protobuf', { 'content-encoding': 'gzip' })).status).toBe(200);
    expect(await teamCost('team-a')).toBe('1.00');
    expect(await teamCost('team-b')).toBe('3.00');
  });

  it('takes JSON and answers in JSON; a retried export is not counted twice', async () => {
    const body = new TextDecoder().decode(
      JsonTraceSerializer.serializeRequest(spansOf([{ service: 'svc-a', input: 2_000_000 }], AT)),
    );
    for (let i = 0; i < 2; i++) {
      const r = await post(body, 'application/json');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(await r.json()).toEqual({});
    }
    expect(
      (await post(gzipSync(body), 'application/json; charset=utf-8', { 'content-encoding': 'gzip' })).status,
    ).toBe(200);
    expect(await teamCost('team-a')).toBe('2.00');
    expect((await h.store.counters()).duplicates).toBe(4);
  });

  it('answers partial success for invalid spans and keeps the valid ones (JSON)', async () => {
    const req = JSON.parse(
      new TextDecoder().decode(
        JsonTraceSerializer.serializeRequest(
          spansOf(
            [
              { service: 'svc-a', input: 1_000_000 },
              { service: 'svc-b', input: 1_000_000 },
            ],
            AT,
          ),
        ),
      ),
    );
    const bad = req.resourceSpans[1].scopeSpans[0].spans.find((s: { name: string }) =>
      s.name.startsWith('chat'),
    );
    bad.traceId = 'not-hex';
    const r = await post(JSON.stringify(req), 'application/json');
    expect(r.status).toBe(200);
    const b = (await r.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(b.partialSuccess.rejectedSpans).toBe('1');
    expect(b.partialSuccess.errorMessage).toMatch(/traceId/);
    expect(await teamCost('team-a')).toBe('1.00');
    // only the root span of that trace is left, and it has no cost
    expect(await teamCost('team-b')).toBe('0.00');
    expect((await h.store.counters()).rejected).toBe(1);
  });

  it('answers partial success in protobuf', async () => {
    const spans = spansOf(
      [
        { service: 'svc-a', input: 1_000_000 },
        { service: 'svc-b', input: -5 },
      ],
      AT,
    );
    const r = await post(
      ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array,
      'application/x-protobuf',
    );
    expect(r.status).toBe(200);
    const bytes = Buffer.from(await r.arrayBuffer());
    // ExportTraceServiceResponse { partial_success (1) { rejected_spans (1): 1, error_message (2): … } }
    expect(bytes[0]).toBe(0x0a);
    const inner = bytes.subarray((bytes[1] as number) >= 0x80 ? 3 : 2);
    expect([...inner.subarray(0, 3)]).toEqual([0x08, 1, 0x12]);
    expect(inner.toString('utf8')).toMatch(/input_tokens/);
    expect(await teamCost('team-a')).toBe('1.00');
  });

  it('400 for an undecodable body in the encoding of the request, 415 for other types', async () => {
    const r = await post(new Uint8Array([0x0a, 0xff, 0xff, 0x01]), 'application/x-protobuf');
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    const status = Buffer.from(await r.arrayBuffer());
    expect(status[0]).toBe(0x08); // google.rpc.Status code
    expect(status[1]).toBe(3); // INVALID_ARGUMENT
    const j = await post('{"resourceSpans": [', 'application/json');
    expect(j.status).toBe(400);
    expect(await j.json()).toEqual({ error: 'invalid_input', message: 'the body is not valid JSON' });
    expect((await post('x', 'text/plain')).status).toBe(415);
    expect((await post('x', 'application/x-protobuf', { 'content-encoding': 'deflate' })).status).toBe(415);
  });
});
