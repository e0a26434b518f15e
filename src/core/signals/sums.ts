/**
 * The signal facts (facts.ts) computed from hourly sums. The store scans
 * the events once and sums them per selector tuple, provider, model, client
 * address, claimed environment, operation, tool, data source and hour
 * (`SignalSum`); everything that is a rule happens here: which identity a
 * tuple is, what an hour costs (unit-price precedence, the token-cost
 * formula), the dense hourly series with its baselines (S06 hour of week,
 * S08 hour of day, S09/S10 recent maxima, S14 daily medians of the token
 * shape), and the all-time profile of models, networks (IPv4 /16, IPv6 /48)
 * and claims.
 *
 * The PostgreSQL store uses it. The DuckDB store computes the same facts in
 * SQL (src/store/duckdb/signals-sql.ts): a 10M-event month has about 6.7M
 * such sums, too many to cross into JavaScript within the signals' time
 * bound. Both pass the same signal tests.
 *
 * Hours are priced with whole pico-units per token (exact for any price with
 * up to six decimals per million tokens) and the price book's base rates:
 * close enough to judge a threshold, never used for a statement amount.
 */
import { maxOf } from '../arrays.js';
import type { Selector } from '../config.js';
import type { Money } from '../money.js';
import type { SelectorTuple } from '../usage.js';
import type {
  AddressHour,
  ClaimUse,
  ErrorHour,
  ModelUse,
  NetworkUse,
  OffHoursHour,
  RateRow,
  ShapeHour,
  SignalFacts,
  SignalQuery,
  SpikeHour,
  UnitRate,
} from './facts.js';
import { median } from './stats.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The events of one selector tuple, provider, model, client address, environment, operation, tool, data source and hour. */
export interface SignalSum {
  tuple: SelectorTuple;
  provider: string | null;
  model: string | null;
  client_address: string | null;
  environment: string | null;
  operation: string;
  tool: string | null;
  data_source: string | null;
  /** Wrappers (core/ai-work.ts): their usage is an aggregate, whatever their operation. */
  wrapper?: boolean;
  /** Start of the hour, epoch ms. */
  hour: number;
  events: number;
  requests: number;
  /** Requests of the events that used input tokens (failed calls carry none). */
  tokenRequests: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  /** Failed or invalid requests (see `PROBE_ERRORS`). */
  probes: number;
  firstSeen: number;
  lastSeen: number;
  /** The id of the earliest event. */
  firstId: string | null;
}

/** What the store sums: the events before `end`, and which failed requests count as probes. */
export interface SignalSumsQuery {
  end: number;
  /** A regular expression (lower case) over `error_type` that both engines read alike; a NULL type counts. */
  probeErrors: string;
  /** Only the events some of these selectors match (SignalQuery.match). */
  match?: Selector[];
}

/** The network of a client address: IPv4 /16, IPv6 /48, else the address as given. */
export function networkOf(address: string): string {
  const v4 = /^(\d+\.\d+)\.\d+\.\d+$/.exec(address);
  if (v4) return `${v4[1]}.0.0/16`;
  if (address.includes(':')) return `${address.toLowerCase().split(':').slice(0, 3).join(':')}::/48`;
  return address;
}

/** The per-call price of an operation: the first unit rate that matches (most specific first). */
export function unitPrice(
  units: readonly UnitRate[],
  s: Pick<SignalSum, 'operation' | 'tool' | 'data_source'>,
): Money {
  for (const u of units) {
    if (u.operation !== s.operation) continue;
    if (u.tool !== null && u.tool !== s.tool) continue;
    if (u.dataSource !== null && u.dataSource !== s.data_source) continue;
    return u.perCall;
  }
  return 0n;
}

/** Money per million tokens → pico-units per token. */
const perToken = (m: Money) => m / 1_000_000n;

