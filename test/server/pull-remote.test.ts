// `tally pull … --server URL`: pages fetched from a local stand-in for the providers'
// usage APIs go through a running `tally serve` (on its DuckDB store) instead of the
// store it holds; the cursor is the server's, a re-fetched partial bucket supersedes
// the stored one, and a pull resumes where the last one stopped.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serverPullTarget } from '../../src/cli/remote-pull.js';
import { PROVIDER } from '../../src/connectors/usage-pull/providers.js';
import { type PullOptions, pull } from '../../src/service/pull.js';
import { type Bucket, type UsageServer, usageServer } from '../connectors/usage-server.js';
import { fixture } from '../ingest/helpers.js';
import { configDir, freePort, type Served, startServe, runTally as tally } from './child.js';
import { TOKENS } from './helpers.js';

const OPENAI_KEY = 'sk-admin-Zq8b3f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6';
const ANTHROPIC_KEY = 'sk-ant-admin01-Xy9w8v7u6t5s4r3q2p1o0n9m8l7k6j5i4h3g2f1e';
const DAY = 86_400_000;
const OCT1 = Date.UTC(2026, 9, 1);

const completionsPage = JSON.parse(readFileSync(fixture('openai-usage', 'completions-page.json'), 'utf8'));
const [support, search] = completionsPage.data[0].results as Array<Record<string, unknown>>;
const anthropicResult = JSON.parse(readFileSync(fixture('anthropic-usage', 'docs-example.json'), 'utf8'))
  .data[0].results[0] as Record<string, unknown>;
const day = (n: number, results: unknown[]): Bucket => ({
  start: OCT1 + n * DAY,
  end: OCT1 + (n + 1) * DAY,
  results,
});

let served: Served | null = null;
let providers: UsageServer[] = [];

beforeAll(async () => {
  served = await startServe(await configDir(), await freePort());
}, 300_000);
afterAll(() => {
  served?.child.kill('SIGKILL');
});
afterEach(async () => {
  for (const s of providers) await s.close();
  providers = [];
});

async function get(pathAndQuery: string, token: string): Promise<Response> {
  return fetch(`${served?.base}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` } });
}

function options(s: UsageServer, now: number): PullOptions {
  return {
    provider: PROVIDER.openai,
    key: OPENAI_KEY,
    baseUrl: s.url,
    since: OCT1,
    until: OCT1 + 3 * DAY,
    width: '1d',
    refetch: false,
    now,
    fetch: { sleep: async () => undefined },
  };
}

