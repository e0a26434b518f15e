// B1: OTLP ingestion parse rate. Generates OTLP/HTTP JSON trace files with
// realistic GenAI spans (one-document requests and Collector file-exporter
// NDJSON) in the temp dir, parses them with parseFile (parse + normalise to
// canonical events, no store) and reports spans per second. Also measures the
// JS parser on canonical JSONL, for information. Run `npm run build` first.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseFile } from '../dist/ingest/index.js';

const TARGET = 300_000;
const DOC_FILES = 3;
const DOC_SPANS = 60_000;
const NDJSON_FILES = 3;
const NDJSON_SPANS = 140_000;
const SPANS_PER_REQUEST = 512;
const JSONL_EVENTS = 300_000;
const NOW = Date.parse('2026-11-01T00:00:00Z');

let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const s = (key, v) => ({ key, value: { stringValue: v } });
const i = (key, v) => ({ key, value: { intValue: String(v) } });

const SERVICES = ['support-bot', 'search-api', 'agent-platform', 'rag-service', 'batch-summariser'];
const MODELS = [
  ['openai', 'gpt-4o', 'gpt-4o-2024-08-06'],
  ['openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
  ['anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
  ['aws.bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
];
const TENANTS = ['tenant-acme', 'tenant-globex', 'tenant-initech', 'tenant-umbrella'];
const KEYS = Array.from({ length: 40 }, () => hex(16));
const BASE = Date.parse('2026-10-01T00:00:00Z');

function span(traceId, parent) {
  const start =
    BigInt(BASE + Math.floor(rand() * 30 * 86_400_000)) * 1_000_000n + BigInt(Math.floor(rand() * 1e6));
  const r = rand();
  const [provider, model, responseModel] = pick(MODELS);
  const common = [
    s('tenant.id', pick(TENANTS)),
    s('tally.api_key', pick(KEYS)),
    s('client.address', `10.0.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`),
  ];
  let name;
  let attributes;
  if (r < 0.7) {
    name = `chat ${model}`;
    attributes = [
      s('gen_ai.operation.name', 'chat'),
      s('gen_ai.provider.name', provider),
      s('gen_ai.request.model', model),
      s('gen_ai.response.model', responseModel),
      s('gen_ai.response.id', `chatcmpl-${hex(24)}`),
      { key: 'gen_ai.response.finish_reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
      i('gen_ai.request.max_tokens', 1024),
      { key: 'gen_ai.request.temperature', value: { doubleValue: 0.2 } },
      i('gen_ai.usage.input_tokens', 200 + Math.floor(rand() * 8000)),
      i('gen_ai.usage.output_tokens', 20 + Math.floor(rand() * 1500)),
      i('gen_ai.usage.cache_read.input_tokens', Math.floor(rand() * 150)),
      s('gen_ai.conversation.id', `conv_${hex(12)}`),
      s('server.address', provider === 'openai' ? 'api.openai.com' : 'api.anthropic.com'),
      i('server.port', 443),
      ...common,
    ];
  } else if (r < 0.8) {
    name = 'embeddings text-embedding-3-small';
    attributes = [
      s('gen_ai.operation.name', 'embeddings'),
      s('gen_ai.provider.name', 'openai'),
      s('gen_ai.request.model', 'text-embedding-3-small'),
      i('gen_ai.usage.input_tokens', 100 + Math.floor(rand() * 2000)),
      { key: 'gen_ai.embeddings.dimension.count', value: { intValue: 1536 } },
      s('server.address', 'api.openai.com'),
      ...common,
    ];
  } else if (r < 0.9) {
    name = 'execute_tool web_search';
    attributes = [
      s('gen_ai.operation.name', 'execute_tool'),
      s('gen_ai.tool.name', 'web_search'),
      s('gen_ai.tool.type', 'function'),
      s('gen_ai.tool.call.id', `call_${hex(24)}`),
      ...common,
    ];
  } else if (r < 0.95) {
    name = 'invoke_agent research-agent';
    attributes = [
      s('gen_ai.operation.name', 'invoke_agent'),
      s('gen_ai.provider.name', provider),
      s('gen_ai.agent.id', 'asst_5j66UpCpwteGg4YSxUnt7lPY'),
      s('gen_ai.agent.name', 'research-agent'),
      i('gen_ai.usage.input_tokens', 5000),
      i('gen_ai.usage.output_tokens', 900),
      ...common,
    ];
  } else {
    name = 'POST /v1/answer';
    attributes = [
      s('http.request.method', 'POST'),
      s('url.path', '/v1/answer'),
      i('http.response.status_code', 200),
    ];
  }
  return {
    traceId,
    spanId: hex(16),
    parentSpanId: parent,
    name,
    kind: 3,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 850_000_000n),
    attributes,
    status: rand() < 0.02 ? { code: 2, message: 'rate limited' } : {},
  };
}

function request(spans) {
  const service = pick(SERVICES);
  const list = [];
  let traceId = hex(32);
  let parent = '';
  for (let n = 0; n < spans; n++) {
    if (n % 6 === 0) {
      traceId = hex(32);
      parent = '';
    }
    const sp = span(traceId, parent);
    if (n % 6 === 0) parent = sp.spanId;
    list.push(sp);
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            s('service.name', service),
            s('deployment.environment.name', 'production'),
            s('telemetry.sdk.language', 'python'),
            s('telemetry.sdk.name', 'opentelemetry'),
            s('host.name', `node-${hex(6)}`),
          ],
        },
        scopeSpans: [
          { scope: { name: 'opentelemetry.instrumentation.openai_v2', version: '2.1b0' }, spans: list },
        ],
      },
    ],
  };
}

