// The queue adapter against the machine's NATS server (127.0.0.1:4222, JetStream
// on): a replica's app publishes, a worker commits into a real store, resends
// are duplicates, a full stream is a 429 and an unreachable one a 503. Each
// test run uses streams of its own and deletes them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueBusyError } from '../../src/core/errors.js';
import type { TraceLink, UsageEvent } from '../../src/core/event.js';
import { parseQueueUrl, QueueUrlError } from '../../src/core/queue-url.js';
import { connectQueue, ensureConsumer, ensureStream, type QueueConnection } from '../../src/queue/connect.js';
import { decodeMessage, encodeMessages } from '../../src/queue/message.js';
import { workerMetrics } from '../../src/queue/metrics.js';
import { QueuePublisher } from '../../src/queue/publisher.js';
import { queueStatus } from '../../src/queue/status.js';
import { QueueWorker } from '../../src/queue/worker.js';
import { canonical, type Harness, harness, NOW, postJson, TOKENS } from '../server/helpers.js';

const RUN = randomBytes(4).toString('hex').toUpperCase();
const opened: QueueConnection[] = [];

async function queue(name: string, params = ''): Promise<QueueConnection> {
  const conn = await connectQueue(
    parseQueueUrl(`nats://127.0.0.1:4222?stream=TALLY_TEST_${name}_${RUN}&ack_wait=2s${params}`),
    'tally test',
  );
  opened.push(conn);
  await ensureStream(conn);
  await ensureConsumer(conn);
  return conn;
}

afterAll(async () => {
  for (const c of opened) {
    await c.jsm.streams.delete(c.settings.stream).catch(() => undefined);
    await c.close();
  }
});

/** Runs a worker until `done` holds (checked after each batch), then stops it. */
async function drain(worker: QueueWorker, done: () => boolean): Promise<void> {
  const running = worker.run();
  while (!done()) await new Promise((r) => setTimeout(r, 50));
  worker.stop();
  await running;
}

describe('queue URL', () => {
  it('reads servers and stream settings, with defaults', () => {
    const s = parseQueueUrl(
      'nats://a:4222,b,c:4223?stream=S1&replicas=3&max_bytes=2GiB&max_age=1h&duplicate_window=90s',
    );
    expect(s.servers).toEqual(['a:4222', 'b:4222', 'c:4223']);
    expect(s).toMatchObject({ stream: 'S1', replicas: 3, maxBytes: 2 * 1024 ** 3, maxAgeMs: 3_600_000 });
    expect(s.duplicateWindowMs).toBe(90_000);
    expect(parseQueueUrl('nats://h').consumer).toBe('tally-worker');
  });

  it('names the parameter that is wrong', () => {
    expect(() => parseQueueUrl('http://h:4222')).toThrow(QueueUrlError);
    expect(() => parseQueueUrl('nats://h?replicas=7')).toThrow(/replicas must be 1 to 5/);
    expect(() => parseQueueUrl('nats://h?max_bytes=lots')).toThrow(/max_bytes must be a size/);
    expect(() => parseQueueUrl('nats://h?dup_window=2m')).toThrow(/unknown parameter 'dup_window'/);
  });
});

