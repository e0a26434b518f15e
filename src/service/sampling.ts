/**
 * `tally sampling` (SPEC §11): the period's charges split by sampling unit,
 * and what a sampling rate would cost each team and tenant in precision.
 */
import { MAX_SAMPLING_UNITS } from '../core/bounds.js';
import type { Config } from '../core/config.js';
import { LimitError } from '../core/errors.js';
import { planSampling, type SamplingPlan } from '../core/sampling-plan.js';
import type { Store } from '../store/store.js';
import { computeStatement } from './statement.js';

export async function computeSamplingPlan(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  rate: number,
  target: number,
  maxUnits = MAX_SAMPLING_UNITS,
): Promise<SamplingPlan> {
  const units = await store.samplingUnits({ from: window.start, to: window.end });
  if (units > maxUnits)
    throw new LimitError(
      `sampling: the period holds ${units} sampling units (traces, and events without a trace); a plan holds each in memory and may hold at most ${maxUnits}`,
    );
  const { charges } = await computeStatement(store, config, window, { allUnits: true });
  return planSampling(charges, rate, target);
}
