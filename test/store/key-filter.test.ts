import type { DuckDBDataChunk } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { KeyFilter } from '../../src/store/duckdb/key-filter.js';

/** A chunk of `keyHashesSql`'s two columns (hi, lo), as the store reads them. */
function chunk(keys: readonly (readonly [number, number])[]): DuckDBDataChunk {
  const column = (c: 0 | 1) => ({ getItem: (i: number) => keys[i]?.[c] ?? null });
  return { rowCount: keys.length, getColumnVector: (c: 0 | 1) => column(c) } as unknown as DuckDBDataChunk;
}

/** Deterministic, well-spread 32-bit halves. */
function keys(seed: number, n: number): [number, number][] {
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return x;
  };
  return Array.from({ length: n }, () => [next(), next()]);
}

describe('KeyFilter', () => {
  it('says "maybe" for every key it was given, and "no" for nearly every other', () => {
    const filter = new KeyFilter(20_000);
    const stored = keys(1, 20_000);
    expect(filter.addChunk(chunk(stored))).toBe(false);
    for (const k of stored) expect(filter.addChunk(chunk([k]))).toBe(true);
    const fresh = keys(2, 20_000);
    const maybes = fresh.filter((k) => filter.addChunk(chunk([k]))).length;
    expect(maybes).toBeLessThan(5);
  });

  it('is full once it holds more keys than it was sized for, and is not built past its memory cap', () => {
    const filter = new KeyFilter(1000);
    expect(filter.full).toBe(false);
    // Sized at least 1.5x: the minimum size holds 1,048,576 keys at 32 bits each.
    filter.addChunk(chunk(keys(3, 1_048_576)));
    expect(filter.full).toBe(false);
    filter.addChunk(chunk(keys(4, 1)));
    expect(filter.full).toBe(true);
    expect(KeyFilter.fits(20_000_000)).toBe(true);
    expect(KeyFilter.fits(30_000_000)).toBe(false);
  });
});
