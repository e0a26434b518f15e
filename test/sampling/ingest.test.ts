// Adjusted counts at ingest (SPEC §11): the OpenTelemetry tracestate
// threshold, the canonical field, both canonical paths and both stores.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import {
  adjustedCountFromTraceState,
  adjustedCountOf,
  parseRational,
  rationalText,
  thresholdFor,
} from '../../src/core/sampling.js';
import { ingestFile } from '../../src/service/ingest.js';
import { NOW, parseText } from '../ingest/helpers.js';
import { ADAPTERS, DUCKDB, openFresh } from '../store/adapters.js';
import { contentHash } from '../store/contract.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the OpenTelemetry threshold', () => {
  it('turns th into the adjusted count 2^56 / (2^56 − th), exactly', () => {
    // The spec's and the Collector README's examples: th:8 is 50 %, th:c 25 %, th:0 100 %.
    expect(adjustedCountFromTraceState('ot=th:8', 'f'.repeat(32))).toBe('2');
    expect(adjustedCountFromTraceState('ot=th:c;rv:e05a99c8df8d32', TRACE)).toBe('4');
    expect(adjustedCountFromTraceState('ot=th:0', TRACE)).toBeNull();
    expect(adjustedCountFromTraceState('vendor=x,ot=th:8;rv:9b8233f7e3a151', TRACE)).toBe('2');
    // 1 % at five digits (fd70a4): not a finite decimal, kept as a fraction.
    const one = adjustedCountFromTraceState('ot=th:fd70a4', 'f'.repeat(32)) as string;
    const r = parseRational(one);
    expect(r).not.toBeNull();
    expect(r && Number(r.n) / Number(r.d)).toBeCloseTo(100, 3);
    // 2^56 / (2^56 − 0xfd70a400000000) in lowest terms.
    expect(one).toBe('4194304/41943');
    expect(rationalText({ n: 5n, d: 4n })).toBe('1.25');
  });

  it('has no adjusted count without a threshold (no ot member, or rv alone)', () => {
    expect(adjustedCountFromTraceState('congo=t61rcWkgMzE', TRACE)).toBeNull();
    expect(adjustedCountFromTraceState('ot=rv:9b8233f7e3a151', TRACE)).toBeNull();
  });

  it('refuses a malformed or inconsistent threshold, naming the sub-key', () => {
    expect(() => adjustedCountFromTraceState('ot=th:G', TRACE)).toThrow(/ot\.th must be 1 to 14/);
    expect(() => adjustedCountFromTraceState('ot=th:123456789abcdef', TRACE)).toThrow(/ot\.th/);
    expect(() => adjustedCountFromTraceState('ot=th:8;rv:123', TRACE)).toThrow(/ot\.rv must be 14/);
    // rv below the threshold: a consistent sampler at th would have dropped the span.
    expect(() => adjustedCountFromTraceState('ot=th:c;rv:1b8233f7e3a151', TRACE)).toThrow(/inconsistent/);
    // Without rv the randomness is the trace id's last 56 bits.
    expect(() => adjustedCountFromTraceState('ot=th:f', `${'0'.repeat(18)}${'1'.repeat(14)}`)).toThrow(
      /trace id/,
    );
    expect(() => adjustedCountFromTraceState('ot=th:8;th:c', TRACE)).toThrow(/twice/);
  });

  it('writes the threshold an SDK writes for a probability, and reads it back as 1/p', () => {
    expect(thresholdFor({ n: 1n, d: 2n })).toBe('8');
    expect(thresholdFor({ n: 1n, d: 4n })).toBe('c');
    expect(thresholdFor({ n: 1n, d: 1n })).toBe('0');
    const tenth = adjustedCountFromTraceState(`ot=th:${thresholdFor({ n: 1n, d: 10n })}`, 'f'.repeat(32));
    const r = parseRational(tenth as string);
    expect(r && Number(r.n) / Number(r.d)).toBeCloseTo(10, 9);
  });
});

describe('the canonical adjusted_count', () => {
  it('is a decimal ≥ 1, normalised; 1 means unsampled', () => {
    expect(adjustedCountOf('10')).toBe('10');
    expect(adjustedCountOf('010.50')).toBe('10.5');
    expect(adjustedCountOf('1')).toBeNull();
    expect(adjustedCountOf('1.000')).toBeNull();
    expect(() => adjustedCountOf('0.5')).toThrow(/≥ 1/);
    // The exact fraction tally writes for a tracestate threshold reads back as itself (events round-trip).
    expect(adjustedCountOf('36028797018963968/3602879701896397')).toBe('36028797018963968/3602879701896397');
    expect(adjustedCountOf('20/2')).toBe('10');
    expect(() => adjustedCountOf('1/2')).toThrow(/≥ 1/);
    expect(() => adjustedCountOf('1/0')).toThrow(/decimal/);
    expect(() => adjustedCountOf('-2')).toThrow(/decimal/);
    expect(() => adjustedCountOf('1e3')).toThrow(/decimal/);
  });

  it('names the file, line and field of a bad value', async () => {
    const line =
      '{"id":"a","source":"s","time":"2026-10-01T00:00:00Z","operation":"chat","adjusted_count":0.2}';
    await expect(parseText(line, 'jsonl', { file: 'sampled.jsonl' })).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof InputError &&
        e.problems[0]?.file === 'sampled.jsonl' &&
        e.problems[0]?.record === 1 &&
        /adjusted_count/.test(String(e.problems[0]?.field ?? e.problems[0]?.reason)),
    );
  });
});

