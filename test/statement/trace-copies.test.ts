// Traces whose spans are recorded more than once, with other selectors, parents and claims
// (core/trace-walk.ts): every event is charged to the line `tally explain` names for it, on
// every store, and the statement does not depend on the order the records arrived in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { KEY_FIELDS, statementJson } from '../../src/core/statement.js';
import { explain } from '../../src/service/explain.js';
import { ADAPTERS } from '../store/adapters.js';
import { BASE, ev, scenario as scenarioOn } from './helpers.js';

const SPANS = ['s0', 's1', 's2', 's3'];

/** A record of one of four spans of one trace: a payer, a shared or an unknown identity, any parent and claim. */
const recordArb = fc.record({
  span: fc.constantFrom(...SPANS),
  parent: fc.constantFrom(null, ...SPANS, 'gone'),
  selectors: fc.constantFrom<Partial<UsageEvent>>(
    { service: 'svc-two' },
    { api_key: 'key-one' },
    { service: 'rag' },
    { api_key: 'key-zzz' },
    { api_key: 'key-one', service: 'rag' },
  ),
  tenant: fc.constantFrom(null, null, 'tenant-x', 'tenant-y'),
});

const withoutAuditHead = (json: unknown) =>
  JSON.stringify(json).replace(/"audit_head":("[0-9a-f]+"|null)/, '');

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  it('charges every record of a trace where `tally explain` says, whatever order the records came in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 2, maxLength: 8 }), async (records) => {
        const events = records.map((r, i) =>
          ev(`e${i}`, '2026-10-08T10:00:00Z', {
            ...r.selectors,
            trace_id: 't',
            span_id: r.span,
            parent_span_id: r.parent === r.span ? null : r.parent,
            tenant: r.tenant,
            operation: 'embeddings',
            input_tokens: 1_000_000 * (i + 1),
          }),
        );
        const first = await scenario(
          BASE,
          events.map((e) => [e]),
        );
        const second = await scenario(
          BASE,
          [...events].reverse().map((e) => [e]),
        );
        try {
          const a = await first.compute();
          // The statement's lines are the sums of what `tally explain` says each event adds where.
          const byKey = new Map<string, bigint>();
          for (const e of events) {
            const x = await explain(first.store, first.config, { id: e.id, source: null });
            const k = JSON.stringify(x.line?.key);
            byKey.set(k, (byKey.get(k) ?? 0n) + parseMoney(x.line?.event_effective_cost ?? '0'));
          }
          // Keyed as `tally explain` keys a line: its KEY_FIELDS in order.
          const lines = new Map(
            a.statement.lines.map((l) => [
              JSON.stringify(Object.fromEntries(KEY_FIELDS.map((f) => [f, l[f]]))),
              formatMoney(l.effective_cost),
            ]),
          );
          expect(new Map([...byKey].map(([k, v]) => [k, formatMoney(v)]))).toEqual(lines);
          const b = await second.compute();
          expect(withoutAuditHead(statementJson(b.statement))).toBe(
            withoutAuditHead(statementJson(a.statement)),
          );
        } finally {
          await first.close();
          await second.close();
        }
      }),
      { numRuns: 15, seed: 20261207 },
    );
  });
});
