// The fuzz corpus: every fixture (what real producers write), the small
// reproductions of issue 15, and snippets that have broken parsers before;
// plus the mutations and generators that fast-check draws inputs from.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { FIXTURES } from '../ingest/helpers.js';
import { REPRODUCTIONS } from '../security/reproductions.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const SNIPPETS = [
  '{"resourceSpans":[]},{"resourceSpans":[]}',
  '[{"id":"a","source":"s","time":"2026-10-01T00:00:00Z","operation":"chat"},]',
  '{"id":"a","source":"s","time":"2026-10-01T00:00:00Z","operation":"chat","reported_cost":"1e300000000"}',
  'request_id,call_type,model,startTime,prompt_tokens,completion_tokens,spend\nr1,completion,m,2026-10-01T00:00:00Z,1,1,1e99999\n',
  'id,source,time,operation\n"a,s,2026-10-01T00:00:00Z,chat\n',
  '{"object":"page","data":[{"start_time":1790000000,"end_time":1790086400,"results":[{"input_tokens":9007199254740993}]}]}',
  '{"data":[{"starting_at":"0001-01-01T00:00:00Z","ending_at":"9999-12-31T00:00:00Z","results":[{}]}],"has_more":false}',
  `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","startTimeUnixNano":"1790000000000000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"99999999999999999999"}}]}]}]}]}`,
];

/** Protobuf field: tag and value (varint for numbers, length-delimited for bytes). */
function pb(no: number, v: Buffer | number | bigint): Buffer {
  const varint = (n: bigint): number[] => {
    const out: number[] = [];
    let x = n;
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    return out;
  };
  if (Buffer.isBuffer(v))
    return Buffer.from([...varint(BigInt((no << 3) | 2)), ...varint(BigInt(v.length)), ...v]);
  return Buffer.from([...varint(BigInt(no << 3)), ...varint(BigInt(v))]);
}

const str = (s: string) => Buffer.from(s);
/** A KeyValue as field `no` of its message (9 in a Span, 1 in a Resource). */
const kv = (no: number, key: string, value: Buffer) => pb(no, Buffer.concat([pb(1, str(key)), pb(2, value)]));

/**
 * An OTLP ExportTraceServiceRequest in protobuf: one chat span with usage, one nested attribute
 * (field numbers from opentelemetry-proto: collector/trace/v1, trace/v1, common/v1, resource/v1).
 */
export function protobufSeed(): Buffer {
  const start = Buffer.alloc(8);
  start.writeBigUInt64LE(1_790_000_000_000_000_000n);
  const span = Buffer.concat([
    pb(1, Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex')),
    pb(2, Buffer.from('00f067aa0ba902b7', 'hex')),
    pb(5, str('chat m1')),
    Buffer.concat([Buffer.from([(7 << 3) | 1]), start]),
    kv(9, 'gen_ai.operation.name', pb(1, str('chat'))),
    kv(9, 'gen_ai.request.model', pb(1, str('m1'))),
    kv(9, 'gen_ai.usage.input_tokens', pb(3, 1200)),
    kv(9, 'gen_ai.usage.output_tokens', pb(3, 300)),
    kv(
      9,
      'tally.nested',
      pb(6, pb(1, Buffer.concat([pb(1, str('k')), pb(2, pb(5, pb(1, pb(1, str('v')))))]))),
    ),
  ]);
  const resource = pb(1, kv(1, 'service.name', pb(1, str('svc-a'))));
  return pb(1, Buffer.concat([resource, pb(2, pb(2, span))]));
}

/** The planted raw key (the worker fails an input whose error or reply shows it). */
export const PLANTED_KEY = 'sk-proj-0123456789abcdefghijklmnopqrstuv';

/** The planted key in every field of a canonical event, as JSON lines and as CSV. */
function plantedSeeds(): Buffer[] {
  const base = { id: 'p', source: 's', time: '2026-10-01T12:00:00Z', operation: 'chat' };
  const fields = [
    ...Object.keys(base),
    'input_tokens',
    'requests',
    'api_key',
    'status',
    'reported_cost',
    'trace_id',
  ];
  const lines = fields.map((f) => JSON.stringify({ ...base, [f]: PLANTED_KEY }));
  const csv = fields.map((f) => {
    const row: Record<string, string> = { ...base, [f]: PLANTED_KEY };
    return fields.map((c) => row[c] ?? '').join(',');
  });
  return [Buffer.from(lines.join('\n')), Buffer.from([fields.join(','), ...csv].join('\n'))];
}

/** Every seed as bytes: fixtures, reproductions under 256 KB, snippets, and a gzip of a few. */
export function seeds(): Buffer[] {
  const out: Buffer[] = files(FIXTURES)
    .filter((f) => !f.endsWith('.md'))
    .map((f) => readFileSync(f));
  for (const r of REPRODUCTIONS) {
    const b = r.bytes();
    if (b.length <= 256 * 1024) out.push(b);
  }
  out.push(...SNIPPETS.map((s) => Buffer.from(s)), protobufSeed(), ...plantedSeeds());
  out.push(...out.slice(0, 4).map((b) => gzipSync(b)));
  return out;
}

/** Tokens that have broken parsers: separators, huge numbers, odd times, deep nesting, bad bytes. */
const TOKENS: Buffer[] = [
  ',',
  '}',
  ']',
  '{',
  '[',
  '"',
  '\\',
  '\n',
  '\r\n',
  '\u0000',
  ' ',
  '1e999999999',
  '-1',
  '9007199254740993',
  '1e-400',
  '0.1e30',
  '"0099-01-01T00:00:00Z"',
  '"2026-10-01T00:00:00+99:99"',
  '"99999999999999999999999"',
  'null',
  'true',
  '"sk-proj-0123456789abcdefghijklmnopqrstuv"',
  '=HYPERLINK("x")',
  '['.repeat(100),
  '{"a":'.repeat(100),
  '\u2028',
  '\ufeff',
].map((s) => Buffer.from(s));
TOKENS.push(
  Buffer.from([0xff]),
  Buffer.from([0xc3]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x1f, 0x8b]),
);