describe('messages', () => {
  const events = Array.from({ length: 300 }, (_, i) => ({
    id: `e${i}`,
    pad: 'x'.repeat(200),
  })) as unknown as UsageEvent[];

  it('cut a big request under the payload limit, keep every record, and have ids that follow the content', () => {
    const msgs = encodeMessages('events:http', events, [], 32 * 1024);
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(m.data.length).toBeLessThanOrEqual(32 * 1024);
    const back = msgs.flatMap((m) => decodeMessage(m.data)?.events ?? []);
    expect(back.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(encodeMessages('events:http', events, [], 32 * 1024).map((m) => m.id)).toEqual(
      msgs.map((m) => m.id),
    );
    expect(encodeMessages('otlp:http', events, [], 32 * 1024)[0]?.id).not.toBe(msgs[0]?.id);
    expect(decodeMessage(Buffer.from('{"hello":1}'))).toBeNull();
  });

  it('send a request that fits as one message of its records, and cut it one byte past the room', () => {
    const few = events.slice(0, 5);
    const links = [{ trace_id: 't1', span_id: 's1', parent_span_id: null, tenant: 'é', api_key: null }];
    const texts = [...few, ...links].map((r) => JSON.stringify(r));
    // What a message holds of each record: its UTF-8 text and a separator.
    const fill = texts.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
    const envelope = 16 * 1024;
    const fits = encodeMessages('events:http', few, links as unknown as TraceLink[], fill + envelope);
    expect(fits).toHaveLength(1);
    expect(Buffer.from(fits[0]?.data ?? []).toString()).toBe(
      `{"v":1,"label":"events:http","events":[${texts.slice(0, 5).join(',')}],"links":[${texts[5]}]}`,
    );
    const cut = encodeMessages('events:http', few, links as unknown as TraceLink[], fill - 1 + envelope);
    expect(cut.map((m) => m.records)).toEqual([5, 1]);
    expect(cut.map((m) => decodeMessage(m.data)?.links.length)).toEqual([0, 1]);
    expect(encodeMessages('events:http', [], [], 1024 * 1024)).toEqual([]);
  });
});

describe('a replica and a worker on JetStream', () => {
  let h: Harness;
  let conn: QueueConnection;
  let publisher: QueuePublisher;

  beforeAll(async () => {
    conn = await queue('RT');
    publisher = new QueuePublisher(conn);
    h = await harness({ deps: { queue: publisher } });
  });
  afterAll(async () => h.close());

  it('acknowledges after the stream has the events; the worker stores them once however often they are sent', async () => {
    const body = [canonical('q1', 'svc-a'), canonical('q2', 'svc-b')];
    const r = await postJson(h, '/v1/events', TOKENS.ingest, body);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ queued: 2, rejected: 0 });
    // A resend in the window is a duplicate message; the same events in another request reach the store twice.
    expect((await postJson(h, '/v1/events', TOKENS.ingest, body)).status).toBe(200);
    expect(publisher.stats).toMatchObject({ requests: 2, messages: 2, duplicates: 1 });
    expect((await postJson(h, '/v1/events', TOKENS.ingest, [...body, canonical('q3', 'svc-a')])).status).toBe(
      200,
    );
    expect((await queueStatus(conn, NOW)).lagMessages).toBe(2);

    const worker = new QueueWorker(conn, h.store, { batch: 10, waitMs: 1000 });
    await drain(worker, () => worker.stats.messages >= 2);
    expect(worker.stats).toMatchObject({ committed: 3, duplicates: 2, poison: 0 });
    // Its metrics time every store transaction it committed.
    const metrics = workerMetrics(worker.stats, worker.commitTimes);
    expect(metrics).toMatch(/^# TYPE tally_worker_commit_duration_seconds histogram$/m);
    expect(metrics).toContain(`tally_worker_commit_duration_seconds_count ${worker.stats.batches}\n`);
    expect(worker.stats.batches).toBeGreaterThan(0);
    expect((await h.store.counters()).events).toBe(3);
    expect((await queueStatus(conn, NOW)).lagMessages).toBe(0);
    expect((await h.store.verify()).ok).toBe(true);
  });

  it('refuses an invalid record at the replica with the same 400, naming record and field, and publishes nothing', async () => {
    const before = publisher.stats.messages;
    const r = await postJson(h, '/v1/events', TOKENS.ingest, [
      canonical('ok', 'svc-a'),
      canonical('bad', 'svc-a', { input_tokens: -1 }),
    ]);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { problems: Array<{ record: number; field: string }> };
    expect(body.problems[0]).toMatchObject({ record: 1, field: 'input_tokens' });
    expect(publisher.stats.messages).toBe(before);
  });

  it('redelivers what a worker fetched and never acknowledged, and the next worker stores it once', async () => {
    expect((await postJson(h, '/v1/events', TOKENS.ingest, [canonical('r1', 'svc-a')])).status).toBe(200);
    // A worker that dies after fetching r1: it never commits or acknowledges. An earlier test's
    // message may come again first (on a busy machine its worker's acknowledgement can outlast
    // the 2 s ack_wait): it is acknowledged here and passed over.
    const consumer = await conn.js.consumers.get(conn.settings.stream, conn.settings.consumer);
    let taken = false;
    for (let tries = 0; !taken && tries < 10; tries++)
      for await (const m of await consumer.fetch({ max_messages: 1, expires: 1000 })) {
        if (decodeMessage(m.data)?.events.some((e) => e.id === 'r1')) taken = true;
        else m.ack();
      }
    expect(taken).toBe(true);
    const worker = new QueueWorker(conn, h.store, { batch: 10, waitMs: 1000 });
    // r1, taken above and never acknowledged, reaches this worker again: stored once.
    await drain(worker, () => worker.stats.committed >= 1);
    expect(worker.stats.committed).toBe(1);
    expect((await h.store.eventsById('r1', 'test')).length).toBe(1);
  });
});

