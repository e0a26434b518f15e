// LineSums adds a month's groups into lines exactly: money kept in doubles
// while below 2^53 and moved into the line's bigints before it would not be
// exact, so any sequence of amounts sums to the bigint sum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineHead } from '../../src/core/attribution.js';
import { LineSums } from '../../src/core/statement.js';

const head = lineHead({
  cost_center: 'cc',
  team: 't',
  application: 'a',
  environment: 'production',
  status: 'attributed',
  reason: null,
});
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// amounts around the doubles' exact limit, and far above it
const money = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 6n }),
  fc.bigInt({ min: SAFE - 10n ** 6n, max: SAFE + 10n ** 6n }),
  fc.bigInt({ min: 0n, max: 10n ** 24n }),
);

describe('LineSums', () => {
  it('sums money exactly into each line, whatever the amounts', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tenant: fc.constantFrom('x', 'y', null),
            cost: money,
            list: money,
            billed: fc.boolean(),
          }),
          {
            maxLength: 60,
          },
        ),
        (groups) => {
          const sums = new LineSums();
          const want = new Map<
            string | null,
            { cost: bigint; list: bigint; billed: bigint; events: number }
          >();
          for (const g of groups) {
            const slot = sums.slotAt(head, g.tenant, 'inference');
            sums.addGroup(slot, {
              cost: g.cost,
              list: g.list,
              billed: g.billed ? g.cost : 0n,
              events: 1,
              unpriced_events: 0,
              requests: 1,
              input_tokens: 2,
              output_tokens: 3,
            });
            const w = want.get(g.tenant) ?? { cost: 0n, list: 0n, billed: 0n, events: 0 };
            w.cost += g.cost;
            w.list += g.list;
            w.billed += g.billed ? g.cost : 0n;
            w.events += 1;
            want.set(g.tenant, w);
          }
          const lines = sums.lines();
          expect(lines).toHaveLength(want.size);
          for (const l of lines) {
            const w = want.get(l.tenant);
            expect(w).toBeDefined();
            expect([l.direct_cost, l.effective_cost, l.list_cost, l.billed_cost, l.events]).toEqual([
              w?.cost,
              w?.cost,
              w?.list,
              w?.billed,
              w?.events,
            ]);
            expect(l.input_tokens).toBe(2 * (w?.events ?? 0));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
