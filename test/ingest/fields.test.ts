import fc from 'fast-check';
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

  // The reading by character codes and the calendar by arithmetic give what the regular expression and Date gave.
  it('reads every text as the regular expression and Date did', () => {
    const two = (lo: number, hi: number) =>
      fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(2, '0'));
    const text = fc
      .tuple(
        fc.constantFrom(' ', '', ''),
        fc.constantFrom('1969', '1970', '2000', '2024', '2025', '2100', '20x6'),
        fc.constantFrom('-', '-', '/'),
        two(0, 13),
        two(0, 32),
        fc.constantFrom('T', 't', ' ', 'x', ''),
        two(0, 24),
        two(0, 60),
        fc.constantFrom(':', ':', '.'),
        two(0, 60),
        fc.constantFrom('', '.', '.5', '.12', '.123', '.123456789', ',9', '.1a', '.'.padEnd(30, '7')),
        fc.constantFrom('Z', 'z', '', ' Z', '+02:30', '-0500', '+24:00', 'ZZ', 'Z '),
      )
      .map(([pre, y, dash, mo, d, t, h, mi, colon, sec, frac, zone]) =>
        t === ''
          ? `${pre}${y}-${mo}${dash}${d}${zone}`
          : `${pre}${y}-${mo}${dash}${d}${t}${h}:${mi}${colon}${sec}${frac}${zone}`,
      );
    const outcome = (f: () => number) => {
      try {
        return f();
      } catch (e) {
        return (e as FieldError).reason;
      }
    };
    fc.assert(
      fc.property(text, fc.boolean(), (s, zone) => {
        expect(outcome(() => parseTime(s, 'time', zone))).toEqual(outcome(() => regexTime(s, zone)));
      }),
      { numRuns: 20_000, seed: 16 },
    );
  });
});

/** parseTime as it was before its fast path (the reference the test above compares with). */
function regexTime(s: string, zoneRequired: boolean): number {
  const ISO =
    /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
  const bad = (reason: string) => {
    throw new FieldError('time', reason);
  };
  const m = ISO.exec(s.trim());
  if (!m) return bad(`is not an ISO-8601 time: "${s}"`);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', z, sign, oh, om] = m;
  if (zoneRequired && ((z === undefined && sign === undefined) || m[4] === undefined))
    return bad(`must be an ISO-8601 time with a time zone (e.g. 2026-10-01T12:00:00Z), got "${s}"`);
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, sec].map(Number) as number[];
  const ms = frac === '' ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  if ((year as number) < 1970) return bad(`is before 1970: "${s}"`);
  const base = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, ms);
  const check = new Date(base);
  if (
    (month as number) < 1 ||
    (month as number) > 12 ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== (month as number) - 1 ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59
  )
    return bad(`is not a valid time: "${s}"`);
  if (sign === undefined) return base;
  if (Number(oh) > 23 || Number(om) > 59) return bad(`has an invalid UTC offset: "${s}"`);
  const offset = (Number(oh) * 60 + Number(om)) * 60_000;
  return sign === '+' ? base - offset : base + offset;
}

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
