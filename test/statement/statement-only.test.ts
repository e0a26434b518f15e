// A statement computed without its charges (groups summed into lines as they
// are attributed, `computeStatementOnly`) equals the one computed with them
// (`computeStatement`): every line, total and cent, at every level, and the
// comparison with an issued statement; so does the one whose charges are each
// handed over as they are made (`computeStatementEach`); on generated months that mix refused
// and kept tenant claims, unknown and ambiguous selectors, shared work rolled
// up to its invoker, disputed spend, sampled events and every kind of pool;
// and the charges it keeps for the signals' findings are the ones they read.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { statementSpec } from '../../src/cli/commands/statement.js';
import { EVERYTHING } from '../../src/cli/output.js';
import type { UsageEvent } from '../../src/core/event.js';
import { backsFinding, chargeFindings } from '../../src/core/signals/from-statement.js';
import { LEVELS, statementJson } from '../../src/core/statement.js';
import { focusRows, renderFocusCsv } from '../../src/export/focus.js';
import { writeFocusParquet } from '../../src/export/focus-parquet.js';
import { namesOf } from '../../src/export/names.js';
import { issueStatement } from '../../src/service/issue.js';
import {
  computeKeptCharges,
  computeStatement,
  computeStatementEach,
  computeStatementOnly,
} from '../../src/service/statement.js';
import { ADAPTERS } from '../store/adapters.js';
import { BASE, ev, OCT, POOLS, type Scenario, scenario } from './helpers.js';

/** Every pool method and basis, requests too. */
const ALL_POOLS = `${POOLS}  - { id: pool-requests, amount: 3.00, level: application, method: proportional, basis: requests }
`;

/** Who makes a call: tenant claims kept and refused, unknown and ambiguous selectors, lifecycles, shared work. */
const WHO: Array<Partial<UsageEvent>> = [
  { api_key: 'key-one', tenant: 'tenant-x' },
  { api_key: 'key-one', tenant: 'tenant-y' },
  { api_key: 'key-one' },
  { service: 'svc-two', tenant: 'tenant-y' },
  { api_key: 'key-lab', tenant: 'tenant-x' },
  { api_key: 'key-comp' },
  { api_key: 'key-old', tenant: 'tenant-x' },
  { api_key: 'key-nobody', tenant: 'tenant-x' },
  { service: 'dup' },
  { service: 'orphan' },
  { service: 'nocc', tenant: 'tenant-y' },
  { service: 'agents', agent: 'research', operation: 'invoke_agent' },
  { service: 'rag', operation: 'retrieval', data_source: 'kb', input_tokens: 0, output_tokens: 0 },
];

const callArb = fc.record({
  who: fc.integer({ min: 0, max: WHO.length - 1 }),
  day: fc.integer({ min: 1, max: 30 }),
  model: fc.constantFrom('m1', 'm2', 'm-unpriced'),
  input: fc.integer({ min: 0, max: 3_000_000 }),
  output: fc.integer({ min: 0, max: 1_000_000 }),
  trace: fc.integer({ min: 0, max: 5 }),
  under: fc.boolean(),
  sampled: fc.constantFrom(undefined, '4', '16'),
});

type Call = typeof callArb extends fc.Arbitrary<infer T> ? T : never;

/** One event per call; a shared span under a call of the same trace is rolled up to it (§4.3). */
function eventsOf(calls: readonly Call[]): UsageEvent[] {
  return calls.map((c, i) => {
    const at = `2026-10-${String(c.day).padStart(2, '0')}T0${i % 10}:00:00Z`;
    const who = WHO[c.who] as Partial<UsageEvent>;
    const e = ev(`e${i}`, at, {
      model: c.model,
      input_tokens: c.input,
      output_tokens: c.output,
      trace_id: `t${c.trace}`.padEnd(32, '0'),
      span_id: `s${i}`.padEnd(16, '0'),
      parent_span_id: c.under && i > 0 ? `s${i - 1}`.padEnd(16, '0') : null,
      ...who,
    });
    if (c.sampled) e.adjusted_count = c.sampled;
    return e;
  });
}

/** Values in the order of their JSON text. */
function inOrder<T>(xs: readonly T[]): T[] {
  const text = (x: T) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? String(v) : v));
  return [...xs].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

