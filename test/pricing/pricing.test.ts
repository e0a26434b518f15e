import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import pkg from '../../node_modules/@pydantic/genai-prices/package.json' with { type: 'json' };
import { CATALOG_PACKAGE_VERSION, catalogVersion } from '../../src/core/catalog.js';
import type { Config, ModelPrice } from '../../src/core/config.js';
import { parseMoney } from '../../src/core/money.js';
import { PriceBook, type PricingInput } from '../../src/core/pricing.js';

const T = Date.UTC(2026, 9, 1, 12);
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

function ev(over: Partial<PricingInput> = {}): PricingInput {
  return {
    time: T,
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    requests: 1,
    tool: null,
    data_source: null,
    ...over,
  };
}

function orgPrice(over: Partial<ModelPrice> = {}): ModelPrice {
  return {
    provider: 'openai',
    model: 'gpt-4o',
    from: null,
    until: null,
    inputPerMtok: parseMoney('2.50'),
    outputPerMtok: parseMoney('10.00'),
    cacheReadPerMtok: parseMoney('1.25'),
    cacheWritePerMtok: parseMoney('3.125'),
    reasoningPerMtok: null,
    ...over,
  };
}

function book(prices: Partial<Config['prices']> = {}): PriceBook {
  return new PriceBook({ models: [], discounts: [], units: [], ...prices });
}

describe('organisation prices', () => {
  it('prices uncached input, cache reads and output exactly', () => {
    const q = book({ models: [orgPrice()] }).price(
      ev({ input_tokens: 1200, cache_read_tokens: 200, output_tokens: 300 }),
    );
    // (1000 × 2.50 + 200 × 1.25 + 300 × 10.00) / 1e6
    expect(q).toMatchObject({
      cost: parseMoney('0.00575'),
      tokenCost: parseMoney('0.00575'),
      priced: true,
      source: 'organisation',
    });
  });

  it('prices omitted cache rates at the input rate and omitted reasoning at the output rate', () => {
    const p = orgPrice({ cacheReadPerMtok: null, cacheWritePerMtok: null, reasoningPerMtok: null });
    const q = book({ models: [p] }).price(
      ev({
        input_tokens: 1000,
        cache_read_tokens: 300,
        cache_write_tokens: 100,
        output_tokens: 500,
        reasoning_tokens: 400,
      }),
    );
    expect(q.cost).toBe(parseMoney('0.0075')); // 1000 × 2.5 + 500 × 10
    const withReasoning = book({ models: [orgPrice({ reasoningPerMtok: parseMoney('20') })] }).price(
      ev({ input_tokens: 0, output_tokens: 500, reasoning_tokens: 400 }),
    );
    expect(withReasoning.cost).toBe(parseMoney('0.009')); // 100 × 10 + 400 × 20
  });

  it('wins over the catalog; the list cost stays the catalog price', () => {
    const e = ev({ input_tokens: 1_000_000 });
    const catalog = book().price(e);
    const org = book({ models: [orgPrice({ inputPerMtok: parseMoney('1') })] }).price(e);
    expect(catalog.source).toBe('catalog');
    expect(org.cost).toBe(parseMoney('1'));
    expect(org.listCost).toBe(catalog.cost);
  });

  it('is the list price when the catalog has none', () => {
    const q = book({ models: [orgPrice({ provider: 'internal', model: 'llama-local' })] }).price(
      ev({ provider: 'internal', model: 'llama-local', input_tokens: 1_000_000 }),
    );
    expect(q).toMatchObject({ cost: parseMoney('2.5'), listCost: parseMoney('2.5'), source: 'organisation' });
  });

  it('prefers an exact name over a glob, then the latest from, with until exclusive', () => {
    const prices = [
      orgPrice({ model: 'gpt-4o*', inputPerMtok: parseMoney('1') }),
      orgPrice({ from: day('2026-01-01'), inputPerMtok: parseMoney('2') }),
      orgPrice({ from: day('2026-06-01'), until: day('2026-10-01'), inputPerMtok: parseMoney('3') }),
    ];
    const b = book({ models: prices });
    const at = (time: number, model = 'gpt-4o') => b.price(ev({ time, model, input_tokens: 1_000_000 })).cost;
    expect(at(day('2025-12-31'))).toBe(parseMoney('1'));
    expect(at(day('2026-03-01'))).toBe(parseMoney('2'));
    expect(at(day('2026-09-30'))).toBe(parseMoney('3'));
    expect(at(day('2026-10-01'))).toBe(parseMoney('2'));
    expect(at(day('2026-03-01'), 'gpt-4o-2024-08-06')).toBe(parseMoney('1'));
  });

  it('applies to the provider the catalog resolves, whatever name the event used', () => {
    const b = book({
      models: [orgPrice({ provider: 'aws', model: 'anthropic.claude-*', inputPerMtok: parseMoney('7') })],
    });
    const q = b.price(
      ev({
        provider: 'aws.bedrock',
        model: 'anthropic.claude-3-5-haiku-20241022-v1:0',
        input_tokens: 1_000_000,
      }),
    );
    expect(q.cost).toBe(parseMoney('7'));
  });
});

