// One snapshot per statement (SPEC §5.3): an ingest that commits while a
// statement is computed is wholly in it or wholly out, and the audit head it
// carries describes exactly the events it counted. Real DuckDB files, the
// store's own connection writing while a snapshot reads on another.
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { computeStatement } from '../../src/service/statement.js';
import type { Store } from '../../src/store/store.js';
import { BASE, ev, OCT, type Scenario, scenario as scenarioOn } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const batch = (prefix: string, n: number): UsageEvent[] =>
    Array.from({ length: n }, (_, i) =>
      ev(`${prefix}-${i}`, `2026-10-${String(2 + (i % 20)).padStart(2, '0')}T10:00:00Z`, {
        api_key: 'key-one',
        input_tokens: 1_000,
      }),
    );

  describe('a statement computed while another writer commits', () => {
    it('sees the store as it was when the snapshot began, whatever commits meanwhile', async () => {
      s = await scenario(BASE, [batch('one', 10)]);
      const store = s.store;
      const before = await store.auditHead();
      const seen = await store.snapshot(async (snap) => {
        const head = await snap.auditHead();
        // another writer commits 5 events while the snapshot is open
        const r = await store.ingest('meanwhile', [batch('two', 5)]);
        expect(r.stored).toBe(5);
        const groups = await snap.usageGroups({
          from: OCT.start,
          to: OCT.end,
          boundaries: [],
          sharedTuples: [],
          payerTuples: [],
          byDay: false,
        });
        return { head, headAfter: await snap.auditHead(), events: groups.reduce((n, g) => n + g.events, 0) };
      });
      expect(seen).toEqual({ head: before, headAfter: before, events: 10 });
      // the commit is there for the next reader
      expect(await store.auditHead()).not.toBe(before);
      expect((await s.compute()).statement.totals.events).toBe(15);
    });

    it('gives the statement the audit head of exactly the events it counted', async () => {
      s = await scenario(BASE, [batch('one', 10)]);
      const store = s.store;
      const head1 = await store.auditHead();
      // the same store, with an ingest committing between the statement's first and second read
      let committed = false;
      const interleaved: Store = Object.create(store, {
        snapshot: {
          value: <T>(body: Parameters<Store['snapshot']>[0]) =>
            store.snapshot((snap) =>
              body({
                ...snap,
                selectorTuples: async () => {
                  const tuples = await snap.selectorTuples();
                  await store.ingest('meanwhile', [batch('two', 5)]);
                  committed = true;
                  return tuples;
                },
              }),
            ) as Promise<T>,
        },
      });
      const { statement } = await computeStatement(interleaved, s.config, OCT);
      expect(committed).toBe(true);
      expect(statement.inputs.audit_head).toBe(head1);
      expect(statement.inputs.events).toBe(10);
      expect(statement.totals.events).toBe(10);
    });

    it('keeps audit head and events together under concurrent ingests', async () => {
      s = await scenario(BASE, [batch('b0', 3)]);
      const store = s.store;
      const config = s.config;
      const writes = Array.from({ length: 8 }, (_, i) => store.ingest(`w${i}`, [batch(`w${i}`, i + 1)]));
      const reads = Array.from({ length: 8 }, () => computeStatement(store, config, OCT));
      const [statements] = await Promise.all([Promise.all(reads), Promise.all(writes)]);
      const batches = await store.batches();
      for (const { statement } of statements) {
        const seq = batches.find((b) => b.chainSha256 === statement.inputs.audit_head)?.seq ?? 0;
        // every test event is in October, so the events counted are those of the batches up to the head
        const expected = batches.filter((b) => b.seq <= seq).reduce((n, b) => n + b.count, 0);
        expect(statement.inputs.events).toBe(expected);
      }
    });
  });
});