function canonicalLine(n) {
  const [provider, model] = pick(MODELS);
  return JSON.stringify({
    id: `evt-${n}`,
    source: 'gateway-eu',
    time: new Date(BASE + Math.floor(rand() * 30 * 86_400_000)).toISOString(),
    provider,
    model,
    operation: 'chat',
    input_tokens: 200 + Math.floor(rand() * 8000),
    output_tokens: Math.floor(rand() * 1500),
    cache_read_tokens: 0,
    requests: 1,
    api_key: pick(KEYS),
    service: pick(SERVICES),
    tenant: pick(TENANTS),
    environment: 'production',
    trace_id: hex(32),
    span_id: hex(16),
    status: 'ok',
  });
}

async function parse(file) {
  let events = 0;
  let ignored = 0;
  let rejected = 0;
  for await (const c of parseFile(file, 'auto', { now: NOW, skipInvalid: false })) {
    events += c.events.length;
    ignored += c.ignored ?? 0;
    rejected += c.rejected.length;
  }
  return { events, ignored, rejected };
}

/** The reference: reading and JSON.parse alone on the same files, no mapping. */
function measureJsonParse(files) {
  globalThis.gc?.();
  const t0 = performance.now();
  let spans = 0;
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line.length === 0) continue;
      for (const rs of JSON.parse(line).resourceSpans)
        for (const ss of rs.scopeSpans) spans += ss.spans.length;
    }
  }
  return { spans, seconds: (performance.now() - t0) / 1000 };
}

async function measure(files) {
  globalThis.gc?.();
  const t0 = performance.now();
  let spans = 0;
  for (const f of files) {
    const r = await parse(f);
    if (r.rejected > 0) throw new Error(`${f}: ${r.rejected} rejected`);
    spans += r.events + r.ignored;
  }
  return { spans, seconds: (performance.now() - t0) / 1000 };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-b1-'));
try {
  process.stderr.write('b1: generating files…\n');
  const docs = [];
  for (let f = 0; f < DOC_FILES; f++) {
    const file = path.join(dir, `request-${f}.json`);
    writeFileSync(file, JSON.stringify(request(DOC_SPANS)));
    docs.push(file);
  }
  const ndjson = [];
  for (let f = 0; f < NDJSON_FILES; f++) {
    const lines = [];
    for (let n = 0; n < NDJSON_SPANS; n += SPANS_PER_REQUEST)
      lines.push(JSON.stringify(request(Math.min(SPANS_PER_REQUEST, NDJSON_SPANS - n))));
    const file = path.join(dir, `file-exporter-${f}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    ndjson.push(file);
  }
  const jsonl = path.join(dir, 'events.jsonl');
  writeFileSync(jsonl, `${Array.from({ length: JSONL_EVENTS }, (_, n) => canonicalLine(n)).join('\n')}\n`);
  const warm = path.join(dir, 'warm.jsonl');
  writeFileSync(warm, `${JSON.stringify(request(20_000))}\n`);
  await parse(warm);

  process.stderr.write('b1: parsing…\n');
  const d = await measure(docs);
  const n = await measure(ndjson);
  const c = await measure([jsonl]);
  const ref = measureJsonParse([...docs, ...ndjson]);
  const mb = (files) => files.reduce((a, f) => a + statSync(f).size, 0) / 2 ** 20;
  const total = (d.spans + n.spans) / (d.seconds + n.seconds);
  const k = (x) => `${Math.round(x / 1000)}k`;
  console.log(
    JSON.stringify({
      name: 'b1-otlp',
      target: `≥ ${k(TARGET)} spans/s parsed and normalised (OTLP JSON)`,
      figures: {
        'spans/s (all OTLP)': k(total),
        'spans/s (one-document requests)': k(d.spans / d.seconds),
        'spans/s (file-exporter NDJSON)': k(n.spans / n.seconds),
        'reference: read + JSON.parse alone, spans/s': k(ref.spans / ref.seconds),
        'share of the reference': `${Math.round((100 * total) / (ref.spans / ref.seconds))}%`,
        'OTLP spans': d.spans + n.spans,
        'OTLP MiB': Math.round(mb([...docs, ...ndjson])),
        'canonical JSONL events/s (info)': k(c.spans / c.seconds),
        'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
      },
      pass: total >= TARGET,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