type Mutation = (b: Buffer, r: number, s: number) => Buffer;

const MUTATIONS: Mutation[] = [
  // flip a byte
  (b, r, s) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[r % c.length] = s % 256;
    return c;
  },
  // insert a token
  (b, r, s) => {
    const at = b.length === 0 ? 0 : r % (b.length + 1);
    return Buffer.concat([b.subarray(0, at), TOKENS[s % TOKENS.length] as Buffer, b.subarray(at)]);
  },
  // delete a stretch
  (b, r, s) => {
    const at = b.length === 0 ? 0 : r % b.length;
    return Buffer.concat([b.subarray(0, at), b.subarray(at + (s % 64))]);
  },
  // repeat a stretch
  (b, r, s) => {
    const at = b.length === 0 ? 0 : r % b.length;
    const piece = b.subarray(at, at + 1 + (s % 256));
    return Buffer.concat([b.subarray(0, at), piece, piece, piece, b.subarray(at)]);
  },
  // cut off
  (b, r) => b.subarray(0, b.length === 0 ? 0 : r % b.length),
];

/** A seed changed by up to eight mutations. */
export function mutated(corpus: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const step = fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), fc.nat());
  return fc
    .tuple(fc.constantFrom(...corpus), fc.array(step, { maxLength: 8 }))
    .map(([seed, steps]) =>
      steps.reduce((b, [m, r, s]) => (MUTATIONS[m] as Mutation)(b, r, s), seed as Buffer),
    );
}

const FIELDS = [
  'id',
  'source',
  'time',
  'operation',
  'provider',
  'model',
  'input_tokens',
  'output_tokens',
  'requests',
  'api_key',
  'service',
  'tenant',
  'trace_id',
  'span_id',
  'parent_span_id',
  'status',
  'reported_cost',
];

const value = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '2026-10-01T12:00:00Z',
    '0001-01-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    'chat',
    'ok',
    'error',
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -0, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Canonical events with arbitrary values, as JSON lines, a JSON array or CSV. */
export const canonicalText: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: FIELDS.length }), {
      minLength: 1,
      maxLength: 20,
    }),
    fc.constantFrom('jsonl', 'array', 'csv'),
  )
  .map(([records, shape]) => {
    const full = records.map((r) => ({
      id: 'x',
      source: 's',
      time: '2026-10-01T12:00:00Z',
      operation: 'chat',
      ...r,
    }));
    if (shape === 'jsonl') return Buffer.from(full.map((r) => JSON.stringify(r)).join('\n'));
    if (shape === 'array') return Buffer.from(JSON.stringify(full));
    const cols = FIELDS;
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
    };
    return Buffer.from(
      [
        cols.join(','),
        ...full.map((r) => cols.map((c) => cell((r as Record<string, unknown>)[c])).join(',')),
      ].join('\n'),
    );
  });

/** Well-formed canonical events (arbitrary ids, names and counts), so that success paths are fuzzed too. */
export const validEvents: fc.Arbitrary<{
  records: Record<string, unknown>[];
  ndjson: Buffer;
  array: Buffer;
}> = fc
  .array(
    fc.record({
      id: fc.string({ minLength: 1 }),
      source: fc.string({ minLength: 1 }),
      time: fc
        .date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2026-11-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString()),
      operation: fc.constantFrom('chat', 'embeddings', 'execute_tool', 'invoke_agent'),
      provider: fc.option(fc.string(), { nil: null }),
      model: fc.option(fc.string(), { nil: null }),
      input_tokens: fc.nat(),
      output_tokens: fc.nat(),
      service: fc.option(fc.constantFrom('svc-a', 'svc-b', 'sk-proj-0123456789abcdefghijklmnop'), {
        nil: null,
      }),
      reported_cost: fc.option(fc.constantFrom('0', '1.25', '0.000001', '99999999999999'), { nil: null }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((records) => ({
    records,
    ndjson: Buffer.from(records.map((r) => JSON.stringify(r)).join('\n')),
    array: Buffer.from(JSON.stringify(records)),
  }));

/** Any JSON at all, and arbitrary bytes. */
export const anyJson: fc.Arbitrary<Buffer> = fc
  .jsonValue({ maxDepth: 6 })
  .map((v) => Buffer.from(JSON.stringify(v)));
export const anyBytes: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a));

export const FORMATS = [
  'auto',
  'otlp',
  'litellm',
  'openai-usage',
  'anthropic-usage',
  'jsonl',
  'csv',
] as const;
