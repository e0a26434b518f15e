// OTLP traces requests decoded and mapped in worker threads (src/server/trace-pool.ts): the
// same events, the same refusals, and a worker's failure fails its request, not the server.
// The workers run the built code (dist/), compiled first.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.js';
import { fingerprint } from '../../src/core/secrets.js';
import { HttpError } from '../../src/server/errors.js';
import { parseEvents, parseTraces } from '../../src/server/ingest.js';
import { MAX_SPANS_PER_REQUEST } from '../../src/server/otlp-proto.js';
import { TracePool } from '../../src/server/trace-pool.js';
import { configDir, freePort, ROOT, startServe } from './child.js';
import { harness, NOW, postJson, TOKENS } from './helpers.js';
import { spansOf } from './spans.js';

const AT = Date.UTC(2026, 9, 10, 12);
const WORKER = pathToFileURL(path.join(ROOT, 'dist/server/trace-worker.js'));

/** Spans of several services, one with a negative token count (a rejected span). */
function spans() {
  return spansOf(
    [
      { service: 'svc-a', input: 1_000_000, output: 7, tenant: 'tenant-x' },
      { service: 'svc-b', input: -5 },
      ...Array.from({ length: 40 }, (_, i) => ({ service: `svc-${i % 3}`, input: 1000 + i })),
    ],
    AT,
  );
}
const proto = () => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans()) as Uint8Array);
const json = () => Buffer.from(JsonTraceSerializer.serializeRequest(spans()) as Uint8Array);

/** A request of more spans than one may hold: resourceSpans { scopeSpans { spans {} × (max + 1) } }. */
function tooManySpans(): Buffer {
  const len = (n: number) => {
    const out: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      if (v < 0x80) return [...out, v];
      out.push((v & 0x7f) | 0x80);
    }
  };
  const scope = Buffer.alloc(2 * (MAX_SPANS_PER_REQUEST + 1), Buffer.from([0x12, 0x00]));
  const rs = Buffer.concat([Buffer.from([0x12, ...len(scope.length)]), scope]);
  return Buffer.concat([Buffer.from([0x0a, ...len(rs.length)]), rs]);
}

let pool: TracePool;
let dir: string;

