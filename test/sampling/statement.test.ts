// Sampled telemetry through the store into the statement (SPEC §11), on
// every adapter: what an SDK sampling at 25 % exports, weighed by 4; and
// unsampled data (adjusted counts of 1) giving the statement of today, byte
// for byte.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { statementJson } from '../../src/core/statement.js';
import { ingestFile } from '../../src/service/ingest.js';
import { computeStatement } from '../../src/service/statement.js';
import { NOW } from '../ingest/helpers.js';
import { ev } from '../statement/helpers.js';
import { ADAPTERS, openFresh } from '../store/adapters.js';
import { OCT, WORLD } from './world.js';

interface Span {
  trace: string;
  span: string;
  key: string;
  traceState?: string;
}

/** OTLP/HTTP JSON as an SDK exports it: each span with its tracestate. */
function otlp(spans: Span[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            scope: { name: 'opentelemetry.instrumentation.openai' },
            spans: spans.map((s) => ({
              traceId: s.trace,
              spanId: s.span,
              name: 'chat m1',
              kind: 3,
              startTimeUnixNano: String(Date.UTC(2026, 9, 5) * 1e6),
              endTimeUnixNano: String((Date.UTC(2026, 9, 5) + 900) * 1e6),
              ...(s.traceState ? { traceState: s.traceState } : {}),
              attributes: [
                { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                { key: 'gen_ai.provider.name', value: { stringValue: 'acme' } },
                { key: 'gen_ai.request.model', value: { stringValue: 'm1' } },
                { key: 'tally.api_key', value: { stringValue: s.key } },
                { key: 'gen_ai.usage.input_tokens', value: { intValue: '1000' } },
                { key: 'gen_ai.usage.output_tokens', value: { intValue: '100' } },
              ],
            })),
          },
        ],
      },
    ],
  });
}

// Randomness e05a99c8df8d32 ≥ th:c (25 %): kept, adjusted count 4.
const SAMPLED = 'ot=th:c;rv:e05a99c8df8d32';
const T1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const T2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const T3 = 'cccccccccccccccccccccccccccccccc';

describe.each(ADAPTERS)('sampled spans in a statement ($name)', (adapter) => {
  it('weigh each kept span by its adjusted count and mark the line estimated', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-sampled-'));
    const store = await openFresh(adapter, dir);
    try {
      const file = path.join(dir, 'traces.json');
      await writeFile(
        file,
        otlp([
          { trace: T1, span: '1111111111111111', key: 'key-a', traceState: SAMPLED },
          { trace: T1, span: '2222222222222222', key: 'key-a', traceState: SAMPLED },
          { trace: T2, span: '3333333333333333', key: 'key-a', traceState: SAMPLED },
          { trace: T3, span: '4444444444444444', key: 'key-c' },
        ]),
      );
      await ingestFile(store, file, { format: 'otlp', skipInvalid: false, now: NOW });
      const { statement } = await computeStatement(store, WORLD, OCT);
      const json = statementJson(statement) as {
        totals: Record<string, unknown>;
        lines: Array<Record<string, unknown>>;
        inputs: { events: number };
      };
      const a = json.lines.find((l) => l.team === 'team-a') as Record<string, unknown>;
      // One span: 1000 input at $1/M + 100 output at $2/M = $0.0012; three kept spans × 4.
      expect(a.effective_cost).toBe('0.0144');
      expect(a.events).toBe(12);
      expect(a.input_tokens).toBe(12000);
      expect(a.estimated).toBe(true);
      // Two traces kept: T1 ($0.0024 observed) and T2 ($0.0012); the interval lies around 0.0144.
      const [low, high] = (a.effective_cost_ci95 as string[]).map(Number) as [number, number];
      expect(low).toBeGreaterThanOrEqual(0.0036);
      expect(low).toBeLessThan(0.0144);
      expect(high).toBeGreaterThan(0.0144);
      const c = json.lines.find((l) => l.team === 'team-c') as Record<string, unknown>;
      expect(c.effective_cost).toBe('0.0012');
      expect(c).not.toHaveProperty('estimated');
      expect(json.totals.effective_cost).toBe('0.0156');
      expect(json.totals.estimated).toBe(true);
      // The inputs count the events read, not the estimate.
      expect(json.inputs.events).toBe(4);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an adjusted count of 1 gives the statement of unsampled data, byte for byte', async () => {
    const arbEvent = fc.record({
      key: fc.constantFrom('key-a', 'key-b', 'key-c', 'key-unknown'),
      day: fc.integer({ min: 1, max: 28 }),
      input: fc.integer({ min: 0, max: 100_000 }),
      output: fc.integer({ min: 0, max: 10_000 }),
      trace: fc.option(fc.constantFrom('t1', 't2', 't3'), { nil: null }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(arbEvent, { minLength: 1, maxLength: 12 }), async (raw) => {
        const events: UsageEvent[] = raw.map((r, i) =>
          ev(`e${i}`, `2026-10-${String(r.day).padStart(2, '0')}T10:00:00Z`, {
            api_key: r.key,
            input_tokens: r.input,
            output_tokens: r.output,
            trace_id: r.trace,
            span_id: r.trace ? `s${i}` : null,
          }),
        );
        const plain = await statementBytes(adapter, (file) =>
          writeFile(file, events.map((e) => line(e, {})).join('\n')),
        );
        const ones = await statementBytes(adapter, (file) =>
          writeFile(
            file,
            events.map((e, i) => line(e, { adjusted_count: i % 2 ? '1' : '1.000' })).join('\n'),
          ),
        );
        expect(ones).toBe(plain);
      }),
      { numRuns: 6, seed: 13 },
    );
  });
});

function line(e: UsageEvent, extra: Record<string, unknown>): string {
  return JSON.stringify({ ...e, time: new Date(e.time).toISOString(), ...extra });
}

async function statementBytes(
  adapter: (typeof ADAPTERS)[number],
  write: (file: string) => Promise<void>,
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-ones-'));
  const store = await openFresh(adapter, dir);
  try {
    const file = path.join(dir, 'events.jsonl');
    await write(file);
    await ingestFile(store, file, { format: 'jsonl', skipInvalid: false, now: NOW });
    const { statement } = await computeStatement(store, WORLD, OCT);
    return JSON.stringify(statementJson(statement));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
