// The OpenTelemetry JS SDK exporting to a running `tally serve` over
// OTLP/HTTP, protobuf and JSON: the spans come back priced and attributed in
// the statement API.
import { rm } from 'node:fs/promises';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { configDir, freePort, type Served, startServe } from './child.js';
import { TOKENS } from './helpers.js';
import { emitCalls } from './spans.js';

let served: Served;
let dir: string;

beforeAll(async () => {
  dir = await configDir();
  served = await startServe(dir, await freePort());
}, 120_000);

afterAll(async () => {
  if (served) {
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function statement(): Promise<{
  lines: Array<{ team: string | null; effective_cost: string; events: number }>;
}> {
  const now = new Date();
  const from = new Date(now.getTime() - 86_400_000).toISOString();
  const to = new Date(now.getTime() + 86_400_000).toISOString();
  const r = await fetch(`${served.base}/v1/statements?from=${from}&to=${to}&level=team`, {
    headers: { authorization: `Bearer ${TOKENS.finance}` },
  });
  expect(r.status).toBe(200);
  return (await r.json()) as {
    lines: Array<{ team: string | null; effective_cost: string; events: number }>;
  };
}

describe('OpenTelemetry SDK → tally serve', () => {
  it('protobuf and JSON exporters; spans priced and attributed to the right team', async () => {
    const headers = { Authorization: `Bearer ${TOKENS.ingest}` };
    const url = `${served.base}/v1/traces`;
    const proto = new SimpleSpanProcessor(new OTLPProtoExporter({ url, headers }));
    emitCalls(proto, [
      { service: 'svc-a', input: 1_000_000, output: 500_000 },
      { service: 'svc-a', input: 500_000 },
    ]);
    await proto.forceFlush();
    await proto.shutdown();
    const json = new SimpleSpanProcessor(
      new OTLPJsonExporter({ url, headers, compression: 'gzip' as never }),
    );
    emitCalls(json, [{ service: 'svc-b', input: 3_000_000, tenant: 'tenant-x' }]);
    await json.forceFlush();
    await json.shutdown();

    const s = await statement();
    // per team, over its lines (a refused tenant claim is a line of its own, reason tenant_unverified)
    const team = (id: string) => {
      const lines = s.lines.filter((l) => l.team === id);
      const cost = lines.reduce((n, l) => n + parseMoney(l.effective_cost), 0n);
      return { effective_cost: formatMoney(cost), events: lines.reduce((n, l) => n + l.events, 0) };
    };
    // svc-a: (1.5M input × $1 + 0.5M output × $2) / 1M = $2.50, over 4 spans (2 roots, 2 calls)
    expect(team('team-a')).toMatchObject({ effective_cost: '2.50', events: 4 });
    expect(team('team-b')).toMatchObject({ effective_cost: '3.00', events: 2 });
  });

  it('refuses an exporter without a valid token', async () => {
    const r = await fetch(`${served.base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer wrong' },
      body: new Uint8Array(),
    });
    expect(r.status).toBe(401);
  });
});