describe('discounts', () => {
  const discount = { provider: 'anthropic', percent: parseMoney('10'), from: day('2026-09-01'), until: null };
  const e = ev({
    provider: 'anthropic',
    model: 'claude-3-5-haiku-latest',
    input_tokens: 1_000_000,
    output_tokens: 1_000_000,
  });

  it('apply to catalog prices from their date, not to the list cost', () => {
    const plain = book().price(e);
    const q = book({ discounts: [discount] }).price(e);
    expect(q.cost).toBe((plain.cost * 9n) / 10n);
    expect(q.listCost).toBe(plain.cost);
    expect(book({ discounts: [discount] }).price({ ...e, time: day('2026-08-31') }).cost).toBe(plain.cost);
  });

  it('apply to organisation prices but not to unit prices', () => {
    const b = book({
      models: [
        orgPrice({
          provider: 'anthropic',
          model: 'claude-3-5-haiku-latest',
          inputPerMtok: parseMoney('1'),
          outputPerMtok: parseMoney('1'),
        }),
      ],
      discounts: [discount],
      units: [{ operation: 'chat', tool: null, dataSource: null, perCall: parseMoney('0.5') }],
    });
    const q = b.price(e);
    expect(q.tokenCost).toBe(parseMoney('1.8'));
    expect(q.unitCost).toBe(parseMoney('0.5'));
    expect(q.cost).toBe(parseMoney('2.3'));
    expect(q.listCost).toBe(book().price(e).cost + parseMoney('0.5'));
  });

  it('never make a cost negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000_000 }).map((n) => BigInt(n) * 1_000_000n), // 0–100 % with 6 decimals
        fc.nat({ max: 10_000_000 }),
        fc.nat({ max: 10_000_000 }),
        (percent, input, output) => {
          const q = book({ discounts: [{ ...discount, percent, from: null }] }).price({
            ...e,
            input_tokens: input,
            output_tokens: output,
          });
          const plain = book().price({ ...e, input_tokens: input, output_tokens: output });
          expect(q.cost >= 0n && q.cost <= plain.cost).toBe(true);
        },
      ),
    );
  });
});

describe('unit prices', () => {
  const units = [
    { operation: 'execute_tool', tool: null, dataSource: null, perCall: parseMoney('0.001') },
    { operation: 'execute_tool', tool: 'web_search', dataSource: null, perCall: parseMoney('0.01') },
    { operation: 'retrieval', tool: null, dataSource: 'kb-main', perCall: parseMoney('0.0004') },
    { operation: 'invoke_agent', tool: null, dataSource: null, perCall: parseMoney('0.002') },
  ];
  const b = book({ units });
  const tool = (name: string | null, requests = 1) =>
    b.price(ev({ operation: 'execute_tool', model: null, provider: null, tool: name, requests }));

  it('the most specific applies, once per span, times the requests an aggregated event stands for', () => {
    expect(tool('web_search').cost).toBe(parseMoney('0.01'));
    expect(tool('calculator').cost).toBe(parseMoney('0.001'));
    expect(tool('web_search', 3).cost).toBe(parseMoney('0.03'));
    const retrieval = b.price(ev({ operation: 'retrieval', model: null, data_source: 'kb-main' }));
    expect(retrieval).toMatchObject({
      cost: parseMoney('0.0004'),
      listCost: parseMoney('0.0004'),
      priced: true,
      source: 'organisation',
    });
    expect(b.price(ev({ operation: 'retrieval', model: null, data_source: 'kb-other' }))).toMatchObject({
      cost: 0n,
      priced: true,
      source: 'none',
    });
  });

  it('orchestration spans are never priced as tokens, with or without a model', () => {
    const agent = b.price(ev({ operation: 'invoke_agent', input_tokens: 50_000, output_tokens: 9_000 }));
    expect(agent).toMatchObject({ cost: parseMoney('0.002'), tokenCost: 0n, priced: true });
    const noModel = b.price(ev({ operation: 'invoke_workflow', model: null, input_tokens: 50_000 }));
    expect(noModel).toMatchObject({ cost: 0n, priced: true, source: 'none' });
  });
});

