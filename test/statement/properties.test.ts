// Invariants of money and statements, checked on generated inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import {
  allocateLargestRemainder,
  CENT,
  roundTo,
  roundToCentsLargestRemainder,
} from '../../src/core/money.js';
import { statementJson } from '../../src/core/statement.js';
import { ADAPTERS } from '../store/adapters.js';
import { BASE, ev, scenario as scenarioOn } from './helpers.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  describe('money', () => {
    it('largest remainder: shares sum to the amount exactly, none negative, each within a cent of its exact share', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: 10n ** 20n }),
          fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 30 }),
          (amount, raw) => {
            const weights = raw.some((w) => w > 0n) ? raw : [1n, ...raw];
            const shares = allocateLargestRemainder(amount, weights);
            const total = weights.reduce((a, b) => a + b, 0n);
            expect(shares.reduce((a, b) => a + b, 0n)).toBe(amount);
            shares.forEach((s, i) => {
              expect(s >= 0n).toBe(true);
              const exact = (amount * (weights[i] ?? 0n)) / total;
              const diff = s > exact ? s - exact : exact - s;
              // a sub-cent rest of the amount goes whole to the largest share
              expect(diff <= CENT + (amount % CENT)).toBe(true);
            });
          },
        ),
      );
    });

    it('rounding lines to cents sums to the rounded total', () => {
      fc.assert(
        fc.property(
          fc.array(fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }), { maxLength: 40 }),
          (amounts) => {
            const rounded = roundToCentsLargestRemainder(amounts);
            const total = amounts.reduce((a, b) => a + b, 0n);
            expect(rounded.reduce((a, b) => a + b, 0n)).toBe(roundTo(total, 2));
            for (const r of rounded) expect(r % CENT).toBe(0n);
          },
        ),
      );
    });
  });

  const WHO: Array<Partial<UsageEvent>> = [
    { api_key: 'key-one' },
    { api_key: 'key-one', tenant: 'tenant-y' },
    { service: 'svc-two', tenant: 'tenant-x' },
    { api_key: 'key-lab' },
    { api_key: 'key-old' },
    { api_key: 'key-comp', model: 'm2' },
    { api_key: 'stranger' },
    { service: 'dup' },
  ];

  /** A month of events: single calls plus traces in which a shared service works for svc-two. */
  const eventsArb = fc
    .tuple(
      fc.array(
        fc.record({
          who: fc.integer({ min: 0, max: WHO.length - 1 }),
          minute: fc.integer({ min: 0, max: 31 * 24 * 60 - 1 }),
          input: fc.integer({ min: 0, max: 3_000_000 }),
          output: fc.integer({ min: 0, max: 500_000 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      fc.array(
        fc.record({
          minute: fc.integer({ min: 0, max: 44_000 }),
          input: fc.integer({ min: 1, max: 900_000 }),
        }),
        {
          maxLength: 6,
        },
      ),
    )
    .map(([calls, traces]) => {
      const at = (m: number) => new Date(Date.UTC(2026, 9, 1) + m * 60_000).toISOString();
      const events: UsageEvent[] = calls.map((c, i) =>
        ev(`c${i}`, at(c.minute), { input_tokens: c.input, output_tokens: c.output, ...WHO[c.who] }),
      );
      traces.forEach((t, i) => {
        const trace = { trace_id: `t${i}` };
        events.push(
          ev(`t${i}-root`, at(t.minute), {
            ...trace,
            span_id: 'a',
            service: 'svc-two',
            tenant: 'tenant-x',
            operation: 'invoke_workflow',
            model: null,
          }),
        );
        events.push(
          ev(`t${i}-ret`, at(t.minute), {
            ...trace,
            span_id: 'b',
            parent_span_id: 'a',
            service: 'rag',
            operation: 'retrieval',
            data_source: 'kb',
            model: null,
          }),
        );
        events.push(
          ev(`t${i}-emb`, at(t.minute), {
            ...trace,
            span_id: 'c',
            parent_span_id: 'b',
            service: 'rag',
            operation: 'embeddings',
            input_tokens: t.input,
          }),
        );
      });
      return events;
    });

  const POOLS = `
shared_pools:
  - { id: pool-vec, amount: 12.34, level: application, method: proportional, basis: retrieval }
  - { id: pool-fee, amount: 10.00, level: team, method: even }
`;

  function withoutAuditHead(json: unknown): string {
    return JSON.stringify(json).replace(/"audit_head":("[0-9a-f]+"|null)/, '');
  }

  describe('statements', () => {
    it('lines sum to the totals; order, batching and re-ingestion change nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          eventsArb,
          fc.integer({ min: 1, max: 5 }),
          fc.integer(),
          async (events, parts, seed) => {
            const first = await scenario(BASE + POOLS, [events]);
            const shuffled = [...events].sort(
              (a, b) =>
                ((a.id.length * 31 + seed) % 7) - ((b.id.length * 17 + seed) % 7) || (a.id < b.id ? 1 : -1),
            );
            const batches = Array.from({ length: parts }, (_, p) =>
              shuffled.filter((_, i) => i % parts === p),
            );
            const second = await scenario(BASE + POOLS, batches.reverse());
            try {
              const a = await first.compute();
              const t = a.statement.totals;
              const sum = (f: (l: (typeof a.statement.lines)[number]) => bigint) =>
                a.statement.lines.reduce((s, l) => s + f(l), 0n);
              expect(sum((l) => l.effective_cost)).toBe(t.effective_cost);
              expect(sum((l) => l.billed_cost)).toBe(t.billed_cost);
              expect(sum((l) => l.shared_cost)).toBe(t.shared_cost);
              expect(t.attributed_cost + t.unattributed_cost + t.disputed_cost).toBe(t.effective_cost);
              expect(a.statement.lines.reduce((n, l) => n + l.events, 0)).toBe(events.length);

              const b = await second.compute();
              expect(withoutAuditHead(statementJson(b.statement))).toBe(
                withoutAuditHead(statementJson(a.statement)),
              );

              const before = JSON.stringify(statementJson(a.statement));
              await first.store.ingest('again', [events]);
              const again = await first.compute();
              expect(JSON.stringify(statementJson(again.statement))).toBe(before);
            } finally {
              await first.close();
              await second.close();
            }
          },
        ),
        { numRuns: 12 },
      );
    });
  });
});