beforeAll(async () => {
  // Every body goes to a worker, however small.
  pool = new TracePool(2, WORKER, 0);
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-trace-pool-'));
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a trace parse worker', () => {
  it('gives the events, links, counts and message that this thread gives', async () => {
    for (const [encoding, body] of [
      ['protobuf', proto()],
      ['json', json()],
    ] as const) {
      const here = parseTraces(encoding, body, NOW);
      const there = await pool.parse(encoding, body, NOW);
      expect(there).toEqual(here);
      // Packed for the hand-over and rebuilt: the keys in the same order (a queued message's bytes).
      expect(JSON.stringify(there)).toBe(JSON.stringify(here));
      expect(there.events.length).toBe(83);
      // The rejected span is named by its place and field, as in this thread.
      expect(there.rejected).toBe(1);
      expect(there.message).toMatch(
        /resourceSpans\[1\]\.scopeSpans\[0\]\.spans\[\d\]\.attributes\[\d\] \(gen_ai\.usage\.input_tokens\)/,
      );
    }
  });

  it('hands back a raw key only as its fingerprint, in the events and in the message', async () => {
    const key = 'sk-proj-Abc123Def456Ghi789Jkl';
    const body = Buffer.from(
      ProtobufTraceSerializer.serializeRequest(
        spansOf(
          [
            { service: 'svc-a', input: 10, extra: { 'tally.api_key': key } },
            { service: 'svc-b', input: -1, extra: { 'tally.api_key': key } },
          ],
          AT,
        ),
      ) as Uint8Array,
    );
    const parsed = await pool.parse('protobuf', body, NOW);
    expect(parsed.events.find((e) => e.service === 'svc-a' && e.operation === 'chat')?.api_key).toBe(
      fingerprint(key),
    );
    expect(parsed.rejected).toBe(1);
    expect(JSON.stringify(parsed)).not.toContain('sk-proj');
  });

  it('serves requests side by side, each its own answer', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) =>
      Buffer.from(
        ProtobufTraceSerializer.serializeRequest(
          spansOf([{ service: `svc-${i}`, input: 100 + i }], AT),
        ) as Uint8Array,
      ),
    );
    const got = await Promise.all(bodies.map((b) => pool.parse('protobuf', b, NOW)));
    const calls = got.map((p) => p.events.filter((e) => e.operation === 'chat'));
    expect(calls.map((events) => events.map((e) => [e.service, e.input_tokens]))).toEqual(
      bodies.map((_, i) => [[`svc-${i}`, 100 + i]]),
    );
  });

  it('refuses a body as this thread does: the same error, code and message', async () => {
    for (const [encoding, body] of [
      ['protobuf', Buffer.from([0x0a, 0xff, 0xff, 0x01])],
      ['json', Buffer.from('{"resourceSpans": [')],
      ['protobuf', tooManySpans()],
    ] as const) {
      let here: unknown;
      try {
        parseTraces(encoding, body, NOW);
      } catch (e) {
        here = e;
      }
      const there = await pool.parse(encoding, body, NOW).catch((e: unknown) => e);
      expect(here).toBeInstanceOf(Error);
      expect(there).toBeInstanceOf((here as object).constructor);
      expect(there).toMatchObject({
        code: (here as TallyError | HttpError).code,
        message: (here as Error).message,
      });
    }
  });

  it('answers a malformed body with a 400 and goes on serving', async () => {
    const h = await harness({ deps: { parseTraces: pool.parse } });
    try {
      const post = (body: Buffer) =>
        h.call('POST', '/v1/traces', TOKENS.ingest, {
          body: new Uint8Array(body),
          headers: { 'content-type': 'application/x-protobuf' },
        });
      const bad = await post(Buffer.from([0x0a, 0xff, 0xff, 0x01]));
      expect(bad.status).toBe(400);
      expect(Buffer.from(await bad.arrayBuffer())[1]).toBe(3); // google.rpc.Status INVALID_ARGUMENT
      expect((await post(tooManySpans())).status).toBe(413);
      const ok = await post(proto());
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-tally-stored')).toBe('83');
      expect(ok.headers.get('x-tally-rejected')).toBe('1');
    } finally {
      await h.close();
    }
  });

  it('fails the request of a worker that dies, with a 500, and replaces the worker', async () => {
    // A worker that stops at a three-byte body, before the real worker sees it: its hook is
    // imported first, so that its listener is the first to get each message.
    const hook = path.join(dir, 'die-at-three.mjs');
    await writeFile(
      hook,
      `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (job) => { if (job.body.byteLength === 3) process.exit(3); });
`,
    );
    const script = path.join(dir, 'dying.mjs');
    await writeFile(
      script,
      `import ${JSON.stringify(pathToFileURL(hook).href)};\nimport ${JSON.stringify(WORKER.href)};\n`,
    );
    const dying = new TracePool(1, pathToFileURL(script), 0);
    try {
      const died = await dying.parse('protobuf', Buffer.from([1, 2, 3]), NOW).catch((e: unknown) => e);
      expect(died).toBeInstanceOf(Error);
      expect(died).not.toBeInstanceOf(TallyError);
      expect(died).not.toBeInstanceOf(HttpError);
      expect((died as Error).message).toMatch(/trace parse worker stopped/);
      expect((await dying.parse('protobuf', proto(), NOW)).events.length).toBe(83);
      const h = await harness({ deps: { parseTraces: dying.parse } });
      try {
        const r = await h.call('POST', '/v1/traces', TOKENS.ingest, {
          body: Buffer.from([1, 2, 3]),
          headers: { 'content-type': 'application/x-protobuf' },
        });
        expect(r.status).toBe(500);
      } finally {
        await h.close();
      }
    } finally {
      await dying.close();
    }
  });

  it('starts its workers up front when asked, each then taking bodies, and stops them', async () => {
    const started = new TracePool(2, WORKER, 0);
    expect(started.running).toBe(0);
    started.start();
    expect(started.running).toBe(2);
    const body = Buffer.from(JSON.stringify(canonical(3)));
    const both = await Promise.all(
      [1, 2, 3].map(() => started.parseEvents('canonical', 'application/json', body, NOW)),
    );
    expect(both.map((p) => p.events.length)).toEqual([5, 5, 5]);
    expect(started.running).toBe(2);
    await started.close();
    expect(started.running).toBe(0);
  });

  it('parses a body below the threshold in this thread', async () => {
    const script = path.join(dir, 'never.mjs');
    await writeFile(
      script,
      `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(4));\n`,
    );
    const small = new TracePool(1, pathToFileURL(script), 1 << 20);
    try {
      expect((await small.parse('protobuf', proto(), NOW)).events.length).toBe(83);
    } finally {
      await small.close();
    }
  });

  it('serves tally serve --parse-workers: large bodies stored, a malformed one a 400, a clean stop', async () => {
    const config = await configDir();
    const served = await startServe(config, await freePort(), ['--parse-workers', '1']);
    try {
      const post = (body: Buffer) =>
        fetch(`${served.base}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKENS.ingest}` },
          body: new Uint8Array(body),
        });
      const calls = Array.from({ length: 300 }, (_, i) => ({ service: `svc-${i % 3}`, input: 10 + i }));
      const big = Buffer.from(ProtobufTraceSerializer.serializeRequest(spansOf(calls, AT)) as Uint8Array);
      expect(big.length).toBeGreaterThan(32 * 1024);
      const ok = await post(big);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-tally-stored')).toBe('600');
      const bad = await post(
        Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0x01]), Buffer.alloc(40_000, 0xff)]),
      );
      expect(bad.status).toBe(400);
      expect((await post(big)).headers.get('x-tally-duplicates')).toBe('600');
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
    await rm(config, { recursive: true, force: true });
  });
});

