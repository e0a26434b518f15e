/**
 * A server's warm-up, before it listens: sample requests (canonical events, and OTLP traces as
 * protobuf and as JSON) are parsed in every parse worker, and the sample events go through an
 * ingest that is rolled back (`Store.warmWrites`). Nothing is stored. Without it, the code of each
 * step ran for the first time in the first requests, which then took 150–240 ms against a median
 * of ~45 (B7: four concurrent requests of 1,000 events; docs/decisions.md, "A server warmed up
 * before it listens").
 */
import type { Store } from '../store/store.js';
import type { OtlpEncoding, ParsedEvents, ParsedTraces } from './ingest.js';
import { type AttributeJson, encodeTraceRequest, type SpanJson } from './otlp-proto.js';
import type { TracePool } from './trace-pool.js';

/** Records in each sample request: enough for each step's code to be compiled, not only run. */
export const WARM_UP_RECORDS = 1_000;

/** Each sample is parsed this many times in every worker: later rounds run optimised code. */
const ROUNDS = 2;

/** What a warm-up parsed in each worker and rehearsed: a sample that parses short makes it useless. */
export interface WarmedUp {
  /** Events mapped from the canonical sample. */
  events: number;
  /** Events and trace links mapped from each traces sample (protobuf, JSON). */
  fromSpans: { events: number; links: number }[];
  /** Records of any sample that were refused. */
  rejected: number;
}

/** Parses the samples in every worker, then rehearses the store's ingest with the sample events. */
export async function warmUp(pool: TracePool, store: Store, now = Date.now()): Promise<WarmedUp> {
  const eventsBody = Buffer.from(JSON.stringify(sampleEvents(now)));
  const spans = sampleSpans(now);
  const traces: [OtlpEncoding, Buffer][] = [
    ['protobuf', encodeTraceRequest(SAMPLE_RESOURCE, spans)],
    [
      'json',
      Buffer.from(
        JSON.stringify({
          resourceSpans: [{ resource: { attributes: SAMPLE_RESOURCE }, scopeSpans: [{ spans }] }],
        }),
      ),
    ],
  ];
  // Every round parses the same samples; what the last gave is what the warm-up reports.
  let events: ParsedEvents[] = [];
  let fromSpans: ParsedTraces[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    events = (await pool.everywhere(
      { kind: 'events', format: 'canonical', contentType: 'application/json', now },
      eventsBody,
    )) as ParsedEvents[];
    fromSpans = [];
    for (const [encoding, body] of traces)
      fromSpans.push((await pool.everywhere({ kind: 'traces', encoding, now }, body)) as ParsedTraces[]);
  }
  const rehearsal = events[0]?.events ?? [];
  const warmed: WarmedUp = {
    events: rehearsal.length,
    fromSpans: fromSpans.map((p) => ({ events: p[0]?.events.length ?? 0, links: p[0]?.links.length ?? 0 })),
    rejected: [events, ...fromSpans].flat().reduce((n, p) => n + p.rejected, 0),
  };
  await store.warmWrites?.(rehearsal);
  return warmed;
}

const SAMPLE_SOURCE = 'tally-warm-up';
const SAMPLE_RESOURCE: AttributeJson[] = [{ key: 'service.name', value: { stringValue: SAMPLE_SOURCE } }];

/** Canonical events (SPEC §3.1) spread over the hour before `now`. */
function sampleEvents(now: number): Record<string, unknown>[] {
  return Array.from({ length: WARM_UP_RECORDS }, (_, i) => ({
    id: `warm-up-${i}`,
    source: SAMPLE_SOURCE,
    time: new Date(now - 3_600_000 + i * 1_000).toISOString(),
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
    input_tokens: 1_000 + i,
    output_tokens: 200 + (i % 50),
    cache_read_tokens: i % 100,
    service: `${SAMPLE_SOURCE}-${i % 4}`,
  }));
}

/** Pairs of spans: an agent's step (not AI work: a trace link) and the model call under it. */
function sampleSpans(now: number): SpanJson[] {
  const spans: SpanJson[] = [];
  for (let i = 0; i < WARM_UP_RECORDS / 2; i++) {
    const traceId = i.toString(16).padStart(32, '0');
    const parentSpanId = (2 * i + 1).toString(16).padStart(16, '0');
    const start = BigInt(now - 3_600_000 + i * 1_000) * 1_000_000n;
    const times = { startTimeUnixNano: String(start), endTimeUnixNano: String(start + 900_000_000n) };
    spans.push({ traceId, spanId: parentSpanId, name: 'plan step', ...times, attributes: [] });
    spans.push({
      traceId,
      spanId: (2 * i + 2).toString(16).padStart(16, '0'),
      parentSpanId,
      name: 'chat gpt-4o',
      ...times,
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: String(1_000 + i) } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: String(200 + (i % 50)) } },
        { key: 'gen_ai.request.temperature', value: { doubleValue: 0.2 } },
      ],
    });
  }
  return spans;
}
