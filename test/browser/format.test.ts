/** The dashboard's amounts: exact decimal strings to cents without binary floating point. */
import { describe, expect, test } from 'vitest';
import { cents, centsColumn, precise } from '../../web/src/format.js';

describe('dashboard amounts', () => {
  test('round half away from zero at the cent, grouped by thousands', () => {
    expect(cents('1234567.005')).toBe('$1,234,567.01');
    expect(cents('0.004999999999')).toBe('$0.00');
    expect(cents('-2.675')).toBe('−$2.68');
    expect(cents('71.777474156')).toBe('$71.78');
    expect(cents('5', 'EUR')).toBe('EUR 5.00');
  });

  test('a float would get these wrong; the strings do not', () => {
    expect(cents('1.005')).toBe('$1.01');
    expect(cents('9007199254740993.125')).toBe('$9,007,199,254,740,993.13');
  });

  test('a column of lines rounds to cents that add up to the rounded total', () => {
    const lines = ['0.333333', '0.333333', '0.333334'];
    expect(centsColumn(lines)).toEqual(['$0.33', '$0.33', '$0.34']);
    // Equal remainders: the earlier lines get the cents left over.
    expect(centsColumn(['0.005', '0.005', '0.005'])).toEqual(['$0.01', '$0.01', '$0.00']);
  });

  test('per-event costs keep sub-cent digits', () => {
    expect(precise('0.0060000000')).toBe('$0.006');
    expect(precise('0.1')).toBe('$0.10');
    expect(precise('12.3456789')).toBe('$12.345679');
    expect(precise(null)).toBe('unpriced');
  });
});
