/**
 * S13: the provider's bill exceeds the telemetry-priced cost beyond a
 * tolerance: spend on paths that report no telemetry (an uninstrumented
 * service, a key used outside the gateway). Takes the rows of the
 * reconciliation (core/reconcile.ts) of the same window.
 */
import { formatMoney, type Money, mulDiv, ONE } from '../money.js';
import { REFS, type Signal } from './signal.js';
import { TITLES } from './titles.js';

export interface ReconciledRow {
  provider: string;
  model: string | null;
  project: string | null;
  billed: Money;
  telemetry: Money;
}

export function s13FromReconciliation(
  rows: readonly ReconciledRow[],
  tolerancePct: number,
  window: { start: number; end: number },
): Signal[] {
  const tolerance = BigInt(Math.round(tolerancePct * 1e6));
  const out: Signal[] = [];
  for (const r of rows) {
    const excess = r.billed - r.telemetry;
    if (excess <= 0n) continue;
    // Beyond tolerance: more than tolerancePct of the telemetry cost (any excess when telemetry saw nothing).
    if (excess * 100n * 1_000_000n <= r.telemetry * tolerance) continue;
    const label = [r.provider, r.model, r.project].filter((x) => x !== null).join('/');
    out.push({
      rule: 'S13',
      severity: 'high',
      identity: r.project !== null ? `project:${r.project}` : `provider:${r.provider}`,
      team: null,
      first_seen: window.start,
      last_seen: window.end,
      events: 0,
      cost: excess,
      evidence: {
        events: [],
        bill: label,
        billed: formatMoney(r.billed),
        telemetry: formatMoney(r.telemetry),
        excess: formatMoney(excess),
        excess_pct: r.telemetry === 0n ? null : formatMoney(mulDiv(excess * 100n, ONE, r.telemetry)),
        tolerance_pct: tolerancePct,
      },
      refs: REFS.S13,
      title: TITLES.S13,
    });
  }
  return out;
}
