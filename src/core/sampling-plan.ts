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
import { isEventUnit, isOne, isqrt, type Rational } from './sampling.js';

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
  const sums = new PlanSums(rate, target);
  for (const c of charges) sums.add(c);
  return sums.plan();
}

const LEVELS = ['team', 'tenant'] as const;

/** A team's or tenant's cost, its units, and Σ w·y² over them (y: the unit's cost to it, w: its weight). */
interface Sums {
  level: PlanRow['level'];
  id: string;
  cost: Money;
  units: number;
  squares: bigint;
}

/**
 * A plan's sums, folded charge by charge (`allUnits` charges, each of one
 * sampling unit), so that a month's millions of charges are never kept. A
 * unit's cost to a team is squared once the unit is whole: an event without
 * a trace is whole in its one charge; a trace's costs are held until every
 * charge is added, so memory grows with the period's traces, not its events.
 */
export class PlanSums {
  /** Per level, each id's sums. */
  private readonly sums = { team: new Map<string, Sums>(), tenant: new Map<string, Sums>() };
  /** Per trace unit (a `SampleUnits` key): its weight and its cost to each team and tenant so far. */
  private readonly held = new Map<string, { w: Rational; y: Map<Sums, Money> }>();

  /** At sampling rate `rate`, within `target` (checked before any charge is read). */
  constructor(
    private readonly rate: number,
    private readonly target: number,
  ) {
    if (!(rate > 0 && rate <= 1)) throw new RangeError('the rate must be in (0, 1]');
    if (!(target > 0)) throw new RangeError('the target must be above 0');
  }

  add(c: Charge): void {
    if (c.pool !== null) return;
    for (const level of LEVELS) {
      const id = c[level];
      if (id === null) continue;
      const s = this.sumsOf(level, id);
      s.cost += c.effective_cost;
      for (const [unit, { w, y }] of c.sample ?? []) {
        if (isEventUnit(unit)) square(s, w, y);
        else this.hold(unit, w, s, y);
      }
    }
  }

  /** The plan, once every charge is added (asked once: it squares the traces held). */
  plan(): SamplingPlan {
    const { rate, target } = this;
    for (const { w, y } of this.held.values()) for (const [s, cost] of y) square(s, w, cost);
    this.held.clear();
    const rows = LEVELS.flatMap((level) =>
      [...this.sums[level].values()]
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((s) => rowOf(s, rate, target)),
    );
    const teamRates = rows
      .filter((r) => r.level === 'team' && r.rate_for !== null)
      .map((r) => r.rate_for as number);
    return { rate, target, rows, rate_for: teamRates.length > 0 ? maxOf(teamRates) : 1 };
  }

  private sumsOf(level: PlanRow['level'], id: string): Sums {
    const byId = this.sums[level];
    let s = byId.get(id);
    if (!s) {
      s = { level, id, cost: 0n, units: 0, squares: 0n };
      byId.set(id, s);
    }
    return s;
  }

  private hold(unit: string, w: Rational, s: Sums, y: Money): void {
    let h = this.held.get(unit);
    if (!h) {
      h = { w, y: new Map() };
      this.held.set(unit, h);
    }
    h.y.set(s, (h.y.get(s) ?? 0n) + y);
  }
}

/** A whole unit added to a team's or tenant's sums: Σ w·y² estimates the population's Σ Y_u² (w = 1 unsampled). */
function square(s: Sums, w: Rational, y: Money): void {
  s.units++;
  s.squares += isOne(w) ? y * y : (y * y * w.n) / w.d;
}

function rowOf(s: Sums, rate: number, target: number): PlanRow {
  const base = { level: s.level, id: s.id, cost: s.cost, units: s.units };
  if (s.cost <= 0n) return { ...base, expected_relative_error: null, rate_for: null };
  const spread = Number(isqrt(s.squares)) / Number(s.cost);
  const error = Z * spread * Math.sqrt(1 / rate - 1);
  const rateFor = spread === 0 ? 0 : 1 / (1 + (target / (Z * spread)) ** 2);
  return {
    ...base,
    expected_relative_error: round6(error),
    rate_for: Math.min(1, Math.ceil(rateFor * 1e6) / 1e6),
  };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
