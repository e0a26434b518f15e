import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type Schema, validate } from './json-schema.js';

/** A schema shipped in `schemas/`, read as users get it. */
export function loadSchema(name: 'tally-config' | 'canonical-event' | 'statement'): Schema {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8'));
}

/** Fails with every error and the document's name, so a failure says what to fix. */
export function expectValid(schema: Schema, doc: unknown, what: string, root?: Schema): void {
  const errors = validate(schema, doc, root);
  expect(errors, `${what}: ${JSON.stringify(errors.slice(0, 5))}`).toEqual([]);
}

export function expectInvalid(schema: Schema, doc: unknown, what: string, root?: Schema): void {
  expect(validate(schema, doc, root).length, `${what} should be rejected`).toBeGreaterThan(0);
}
