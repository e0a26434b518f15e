/**
 * The price book (SPEC §4.8): organisation prices over the bundled catalog,
 * provider discounts on top, unit prices added, all exact.
 *
 * Tokens: `input_tokens` includes cache-read and cache-write tokens and
 * `output_tokens` includes reasoning tokens, as in the catalog package. A
 * price without a cache or reasoning rate prices those tokens within input or
 * output. Catalog amounts equal `calcPrice` of `@pydantic/genai-prices` for the
 * same usage (tiers by the request's input tokens, start-date and time-of-day
 * prices), computed exactly instead of in binary floating point.
 *
 * Speed: (provider, model) is resolved once into compiled rate sets; per event
 * the work is a few multiplications of integers that stay exact as doubles,
 * falling back to bigint when a product could exceed 2^53.
 */
import {
  catalogChanges,
  catalogProvider,
  catalogVersion,
  findCatalogModel,
  type Rate,
  type RateSet,
} from './catalog.js';
import type { Config, ModelPrice, UnitPrice } from './config.js';
import { AGGREGATE_OPERATIONS, type UsageEvent } from './event.js';
import { globMatch, isGlob } from './glob.js';
import type { Money } from './money.js';
import { mulDiv, ONE } from './money.js';

export interface PriceQuote {
  /** Effective cost: after organisation prices and discounts, unit prices included. When unpriced, only the unit prices (the token part is unknown). */
  cost: Money;
  /** Catalog price before organisation prices and discounts, unit prices included; the organisation price when the catalog has none. */
  listCost: Money;
  tokenCost: Money;
  unitCost: Money;
  /** False: the event has tokens and its model has no price anywhere. Its cost is unknown, not zero. */
  priced: boolean;
  /** Where the token price came from; for events without a token price, `organisation` when a unit price applied. */
  source: 'organisation' | 'catalog' | 'none';
}

/** What a price depends on: an event's, or a group of events' summed, usage. */
export interface PricingInput
  extends Pick<
    UsageEvent,
    | 'time'
    | 'provider'
    | 'model'
    | 'operation'
    | 'input_tokens'
    | 'output_tokens'
    | 'cache_read_tokens'
    | 'cache_write_tokens'
    | 'reasoning_tokens'
    | 'requests'
    | 'tool'
    | 'data_source'
  > {
  /**
   * How many requests the input tokens are spread over when choosing a tier:
   * for a group of events, the sum of each event's requests with an event
   * that reports none (a usage-report bucket) counting as one. Defaults to
   * `requests`.
   */
  tierUnits?: number;
}

/** Rates in units of 10^-(12+d) per token (per request for `requests`), picked by the request's input tokens. */
interface Slot {
  /** `[base, tier 1, tier 2, …]`. */
  rates: number[];
  big: bigint[];
  /** Tier i+1 applies when the input tokens exceed `starts[i]`. */
  starts: number[];
}

interface Compiled {
  input: Slot | null;
  output: Slot | null;
  cacheRead: Slot | null;
  cacheWrite: Slot | null;
  reasoning: Slot | null;
  requests: Slot | null;
  /** 10^d: the rates are scaled so that every one of them is an integer. */
  scale: bigint;
  /** Every rate is a safe integer, so products can be taken as doubles. */
  safe: boolean;
}

interface Dated<T> {
  from: number;
  until: number;
  value: T;
}

interface Resolved {
  catalog: ((time: number) => RateSet) | null;
  /** The last catalog rate set seen and its compiled form: consecutive events mostly share one. */
  lastRates: RateSet | null;
  lastCompiled: Compiled | null;
  /** Exact names first, then latest `from`; the first in effect wins. */
  org: Dated<Compiled>[];
  /** Per cent in Money units. */
  discounts: Dated<Money>[];
}

const HUNDRED_PERCENT = 100n * ONE;
const PER_MTOK = 1_000_000n;
const PER_KCOUNT = 1_000n;
const NO_UNIT: UnitPrice | null = null;

export class PriceBook {
  readonly catalogVersion = catalogVersion;
  readonly #prices: Config['prices'];
  /** provider → model → resolution. */
  readonly #resolved = new Map<string | null, Map<string, Resolved>>();
  readonly #compiledCatalog = new WeakMap<RateSet, Compiled | null>();
  readonly #units = new Map<string, UnitPrice[]>();
  readonly #unitCache = new Map<string, UnitPrice | null>();

