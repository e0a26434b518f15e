// The breakdown rule: each line's cents split over the models, providers and
// identities of its usage add up to the line, whatever the amounts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Charge, emptyAmounts } from '../../src/core/attribution.js';
import { changePercent, groupParts, matchesFilter, partsOf } from '../../src/core/breakdown.js';
import { CENT } from '../../src/core/money.js';
import { blankKey, buildStatement, KEY_FIELDS } from '../../src/core/statement.js';

function charge(team: string, model: string, identity: string, cost: bigint): Charge {
  return {
    ...blankKey(),
    ...emptyAmounts(),
    team,
    category: 'inference',
    identity,
    payer: identity,
    provider: 'acme',
    model,
    project: null,
    api_key: null,
    day: null,
    time: 0,
    refusedTenant: null,
    staleOwner: false,
    disputes: [],
    direct_cost: cost,
    effective_cost: cost,
    list_cost: cost,
    billed_cost: cost,
    events: 1,
  };
}

const META = {
  period: { start: 0, end: 86_400_000 },
  currency: 'USD',
  inputs: { config_sha256: 'x', catalog_version: 'x', events: 0, audit_head: null },
};

describe('breakdown', () => {
  it('the parts of every line add up to its cents; any grouping adds up to the total', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            team: fc.constantFrom('t1', 't2'),
            model: fc.constantFrom('m1', 'm2', 'm3'),
            identity: fc.constantFrom('a', 'b'),
            cost: fc.bigInt({ min: 0n, max: 10n ** 13n }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (raw) => {
          const charges = raw.map((r) => charge(r.team, r.model, r.identity, r.cost));
          const st = buildStatement(charges, [], META);
          const parts = partsOf(st.lines, charges, []);
          for (const line of st.lines) {
            const mine = parts.filter((p) => p.team === line.team);
            expect(mine.reduce((a, p) => a + p.cents.effective_cost, 0n)).toBe(line.cents.effective_cost);
          }
          for (const p of parts) expect(p.cents.effective_cost % CENT).toBe(0n);
          for (const by of ['model', 'identity', 'team'] as const) {
            const rows = groupParts(parts, by);
            expect(rows.reduce((a, r) => a + r.cents.effective_cost, 0n)).toBe(
              st.totals.cents.effective_cost,
            );
          }
          const m1 = parts.filter((p) => matchesFilter(p, { model: 'm1', tenant: null }));
          expect(m1.every((p) => p.model === 'm1' && p.tenant === null)).toBe(true);
        },
      ),
    );
  });

  it('a part carries its line’s key, its usage, the amounts summed and its cents: no field more or less', () => {
    const charges = [charge('t1', 'm1', 'a', 5n * CENT), charge('t1', 'm1', 'a', 2n * CENT)];
    const st = buildStatement(charges, [], META);
    const [part, ...more] = partsOf(st.lines, charges, []);
    expect(more).toEqual([]);
    expect(Object.keys(part ?? {}).sort()).toEqual(
      [...KEY_FIELDS, 'provider', 'model', 'identity', ...Object.keys(emptyAmounts()), 'cents'].sort(),
    );
    expect(part).toMatchObject({
      team: 't1',
      model: 'm1',
      identity: 'a',
      effective_cost: 7n * CENT,
      events: 2,
    });
  });

  it('change in per cent: one decimal, half away from zero, null without a base', () => {
    expect(changePercent(150n, 100n)).toBe('50.0');
    expect(changePercent(100n, 300n)).toBe('-66.7');
    expect(changePercent(1001n, 1000n)).toBe('0.1');
    expect(changePercent(10005n, 10000n)).toBe('0.1');
    expect(changePercent(9995n, 10000n)).toBe('-0.1');
    expect(changePercent(5n, 0n)).toBeNull();
  });
});
