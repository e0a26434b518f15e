// The OpenTelemetry JS SDK's exporters (protobuf and JSON) against two
// `tally serve --queue` replicas on the machine's NATS server, with two
// workers of which one is killed (-9) half-way: every span is stored once and
// priced in the statement the replicas serve.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../src/core/queue-url.js';
import { connectQueue } from '../../src/queue/connect.js';
import { openStore } from '../../src/store/open.js';
import { configDir, freePort, type Served, startServe } from '../server/child.js';
import { configYaml, TOKENS } from '../server/helpers.js';
import { emitCalls } from '../server/spans.js';
import { POSTGRES } from '../store/adapters.js';
import { type Proc, startWorker } from './cluster.js';

const QUEUE = `nats://127.0.0.1:4222?stream=TALLY_TEST_OTEL_${randomBytes(4).toString('hex').toUpperCase()}&ack_wait=2s`;
const STORE = POSTGRES.url('');
const ROUNDS = 4;
const CALLS = 5;
let dir: string;
const replicas: Served[] = [];
const workers: Proc[] = [];

beforeAll(async () => {
  dir = await configDir();
  await writeFile(
    path.join(dir, 'tally.yaml'),
    configYaml().replace(
      'store: ./tally.duckdb',
      `store: ${JSON.stringify(STORE)}\nqueue: ${JSON.stringify(QUEUE)}`,
    ),
  );
  for (let i = 0; i < 2; i++) replicas.push(await startServe(dir, await freePort()));
  for (let i = 0; i < 2; i++) workers.push(await startWorker(path.join(dir, 'tally.yaml')));
}, 120_000);

afterAll(async () => {
  for (const p of [...replicas, ...workers]) p.child.kill('SIGKILL');
  const conn = await connectQueue(parseQueueUrl(QUEUE), 'tally test cleanup');
  await conn.jsm.streams.delete(conn.settings.stream).catch(() => undefined);
  await conn.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function exportRound(exporter: SpanExporter): Promise<void> {
  const processor = new SimpleSpanProcessor(exporter);
  emitCalls(
    processor,
    Array.from({ length: CALLS }, () => ({ service: 'svc-a', input: 1_000_000 })),
  );
  await processor.forceFlush();
  await processor.shutdown();
}

describe('OpenTelemetry SDK → two replicas → JetStream → workers', () => {
  it('stores every exported span once while a worker is killed', async () => {
    const headers = { Authorization: `Bearer ${TOKENS.ingest}` };
    for (let round = 0; round < ROUNDS; round++) {
      const url = `${replicas[round % 2]?.base}/v1/traces`;
      await exportRound(
        round % 2 === 0
          ? new OTLPProtoExporter({ url, headers })
          : new OTLPJsonExporter({ url, headers, compression: 'gzip' as never }),
      );
      if (round === 1) {
        workers[0]?.child.kill('SIGKILL');
        await workers[0]?.exited;
      }
    }
    // A root span and a call per emitted call.
    const expected = ROUNDS * CALLS * 2;
    const store = await openStore(STORE);
    try {
      for (let i = 0; i < 300 && (await store.counters()).events < expected; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await store.counters()).toMatchObject({ events: expected, superseded: 0 });
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
    const now = Date.now();
    const window = `from=${new Date(now - 86_400_000).toISOString()}&to=${new Date(now + 86_400_000).toISOString()}`;
    const r = await fetch(`${replicas[1]?.base}/v1/statements?${window}&level=team`, {
      headers: { authorization: `Bearer ${TOKENS.finance}` },
    });
    expect(r.status).toBe(200);
    const s = (await r.json()) as {
      lines: Array<{ team: string | null; effective_cost: string; events: number }>;
    };
    // 20 calls of 1M input tokens at $1 per million.
    expect(s.lines.filter((l) => l.team === 'team-a')).toMatchObject([
      { effective_cost: '20.00', events: expected },
    ]);
  });
});