function otlpWith(traceState: string | undefined, traceId = TRACE): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: '00f067aa0ba902b7',
                name: 'chat gpt-4o',
                startTimeUnixNano: String(Date.UTC(2026, 9, 3) * 1e6),
                endTimeUnixNano: String((Date.UTC(2026, 9, 3) + 1000) * 1e6),
                ...(traceState === undefined ? {} : { traceState }),
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: '1000' } },
                  { key: 'gen_ai.usage.output_tokens', value: { intValue: '100' } },
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('OTLP spans', () => {
  it('carry the adjusted count of their tracestate', async () => {
    const { events } = await parseText(otlpWith('ot=th:c;rv:e05a99c8df8d32'), 'otlp');
    expect(events[0]?.adjusted_count).toBe('4');
    const plain = await parseText(otlpWith(undefined), 'otlp');
    expect(plain.events[0]).not.toHaveProperty('adjusted_count');
    // th:0 is 100 %: the span is an unsampled event, exactly as one without a tracestate.
    const all = await parseText(otlpWith('ot=th:0'), 'otlp');
    expect(all.events).toEqual(plain.events);
  });

  it('name the span and the field of an inconsistent threshold', async () => {
    await expect(
      parseText(otlpWith('ot=th:c;rv:0000000000000a'), 'otlp', { file: 't.json' }),
    ).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof InputError &&
        e.problems[0]?.file === 't.json' &&
        /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceState/.test(String(e.problems[0]?.field)) &&
        /inconsistent/.test(e.problems[0]?.reason ?? ''),
    );
  });
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-sampling-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CANONICAL = [
  { id: 's1', adjusted_count: '10' },
  { id: 's2', adjusted_count: 4 },
  { id: 's3', adjusted_count: '2.50' },
  { id: 's4', adjusted_count: '1' },
  { id: 'u1' },
].map((f, i) =>
  JSON.stringify({
    source: 'gw',
    time: `2026-10-0${i + 1}T00:00:00Z`,
    operation: 'chat',
    provider: 'openai',
    model: 'gpt-4o',
    input_tokens: 100 * (i + 1),
    trace_id: `t${i}`,
    ...f,
  }),
);

describe.each(ADAPTERS)('stored adjusted counts ($name)', (adapter) => {
  it('stores them per event, hashes them, and an unsampled event is stored as before', async () => {
    const file = path.join(dir, 'sampled.jsonl');
    await writeFile(file, `${CANONICAL.join('\n')}\n`);
    const store = await openFresh(adapter, dir);
    try {
      await ingestFile(store, file, { format: 'jsonl', skipInvalid: false, now: NOW });
      const events = await store.eventsInWindow({ from: 0, to: NOW });
      const byId = Object.fromEntries(events.map((e) => [e.id, e.adjusted_count]));
      expect(byId).toEqual({ s1: '10', s2: '4', s3: '2.5', s4: undefined, u1: undefined });
      const [batch] = await store.batches();
      expect(batch?.contentSha256).toBe(contentHash(events));
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('the DuckDB bulk canonical path', () => {
  it('stores what the parser stores', async () => {
    const file = path.join(dir, 'sampled.jsonl');
    await writeFile(file, `${CANONICAL.join('\n')}\n`);
    const bulk = await openFresh(DUCKDB, dir);
    const parsedDir = await mkdtemp(path.join(os.tmpdir(), 'tally-sampling-p-'));
    const parsed = await openFresh(DUCKDB, parsedDir);
    try {
      await ingestFile(bulk, file, { format: 'jsonl', skipInvalid: false, now: NOW });
      const { events } = await parseText(`${CANONICAL.join('\n')}\n`, 'jsonl');
      await parsed.ingest('parsed', [events]);
      const order = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
      expect((await bulk.eventsInWindow({ from: 0, to: NOW })).sort(order)).toEqual(
        (await parsed.eventsInWindow({ from: 0, to: NOW })).sort(order),
      );
      expect((await bulk.batches())[0]?.contentSha256).toBe((await parsed.batches())[0]?.contentSha256);
    } finally {
      await bulk.close();
      await parsed.close();
      await rm(parsedDir, { recursive: true, force: true });
    }
  });
});
