// The statement's JSON text written in chunks (`statementJsonText`, what
// `tally statement --format json` writes) is, joined, the very text of
// `JSON.stringify(statementJson(s), null, 2)` (and the API's compact form with
// its scope, `JSON.stringify({ ...statementJson(s), scope })`): on generated lines with nulls,
// strings that need escaping, negative and huge amounts, sampled lines, an
// issued statement it differs from, and more lines than one chunk holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LineKey } from '../../src/core/attribution.js';
import { addSample, rational } from '../../src/core/sampling.js';
import {
  LEVELS,
  type Line,
  rollUp,
  type Statement,
  statementJson,
  statementJsonText,
  statementOfLines,
  sumLines,
} from '../../src/core/statement.js';
import { share } from '../export/fixtures.js';

const META = {
  period: { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) },
  currency: 'USD',
  inputs: { config_sha256: 'c'.repeat(64), catalog_version: 'test "1"', events: 12, audit_head: null },
};

const text = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'team-a',
    'a "quoted" \\ name',
    'line\nbreak',
    'tab\there',
    'ü 🚀',
    '\u0001\u001f',
    '\ud800',
  ),
);
const money = fc.oneof(
  fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
  fc.constant(10n ** 30n),
  fc.constant(0n),
);
const count = fc.oneof(fc.nat(), fc.constant(0), fc.constant(2 ** 53 - 1));

const rowArb = fc.record({
  cost_center: text,
  team: text,
  application: text,
  tenant: text,
  environment: text,
  category: fc.constantFrom('inference', 'embedding', 'agent', null),
  status: fc.constantFrom('attributed', 'unattributed', 'disputed'),
  reason: fc.constantFrom(null, 'unknown_identity', 'tenant_unverified'),
  pool: fc.constant(null),
  direct_cost: money,
  shared_cost: fc.constant(0n),
  effective_cost: money,
  list_cost: money,
  billed_cost: money,
  events: count,
  unpriced_events: count,
  requests: count,
  input_tokens: count,
  output_tokens: count,
  sampled: fc.boolean(),
});

type Row = LineKey & Omit<Line, 'cents' | 'sample'> & { sampled: boolean };

function statementOf(rows: readonly Row[], shares: ReturnType<typeof share>[] = []): Statement {
  const usage = sumLines(
    rows.map(({ sampled, ...r }) => {
      if (!sampled) return r;
      const sample = new Map();
      addSample(sample, `trace-${r.events}`, rational(4n, 1n), r.effective_cost / 4n);
      addSample(sample, 'other', rational(2n, 1n), r.effective_cost / 3n);
      return { ...r, sample };
    }),
  );
  return statementOfLines(usage, shares, META);
}

const joined = (s: Statement) => [...statementJsonText(s)].join('');
const plain = (s: Statement) => `${JSON.stringify(statementJson(s), null, 2)}\n`;
// The API's form: compact, with its scope after the statement's own fields.
const SCOPES = [null, { team: 'team-a' }, { team: 'a "quoted", \n "lines":[], name' }];
const joinedCompact = (s: Statement, scope: unknown) =>
  [...statementJsonText(s, { space: 0, extra: { scope } })].join('');
const compact = (s: Statement, scope: unknown) => JSON.stringify({ ...(statementJson(s) as object), scope });

describe('the statement JSON text in chunks', () => {
  it('is JSON.stringify of the JSON form, two spaces, at every level', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 30 }), (rows) => {
        const s = statementOf(rows as Row[]);
        for (const level of LEVELS) {
          const at = rollUp(s, level);
          expect(joined(at)).toBe(plain(at));
          for (const scope of SCOPES) expect(joinedCompact(at, scope)).toBe(compact(at, scope));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('holds a statement without lines, and one that differs from its issue', () => {
    const empty = statementOf([]);
    expect(joined(empty)).toBe(plain(empty));
    expect(JSON.parse(joined(empty)).lines).toEqual([]);
    const differs = { ...statementOf([]), differs_from_issued: { version: 3, effective_cost_delta: -1234n } };
    expect(joined(differs)).toBe(plain(differs));
    for (const scope of SCOPES) {
      expect(joinedCompact(empty, scope)).toBe(compact(empty, scope));
      expect(joinedCompact(differs, scope)).toBe(compact(differs, scope));
    }
  });

  it('splits a statement of many lines into chunks that join to the whole, pool lines included', () => {
    const rows: Row[] = Array.from({ length: 9000 }, (_, i) => ({
      cost_center: `cc-${i % 7}`,
      team: `team-${i % 50}`,
      application: i % 11 === 0 ? null : `app-${i}`,
      tenant: `tenant-${i}`,
      environment: 'production',
      category: 'inference',
      status: i % 13 === 0 ? 'disputed' : 'attributed',
      reason: null,
      pool: null,
      direct_cost: BigInt(i) * 1_234_567n,
      shared_cost: 0n,
      effective_cost: BigInt(i) * 1_234_567n,
      list_cost: BigInt(i) * 2_000_000n,
      billed_cost: i % 13 === 0 ? 0n : BigInt(i) * 1_234_567n,
      events: i,
      unpriced_events: 0,
      requests: i,
      input_tokens: i * 10,
      output_tokens: i * 3,
      sampled: i % 1000 === 0,
    }));
    const s = statementOf(rows, [share({ pool: 'platform', amount: 5_000_000_000_000n, basisTotal: '2' })]);
    const chunks = [...statementJsonText(s)];
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.join('')).toBe(plain(s));
    const compactChunks = [...statementJsonText(s, { space: 0, extra: { scope: { team: 'team-1' } } })];
    expect(compactChunks.length).toBeGreaterThan(3);
    expect(compactChunks.join('')).toBe(compact(s, { team: 'team-1' }));
  });
});
