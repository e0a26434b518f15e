// B7: `tally serve` under load on loopback. Starts the built server as a
// child process on a fresh store, then a load generator in this process
// (fetch with keep-alive, a few concurrent connections) posts batches of
// 1,000 canonical events to POST /v1/events for ~10 s, then OTLP/HTTP
// protobuf requests of 1,000 spans to POST /v1/traces. Every 200 is a
// durably committed batch. Reports events/s, spans/s and request latency
// percentiles, and the server's commits of each phase that took over 100 ms
// (from its metrics: the store's checkpoints, which set the p99). Beside the
// p99, the slowest of a phase's first four requests (a fresh server's) and the
// p99 of the requests sent after its first 500 ms. Run `npm run build` first.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { eventsBody as body, serve } from './lib/serve.mjs';

const BATCH = 1_000;
const SECONDS = 10;
const CONNECTIONS = 4;
const TARGET_EPS = 50_000;
const TARGET_P99_MS = 100;
const TOKEN = 'bench-ingest-token';
const SERVICES = ['svc-a', 'svc-b', 'svc-c', 'svc-d'];

const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-b7-'));
writeFileSync(
  path.join(dir, 'tally.yaml'),
  `store: ./tally.duckdb
currency: USD
cost_centers: [{ id: cc, name: CC }]
teams: [{ id: team-a, name: A, cost_center: cc }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
${SERVICES.map((s) => `  - { id: nhi-${s}, kind: api_key, application: app-a, environment: production, match: [{ service: ${s} }] }`).join('\n')}
access:
  - { token_sha256: "${createHash('sha256').update(TOKEN).digest('hex')}", role: ingest }
`,
);

const { child, base } = await serve(path.join(dir, 'tally.yaml'));

let seq = 0;
const now = Date.now();
const eventsBody = () => body(seq++, BATCH, SERVICES, now);

// A minimal protobuf writer for ExportTraceServiceRequest (opentelemetry-proto trace/v1).
const varint = (n) => {
  const out = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
};
const field = (no, bytes) => Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
const str = (no, s) => field(no, Buffer.from(s));
const kvStr = (k, v) => field(9, Buffer.concat([str(1, k), field(2, str(1, v))]));
const kvInt = (k, v) =>
  field(9, Buffer.concat([str(1, k), field(2, Buffer.concat([varint(3 << 3), varint(v)]))]));
/**
 * The spans of request `n`: built once per service as a template whose trace ids, span ids and
 * start times are then written in place, so that the load generator costs little CPU per span
 * (it shares the machine's cores with the server). The bytes are those the writer above would give.
 */
const templates = new Map();
function template(service) {
  let t = templates.get(service);
  if (t !== undefined) return t;
  const spans = [];
  const inner = new Map();
  for (let i = 0; i < BATCH; i++) {
    const start = Buffer.alloc(9);
    start[0] = (7 << 3) | 1;
    const span = Buffer.concat([
      field(1, Buffer.alloc(16)),
      field(2, Buffer.alloc(8)),
      str(5, 'chat gpt-4o'),
      start,
      kvStr('gen_ai.operation.name', 'chat'),
      kvStr('gen_ai.provider.name', 'openai'),
      kvStr('gen_ai.request.model', 'gpt-4o'),
      kvInt('gen_ai.usage.input_tokens', 1000 + i),
      kvInt('gen_ai.usage.output_tokens', 200 + (i % 50)),
    ]);
    const b = field(2, span);
    inner.set(b, span.length);
    spans.push(b);
  }
  const resource = field(
    1,
    Buffer.concat([field(1, Buffer.concat([str(1, 'service.name'), field(2, str(1, service))]))]),
  );
  const bytes = field(1, Buffer.concat([resource, field(2, Buffer.concat(spans))]));
  // Where each span's trace id, span id and start time sit: after their tag and length bytes.
  const at = [];
  let pos = bytes.length - spans.reduce((n, b) => n + b.length, 0);
  for (const b of spans) {
    at.push(pos + b.length - inner.get(b));
    pos += b.length;
  }
  t = { bytes, at };
  templates.set(service, t);
  return t;
}
function spansBody() {
  const n = seq++;
  const { bytes, at } = template(SERVICES[n % 4]);
  const out = Buffer.from(bytes);
  const ids = randomBytes(24 * BATCH);
  for (let i = 0; i < BATCH; i++) {
    const p = at[i];
    // In a span: trace id (tag, length, 16 bytes), span id (tag, length, 8), name (13 bytes), start time.
    ids.copy(out, p + 2, 24 * i, 24 * i + 16);
    ids.copy(out, p + 20, 24 * i + 16, 24 * i + 24);
    out.writeBigUInt64LE(BigInt(now - 3_600_000 + ((n * BATCH + i) % 3_000_000)) * 1_000_000n, p + 42);
  }
  return out;
}