/** The token cost at base rates: uncached input, cache reads and writes, output without reasoning, reasoning. */
export function tokenCost(
  r: RateRow,
  s: Pick<SignalSum, 'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'reasoning'>,
): Money {
  const uncached = BigInt(Math.max(0, s.input - s.cacheRead - s.cacheWrite));
  const output = BigInt(Math.max(0, s.output - s.reasoning));
  return (
    uncached * perToken(r.input) +
    BigInt(s.cacheRead) * perToken(r.cacheRead) +
    BigInt(s.cacheWrite) * perToken(r.cacheWrite) +
    output * perToken(r.output) +
    BigInt(s.reasoning) * perToken(r.reasoning)
  );
}

/** A sum mapped to its identity and priced. */
interface Fine {
  ident: string;
  s: SignalSum;
  aggregate: boolean;
  cost: Money;
}

/** One hour of one identity, summed over its sums. */
interface Hour {
  events: number;
  requests: number;
  treq: number;
  tin: number;
  tout: number;
  cost: Money;
  probes: number;
  addresses: Set<string>;
  first: number;
  last: number;
  firstId: string | null;
}

/** One profile key of one hour: (identity, service, provider, model, client address, environment). */
interface Use {
  ident: string;
  service: string | null;
  provider: string | null;
  model: string | null;
  client_address: string | null;
  environment: string | null;
  hour: number;
  events: number;
  cost: Money;
  first: number;
  last: number;
  firstId: string | null;
}

const pairKey = (p: string | null, m: string | null) => `${p ?? '\u001e'}\u0000${m ?? '\u001e'}`;
const keyOf = (values: ReadonlyArray<string | number | null>) =>
  values.map((v) => (v === null ? '\u001e' : String(v))).join('\u0000');
const tupleKeyOf = (t: SelectorTuple) => keyOf([t.api_key, t.service, t.agent, t.project]);

function priced(sums: readonly SignalSum[], q: SignalQuery): Fine[] {
  const tuples = new Map<string, SelectorTuple>();
  for (const s of sums) tuples.set(tupleKeyOf(s.tuple), s.tuple);
  const ident = new Map(q.identify([...tuples.values()]).map((x) => [tupleKeyOf(x.tuple), x.identity]));
  const historyH = floorHour(q.historyStart);
  const pairs = new Map<string, { provider: string | null; model: string | null }>();
  for (const s of sums)
    if (s.hour >= historyH) pairs.set(pairKey(s.provider, s.model), { provider: s.provider, model: s.model });
  const rates = new Map<string, RateRow[]>();
  for (const r of q.price([...pairs.values()])) {
    const k = pairKey(r.provider, r.model);
    rates.set(k, [...(rates.get(k) ?? []), r]);
  }
  const aggregates = new Set(q.aggregateOperations);
  const out: Fine[] = [];
  for (const s of sums) {
    const id = ident.get(tupleKeyOf(s.tuple));
    if (id === undefined) continue;
    const aggregate = aggregates.has(s.operation) || s.wrapper === true;
    const rate = rates.get(pairKey(s.provider, s.model))?.find((r) => s.hour >= r.from && s.hour < r.until);
    const tokens = aggregate || !rate ? 0n : tokenCost(rate, s);
    out.push({ ident: id, s, aggregate, cost: unitPrice(q.units, s) * BigInt(s.requests) + tokens });
  }
  return out;
}

const floorHour = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;

/** Keeps the earlier of two (time, id) firsts. */
function earlier<T extends { first: number; firstId: string | null }>(
  into: T,
  first: number,
  id: string | null,
) {
  if (first < into.first) {
    into.first = first;
    into.firstId = id;
  }
}

