// A usage bucket's slot (SPEC §3.3): the same bucket, whole or cut at a query's
// edge, is one slot.
import { describe, expect, it } from 'vitest';
import { bucketId, bucketSlot, fittingWidth, pageWidth } from '../../src/ingest/buckets.js';

const H = 3_600_000;
const D = 24 * H;
const DAY = Date.UTC(2026, 9, 2);

describe('bucket slots', () => {
  it('finds the smallest aligned width that holds a bucket', () => {
    expect(fittingWidth(DAY, DAY + D)).toBe(D);
    expect(fittingWidth(DAY + 10 * H, DAY + 11 * H)).toBe(H);
    expect(fittingWidth(DAY + 60_000, DAY + 120_000)).toBe(60_000);
    expect(fittingWidth(DAY + 6 * H, DAY + D)).toBe(D); // OpenAI's first bucket from a 06:00 start_time
    expect(fittingWidth(DAY + 12 * H, DAY + D + H)).toBeNull(); // crosses midnight: no aligned slot
    expect(fittingWidth(DAY, DAY)).toBeNull();
  });

  it('gives a partial first bucket, a partial current bucket and the whole bucket one slot', () => {
    const whole = { start: DAY, end: DAY + D };
    expect(bucketSlot(DAY + 6 * H, DAY + D, null)).toEqual(whole);
    expect(bucketSlot(DAY, DAY + 12 * H, null)).toEqual(whole);
    expect(bucketSlot(DAY, DAY + D, null)).toEqual(whole);
  });

  it('takes the width of a page from its widest bucket', () => {
    // A daily page whose first bucket was cut to its last hour (query start 23:00).
    const first = { start: DAY - H, end: DAY };
    const next = { start: DAY, end: DAY + D };
    expect(pageWidth([first, next])).toBe(D);
    expect(bucketSlot(first.start, first.end, D)).toEqual({ start: DAY - D, end: DAY });
    // Alone, the same bucket reads as an hourly one.
    expect(bucketSlot(first.start, first.end, pageWidth([first]))).toEqual(first);
  });

  it('keeps a bucket that fits no slot of the page width as it is', () => {
    expect(bucketSlot(DAY + 12 * H, DAY + D + H, D)).toEqual({ start: DAY + 12 * H, end: DAY + D + H });
  });

  it('builds ids from redacted parts', () => {
    const raw = 'sk-proj-abcdefghijklmnopqrstuvwxyz';
    const id = bucketId(['completions', '1', '2', raw, 'gpt-4o']);
    expect(id).not.toContain(raw);
    expect(id.split('|')).toHaveLength(5);
  });
});
