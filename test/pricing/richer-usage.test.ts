// Richer usage (SPEC §3): one-hour cache writes, audio tokens and server-side
// tool units, read from the providers' documented reports and priced each at
// its own rate, falling back where a price has none.
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Charge } from '../../src/core/attribution.js';
import { parseConfig } from '../../src/core/config-schema.js';
import { parseMoney } from '../../src/core/money.js';
import { assessPosture } from '../../src/core/posture.js';
import { PriceBook, type PricingInput } from '../../src/core/pricing.js';
import { Registry } from '../../src/core/registry.js';
import { readFixture } from '../ingest/helpers.js';

const CATALOG_ONLY = new PriceBook({ models: [], discounts: [], units: [] });

function ev(over: Partial<PricingInput>): PricingInput {
  return {
    time: Date.UTC(2026, 9, 1, 12),
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    operation: 'chat',
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    requests: 0,
    tool: null,
    data_source: null,
    ...over,
  };
}

describe('Anthropic messages usage report, the documented example', () => {
  it('reads one-hour cache writes and web searches, and prices them as Anthropic bills', async () => {
    const { events, rejected } = await readFixture('auto', 'anthropic-usage', 'docs-example.json');
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e).toMatchObject({
      source: 'anthropic-usage',
      provider: 'anthropic',
      model: 'claude-sonnet-4-20250514',
      operation: 'chat',
      api_key: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
      project: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
      input_tokens: 1500 + 200 + 500 + 1000, // uncached + cache read + 5m writes + 1h writes
      cache_read_tokens: 200,
      cache_write_tokens: 1500,
      cache_write_1h_tokens: 1000,
      output_tokens: 500,
      units: { web_search: 10 },
      requests: 0,
    });
    // claude-sonnet-4 list prices per million: input 3, 5m write 3.75, 1h write 6, cache read 0.30,
    // output 15; web search $10 per 1,000.
    //   1,500 × 3      = 0.0045
    //     500 × 3.75   = 0.001875
    //   1,000 × 6      = 0.006
    //     200 × 0.30   = 0.00006
    //     500 × 15     = 0.0075
    //      10 × 0.01   = 0.10
    //   total            0.119935   (without 1h writes and searches it was 0.017685: 15 %)
    const q = CATALOG_ONLY.price(e as PricingInput);
    expect(q.listCost).toBe(parseMoney('0.119935'));
    expect(q.cost).toBe(parseMoney('0.119935'));
    expect(q.fallbacks).toBeUndefined();
  });
});

describe('OpenAI usage: a list of buckets with audio and cached tokens', () => {
  it('reads every bucket of the list (the cookbook form) and prices audio at its own rate', async () => {
    const { events, rejected } = await readFixture('auto', 'openai-usage', 'bucket-list.json');
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(2); // the third bucket is empty
    const [voice, mini] = events;
    expect(voice).toMatchObject({
      id: 'completions|1790812800|1790899200|proj_voice|key_voice1|gpt-4o-realtime-preview-2024-12-17||false|default',
      source: 'openai-usage',
      time: Date.UTC(2026, 9, 1),
      provider: 'openai',
      operation: 'chat',
      api_key: 'key_voice1',
      project: 'proj_voice',
      input_tokens: 5000,
      cache_read_tokens: 4000,
      input_audio_tokens: 300,
      output_tokens: 1000,
      output_audio_tokens: 200,
      requests: 5,
    });
    expect(mini).toMatchObject({
      model: 'gpt-4o-mini-2024-07-18',
      input_tokens: 2000,
      input_audio_tokens: 100,
    });
    expect(mini?.output_audio_tokens).toBeUndefined();

    // gpt-4o-realtime-preview per million: text input 5, cached 2.50, audio input 40, text output 20,
    // audio output 80.
    //   text input  5,000 − 4,000 − 300 = 700 × 5  = 0.0035
    //   cached      4,000 × 2.50              = 0.01
    //   audio in      300 × 40                = 0.012
    //   text output 1,000 − 200 = 800 × 20    = 0.016
    //   audio out     200 × 80                = 0.016
    //   total                                   0.0575
    const v = CATALOG_ONLY.price(voice as PricingInput);
    expect(v.listCost).toBe(parseMoney('0.0575'));
    expect(v.fallbacks).toBeUndefined();

    // gpt-4o-mini has no audio price: its audio input is priced at the input rate (fallback).
    //   2,000 × 0.15 + 500 × 0.60 = 0.0003 + 0.0003 = 0.0006
    const m = CATALOG_ONLY.price(mini as PricingInput);
    expect(m.listCost).toBe(parseMoney('0.0006'));
    expect(m.fallbacks).toEqual([{ part: 'input_audio', quantity: 100 }]);
  });
});

const CONFIG = `
prices:
  models:
    - provider: anthropic
      model: claude-sonnet-4*
      input_per_mtok: 2.00
      output_per_mtok: 10.00
      cache_write_per_mtok: 2.50
      cache_write_1h_per_mtok: 4.00
    - provider: openai
      model: gpt-4o-mini*
      input_per_mtok: 0.10
      output_per_mtok: 0.40
      input_audio_per_mtok: 8.00
      output_audio_per_mtok: 16.00
  units:
    - { unit: web_search, per_unit: 0.008 }
    - { unit: web_search, provider: openai, per_unit: 0.025 }
`;