// On a stream of its own, so that no earlier test's message can come first.
describe('a message taken and never acknowledged', () => {
  it('comes again to the next worker, which counts it as a redelivery and stores it once', async () => {
    const conn = await queue('REDELIVER');
    const h = await harness({ deps: { queue: new QueuePublisher(conn) } });
    try {
      expect((await postJson(h, '/v1/events', TOKENS.ingest, [canonical('d1', 'svc-a')])).status).toBe(200);
      const consumer = await conn.js.consumers.get(conn.settings.stream, conn.settings.consumer);
      const taken = [];
      for await (const m of await consumer.fetch({ max_messages: 1, expires: 1000 })) taken.push(m);
      expect(taken).toHaveLength(1);
      const worker = new QueueWorker(conn, h.store, { batch: 10, waitMs: 1000 });
      await drain(worker, () => worker.stats.committed >= 1);
      expect(worker.stats).toMatchObject({ committed: 1, redeliveries: 1 });
      expect(workerMetrics(worker.stats, worker.commitTimes)).toMatch(/^tally_worker_redeliveries_total 1$/m);
      expect((await h.store.eventsById('d1', 'test')).length).toBe(1);
    } finally {
      await h.close();
    }
  });
});

describe('backpressure', () => {
  it('answers 429 with Retry-After when the stream is full, and keeps nothing of the request', async () => {
    const conn = await queue('FULL', '&max_bytes=4KB');
    const h = await harness({ deps: { queue: new QueuePublisher(conn) } });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 20 && !statuses.includes(429); i++) {
        const r = await postJson(h, '/v1/events', TOKENS.ingest, [canonical(`f${i}`, 'svc-a')]);
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      expect(statuses[0]).toBe(200);
      expect(statuses.at(-1)).toBe(429);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      const metrics = await (await h.call('GET', '/metrics')).text();
      expect(metrics).toMatch(/tally_queue_full_total 1\n/);
    } finally {
      await h.close();
    }
  });

  it('answers 503 with Retry-After when NATS is gone, at once', async () => {
    const conn = await queue('GONE');
    const publisher = new QueuePublisher(conn);
    await conn.nc.close();
    const err = await publisher.publish('events:http', [], []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueBusyError);
    expect(err).toMatchObject({ code: 'queue_unavailable' });
    const h = await harness({ deps: { queue: publisher } });
    try {
      const r = await postJson(h, '/v1/events', TOKENS.ingest, [canonical('g1', 'svc-a')]);
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('2');
    } finally {
      await h.close();
      const again = await connectQueue(conn.settings, 'tally test cleanup');
      opened.push(again);
    }
  });
});
