// The HTTP API in process: every endpoint and role, the team scoping rule on
// every read endpoint, limits, idempotent ingest and error bodies.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonical, type Harness, harness, postJson, TOKENS } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies under test
type J = Record<string, any>;

let h: Harness;

const T1 = '11111111111111111111111111111111';

/**
 * team-a: $1 + $2 (tenant-x) + $4 of rag work it invoked = $7;
 * team-b: $5; an unknown service: $1 unattributed. Total $13.
 */
const EVENTS = [
  canonical('a1', 'svc-a'),
  canonical('a2', 'svc-a', { input_tokens: 2_000_000, tenant: 'tenant-x', time: '2026-10-11T08:00:00Z' }),
  canonical('b1', 'svc-b', { input_tokens: 5_000_000, time: '2026-10-12T08:00:00Z' }),
  canonical('root', 'svc-a', {
    operation: 'invoke_agent',
    input_tokens: 0,
    trace_id: T1,
    span_id: '00000000000000a1',
  }),
  canonical('rag', 'rag', {
    operation: 'embeddings',
    input_tokens: 4_000_000,
    trace_id: T1,
    span_id: '00000000000000b2',
    parent_span_id: '00000000000000a1',
  }),
  canonical('x1', 'svc-x'),
];

async function seeded(): Promise<Harness> {
  const hh = await harness();
  const r = await postJson(hh, '/v1/events', TOKENS.ingest, EVENTS);
  expect(r.status).toBe(200);
  return hh;
}

async function body(r: Response): Promise<J> {
  return (await r.json()) as J;
}

afterEach(async () => {
  await h?.close();
});

describe('access', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  it('401 without a token or with an unknown one, with a JSON body', async () => {
    for (const token of [null, 'nope']) {
      const r = await h.call('GET', '/v1/statements?period=2026-10', token);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(await body(r)).toEqual({ error: 'unauthorized', message: expect.any(String) });
    }
    const r = await h.call('GET', '/v1/statements?period=2026-10', null, {
      headers: { authorization: `Basic ${TOKENS.admin}` },
    });
    expect(r.status).toBe(401);
  });

  it('403 beyond the role', async () => {
    const reads = [
      '/v1/statements?period=2026-10',
      '/v1/events?period=2026-10',
      '/v1/spend/daily?period=2026-10',
    ];
    for (const p of reads) expect((await h.call('GET', p, TOKENS.ingest)).status).toBe(403);
    for (const token of [TOKENS.finance, TOKENS.teamA]) {
      expect((await postJson(h, '/v1/events', token, [canonical('z', 'svc-a')])).status).toBe(403);
      expect((await postJson(h, '/v1/traces', token, { resourceSpans: [] })).status).toBe(403);
    }
    expect((await postJson(h, '/v1/events', TOKENS.admin, [canonical('z', 'svc-a')])).status).toBe(200);
  });

  it('whoami says the role and team', async () => {
    expect(await body(await h.call('GET', '/v1/whoami', TOKENS.teamA))).toEqual({
      role: 'team',
      team: 'team-a',
    });
    expect(await body(await h.call('GET', '/v1/whoami', TOKENS.ingest))).toEqual({
      role: 'ingest',
      team: null,
    });
    expect(await body(await h.call('GET', '/v1/whoami', TOKENS.finance))).toEqual({
      role: 'finance',
      team: null,
    });
  });
});

