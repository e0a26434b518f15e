import { describe, expect, it } from 'vitest';
import { jsonShape, tooDeepAt } from '../../src/ingest/limits.js';

describe('jsonShape: the bounds of a request body in one scan', () => {
  it('counts the top-level elements of an array, not commas in strings or nested values', () => {
    expect(jsonShape('[{"a":1,"b":[1,2,3]},{"c":"x,y,[z"},3]').elements).toBe(3);
    expect(jsonShape('  [1]').elements).toBe(1);
    expect(jsonShape('{"a":1,"b":2}').elements).toBe(0);
    expect(jsonShape(`[${'{},'.repeat(999)}{}]`).elements).toBe(1000);
  });

  it('counts objects and arrays, skipping strings with escaped quotes', () => {
    expect(jsonShape('[{"a":"\\"{["},[],{"b":{}}]').containers).toBe(5);
    expect(jsonShape('"[{"').containers).toBe(0);
  });

  it('finds the same first place past the depth bound as tooDeepAt', () => {
    for (const text of [
      `${'['.repeat(70)}${']'.repeat(70)}`,
      `{"a":"${'['.repeat(100)}","b":${'{"c":'.repeat(65)}1${'}'.repeat(65)}}`,
      `[${'['.repeat(10)}]`,
      '["unterminated [[[[',
    ])
      expect(jsonShape(text, 64).tooDeepAt).toBe(tooDeepAt(text, 64));
    expect(jsonShape(`${'['.repeat(70)}${']'.repeat(70)}`, 64).tooDeepAt).toBe(64);
  });
});
