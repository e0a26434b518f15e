import { calcPrice, type Provider, waitForUpdate } from '@pydantic/genai-prices';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/core/money.js';
import { PriceBook, type PricingInput } from '../../src/core/pricing.js';

const providers = ((await waitForUpdate()) ?? []) as Provider[];
const book = new PriceBook({ models: [], discounts: [], units: [] });

function event(provider: string, model: string, time: number, u: Usage): PricingInput {
  return { time, provider, model, operation: 'chat', requests: 1, tool: null, data_source: null, ...u };
}

interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
}

const usage = fc
  .record({
    uncached: fc.integer({ min: 0, max: 400_000 }),
    cacheRead: fc.integer({ min: 0, max: 200_000 }),
    cacheWrite: fc.integer({ min: 0, max: 50_000 }),
    visible: fc.integer({ min: 0, max: 20_000 }),
    reasoning: fc.integer({ min: 0, max: 20_000 }),
  })
  .map(
    (r): Usage => ({
      input_tokens: r.uncached + r.cacheRead + r.cacheWrite,
      output_tokens: r.visible + r.reasoning,
      cache_read_tokens: r.cacheRead,
      cache_write_tokens: r.cacheWrite,
      reasoning_tokens: r.reasoning,
    }),
  );

/** Ours is exact; calcPrice sums doubles. Equal within a pico plus double rounding. */
function same(ours: bigint, theirs: number): boolean {
  return Math.abs(Number(formatMoney(ours)) - theirs) <= 1e-12 + 1e-12 * Math.abs(theirs);
}

function reference(provider: string, model: string, time: number, u: Usage): number | null {
  try {
    const r = calcPrice(
      {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u.cache_read_tokens,
        cache_write_tokens: u.cache_write_tokens,
        output_reasoning_tokens: u.reasoning_tokens,
      },
      model,
      { providerId: provider, timestamp: new Date(time) },
    );
    return r === null ? null : r.total_price;
  } catch {
    return null; // usage the package itself rejects for this model
  }
}

describe('catalog prices equal calcPrice', () => {
  const models = providers.flatMap((p) => p.models.map((m) => ({ provider: p.id, model: m.id })));

  it('for every catalog model, at several times, with cache and reasoning tokens', () => {
    const times = [Date.UTC(2024, 5, 1, 3), Date.UTC(2026, 9, 1, 12), Date.UTC(2026, 9, 1, 20, 45)];
    let compared = 0;
    const mismatches: string[] = [];
    fc.assert(
      fc.property(usage, (u) => {
        for (const { provider, model } of models) {
          for (const time of times) {
            const theirs = reference(provider, model, time, u);
            if (theirs === null) continue;
            const q = book.price(event(provider, model, time, u));
            if (!q.priced) {
              if (theirs !== 0) mismatches.push(`${provider}/${model}: unpriced, calcPrice ${theirs}`);
              continue;
            }
            compared++;
            if (!same(q.cost, theirs))
              mismatches.push(
                `${provider}/${model} ${JSON.stringify(u)}: ${formatMoney(q.cost)} vs ${theirs}`,
              );
          }
        }
      }),
      { numRuns: 8 },
    );
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(compared).toBeGreaterThan(5000);
  });

  it('resolves provider names as calcPrice does, plus OpenTelemetry aliases', () => {
    const u: Usage = {
      input_tokens: 1000,
      output_tokens: 500,
      cache_read_tokens: 200,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
    };
    const t = Date.UTC(2026, 9, 1);
    for (const [provider, model] of [
      ['aws.bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
      ['gcp.vertex_ai', 'gemini-2.5-flash'],
      ['litellm', 'anthropic/claude-sonnet-4-20250514'],
      ['anthropic', 'claude-sonnet-4-20250514'],
    ] as const) {
      const theirs = reference(provider, model, t, u);
      expect(theirs, `${provider}/${model}`).not.toBeNull();
      expect(same(book.price(event(provider, model, t, u)).cost, theirs as number)).toBe(true);
    }
    const viaAlias = book.price(event('x_ai', 'grok-3', t, u));
    expect(viaAlias.priced).toBe(true);
    expect(same(viaAlias.cost, reference('x-ai', 'grok-3', t, u) as number)).toBe(true);
  });
});
