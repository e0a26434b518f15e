/** Robust statistics for the baselines: median and median absolute deviation, exact on Money. */
import type { Money } from '../money.js';

/** The scale that makes the MAD estimate the standard deviation of normal data. */
export const MAD_SCALE = 1.4826;

/** The median; of an even count, the mean of the middle two, rounded down. */
export function median(values: readonly Money[]): Money {
  if (values.length === 0) return 0n;
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as Money) : ((s[mid - 1] as Money) + (s[mid] as Money)) / 2n;
}

export function mad(values: readonly Money[]): Money {
  const m = median(values);
  return median(values.map((v) => (v > m ? v - m : m - v)));
}

/**
 * Robust z of `x` against a baseline: (x − median) / (1.4826 · MAD). The
 * spread never counts as less than `minSpread` (a share of the median, and at
 * least one pico-unit), so a baseline that happened to be flat does not turn
 * ordinary wobble into a huge z, and a zero baseline leaves the decision to
 * the absolute floor.
 */
export function robustZ(x: Money, baseline: readonly Money[], minSpreadShare: number) {
  const med = median(baseline);
  const dev = mad(baseline);
  const spread = Math.max(MAD_SCALE * Number(dev), minSpreadShare * Number(med), 1);
  return { median: med, mad: dev, z: Number(x - med) / spread };
}
