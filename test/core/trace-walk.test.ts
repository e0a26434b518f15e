// The order in which a span stored more than once is merged (src/core/trace-walk.ts): texts by code
// point, as DuckDB compares VARCHARs and PostgreSQL compares under COLLATE "C" (bytes of UTF-8), so
// that the walk in JavaScript and in the stores' SQL picks the same parent and tenant claim.
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { codePointOrder } from '../../src/core/trace-walk.js';

/** Texts around the places where UTF-16 order and code point order part: U+D7FF, U+E000–U+FFFF, astral. */
const TEXTS = [
  '',
  'a',
  'ab',
  'b',
  '\u0000',
  '\u007f',
  'é',
  '\ud7ff',
  '\ue000',
  '\uffef',
  '\ufffd',
  '😀',
  '𝔸',
  'a😀',
  'a\uffff',
  '😀a',
];

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('codePointOrder', () => {
  it('orders texts as their UTF-8 bytes do', () => {
    for (const a of TEXTS)
      for (const b of TEXTS) expect([a, b, Math.sign(codePointOrder(a, b))]).toEqual([a, b, bytes(a, b)]);
  });

  it('orders as DuckDB orders VARCHARs', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const rows = TEXTS.map((_, i) => `(${i}, ?)`).join(', ');
      const reader = await conn.runAndReadAll(
        `SELECT i FROM (VALUES ${rows}) v(i, t) ORDER BY t`,
        TEXTS.map((t) => t),
      );
      const duck = reader.getRows().map(([i]) => TEXTS[Number(i)]);
      expect(duck).toEqual([...TEXTS].sort(codePointOrder));
      // JavaScript's own order of strings differs here: an astral character before U+E000–U+FFFF.
      expect([...TEXTS].sort()).not.toEqual(duck);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