/** CPU seconds (user + system) of the server child so far, from /proc (null where there is none). */
function serverCpu() {
  try {
    const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

async function load(pathName, contentType, makeBody) {
  const latencies = [];
  // The requests in the order they were sent: a fresh server's first ones are its slowest.
  const inOrder = [];
  const client0 = process.cpuUsage();
  const server0 = serverCpu();
  let items = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const body = makeBody();
      const t0 = performance.now();
      const r = await fetch(base + pathName, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${TOKEN}` },
        body,
      });
      await r.arrayBuffer();
      latencies.push(performance.now() - t0);
      inOrder.push([t0, performance.now() - t0]);
      if (r.status === 200) items += BATCH;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(client0);
  const server1 = serverCpu();
  latencies.sort((a, b) => a - b);
  inOrder.sort((a, b) => a[0] - b[0]);
  const first = inOrder.slice(0, CONNECTIONS).map(([, ms]) => ms);
  // The tail of a server past its start: the requests sent after the phase's first 500 ms.
  const settled = inOrder
    .filter(([t0]) => t0 - started >= 500)
    .map(([, ms]) => ms)
    .sort((a, b) => a - b);
  /** The p-quantile of sorted latencies (NaN when there are none). */
  const quantile = (sorted, p) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  const q = (p) => quantile(latencies, p);
  const perCpuSecond = (cpu) => (cpu === null || cpu <= 0 ? null : Math.round(items / cpu));
  return {
    perSecond: Math.round(items / seconds),
    // Items per CPU second of each process: what the rate would be if each had a core of its own.
    serverPerCpuSecond: perCpuSecond(server0 === null || server1 === null ? null : server1 - server0),
    clientPerCpuSecond: perCpuSecond((client.user + client.system) / 1e6),
    requests: latencies.length,
    errors,
    p50: Number(q(0.5).toFixed(1)),
    p99: Number(q(0.99).toFixed(1)),
    firstMax: Number(Math.max(...first).toFixed(1)),
    settledP99: Number(quantile(settled, 0.99).toFixed(1)),
  };
}

/**
 * The server's group commits so far, from its metrics: how many, and how many took over 100 ms
 * (a store checkpoint stalls the commit it falls in, and every request waiting on it).
 */
async function commits() {
  const m = await (await fetch(`${base}/metrics`)).text();
  const figure = (re) => Number(re.exec(m)?.[1] ?? Number.NaN);
  const count = figure(/^tally_commit_duration_seconds_count (\d+)$/m);
  return { count, over100: count - figure(/^tally_commit_duration_seconds_bucket\{le="0\.1"\} (\d+)$/m) };
}
const phase = (before, after) => ({
  count: after.count - before.count,
  over100: after.over100 - before.over100,
});

let events;
let spans;
let eventCommits;
let spanCommits;
try {
  const c0 = await commits();
  events = await load('/v1/events', 'application/json', eventsBody);
  const c1 = await commits();
  spans = await load('/v1/traces', 'application/x-protobuf', spansBody);
  eventCommits = phase(c0, c1);
  spanCommits = phase(c1, await commits());
  const m = await (await fetch(`${base}/metrics`)).text();
  const stored = Number(/^tally_events_ingested_total (\d+)$/m.exec(m)?.[1]);
  const expected = (events.requests - events.errors + spans.requests - spans.errors) * BATCH;
  if (stored !== expected) throw new Error(`stored ${stored} events, acknowledged ${expected}`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}

process.stderr.write(`events: ${JSON.stringify(events)}\nspans: ${JSON.stringify(spans)}\n`);
console.log(
  JSON.stringify({
    name: 'b7-server',
    target: `POST /v1/events ≥ ${TARGET_EPS} events/s with p99 < ${TARGET_P99_MS} ms; OTLP protobuf ≥ ${TARGET_EPS} spans/s`,
    figures: {
      events_per_s: events.perSecond,
      events_p50_ms: events.p50,
      events_p99_ms: events.p99,
      'events: slowest of the first 4 requests, ms': events.firstMax,
      'events: p99 of the requests sent after the first 500 ms': events.settledP99,
      events_requests: events.requests,
      'events: commits / over 100 ms': `${eventCommits.count} / ${eventCommits.over100}`,
      spans_per_s: spans.perSecond,
      spans_p50_ms: spans.p50,
      spans_p99_ms: spans.p99,
      'spans: slowest of the first 4 requests, ms': spans.firstMax,
      'spans: commits / over 100 ms': `${spanCommits.count} / ${spanCommits.over100}`,
      events_per_server_cpu_s: events.serverPerCpuSecond,
      events_per_client_cpu_s: events.clientPerCpuSecond,
      spans_per_server_cpu_s: spans.serverPerCpuSecond,
      spans_per_client_cpu_s: spans.clientPerCpuSecond,
      connections: CONNECTIONS,
      batch: BATCH,
      load_average: os.loadavg()[0].toFixed(1),
    },
    pass:
      events.errors === 0 &&
      spans.errors === 0 &&
      events.perSecond >= TARGET_EPS &&
      events.p99 < TARGET_P99_MS &&
      spans.perSecond >= TARGET_EPS,
  }),
);