  constructor(prices: Config['prices']) {
    this.#prices = prices;
    for (const unit of prices.units) {
      const list = this.#units.get(unit.operation) ?? [];
      list.push(unit);
      this.#units.set(unit.operation, list);
    }
  }

  price(e: PricingInput): PriceQuote {
    const unit = this.#unitPrice(e);
    // Unit prices are per span: an aggregated event stands for `requests` spans.
    const unitCost = unit === null ? 0n : unit.perCall * BigInt(e.requests);
    const hasTokens =
      e.input_tokens > 0 ||
      e.output_tokens > 0 ||
      e.cache_read_tokens > 0 ||
      e.cache_write_tokens > 0 ||
      e.reasoning_tokens > 0;
    // Orchestration spans report their children's usage (priced there), and an
    // event without tokens, such as a tool call, has no token cost to find.
    if (AGGREGATE_OPERATIONS.has(e.operation) || !hasTokens) {
      return quote(unitCost, unitCost, 0n, unitCost, true, unit === null ? 'none' : 'organisation');
    }
    if (e.model === null) return quote(unitCost, unitCost, 0n, unitCost, false, 'none');

    const resolved = this.#resolve(e.provider, e.model);
    const catalog = this.#catalogAt(resolved, e.time);
    const rates = inEffect(resolved.org, e.time) ?? catalog;
    if (rates === null) return quote(unitCost, unitCost, 0n, unitCost, false, 'none');

    const scaled = evaluate(rates, e);
    const tokenCost = finish(scaled, rates.scale, inEffect(resolved.discounts, e.time));
    // The list price is the catalog's, else the organisation's, before discounts.
    const listRates = catalog ?? rates;
    const listTokens = finish(listRates === rates ? scaled : evaluate(listRates, e), listRates.scale, null);
    const source = rates === catalog ? 'catalog' : 'organisation';
    return quote(tokenCost + unitCost, listTokens + unitCost, tokenCost, unitCost, true, source);
  }

  /**
   * Instants (epoch ms) where a price changes: organisation prices and
   * discounts starting or ending, catalog prices starting. Given a window, also
   * the instants in it where a time-of-day catalog price switches (a few
   * models, several times a day: left out unless asked for, as they multiply
   * the groups of every model).
   */
  boundaries(window?: { from: number; to: number }): number[] {
    const cuts = new Set<number>(catalogChanges.dates);
    for (const d of [...this.#prices.models, ...this.#prices.discounts]) {
      if (d.from !== null) cuts.add(d.from);
      if (d.until !== null) cuts.add(d.until);
    }
    if (window) {
      const dayMs = 86_400_000;
      for (let day = Math.floor(window.from / dayMs) * dayMs; day < window.to; day += dayMs) {
        for (const sec of catalogChanges.timesOfDay) {
          const t = day + Math.round(sec * 1000);
          if (t > window.from && t < window.to) cuts.add(t);
        }
      }
    }
    return [...cuts].sort((a, b) => a - b);
  }

  /**
   * Input tokens per request where a tiered catalog price changes. A request
   * is in a tier when its input tokens exceed the tier's start, so a group of
   * requests prices exactly when all of them fall on the same side of each
   * threshold (`input <= t` or `input > t`).
   */
  tierThresholds(): number[] {
    return [...catalogChanges.tierStarts];
  }

  /** Whether a model's catalog price depends on the request's size or the time of day. */
  varies(provider: string | null, model: string | null): { tiered: boolean; timeOfDay: boolean } {
    const found = model === null ? null : findCatalogModel(provider, model);
    return { tiered: found?.tiered ?? false, timeOfDay: found?.timeOfDay ?? false };
  }

  /** Seconds after midnight UTC where a time-of-day catalog price switches. */
  timeOfDayCuts(): number[] {
    return [...catalogChanges.timesOfDay];
  }

  #catalogAt(resolved: Resolved, time: number): Compiled | null {
    if (resolved.catalog === null) return null;
    const rates = resolved.catalog(time);
    if (rates !== resolved.lastRates) {
      resolved.lastRates = rates;
      resolved.lastCompiled = this.#compile(rates);
    }
    return resolved.lastCompiled;
  }

