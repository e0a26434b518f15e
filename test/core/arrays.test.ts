// Arrays of any length (src/core/arrays.ts): the helpers give what
// push(...items), Math.min(...values) and Math.max(...values) give, past the
// ~120k elements at which spreading into a call throws; and no file of src
// spreads an array into push, unshift, Math.min or Math.max, where a month's
// lines, bill rows or events once stopped `tally statement`'s table and
// `tally reconcile` with "Maximum call stack size exceeded".
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxOf, minOf, pushAll } from '../../src/core/arrays.js';

const MANY = 300_000;

describe('arrays of any length', () => {
  it('are more than a call can take spread as arguments', () => {
    const values = Array.from({ length: MANY }, (_, i) => i);
    expect(() => Math.max(...values)).toThrow(RangeError);
  });

  it('pushAll appends every item in order, and returns the array', () => {
    const into = ['first'];
    const out = pushAll(
      into,
      Array.from({ length: MANY }, (_, i) => `item-${i}`),
    );
    expect(out).toBe(into);
    expect(into).toHaveLength(MANY + 1);
    expect(into[1]).toBe('item-0');
    expect(into.at(-1)).toBe(`item-${MANY - 1}`);
    expect(pushAll([1], new Set([2, 3]))).toEqual([1, 2, 3]);
  });

  it('minOf and maxOf give what Math.min and Math.max give', () => {
    const values = Array.from({ length: MANY }, (_, i) => ((i * 7919) % MANY) - 1000);
    expect(minOf(values)).toBe(-1000);
    expect(maxOf(values)).toBe(MANY - 1001);
    for (const small of [[], [3], [2, -1, 5], [1, Number.NaN, 2], [-0, 0], [0, -0]]) {
      expect(minOf(small)).toBe(Math.min(...small));
      expect(maxOf(small)).toBe(Math.max(...small));
    }
  });
});

describe('src', () => {
  const root = path.join(import.meta.dirname, '..', '..', 'src');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory()
        ? files(path.join(dir, d.name))
        : d.name.endsWith('.ts')
          ? [path.join(dir, d.name)]
          : [],
    );
  // An array spread into a call that appends or compares: the arguments go on the stack.
  const SPREAD_CALL = /\.(push|unshift)\(\s*\.\.\.|Math\.(min|max)\(\s*(?:[^()]*,\s*)?\.\.\./;

  it('spreads no array into push, unshift, Math.min or Math.max (core/arrays.ts has what does)', () => {
    const found = files(root).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          SPREAD_CALL.test(line) && !/^\s*(\/\*|\*|\/\/)/.test(line)
            ? [`${path.relative(root, file)}:${i + 1}`]
            : [],
        ),
    );
    expect(found).toEqual([]);
  });

  it('finds such a spread where there is one', () => {
    expect(SPREAD_CALL.test('rows.push(...more);')).toBe(true);
    expect(SPREAD_CALL.test('Math.max(top.length, ...rest.map((r) => r.length))')).toBe(true);
    expect(SPREAD_CALL.test('const x = Math.max(a, b);')).toBe(false);
    expect(SPREAD_CALL.test('const all = [...a, ...b];')).toBe(false);
  });
});
