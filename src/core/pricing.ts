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

import { isAggregate } from './ai-work.js';
import {
  catalogChanges,
  catalogProvider,
  catalogVersion,
  findCatalogModel,
  type Rate,
  type RateSet,
} from './catalog.js';
import type { Config, Discount, ModelPrice, UnitPrice, UnitRate } from './config.js';
import type { Units, UsageEvent } from './event.js';
import { isGlob, modelMatches } from './glob.js';
import type { Money } from './money.js';
import { formatScaled, mulDiv, ONE } from './money.js';
import { tierUnitsOf } from './usage.js';

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
  /**
   * Parts of the usage without a price of their own (SPEC §3): one-hour cache
   * writes priced at the cache-write rate, audio at the text rate, units with
   * no price at all (left out of the cost). Absent when there are none.
   */
  fallbacks?: PriceFallback[];
}

export interface PriceFallback {
  /** `cache_write_1h`, `input_audio`, `output_audio`, or `unit:<name>`. */
  part: string;
  /** Tokens (or units) priced by the fallback. */
  quantity: number;
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
    | 'cache_write_1h_tokens'
    | 'input_audio_tokens'
    | 'output_audio_tokens'
    | 'units'
  > {
  /**
   * How many requests the input tokens are spread over when choosing a tier:
   * for a group of events, the sum of each event's requests with an event
   * that reports none (a usage-report bucket) counting as one. Defaults to
   * `requests`.
   */
  tierUnits?: number;
  /** A wrapper (core/ai-work.ts): its usage is an aggregate of the events below it. */
  wrapper?: boolean;
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
  cacheWrite1h: Slot | null;
  inputAudio: Slot | null;
  outputAudio: Slot | null;
  /** Per single unit, by unit name. */
  units: ReadonlyMap<string, Slot>;
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
  /** The catalog's name of the model and its provider, when the catalog has it. */
  catalogModel: { provider: string; model: string } | null;
  /** The last catalog rate set seen and its compiled form: consecutive events mostly share one. */
  lastRates: RateSet | null;
  lastCompiled: Compiled | null;
  /** Exact names first, then latest `from`; the first in effect wins. */
  org: Dated<OrgRates>[];
  discounts: Dated<Discount>[];
}

/** An organisation model price and its compiled rates. */
interface OrgRates {
  price: ModelPrice;
  rates: Compiled;
}

/** What `#decide` found for one event or group; `price` and `explain` both read it. */
interface Decision {
  unit: UnitPrice | null;
  aggregate: boolean;
  unitCost: Money;
  unitSource: 'organisation' | 'none';
  hasTokens: boolean;
  /** Units without an organisation per-unit price. */
  rest: Units | null;
  /** Why no rates price the tokens (null when `rates` is set). */
  stop: PriceStop | null;
  catalogModel: { provider: string; model: string } | null;
  catalog: Compiled | null;
  org: OrgRates | null;
  /** The organisation's rates in effect, else the catalog's. */
  rates: Compiled | null;
  /** Units priced by `rates`, and those left to the catalog's. */
  own: Units | null;
  toCatalog: Units | null;
  discount: Discount | null;
}

/**
 * Why an event's tokens have no rates: `no_usage` — nothing to price by the
 * token (an orchestration span's aggregate, a tool call); `no_model`; or
 * `no_price` — the model has no price anywhere.
 */
export type PriceStop = 'no_usage' | 'no_model' | 'no_price';

export type RateSource = 'organisation' | 'catalog';

/** One priced part of the usage: quantity × rate = amount, exact. */
export interface PriceComponent {
  /** `input` (not cached), `output` (not reasoning), `cache_read`, `cache_write`, `reasoning`, `requests`, `cache_write_1h`, `input_audio`, `output_audio`, `unit:<name>`. */
  part: string;
  quantity: number;
  /** Per million tokens, or per request / unit for `requests` and `unit:…`; exact decimal. */
  rate: string;
  rateUnit: 'per_mtok' | 'per_unit';
  /** The tier applied (0: the base price), by the request's input tokens. */
  tier: number;
  /** quantity × rate before any discount, exact decimal (may have more than 12 decimals). */
  amount: string;
  /** The same amount in units of 10^-(12+scaleDigits). */
  scaled: bigint;
  scaleDigits: number;
  source: RateSource;
}

export interface PriceExplanation {
  quote: PriceQuote;
  stop: PriceStop | null;
  catalogModel: { provider: string; model: string } | null;
  organisationPrice: ModelPrice | null;
  discount: Discount | null;
  components: PriceComponent[];
  /** The per-call unit price that applied (operation, tool or data source) and the calls it counted. */
  unitPrice: { price: UnitPrice; calls: number } | null;
  /** Units priced by the organisation per unit. */
  unitRates: Array<{ unit: string; count: number; rate: UnitRate }>;
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
  /** Per-unit prices (`{unit, per_unit}`) by unit name. */
  readonly #unitRates = new Map<string, UnitRate[]>();

