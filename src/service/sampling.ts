/**
 * `tally sampling` (SPEC §11): the period's charges split by sampling unit,
 * and what a sampling rate would cost each team and tenant in precision.
 */
import type { Config } from '../core/config.js';
import { planSampling, type SamplingPlan } from '../core/sampling-plan.js';
import type { Store } from '../store/store.js';
import { computeStatement } from './statement.js';

export async function computeSamplingPlan(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  rate: number,
  target: number,
): Promise<SamplingPlan> {
  const { charges } = await computeStatement(store, config, window, { allUnits: true });
  return planSampling(charges, rate, target);
}
