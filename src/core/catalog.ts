/**
 * The bundled model catalog (`@pydantic/genai-prices`), read once into exact
 * prices. Provider and model resolution follow the package's own `calcPrice`
 * (provider id or `provider_match`, else the providers' `model_match`; the
 * models' `match` rules; dated model names; fallback providers), so that a
 * catalog price here is the price `calcPrice` would give. A few provider names
 * used by OpenTelemetry and LiteLLM that the package does not recognise are
 * mapped first (`ALIASES`).
 */
import { createHash } from 'node:crypto';
import type { MatchLogic, ModelInfo, ModelPrice as PackagePrice, Provider } from '@pydantic/genai-prices';
import { waitForUpdate } from '@pydantic/genai-prices';
import type { Money } from './money.js';
import { parseMoney } from './money.js';

/** Keep in step with package.json; a test checks it. */
export const CATALOG_PACKAGE = '@pydantic/genai-prices';
export const CATALOG_PACKAGE_VERSION = '0.1.8';

// Before any update is requested the package resolves this to its bundled data,
// the same array `calcPrice` reads; it exports no synchronous accessor.
const providers: readonly Provider[] = (await waitForUpdate()) ?? [];

/** Package version plus a hash of its price data, recorded in every statement. */
export const catalogVersion = `${CATALOG_PACKAGE_VERSION}+sha256:${createHash('sha256')
  .update(JSON.stringify(providers))
  .digest('hex')
  .slice(0, 12)}`;

/** OpenTelemetry (`gen_ai.provider.name`) and LiteLLM names → catalog provider ids. */
const ALIASES: Readonly<Record<string, string>> = {
  x_ai: 'x-ai',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  azure_ai: 'azure',
  'gcp.gen_ai': 'google',
  fireworks_ai: 'fireworks',
};

/** A price per million tokens (or per thousand requests), possibly tiered by a request's input tokens. */
export interface Rate {
  base: Money;
  /** Ascending by `start`; a tier applies when a request's input tokens exceed its start. */
  tiers: ReadonlyArray<{ start: number; price: Money }>;
}

/**
 * The prices that apply to the token counts tally keeps. A null cache or
 * reasoning rate means those tokens are priced within input or output.
 */
export interface RateSet {
  input: Rate | null;
  output: Rate | null;
  cacheRead: Rate | null;
  cacheWrite: Rate | null;
  reasoning: Rate | null;
  /** Per thousand requests. */
  requests: Rate | null;
  /** Richer usage (SPEC §3): a null rate means those tokens are priced within their total. */
  cacheWrite1h?: Rate | null;
  inputAudio?: Rate | null;
  outputAudio?: Rate | null;
  /** Per thousand units of server-side tool use, by tally's unit name (`web_search`). */
  units?: Readonly<Record<string, Rate>>;
}

/** tally's unit names (the canonical event's `units`) → the catalog's per-thousand price keys. */
export const CATALOG_UNIT_KEYS: Readonly<Record<string, string>> = {
  web_search: 'web_searches_kcount',
  code_execution: 'code_executions_kcount',
  file_search: 'storage_searches_kcount',
};

type Condition =
  | { kind: 'always' }
  | { kind: 'since'; at: number }
  | { kind: 'time_of_day'; startSec: number; endSec: number }
  | { kind: 'never' };

export interface CatalogModel {
  provider: string;
  model: string;
  /** The rates in effect at `time` (epoch ms): start-date and time-of-day conditions. */
  at(time: number): RateSet;
  /** Some price depends on the request's input tokens. */
  tiered: boolean;
  /** Some price depends on the time of day. */
  timeOfDay: boolean;
}

const byId = new Map(providers.map((p) => [p.id, p]));

/**
 * Where catalog prices change: start dates (epoch ms), time-of-day switches
 * (seconds after midnight UTC) and tier starts (input tokens per request).
 * Usage summed into groups must not straddle one of these to price exactly.
 */
