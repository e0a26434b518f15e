// THE fault test of the scale-out ingestion (SPEC §10): a three-node JetStream
// cluster on loopback, a PostgreSQL database of its own, two `tally serve
// --queue` replicas and two `tally worker` processes. A bounded load generator
// sends canonical events (POST /v1/events) and OTLP/JSON (POST /v1/traces, a
// real producer's payload with fresh ids) and retries every request that is
// not acknowledged, on the other replica. Meanwhile, at moments drawn from a
// seeded generator, it kills -9 a replica, a worker and a NATS node and
// restarts each, and cuts every PostgreSQL connection of the workers and
// replicas (pg_terminate_backend: the stand-in for a PostgreSQL restart, which
// the shared server of the other tests cannot take). In the end every
// acknowledged record is stored exactly once, `tally verify` passes, and the
// statement equals the one of the same records ingested from files.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseQueueUrl } from '../../src/core/queue-url.js';
import { otlpRequestToEvents } from '../../src/ingest/index.js';
import { connectQueue } from '../../src/queue/connect.js';
import { openStore } from '../../src/store/open.js';
import { freePort, ROOT, type Served, startServe } from '../server/child.js';
import { canonical, configYaml, TOKENS } from '../server/helpers.js';
import { NATS_SERVER, type NatsNode, natsCluster, type Proc, startWorker } from './cluster.js';

const SEED = Number(process.env.TALLY_FAULT_SEED ?? 20261203);
const EVENT_REQUESTS = 150;
const EVENTS_PER_REQUEST = 40;
const TRACE_REQUESTS = 150;
const CONCURRENCY = 6;

/** mulberry32: the chaos schedule is the same for the same seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);
const tally = (args: string[]) =>
  run(process.execPath, [path.join(ROOT, 'bin/tally.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });

let dir: string;
let dbUrl: string;
let dbName: string;
let adminUrl: string;
let nodes: NatsNode[] = [];
const replicas: Array<Served | null> = [null, null];
const workers: Array<Proc | null> = [null, null];

async function admin<T>(url: string, body: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  if (!NATS_SERVER) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-queue-fault-'));
  const server = new URL(inject('pgUrl'));
  server.pathname = '/postgres';
  adminUrl = server.toString();
  dbName = `tally_nats_fault_${randomBytes(5).toString('hex')}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  server.pathname = `/${dbName}`;
  dbUrl = server.toString();
}, 120_000);

afterAll(async () => {
  for (const r of replicas) r?.child.kill('SIGKILL');
  for (const w of workers) w?.child.kill('SIGKILL');
  for (const n of nodes) await n.kill();
  if (dbName) await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A real producer's OTLP/JSON request (OpenTelemetry Python, openai-v2) with ids of its own per request. */
async function otlpRequests(n: number): Promise<string[]> {
  const text = await readFile(path.join(ROOT, 'test/fixtures/otlp/otel-python-openai-v2.json'), 'utf8');
  return Array.from({ length: n }, (_, i) => {
    const hex = (width: number) =>
      `${(i + 1).toString(16).padStart(8, '0')}${SEED.toString(16)}`.padEnd(width, 'a');
    return text
      .replaceAll('0af7651916cd43dd8448eb211c80319c', hex(32))
      .replaceAll('b7ad6b7169203331', `${hex(8).slice(0, 8)}bbbbbbbb`)
      .replaceAll('00f067aa0ba902b7', `${hex(8).slice(0, 8)}cccccccc`)
      .replaceAll('53995c3f42cd8ad8', `${hex(8).slice(0, 8)}dddddddd`)
      .replaceAll('chatcmpl-ASYMQRl3A3DXL9FWCK9tnGRcKIO7q', `chatcmpl-fault-${i}`);
  });
}

function eventRequests(): string[] {
  return Array.from({ length: EVENT_REQUESTS }, (_, r) =>
    JSON.stringify(
      Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => ({
        ...canonical(`r${r}-e${i}`, i % 3 === 0 ? 'svc-b' : 'svc-a', { input_tokens: 1000 + r * 7 + i }),
        source: 'fault',
      })),
    ),
  );
}