  #resolve(provider: string | null, model: string): Resolved {
    let models = this.#resolved.get(provider);
    if (models === undefined) {
      models = new Map();
      this.#resolved.set(provider, models);
    }
    let resolved = models.get(model);
    if (resolved === undefined) {
      const found = findCatalogModel(provider, model);
      const canonical = found?.provider ?? canonicalProvider(provider ?? '');
      const name = model.toLowerCase();
      const org = this.#prices.models
        .filter(
          (p) =>
            canonicalProvider(p.provider) === canonical &&
            (isGlob(p.model) ? globMatch(p.model.toLowerCase(), name) : p.model.toLowerCase() === name),
        )
        .sort((a, b) => Number(isGlob(a.model)) - Number(isGlob(b.model)) || laterFirst(a.from, b.from))
        .map((p) => dated(p.from, p.until, compileOrg(p)));
      const discounts = this.#prices.discounts
        .filter((d) => canonicalProvider(d.provider) === canonical)
        .map((d) => dated(d.from, d.until, d.percent));
      resolved = { catalog: found?.at ?? null, lastRates: null, lastCompiled: null, org, discounts };
      models.set(model, resolved);
    }
    return resolved;
  }

  #compile(rates: RateSet): Compiled | null {
    let compiled = this.#compiledCatalog.get(rates);
    if (compiled === undefined) {
      // A catalog entry without token prices (per audio hour, per page) does not price tokens.
      compiled = rates.input === null && rates.output === null ? null : compile(rates);
      this.#compiledCatalog.set(rates, compiled);
    }
    return compiled;
  }

  /**
   * The unit price for the span: same operation, and the same tool or data
   * source where the unit price names one. The one naming the most fields
   * wins; among equals, the first in the configuration.
   */
  #unitPrice(e: PricingInput): UnitPrice | null {
    const candidates = this.#units.get(e.operation);
    if (candidates === undefined) return NO_UNIT;
    const key = `${e.operation}\0${e.tool ?? ''}\0${e.data_source ?? ''}`;
    let best = this.#unitCache.get(key);
    if (best === undefined) {
      best = null;
      let bestFields = -1;
      for (const u of candidates) {
        if (
          (u.tool !== null && u.tool !== e.tool) ||
          (u.dataSource !== null && u.dataSource !== e.data_source)
        )
          continue;
        const fields = Number(u.tool !== null) + Number(u.dataSource !== null);
        if (fields > bestFields) [best, bestFields] = [u, fields];
      }
      this.#unitCache.set(key, best);
    }
    return best;
  }
}

function quote(
  cost: Money,
  listCost: Money,
  tokenCost: Money,
  unitCost: Money,
  priced: boolean,
  source: PriceQuote['source'],
): PriceQuote {
  return { cost, listCost, tokenCost, unitCost, priced, source };
}

function canonicalProvider(name: string): string {
  return catalogProvider(name) ?? name.toLowerCase().trim();
}