function hoursOf(fine: readonly Fine[], q: SignalQuery): Map<string, Map<number, Hour>> {
  const historyH = floorHour(q.historyStart);
  const out = new Map<string, Map<number, Hour>>();
  for (const { ident, s, aggregate, cost } of fine) {
    if (s.hour < historyH) continue;
    let byHour = out.get(ident);
    if (!byHour) {
      byHour = new Map();
      out.set(ident, byHour);
    }
    let h = byHour.get(s.hour);
    if (!h) {
      h = {
        events: 0,
        requests: 0,
        treq: 0,
        tin: 0,
        tout: 0,
        cost: 0n,
        probes: 0,
        addresses: new Set(),
        first: s.firstSeen,
        last: s.lastSeen,
        firstId: s.firstId,
      };
      byHour.set(s.hour, h);
    }
    h.events += s.events;
    h.requests += s.requests;
    if (!aggregate) {
      h.treq += s.tokenRequests;
      h.tin += s.input;
      h.tout += s.output;
    }
    h.cost += cost;
    h.probes += s.probes;
    if (s.client_address !== null) h.addresses.add(s.client_address);
    earlier(h, s.firstSeen, s.firstId);
    h.last = Math.max(h.last, s.lastSeen);
  }
  return out;
}

/** The sums per profile key and hour (the operations of one hour merged). */
function usesOf(fine: readonly Fine[]): Use[] {
  const out = new Map<string, Use>();
  for (const { ident, s, cost } of fine) {
    const k = keyOf([ident, s.tuple.service, s.provider, s.model, s.client_address, s.environment, s.hour]);
    const u = out.get(k);
    if (!u) {
      out.set(k, {
        ident,
        service: s.tuple.service,
        provider: s.provider,
        model: s.model,
        client_address: s.client_address,
        environment: s.environment,
        hour: s.hour,
        events: s.events,
        cost,
        first: s.firstSeen,
        last: s.lastSeen,
        firstId: s.firstId,
      });
      continue;
    }
    u.events += s.events;
    u.cost += cost;
    earlier(u, s.firstSeen, s.firstId);
    u.last = Math.max(u.last, s.lastSeen);
  }
  return [...out.values()];
}

/** A profile row: a profile key over all time, with what it did in the window. */
interface Profile {
  ident: string;
  service: string | null;
  provider: string | null;
  model: string | null;
  client_address: string | null;
  environment: string | null;
  firstEver: number;
  events: number;
  firstW: number | null;
  lastW: number | null;
  /** The window's first ids of each hour, with their times. */
  ids: Array<{ t: number; id: string }>;
  cost: Money;
}

function profilesOf(uses: readonly Use[], q: SignalQuery): Profile[] {
  const startH = floorHour(q.start);
  const out = new Map<string, Profile>();
  for (const u of uses) {
    const k = keyOf([u.ident, u.service, u.provider, u.model, u.client_address, u.environment]);
    let p = out.get(k);
    if (!p) {
      p = { ...u, firstEver: u.first, events: 0, firstW: null, lastW: null, ids: [], cost: 0n };
      out.set(k, p);
    }
    p.firstEver = Math.min(p.firstEver, u.first);
    if (u.hour < startH) continue;
    p.events += u.events;
    p.cost += u.cost;
    p.firstW = p.firstW === null ? u.first : Math.min(p.firstW, u.first);
    p.lastW = p.lastW === null ? u.last : Math.max(p.lastW, u.last);
    if (u.firstId !== null) p.ids.push({ t: u.first, id: u.firstId });
  }
  for (const p of out.values()) p.ids = p.ids.sort((a, b) => a.t - b.t).slice(0, 3);
  return [...out.values()];
}

