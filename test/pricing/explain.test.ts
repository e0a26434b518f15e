// PriceBook.explain lists the terms that PriceBook.price sums: for every
// catalog model and random usage, each component is quantity × rate exactly,
// and the components add up to the token cost the statement charges.
import { type Provider, waitForUpdate } from '@pydantic/genai-prices';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainPrice } from '../../src/core/explain-price.js';
import { mulDiv, parseMoney } from '../../src/core/money.js';
import { PriceBook, type PriceComponent, type PricingInput } from '../../src/core/pricing.js';

/** A decimal string as an integer and its number of decimals. */
function dec(s: string): [bigint, number] {
  const [whole = '0', frac = ''] = s.split('.');
  return [BigInt(whole + frac), frac.length];
}

/** amount = quantity × rate (÷ 10⁶ for a rate per million tokens), compared exactly as fractions. */
function multiplies(c: PriceComponent): boolean {
  const [a, da] = dec(c.amount);
  const [r, dr] = dec(c.rate);
  const perMillion = c.rateUnit === 'per_mtok' ? 1_000_000n : 1n;
  return a * perMillion * 10n ** BigInt(dr) === BigInt(c.quantity) * r * 10n ** BigInt(da);
}

/** Σ components at one scale, rounded once at the 12th decimal as the price book rounds. */
function rounded(components: readonly PriceComponent[]): bigint {
  const d = Math.max(0, ...components.map((c) => c.scaleDigits));
  const sum = components.reduce((a, c) => a + c.scaled * 10n ** BigInt(d - c.scaleDigits), 0n);
  return mulDiv(sum, 1n, 10n ** BigInt(d));
}

const usage = fc.record({
  uncached: fc.integer({ min: 0, max: 400_000 }),
  cacheRead: fc.integer({ min: 0, max: 200_000 }),
  cacheWrite: fc.integer({ min: 0, max: 50_000 }),
  visible: fc.integer({ min: 0, max: 20_000 }),
  reasoning: fc.integer({ min: 0, max: 20_000 }),
  audio: fc.integer({ min: 0, max: 5_000 }),
  searches: fc.integer({ min: 0, max: 5 }),
});

type Usage = typeof usage extends fc.Arbitrary<infer U> ? U : never;

function event(provider: string, model: string, u: Usage): PricingInput {
  return {
    time: Date.UTC(2026, 9, 1, 12),
    provider,
    model,
    operation: 'chat',
    requests: 1,
    tool: null,
    data_source: null,
    input_tokens: u.uncached + u.cacheRead + u.cacheWrite + u.audio,
    output_tokens: u.visible + u.reasoning,
    cache_read_tokens: u.cacheRead,
    cache_write_tokens: u.cacheWrite,
    cache_write_1h_tokens: Math.floor(u.cacheWrite / 2),
    reasoning_tokens: u.reasoning,
    input_audio_tokens: u.audio,
    units: u.searches > 0 ? { web_search: u.searches } : null,
  };
}

const providers = ((await waitForUpdate()) ?? []) as Provider[];

describe('PriceBook.explain', () => {
  const book = new PriceBook({ models: [], discounts: [], units: [] });
  const models = providers.flatMap((p) => p.models.map((m) => ({ provider: p.id, model: m.id })));

  it('for every catalog model: each component is quantity × rate, and they add up to the token cost', () => {
    let compared = 0;
    fc.assert(
      fc.property(usage, (u) => {
        for (const { provider, model } of models) {
          const e = event(provider, model, u);
          const x = book.explain(e);
          expect(x.quote).toEqual(book.price(e));
          if (!x.quote.priced || x.stop !== null) continue;
          compared++;
          for (const c of x.components) expect(multiplies(c), `${provider}/${model} ${c.part}`).toBe(true);
          expect(rounded(x.components), `${provider}/${model}`).toBe(x.quote.tokenCost);
          expect(x.components.every((c) => c.source === 'catalog')).toBe(true);
        }
      }),
      { numRuns: 4 },
    );
    expect(compared).toBeGreaterThan(1000);
  });

  it('names the organisation price and the discount, and shows the discount taken once from the sum', () => {
    const org = new PriceBook({
      models: [
        {
          provider: 'openai',
          model: 'gpt-4o-*',
          from: Date.UTC(2026, 0, 1),
          until: null,
          inputPerMtok: parseMoney('2.25'),
          outputPerMtok: parseMoney('9'),
          cacheReadPerMtok: null,
          cacheWritePerMtok: null,
          reasoningPerMtok: null,
        },
      ],
      discounts: [{ provider: 'openai', percent: parseMoney('7.5'), from: null, until: null }],
      units: [{ operation: 'chat', tool: null, dataSource: null, perCall: parseMoney('0.001') }],
      unitRates: [{ unit: 'web_search', provider: null, perUnit: parseMoney('0.01') }],
    });
    const e = event('openai', 'gpt-4o-2024-08-06', {
      uncached: 1_000,
      cacheRead: 333,
      cacheWrite: 0,
      visible: 77,
      reasoning: 0,
      audio: 0,
      searches: 3,
    });
    const json = explainPrice(org.explain(e), 'test');
    expect(json.source).toBe('organisation');
    expect(json.organisation_price).toMatchObject({ model: 'gpt-4o-*', cache_read_per_mtok: null });
    // Without a cache rate of its own, cache reads are priced at the input rate.
    expect(json.components.map((c) => [c.part, c.quantity, c.rate, c.amount])).toEqual([
      ['input', 1_000, '2.25', '0.00225'],
      ['output', 77, '9.00', '0.000693'],
      ['cache_read', 333, '2.25', '0.00074925'],
    ]);
    // 0.00369225 less 7.5 % = 0.00341533125 (exact at 12 decimals).
    expect(json.token_cost_before_discount).toBe('0.00369225');
    expect(json.discount).toMatchObject({ provider: 'openai', percent: '7.5' });
    expect(json.token_cost).toBe('0.00341533125');
    expect(json.discount_amount).toBe('0.00027691875');
    expect(json.unit_price).toMatchObject({ per_call: '0.001', calls: 1, amount: '0.001' });
    expect(json.unit_rates).toEqual([
      { unit: 'web_search', provider: null, per_unit: '0.01', count: 3, amount: '0.03' },
    ]);
    expect(json.unit_cost).toBe('0.031');
    expect(json.effective_cost).toBe('0.03441533125');
  });
});
