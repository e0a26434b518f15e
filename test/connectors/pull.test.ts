// `tally pull`: organisation usage reports fetched page by page from a local server that
// answers as the providers document (OpenAI Usage API, Anthropic Admin API usage report),
// with a 429 + Retry-After, a 500, paging, partial buckets fetched again, and a resumed pull.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { PROVIDER } from '../../src/connectors/usage-pull/providers.js';
import { pull, storePullTarget } from '../../src/service/pull.js';
import type { Store } from '../../src/store/store.js';
import { fixture } from '../ingest/helpers.js';
import { ADAPTERS, type Adapter, DUCKDB, openFresh } from '../store/adapters.js';
import { type Bucket, type UsageServer, usageServer } from './usage-server.js';

const OPENAI_KEY = 'sk-admin-Zq8b3f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6';
const ANTHROPIC_KEY = 'sk-ant-admin01-Xy9w8v7u6t5s4r3q2p1o0n9m8l7k6j5i4h3g2f1e';
const DAY = 86_400_000;
const OCT1 = Date.UTC(2026, 9, 1);

const completionsPage = JSON.parse(readFileSync(fixture('openai-usage', 'completions-page.json'), 'utf8'));
const [support, search] = completionsPage.data[0].results as Array<Record<string, unknown>>;
const embedding = {
  object: 'organization.usage.embeddings.result',
  input_tokens: 16000,
  num_model_requests: 2,
  project_id: 'proj_search',
  user_id: null,
  api_key_id: 'key_Q9xZ',
  model: 'text-embedding-3-small',
};
const anthropicResult = JSON.parse(readFileSync(fixture('anthropic-usage', 'docs-example.json'), 'utf8'))
  .data[0].results[0] as Record<string, unknown>;

const day = (n: number, results: unknown[]): Bucket => ({
  start: OCT1 + n * DAY,
  end: OCT1 + (n + 1) * DAY,
  results,
});

let dir: string;
let store: Store;
let servers: UsageServer[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-pull-'));
  servers = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  await store?.close();
  for (const s of servers) await s.close();
  await rm(dir, { recursive: true, force: true });
});

/** Each test opens its store (on the adapter its describe block names). */
async function useStore(adapter: Adapter): Promise<void> {
  store = await openFresh(adapter, dir);
}

async function openai(): Promise<UsageServer> {
  const s = await usageServer({ provider: 'openai', key: OPENAI_KEY });
  servers.push(s);
  s.buckets.set('/v1/organization/usage/completions', [
    day(0, [support, search]),
    day(1, []),
    day(2, [
      { ...support, input_tokens: 1000, output_tokens: 100, input_cached_tokens: 0, num_model_requests: 2 },
    ]),
  ]);
  s.buckets.set('/v1/organization/usage/embeddings', [day(0, [embedding])]);
  return s;
}

function options(s: UsageServer, now: number, delays: number[] = []) {
  return {
    provider: PROVIDER.openai,
    key: OPENAI_KEY,
    baseUrl: s.url,
    since: OCT1,
    until: OCT1 + 3 * DAY,
    width: '1d' as const,
    refetch: false,
    now,
    fetch: {
      sleep: async (ms: number) => {
        delays.push(ms);
      },
    },
  };
}

