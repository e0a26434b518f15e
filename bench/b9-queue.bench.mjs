// B9: scale-out ingestion on NATS JetStream (SPEC §10), against the
// single-process embedded server in the same run. Three set-ups, each fed by
// the same loopback load generator as B7 (batches of 1,000 canonical events to
// POST /v1/events, keep-alive, 4 connections per replica, 10 s):
//   embedded   one `tally serve` on DuckDB (B7's reference)
//   1r+1w      one `tally serve --queue` replica and one `tally worker`
//   2r+2w      two replicas (connections spread over both) and two workers
// The queue set-ups use the machine's NATS server (127.0.0.1:4222, a stream of
// their own, R1) and PostgreSQL (a database of their own). Reported per set-up:
// acknowledged events/s and ack latency (what a client sees), then the
// events/s committed by the workers end to end (from the first request until
// every acknowledged event is in PostgreSQL), peak RSS of each process, and the
// machine's load average. Run `npm run build` first.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseQueueUrl } from '../dist/core/queue-url.js';
import { connectQueue } from '../dist/queue/connect.js';
import { eventsBody as body, freePort, startTally } from './lib/serve.mjs';

const BATCH = 1_000;
const SECONDS = Number(process.env.B9_SECONDS ?? 10);
const CONNECTIONS_PER_REPLICA = 4;
const TARGET_EPS = 50_000;
const TARGET_P99_MS = 100;
const TOKEN = 'bench-ingest-token';
const SERVICES = ['svc-a', 'svc-b', 'svc-c', 'svc-d'];
const PG = process.env.TALLY_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS = process.env.TALLY_BENCH_NATS ?? '127.0.0.1:4222';
const RUN = randomBytes(4).toString('hex');

const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-b9-'));
const db = `tally_bench_nats_${RUN}`;
const dbUrl = Object.assign(new URL(PG), { pathname: `/${db}` }).toString();

function config(name, store, queue) {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `store: ${JSON.stringify(store)}
${queue ? `queue: ${JSON.stringify(queue)}` : ''}
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
  return file;
}

const children = [];
async function start(args, ready) {
  const child = await startTally(args, ready);
  children.push(child);
  return child;
}

async function serve(configFile) {
  const port = await freePort();
  const child = await start(
    ['serve', '--config', configFile, '--port', String(port), '--rate-limit', '0'],
    /listening on/,
  );
  return { child, base: `http://127.0.0.1:${port}` };
}

async function worker(configFile) {
  const port = await freePort();
  const child = await start(
    ['worker', '--config', configFile, '--metrics-port', String(port)],
    /consuming stream/,
  );
  return { child, metrics: `http://127.0.0.1:${port}/metrics` };
}

/** CPU seconds (user + system) a process has used so far (Linux, clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by every process whose name is `comm` (the
 * PostgreSQL and NATS servers, shared with whatever else runs on the machine).
 */
function cpuOfAll(comm) {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) total += cpuSeconds(pid) ?? 0;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** CPU seconds spent by this process (the load generator), PostgreSQL and NATS since `mark()`. */
function cpuMeter() {
  const at = () => ({ self: process.cpuUsage(), pg: cpuOfAll('postgres'), nats: cpuOfAll('nats-server') });
  const start = at();
  return () => {
    const end = at();
    const self = process.cpuUsage(start.self);
    return {
      generator: ((self.user + self.system) / 1e6).toFixed(1),
      postgres: (end.pg - start.pg).toFixed(1),
      nats: (end.nats - start.nats).toFixed(1),
    };
  };
}

/** Peak resident set of a process, MiB (Linux). */
function peakRss(pid) {
  try {
    const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return null;
  }
}

let seq = 0;
const now = Date.now();
const eventsBody = () => body(seq++, BATCH, SERVICES, now);

/** Posts for SECONDS over `connections` keep-alive connections spread over the bases. */
async function load(bases, connections) {
  const latencies = [];
  let items = 0;
  let refused = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const lane = async (k) => {
    const base = bases[k % bases.length];
    while (performance.now() < deadline) {
      const body = eventsBody();
      const t0 = performance.now();
      const r = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body,
      });
      await r.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (r.status === 200) items += BATCH;
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, k) => lane(k)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    started,
    acked: items,
    perSecond: Math.round(items / seconds),
    refused,
    p50: Number(q(0.5).toFixed(1)),
    p99: Number(q(0.99).toFixed(1)),
  };
}

async function committed(workers) {
  let sum = 0;
  for (const w of workers) {
    const text = await (await fetch(w.metrics)).text();
    sum += Number(/^tally_worker_events_committed_total (\d+)$/m.exec(text)?.[1] ?? 0);
  }
  return sum;
}

