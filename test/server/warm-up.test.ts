// A server's warm-up before it listens (src/server/warm-up.ts): its samples parse in full in
// every worker (a sample that is refused would warm nothing), and the rehearsed ingest stores
// nothing: the log, the chain and what later batches store are as without it. The protobuf
// sample is written by `encodeTraceRequest`, checked here against OpenTelemetry's own serializer.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTraces } from '../../src/server/ingest.js';
import {
  type AttributeJson,
  decodeTraceRequest,
  encodeTraceRequest,
  type SpanJson,
} from '../../src/server/otlp-proto.js';
import { TracePool } from '../../src/server/trace-pool.js';
import { WARM_UP_RECORDS, warmUp } from '../../src/server/warm-up.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import { event } from '../store/contract.js';
import { ROOT } from './child.js';
import { spansOf } from './spans.js';

const WORKER = pathToFileURL(path.join(ROOT, 'dist/server/trace-worker.js'));
const AT = Date.UTC(2026, 9, 10, 12);

describe('encodeTraceRequest', () => {
  const spans: SpanJson[] = [
    {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      name: 'invoke_agent planner',
      startTimeUnixNano: '1760097600000000000',
      endTimeUnixNano: '1760097601500000000',
      attributes: [{ key: 'gen_ai.agent.name', value: { stringValue: 'planner' } }],
    },
    {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'b7ad6b7169203331',
      name: 'chat claude-sonnet-4-5 ✓',
      startTimeUnixNano: '1760097600100000000',
      endTimeUnixNano: '1760097601400000000',
      attributes: [
        { key: 'gen_ai.usage.input_tokens', value: { intValue: '1234567890123' } },
        { key: 'an.offset', value: { intValue: '-3' } },
        { key: 'gen_ai.request.temperature', value: { doubleValue: 0.7 } },
      ],
    },
  ];
  const resource = [{ key: 'service.name', value: { stringValue: 'checkout' } }];

  it('writes what decodeTraceRequest reads back, negative integers and non-ASCII names included', () => {
    expect(decodeTraceRequest(encodeTraceRequest(resource, spans))).toEqual({
      resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ spans }] }],
    });
  });

  it('maps to the same events as the OpenTelemetry SDK serializer’s bytes for the same spans', () => {
    const sdk = spansOf([{ service: 'svc-a', input: 1_000, output: 7, tenant: 'tenant-x' }], AT);
    const bytes = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdk) as Uint8Array);
    const decoded = decodeTraceRequest(bytes);
    // The SDK's spans also carry a kind and a status, which the mapping does not read.
    const rs = decoded.resourceSpans[0] as {
      resource: { attributes: AttributeJson[] };
      scopeSpans: { spans: (SpanJson & { kind?: number; status?: object })[] }[];
    };
    const ours = encodeTraceRequest(
      rs.resource.attributes,
      rs.scopeSpans.flatMap((s) => s.spans).map(({ kind: _k, status: _s, ...span }) => span),
    );
    const events = parseTraces('protobuf', bytes, AT).events;
    expect(events.length).toBeGreaterThan(0);
    expect(parseTraces('protobuf', ours, AT).events).toEqual(events);
  });
});

describe('warmUp', () => {
  let dir: string;
  let pool: TracePool;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-warm-up-'));
    pool = new TracePool(2, WORKER, 0);
  });
  afterEach(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parses every sample in full, in every worker', async () => {
    const store = await DuckDBStore.open(path.join(dir, 'a.duckdb'));
    try {
      const warmed = await warmUp(pool, store);
      expect(pool.running).toBe(2);
      expect(warmed).toEqual({
        events: WARM_UP_RECORDS,
        // Half the spans are model calls (events), half the agent steps above them (links).
        fromSpans: [
          { events: WARM_UP_RECORDS / 2, links: WARM_UP_RECORDS / 2 },
          { events: WARM_UP_RECORDS / 2, links: WARM_UP_RECORDS / 2 },
        ],
        rejected: 0,
      });
    } finally {
      await store.close();
    }
  });

  it('parses the samples in this thread when there are no workers (`--parse-workers 0`)', async () => {
    const store = await DuckDBStore.open(path.join(dir, 'b.duckdb'));
    const here = new TracePool(0, WORKER);
    try {
      const warmed = await warmUp(here, store);
      expect(here.running).toBe(0);
      expect(warmed).toMatchObject({ events: WARM_UP_RECORDS, rejected: 0 });
      expect(warmed.fromSpans).toHaveLength(2);
    } finally {
      await here.close();
      await store.close();
    }
  });

  it('stores nothing: the next batch continues the chain as if there had been no warm-up', async () => {
    const run = async (file: string, warm: boolean) => {
      const store = await DuckDBStore.open(path.join(dir, file));
      try {
        await store.ingest('first', [[event('a'), event('b')]]);
        if (warm) await warmUp(pool, store);
        expect(await store.verify()).toMatchObject({ ok: true, events: 2, batches: 1 });
        const next = await store.ingest('second', [[event('b'), event('c', { input_tokens: 5 })]]);
        return { next, verified: await store.verify(), counters: await store.counters() };
      } finally {
        await store.close();
      }
    };
    const warmed = await run('warmed.duckdb', true);
    expect(warmed.next).toMatchObject({ batch: 2, stored: 1, duplicates: 1 });
    expect(warmed.verified).toMatchObject({ ok: true, events: 3, batches: 2 });
    // The same chain head as a store that was never warmed.
    const cold = await run('cold.duckdb', false);
    expect(warmed.verified).toEqual(cold.verified);
    expect(warmed.counters).toEqual(cold.counters);
  });
});
