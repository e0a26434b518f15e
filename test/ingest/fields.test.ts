import { describe, expect, it } from 'vitest';
import { decimalNumber, decimalText, FieldError, parseTime } from '../../src/ingest/fields.js';

describe('parseTime', () => {
  it.each([
    ['2026-10-01T12:00:00Z', '2026-10-01T12:00:00.000Z'],
    ['2026-10-01T12:00:00.123456789Z', '2026-10-01T12:00:00.123Z'],
    ['2026-10-01T14:30:00+02:30', '2026-10-01T12:00:00.000Z'],
    ['2026-10-01T07:00:00-0500', '2026-10-01T12:00:00.000Z'],
    ['2026-10-01 12:00:00.5', '2026-10-01T12:00:00.500Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('%s', (text, iso) => {
    expect(new Date(parseTime(text, 'time', false)).toISOString()).toBe(iso);
  });

  it.each([
    '2026-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-10-01T24:00:00Z',
    'Thu, 01 Oct 2026',
    '1790812800',
  ])('rejects %s', (text) => {
    expect(() => parseTime(text, 'time', false)).toThrow(FieldError);
  });
});

describe('decimals', () => {
  it.each([
    ['0.0100', '0.01'],
    ['1.024e-05', '0.00001024'],
    ['1.5E3', '1500'],
    ['007', '7'],
    ['0', '0'],
    ['0.000123456789012345678', '0.000123456789012345678'],
  ])('%s → %s', (text, out) => {
    expect(decimalText(text, 'spend')).toBe(out);
  });

  it('writes a JSON number with its shortest round-trip digits, never through float arithmetic', () => {
    expect(decimalNumber(0.1 + 0.2, 'spend')).toBe('0.30000000000000004');
    expect(decimalNumber(1.5e-7, 'spend')).toBe('0.00000015');
    expect(decimalNumber(1e14, 'spend')).toBe('100000000000000');
    // An amount of 10^15 currency units or more is out of range (src/ingest/limits.ts).
    expect(() => decimalNumber(1e21, 'spend')).toThrow(/out of range/);
  });
});