describe.each(ADAPTERS)('tally pull openai ($name)', (adapter) => {
  beforeEach(() => useStore(adapter));

  it('pages through completions and embeddings, retrying a 429 after its Retry-After and a 500', async () => {
    const s = await openai();
    s.failures.push({ status: 429, headers: { 'retry-after': '7' } }, { status: 500 });
    const delays: number[] = [];
    const reports = await pull(storePullTarget(store), options(s, OCT1 + 10 * DAY, delays));

    expect(reports).toEqual([
      expect.objectContaining({ report: 'completions', pages: 2, stored: 3, completeUntil: OCT1 + 3 * DAY }),
      expect.objectContaining({ report: 'embeddings', pages: 1, stored: 1, completeUntil: OCT1 + DAY }),
    ]);
    expect(delays[0]).toBe(7000); // Retry-After: 7
    expect(delays).toHaveLength(2);
    // Four answers plus the two failures; each request as the API reference documents it.
    expect(s.requests.map((r) => [r.path, r.query.get('page')])).toEqual([
      ['/v1/organization/usage/completions', null],
      ['/v1/organization/usage/completions', null],
      ['/v1/organization/usage/completions', null],
      ['/v1/organization/usage/completions', 'page_2'],
      ['/v1/organization/usage/embeddings', null],
    ]);
    const q = s.requests[0]?.query as URLSearchParams;
    expect(q.get('start_time')).toBe(String(OCT1 / 1000));
    expect(q.get('end_time')).toBe(String((OCT1 + 3 * DAY) / 1000));
    expect(q.get('bucket_width')).toBe('1d');
    expect(q.getAll('group_by')).toEqual(['project_id', 'api_key_id', 'model']);
    expect(s.requests.every((r) => r.key === OPENAI_KEY)).toBe(true);
    expect((await store.counters()).events).toBe(4);
  });

  it('supersedes a partial bucket when it is fetched again, and resumes from the last complete bucket', async () => {
    const s = await openai();
    const partial = {
      ...support,
      input_tokens: 400,
      output_tokens: 40,
      input_cached_tokens: 0,
      num_model_requests: 1,
    };
    const buckets = s.buckets.get('/v1/organization/usage/completions') as Bucket[];
    buckets[2] = day(2, [partial]);
    // Mid-morning of October 3rd: the 3rd is partial, the 1st and 2nd are complete.
    const first = await pull(storePullTarget(store), options(s, OCT1 + 2 * DAY + 10 * 3_600_000));
    expect(first[0]).toMatchObject({ stored: 3, completeUntil: OCT1 + 2 * DAY });

    buckets[2] = day(2, [{ ...partial, input_tokens: 1000, output_tokens: 100, num_model_requests: 2 }]);
    s.requests.length = 0;
    const second = await pull(storePullTarget(store), options(s, OCT1 + 10 * DAY));
    expect(second[0]).toMatchObject({
      from: OCT1 + 2 * DAY,
      pages: 1,
      stored: 1, // a new version of the bucket, which replaces the partial one
      superseded: 1,
      completeUntil: OCT1 + 3 * DAY,
    });
    expect(s.requests[0]?.query.get('start_time')).toBe(String((OCT1 + 2 * DAY) / 1000));

    // The statement's numbers use the latest fetch: one bucket, its whole-day tokens.
    const events = await store.eventsInWindow({ from: OCT1 + 2 * DAY, to: OCT1 + 3 * DAY });
    expect(events.map((e) => [e.input_tokens, e.requests])).toEqual([[1000, 2]]);

    // Nothing left to read before the cursor; --refetch reads from --since again, all duplicates.
    const again = await pull(storePullTarget(store), { ...options(s, OCT1 + 10 * DAY), refetch: true });
    expect(again[0]).toMatchObject({ from: OCT1, stored: 0, duplicates: 3, superseded: 0 });
  });

  it('refuses a page with an invalid record, naming page and field, and keeps the pages before it', async () => {
    const s = await openai();
    const buckets = s.buckets.get('/v1/organization/usage/completions') as Bucket[];
    buckets[2] = day(2, [{ ...support, input_tokens: -3 }]);
    await expect(pull(storePullTarget(store), options(s, OCT1 + 10 * DAY))).rejects.toThrow(
      /openai completions page 2.*field data\[0\]\.results\[0\]\.input_tokens/,
    );
    expect((await store.counters()).events).toBe(2);
  });
});