describe('statements', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  it('finance and admin see the whole organisation', async () => {
    for (const token of [TOKENS.finance, TOKENS.admin]) {
      const s = await body(await h.call('GET', '/v1/statements?period=2026-10', token));
      expect(s.totals.effective_cost).toBe('13.00');
      expect(s.totals.unattributed_cost).toBe('1.00');
      expect(s.scope).toBeNull();
      expect(new Set(s.lines.map((l: { team: string | null }) => l.team))).toEqual(
        new Set(['team-a', 'team-b', null]),
      );
    }
  });

  it('a team token sees its own lines and totals recomputed from them, at every level', async () => {
    for (const level of ['line', 'team', 'application', 'tenant', 'cost_center']) {
      const a = await body(await h.call('GET', `/v1/statements?period=2026-10&level=${level}`, TOKENS.teamA));
      expect(a.scope).toEqual({ team: 'team-a' });
      expect(a.totals.effective_cost).toBe('7.00');
      expect(a.totals.unattributed_cost).toBe('0.00');
      expect(a.inputs.events).toBe(4);
      const b = await body(await h.call('GET', `/v1/statements?period=2026-10&level=${level}`, TOKENS.teamB));
      expect(b.totals.effective_cost).toBe('5.00');
      expect(JSON.stringify(b)).not.toContain('team-a');
      expect(JSON.stringify(a)).not.toContain('team-b');
    }
  });

  it('a team token asking for another team gets 403; finance may filter', async () => {
    const r = await h.call('GET', '/v1/statements?period=2026-10&team=team-b', TOKENS.teamA);
    expect(r.status).toBe(403);
    expect((await h.call('GET', '/v1/statements?period=2026-10&team=team-a', TOKENS.teamA)).status).toBe(200);
    const f = await body(await h.call('GET', '/v1/statements?period=2026-10&team=team-b', TOKENS.finance));
    expect(f.totals.effective_cost).toBe('5.00');
  });

  it('400 for a bad window or level', async () => {
    for (const q of [
      '',
      '?period=2026-13',
      '?period=2026-10&level=planet',
      '?from=2026-10-05',
      '?period=2026-10&from=2026-10-01&to=2026-10-02',
    ]) {
      const r = await h.call('GET', `/v1/statements${q}`, TOKENS.finance);
      expect(r.status).toBe(400);
      expect(Object.keys(await body(r)).sort()).toEqual(['error', 'message']);
    }
    const w = await body(await h.call('GET', '/v1/statements?from=2026-10-11&to=2026-10-12', TOKENS.finance));
    expect(w.totals.effective_cost).toBe('2.00');
  });
});

describe('daily spend', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  it('per day and team; a team token gets its own series only', async () => {
    const all = await body(await h.call('GET', '/v1/spend/daily?period=2026-10', TOKENS.finance));
    expect(all.days).toHaveLength(31);
    const byTeam = Object.fromEntries(
      all.series.map((s: { team: string; costs: string[] }) => [s.team, s.costs]),
    );
    expect(byTeam['team-a'][9]).toBe('5.00');
    expect(byTeam['team-a'][10]).toBe('2.00');
    expect(byTeam['team-b'][11]).toBe('5.00');
    const a = await body(await h.call('GET', '/v1/spend/daily?period=2026-10', TOKENS.teamA));
    expect(a.series.map((s: { team: string }) => s.team)).toEqual(['team-a']);
    expect((await h.call('GET', '/v1/spend/daily?period=2026-10&team=team-b', TOKENS.teamA)).status).toBe(
      403,
    );
  });
});