  constructor(prices: Config['prices']) {
    this.#prices = prices;
    for (const unit of prices.units) {
      const list = this.#units.get(unit.operation) ?? [];
      list.push(unit);
      this.#units.set(unit.operation, list);
    }
    for (const rate of prices.unitRates ?? []) {
      const list = this.#unitRates.get(rate.unit) ?? [];
      list.push(rate);
      this.#unitRates.set(rate.unit, list);
    }
  }

  price(e: PricingInput): PriceQuote {
    const d = this.#decide(e);
    const { unitCost, unitSource, rates, catalog } = d;
    if (rates === null) {
      const unitsOnly = quote(unitCost, unitCost, 0n, unitCost, true, unitSource);
      if (d.stop === 'no_usage') return unitsOnly;
      // Units that no organisation price covers and no model rate can price: listed, not priced.
      return d.hasTokens
        ? quote(unitCost, unitCost, 0n, unitCost, false, 'none')
        : withFallbacks(unitFallbacks(d.rest, null), unitsOnly);
    }
    const discount = d.discount?.percent ?? null;
    const scaled = evaluate(rates, e, d.own);
    const tokenCost =
      finish(scaled, rates.scale, discount) +
      (d.toCatalog === null || catalog === null
        ? 0n
        : finish(evaluate(catalog, NO_USAGE, d.toCatalog), catalog.scale, discount));
    // The list price is the catalog's, else the organisation's, before discounts.
    const listRates = catalog ?? rates;
    const listTokens = finish(
      listRates === rates ? scaled : evaluate(listRates, e, d.rest),
      listRates.scale,
      null,
    );
    const source = rates === catalog ? 'catalog' : 'organisation';
    const q = quote(tokenCost + unitCost, listTokens + unitCost, tokenCost, unitCost, true, source);
    const unpricedUnits = unitFallbacks(d.own, rates).filter((f) => !catalog?.units.has(f.part.slice(5)));
    return withFallbacks([...partFallbacks(rates, e), ...unpricedUnits], q);
  }

  /**
   * Every price component of one event or group, with where its rate came
   * from: what `price` sums, shown part by part (`tally explain`).
   */
  explain(e: PricingInput): PriceExplanation {
    const d = this.#decide(e);
    const org = d.org?.price ?? null;
    const parts = (c: Compiled | null, input: PricingInput, units: Units | null, from: RateSource) =>
      c === null ? [] : terms(c, input, units).map((t) => component(t, c, input, from));
    const ownSource: RateSource = d.rates !== null && d.rates === d.catalog ? 'catalog' : 'organisation';
    const components = [
      ...parts(d.rates, e, d.own, ownSource),
      ...(d.toCatalog === null ? [] : parts(d.catalog, NO_USAGE, d.toCatalog, 'catalog')),
    ].filter((c) => c.quantity > 0);
    // Aggregated spans carry no units of their own (their children's are priced there).
    const unitRates = Object.entries(d.aggregate ? {} : (e.units ?? {})).flatMap(([unit, count]) => {
      const rate = count > 0 ? this.#unitRate(unit, e.provider) : null;
      return rate === null ? [] : [{ unit, count, rate }];
    });
    return {
      quote: this.price(e),
      stop: d.rates === null ? d.stop : null,
      catalogModel: d.catalogModel,
      organisationPrice: org,
      discount: d.discount,
      components,
      unitPrice: d.unit === null ? null : { price: d.unit, calls: e.requests },
      unitRates,
    };
  }

