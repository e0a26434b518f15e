/**
 * Thresholds of the signal rules (SPEC §6), from `policy.signals` with
 * defaults. The four keys the configuration parser knows arrive camel-cased
 * (`spikeZ`, `spikeFloor`, `baselineDays`, `historyDays`); every other key is
 * read here by its YAML name, so a typo falls back to the default rather than
 * failing a run (the parser already checked that each value is a number).
 */
import { type Money, parseMoney } from '../money.js';

export interface SignalSettings {
  /** S06: robust z an hour's cost must reach against its hour-of-week baseline. */
  spikeZ: number;
  /** S06: least amount above the baseline median (an absolute floor, so tiny identities never page). */
  spikeFloor: Money;
  /** S06 and the other baselines: days of history the baseline is taken over. */
  baselineDays: number;
  /** S06, S07, S08, S10, S14: days an identity must have been seen before a rule judges it. */
  historyDays: number;
  /** S06: the spread never counts as less than this share of the median (per cent), see rules. */
  spikeSpreadPct: number;
  /** S07: a model whose output price per million tokens is at least this is premium (medium). */
  premiumOutputPerMtok: Money;
  /** S08: least events in an hour for it to count as activity. */
  offHoursMinEvents: number;
  /** S08: the hour must exceed the busiest same hour of day (±1 h) of the baseline this many times. */
  offHoursFactor: number;
  /** S08: an hour of day is quiet when its share of the identity's traffic is below this share of an even spread. */
  offHoursQuietShare: number;
  /** S09: least failed or invalid requests in an hour. */
  errorBurstMin: number;
  /** S09: least share of the hour's requests that failed. */
  errorBurstRatio: number;
  /** S09: the hour must exceed the baseline's worst hour this many times. */
  errorBurstFactor: number;
  /** S10: least distinct client addresses in one hour for "several at once". */
  addressBurstMin: number;
  /** S10: and this many times the baseline's most addresses in an hour. */
  addressBurstFactor: number;
  /** S11: least events claiming another environment. */
  environmentMinEvents: number;
  /** S14: robust z of an hour's token shape (in logs) against the identity's baseline. */
  shapeZ: number;
  /** S14: and at least this factor away from the baseline median. */
  shapeFactor: number;
  /** S14: least requests in an hour for its shape to be judged. */
  shapeMinRequests: number;
  /** S14: least judged hours in the baseline. */
  shapeMinHours: number;
  /** S13: how far (per cent of the telemetry cost) a bill may exceed telemetry. */
  reconcileTolerancePct: number;
}

const NUMBER_DEFAULTS = {
  spike_spread_pct: 25,
  off_hours_min_events: 10,
  off_hours_factor: 4,
  off_hours_quiet_share: 0.25,
  error_burst_min: 20,
  error_burst_ratio: 0.25,
  error_burst_factor: 3,
  address_burst_min: 5,
  address_burst_factor: 2,
  environment_min_events: 3,
  shape_z: 6,
  shape_factor: 3,
  shape_min_requests: 20,
  shape_min_hours: 48,
  reconcile_tolerance_pct: 2,
} as const;

const PREMIUM_OUTPUT_PER_MTOK = '30';

export function signalSettings(raw: Record<string, unknown>): SignalSettings {
  const n = (key: keyof typeof NUMBER_DEFAULTS): number => {
    const v = raw[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : NUMBER_DEFAULTS[key];
  };
  const num = (key: string, fallback: number) => {
    const v = raw[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  };
  const premium = raw.premium_output_per_mtok;
  return {
    spikeZ: num('spikeZ', 6),
    spikeFloor: typeof raw.spikeFloor === 'bigint' ? raw.spikeFloor : parseMoney('5'),
    baselineDays: Math.max(7, Math.round(num('baselineDays', 14))),
    historyDays: Math.max(0, num('historyDays', 7)),
    spikeSpreadPct: n('spike_spread_pct'),
    premiumOutputPerMtok: parseMoney(
      typeof premium === 'number' && Number.isFinite(premium) ? String(premium) : PREMIUM_OUTPUT_PER_MTOK,
    ),
    offHoursMinEvents: n('off_hours_min_events'),
    offHoursFactor: n('off_hours_factor'),
    offHoursQuietShare: n('off_hours_quiet_share'),
    errorBurstMin: n('error_burst_min'),
    errorBurstRatio: n('error_burst_ratio'),
    errorBurstFactor: n('error_burst_factor'),
    addressBurstMin: n('address_burst_min'),
    addressBurstFactor: n('address_burst_factor'),
    environmentMinEvents: n('environment_min_events'),
    shapeZ: n('shape_z'),
    shapeFactor: n('shape_factor'),
    shapeMinRequests: n('shape_min_requests'),
    shapeMinHours: n('shape_min_hours'),
    reconcileTolerancePct: n('reconcile_tolerance_pct'),
  };
}
