// Producers' exports through the command line (SPEC §3.2): what `tally
// ingest` reports, the walk up a trace an exporter cut into one request per
// span, and a file forced into the wrong format.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureCli } from '../setup/cli-capture.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');

const cli = captureCli('tally-producers-', async (d) => {
  await writeFile(path.join(d, 'tally.yaml'), CONFIG);
});

/** A checkout application calling a shared LLM gateway (owned by the platform team). */
const CONFIG = `
store: ./tally.duckdb
cost_centers: [{ id: cc-shop, name: Shop }, { id: cc-platform, name: Platform }]
teams:
  - { id: team-shop, name: Shop, cost_center: cc-shop }
  - { id: team-platform, name: Platform, cost_center: cc-platform }
applications:
  - { id: app-checkout, name: Checkout, owner: [{ team: team-shop, from: 2026-01-01 }] }
  - { id: app-gateway, name: LLM gateway, owner: [{ team: team-platform, from: 2026-01-01 }] }
identities:
  - { id: nhi-checkout, kind: service_account, application: app-checkout, environment: production, tenants: ["*"], match: [{ service: checkout-web }] }
  - { id: nhi-gateway, kind: service_account, application: app-gateway, environment: production, shared: true, match: [{ service: llm-gateway }] }
tenants: [{ id: tenant-acme, name: Acme }]
`;

function run(...args: string[]): Promise<number> {
  return main([...args, '--config', path.join(cli.dir, 'tally.yaml')]);
}

interface Line {
  team: string;
  tenant: string | null;
  status: string;
  reason: string | null;
  effective_cost: string;
  events: number;
  input_tokens: number;
  output_tokens: number;
}

async function lines(): Promise<Line[]> {
  cli.out = '';
  expect(await run('statement', '--period', '2026-10', '--level', 'line', '--format', 'json')).toBe(0);
  return (JSON.parse(cli.out) as { lines: Line[] }).lines;
}

describe('a trace cut into one request per span (the OpenTelemetry JS SDK with a SimpleSpanProcessor)', () => {
  const GATEWAY_CALL = {
    team: 'team-shop',
    tenant: 'tenant-acme',
    status: 'attributed',
    reason: null,
    // gpt-4o-mini at list price: 22 × $0.15 + 3 × $0.60 per million = $0.0000051.
    effective_cost: '0.0000051',
    events: 1,
    input_tokens: 22,
    output_tokens: 3,
  };

  it('has the shared gateway paid by the invoking application, tenant inherited through the links', async () => {
    const file = path.join(FIXTURES, 'otlp', 'otel-js-openai-one-span-per-request.jsonl');
    expect(await run('ingest', file)).toBe(0);
    expect(cli.out).toContain(
      '(otlp): 1 stored, 0 duplicates, 0 superseded, 0 rejected, 2 ignored (spans that are not AI work; 2 kept as trace links)',
    );
    expect(await lines()).toEqual([expect.objectContaining(GATEWAY_CALL)]);
  });

  it('gives the same statement whichever span arrives first, each in a file of its own', async () => {
    const text = await readFile(
      path.join(FIXTURES, 'otlp', 'otel-js-openai-one-span-per-request.jsonl'),
      'utf8',
    );
    const requests = text.trim().split('\n').reverse();
    for (const [i, r] of requests.entries()) {
      await writeFile(path.join(cli.dir, `request-${i}.json`), r);
      expect(await run('ingest', path.join(cli.dir, `request-${i}.json`))).toBe(0);
    }
    expect(await lines()).toEqual([expect.objectContaining(GATEWAY_CALL)]);
  });
});

describe('tally ingest reports', () => {
  it('prints the counts as JSON with --report json, ignored spans included', async () => {
    const file = path.join(FIXTURES, 'otlp', 'otel-python-openai-v2.json');
    expect(await run('ingest', file, '--report', 'json')).toBe(0);
    expect(JSON.parse(cli.out)).toEqual([
      {
        file,
        format: 'otlp',
        stored: 2,
        duplicates: 0,
        superseded: 0,
        rejected: 0,
        ignored: 1,
        links: 1,
        quarantine: null,
        batch: 1,
      },
    ]);
  });

  it('says so when no span of a file is AI work, instead of a bare "0 stored"', async () => {
    const file = path.join(FIXTURES, 'otlp', 'http-only.json');
    expect(await run('ingest', file)).toBe(0);
    expect(cli.out).toContain('0 stored, 0 duplicates, 0 superseded, 0 rejected, 2 ignored');
    expect(cli.err).toContain(`note: ${file}: none of its 2 spans is AI work, so no usage event was stored`);
  });

  it('refuses a LiteLLM file forced as OTLP, naming the file and record', async () => {
    const file = path.join(FIXTURES, 'litellm', 'spend-logs.json');
    expect(await run('ingest', file, '--format', 'otlp')).toBe(2);
    expect(cli.err).toContain(file);
    expect(cli.err).toMatch(/resourceSpans.*not an OTLP traces request/);
    expect(cli.out).not.toMatch(/stored/);
  });
});
