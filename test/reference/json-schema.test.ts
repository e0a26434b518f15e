// The test validator must reject what the schema forbids, keyword by keyword;
// otherwise a schema test that passes would prove nothing.
import { describe, expect, it } from 'vitest';
import { type Schema, validate } from './json-schema.js';

const ok = (schema: Schema, value: unknown) => expect(validate(schema, value)).toEqual([]);
const bad = (schema: Schema, value: unknown, path: string, message: RegExp) => {
  const errors = validate(schema, value);
  expect(errors.length, JSON.stringify(value)).toBeGreaterThan(0);
  expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
};

describe('the JSON Schema subset validator', () => {
  it('checks types, with integer apart from number and null as its own type', () => {
    ok({ type: 'integer' }, 3);
    bad({ type: 'integer' }, 3.5, '', /must be integer, not number/);
    bad({ type: 'string' }, null, '', /must be string, not null/);
    ok({ type: ['string', 'null'] }, null);
    bad({ type: 'object' }, [], '', /not array/);
    bad({ type: 'array' }, {}, '', /not object/);
  });

  it('checks enum, const, pattern, minLength, minimum, maximum and exclusiveMinimum', () => {
    bad({ enum: ['ok', 'error'] }, 'failed', '', /one of/);
    ok({ enum: ['ok', null] }, null);
    bad({ const: 'team' }, 'admin', '', /must be "team"/);
    bad({ pattern: '^[A-Z]{3}$' }, 'usd', '', /must match/);
    ok({ pattern: '^[A-Z]{3}$' }, 5); // pattern applies to strings only, as in JSON Schema
    bad({ minLength: 1 }, '', '', /at least 1 characters/);
    bad({ minimum: 0 }, -1, '', /at least 0/);
    bad({ maximum: 100 }, 101, '', /at most 100/);
    bad({ exclusiveMinimum: 0 }, 0, '', /more than 0/);
  });

  it('checks objects: required, properties, additionalProperties, minProperties', () => {
    const s: Schema = {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, n: { type: 'integer' } },
      additionalProperties: false,
    };
    ok(s, { id: 'a', n: 1 });
    bad(s, { n: 1 }, '/id', /is required/);
    bad(s, { id: 'a', n: 'x' }, '/n', /must be integer/);
    bad(s, { id: 'a', typo: 1 }, '/typo', /is not allowed/);
    bad({ additionalProperties: { type: 'number' } }, { a: 'x' }, '/a', /must be number/);
    bad({ minProperties: 1 }, {}, '', /at least 1 properties/);
  });

  it('checks arrays: items with the index in the path, minItems', () => {
    bad({ items: { type: 'string' } }, ['a', 2], '/1', /must be string/);
    bad({ minItems: 1 }, [], '', /at least 1 items/);
  });

  it('checks anyOf (at least one) and oneOf (exactly one)', () => {
    const money: Schema = {
      anyOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', pattern: '^\\d+$' },
      ],
    };
    ok(money, 2);
    ok(money, '2');
    bad(money, '-2', '', /none of anyOf/);
    const one: Schema = { oneOf: [{ required: ['per_call'] }, { required: ['per_query'] }] };
    ok(one, { per_call: 1 });
    bad(one, { per_call: 1, per_query: 1 }, '', /matches 2 branches/);
    bad(one, {}, '', /none of oneOf/);
  });

  it('follows local $ref against the root, and nests paths', () => {
    const root: Schema = {
      $defs: { money: { type: 'string', pattern: '^-?\\d+\\.\\d{2,12}$' } },
      type: 'object',
      properties: { lines: { type: 'array', items: { properties: { cost: { $ref: '#/$defs/money' } } } } },
    };
    ok(root, { lines: [{ cost: '1.50' }] });
    bad(root, { lines: [{ cost: '1.5' }] }, '/lines/0/cost', /must match/);
    expect(() => validate({ $ref: '#/$defs/missing' }, 1)).toThrow(/nothing/);
  });

  it('refuses a keyword it does not implement, so that no rule is silently skipped', () => {
    expect(() => validate({ if: { type: 'string' } }, 1)).toThrow(/unsupported JSON Schema keyword "if"/);
    expect(() => validate({ properties: { a: { uniqueItems: true } } }, { a: [] })).toThrow(/uniqueItems/);
    expect(validate(false, 1)).toEqual([{ path: '', message: 'is not allowed' }]);
  });
});
