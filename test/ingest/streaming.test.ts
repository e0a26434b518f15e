import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Format } from '../../src/ingest/index.js';
import { fixture, parseText, readFixture } from './helpers.js';

const CASES: [Format, string, string][] = [
  ['otlp', 'otlp', 'agent-trace.json'],
  ['otlp', 'otlp', 'file-exporter.jsonl'],
  ['litellm', 'litellm', 'spend-logs.json'],
  ['litellm', 'litellm', 'spend-logs.csv'],
  ['openai-usage', 'openai-usage', 'pages-array.json'],
  ['anthropic-usage', 'anthropic-usage', 'messages-report.json'],
  ['jsonl', 'canonical', 'events.jsonl'],
  ['csv', 'canonical', 'events.csv'],
];

describe('streaming', () => {
  it.each(CASES)('%s %s/%s: the same events whatever the chunk boundaries', async (format, dir, name) => {
    const whole = await readFixture(format, dir, name);
    const text = readFileSync(fixture(dir, name), 'utf8');
    for (const size of [1, 3, 7, 64]) {
      const split = await parseText(text, 'auto', { size });
      expect(split.events).toEqual(whole.events);
    }
  });

  it('splits array elements correctly around escapes, brackets in strings and multi-byte characters', async () => {
    const value = fc.string({
      unit: fc.constantFrom('a', '"', '\\', '[', ']', '{', '}', ',', 'é', '€', '𝄞', '\n'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 9 }),
        async (tenants, size) => {
          const rows = tenants.map((t, i) => ({
            id: `e${i}`,
            source: 's',
            time: '2026-10-01T00:00:00Z',
            operation: 'chat',
            tenant: t || null,
          }));
          const { events } = await parseText(JSON.stringify(rows, null, 1), 'jsonl', { size });
          expect(events.map((e) => e.tenant)).toEqual(tenants.map((t) => t || null));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('splits CSV cells correctly around quotes, commas and line breaks', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', '"', ',', '\n', 'é', ' ') });
    const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
    await fc.assert(
      fc.asyncProperty(
        fc.array(cell, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 9 }),
        async (services, size) => {
          const lines = services.map((s, i) => `e${i},s,2026-10-01T00:00:00Z,chat,${quote(s)}`);
          const { events } = await parseText(
            `id,source,time,operation,service\r\n${lines.join('\r\n')}\r\n`,
            'csv',
            { size },
          );
          expect(events.map((e) => e.service)).toEqual(services.map((s) => s || null));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hands out chunks of at most chunkSize events', async () => {
    const text = Array.from(
      { length: 7 },
      (_, i) => `{"id":"e${i}","source":"s","time":"2026-10-01T00:00:00Z","operation":"chat"}`,
    ).join('\n');
    const { chunks } = await parseText(text, 'jsonl', { chunkSize: 3 });
    expect(chunks.map((c) => c.events.length)).toEqual([3, 3, 1]);
  });
});