  /**
   * The decisions behind a price: the unit price, the units priced by the
   * organisation per unit, and the rates for the tokens (the organisation's
   * model price in effect, else the catalog's) with the discount in effect.
   */
  #decide(e: PricingInput): Decision {
    const unit = this.#unitPrice(e);
    // Unit prices are per span: an aggregated event stands for `requests` spans.
    const aggregate = isAggregate(e.operation, e.wrapper);
    const units = aggregate ? null : this.#splitUnits(e);
    const unitCost = (unit === null ? 0n : unit.perCall * BigInt(e.requests)) + (units?.orgCost ?? 0n);
    const unitSource = unit === null && units?.orgCost === undefined ? 'none' : 'organisation';
    const hasTokens =
      e.input_tokens > 0 ||
      e.output_tokens > 0 ||
      e.cache_read_tokens > 0 ||
      e.cache_write_tokens > 0 ||
      e.reasoning_tokens > 0;
    const rest = units?.rest ?? null;
    const d: Decision = {
      unit,
      aggregate,
      unitCost,
      unitSource,
      hasTokens,
      rest,
      stop: null,
      catalogModel: null,
      catalog: null,
      org: null,
      rates: null,
      own: rest,
      toCatalog: null,
      discount: null,
    };
    // Orchestration spans report their children's usage (priced there), and an
    // event without tokens, such as a tool call, has no token cost to find.
    if (aggregate || (!hasTokens && rest === null)) {
      d.stop = 'no_usage';
      return d;
    }
    if (e.model === null) {
      d.stop = 'no_model';
      return d;
    }
    const resolved = this.#resolve(e.provider, e.model);
    d.catalogModel = resolved.catalogModel;
    d.catalog = this.#catalogAt(resolved, e.time);
    d.org = inEffect(resolved.org, e.time);
    d.rates = d.org?.rates ?? d.catalog;
    if (d.rates === null) {
      d.stop = 'no_price';
      return d;
    }
    // An organisation model price without a unit's rate leaves that unit to the catalog's rate.
    [d.own, d.toCatalog] =
      d.rates === d.catalog || d.catalog === null ? [rest, null] : splitByRates(rest, d.rates, d.catalog);
    d.discount = inEffect(resolved.discounts, e.time);
    return d;
  }

  /**
   * The event's units: those with an organisation per-unit price are priced
   * here (`orgCost`, no discount, like other unit prices); the rest are left
   * for the model's catalog rates.
   */
  #splitUnits(e: PricingInput): { orgCost?: Money; rest: Record<string, number> | null } | null {
    if (!e.units) return null;
    let orgCost: Money | undefined;
    let rest: Record<string, number> | null = null;
    for (const [name, n] of Object.entries(e.units)) {
      if (!(n > 0)) continue;
      const rate = this.#unitRate(name, e.provider);
      if (rate === null) {
        rest ??= {};
        rest[name] = n;
      } else orgCost = (orgCost ?? 0n) + rate.perUnit * BigInt(n);
    }
    return orgCost === undefined ? { rest } : { orgCost, rest };
  }

  /** The organisation's per-unit price: one for the event's provider over one for any provider. */
  #unitRate(unit: string, provider: string | null): UnitRate | null {
    const list = this.#unitRates.get(unit);
    if (list === undefined) return null;
    const canonical = provider === null ? null : canonicalProvider(provider);
    return (
      list.find(
        (r) => r.provider !== null && canonical !== null && canonicalProvider(r.provider) === canonical,
      ) ??
      list.find((r) => r.provider === null) ??
      null
    );
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
        .filter((p) => canonicalProvider(p.provider) === canonical && modelMatches(p.model, name))
        .sort((a, b) => Number(isGlob(a.model)) - Number(isGlob(b.model)) || laterFirst(a.from, b.from))
        .map((p) => dated(p.from, p.until, { price: p, rates: compileOrg(p) }));
      const discounts = this.#prices.discounts
        .filter((d) => canonicalProvider(d.provider) === canonical)
        .map((d) => dated(d.from, d.until, d));
      resolved = {
        catalog: found?.at ?? null,
        catalogModel: found ? { provider: found.provider, model: found.model } : null,
        lastRates: null,
        lastCompiled: null,
        org,
        discounts,
      };
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

/** A pricing input with every count zero (no model, no time). */
export const NO_USAGE: Readonly<PricingInput> = {
  time: 0,
  provider: null,
  model: null,
  operation: 'chat',
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  requests: 0,
  tool: null,
  data_source: null,
};