interface Sent {
  path: string;
  body: string;
  acked: boolean;
}

/** Posts until a replica answers 200, switching replica after each failure. */
async function deliver(req: Sent, ports: number[], first: number): Promise<void> {
  for (let attempt = 0; attempt < 2000; attempt++) {
    const port = ports[(first + attempt) % ports.length] as number;
    try {
      const r = await fetch(`http://127.0.0.1:${port}${req.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ingest}` },
        body: req.body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await r.text();
      if (r.status === 200) {
        req.acked = true;
        return;
      }
      if (r.status === 400) throw new Error(`refused as invalid: ${text}`);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('refused')) throw e;
      // the replica is down or the queue away: retry
    }
    await sleep(50 + (attempt % 5) * 20);
  }
  throw new Error(`never acknowledged: ${req.path}`);
}

describe.skipIf(!NATS_SERVER)('scale-out ingestion under faults (nats-server needed)', () => {
  it(`stores every acknowledged record once through replica, worker, NATS and PostgreSQL failures (seed ${SEED})`, async () => {
    const rnd = random(SEED);
    nodes = await natsCluster(dir, 3);
    await Promise.all(nodes.map((n) => n.start()));
    const stream = `TALLY_FAULT_${randomBytes(3).toString('hex').toUpperCase()}`;
    const queue = `nats://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}?stream=${stream}&replicas=3&ack_wait=3s&duplicate_window=2m`;
    const configFile = path.join(dir, 'tally.yaml');
    await writeFile(
      configFile,
      configYaml().replace(
        'store: ./tally.duckdb',
        `store: ${JSON.stringify(`${dbUrl}?schema=live`)}\nqueue: ${JSON.stringify(queue)}`,
      ),
    );
    await waitForMetaLeader(queue);

    const ports = [await freePort(), await freePort()];
    const serveArgs = ['--rate-limit', '100000'];
    const startReplica = async (i: number) => {
      replicas[i] = await startServe(dir, ports[i] as number, serveArgs);
    };
    await Promise.all([startReplica(0), startReplica(1)]);
    workers[0] = await startWorker(configFile);
    workers[1] = await startWorker(configFile);

    const requests: Sent[] = [
      ...eventRequests().map((body) => ({ path: '/v1/events', body, acked: false })),
      ...(await otlpRequests(TRACE_REQUESTS)).map((body) => ({ path: '/v1/traces', body, acked: false })),
    ].sort(() => rnd() - 0.5);
    const acked = () => requests.filter((r) => r.acked).length;
    const at = (lo: number, hi: number) => Math.floor(requests.length * (lo + rnd() * (hi - lo)));
    const faults: string[] = [];
    const until = async (n: number) => {
      while (acked() < n) await sleep(10);
    };
    // Each fault at its own moment, drawn now so that the schedule follows the seed alone.
    const r = Math.floor(rnd() * 2);
    const w = Math.floor(rnd() * 2);
    const node = nodes[Math.floor(rnd() * 3)] as NatsNode;
    const moments = [at(0.1, 0.25), at(0.3, 0.45), at(0.5, 0.65), at(0.7, 0.85)];
    const pauses = [200 + rnd() * 600, 200 + rnd() * 600, 500 + rnd() * 1000];
    const chaos = [
      async () => {
        await until(moments[0] as number);
        replicas[r]?.child.kill('SIGKILL');
        await replicas[r]?.exited;
        faults.push(`replica ${r} killed at ${acked()}`);
        await sleep(pauses[0] as number);
        await startReplica(r);
      },
      async () => {
        await until(moments[1] as number);
        workers[w]?.child.kill('SIGKILL');
        await workers[w]?.exited;
        faults.push(`worker ${w} killed at ${acked()}`);
        await sleep(pauses[1] as number);
        workers[w] = await startWorker(configFile);
      },
      async () => {
        await until(moments[2] as number);
        await node.kill();
        faults.push(`NATS node ${node.name} killed at ${acked()}`);
        await sleep(pauses[2] as number);
        await node.start();
      },
      async () => {
        await until(moments[3] as number);
        const cut = await admin(dbUrl, (c) =>
          c.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          ),
        );
        faults.push(`${cut.rowCount} PostgreSQL connections cut at ${acked()}`);
      },
    ];
    const load = async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, lane) => {
          while (next < requests.length) {
            const req = requests[next++] as Sent;
            await deliver(req, ports, lane);
          }
        }),
      );
    };
    await Promise.all([load(), ...chaos.map((f) => f())]);
    expect(faults).toHaveLength(4);
    // Every fault struck while requests were still being sent.
    for (const f of faults) expect(Number(/ at (\d+)$/.exec(f)?.[1])).toBeLessThan(requests.length);
    expect(acked()).toBe(requests.length);

    // Every acknowledged record: the canonical events and the AI spans of the OTLP requests.
    const spans = requests
      .filter((r) => r.path === '/v1/traces')
      .map(
        (r) =>
          otlpRequestToEvents(JSON.parse(r.body), { file: 'request', now: Date.now(), skipInvalid: true })
            .events.length,
      );
    expect(spans.every((n) => n === 2)).toBe(true);
    const expected = EVENT_REQUESTS * EVENTS_PER_REQUEST + 2 * TRACE_REQUESTS;
    const store = await openStore(`${dbUrl}?schema=live`);
    try {
      for (let i = 0; i < 600 && (await store.counters()).events < expected; i++) await sleep(100);
      const status = JSON.parse((await tally(['status', '--config', configFile, '--format', 'json'])).stdout);
      expect(status.store.events).toBe(expected);
      const verify = await store.verify();
      expect(verify).toMatchObject({ ok: true, events: expected, firstBad: null });
      const counters = await store.counters();
      expect(counters).toMatchObject({ events: expected, superseded: 0 });
      const live = await store.eventsInWindow({ from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) });
      expect(new Set(live.map((e) => `${e.source}\u0000${e.id}`)).size).toBe(expected);
      expect(live).toHaveLength(expected);
    } finally {
      await store.close();
    }
    const cli = await tally(['verify', '--config', configFile]);
    expect(cli.stdout).toMatch(/^ok: /);

    // The same records from files, into a fresh store: the same statement.
    const eventsFile = path.join(dir, 'events.jsonl');
    await writeFile(
      eventsFile,
      requests
        .filter((r) => r.path === '/v1/events')
        .flatMap((r) => (JSON.parse(r.body) as unknown[]).map((e) => JSON.stringify(e)))
        .join('\n'),
    );
    const tracesFile = path.join(dir, 'traces.json');
    await writeFile(
      tracesFile,
      JSON.stringify({
        resourceSpans: requests
          .filter((r) => r.path === '/v1/traces')
          .flatMap((r) => JSON.parse(r.body).resourceSpans),
      }),
    );
    const fresh = `${dbUrl}?schema=fresh`;
    await tally(['ingest', eventsFile, tracesFile, '--config', configFile, '--store', fresh]);
    const statement = async (store: string) => {
      const out = await tally([
        'statement',
        '--period',
        '2026-10',
        '--format',
        'json',
        '--config',
        configFile,
        '--store',
        store,
      ]);
      const s = JSON.parse(out.stdout);
      delete s.inputs.audit_head;
      return s;
    };
    const viaQueue = await statement(`${dbUrl}?schema=live`);
    expect(viaQueue.inputs.events).toBe(expected);
    expect(viaQueue).toEqual(await statement(fresh));
    process.stderr.write(`queue fault test (seed ${SEED}): ${faults.join('; ')}\n`);
  }, 180_000);
});

/** A new cluster elects its JetStream meta leader within seconds; creating a stream before that fails. */
async function waitForMetaLeader(url: string): Promise<void> {
  const conn = await connectQueue(parseQueueUrl(url), 'tally fault test');
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await conn.jsm.getAccountInfo().then(
        () => true,
        () => false,
      );
      if (ok) return;
      await sleep(200);
    }
    throw new Error('the JetStream cluster elected no leader');
  } finally {
    await conn.close();
  }
}
