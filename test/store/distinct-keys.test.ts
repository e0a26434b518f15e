import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistinctKeys } from '../../src/store/distinct-keys.js';

describe('DistinctKeys', () => {
  it('says whether each key was added before, as a Set of the keys would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('gw', 'g', 'w', ''), fc.string({ maxLength: 6 })), {
          maxLength: 300,
        }),
        (keys) => {
          const set = new Set<string>();
          const distinct = new DistinctKeys();
          for (const [source, id] of keys) {
            const key = JSON.stringify([source, id]);
            expect(distinct.add(source, id)).toBe(!set.has(key));
            set.add(key);
          }
        },
      ),
    );
  });

  it('keeps telling them apart as it grows, and where one text ends matters', () => {
    const distinct = new DistinctKeys();
    for (let i = 0; i < 200_000; i++) expect(distinct.add('gw', `evt-${i}`)).toBe(true);
    expect(distinct.add('gw', 'evt-199999')).toBe(false);
    expect(distinct.add('gw', 'evt-0')).toBe(false);
    // The same characters split otherwise between source and id are another key.
    expect(distinct.add('gwe', 'vt-0')).toBe(true);
    expect(distinct.add('g', 'wevt-0')).toBe(true);
  });
});