/** The median of numbers; of an even count, the mean of the middle two; null when there are none. */
function medianOf(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The median absolute deviation; null when there are no values. */
function madOf(values: readonly number[]): number | null {
  const m = medianOf(values);
  return m === null ? null : medianOf(values.map((v) => Math.abs(v - m)));
}

const present = <T>(xs: ReadonlyArray<T | null>): T[] => xs.filter((x): x is T => x !== null);

/** The rows of one identity's dense hourly series that lie in the window and had events. */
interface SeriesRow {
  h: number;
  hour: Hour;
  lags: Money[];
  monthCost: Money;
  monthEvents: number;
  hodEvents: number;
  hodMax: number;
  baseEvents: number;
  baseProbes: number;
  baseAddrs: number;
  lr: number | null;
  ls: number | null;
  lrMed: number | null;
  lrMad: number | null;
  lrN: number;
  lsMed: number | null;
  lsMad: number | null;
  lsN: number;
}

const EMPTY: Hour = {
  events: 0,
  requests: 0,
  treq: 0,
  tin: 0,
  tout: 0,
  cost: 0n,
  probes: 0,
  addresses: new Set(),
  first: 0,
  last: 0,
  firstId: null,
};

/** sums[i] = the sum of values[0 .. i − 1]. */
function prefixSums(values: readonly number[]): number[] {
  const out = [0];
  for (const v of values) out.push((out.at(-1) as number) + v);
  return out;
}

/** out[i] = the largest of values[i − w .. i − 1] (0 when there are none), in one pass. */
function trailingMax(values: readonly number[], w: number): number[] {
  const out: number[] = [];
  const window: number[] = [];
  let head = 0;
  for (let i = 0; i < values.length; i++) {
    while (head < window.length && (window[head] as number) < i - w) head++;
    out.push(head < window.length ? (values[window[head] as number] as number) : 0);
    const v = values[i] as number;
    while (window.length > head && (values[window.at(-1) as number] as number) <= v) window.pop();
    window.push(i);
  }
  return out;
}

const maxM = (a: Money, b: Money) => (a > b ? a : b);

/** The rolling figures of a dense series that the rows' baselines look back over. */
interface Rolling {
  events: number[];
  /** sumBefore[i]: the events of hours 0 .. i − 1. */
  sumBefore: number[];
  baseProbes: number[];
  baseAddrs: number[];
  /** The largest cost and events of the five hours around each hour; the events of the three around it and their largest. */
  c5: Money[];
  e5: number[];
  s3: number[];
  m3: number[];
}

function rolling(grid: readonly Hour[], baseH: number): Rolling {
  const n = grid.length;
  const events = grid.map((x) => x.events);
  const sumBefore = prefixSums(events);
  const near = (i: number, r: number) => [Math.max(0, i - r), Math.min(n - 1, i + r)] as const;
  const c5 = grid.map((_, i) => {
    const [a, b] = near(i, 2);
    let m = 0n;
    for (let j = a; j <= b; j++) m = maxM(m, (grid[j] as Hour).cost);
    return m;
  });
  return {
    events,
    sumBefore,
    baseProbes: trailingMax(
      grid.map((x) => x.probes),
      baseH,
    ),
    baseAddrs: trailingMax(
      grid.map((x) => x.addresses.size),
      baseH,
    ),
    c5,
    e5: grid.map((_, i) => maxOf(events.slice(near(i, 2)[0], near(i, 2)[1] + 1))),
    s3: grid.map((_, i) => sumBefore[near(i, 1)[1] + 1]! - sumBefore[near(i, 1)[0]]!),
    m3: grid.map((_, i) => maxOf(events.slice(near(i, 1)[0], near(i, 1)[1] + 1))),
  };
}

/** The token shape of each hour (S14): log output/input and log input per request, where judged. */
function shapeOf(grid: readonly Hour[], hasRow: readonly boolean[], q: SignalQuery) {
  const minReq = Math.max(1, q.prefilter.shapeMinRequests);
  return grid.map((x, i) => ({
    lr: hasRow[i] && x.treq >= minReq && x.tin > 0 && x.tout > 0 ? Math.log(x.tout / x.tin) : null,
    ls: hasRow[i] && x.treq >= minReq && x.tin > 0 ? Math.log(x.tin / x.treq) : null,
  }));
}

/**
 * The dense hourly series of one identity from its first hour (or the
 * history start) to the window end, with the baselines of each hour.
 */
function series(hours: Map<number, Hour>, firstEver: number, q: SignalQuery): SeriesRow[] {
  const from = Math.max(floorHour(q.historyStart), floorHour(firstEver));
  const end = Math.ceil(q.end / HOUR_MS) * HOUR_MS;
  const grid: Hour[] = [];
  const hasRow: boolean[] = [];
  for (let h = from; h < end; h += HOUR_MS) {
    hasRow.push(hours.has(h));
    grid.push(hours.get(h) ?? EMPTY);
  }
  const shape = shapeOf(grid, hasRow, q);
  const days = dailyShape(from, shape);
  const dayBase = new Map<number, ReturnType<typeof shapeBaseline>>();
  for (const d of days.keys()) dayBase.set(d, shapeBaseline(days, d, q.baselineDays));
  const r = rolling(grid, q.baselineDays * 24);
  const startH = floorHour(q.start);
  const out: SeriesRow[] = [];
  for (let i = 0; i < grid.length; i++) {
    const h = from + i * HOUR_MS;
    if (h < startH || (grid[i] as Hour).events === 0) continue;
    const b = dayBase.get(Math.floor(h / DAY_MS));
    out.push({
      ...seriesRow(grid, r, i, q),
      h,
      lr: shape[i]?.lr ?? null,
      ls: shape[i]?.ls ?? null,
      lrMed: b?.lr.med ?? null,
      lrMad: b?.lr.mad ?? null,
      lrN: b?.lr.n ?? 0,
      lsMed: b?.ls.med ?? null,
      lsMad: b?.ls.mad ?? null,
      lsN: b?.ls.n ?? 0,
    });
  }
  return out;
}

/** Hour i's figures against its baselines: the same hour of earlier weeks and days, and the hours before it. */
function seriesRow(
  grid: readonly Hour[],
  r: Rolling,
  i: number,
  q: SignalQuery,
): Omit<SeriesRow, 'h' | 'lr' | 'ls' | 'lrMed' | 'lrMad' | 'lrN' | 'lsMed' | 'lsMad' | 'lsN'> {
  const lags: Money[] = [];
  for (let k = 1; k <= q.baselineWeeks; k++)
    for (const j of [-1, 0, 1]) if (i - (k * 168 + j) >= 0) lags.push((grid[i - (k * 168 + j)] as Hour).cost);
  // The same hour of earlier days: 27 to 34 days ago (last month), and the baseline days before this one.
  let monthCost = 0n;
  let monthEvents = 0;
  for (let k = 27; k <= 34 && i - 24 * k >= 0; k++) {
    monthCost = maxM(monthCost, r.c5[i - 24 * k] as Money);
    monthEvents = Math.max(monthEvents, r.e5[i - 24 * k] as number);
  }
  let hodEvents = 0;
  let hodMax = 0;
  for (let k = 1; k <= q.baselineDays && i - 24 * k >= 0; k++) {
    hodEvents += r.s3[i - 24 * k] as number;
    hodMax = Math.max(hodMax, r.m3[i - 24 * k] as number);
  }
  const baseH = q.baselineDays * 24;
  return {
    hour: grid[i] as Hour,
    lags,
    monthCost,
    monthEvents,
    hodEvents,
    hodMax,
    baseEvents: (r.sumBefore[i] as number) - (r.sumBefore[Math.max(0, i - baseH)] as number),
    baseProbes: r.baseProbes[i] as number,
    baseAddrs: r.baseAddrs[i] as number,
  };
}

interface DayShape {
  lr: { med: number | null; mad: number | null; n: number };
  ls: { med: number | null; mad: number | null; n: number };
}

/** Each day's median and spread of its judged hours (S14). */
function dailyShape(from: number, shape: ReadonlyArray<{ lr: number | null; ls: number | null }>) {
  const byDay = new Map<number, { lr: number[]; ls: number[] }>();
  shape.forEach((x, i) => {
    const d = Math.floor((from + i * HOUR_MS) / DAY_MS);
    let day = byDay.get(d);
    if (!day) {
      day = { lr: [], ls: [] };
      byDay.set(d, day);
    }
    if (x.lr !== null) day.lr.push(x.lr);
    if (x.ls !== null) day.ls.push(x.ls);
  });
  const out = new Map<number, DayShape>();
  for (const [d, v] of byDay)
    out.set(d, {
      lr: { med: medianOf(v.lr), mad: madOf(v.lr), n: v.lr.length },
      ls: { med: medianOf(v.ls), mad: madOf(v.ls), n: v.ls.length },
    });
  return out;
}

/**
 * S14's baseline of a day: over the baseline days before it, the median of
 * the daily medians and the larger of the typical daily spread and the
 * spread between days.
 */
function shapeBaseline(days: Map<number, DayShape>, d: number, baselineDays: number) {
  const before: DayShape[] = [];
  for (let k = d - baselineDays; k < d; k++) {
    const day = days.get(k);
    if (day) before.push(day);
  }
  const of = (pick: (x: DayShape) => DayShape['lr']) => {
    const meds = present(before.map((x) => pick(x).med));
    const spread = present([medianOf(present(before.map((x) => pick(x).mad))), madOf(meds)]);
    return {
      med: medianOf(meds),
      mad: spread.length === 0 ? null : maxOf(spread),
      n: before.reduce((s, x) => s + pick(x).n, 0),
    };
  };
  return { lr: of((x) => x.lr), ls: of((x) => x.ls) };
}

function hourBase(identity: string, r: SeriesRow) {
  return {
    identity,
    hour: r.h,
    events: r.hour.events,
    cost: r.hour.cost,
    firstSeen: r.hour.first,
    lastSeen: r.hour.last,
    eventId: r.hour.firstId,
  };
}

/** Whether some rule could flag an hour of the identity in the window (the rest cannot produce a finding). */
function candidate(hours: Map<number, Hour>, q: SignalQuery): boolean {
  const p = q.prefilter;
  const startH = floorHour(q.start);
  const minReq = Math.max(1, p.shapeMinRequests);
  for (const [h, x] of hours)
    if (
      h >= startH &&
      (x.cost >= p.spikeFloor ||
        x.events >= p.offHoursMinEvents ||
        x.probes >= p.errorBurstMin ||
        x.addresses.size >= p.addressBurstMin ||
        x.treq >= minReq)
    )
      return true;
  return false;
}

interface UseGroup {
  identity: string;
  firstEver: number;
  events: number;
  cost: Money;
  firstSeen: number | null;
  lastSeen: number | null;
  eventIds: string[];
  rows: Profile[];
}

function groupUses(
  profiles: readonly Profile[],
  key: (p: Profile) => ReadonlyArray<string | null>,
): UseGroup[] {
  const out = new Map<string, UseGroup>();
  for (const p of profiles) {
    const k = keyOf([p.ident, ...key(p)]);
    let g = out.get(k);
    if (!g) {
      g = {
        identity: p.ident,
        firstEver: p.firstEver,
        events: 0,
        cost: 0n,
        firstSeen: null,
        lastSeen: null,
        eventIds: [],
        rows: [],
      };
      out.set(k, g);
    }
    g.firstEver = Math.min(g.firstEver, p.firstEver);
    g.events += p.events;
    g.cost += p.cost;
    if (p.firstW !== null) g.firstSeen = g.firstSeen === null ? p.firstW : Math.min(g.firstSeen, p.firstW);
    if (p.lastW !== null) g.lastSeen = g.lastSeen === null ? p.lastW : Math.max(g.lastSeen, p.lastW);
    g.rows.push(p);
  }
  for (const g of out.values())
    g.eventIds = g.rows
      .flatMap((r) => r.ids)
      .sort((a, b) => a.t - b.t)
      .slice(0, 5)
      .map((x) => x.id);
  return [...out.values()];
}

const useBase = (g: UseGroup) => ({
  identity: g.identity,
  firstEver: g.firstEver,
  events: g.events,
  cost: g.cost,
  firstSeen: g.firstSeen,
  lastSeen: g.lastSeen,
  eventIds: g.eventIds,
});

/** The facts of the signal rules, from the store's hourly sums. */
export function signalFacts(sums: readonly SignalSum[], q: SignalQuery): SignalFacts {
  const fine = priced(sums, q);
  const hours = hoursOf(fine, q);
  const profiles = profilesOf(usesOf(fine), q);
  const firstEver = new Map<string, number>();
  for (const p of profiles)
    firstEver.set(p.ident, Math.min(firstEver.get(p.ident) ?? p.firstEver, p.firstEver));

  const facts: SignalFacts = {
    firstSeen: [...firstEver].map(([identity, time]) => ({ identity, time })),
    spikes: [],
    offHours: [],
    errors: [],
    addresses: [],
    shapes: [],
    ...profileFacts(profiles, q),
  };
  for (const [ident, byHour] of hours) {
    if (!candidate(byHour, q)) continue;
    for (const r of series(byHour, firstEver.get(ident) ?? 0, q)) addHourFacts(facts, ident, r, q);
  }
  return facts;
}

/** The facts of one hour of an identity's series that some hourly rule (S06, S08–S11, S14) could flag. */
function addHourFacts(facts: SignalFacts, ident: string, r: SeriesRow, q: SignalQuery): void {
  const p = q.prefilter;
  const base = hourBase(ident, r);
  if (r.hour.cost - median(r.lags) >= p.spikeFloor - 1n)
    facts.spikes.push({ ...base, baseline: r.lags, monthAgoMax: r.monthCost } satisfies SpikeHour);
  if (r.hour.events >= p.offHoursMinEvents && r.hour.events > r.hodMax)
    facts.offHours.push({
      ...base,
      recentMax: r.hodMax,
      hourOfDayEvents: r.hodEvents,
      baselineEvents: r.baseEvents,
      monthAgoMax: r.monthEvents,
    } satisfies OffHoursHour);
  if (r.hour.probes >= p.errorBurstMin)
    facts.errors.push({ ...base, errors: r.hour.probes, baselineMax: r.baseProbes } satisfies ErrorHour);
  if (r.hour.addresses.size >= p.addressBurstMin)
    facts.addresses.push({
      ...base,
      addresses: r.hour.addresses.size,
      baselineMax: r.baseAddrs,
    } satisfies AddressHour);
  const far = (x: number | null, m: number | null) =>
    x !== null && m !== null && Math.abs(x - m) >= p.shapeMinLogDistance;
  if (far(r.lr, r.lrMed) || far(r.ls, r.lsMed))
    facts.shapes.push({
      ...base,
      requests: r.hour.treq,
      ratio: r.lr,
      ratioMedian: r.lrMed,
      ratioMad: r.lrMad,
      ratioHours: r.lrN,
      size: r.ls,
      sizeMedian: r.lsMed,
      sizeMad: r.lsMad,
      sizeHours: r.lsN,
    } satisfies ShapeHour);
}

/** The all-time profile's facts (S07 models, S11 networks, claims): its rows grouped by what each rule compares. */
function profileFacts(
  profiles: readonly Profile[],
  q: SignalQuery,
): Pick<SignalFacts, 'models' | 'networks' | 'claims'> {
  const models = groupUses(profiles, (x) => [x.provider, x.model]).map(
    (g) =>
      ({
        ...useBase(g),
        provider: g.rows[0]?.provider ?? null,
        model: g.rows[0]?.model ?? null,
      }) satisfies ModelUse,
  );
  const withAddress = profiles.filter((x) => x.client_address !== null);
  const networks = groupUses(withAddress, (x) => [networkOf(x.client_address ?? '')])
    .filter((g) => g.firstEver >= q.start && g.events > 0)
    .map(
      (g) =>
        ({
          ...useBase(g),
          network: networkOf(g.rows[0]?.client_address ?? ''),
          addresses: [...new Set(g.rows.filter((r) => r.events > 0).map((r) => r.client_address ?? ''))]
            .sort()
            .slice(0, 5),
        }) satisfies NetworkUse,
    );
  const claims = groupUses(
    profiles.filter((x) => x.events > 0),
    (x) => [x.environment, x.service],
  ).map(
    (g) =>
      ({
        ...useBase(g),
        environment: g.rows[0]?.environment ?? null,
        service: g.rows[0]?.service ?? null,
      }) satisfies ClaimUse,
  );
  return { models, networks, claims };
}
