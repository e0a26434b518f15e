/**
 * The facts of the signal rules: per identity and hour, per identity and
 * model, per identity and client network. The DuckDB store aggregates them
 * in SQL; core/signals/sums.ts computes them from hourly sums for the
 * PostgreSQL store. Every verdict is taken by the pure rules over these facts.
 */
import type { Selector } from '../config.js';
import type { Money } from '../money.js';
import type { SelectorTuple } from '../usage.js';

/**
 * Per-token rates of one (provider, model) while they are in effect, in Money
 * per million tokens, discounts applied. Signal thresholds price hours with
 * these: tiered and time-of-day prices are taken at their base rate and
 * per-request catalog fees are left out, which is close enough to judge a
 * spike. Statement amounts never use them.
 */
export interface RateRow {
  provider: string | null;
  model: string | null;
  from: number;
  until: number;
  input: Money;
  output: Money;
  cacheRead: Money;
  cacheWrite: Money;
  reasoning: Money;
}

export interface UnitRate {
  operation: string;
  tool: string | null;
  dataSource: string | null;
  perCall: Money;
}

export interface SignalQuery {
  /** The window judged, [start, end), whole hours. */
  start: number;
  end: number;
  /** Where the hourly history begins (the baseline and the month-ago comparison need it). */
  historyStart: number;
  /** Weeks of the hour-of-week baseline (S06) and days of the rolling baselines (S08, S09, S10, S14). */
  baselineWeeks: number;
  baselineDays: number;
  /**
   * Given every selector tuple of the events, the identity of each that
   * resolves to one registered identity (the store scans the events once and
   * asks; resolution stays in core).
   */
  identify(tuples: SelectorTuple[]): Array<{ tuple: SelectorTuple; identity: string }>;
  /**
   * Only the events some of these selectors match (core/selectors.ts), when
   * the caller needs the facts of a few identities: every event of an
   * identity matches one of its selectors, so theirs are complete. Absent:
   * every event.
   */
  match?: Selector[];
  /** Given the (provider, model) pairs of the history, their rates. */
  price(pairs: Array<{ provider: string | null; model: string | null }>): RateRow[];
  /** Most specific first, as the price book picks them. */
  units: UnitRate[];
  aggregateOperations: string[];
  /** A regular expression (lower case) over `error_type`: what counts as a failed or invalid request (S09). */
  probeErrors: string;
  /** Loose pre-filters so that only candidate hours leave the database; the rules decide. */
  prefilter: {
    spikeFloor: Money;
    offHoursMinEvents: number;
    errorBurstMin: number;
    addressBurstMin: number;
    shapeMinRequests: number;
    shapeMinLogDistance: number;
  };
}

interface HourBase {
  identity: string;
  /** Start of the hour, epoch ms. */
  hour: number;
  events: number;
  cost: Money;
  firstSeen: number;
  lastSeen: number;
  /** The earliest event of the hour. */
  eventId: string | null;
}

/** S06: an hour's cost and the same hour of week (±1 h) in each baseline week. */
export interface SpikeHour extends HourBase {
  baseline: Money[];
  /** The highest hourly cost 27–34 days earlier at the same time of day (±2 h): last month's pattern. */
  monthAgoMax: Money;
}

/** S08: an hour's events against the identity's usual hours. */
export interface OffHoursHour extends HourBase {
  /** Most events in one hour at this time of day (±1 h) over the baseline days. */
  recentMax: number;
  /** Events at this time of day (±1 h) over the baseline days. */
  hourOfDayEvents: number;
  /** All events over the baseline days. */
  baselineEvents: number;
  /** Most events in one hour 27–34 days earlier at this time of day (±2 h). */
  monthAgoMax: number;
}

/** S09: failed or invalid requests in an hour. */
export interface ErrorHour extends HourBase {
  errors: number;
  /** The most such errors in one hour over the baseline days. */
  baselineMax: number;
}

/** S10: distinct client addresses in an hour. */
export interface AddressHour extends HourBase {
  addresses: number;
  baselineMax: number;
}

/** S14: the token shape of an hour against the identity's baseline hours (natural logs). */
export interface ShapeHour extends HourBase {
  requests: number;
  /** ln(output / input), null when not judged. */
  ratio: number | null;
  ratioMedian: number | null;
  ratioMad: number | null;
  ratioHours: number;
  /** ln(input tokens per request). */
  size: number | null;
  sizeMedian: number | null;
  sizeMad: number | null;
  sizeHours: number;
}

interface UseBase {
  identity: string;
  /** First time ever (before the window end). */
  firstEver: number;
  /** Within the window. */
  events: number;
  cost: Money;
  firstSeen: number | null;
  lastSeen: number | null;
  eventIds: string[];
}

/** S07: one (provider, model) as the events name it. */
export interface ModelUse extends UseBase {
  provider: string | null;
  model: string | null;
}

/** S10: one client network (IPv4 /16, IPv6 /48, else the address as given). */
export interface NetworkUse extends UseBase {
  network: string;
  addresses: string[];
}

/** S11: the environment and service an identity's events claimed. */
export interface ClaimUse extends UseBase {
  environment: string | null;
  service: string | null;
}

export interface SignalFacts {
  /** The first event of each identity (ever, before the window end). */
  firstSeen: Array<{ identity: string; time: number }>;
  spikes: SpikeHour[];
  offHours: OffHoursHour[];
  errors: ErrorHour[];
  addresses: AddressHour[];
  shapes: ShapeHour[];
  models: ModelUse[];
  networks: NetworkUse[];
  claims: ClaimUse[];
}

/** Which events back a finding from the statement (S01–S05, S12): first and last seen, a few ids. */
export interface EvidenceFilter {
  key: string;
  tuples: SelectorTuple[];
  from: number;
  to: number;
  /** Only these models / tenant claims; empty or absent: any. */
  models?: string[];
  tenants?: string[];
}

export interface EvidenceSample {
  key: string;
  firstSeen: number;
  lastSeen: number;
  events: number;
  eventIds: string[];
}
