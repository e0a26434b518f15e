/**
 * What a sampling rate buys in billing precision (SPEC §11, `tally
 * sampling`): from a period's own charges, split by sampling unit (a trace,
 * or an event without one), the expected relative error of each team's and
 * tenant's cost if traces were kept with probability R, and the smallest
 * rate that keeps it within a target (docs/sampling.md).
 *
 * With traces kept independently with probability R, the Horvitz–Thompson
 * estimate of a cost Y = Σ Y_u has variance (1/R − 1)·Σ Y_u², so the 95 %
 * half-width over the cost is 1.96·√((1/R − 1)·Σ Y_u²) / Y. Where the
 * period was itself sampled, Σ w·y² over the kept units estimates Σ Y_u².
 * These are ratios for planning, not amounts: they are computed in floating
 * point from exact sums.
 */
import { maxOf } from './arrays.js';
import type { Charge } from './attribution.js';
import type { Money } from './money.js';
import { isqrt, mergeSamples, type SampleUnits } from './sampling.js';

const Z = 1.959964;

export interface PlanRow {
  level: 'team' | 'tenant';
  id: string;
  /** The cost (an estimate where the period was sampled). */
  cost: Money;
  /** Sampling units (traces, or events without a trace) behind the cost. */
  units: number;
  /** The 95 % half-width ÷ the cost at the rate asked for; null when the cost is 0. */
  expected_relative_error: number | null;
  /** The smallest rate within the target; null when the cost is 0. */
  rate_for: number | null;
}

export interface SamplingPlan {
  rate: number;
  target: number;
  rows: PlanRow[];
  /** The smallest rate that keeps every team within the target (1 when none has a cost). */
  rate_for: number;
}

/** Per team and tenant, from charges that carry their sampling units (`allUnits`). */
export function planSampling(charges: readonly Charge[], rate: number, target: number): SamplingPlan {
  if (!(rate > 0 && rate <= 1)) throw new RangeError('the rate must be in (0, 1]');
  if (!(target > 0)) throw new RangeError('the target must be above 0');
  const rows = [...byKey(charges, 'team'), ...byKey(charges, 'tenant')].map(([level, id, cost, units]) =>
    rowOf(level, id, cost, units, rate, target),
  );
  const teamRates = rows
    .filter((r) => r.level === 'team' && r.rate_for !== null)
    .map((r) => r.rate_for as number);
  return { rate, target, rows, rate_for: teamRates.length > 0 ? maxOf(teamRates) : 1 };
}

type Sums = [PlanRow['level'], string, Money, SampleUnits];

function byKey(charges: readonly Charge[], level: 'team' | 'tenant'): Sums[] {
  const sums = new Map<string, Sums>();
  for (const c of charges) {
    const id = c[level];
    if (id === null || c.pool !== null) continue;
    let s = sums.get(id);
    if (!s) {
      s = [level, id, 0n, new Map()];
      sums.set(id, s);
    }
    s[2] += c.effective_cost;
    if (c.sample) s[3] = mergeSamples(s[3], c.sample);
  }
  return [...sums.values()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

function rowOf(
  level: PlanRow['level'],
  id: string,
  cost: Money,
  units: SampleUnits,
  rate: number,
  target: number,
): PlanRow {
  // Σ w·y² estimates the population's Σ Y_u² (w = 1 where the period was not sampled).
  let squares = 0n;
  for (const { w, y } of units.values()) squares += (y * y * w.n) / w.d;
  const base = { level, id, cost, units: units.size };
  if (cost <= 0n) return { ...base, expected_relative_error: null, rate_for: null };
  const spread = Number(isqrt(squares)) / Number(cost);
  const error = Z * spread * Math.sqrt(1 / rate - 1);
  const rateFor = spread === 0 ? 0 : 1 / (1 + (target / (Z * spread)) ** 2);
  return {
    ...base,
    expected_relative_error: round6(error),
    rate_for: Math.min(1, Math.ceil(rateFor * 1e6) / 1e6),
  };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