/** Units the rates price, and those left to the catalog's rates (null when none). */
function splitByRates(rest: Units | null, rates: Compiled, catalog: Compiled): [Units | null, Units | null] {
  if (rest === null) return [null, null];
  const own: Record<string, number> = {};
  const other: Record<string, number> = {};
  for (const [name, n] of Object.entries(rest)) {
    if (!rates.units.has(name) && catalog.units.has(name)) other[name] = n;
    else own[name] = n;
  }
  const orNull = (u: Record<string, number>) => (Object.keys(u).length > 0 ? u : null);
  return [orNull(own), orNull(other)];
}

/** Parts priced at a more general rate because the rates have none of their own. */
function partFallbacks(c: Compiled, e: PricingInput): PriceFallback[] {
  const out: PriceFallback[] = [];
  const write1h = Math.min(e.cache_write_1h_tokens ?? 0, e.cache_write_tokens);
  if (write1h > 0 && (c.cacheWrite1h === null || c.cacheWrite === null))
    out.push({ part: 'cache_write_1h', quantity: write1h });
  if ((e.input_audio_tokens ?? 0) > 0 && c.inputAudio === null)
    out.push({ part: 'input_audio', quantity: e.input_audio_tokens ?? 0 });
  if ((e.output_audio_tokens ?? 0) > 0 && c.outputAudio === null)
    out.push({ part: 'output_audio', quantity: e.output_audio_tokens ?? 0 });
  return out;
}

/** Units that neither the organisation nor the rates price: left out of the cost, and said so. */
function unitFallbacks(rest: Units | null, c: Compiled | null): PriceFallback[] {
  if (rest === null) return [];
  return Object.entries(rest)
    .filter(([name]) => c === null || !c.units.has(name))
    .map(([name, n]) => ({ part: `unit:${name}`, quantity: n }));
}

function withFallbacks(fallbacks: PriceFallback[], q: PriceQuote): PriceQuote {
  if (fallbacks.length > 0) q.fallbacks = fallbacks;
  return q;
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
  const opt = (m: Money | null | undefined): Rate | null => (m === null || m === undefined ? null : flat(m));
  return compile({
    input: flat(p.inputPerMtok),
    output: flat(p.outputPerMtok),
    cacheRead: flat(p.cacheReadPerMtok ?? p.inputPerMtok),
    cacheWrite: flat(p.cacheWritePerMtok ?? p.inputPerMtok),
    reasoning: flat(p.reasoningPerMtok ?? p.outputPerMtok),
    requests: null,
    // Without a rate of their own these parts are priced within their total (SPEC §3).
    cacheWrite1h: opt(p.cacheWrite1hPerMtok),
    inputAudio: opt(p.inputAudioPerMtok),
    outputAudio: opt(p.outputAudioPerMtok),
  });
}

