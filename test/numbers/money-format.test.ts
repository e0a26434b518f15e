import { describe, expect, it } from 'vitest';
import { formatFixed, formatMoney, ONE, roundTo, SCALE } from '../../src/core/money.js';

/** The formatting by decimal text, as written before the fast paths: what they must equal. */
function byText(m: bigint, minPlaces: number): string {
  const neg = m < 0n;
  const abs = neg ? -m : m;
  let frac = (abs % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  if (frac.length < minPlaces) frac = frac.padEnd(minPlaces, '0');
  const text = frac.length > 0 ? `${abs / ONE}.${frac}` : `${abs / ONE}`;
  return neg ? `-${text}` : text;
}

function fixedByText(m: bigint, places: number): string {
  return byText(roundTo(m, places), places).replace(new RegExp(`(\\.\\d{${places}})\\d*$`), '$1');
}

/** Amounts at every scale, signs and roundings, from a fixed seed. */
function amounts(): bigint[] {
  const out = [
    0n,
    1n,
    -1n,
    ONE,
    -ONE,
    ONE / 2n,
    -(ONE / 2n),
    5n * 10n ** 9n,
    -5n * 10n ** 9n,
    10n ** 30n + 7n,
  ];
  let x = 12345n;
  for (let i = 0; i < 2000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    const digits = BigInt(1 + (i % 25));
    const v = x % 10n ** digits;
    out.push(i % 2 === 0 ? v : -v, v - (v % 10n ** 10n), v - (v % 10n ** 10n) + 5n * 10n ** 9n);
  }
  return out;
}

describe('money formatting', () => {
  it('formatMoney equals the formatting by decimal text at every minimum of places', () => {
    for (const m of amounts())
      for (const places of [0, 2, 6, 12, 14]) expect(formatMoney(m, places)).toBe(byText(m, places));
  });

  it('formatFixed equals rounding then formatting by decimal text, half away from zero', () => {
    for (const m of amounts())
      for (const places of [0, 1, 2, 4, 12]) expect(formatFixed(m, places)).toBe(fixedByText(m, places));
    expect([
      formatFixed(5n * 10n ** 9n, 2),
      formatFixed(-5n * 10n ** 9n, 2),
      formatFixed(-4n * 10n ** 9n, 2),
    ]).toEqual(['0.01', '-0.01', '0.00']);
  });
});