/** Canonical events: one with a raw key (fingerprinted), one with richer usage, and `n` plain ones. */
function canonical(n: number, extra: Record<string, unknown>[] = []): Record<string, unknown>[] {
  const base = {
    source: 'gw',
    time: '2026-10-10T12:00:00Z',
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
  };
  return [
    { ...base, id: 'k', api_key: 'sk-proj-Abc123Def456Ghi789Jkl', input_tokens: 3 },
    {
      ...base,
      id: 'r',
      cache_write_tokens: 5,
      cache_write_1h_tokens: 2,
      units: { images: 1 },
      tenant: 'acme',
    },
    ...Array.from({ length: n }, (_, i) => ({ ...base, id: `e${i}`, output_tokens: i, service: 'svc' })),
    ...extra,
  ];
}

/** A LiteLLM standard logging payload (its generic API callback's shape). */
const litellm = (id: string) => ({
  id,
  call_type: 'acompletion',
  model: 'gpt-4o',
  custom_llm_provider: 'openai',
  startTime: 1_760_097_600,
  endTime: 1_760_097_601,
  prompt_tokens: 12,
  completion_tokens: 3,
  response_cost: 0.00015,
  metadata: { user_api_key_hash: 'a'.repeat(64), user_api_key_team_id: 'team-a' },
});

describe('an events parse worker', () => {
  it('gives the events of a canonical, NDJSON or LiteLLM body that this thread gives', async () => {
    const bodies = [
      ['canonical', 'application/json', JSON.stringify(canonical(50))],
      [
        'canonical',
        'application/x-ndjson',
        canonical(5)
          .map((r) => JSON.stringify(r))
          .join('\n'),
      ],
      ['litellm', 'application/json', JSON.stringify([litellm('a'), litellm('b')])],
    ] as const;
    for (const [format, type, text] of bodies) {
      const body = Buffer.from(text);
      const here = parseEvents(format, type, body, NOW);
      const there = await pool.parseEvents(format, type, body, NOW);
      expect(there).toEqual(here);
      // Packed for the hand-over and rebuilt: the keys in the same order.
      expect(JSON.stringify(there)).toBe(JSON.stringify(here));
      expect(there.rejected).toBe(0);
      expect(there.events.length).toBeGreaterThan(1);
      expect(JSON.stringify(there)).not.toContain('sk-proj');
    }
    const [parsed] = await Promise.all([
      pool.parseEvents('canonical', 'application/json', Buffer.from(JSON.stringify(canonical(0))), NOW),
    ]);
    expect(parsed.events[0]?.api_key).toBe(fingerprint('sk-proj-Abc123Def456Ghi789Jkl'));
    expect(parsed.events[1]).toMatchObject({
      cache_write_1h_tokens: 2,
      units: { images: 1 },
      tenant: 'acme',
    });
  });

  it('refuses an events body as this thread does: its invalid records, or the same error', async () => {
    const invalid = canonical(3, [{ id: 'bad', source: 'gw', time: 'yesterday', provider: 'openai' }]);
    const refusals = [
      ['canonical', 'application/json', JSON.stringify(invalid)],
      ['canonical', 'application/x-ndjson', `${JSON.stringify(canonical(0)[0])}\nnot json\n{`],
    ] as const;
    for (const [format, type, text] of refusals) {
      const body = Buffer.from(text);
      const there = await pool.parseEvents(format, type, body, NOW);
      expect(there).toEqual(parseEvents(format, type, body, NOW));
      expect(there.rejected).toBeGreaterThan(0);
      expect(there.events).toEqual([]);
      expect(there.problems[0]).toMatchObject({ reason: expect.any(String) });
    }
    for (const [type, text] of [
      ['application/json', '[{"id": '],
      ['text/plain', '[]'],
      ['application/json', Buffer.from([0xff, 0xfe]).toString('latin1')],
    ] as const) {
      const body = Buffer.from(text, 'latin1');
      let here: unknown;
      try {
        parseEvents('canonical', type, body, NOW);
      } catch (e) {
        here = e;
      }
      const there = await pool.parseEvents('canonical', type, body, NOW).catch((e: unknown) => e);
      expect(here).toBeInstanceOf(HttpError);
      expect(there).toBeInstanceOf(HttpError);
      expect(there).toMatchObject({ code: (here as HttpError).code, message: (here as HttpError).message });
    }
  });

  it('serves POST /v1/events and /v1/litellm through the workers: stored, refused with its problems, counted', async () => {
    const h = await harness({ deps: { parseEvents: pool.parseEvents } });
    try {
      const post = (route: string, body: unknown) => postJson(h, route, TOKENS.ingest, body);
      const ok = await post('/v1/events', canonical(20));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ stored: 22, duplicates: 0 });
      const bad = await post('/v1/events', canonical(2, [{ id: 'x', source: 'gw' }]));
      expect(bad.status).toBe(400);
      expect((await bad.json()).problems[0]).toMatchObject({ record: 4 });
      expect((await post('/v1/litellm', [litellm('a')])).status).toBe(200);
      expect(await h.store.counters()).toMatchObject({ events: 23, rejected: 1 });
    } finally {
      await h.close();
    }
  });
});