describe.each(ADAPTERS)('$name store', (adapter) => {
  const open: Scenario[] = [];
  afterAll(async () => {
    for (const s of open) await s.close();
  });

  it('the statement without charges equals the statement with them, at every level', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(callArb, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        async (calls, issue) => {
          const s = await scenario(BASE + ALL_POOLS, [eventsOf(calls)], adapter);
          open.push(s);
          const window = { ...OCT, label: '2026-10' };
          if (issue) {
            // an issued statement of other numbers, so that `differs_from_issued` is set
            const { statement } = await computeStatement(s.store, s.config, {
              ...OCT,
              end: OCT.end - 86_400_000,
            });
            await issueStatement(s.store, '2026-10', statement, OCT.end);
          }
          for (const level of LEVELS) {
            const full = await computeStatement(s.store, s.config, window, { level });
            const only = await computeStatementOnly(s.store, s.config, window, { level });
            expect(statementJson(only.statement)).toEqual(statementJson(full.statement));
            expect(only.statement.differs_from_issued).toEqual(full.statement.differs_from_issued);
            expect(only.shares).toEqual(full.shares);
          }
          // the charges kept beside the lines are the ones the signals' findings read, and give the same findings
          const full = await computeStatement(s.store, s.config, window);
          // each charge handed over as it is made, its line summed by its decision's head: the same lines and charges
          const each: typeof full.charges = [];
          const handed = await computeStatementEach(s.store, s.config, window, {}, (c) => each.push(c));
          expect(statementJson(handed.statement)).toEqual(statementJson(full.statement));
          expect(inOrder(each)).toEqual(inOrder(full.charges));
          const kept = (await computeKeptCharges(s.store, s.config, window, backsFinding)).charges;
          // (the store hands groups over in no set order: compare as sets)
          expect(inOrder(kept)).toEqual(inOrder(full.charges.filter(backsFinding)));
          const ids = new Map(s.config.identities.map((i) => [i.id, i]));
          expect(inOrder(chargeFindings(kept, ids, OCT.end))).toEqual(
            inOrder(chargeFindings(full.charges, ids, OCT.end)),
          );
        },
      ),
      { numRuns: adapter.name === 'duckdb' ? 25 : 6 },
    );
  }, 240_000);

  /** A generated month's FOCUS rows made from the statement's kept charges, and the command's FOCUS document. */
  async function focusOf(calls: Call[], format: 'focus' | 'focus-parquet') {
    const s = await scenario(BASE + ALL_POOLS, [eventsOf(calls)], adapter);
    open.push(s);
    const window = { ...OCT, label: '2026-10' };
    const full = await computeStatement(s.store, s.config, window, { byDay: true });
    const rows = focusRows(full.charges, full.shares, {
      period: OCT,
      currency: s.config.currency,
      pools: s.config.sharedPools,
      names: namesOf(s.config),
    });
    const out = await statementSpec.run(
      { store: s.store, config: s.config },
      { window, level: 'line', format, issue: false, controlTotals: undefined },
      EVERYTHING,
      undefined,
    );
    expect(typeof out.body === 'string' || out.body instanceof Uint8Array).toBe(false);
    return {
      rows,
      out,
      bytes: Buffer.concat([...(out.body as Iterable<string | Uint8Array>)].map((c) => Buffer.from(c))),
    };
  }

  it("the FOCUS CSV summed from the charges as they come equals the FOCUS rows of the statement's kept charges", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 40 }), async (calls) => {
        const { rows, bytes } = await focusOf(calls, 'focus');
        expect(bytes.toString('utf8')).toBe(renderFocusCsv(rows));
      }),
      { numRuns: adapter.name === 'duckdb' ? 15 : 4 },
    );
  }, 240_000);

  it("the FOCUS Parquet written a day at a time holds the FOCUS rows of the statement's kept charges, in order", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-parquet-'));
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 40 }), async (calls) => {
          const { rows, out, bytes } = await focusOf(calls, 'focus-parquet');
          expect(out.wrote).toBe(`${rows.length} FOCUS rows`);
          const [expected, got] = [path.join(dir, 'expected.parquet'), path.join(dir, 'got.parquet')];
          await writeFocusParquet([rows], expected);
          await writeFile(got, bytes);
          expect(await parquetRows(got)).toEqual(await parquetRows(expected));
        }),
        { numRuns: adapter.name === 'duckdb' ? 8 : 3 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

/** A Parquet file's rows, in the file's order, as JSON values. */
async function parquetRows(file: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
