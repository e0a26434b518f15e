/**
 * `tally sampling` (SPEC §11): the period's charges split by sampling unit,
 * and what a sampling rate would cost each team and tenant in precision.
 * The charges are folded as they are made (core/sampling-plan.ts
 * `PlanSums`), never kept; only the period's traces are held to the end.
 */
import { MAX_SAMPLING_TRACES } from '../core/bounds.js';
import type { Config } from '../core/config.js';
import { LimitError } from '../core/errors.js';
import { PlanSums, type SamplingPlan } from '../core/sampling-plan.js';
import type { Store } from '../store/store.js';
import { eachCharge } from './statement.js';

export async function computeSamplingPlan(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  rate: number,
  target: number,
  maxTraces = MAX_SAMPLING_TRACES,
): Promise<SamplingPlan> {
  const sums = new PlanSums(rate, target);
  const traces = await store.samplingTraces({ from: window.start, to: window.end });
  if (traces > maxTraces)
    throw new LimitError(
      `sampling: the period holds ${traces} traces; a plan holds each trace's costs in memory until the period is read, and may hold at most ${maxTraces}`,
    );
  await eachCharge(store, config, window, { allUnits: true }, (c) => sums.add(c));
  return sums.plan();
}
