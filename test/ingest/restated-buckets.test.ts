// Usage-report buckets are restatable (SPEC §3.3): a later fetch of the same
// bucket supersedes the earlier one, through the CLI and into the statement.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { ingestFile } from '../../src/service/ingest.js';
import { openStore } from '../../src/store/open.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  let dir: string;
  let out: string;
  /** The store of the test: a DuckDB file in `dir`, or a fresh PostgreSQL schema. */
  let storeUrl: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-restate-'));
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    storeUrl = adapter.url(dir);
    await writeFile(path.join(dir, 'tally.yaml'), `store: ${JSON.stringify(storeUrl)}\n${CONFIG}`);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  const CONFIG = `
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-openai, kind: api_key, application: app-a, environment: production, match: [{ api_key: key_A }] }
  - { id: nhi-anthropic, kind: api_key, application: app-a, environment: production,
      match: [{ api_key: apikey_01Rj2N8SVvo6BePZj99NhmiT }] }
`;

  async function run(...args: string[]): Promise<number> {
    out = '';
    return main([...args, '--config', path.join(dir, 'tally.yaml')]);
  }

  async function file(name: string, body: unknown): Promise<string> {
    const p = path.join(dir, name);
    await writeFile(p, JSON.stringify(body));
    return p;
  }

  async function ingest(p: string): Promise<{ stored: number; duplicates: number; superseded: number }> {
    const store = await openStore(storeUrl);
    try {
      return await ingestFile(store, p, { format: 'auto', skipInvalid: false, now: NOW });
    } finally {
      await store.close();
    }
  }

  async function statementTotals(): Promise<{ effective: string; list: string; events: number }> {
    expect(await run('statement', '--period', '2026-10', '--format', 'json')).toBe(0);
    const s = JSON.parse(out) as {
      totals: { effective_cost: string; events: number };
      lines: Array<{ list_cost: string }>;
    };
    const list = s.lines.reduce((a, l) => a + parseMoney(l.list_cost), 0n);
    return { effective: s.totals.effective_cost, list: formatMoney(list), events: s.totals.events };
  }

  const NOW = Date.parse('2026-10-20T00:00:00Z');
  const T = (iso: string) => Date.parse(iso) / 1000;

  const openaiResult = (input: number, output: number, requests: number) => ({
    object: 'organization.usage.completions.result',
    input_tokens: input,
    output_tokens: output,
    input_cached_tokens: 0,
    num_model_requests: requests,
    project_id: 'proj_A',
    user_id: null,
    api_key_id: 'key_A',
    model: 'gpt-4o',
    batch: null,
    service_tier: null,
  });
  const openaiPage = (buckets: Array<[string, string, ReturnType<typeof openaiResult>]>) => ({
    object: 'page',
    data: buckets.map(([from, to, r]) => ({
      object: 'bucket',
      start_time: T(from),
      end_time: T(to),
      results: [r],
    })),
    has_more: false,
    next_page: null,
  });

  describe('OpenAI usage re-fetched (SPEC §3.3)', () => {
    // Fetched on 2 October at 12:00 with start_time 1 October 06:00: the first
    // bucket starts at the query's start, the current one ends at the fetch.
    const partial = openaiPage([
      ['2026-10-01T06:00:00Z', '2026-10-02T00:00:00Z', openaiResult(400_000, 100_000, 40)],
      ['2026-10-02T00:00:00Z', '2026-10-02T12:00:00Z', openaiResult(300_000, 50_000, 30)],
    ]);
    // Fetched again on 3 October from 1 October 00:00: both days whole.
    const whole = openaiPage([
      ['2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', openaiResult(1_000_000, 200_000, 100)],
      ['2026-10-02T00:00:00Z', '2026-10-03T00:00:00Z', openaiResult(700_000, 100_000, 70)],
    ]);

    it('counts each day once: the whole fetch supersedes the partial one (+0 %)', async () => {
      expect(await ingest(await file('partial.json', partial))).toMatchObject({ stored: 2, superseded: 0 });
      // gpt-4o at list price: $2.50 input, $10 output per million tokens.
      // Partial: (400k + 300k) × 2.5 + (100k + 50k) × 10 = 1.75 + 1.50 = 3.25
      expect(await statementTotals()).toMatchObject({ effective: '3.25', list: '3.25', events: 2 });

      expect(await ingest(await file('whole.json', whole))).toMatchObject({
        stored: 2,
        duplicates: 0,
        superseded: 2,
      });
      // Whole: day 1: 1.0M × 2.5 + 0.2M × 10 = 2.50 + 2.00 = 4.50
      //        day 2: 0.7M × 2.5 + 0.1M × 10 = 1.75 + 1.00 = 2.75
      // 4.50 + 2.75 = 7.25, not 7.25 + 3.25 = 10.50 (the partial fetch no longer counts).
      expect(await statementTotals()).toMatchObject({ effective: '7.25', list: '7.25', events: 2 });

      // The same whole fetch again: duplicates, nothing changes.
      expect(await ingest(await file('whole-again.json', whole))).toMatchObject({
        stored: 0,
        duplicates: 2,
        superseded: 0,
      });
      expect(await statementTotals()).toMatchObject({ effective: '7.25', events: 2 });

      // The log keeps all four versions and still verifies.
      expect(await run('verify')).toBe(0);
      const store = await openStore(storeUrl);
      try {
        expect(await store.verify()).toMatchObject({ ok: true, batches: 2, events: 4 });
      } finally {
        await store.close();
      }
    });

    it('reads the whole fetch as a list of buckets (the cookbook form) the same way', async () => {
      await ingest(await file('partial.json', partial));
      expect(await ingest(await file('whole-list.json', whole.data))).toMatchObject({
        stored: 2,
        superseded: 2,
      });
      expect(await statementTotals()).toMatchObject({ effective: '7.25', events: 2 });
    });
  });

  describe('Anthropic usage re-fetched (SPEC §3.3)', () => {
    const result = (uncached: number, write1h: number, output: number) => ({
      uncached_input_tokens: uncached,
      cache_creation: { ephemeral_1h_input_tokens: write1h, ephemeral_5m_input_tokens: 0 },
      cache_read_input_tokens: 0,
      output_tokens: output,
      server_tool_use: { web_search_requests: 0 },
      api_key_id: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
      workspace_id: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
      model: 'claude-sonnet-4-20250514',
      service_tier: 'standard',
      context_window: '0-200k',
    });
    const report = (day2: ReturnType<typeof result>) => ({
      data: [
        {
          starting_at: '2026-10-01T00:00:00Z',
          ending_at: '2026-10-02T00:00:00Z',
          results: [result(10_000, 0, 2_000)],
        },
        { starting_at: '2026-10-02T00:00:00Z', ending_at: '2026-10-03T00:00:00Z', results: [day2] },
      ],
      has_more: false,
      next_page: null,
    });

    it('takes the newer numbers of a re-fetched day; an unchanged day is a duplicate', async () => {
      expect(await ingest(await file('early.json', report(result(1_000, 0, 200))))).toMatchObject({
        stored: 2,
      });
      // claude-sonnet-4 at list price: $3 input, $15 output, $6 one-hour cache writes per million.
      // Day 1: 10,000 × 3 + 2,000 × 15 = 0.03 + 0.03 = 0.06
      // Day 2 (early): 1,000 × 3 + 200 × 15 = 0.003 + 0.003 = 0.006
      expect(await statementTotals()).toMatchObject({ effective: '0.066', events: 2 });

      expect(await ingest(await file('late.json', report(result(5_000, 2_000, 1_000))))).toMatchObject({
        stored: 1,
        duplicates: 1,
        superseded: 1,
      });
      // Day 2 (late): 5,000 × 3 + 2,000 × 6 + 1,000 × 15 = 0.015 + 0.012 + 0.015 = 0.042
      // 0.06 + 0.042 = 0.102: the early numbers of day 2 no longer count.
      expect(await statementTotals()).toMatchObject({ effective: '0.102', list: '0.102', events: 2 });
      expect(await run('verify')).toBe(0);
    });
  });

  describe('Anthropic buckets of a model priced by request size', () => {
    it('prices a day of requests under 200k tokens at the base tier, not as one huge request', async () => {
      const day = {
        data: [
          {
            starting_at: '2026-10-05T00:00:00Z',
            ending_at: '2026-10-06T00:00:00Z',
            results: [
              {
                uncached_input_tokens: 5_000_000,
                cache_read_input_tokens: 0,
                output_tokens: 100_000,
                api_key_id: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
                model: 'claude-sonnet-4-5-20250929',
                context_window: '0-200k',
              },
            ],
          },
        ],
      };
      expect(await ingest(await file('sonnet.json', day))).toMatchObject({ stored: 1 });
      // claude-sonnet-4-5 below 200k input tokens per request: $3 input, $15 output per million.
      //   5,000,000 × 3 + 100,000 × 15 = 15.00 + 1.50 = 16.50
      // (Taken as one request of 5M tokens it was priced at the >200k tier: 30.00 + 2.25 = 32.25.)
      expect(await statementTotals()).toMatchObject({ effective: '16.50', list: '16.50', events: 1 });
    });
  });

  describe('Anthropic long-context rows', () => {
    it('prices a 200k-1M row at the long-context tier', async () => {
      const row = (window: string, uncached: number) => ({
        uncached_input_tokens: uncached,
        output_tokens: 10_000,
        api_key_id: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
        model: 'claude-sonnet-4-5-20250929',
        context_window: window,
      });
      const day = {
        data: [
          {
            starting_at: '2026-10-05T00:00:00Z',
            ending_at: '2026-10-06T00:00:00Z',
            results: [row('0-200k', 1_000_000), row('200k-1M', 600_000)],
          },
        ],
      };
      expect(await ingest(await file('sonnet.json', day))).toMatchObject({ stored: 2 });
      // 0-200k:  1,000,000 × 3 + 10,000 × 15    = 3.00 + 0.15  = 3.15
      // 200k-1M:   600,000 × 6 + 10,000 × 22.50 = 3.60 + 0.225 = 3.825
      // 3.15 + 3.825 = 6.975
      expect(await statementTotals()).toMatchObject({ effective: '6.975', list: '6.975', events: 2 });
    });
  });

  describe('tally posture on richer usage', () => {
    it('lists audio priced at the text rate for a model without an audio price', async () => {
      const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'openai-usage', 'bucket-list.json');
      expect(await ingest(fixture)).toMatchObject({ stored: 2 });
      expect(await run('posture', '--period', '2026-10', '--format', 'json')).toBe(0);
      const findings = (JSON.parse(out) as { findings: Array<Record<string, unknown>> }).findings;
      expect(findings.filter((f) => f.kind === 'price_fallback')).toEqual([
        expect.objectContaining({
          severity: 'low',
          subject: 'openai/gpt-4o-mini-2024-07-18 input_audio',
          events: 1,
          figures: { part: 'input_audio', quantity: 100 },
        }),
      ]);
    });
  });
});
