// Control totals (SPEC §5.2, §11): where the bill or a usage report covers the
// same provider, model and key as sampled traces, it fixes the total and the
// sampled traces only split it. Over simulated months with known totals.
import { describe, expect, it } from 'vitest';
import { Attributor } from '../../src/core/attribution.js';
import { CENT, roundTo } from '../../src/core/money.js';
import { PriceBook } from '../../src/core/pricing.js';
import { type BillRow, trueUp } from '../../src/core/reconcile.js';
import { Registry } from '../../src/core/registry.js';
import type { UsageGroup } from '../../src/core/usage.js';
import { month, type Stream, statementOf, WORLD } from './world.js';

const STREAMS: Stream[] = [
  { key: 'key-a', traces: 300, p: { n: 1n, d: 10n } },
  { key: 'key-b', traces: 200, p: { n: 1n, d: 4n } },
  { key: 'key-c', traces: 40, p: { n: 1n, d: 1n } },
];

function chargesOf(groups: readonly UsageGroup[]) {
  const attributor = new Attributor(new Registry(WORLD), new PriceBook(WORLD.prices), WORLD.policy);
  return groups.map((g) => attributor.attribute(g));
}

/** The bill a provider sends: each key's true spend, to the cent. */
function billOf(all: readonly UsageGroup[]): BillRow[] {
  const byKey = new Map<string, bigint>();
  for (const c of chargesOf(all)) {
    const g = c.api_key ?? '';
    byKey.set(g, (byKey.get(g) ?? 0n) + c.effective_cost);
  }
  return [...byKey].map(([apiKey, amount]) => ({
    provider: 'acme',
    model: 'm1',
    project: null,
    apiKey,
    amount: roundTo(amount, 2),
  }));
}

describe('control totals over sampled traces', () => {
  it('make each key, and the statement, equal the bill to the cent, month after month', () => {
    for (let m = 0; m < 40; m++) {
      const { all, kept } = month(500 + m, STREAMS);
      const bill = billOf(all);
      const estimated = statementOf(kept);
      const adjusted = trueUp(bill, chargesOf(kept));
      const billed = bill.reduce((t, b) => t + b.amount, 0n);
      expect(adjusted.reduce((t, a) => t + a.adjusted, 0n)).toBe(billed);
      for (const b of bill) {
        const team = { 'key-a': 'team-a', 'key-b': 'team-b', 'key-c': 'team-c' }[b.apiKey as string];
        const lines = adjusted.filter((a) => a.team === team);
        expect(lines.reduce((t, a) => t + a.adjusted, 0n)).toBe(b.amount);
        for (const a of lines) expect(a.adjusted % CENT).toBe(0n);
      }
      // Without the control total the sampled teams are estimates that miss the bill.
      if (m === 0) {
        const a = estimated.lines.find((l) => l.team === 'team-a');
        expect(roundTo(a?.effective_cost ?? 0n, 2)).not.toBe(bill.find((b) => b.apiKey === 'key-a')?.amount);
      }
    }
  });

  it('split one total over the teams that share a key, in proportion to their sampled estimates', () => {
    // team-a and team-b traffic billed under one provider-level row.
    const { all, kept } = month(900, STREAMS.slice(0, 2));
    const total = roundTo(
      chargesOf(all).reduce((t, c) => t + c.effective_cost, 0n),
      2,
    );
    const adjusted = trueUp(
      [{ provider: 'acme', model: null, project: null, apiKey: null, amount: total }],
      chargesOf(kept),
    );
    expect(adjusted.reduce((t, a) => t + a.adjusted, 0n)).toBe(total);
    const s = statementOf(kept);
    const [a, b] = ['team-a', 'team-b'].map(
      (team) => s.lines.find((l) => l.team === team)?.effective_cost ?? 0n,
    ) as [bigint, bigint];
    const adjA = adjusted.find((x) => x.team === 'team-a')?.adjusted ?? 0n;
    // team-a's share of the total is its share of the estimate, within a cent.
    const expectA = (total * a) / (a + b);
    expect(adjA - expectA <= CENT && expectA - adjA <= CENT).toBe(true);
  });
});