function compile(r: RateSet): Compiled {
  const perToken = [
    r.input,
    r.output,
    r.cacheRead,
    r.cacheWrite,
    r.reasoning,
    r.cacheWrite1h ?? null,
    r.inputAudio ?? null,
    r.outputAudio ?? null,
  ];
  const perKilo = [r.requests, ...Object.values(r.units ?? {})];
  const amounts = (rate: Rate | null) =>
    rate === null ? [] : [rate.base, ...rate.tiers.map((t) => t.price)];
  // The smallest 10^d that makes every rate per single token (or request) an integer.
  let scale = 1n;
  const fits = (s: bigint) =>
    perToken.every((rate) => amounts(rate).every((m) => (m * s) % PER_MTOK === 0n)) &&
    perKilo.every((rate) => amounts(rate).every((m) => (m * s) % PER_KCOUNT === 0n));
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
    cacheWrite1h: slot(r.cacheWrite1h ?? null, PER_MTOK),
    inputAudio: slot(r.inputAudio ?? null, PER_MTOK),
    outputAudio: slot(r.outputAudio ?? null, PER_MTOK),
    units: new Map(
      Object.entries(r.units ?? {}).map(([name, rate]) => [name, slot(rate, PER_KCOUNT) as Slot]),
    ),
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
    compiled.cacheWrite1h,
    compiled.inputAudio,
    compiled.outputAudio,
    ...compiled.units.values(),
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

/**
 * The token (and per-request, per-unit) cost in units of 10^-(12+d), before
 * any discount. Each part is priced at its own rate where the rates have
 * one, else within its total: one-hour cache writes within cache writes,
 * audio within input or output (SPEC §3). `units`: the units left to the
 * rates (those without an organisation per-unit price).
 */
function evaluate(c: Compiled, e: PricingInput, units: Units | null): bigint {
  const input = e.input_tokens;
  const spread = e.tierUnits ?? tierUnitsOf(e);
  const all = terms(c, e, units);
  if (c.safe) {
    // Products and sums of non-negative integers are exact as doubles up to
    // 2^53; a larger total means some term may have rounded.
    let total = 0;
    for (const [, n, slot] of all) total += n * at(slot, input, spread);
    if (total <= Number.MAX_SAFE_INTEGER) return BigInt(total);
  }
  let big = 0n;
  for (const [, n, slot] of all) big += BigInt(n) * atBig(slot, input, spread);
  return big;
}

type Term = [part: string, quantity: number, slot: Slot | null];

/**
 * The parts of the usage and the rate of each: each part is priced at its
 * own rate where the rates have one, else within its total: one-hour cache
 * writes within cache writes, audio within input or output (SPEC §3).
 */
function terms(c: Compiled, e: PricingInput, units: Units | null): Term[] {
  const input = e.input_tokens;
  const cacheRead = c.cacheRead === null ? 0 : e.cache_read_tokens;
  const cacheWrite = c.cacheWrite === null ? 0 : e.cache_write_tokens;
  const write1h =
    cacheWrite === 0 || c.cacheWrite1h === null ? 0 : Math.min(e.cache_write_1h_tokens ?? 0, cacheWrite);
  const reasoning = c.reasoning === null ? 0 : e.reasoning_tokens;
  // Audio input may be cached too (OpenAI counts it in both): the audio that
  // does not fit beside the cache is taken as cached, at the cache-read rate.
  const notCached = Math.max(0, input - cacheRead - cacheWrite);
  const inAudio = c.inputAudio === null ? 0 : Math.min(e.input_audio_tokens ?? 0, notCached);
  const outAudio = c.outputAudio === null ? 0 : (e.output_audio_tokens ?? 0);
  // Inconsistent counts (more cache than input) are not priced below zero.
  const uncached = notCached - inAudio;
  const output = Math.max(0, e.output_tokens - reasoning - outAudio);
  const requests = c.requests === null ? 0 : e.requests;
  const out: Term[] = [
    ['input', uncached, c.input],
    ['output', output, c.output],
    ['cache_read', cacheRead, c.cacheRead],
    ['cache_write', cacheWrite - write1h, c.cacheWrite],
    ['reasoning', reasoning, c.reasoning],
    ['requests', requests, c.requests],
  ];
  if (write1h > 0) out.push(['cache_write_1h', write1h, c.cacheWrite1h]);
  if (inAudio > 0) out.push(['input_audio', inAudio, c.inputAudio]);
  if (outAudio > 0) out.push(['output_audio', outAudio, c.outputAudio]);
  if (units !== null)
    for (const [name, n] of Object.entries(units)) out.push([`unit:${name}`, n, c.units.get(name) ?? null]);
  return out;
}

/** One term as shown: its rate per million tokens (or per unit) and its amount before discounts, exact. */
function component(
  [part, quantity, slot]: Term,
  c: Compiled,
  e: PricingInput,
  source: RateSource,
): PriceComponent {
  const t = slot === null ? 0 : tier(slot, e.input_tokens, e.tierUnits ?? tierUnitsOf(e));
  const perOne = slot === null ? 0n : (slot.big[t] as bigint);
  const perToken = part !== 'requests' && !part.startsWith('unit:');
  const scaleDigits = c.scale.toString().length - 1;
  const scaled = BigInt(quantity) * perOne;
  return {
    part,
    quantity,
    rate: perToken ? formatScaled(perOne * PER_MTOK, scaleDigits) : formatScaled(perOne, scaleDigits),
    rateUnit: perToken ? 'per_mtok' : 'per_unit',
    tier: t,
    amount: formatScaled(scaled, scaleDigits),
    scaled,
    scaleDigits,
    source,
  };
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
