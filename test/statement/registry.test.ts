// Registry.resolve looks selectors up by shape (which fields they name); this
// checks it against SPEC §4.1 read literally: every identity's best matching
// selector (selectors.ts says when one matches), the most fields winning, a
// tie ambiguous.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Config, Identity, Selector } from '../../src/core/config.js';
import { Registry, type Resolution } from '../../src/core/registry.js';
import { anyTupleMatches, selectorScore } from '../../src/core/selectors.js';
import type { SelectorTuple } from '../../src/core/usage.js';
import { BASE, config } from './helpers.js';

const value = fc.constantFrom('a', 'b', 'c');
const HASH = 'ab'.repeat(32);
// api_key values: plain ids, key hashes, and prefixes of 16 and 24 digits (each matches the hashes that start
// with it; the second hash shares only the first 16 digits with the first)
const key = fc.constantFrom(
  'a',
  'b',
  HASH,
  HASH.slice(0, 16),
  HASH.slice(0, 24),
  'ab'.repeat(8) + 'cd'.repeat(24),
  'cd'.repeat(32),
);

function bySpec(identities: readonly Identity[], t: SelectorTuple): Resolution {
  const scores = identities.map((i) => Math.max(0, ...i.match.map((s: Selector) => selectorScore(s, t))));
  const best = Math.max(0, ...scores);
  const winners = identities.filter((_, k) => best > 0 && scores[k] === best);
  if (winners.length === 0) return { kind: 'unknown' };
  if (winners.length === 1) return { kind: 'identity', identity: winners[0] as Identity };
  return { kind: 'ambiguous', candidates: winners.map((w) => w.id).sort() };
}

describe('identity resolution (4.1)', () => {
  it('equals the definition for any selectors and tuple', () => {
    const base = config(BASE);
    const template = base.identities[0] as Identity;
    const selector = fc.record(
      { api_key: key, service: value, agent: value, project: value },
      { requiredKeys: [] },
    );
    const tuple = fc.record({
      api_key: fc.option(key),
      service: fc.option(value),
      agent: fc.option(value),
      project: fc.option(value),
    });
    fc.assert(
      fc.property(fc.array(fc.array(selector, { maxLength: 3 }), { maxLength: 6 }), tuple, (matches, t) => {
        const identities = matches.map((match, k) => ({ ...template, id: `id-${k}`, match }));
        const c: Config = { ...base, identities };
        expect(new Registry(c).resolve(t)).toEqual(bySpec(identities, t));
      }),
      { numRuns: 500 },
    );
  });

  it("is the same from every registry of a configuration, and never another configuration's", () => {
    const base = config(BASE);
    const template = base.identities[0] as Identity;
    const t: SelectorTuple = { api_key: HASH, service: 'a', agent: null, project: null };
    const first: Config = {
      ...base,
      identities: [{ ...template, id: 'by-key', match: [{ api_key: HASH }] }],
    };
    const other: Config = {
      ...base,
      identities: [
        { ...template, id: 'by-key', match: [{ api_key: HASH }] },
        { ...template, id: 'by-key-and-service', match: [{ api_key: HASH.slice(0, 16), service: 'a' }] },
      ],
    };
    const id = (c: Config) => {
      const r = new Registry(c).resolve(t);
      return r.kind === 'identity' ? r.identity.id : r.kind;
    };
    // The index built for the first registry serves the second of the same configuration (a replay's signals).
    expect([id(first), id({ ...first }), id(other), id(first)]).toEqual([
      'by-key',
      'by-key',
      'by-key-and-service',
      'by-key',
    ]);
  });
});

describe('whether any tuple matches a selector (the ingest warning of unmatched selectors)', () => {
  it('equals the definition for any selectors and tuples', () => {
    const selector = fc.record(
      { api_key: key, service: value, agent: value, project: value },
      { requiredKeys: [] },
    );
    const tuple = fc.record({
      api_key: fc.option(key),
      service: fc.option(value),
      agent: fc.option(value),
      project: fc.option(value),
    });
    fc.assert(
      fc.property(
        fc.array(selector, { maxLength: 8 }),
        fc.array(tuple, { maxLength: 8 }),
        (selectors, tuples) => {
          const matches = anyTupleMatches(tuples);
          for (const s of selectors) expect(matches(s)).toBe(tuples.some((t) => selectorScore(s, t) > 0));
        },
      ),
      { numRuns: 500 },
    );
  });
});
