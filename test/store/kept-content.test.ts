// A batch's content with its digests kept (src/store/audit.ts KeptContent): rows deleted
// after they were hashed are taken out, and the content is the one of the rows that stay.
import { describe, expect, it } from 'vitest';
import { RowTextHasher, rowDigest } from '../../src/store/audit.js';

/** The content of `texts` as batch 1, hashed from scratch. */
function contentOf(texts: readonly string[]) {
  const h = new RowTextHasher();
  for (const t of texts) h.add(1, t);
  return h.finish().get(1);
}

function kept(texts: readonly string[]) {
  const h = new RowTextHasher();
  for (const t of texts) h.add(1, t);
  const c = h.finishKeeping().get(1);
  if (c === undefined) throw new Error('no batch');
  return c;
}

describe('KeptContent', () => {
  // A small batch (one sorted list) and a large one (split into buckets by the first byte).
  it.each([
    ['a small batch', 300],
    ['a large batch', 9_000],
  ])('%s without some rows has the content of the rows that stay', (_, n) => {
    const texts = Array.from({ length: n }, (_, i) => `row ${i}`);
    const c = kept(texts);
    expect({ count: c.count, content: c.content }).toEqual(contentOf(texts));
    const gone = [texts[0], texts[17], texts[n - 1]] as string[];
    expect(c.without(gone.map(rowDigest))).toEqual(contentOf(texts.filter((t) => !gone.includes(t))));
    expect(c.without([])).toEqual(contentOf(texts));
  });

  it('takes out many rows of every bucket at once', () => {
    const texts = Array.from({ length: 9_000 }, (_, i) => `row ${i % 7_000}`);
    const gone = texts.filter((_, i) => i % 5 === 0 || i >= 8_990);
    const stay = texts.filter((_, i) => !(i % 5 === 0 || i >= 8_990));
    expect(kept(texts).without(gone.map(rowDigest))).toEqual(contentOf(stay));
  });

  it('takes out one of two identical rows, and refuses a row it never hashed', () => {
    const texts = ['same', 'same', 'other'];
    const c = kept(texts);
    expect(c.without([rowDigest('same')])).toEqual(contentOf(['same', 'other']));
    expect(c.without([rowDigest('same'), rowDigest('same')])).toEqual(contentOf(['other']));
    expect(() => c.without([rowDigest('never')])).toThrow(/not among the rows hashed/);
    expect(() => c.without([rowDigest('other'), rowDigest('other')])).toThrow(/not among/);
  });
});