describe('organisation prices for richer usage', () => {
  const config = parseConfig(YAML.parse(CONFIG), { sha256: 'x' });
  const book = new PriceBook(config.prices);

  it('prices each part at its own organisation rate, units per unit without discount', () => {
    // 1,000 uncached × 2 + 500 5m writes × 2.50 + 1,000 1h writes × 4 + 500 output × 10
    //   = 0.002 + 0.00125 + 0.004 + 0.005 = 0.01225; 10 searches × 0.008 = 0.08; total 0.09225
    const q = book.price(
      ev({
        input_tokens: 2500,
        cache_write_tokens: 1500,
        cache_write_1h_tokens: 1000,
        output_tokens: 500,
        units: { web_search: 10 },
      }),
    );
    expect(q.tokenCost).toBe(parseMoney('0.01225'));
    expect(q.unitCost).toBe(parseMoney('0.08'));
    expect(q.cost).toBe(parseMoney('0.09225'));
    expect(q.fallbacks).toBeUndefined();

    // OpenAI: the provider's own web-search price wins over the general one: 4 × 0.025 = 0.10.
    // Audio: 1,000 text input × 0.10 + 200 audio in × 8 + 300 text output × 0.40 + 100 audio out × 16
    //   = 0.0001 + 0.0016 + 0.00012 + 0.0016 = 0.00342
    const o = book.price(
      ev({
        provider: 'openai',
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 1200,
        input_audio_tokens: 200,
        output_tokens: 400,
        output_audio_tokens: 100,
        units: { web_search: 4 },
      }),
    );
    expect(o.tokenCost).toBe(parseMoney('0.00342'));
    expect(o.unitCost).toBe(parseMoney('0.1'));
  });

  it('falls back where an organisation price has no rate of its own, and says so', () => {
    const noOwn = new PriceBook(
      parseConfig(
        YAML.parse(`
prices:
  models:
    - { provider: anthropic, model: claude-sonnet-4*, input_per_mtok: 2.00, output_per_mtok: 10.00,
        cache_write_per_mtok: 2.50 }
`),
        { sha256: 'x' },
      ).prices,
    );
    // 1h writes at the 5m write rate: 1,000 × 2.50 = 0.0025; 1,000 uncached × 2 = 0.002.
    // Web searches: no organisation price, so the catalog's (organisation token prices do not
    // cover units): 3 × 0.01 = 0.03.
    const q = noOwn.price(
      ev({
        input_tokens: 2000,
        cache_write_tokens: 1000,
        cache_write_1h_tokens: 1000,
        units: { web_search: 3 },
      }),
    );
    expect(q.cost).toBe(parseMoney('0.0345'));
    expect(q.fallbacks).toEqual([{ part: 'cache_write_1h', quantity: 1000 }]);

    // A unit nobody prices is left out of the cost and listed.
    const unknownUnit = CATALOG_ONLY.price(ev({ input_tokens: 1000, units: { code_execution: 2 } }));
    expect(unknownUnit.cost).toBe(parseMoney('0.003')); // 1,000 × 3
    expect(unknownUnit.fallbacks).toEqual([{ part: 'unit:code_execution', quantity: 2 }]);
  });

  it('rejects a unit price without a valid unit name or amount', () => {
    expect(() =>
      parseConfig(YAML.parse('prices: { units: [{ unit: "Web Search", per_unit: 0.01 }] }'), { sha256: 'x' }),
    ).toThrow(/must be a unit name/);
    expect(() =>
      parseConfig(YAML.parse('prices: { units: [{ unit: web_search }] }'), { sha256: 'x' }),
    ).toThrow(/per_unit/);
  });
});

describe('posture lists prices that fell back', () => {
  it('names the model, the part and how much of it', () => {
    const config = parseConfig({}, { sha256: 'x' });
    const charge = {
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
      events: 3,
      fallbacks: [{ part: 'input_audio', quantity: 100 }],
    } as unknown as Charge;
    const unpricedUnit = {
      provider: 'anthropic',
      model: 'claude-x',
      events: 1,
      fallbacks: [{ part: 'unit:code_execution', quantity: 2 }],
    } as unknown as Charge;
    const p = assessPosture({
      config,
      registry: new Registry(config),
      window: { start: 0, end: Date.UTC(2026, 10, 1) },
      usage: [],
      charges: [charge, charge, unpricedUnit],
      totals: { coverage: { attributed: 0n, direct: 0n }, events: 0 } as never,
      rotationDays: 90,
    });
    const found = p.findings.filter((f) => f.kind === 'price_fallback');
    // Most severe first: a unit with no price leaves the cost too low.
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'medium',
        subject: 'anthropic/claude-x unit:code_execution',
        figures: { part: 'unit:code_execution', quantity: 2 },
      }),
      expect.objectContaining({
        severity: 'low',
        subject: 'openai/gpt-4o-mini-2024-07-18 input_audio',
        events: 6,
        figures: { part: 'input_audio', quantity: 200 },
      }),
    ]);
  });
});

describe('cached audio', () => {
  it('prices no token twice when the cached tokens include audio', () => {
    // gpt-4o-realtime-preview: text input 5, cached 2.50, audio input 40 per million.
    // 1,000 input of which 900 cached and 300 audio: at most 100 can be uncached audio;
    // the other 200 audio tokens are within the cache.
    //   uncached audio  100 × 40   = 0.004
    //   cached          900 × 2.50 = 0.00225
    //   uncached text     0
    const q = CATALOG_ONLY.price(
      ev({
        provider: 'openai',
        model: 'gpt-4o-realtime-preview-2024-12-17',
        input_tokens: 1000,
        cache_read_tokens: 900,
        input_audio_tokens: 300,
      }),
    );
    expect(q.listCost).toBe(parseMoney('0.00625'));
  });
});