describe('events drill-down', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  async function all(token: string, query: string, limit = 2): Promise<Array<J>> {
    const out: Array<J> = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const r = await h.call(
        'GET',
        `/v1/events?period=2026-10&limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
        token,
      );
      expect(r.status).toBe(200);
      const page = await body(r);
      out.push(...page.events);
      cursor = page.next_cursor;
      if (!cursor) return out;
    }
    throw new Error('paging did not end');
  }

  it('pages through every event exactly once, newest first, priced and attributed', async () => {
    const events = await all(TOKENS.finance, '');
    expect(events.map((e) => e.id).sort()).toEqual(['a1', 'a2', 'b1', 'rag', 'root', 'x1']);
    const times = events.map((e) => e.time);
    expect([...times].sort().reverse()).toEqual(times);
    const rag = events.find((e) => e.id === 'rag');
    expect(rag).toMatchObject({
      identity: 'nhi-rag',
      payer: 'nhi-a',
      team: 'team-a',
      cost: '4.00',
      attribution: 'attributed',
    });
    expect(events.find((e) => e.id === 'x1')).toMatchObject({
      team: null,
      attribution: 'unattributed',
      reason: 'unknown_identity',
    });
  });

  it('a team token sees only the events charged to its team', async () => {
    expect((await all(TOKENS.teamA, '')).map((e) => e.id).sort()).toEqual(['a1', 'a2', 'rag', 'root']);
    // the rag service belongs to team-b, but team-a invoked (and pays for) its work
    expect((await all(TOKENS.teamB, '')).map((e) => e.id)).toEqual(['b1']);
    expect((await all(TOKENS.teamB, '&identity=nhi-rag')).map((e) => e.id)).toEqual([]);
    expect((await h.call('GET', '/v1/events?period=2026-10&team=team-a', TOKENS.teamB)).status).toBe(403);
  });

  it('filters', async () => {
    expect((await all(TOKENS.finance, '&tenant=tenant-x')).map((e) => e.id)).toEqual(['a2']);
    expect((await all(TOKENS.finance, '&status=unattributed')).map((e) => e.id)).toEqual(['x1']);
    expect((await all(TOKENS.finance, `&trace=${T1}`)).map((e) => e.id).sort()).toEqual(['rag', 'root']);
    expect((await all(TOKENS.finance, '&category=embedding&application=app-a')).map((e) => e.id)).toEqual([
      'rag',
    ]);
    expect((await all(TOKENS.finance, '&team=team-b', 100)).map((e) => e.id)).toEqual(['b1']);
  });

  it('400 for a bad cursor or limit', async () => {
    expect((await h.call('GET', '/v1/events?period=2026-10&cursor=zzz', TOKENS.finance)).status).toBe(400);
    expect((await h.call('GET', '/v1/events?period=2026-10&limit=0', TOKENS.finance)).status).toBe(400);
    expect((await h.call('GET', '/v1/events?period=2026-10&limit=5000', TOKENS.finance)).status).toBe(400);
  });
});

describe('POST /v1/events', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('a retried request is stored once', async () => {
    const first = await body(await postJson(h, '/v1/events', TOKENS.ingest, EVENTS));
    expect(first).toMatchObject({ stored: 6, duplicates: 0 });
    const again = await body(await postJson(h, '/v1/events', TOKENS.ingest, EVENTS));
    expect(again).toEqual({
      stored: 0,
      duplicates: 6,
      superseded: 0,
      batch: null,
      requests: 1,
      rejected: 0,
      ignored: 0,
    });
    const s = await body(await h.call('GET', '/v1/statements?period=2026-10', TOKENS.finance));
    expect(s.totals.effective_cost).toBe('13.00');
    expect(s.totals.events).toBe(6);
  });

  it('takes NDJSON and a single object', async () => {
    const nd = EVENTS.slice(0, 2)
      .map((e) => JSON.stringify(e))
      .join('\n');
    const r = await h.call('POST', '/v1/events', TOKENS.ingest, {
      body: `${nd}\n\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(await body(r)).toMatchObject({ stored: 2 });
    expect(await body(await postJson(h, '/v1/events', TOKENS.ingest, EVENTS[2]))).toMatchObject({
      stored: 1,
    });
  });

  it('refuses the whole request with per-record reasons when a record is invalid', async () => {
    const bad = [
      canonical('ok', 'svc-a'),
      canonical('neg', 'svc-a', { input_tokens: -5 }),
      { ...canonical('u', 'svc-a'), colour: 'red' },
    ];
    const r = await postJson(h, '/v1/events', TOKENS.ingest, bad);
    expect(r.status).toBe(400);
    const b = await body(r);
    expect(b.error).toBe('invalid_input');
    expect(b.problems.map((p: { record: number; field: string }) => [p.record, p.field])).toEqual([
      [1, 'input_tokens'],
      [2, 'colour'],
    ]);
    expect(JSON.stringify(b)).not.toMatch(/\/tmp|at .*\.ts|stack/);
    expect((await h.store.counters()).events).toBe(0);
    const nd = `${JSON.stringify(canonical('ok', 'svc-a'))}\n{not json\n`;
    const r2 = await h.call('POST', '/v1/events', TOKENS.ingest, {
      body: nd,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect((await body(r2)).problems).toEqual([{ record: 2, recordKind: 'line', reason: 'not valid JSON' }]);
  });

  it('400 for a body that is not JSON, 415 for other content types and encodings', async () => {
    const r = await h.call('POST', '/v1/events', TOKENS.ingest, {
      body: '[{',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    const x = await h.call('POST', '/v1/events', TOKENS.ingest, {
      body: 'a,b',
      headers: { 'content-type': 'text/csv' },
    });
    expect(x.status).toBe(415);
    const br = await h.call('POST', '/v1/events', TOKENS.ingest, {
      body: '[]',
      headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
    });
    expect(br.status).toBe(415);
  });
});

describe('limits', () => {
  it('413 for a body over the limit, also when it only grows that large when decompressed', async () => {
    const { gzipSync } = await import('node:zlib');
    h = await harness({ deps: { limits: { bodyBytes: 10_000 } } });
    const big = JSON.stringify(Array.from({ length: 200 }, (_, i) => canonical(`e${i}`, 'svc-a')));
    expect((await postJson(h, '/v1/events', TOKENS.ingest, JSON.parse(big))).status).toBe(413);
    const bomb = gzipSync(Buffer.from(`[${' '.repeat(5_000_000)}]`));
    expect(bomb.length).toBeLessThan(10_000);
    const r = await h.call('POST', '/v1/events', TOKENS.ingest, {
      body: bomb,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(r.status).toBe(413);
    expect((await body(r)).error).toBe('payload_too_large');
  });

  it('429 with Retry-After beyond the rate of a token; other tokens are not affected', async () => {
    h = await harness({ deps: { limits: { rate: { perSecond: 1, burst: 2 } } } });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await h.call('GET', '/v1/whoami', TOKENS.finance)).status);
    expect(codes).toEqual([200, 200, 429]);
    const r = await h.call('GET', '/v1/whoami', TOKENS.finance);
    expect(r.headers.get('retry-after')).toBe('1');
    expect((await h.call('GET', '/v1/whoami', TOKENS.teamA)).status).toBe(200);
  });
});

describe('public endpoints', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  it('healthz and metrics need no token', async () => {
    expect(await body(await h.call('GET', '/healthz'))).toEqual({ status: 'ok' });
    const commitsBefore = commitCount(await (await h.call('GET', '/metrics')).text());
    await postJson(h, '/v1/events', TOKENS.ingest, EVENTS.slice(0, 2));
    await postJson(h, '/v1/events', TOKENS.ingest, [{ id: 'bad' }]);
    const r = await h.call('GET', '/metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^tally_events_ingested_total 6$/m);
    expect(text).toMatch(/^tally_events_duplicate_total 2$/m);
    expect(text).toMatch(/^tally_events_rejected_total 1$/m);
    // now (Nov 5 12:00) − newest event (Oct 12 08:00)
    expect(text).toMatch(/^tally_ingest_lag_seconds 2088000$/m);
    expect(text).toMatch(/^tally_http_requests_total\{route="POST \/v1\/events",status="400"\} 1$/m);
    expect(text).toMatch(/^# TYPE tally_http_requests_total counter$/m);
    // One more commit: the valid request's (the refused one never reached the store).
    expect(text).toMatch(/^# TYPE tally_commit_duration_seconds histogram$/m);
    expect(commitCount(text)).toBe(commitsBefore + 1);
    expect(text).toMatch(
      new RegExp(`^tally_commit_duration_seconds_bucket\\{le="\\+Inf"\\} ${commitsBefore + 1}$`, 'm'),
    );
  });

  it('the OpenAPI document lists every registered route with its roles', async () => {
    const doc = await body(await h.call('GET', '/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    for (const r of h.app.routes) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      if (r.roles !== 'public') expect(op['x-roles']).toEqual([...r.roles]);
    }
    const listed = Object.values(doc.paths as Record<string, object>).reduce(
      (n, p) => n + Object.keys(p).length,
      0,
    );
    expect(listed).toBe(h.app.routes.length);
  });

  it('serves the dashboard with an index.html fallback and nothing outside its folder', async () => {
    for (const p of ['/', '/statements/2026-10', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd']) {
      const r = await h.call('GET', p);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('<title>tally</title>');
    }
    const r = await h.call('GET', '/v1/nothing', TOKENS.finance);
    expect(r.status).toBe(404);
    expect((await body(r)).error).toBe('not_found');
  });

  it('a failing store gives a 503 without internals', async () => {
    await h.store.close();
    const r = await h.call('GET', '/v1/statements?period=2026-10', TOKENS.finance);
    expect(r.status).toBe(503);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({
      error: 'store_failure',
      message: 'the store could not complete the request',
    });
  });
});

describe('signals, replay and budgets', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  it('signals: a team token sees its team only; the unknown service is not anyone’s', async () => {
    const all = await body(await h.call('GET', '/v1/signals?from=2026-10-01&to=2026-11-01', TOKENS.finance));
    const s03 = all.signals.filter((s: J) => s.rule === 'S03');
    expect(s03.map((s: J) => s.identity)).toEqual(['service:svc-x']);
    for (const token of [TOKENS.teamA, TOKENS.teamB]) {
      const mine = await body(await h.call('GET', '/v1/signals?from=2026-10-01&to=2026-11-01', token));
      const team = token === TOKENS.teamA ? 'team-a' : 'team-b';
      expect(mine.scope).toEqual({ team });
      for (const s of mine.signals) expect(s.team).toBe(team);
      expect(JSON.stringify(mine)).not.toContain('svc-x');
    }
    const dflt = await body(await h.call('GET', '/v1/signals', TOKENS.finance));
    expect(dflt.window.end).toBe('2026-10-12T09:00:00Z');
    expect((await h.call('GET', '/v1/signals?team=team-b', TOKENS.teamA)).status).toBe(403);
  });

  it('replay: a team token sees only the spans charged to its team, totals from those', async () => {
    const q = '/v1/replay?from=2026-10-01&to=2026-11-01';
    const all = await body(await h.call('GET', q, TOKENS.finance));
    expect(all.totals.effective_cost).toBe('13.00');
    const a = await body(await h.call('GET', q, TOKENS.teamA));
    expect(a.totals.effective_cost).toBe('7.00');
    const b = await body(await h.call('GET', q, TOKENS.teamB));
    expect(b.totals.effective_cost).toBe('5.00');
    const teams = (r: J) => {
      const out = new Set<string | null>();
      const walk = (n: J) => {
        out.add(n.team);
        n.children.forEach(walk);
      };
      for (const t of r.traces) t.spans.forEach(walk);
      return out;
    };
    expect(teams(a)).toEqual(new Set(['team-a']));
    expect(teams(b)).toEqual(new Set(['team-b']));
    // the rag span stays under team-a's root span
    const trace = a.traces.find((t: J) => t.trace_id === T1);
    expect(trace.spans[0].children[0].id).toBe('rag');
    const byTrace = await body(await h.call('GET', `/v1/replay?trace=${T1}`, TOKENS.teamB));
    expect(byTrace.traces).toEqual([]);
    expect(byTrace.totals.effective_cost).toBe('0.00');
    expect((await h.call('GET', '/v1/replay', TOKENS.finance)).status).toBe(400);
    expect((await h.call('GET', q, TOKENS.ingest)).status).toBe(403);
  });

  it('budgets: actual against the month; a team token sees its own budgets only', async () => {
    const all = await body(await h.call('GET', '/v1/budgets?period=2026-10', TOKENS.finance));
    expect(all.budgets.map((x: J) => [x.id, x.actual, x.budget])).toEqual([
      ['team-a', '7.00', '10.00'],
      ['team-b', '5.00', '1000.00'],
    ]);
    expect(all.budgets[0].thresholds.map((t: J) => [t.percent, t.crossed_at])).toEqual([
      [50, '2026-10-10T00:00:00Z'],
      [100, null],
    ]);
    const b = await body(await h.call('GET', '/v1/budgets?period=2026-10', TOKENS.teamB));
    expect(b.budgets.map((x: J) => x.id)).toEqual(['team-b']);
    expect(JSON.stringify(b)).not.toContain('team-a');
  });
});

describe('posture', () => {
  beforeEach(async () => {
    h = await seeded();
  });

  it('is for admin and finance; a team token gets 403', async () => {
    const p = await h.call('GET', '/v1/posture?period=2026-10', TOKENS.finance);
    expect(p.status).toBe(200);
    expect(JSON.stringify(await p.json())).toContain('svc-x');
    expect((await h.call('GET', '/v1/posture', TOKENS.admin)).status).toBe(200);
    expect((await h.call('GET', '/v1/posture', TOKENS.teamA)).status).toBe(403);
    expect((await h.call('GET', '/v1/posture', TOKENS.ingest)).status).toBe(403);
  });
});

describe('concurrent ingest', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('concurrent requests, retries among them, are each committed and counted once', async () => {
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) =>
        canonical(`c${b}-${i}`, i % 2 ? 'svc-a' : 'svc-b', { input_tokens: 1000 }),
      ),
    );
    const sends = [...batches, ...batches.slice(0, 3)].map((events) =>
      postJson(h, '/v1/events', TOKENS.ingest, events),
    );
    const replies = await Promise.all(sends);
    expect(replies.map((r) => r.status)).toEqual(Array(11).fill(200));
    const c = await h.store.counters();
    expect(c.events).toBe(400);
    expect(c.duplicates).toBe(150);
    const s = await body(await h.call('GET', '/v1/statements?period=2026-10', TOKENS.finance));
    expect(s.totals.events).toBe(400);
    expect((await h.store.verify()).ok).toBe(true);
  });
});

/** The number of commits the server's metrics count. */
function commitCount(metrics: string): number {
  const m = /^tally_commit_duration_seconds_count (\d+)$/m.exec(metrics);
  if (!m) throw new Error('no commit count in the metrics');
  return Number(m[1]);
}
