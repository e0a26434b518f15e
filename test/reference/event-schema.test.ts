// schemas/canonical-event.schema.json is true to tally's canonical parser: the
// events tally's own generators and fixtures write validate, every format's
// mapper produces events that validate, and what the parser rejects the
// schema rejects.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_FIELDS, type UsageEvent } from '../../src/core/event.js';
import { generateDemo, writeCanonicalJsonl } from '../../src/demo/index.js';
import { canonicalEvent, checkCanonicalHeader } from '../../src/ingest/canonical.js';
import { parseFile } from '../../src/ingest/index.js';
import { removeTempDirs, tempDir } from '../demo/helpers.js';
import { expectInvalid, expectValid, loadSchema } from './helpers.js';

afterAll(removeTempDirs);

const schema = loadSchema('canonical-event');
const NOW = Date.UTC(2026, 10, 2);
const fixture = (name: string) => new URL(`../fixtures/canonical/${name}`, import.meta.url);
const properties = (schema as { properties: Record<string, unknown> }).properties;

/** A stored event as a canonical JSON record (what a `jsonl` line holds). */
const asRecord = (e: UsageEvent) => ({ ...e, time: new Date(e.time).toISOString() });

describe('the canonical event schema', () => {
  it('accepts every event of the canonical fixtures, which tally parses', () => {
    const lines = readFileSync(fixture('events.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBe(3);
    for (const [i, line] of lines.entries()) {
      const rec = JSON.parse(line);
      expect(() => canonicalEvent(rec, false, NOW)).not.toThrow();
      expectValid(schema, rec, `events.jsonl record ${i + 1}`);
    }
  });

  it("names every column of the canonical CSV fixture, and every one of tally's fields", () => {
    const header = (readFileSync(fixture('events.csv'), 'utf8').split('\n')[0] as string).split(',');
    checkCanonicalHeader(header);
    for (const column of header) expect(properties, column).toHaveProperty(column);
    for (const field of EVENT_FIELDS) expect(properties, field).toHaveProperty(field);
    const required = (schema as { required: string[] }).required;
    for (const field of required)
      expect(() => checkCanonicalHeader(required.filter((f) => f !== field))).toThrow();
  });

  it('accepts the events tally reads from both canonical fixtures, written back as records', async () => {
    let n = 0;
    for (const name of ['events.jsonl', 'events.csv']) {
      for await (const chunk of parseFile(fixture(name).pathname, 'auto', { now: NOW, skipInvalid: false })) {
        for (const e of chunk.events) expectValid(schema, asRecord(e), `${name} ${e.id}`);
        n += chunk.events.length;
      }
    }
    expect(n).toBe(6);
  });

  it('accepts every line the benchmark generator writes', async () => {
    const file = path.join(tempDir('bench-events'), 'events.jsonl');
    await writeCanonicalJsonl(file, {
      events: 2_000,
      identities: 10,
      applications: 4,
      tenants: 3,
      agentShare: 0.3,
      month: '2026-10',
      seed: 9,
    });
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2_000);
    for (const [i, line] of lines.entries()) expectValid(schema, JSON.parse(line), `line ${i + 1}`);
  });

  it('accepts the events every format of the demo maps to (OTLP, LiteLLM, OpenAI and Anthropic usage)', async () => {
    const demo = await generateDemo({ dir: tempDir('demo-events'), events: 600, month: '2026-10', seed: 4 });
    const formats = new Set<string>();
    for (const f of demo.files) {
      for await (const chunk of parseFile(f.path, 'auto', { now: NOW, skipInvalid: false })) {
        for (const e of chunk.events) expectValid(schema, asRecord(e), `${f.format} event ${e.id}`);
        if (chunk.events.length > 0) formats.add(f.format);
      }
    }
    expect([...formats].sort()).toEqual(['anthropic-usage', 'litellm', 'openai-usage', 'otlp']);
  });

  const good = { id: 'e1', source: 's', time: '2026-10-01T12:00:00Z', operation: 'chat', input_tokens: 10 };
  const mistakes: Array<[string, Record<string, unknown>]> = [
    ['a missing id', { ...good, id: undefined }],
    ['an empty source', { ...good, source: '' }],
    ['a time without its zone', { ...good, time: '2026-10-01T12:00:00' }],
    ['a date without a time', { ...good, time: '2026-10-01' }],
    ['a time as epoch milliseconds', { ...good, time: 1790000000000 }],
    ['a negative token count', { ...good, input_tokens: -1 }],
    ['a fractional token count', { ...good, output_tokens: 1.5 }],
    ['a token count as a JSON string', { ...good, input_tokens: '10' }],
    ['an unknown field', { ...good, input_token: 10 }],
    ['an unknown status', { ...good, status: 'failed' }],
    ['a negative reported cost', { ...good, reported_cost: '-0.01' }],
    ['a model that is not a string', { ...good, model: 4 }],
  ];

  it.each(mistakes)('rejects %s, as tally does', (what, rec) => {
    const record = JSON.parse(JSON.stringify(rec));
    expect(() => canonicalEvent(record, false, NOW)).toThrow();
    expectInvalid(schema, record, what);
  });

  it('accepts nulls and empty strings where tally reads them as absent', () => {
    const rec = { ...good, model: null, tenant: '', requests: null, status: '', reported_cost: '' };
    const e = canonicalEvent(rec, false, NOW);
    expect([e.model, e.tenant, e.requests, e.status, e.reported_cost]).toEqual([null, null, 1, 'ok', null]);
    expectValid(schema, rec, 'nulls and empty strings');
  });

  it('accepts the richer usage fields added in this release', () => {
    expectValid(
      schema,
      {
        ...good,
        cache_write_1h_tokens: 5,
        input_audio_tokens: 2,
        output_audio_tokens: 1,
        units: { web_search: 10 },
      },
      'richer usage',
    );
    expectInvalid(schema, { ...good, units: { web_search: -1 } }, 'a negative unit count');
  });
});