describe('tally pull --server', () => {
  it('stores each page through the server, supersedes a partial bucket fetched again, and resumes from the server’s cursor', async () => {
    const s = await usageServer({ provider: 'openai', key: OPENAI_KEY });
    providers.push(s);
    const partial = {
      ...support,
      input_tokens: 400,
      output_tokens: 40,
      input_cached_tokens: 0,
      num_model_requests: 1,
    };
    const buckets = [day(0, [support, search]), day(1, []), day(2, [partial])];
    s.buckets.set('/v1/organization/usage/completions', buckets);
    s.buckets.set('/v1/organization/usage/embeddings', []);
    const target = serverPullTarget({ url: served?.base as string, token: TOKENS.ingest });

    // Mid-morning of October 3rd: the 3rd is partial, the 1st and 2nd are complete.
    const first = await pull(target, options(s, OCT1 + 2 * DAY + 10 * 3_600_000));
    expect(first[0]).toMatchObject({ from: OCT1, pages: 2, stored: 3, completeUntil: OCT1 + 2 * DAY });
    const cursor = await get('/v1/pull/cursor?provider=openai&report=completions&width=1d', TOKENS.ingest);
    expect(await cursor.json()).toEqual({
      label: 'openai-usage:pull completions 1d',
      complete_until: '2026-10-03T00:00:00.000Z',
    });

    buckets[2] = day(2, [{ ...partial, input_tokens: 1000, output_tokens: 100, num_model_requests: 2 }]);
    s.requests.length = 0;
    const second = await pull(target, options(s, OCT1 + 10 * DAY));
    expect(second[0]).toMatchObject({
      from: OCT1 + 2 * DAY,
      pages: 1,
      stored: 1, // a new version of the bucket, which replaces the partial one
      superseded: 1,
      completeUntil: OCT1 + 3 * DAY,
    });
    expect(s.requests[0]?.query.get('start_time')).toBe(String((OCT1 + 2 * DAY) / 1000));

    // The server reads the latest fetch: one event on the 3rd, with the whole day's tokens.
    const page = await get('/v1/events?from=2026-10-03&to=2026-10-04', TOKENS.admin);
    const { events } = (await page.json()) as { events: Array<{ input_tokens: number; requests: number }> };
    expect(events.map((e) => [e.input_tokens, e.requests])).toEqual([[1000, 2]]);

    const again = await pull(target, { ...options(s, OCT1 + 10 * DAY), refetch: true });
    expect(again[0]).toMatchObject({ from: OCT1, stored: 0, duplicates: 3, superseded: 0 });
  }, 120_000);

  it('runs as the command, with an ingest token, and refuses a token that may not ingest (exit 2)', async () => {
    const s = await usageServer({ provider: 'anthropic', key: ANTHROPIC_KEY });
    providers.push(s);
    s.buckets.set('/v1/organizations/usage_report/messages', [
      day(0, [anthropicResult]),
      day(1, [{ ...anthropicResult, model: 'claude-haiku-4-5-20251001' }]),
      day(2, [{ ...anthropicResult, api_key_id: 'apikey_02' }]),
    ]);
    const args = ['pull', 'anthropic', '--since', '2026-10-01', '--until', '2026-10-04'];
    const env = { ANTHROPIC_ADMIN_KEY: ANTHROPIC_KEY };
    const ok = await tally([...args, '--base-url', s.url, '--server', served?.base as string], {
      ...env,
      TALLY_TOKEN: TOKENS.ingest,
    });
    expect(ok.stderr).not.toMatch(/tally: /);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      'anthropic messages from 2026-10-01T00:00:00Z: 2 page(s), 3 stored, 0 duplicates, 0 superseded; complete until 2026-10-04T00:00:00Z\n',
    );
    // Nothing left before the cursor: the next pull asks from it and stores nothing.
    const resumed = await tally([...args, '--base-url', s.url, '--server', served?.base as string], {
      ...env,
      TALLY_TOKEN: TOKENS.ingest,
    });
    expect(resumed.stdout).toMatch(/^anthropic messages from 2026-10-04T00:00:00Z: 0 page\(s\), 0 stored/);

    const refused = await tally([...args, '--base-url', s.url, '--server', served?.base as string], {
      ...env,
      TALLY_TOKEN: TOKENS.finance,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused GET \/v1\/pull\/cursor for this token/);
    const both = await tally([...args, '--server', served?.base as string, '--store', 'x.duckdb'], {
      ...env,
      TALLY_TOKEN: TOKENS.ingest,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --store or --server, not both/);
  }, 120_000);

  it('refuses a page for a report or width the provider does not have, or a cursor not yet settled (400)', async () => {
    const res = await fetch(`${served?.base}/v1/pull/pages?provider=openai&report=messages&width=1d`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/x-ndjson' },
      body: '',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/report of openai must be completions or embeddings/);
    const width = await get('/v1/pull/cursor?provider=anthropic&report=messages&width=1w', TOKENS.ingest);
    expect(width.status).toBe(400);
    // A cursor may not run ahead of what has settled by the server's clock.
    const ahead = new Date(Date.now() + 60_000).toISOString();
    const early = await fetch(
      `${served?.base}/v1/pull/pages?provider=openai&report=completions&width=1d&complete_until=${ahead}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/x-ndjson' },
        body: '',
      },
    );
    expect(early.status).toBe(400);
    expect((await early.json()).message).toMatch(/complete an hour after it ends/);
  });
});