export const catalogChanges: { dates: number[]; timesOfDay: number[]; tierStarts: number[] } = (() => {
  const dates = new Set<number>();
  const times = new Set<number>();
  const tiers = new Set<number>();
  for (const p of providers) {
    for (const m of p.models) {
      for (const entry of Array.isArray(m.prices)
        ? m.prices
        : [{ constraint: undefined, prices: m.prices }]) {
        const c = compileCondition(entry.constraint);
        if (c.kind === 'since') dates.add(c.at);
        if (c.kind === 'time_of_day') for (const sec of [c.startSec, c.endSec]) times.add(sec);
        for (const v of Object.values(entry.prices))
          if (typeof v === 'object') for (const t of v.tiers) tiers.add(t.start);
      }
    }
  }
  const sorted = (set: Set<number>) => [...set].filter(Number.isFinite).sort((a, b) => a - b);
  return { dates: sorted(dates), timesOfDay: sorted(times), tierStarts: sorted(tiers) };
})();

/** The catalog's provider id for a provider name, or null when the catalog does not know it. */
export function catalogProvider(name: string): string | null {
  return providerByName(name)?.id ?? null;
}

/**
 * The catalog entry for a model, as `calcPrice(usage, model, { providerId })`
 * would find it; null when the catalog has none.
 */
export function findCatalogModel(provider: string | null, model: string): CatalogModel | null {
  let name = model.toLowerCase().trim();
  let providerName = provider;
  if (providerName?.toLowerCase() === 'litellm' && name.includes('/')) {
    const slash = name.indexOf('/');
    const [prefix, rest] = [name.slice(0, slash), name.slice(slash + 1)];
    if (prefix && rest && providerByName(prefix)) {
      providerName = prefix;
      name = rest;
    }
  }
  let found: Provider | undefined;
  if (providerName) {
    found = providerByName(providerName);
    if (!found && providerName.toLowerCase() === 'litellm') found = providerByModel(name);
  } else {
    found = providerByModel(name);
  }
  if (!found) return null;
  const info =
    modelIn(found, name) ??
    (withDashedDates(name) !== name ? modelIn(found, withDashedDates(name)) : undefined);
  if (!info) return null;
  const entries = Array.isArray(info.prices) ? info.prices : [{ constraint: undefined, prices: info.prices }];
  return {
    provider: found.id,
    model: info.id,
    at: ratesOf(info),
    tiered: entries.some((e) =>
      Object.values(e.prices).some((v) => typeof v === 'object' && v.tiers.length > 0),
    ),
    timeOfDay: entries.some((e) => compileCondition(e.constraint).kind === 'time_of_day'),
  };
}

function providerByName(name: string): Provider | undefined {
  const key = name.toLowerCase().trim();
  const id = ALIASES[key] ?? key;
  return (
    byId.get(id) ?? providers.find((p) => p.provider_match !== undefined && matches(p.provider_match, id))
  );
}

function providerByModel(model: string): Provider | undefined {
  return providers.find((p) => p.model_match !== undefined && matches(p.model_match, model));
}

function modelIn(provider: Provider, model: string, followFallbacks = true): ModelInfo | undefined {
  const own = provider.models.find((m) => matches(m.match, model));
  if (own || !followFallbacks) return own;
  for (const id of provider.fallback_model_providers ?? []) {
    const fallback = byId.get(id);
    const info = fallback ? modelIn(fallback, model, false) : undefined;
    if (info) return info;
  }
  return undefined;
}

function matches(logic: MatchLogic, value: string): boolean {
  if ('or' in logic) return logic.or.some((l) => matches(l, value));
  if ('and' in logic) return logic.and.every((l) => matches(l, value));
  if ('equals' in logic) return value.toLowerCase() === logic.equals.toLowerCase();
  if ('starts_with' in logic) return value.toLowerCase().startsWith(logic.starts_with.toLowerCase());
  if ('ends_with' in logic) return value.toLowerCase().endsWith(logic.ends_with.toLowerCase());
  if ('contains' in logic) return value.toLowerCase().includes(logic.contains.toLowerCase());
  if ('regex' in logic) return new RegExp(logic.regex).test(value);
  return false;
}

/** `claude-x-20250514` is also tried as `claude-x-2025-05-14`, as the package does. */
function withDashedDates(model: string): string {
  return model.replace(
    /(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g,
    (whole, dash, y, m, d) => {
      const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
      return date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d)
        ? `${dash}${y}-${m}-${d}`
        : whole;
    },
  );
}

