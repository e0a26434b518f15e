/**
 * The price half of `tally explain`: a price book's explanation of one
 * event (PriceBook.explain) as JSON, with the sums that tie the components
 * to the event's cost: Σ quantity × rate = token cost before the discount;
 * less the discount = token cost; plus unit prices = effective cost.
 */
import { maxOf } from './arrays.js';
import type { ModelPrice } from './config.js';
import { formatMoney, formatScaled, type Money } from './money.js';
import type { PriceExplanation } from './pricing.js';
import { iso } from './statement.js';

export interface PriceJson {
  priced: boolean;
  /** Where the token rates came from. */
  source: 'organisation' | 'catalog' | 'none';
  /** Why no rates priced tokens: no_usage, no_model or no_price (null when rates did). */
  stop: string | null;
  catalog_version: string;
  catalog_model: { provider: string; model: string } | null;
  organisation_price: Record<string, string | null> | null;
  discount: { provider: string; percent: string; from: string | null; until: string | null } | null;
  components: Array<{
    part: string;
    quantity: number;
    rate: string;
    rate_unit: 'per_mtok' | 'per_unit';
    tier: number;
    amount: string;
    source: 'organisation' | 'catalog';
  }>;
  token_cost_before_discount: string;
  discount_amount: string;
  token_cost: string;
  unit_price: {
    operation: string;
    tool: string | null;
    data_source: string | null;
    per_call: string;
    calls: number;
    amount: string;
  } | null;
  unit_rates: Array<{
    unit: string;
    provider: string | null;
    per_unit: string;
    count: number;
    amount: string;
  }>;
  unit_cost: string;
  /** null when unpriced: the cost is unknown, not 0. */
  effective_cost: string | null;
  list_cost: string | null;
  fallbacks: Array<{ part: string; quantity: number }>;
}

export function explainPrice(p: PriceExplanation, catalogVersion: string): PriceJson {
  const q = p.quote;
  const digits = maxOf([0, ...p.components.map((c) => c.scaleDigits)]);
  const before = p.components.reduce((a, c) => a + c.scaled * 10n ** BigInt(digits - c.scaleDigits), 0n);
  const discountAmount = before - q.tokenCost * 10n ** BigInt(digits);
  return {
    priced: q.priced,
    source: q.source,
    stop: p.stop,
    catalog_version: catalogVersion,
    catalog_model: p.catalogModel,
    organisation_price: p.organisationPrice ? modelPriceJson(p.organisationPrice) : null,
    discount: p.discount
      ? {
          provider: p.discount.provider,
          percent: formatMoney(p.discount.percent, 0),
          from: time(p.discount.from),
          until: time(p.discount.until),
        }
      : null,
    components: p.components.map((c) => ({
      part: c.part,
      quantity: c.quantity,
      rate: c.rate,
      rate_unit: c.rateUnit,
      tier: c.tier,
      amount: c.amount,
      source: c.source,
    })),
    token_cost_before_discount: formatScaled(before, digits),
    discount_amount: formatScaled(discountAmount, digits),
    token_cost: formatMoney(q.tokenCost),
    unit_price: p.unitPrice
      ? {
          operation: p.unitPrice.price.operation,
          tool: p.unitPrice.price.tool,
          data_source: p.unitPrice.price.dataSource,
          per_call: formatMoney(p.unitPrice.price.perCall),
          calls: p.unitPrice.calls,
          amount: formatMoney(p.unitPrice.price.perCall * BigInt(p.unitPrice.calls)),
        }
      : null,
    unit_rates: p.unitRates.map((u) => ({
      unit: u.unit,
      provider: u.rate.provider,
      per_unit: formatMoney(u.rate.perUnit),
      count: u.count,
      amount: formatMoney(u.rate.perUnit * BigInt(u.count)),
    })),
    unit_cost: formatMoney(q.unitCost),
    effective_cost: q.priced ? formatMoney(q.cost) : null,
    list_cost: q.priced ? formatMoney(q.listCost) : null,
    fallbacks: q.fallbacks ?? [],
  };
}

function modelPriceJson(p: ModelPrice): Record<string, string | null> {
  const m = (v: Money | null | undefined) => (v === null || v === undefined ? null : formatMoney(v));
  return {
    provider: p.provider,
    model: p.model,
    from: time(p.from),
    until: time(p.until),
    input_per_mtok: m(p.inputPerMtok),
    output_per_mtok: m(p.outputPerMtok),
    cache_read_per_mtok: m(p.cacheReadPerMtok),
    cache_write_per_mtok: m(p.cacheWritePerMtok),
    reasoning_per_mtok: m(p.reasoningPerMtok),
  };
}

function time(v: number | null): string | null {
  return v === null ? null : iso(v);
}
