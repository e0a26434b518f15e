/**
 * Control totals from provider usage reports (SPEC §11, `tally statement
 * --control-totals usage`): where a usage report and telemetry cover the same
 * provider, model and identity, the report's cost is the total and the
 * telemetry (sampled or not) only splits it over teams and tenants. The
 * report's own charges are then left out, so the spend is counted once.
 * Usage reported with no telemetry beside it stays as it is.
 */
import type { Charge } from './attribution.js';
import { allocateLargestRemainder, type Money, mulDiv } from './money.js';
import type { SampleUnits } from './sampling.js';

const keyOf = (c: Charge) => `${c.provider ?? ''}\u0000${c.model ?? ''}\u0000${c.identity ?? ''}`;

export function applyControlTotals(charges: readonly Charge[]): Charge[] {
  const reports = new Map<string, Money>();
  const telemetry = new Map<string, Charge[]>();
  for (const c of charges) {
    if (c.pool !== null) continue;
    if (c.fromReport) reports.set(keyOf(c), (reports.get(keyOf(c)) ?? 0n) + c.effective_cost);
    else telemetry.set(keyOf(c), [...(telemetry.get(keyOf(c)) ?? []), c]);
  }
  const controlled = new Set<string>();
  const out = new Map<Charge, Charge>();
  for (const [key, total] of reports) {
    const covered = telemetry.get(key) ?? [];
    const weights = covered.map((c) => (c.effective_cost > 0n ? c.effective_cost : 0n));
    if (!weights.some((w) => w > 0n)) continue;
    controlled.add(key);
    const shares = allocateLargestRemainder(total, weights, 1n);
    covered.forEach((c, i) => {
      out.set(c, scaled(c, shares[i] ?? 0n));
    });
  }
  return charges.filter((c) => !(c.fromReport && controlled.has(keyOf(c)))).map((c) => out.get(c) ?? c);
}

/** A charge whose effective cost the control total fixes at `to`; its other amounts and sample follow. */
function scaled(c: Charge, to: Money): Charge {
  const from = c.effective_cost;
  const by = (m: Money) => (from === 0n ? 0n : mulDiv(m, to, from));
  const next: Charge = {
    ...c,
    direct_cost: to,
    effective_cost: to,
    list_cost: by(c.list_cost),
    billed_cost: c.billed_cost === from ? to : by(c.billed_cost),
  };
  if (c.sample) {
    // The interval keeps its relative width: conservative, since the total is now known.
    const sample: SampleUnits = new Map();
    for (const [k, u] of c.sample) sample.set(k, { w: u.w, y: by(u.y) });
    next.sample = sample;
  }
  return next;
}