function laterFirst(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

function dated<T>(from: number | null, until: number | null, value: T): Dated<T> {
  return { from: from ?? Number.NEGATIVE_INFINITY, until: until ?? Number.POSITIVE_INFINITY, value };
}

function inEffect<T>(list: Dated<T>[], time: number): T | null {
  for (const d of list) if (d.from <= time && time < d.until) return d.value;
  return null;
}

function compileOrg(p: ModelPrice): Compiled {
  const flat = (m: Money): Rate => ({ base: m, tiers: [] });
  return compile({
    input: flat(p.inputPerMtok),
    output: flat(p.outputPerMtok),
    cacheRead: flat(p.cacheReadPerMtok ?? p.inputPerMtok),
    cacheWrite: flat(p.cacheWritePerMtok ?? p.inputPerMtok),
    reasoning: flat(p.reasoningPerMtok ?? p.outputPerMtok),
    requests: null,
  });
}

function compile(r: RateSet): Compiled {
  const perToken = [r.input, r.output, r.cacheRead, r.cacheWrite, r.reasoning];
  const amounts = (rate: Rate | null) =>
    rate === null ? [] : [rate.base, ...rate.tiers.map((t) => t.price)];
  // The smallest 10^d that makes every rate per single token (or request) an integer.
  let scale = 1n;
  const fits = (s: bigint) =>
    perToken.every((rate) => amounts(rate).every((m) => (m * s) % PER_MTOK === 0n)) &&
    amounts(r.requests).every((m) => (m * s) % PER_KCOUNT === 0n);
  while (!fits(scale)) scale *= 10n;
  const slot = (rate: Rate | null, per: bigint): Slot | null => {
    if (rate === null) return null;
    const big = amounts(rate).map((m) => (m * scale) / per);
    return { big, rates: big.map(Number), starts: rate.tiers.map((t) => t.start) };
  };
  const compiled = {
    input: slot(r.input, PER_MTOK),
    output: slot(r.output, PER_MTOK),
    cacheRead: slot(r.cacheRead, PER_MTOK),
    cacheWrite: slot(r.cacheWrite, PER_MTOK),
    reasoning: slot(r.reasoning, PER_MTOK),
    requests: slot(r.requests, PER_KCOUNT),
    scale,
    safe: true,
  };
  const slots = [
    compiled.input,
    compiled.output,
    compiled.cacheRead,
    compiled.cacheWrite,
    compiled.reasoning,
    compiled.requests,
  ];
  compiled.safe = slots.every((s) => s === null || s.big.every((b) => b <= BigInt(Number.MAX_SAFE_INTEGER)));
  return compiled;
}

/**
 * Tiers go by a request's input tokens. A group of summed events (or an
 * aggregated report) is priced at the tier of its mean request, which is the
 * tier of every request in it when the group never straddles a tier start
 * (`tierThresholds`).
 */
function tier(slot: Slot, inputTokens: number, requests: number): number {
  const perRequest = requests > 1 ? inputTokens / requests : inputTokens;
  let i = 0;
  while (i < slot.starts.length && perRequest > (slot.starts[i] as number)) i++;
  return i;
}

/** The token (and per-request) cost in units of 10^-(12+d), before any discount. */
function evaluate(c: Compiled, e: PricingInput): bigint {
  const input = e.input_tokens;
  const cacheRead = c.cacheRead === null ? 0 : e.cache_read_tokens;
  const cacheWrite = c.cacheWrite === null ? 0 : e.cache_write_tokens;
  const reasoning = c.reasoning === null ? 0 : e.reasoning_tokens;
  // Inconsistent counts (more cache than input) are not priced below zero.
  const uncached = Math.max(0, input - cacheRead - cacheWrite);
  const output = Math.max(0, e.output_tokens - reasoning);
  const requests = c.requests === null ? 0 : e.requests;
  const spread = e.tierUnits ?? e.requests;
  if (c.safe) {
    // Products and sums of non-negative integers are exact as doubles up to
    // 2^53; a larger total means some term may have rounded.
    const total =
      uncached * at(c.input, input, spread) +
      output * at(c.output, input, spread) +
      cacheRead * at(c.cacheRead, input, spread) +
      cacheWrite * at(c.cacheWrite, input, spread) +
      reasoning * at(c.reasoning, input, spread) +
      requests * at(c.requests, input, spread);
    if (total <= Number.MAX_SAFE_INTEGER) return BigInt(total);
  }
  return (
    BigInt(uncached) * atBig(c.input, input, spread) +
    BigInt(output) * atBig(c.output, input, spread) +
    BigInt(cacheRead) * atBig(c.cacheRead, input, spread) +
    BigInt(cacheWrite) * atBig(c.cacheWrite, input, spread) +
    BigInt(reasoning) * atBig(c.reasoning, input, spread) +
    BigInt(requests) * atBig(c.requests, input, spread)
  );
}

function at(slot: Slot | null, inputTokens: number, requests: number): number {
  if (slot === null) return 0;
  return slot.starts.length === 0
    ? (slot.rates[0] as number)
    : (slot.rates[tier(slot, inputTokens, requests)] as number);
}

function atBig(slot: Slot | null, inputTokens: number, requests: number): bigint {
  if (slot === null) return 0n;
  return slot.big[tier(slot, inputTokens, requests)] as bigint;
}

/** Scaled amount → Money, with the discount (per cent) taken off; one rounding, at the 12th decimal. */
function finish(scaled: bigint, scale: bigint, discountPercent: Money | null): Money {
  if (discountPercent === null) return scale === 1n ? scaled : mulDiv(scaled, 1n, scale);
  return mulDiv(scaled, HUNDRED_PERCENT - discountPercent, HUNDRED_PERCENT * scale);
}
