import { describe, expect, it } from 'vitest';
import { ev, parseText, readFixture } from './helpers.js';

const DAY1 = Date.parse('2026-10-01T00:00:00Z');

const SUPPORT = ev({
  id: 'completions|1790812800|1790899200|proj_support|key_7Hc2Lm|gpt-4o-2024-08-06|||',
  source: 'openai-usage',
  time: DAY1,
  provider: 'openai',
  model: 'gpt-4o-2024-08-06',
  input_tokens: 125000, // already includes the cached tokens
  output_tokens: 31000,
  cache_read_tokens: 40000,
  requests: 180,
  api_key: 'key_7Hc2Lm',
  project: 'proj_support',
});

const SEARCH = ev({
  id: 'completions|1790812800|1790899200|proj_search|key_Q9xZ|gpt-4o-mini-2024-07-18||true|default',
  source: 'openai-usage',
  time: DAY1,
  provider: 'openai',
  model: 'gpt-4o-mini-2024-07-18',
  input_tokens: 880000,
  output_tokens: 120500,
  requests: 2400,
  api_key: 'key_Q9xZ',
  project: 'proj_search',
});

const EMBEDDINGS = ev({
  id: 'embeddings|1790812800|1790899200|proj_search|key_Q9xZ|text-embedding-3-small|||',
  source: 'openai-usage',
  time: DAY1,
  provider: 'openai',
  operation: 'embeddings',
  model: 'text-embedding-3-small',
  input_tokens: 16000,
  requests: 32,
  api_key: 'key_Q9xZ',
  project: 'proj_search',
});

describe('openai-usage', () => {
  it('maps one page: an event per bucket and result', async () => {
    const { events, rejected } = await readFixture('auto', 'openai-usage', 'completions-page.json');
    expect(rejected).toEqual([]);
    expect(events).toEqual([SUPPORT, SEARCH]);
  });

  it('maps NDJSON pages and an array of pages alike', async () => {
    expect((await readFixture('auto', 'openai-usage', 'pages.ndjson')).events).toEqual([
      SUPPORT,
      SEARCH,
      EMBEDDINGS,
    ]);
    expect((await readFixture('auto', 'openai-usage', 'pages-array.json')).events).toEqual([
      SUPPORT,
      SEARCH,
      EMBEDDINGS,
    ]);
  });

  it('rejects a result with a negative count or an unsupported kind, keeping the rest of the page', async () => {
    const page = {
      object: 'page',
      data: [
        {
          start_time: 1790812800,
          end_time: 1790899200,
          results: [
            {
              object: 'organization.usage.completions.result',
              input_tokens: -1,
              output_tokens: 0,
              num_model_requests: 1,
            },
            { object: 'organization.usage.images.result', images: 3, num_model_requests: 3 },
            {
              object: 'organization.usage.completions.result',
              input_tokens: 10,
              output_tokens: 2,
              num_model_requests: 1,
            },
          ],
        },
      ],
    };
    const { events, rejected } = await parseText(JSON.stringify(page), 'openai-usage', {
      skipInvalid: true,
      file: 'p.json',
    });
    expect(events.map((e) => e.input_tokens)).toEqual([10]);
    expect(rejected.map((r) => `${r.problem.field}: ${r.problem.reason}`)).toEqual([
      'data[0].results[0].input_tokens: must not be negative, got -1',
      'data[0].results[1].object: unsupported usage result "organization.usage.images.result": only completions and embeddings pages are read',
    ]);
  });
});

describe('anthropic-usage', () => {
  it('maps the messages usage report, summing the input parts', async () => {
    const { events, rejected } = await readFixture('auto', 'anthropic-usage', 'messages-report.json');
    expect(rejected).toEqual([]);
    expect(events).toEqual([
      ev({
        id: 'messages|2026-10-01T00:00:00.000Z|2026-10-02T00:00:00.000Z|wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ|apikey_01Rj2N8SVvo6BePZj99NhmiT|claude-sonnet-4-20250514|standard|0-200k',
        source: 'anthropic-usage',
        time: DAY1,
        provider: 'anthropic',
        model: 'claude-sonnet-4-20250514',
        input_tokens: 150000 + 60000 + 10000 + 20000,
        output_tokens: 45000,
        cache_read_tokens: 60000,
        cache_write_tokens: 30000,
        cache_write_1h_tokens: 10000,
        units: { web_search: 12 },
        requests: 0, // the report has no request count
        api_key: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
        project: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
      }),
      ev({
        id: 'messages|2026-10-01T00:00:00.000Z|2026-10-02T00:00:00.000Z|||claude-3-5-haiku-20241022|batch|0-200k',
        source: 'anthropic-usage',
        time: DAY1,
        provider: 'anthropic',
        model: 'claude-3-5-haiku-20241022',
        input_tokens: 3000,
        output_tokens: 800,
        requests: 0,
      }),
    ]);
  });

  it('gives the same id to the same bucket written with other time formatting (idempotent)', async () => {
    const report = (at: string) =>
      JSON.stringify({
        data: [
          {
            starting_at: at,
            ending_at: '2026-10-02T00:00:00Z',
            results: [{ uncached_input_tokens: 1, model: 'm' }],
          },
        ],
      });
    const a = await parseText(report('2026-10-01T00:00:00Z'), 'anthropic-usage');
    const b = await parseText(report('2026-10-01T02:00:00.000+02:00'), 'anthropic-usage');
    expect(a.events[0]?.id).toBe(b.events[0]?.id);
  });

  it('rejects a bucket with an unparseable start', async () => {
    const report = JSON.stringify({ data: [{ starting_at: 'soon', results: [] }] });
    await expect(parseText(report, 'anthropic-usage', { file: 'r.json' })).rejects.toThrow(
      'r.json, line 1, field data[0].starting_at: is not an ISO-8601 time: "soon"',
    );
  });
});

describe('lists of buckets', () => {
  it('detects and reads an Anthropic list of buckets like a report', async () => {
    const list = [
      {
        starting_at: '2026-10-01T00:00:00Z',
        ending_at: '2026-10-02T00:00:00Z',
        results: [{ uncached_input_tokens: 7, output_tokens: 3, model: 'claude-3-5-haiku-20241022' }],
      },
      { starting_at: '2026-10-02T00:00:00Z', ending_at: '2026-10-03T00:00:00Z', results: [] },
    ];
    const { events, rejected } = await parseText(JSON.stringify(list), 'auto');
    expect(rejected).toEqual([]);
    expect(events).toEqual([
      ev({
        id: 'messages|2026-10-01T00:00:00.000Z|2026-10-02T00:00:00.000Z|||claude-3-5-haiku-20241022||',
        source: 'anthropic-usage',
        time: DAY1,
        provider: 'anthropic',
        model: 'claude-3-5-haiku-20241022',
        input_tokens: 7,
        output_tokens: 3,
        requests: 0,
      }),
    ]);
  });

  it('detects an OpenAI list of empty buckets, and names a bad bucket of a list by its fields', async () => {
    const empty = [{ object: 'bucket', start_time: 1790812800, end_time: 1790899200, results: [] }];
    expect((await parseText(JSON.stringify(empty), 'auto')).events).toEqual([]);
    const bad = [{ object: 'bucket', start_time: 1790812800, end_time: 1790899200, results: 'none' }];
    await expect(parseText(JSON.stringify(bad), 'auto', { file: 'l.json' })).rejects.toThrow(
      /l\.json, record \d+, field results: must be an array, got string/,
    );
  });
});