describe('unpriced', () => {
  it('an event with tokens and no price anywhere is unpriced, never priced at zero', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^zz-[a-z0-9-]{1,20}$/),
        fc.constantFrom('openai', 'acme-gateway', null),
        fc.integer({ min: 1, max: 1_000_000 }),
        (model, provider, tokens) => {
          expect(book().price(ev({ model, provider, input_tokens: tokens })).priced).toBe(false);
        },
      ),
    );
    expect(book().price(ev({ model: null, output_tokens: 5 })).priced).toBe(false);
  });

  it('keeps the known unit price of an unpriced event', () => {
    const units = [{ operation: 'chat', tool: null, dataSource: null, perCall: parseMoney('0.25') }];
    expect(book({ units }).price(ev({ model: 'zz-unknown', input_tokens: 10 }))).toMatchObject({
      priced: false,
      cost: parseMoney('0.25'),
      tokenCost: 0n,
    });
  });

  it('an event without tokens has nothing to price', () => {
    expect(book().price(ev({ model: 'zz-unknown', operation: 'execute_tool' }))).toMatchObject({
      priced: true,
      cost: 0n,
    });
  });
});

describe('exactness', () => {
  const tokens = fc.record({
    uncached: fc.nat({ max: 5_000_000 }),
    cacheRead: fc.nat({ max: 5_000_000 }),
    cacheWrite: fc.nat({ max: 5_000_000 }),
    visible: fc.nat({ max: 5_000_000 }),
    reasoning: fc.nat({ max: 5_000_000 }),
  });
  const toEvent = (
    t: { uncached: number; cacheRead: number; cacheWrite: number; visible: number; reasoning: number },
    model: string,
    provider: string,
  ) =>
    ev({
      model,
      provider,
      input_tokens: t.uncached + t.cacheRead + t.cacheWrite,
      cache_read_tokens: t.cacheRead,
      cache_write_tokens: t.cacheWrite,
      output_tokens: t.visible + t.reasoning,
      reasoning_tokens: t.reasoning,
    });
  const rate = fc.integer({ min: 0, max: 100_000_000 }).map((n) => BigInt(n) * 1_000_000n); // up to $100/Mtok, 6 decimals

  it('pricing split usage sums to pricing it whole (organisation and untiered catalog rates)', () => {
    fc.assert(
      fc.property(tokens, tokens, rate, rate, rate, (a, b, input, output, cache) => {
        const sum = {
          uncached: a.uncached + b.uncached,
          cacheRead: a.cacheRead + b.cacheRead,
          cacheWrite: a.cacheWrite + b.cacheWrite,
          visible: a.visible + b.visible,
          reasoning: a.reasoning + b.reasoning,
        };
        const org = book({
          models: [
            orgPrice({
              inputPerMtok: input,
              outputPerMtok: output,
              cacheReadPerMtok: cache,
              reasoningPerMtok: output * 2n,
            }),
          ],
        });
        const parts =
          org.price(toEvent(a, 'gpt-4o', 'openai')).cost + org.price(toEvent(b, 'gpt-4o', 'openai')).cost;
        expect(parts).toBe(org.price(toEvent(sum, 'gpt-4o', 'openai')).cost);
        const cat = book();
        for (const [model, provider] of [
          ['gpt-4o-mini', 'openai'],
          ['claude-3-5-haiku-latest', 'anthropic'],
        ] as const) {
          const split =
            cat.price(toEvent(a, model, provider)).cost + cat.price(toEvent(b, model, provider)).cost;
          expect(split).toBe(cat.price(toEvent(sum, model, provider)).cost);
        }
      }),
    );
  });

  it('stays exact past 2^53 pico-units', () => {
    const q = book({ models: [orgPrice({ inputPerMtok: parseMoney('60.000001') })] }).price(
      ev({ input_tokens: 5_000_000_000 }),
    );
    expect(q.cost).toBe(parseMoney('300000.005'));
  });
});

