// Issue 15's hostile requests against the HTTP API in-process (SPEC §9): bad
// bodies are 4xx with a reason, never a 500 or a frozen server; reads have
// role-independent bounds; replies are not cached; the dashboard cannot be
// framed; a team token naming another team is a 403 everywhere.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { emptyEvent } from '../../src/core/event.js';
import { DuckDBStore } from '../../src/store/duckdb/duckdb-store.js';
import { canonical, type Harness, harness, postJson, TOKENS } from '../server/helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await harness();
  const r = await postJson(h, '/v1/events', TOKENS.ingest, [canonical('seed', 'svc-a')]);
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await h.close();
});

async function storedEvents(): Promise<number> {
  return (await h.store.counters()).events;
}

function post(path: string, body: Buffer | string, contentType: string): Promise<Response> {
  const data = typeof body === 'string' ? body : new Uint8Array(body);
  return h.call('POST', path, TOKENS.ingest, { body: data, headers: { 'content-type': contentType } });
}

/** Protobuf length-delimited field. */
function len(no: number, bytes: Buffer): Buffer {
  const n: number[] = [];
  let v = bytes.length;
  while (v >= 0x80) {
    n.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  n.push(v);
  return Buffer.concat([Buffer.from([(no << 3) | 2, ...n]), bytes]);
}

/** An ExportTraceServiceRequest with one span holding `attribute` (a KeyValue). */
function traceRequest(attribute: Buffer): Buffer {
  const span = Buffer.concat([
    len(1, Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex')),
    len(2, Buffer.from('00f067aa0ba902b7', 'hex')),
    len(9, attribute),
  ]);
  return len(1, len(2, len(2, span)));
}

describe('ingest bodies', () => {
  it('refuses an amount with a huge exponent with a 400 naming the field, storing nothing', async () => {
    const before = await storedEvents();
    for (const cost of ['1e300000000', '1e999999999']) {
      const r = await postJson(h, '/v1/events', TOKENS.ingest, [
        canonical('exp', 'svc-a', { reported_cost: cost }),
      ]);
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({
        problems: [{ field: 'reported_cost', reason: expect.stringMatching(/out of range/) }],
      });
    }
    // As a JSON number the text never reaches tally: JSON.parse makes it Infinity.
    const r = await post(
      '/v1/events',
      `[${JSON.stringify(canonical('inf', 'svc-a')).slice(0, -1)},"reported_cost":1e999999999}]`,
      'application/json',
    );
    expect(r.status).toBe(400);
    expect(await storedEvents()).toBe(before);
  });

  it('answers a 16 MB body of empty records with a 413 naming the bound, not a frozen server', async () => {
    const ndjson = '{}\n'.repeat(5_500_000);
    const a = await post('/v1/events', ndjson, 'application/x-ndjson');
    expect(a.status).toBe(413);
    expect((await a.json()).message).toMatch(/more than 100000 records/);
    const array = `[${'{},'.repeat(5_000_000)}{}]`;
    const b = await post('/v1/events', array, 'application/json');
    expect(b.status).toBe(413);
    const spans = `{"resourceSpans":[{"scopeSpans":[{"spans":[${'{},'.repeat(200_000)}{}]}]}]}`;
    const c = await post('/v1/traces', spans, 'application/json');
    expect(c.status).toBe(413);
    expect((await c.json()).message).toMatch(/more than 100000 spans/);
    // Empty resource spans, scopes or attributes: counted before the body is parsed.
    const empty = `{"resourceSpans":[${'{},'.repeat(5_000_000)}{}]}`;
    const d = await post('/v1/traces', empty, 'application/json');
    expect(d.status).toBe(413);
    expect((await d.json()).message).toMatch(/more than 1000000 JSON objects and arrays/);
    // The same in protobuf: 8 million empty ResourceSpans (field 1, length 0) in 16 MB.
    const proto = Buffer.alloc(16_000_000);
    for (let i = 0; i < proto.length; i += 2) proto[i] = 0x0a;
    const e = await post('/v1/traces', proto, 'application/x-protobuf');
    expect(e.status).toBe(413);
  });

  it('lists at most 100 invalid records and counts the rest', async () => {
    const r = await postJson(
      h,
      '/v1/events',
      TOKENS.ingest,
      Array.from({ length: 500 }, () => ({})),
    );
    expect(r.status).toBe(400);
    const body = (await r.json()) as { problems: { reason: string }[] };
    expect(body.problems).toHaveLength(100);
  });

  it('refuses invalid UTF-8 instead of replacing it (ids could collide)', async () => {
    const bytes = Buffer.concat([
      Buffer.from('[{"id":"a'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(JSON.stringify(canonical('', 'svc-a')).slice(8), 'utf8'),
      Buffer.from(']'),
    ]);
    const r = await post('/v1/events', bytes, 'application/json');
    expect(r.status).toBe(400);
    expect((await r.json()).message).toMatch(/not valid UTF-8/);
    const proto = traceRequest(Buffer.concat([len(1, Buffer.from([0x6b, 0xff]))]));
    const p = await post('/v1/traces', proto, 'application/x-protobuf');
    expect(p.status).toBe(400);
  });

  it('refuses JSON and protobuf nested past the depth bound with a 400', async () => {
    const deep = `{"resourceSpans":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const r = await post('/v1/traces', deep, 'application/json');
    expect(r.status).toBe(400);
    expect((await r.json()).message).toMatch(/nested deeper than 64 levels/);
    // AnyValue{kvlistValue{values[KeyValue{key, value: AnyValue{…}}]}}, 2000 levels.
    let value = len(1, Buffer.from('x'));
    for (let i = 0; i < 2000; i++)
      value = len(6, len(1, Buffer.concat([len(1, Buffer.from('k')), len(2, value)])));
    const proto = traceRequest(Buffer.concat([len(1, Buffer.from('gen_ai.operation.name')), len(2, value)]));
    const p = await post('/v1/traces', proto, 'application/x-protobuf');
    expect(p.status).toBe(400);
  });
});

describe('read bounds, the same for every role', () => {
  it.each([
    ['/v1/signals?from=0001-01-01&to=9999-12-31', /at most 92 days/],
    ['/v1/replay?from=0001-01-01&to=9999-12-31', /at most 92 days/],
    ['/v1/statements?from=2020-01-01&to=2026-01-01', /at most 366 days/],
    ['/v1/events?from=2000-01-01&to=2026-01-01', /at most 366 days/],
    ['/v1/spend/daily?from=1970-01-01&to=2026-01-01', /at most 366 days/],
  ])('%s is a 422 naming the bound', async (path, bound) => {
    for (const token of [TOKENS.admin, TOKENS.finance, TOKENS.teamA]) {
      const r = await h.call('GET', path, token);
      expect(r.status).toBe(422);
      expect((await r.json()).message).toMatch(bound);
    }
  });

  it('interrupts a read that runs past the time bound with a LimitError', async () => {
    const store = await DuckDBStore.open(':memory:', { readTimeoutMs: 1 });
    try {
      const events = Array.from({ length: 200_000 }, (_, i) => ({
        ...emptyEvent(`e${i}`, 'test', 0),
        operation: 'chat',
        service: `svc-${i % 1000}`,
        time: Date.UTC(2026, 9, 1) + i * 1000,
        trace_id: `t${i % 5000}`,
        span_id: `s${i}`,
        parent_span_id: i % 2 ? `s${i - 1}` : null,
      }));
      await store.ingest('big', [events]);
      await expect(
        store.eventsInWindow({
          from: Date.UTC(2026, 9, 1),
          to: Date.UTC(2026, 10, 1),
          traceMargin: 3_600_000,
        }),
      ).rejects.toThrow(/time bound of 0.001 s/);
    } finally {
      await store.close();
    }
  });
});

describe('server hygiene', () => {
  it('marks data replies and errors no-store', async () => {
    const ok = await h.call('GET', '/v1/statements?period=2026-10', TOKENS.finance);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const bad = await h.call('GET', '/v1/statements?period=2026-13', TOKENS.finance);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('no-store');
  });

  it('sends the dashboard with a CSP that forbids framing', async () => {
    const r = await h.call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(r.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });

  it.each(['/v1/replay?from=2026-10-01&to=2026-10-31&team=team-b', '/v1/budgets?period=2026-10&team=team-b'])(
    '%s with team-a token is a 403',
    async (path) => {
      expect((await h.call('GET', path, TOKENS.teamA)).status).toBe(403);
      expect((await h.call('GET', path.replace('team-b', 'team-a'), TOKENS.teamA)).status).toBe(200);
    },
  );

  it('logs a 500 on stderr with secrets redacted, and the reply says nothing of it', async () => {
    const secret = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    const broken = await harness({
      deps: {
        now: () => {
          throw new Error(`clock failed near ${secret}`);
        },
      },
    });
    let logged = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      logged += String(s);
      return true;
    });
    try {
      const r = await broken.call('GET', '/v1/budgets', TOKENS.finance);
      expect(r.status).toBe(500);
      expect(await r.text()).not.toMatch(/clock|sk-/);
    } finally {
      spy.mockRestore();
      await broken.close();
    }
    expect(logged).toMatch(/internal error on GET \/v1\/budgets: Error: clock failed near/);
    expect(logged).not.toContain(secret);
  });
});