describe.each(ADAPTERS)('tally pull anthropic ($name)', (adapter) => {
  beforeEach(() => useStore(adapter));

  it('pages through the messages usage report with the admin key in x-api-key', async () => {
    const s = await usageServer({ provider: 'anthropic', key: ANTHROPIC_KEY });
    servers.push(s);
    s.buckets.set('/v1/organizations/usage_report/messages', [
      day(0, [anthropicResult]),
      day(1, [{ ...anthropicResult, model: 'claude-haiku-4-5-20251001' }]),
      day(2, [{ ...anthropicResult, api_key_id: 'apikey_02' }]),
    ]);
    s.failures.push({ status: 529, headers: { 'retry-after': '2' } });
    const delays: number[] = [];
    const reports = await pull(storePullTarget(store), {
      ...options(s, OCT1 + 10 * DAY, delays),
      provider: PROVIDER.anthropic,
      key: ANTHROPIC_KEY,
    });
    expect(reports).toEqual([
      expect.objectContaining({ report: 'messages', pages: 2, stored: 3, completeUntil: OCT1 + 3 * DAY }),
    ]);
    expect(delays).toEqual([2000]);
    const q = s.requests[0]?.query as URLSearchParams;
    expect(q.get('starting_at')).toBe('2026-10-01T00:00:00.000Z');
    expect(q.getAll('group_by[]')).toEqual([
      'api_key_id',
      'workspace_id',
      'model',
      'service_tier',
      'context_window',
    ]);
    expect(s.requests.map((r) => r.query.get('page'))).toEqual([null, null, 'page_2']);
    expect(s.requests.every((r) => r.key === ANTHROPIC_KEY)).toBe(true);
  });
});

describe('the tally pull command', () => {
  let out: string;
  let err: string;
  beforeEach(async () => {
    await useStore(DUCKDB);
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((t) => {
      out += String(t);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((t) => {
      err += String(t);
      return true;
    });
  });

  async function run(...args: string[]): Promise<number> {
    await writeFile(path.join(dir, 'tally.yaml'), 'store: ./cli.duckdb\n');
    return main([...args, '--config', path.join(dir, 'tally.yaml')]);
  }

  it('says what is wrong with its arguments (exit 2)', async () => {
    vi.stubEnv('OPENAI_ADMIN_KEY', OPENAI_KEY);
    expect(await run('pull', 'opnai', '--since', '2026-10-01')).toBe(2);
    expect(err).toContain("unknown provider 'opnai' (openai or anthropic); did you mean openai?");
    expect(await run('pull', 'openai')).toBe(2);
    expect(err).toContain('--since is required');
    expect(await run('pull', 'openai', '--since', '2026-10-05', '--until', '2026-10-01')).toBe(2);
    expect(err).toContain('--until must be after --since');
    expect(await run('pull', 'openai', '--since', '2026-10-01', '--base-url', 'ftp://x')).toBe(2);
    expect(err).toContain('--base-url must be an http(s) URL');
    expect(await run('pull', 'openai', '--since', '2026-10-01', '--bucket-width', '1w')).toBe(2);
    expect(err).toContain('--bucket-width must be one of 1d, 1h');
  });

  it('reads the key from the environment and never shows or stores it, not even when refused', async () => {
    const s = await openai();
    s.failures.push({ status: 429, headers: { 'retry-after': '0' } });
    vi.stubEnv('OPENAI_ADMIN_KEY', OPENAI_KEY);
    const args = ['pull', 'openai', '--since', '2026-10-01', '--until', '2026-10-04', '--base-url', s.url];
    expect(await run(...args)).toBe(0);
    expect(out).toMatch(/openai completions from 2026-10-01T00:00:00Z: 2 page\(s\), 3 stored/);
    expect(out).toMatch(/openai embeddings .*1 stored/);
    expect(err).toMatch(/answered 429; retrying/);

    vi.stubEnv('OPENAI_ADMIN_KEY', `${OPENAI_KEY}-wrong`);
    expect(await run(...args, '--refetch')).toBe(2);
    expect(err).toMatch(/answered 401 \(is the admin key right\?\)/);

    vi.unstubAllEnvs();
    vi.stubEnv('OPENAI_ADMIN_KEY', '');
    expect(await run(...args)).toBe(2);
    expect(err).toContain('set OPENAI_ADMIN_KEY');

    const stored = await readFile(path.join(dir, 'cli.duckdb'));
    for (const text of [out, err, stored.toString('latin1')]) expect(text).not.toContain(OPENAI_KEY.slice(9));
  });
});