describe('catalog version', () => {
  it('names the installed package version and its data', () => {
    expect(CATALOG_PACKAGE_VERSION).toBe(pkg.version);
    expect(catalogVersion).toMatch(
      new RegExp(`^${CATALOG_PACKAGE_VERSION.replaceAll('.', '\\.')}\\+sha256:[0-9a-f]{12}$`),
    );
    expect(book().catalogVersion).toBe(catalogVersion);
  });
});

describe('usage groups', () => {
  const gemini = (input: number, output: number, requests = 1) =>
    ev({ provider: 'google', model: 'gemini-2.5-pro', input_tokens: input, output_tokens: output, requests });

  it('requests on one side of every tier threshold price as a group as they do one by one', () => {
    const threshold = 200_000;
    expect(book().tierThresholds()).toContain(threshold);
    const request = fc.record({
      input: fc.integer({ min: 1, max: 400_000 }),
      output: fc.nat({ max: 50_000 }),
    });
    fc.assert(
      fc.property(fc.boolean(), fc.array(request, { minLength: 1, maxLength: 20 }), (above, requests) => {
        const b = book();
        const band = requests.map((r) => ({
          ...r,
          input: above ? threshold + r.input : 1 + (r.input % threshold),
        }));
        const oneByOne = band.reduce((sum, r) => sum + b.price(gemini(r.input, r.output)).cost, 0n);
        const total = (k: 'input' | 'output') => band.reduce((s, r) => s + r[k], 0);
        expect(b.price(gemini(total('input'), total('output'), band.length)).cost).toBe(oneByOne);
      }),
    );
  });

  it('a request is in a tier only above its start', () => {
    const b = book();
    const perToken = (input: number) => b.price(gemini(input, 0)).cost / BigInt(input);
    expect(perToken(200_000)).toBe(parseMoney('0.00000125'));
    expect(perToken(200_001)).toBe(parseMoney('0.0000025'));
  });

  it('catalog per-request fees count every request of an aggregated event', () => {
    const sonar = (requests: number) =>
      book().price(ev({ provider: 'perplexity', model: 'sonar', input_tokens: 1000, requests })).cost;
    // $1 per million input tokens and $12 per thousand requests
    expect(sonar(1)).toBe(parseMoney('0.013'));
    expect(sonar(3)).toBe(parseMoney('0.037'));
  });

  it('boundaries: organisation prices and discounts, catalog start dates, time-of-day switches within a window', () => {
    const b = book({
      models: [orgPrice({ from: day('2026-10-05'), until: day('2026-10-20') })],
      discounts: [{ provider: 'anthropic', percent: parseMoney('5'), from: day('2026-10-10'), until: null }],
    });
    const cuts = b.boundaries();
    expect(cuts).toEqual([...cuts].sort((x, y) => x - y));
    expect(cuts).toEqual(
      expect.arrayContaining([day('2026-10-05'), day('2026-10-20'), day('2026-10-10'), day('2026-03-13')]),
    );
    const window = { from: day('2026-10-01'), to: day('2026-10-02') };
    const withTimes = b.boundaries(window).filter((t) => t > window.from && t < window.to);
    expect(withTimes).toContain(Date.UTC(2026, 9, 1, 16, 30));
    expect(withTimes).toContain(Date.UTC(2026, 9, 1, 0, 30));
  });

  it('prices a time-of-day catalog price at the event time', () => {
    const b = book();
    const deepseek = (hour: number) =>
      b.price(
        ev({
          provider: 'deepseek',
          model: 'deepseek-chat',
          time: Date.UTC(2026, 9, 1, hour),
          input_tokens: 1_000_000,
        }),
      ).cost;
    expect(deepseek(12)).toBe(parseMoney('0.27'));
    expect(deepseek(20)).toBe(parseMoney('0.135'));
  });
});