const compiled = new WeakMap<ModelInfo, (time: number) => RateSet>();

function ratesOf(info: ModelInfo): (time: number) => RateSet {
  const cached = compiled.get(info);
  if (cached) return cached;
  const entries = Array.isArray(info.prices)
    ? info.prices.map((c) => ({ condition: compileCondition(c.constraint), rates: compileRates(c.prices) }))
    : [{ condition: { kind: 'always' } as Condition, rates: compileRates(info.prices) }];
  const first = entries[0]?.rates ?? compileRates({});
  // The package scans conditional prices from the last and takes the first
  // whose condition holds, else the first entry.
  const at =
    entries.length === 1
      ? () => first
      : (time: number) => {
          for (let i = entries.length - 1; i >= 0; i--) {
            const entry = entries[i];
            if (entry && holds(entry.condition, time)) return entry.rates;
          }
          return first;
        };
  compiled.set(info, at);
  return at;
}

function compileCondition(constraint: unknown): Condition {
  if (constraint === undefined || constraint === null) return { kind: 'always' };
  const c = constraint as { start_date?: string; start_time?: string; end_time?: string };
  if (typeof c.start_date === 'string') return { kind: 'since', at: Date.parse(c.start_date) };
  if (typeof c.start_time === 'string' && typeof c.end_time === 'string') {
    return {
      kind: 'time_of_day',
      startSec: secondsOfDayUtc(c.start_time),
      endSec: secondsOfDayUtc(c.end_time),
    };
  }
  return { kind: 'never' };
}

function holds(c: Condition, time: number): boolean {
  switch (c.kind) {
    case 'always':
      return true;
    case 'since':
      return time >= c.at;
    case 'time_of_day': {
      const sec = (((time % 86_400_000) + 86_400_000) % 86_400_000) / 1000;
      return c.endSec < c.startSec
        ? sec >= c.startSec || sec < c.endSec
        : sec >= c.startSec && sec < c.endSec;
    }
    case 'never':
      return false;
  }
}

function secondsOfDayUtc(text: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return Number.NaN;
  const [, h, min, s, frac = '', zone, sign, zh = '00', zm = '00'] = m;
  const local = Number(h) * 3600 + Number(min) * 60 + Number(s) + Number(`0.${frac}`);
  const offset = zone === 'Z' ? 0 : (sign === '+' ? 1 : -1) * (Number(zh) * 3600 + Number(zm) * 60);
  return (local - offset + 86_400) % 86_400;
}

function compileRates(prices: PackagePrice): RateSet {
  return {
    input: rate(prices.input_mtok),
    output: rate(prices.output_mtok),
    cacheRead: rate(prices.cache_read_mtok),
    cacheWrite: rate(prices.cache_write_mtok),
    reasoning: rate(prices.output_reasoning_mtok),
    requests: rate(prices.requests_kcount),
    cacheWrite1h: rate(prices.cache_write_1h_mtok),
    inputAudio: rate(prices.input_audio_mtok),
    outputAudio: rate(prices.output_audio_mtok),
    units: unitRates(prices),
  };
}

function unitRates(prices: PackagePrice): Record<string, Rate> {
  const out: Record<string, Rate> = {};
  for (const [unit, key] of Object.entries(CATALOG_UNIT_KEYS)) {
    const r = rate(prices[key]);
    if (r !== null) out[unit] = r;
  }
  return out;
}

function rate(value: PackagePrice[string]): Rate | null {
  if (value === undefined) return null;
  if (typeof value === 'number') return { base: exact(value), tiers: [] };
  const tiers = [...value.tiers]
    .sort((a, b) => a.start - b.start)
    .map((t) => ({ start: t.start, price: exact(t.price) }));
  return { base: exact(value.base), tiers };
}

/**
 * The catalog's prices are JavaScript numbers; their shortest decimal text is
 * the literal the authors wrote. A few entries are computed (`0.18000000000000002`,
 * `1/12`); those are rounded to 12 decimals, the resolution of Money.
 */
function exact(n: number): Money {
  const text = String(n);
  const decimals = text.includes('e') ? Number.POSITIVE_INFINITY : (text.split('.')[1]?.length ?? 0);
  return parseMoney(decimals <= 12 ? n : n.toFixed(12));
}