async function stop(procs) {
  for (const p of procs) {
    p.child.kill('SIGTERM');
    await new Promise((r) => (p.child.exitCode === null ? p.child.on('exit', r) : r()));
  }
}

async function embedded() {
  const s = await serve(config('embedded', './tally.duckdb', null));
  const meter = cpuMeter();
  const r = await load([s.base], CONNECTIONS_PER_REPLICA);
  const others = meter();
  const rss = peakRss(s.child.pid);
  const cpu = cpuSeconds(s.child.pid);
  await stop([s]);
  return {
    ...r,
    rss: `server ${rss}`,
    cpu: `server ${cpu}, generator ${others.generator}`,
    perCpuSecond: `server ${Math.round(r.acked / cpu)}`,
  };
}

async function queued(name, n) {
  const queue = `nats://${NATS}?stream=TALLY_B9_${RUN}_${name.replace('+', '_')}`;
  const file = config(name, `${dbUrl}?schema=q_${name.replace('+', '_')}`, queue);
  const replicas = [];
  for (let i = 0; i < n; i++) replicas.push(await serve(file));
  const workers = [];
  for (let i = 0; i < n; i++) workers.push(await worker(file));
  const meter = cpuMeter();
  const r = await load(
    replicas.map((s) => s.base),
    CONNECTIONS_PER_REPLICA * n,
  );
  let stored = await committed(workers);
  while (stored < r.acked) {
    await new Promise((res) => setTimeout(res, 100));
    stored = await committed(workers);
  }
  const drainedAt = performance.now();
  const others = meter();
  const replicaCpu = replicas.map((s) => cpuSeconds(s.child.pid));
  const workerCpu = workers.map((w) => cpuSeconds(w.child.pid));
  const cpu = [...replicaCpu.map((c) => `replica ${c}`), ...workerCpu.map((c) => `worker ${c}`)];
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const rss = [
    ...replicas.map((s) => `replica ${peakRss(s.child.pid)}`),
    ...workers.map((w) => `worker ${peakRss(w.child.pid)}`),
  ];
  await stop([...replicas, ...workers]);
  const conn = await connectQueue(parseQueueUrl(queue), 'tally bench');
  await conn.jsm.streams.delete(conn.settings.stream);
  await conn.close();
  return {
    ...r,
    committedPerSecond: Math.round(stored / ((drainedAt - r.started) / 1000)),
    wallSeconds: Number(((drainedAt - r.started) / 1000).toFixed(1)),
    cpu: [
      ...cpu,
      `generator ${others.generator}`,
      `postgres ${others.postgres}`,
      `nats-server ${others.nats}`,
    ].join(', '),
    perCpuSecond: `replicas ${Math.round(r.acked / sum(replicaCpu))}, workers ${Math.round(stored / sum(workerCpu))}`,
    rss: rss.join(', '),
  };
}

const admin = new pg.Client({ connectionString: PG });
await admin.connect();
await admin.query(`CREATE DATABASE ${db}`);
const load0 = os.loadavg()[0];
const results = {};
try {
  results.embedded = await embedded();
  results['1r+1w'] = await queued('1r+1w', 1);
  results['2r+2w'] = await queued('2r+2w', 2);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
const load1 = os.loadavg()[0];
process.stderr.write(`${JSON.stringify(results, null, 2)}\n`);

const figures = { load_average_before_after: `${load0.toFixed(1)} / ${load1.toFixed(1)}` };
for (const [name, r] of Object.entries(results)) {
  figures[`${name} acked events/s`] = r.perSecond;
  figures[`${name} ack p50/p99 ms`] = `${r.p50} / ${r.p99}`;
  if (r.committedPerSecond !== undefined)
    figures[`${name} committed events/s (end to end)`] = r.committedPerSecond;
  figures[`${name} refused requests`] = r.refused;
  figures[`${name} peak RSS MiB`] = r.rss;
  figures[`${name} CPU s (wall ${r.wallSeconds ?? SECONDS} s)`] = r.cpu;
  figures[`${name} events per CPU second`] = r.perCpuSecond;
}
const best = results['2r+2w'];
console.log(
  JSON.stringify({
    name: 'b9-queue',
    target: `2 replicas + 2 workers ≥ ${TARGET_EPS} events/s committed with p99 ack < ${TARGET_P99_MS} ms (vs the embedded server)`,
    figures,
    pass: best.committedPerSecond >= TARGET_EPS && best.p99 < TARGET_P99_MS,
  }),
);
