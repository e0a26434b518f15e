// /openapi.json describes what the endpoints really return: every GET route is
// called with an admin token on a small real store and its body validated
// against the document's response schema; ingest replies and error bodies too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonical, type Harness, harness, postJson, TOKENS } from '../server/helpers.js';
import { expectValid, loadSchema } from './helpers.js';
import { type Schema, validate } from './json-schema.js';

type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
type Operation = {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  requestBody?: { content: Record<string, { schema?: Schema }> };
  parameters?: Array<{ name: string; in: string }>;
};

let h: Harness;
let doc: Doc;

// Query strings that give each GET route a window with data (the events are in October 2026).
const QUERY: Record<string, string> = {
  '/v1/statements': '?period=2026-10',
  '/v1/spend/daily': '?period=2026-10',
  '/v1/events': '?period=2026-10&limit=50',
  '/v1/signals': '?from=2026-10-01&to=2026-11-01',
  '/v1/replay': '?from=2026-10-01&to=2026-11-01',
  '/v1/budgets': '?period=2026-10',
  '/v1/sampling': '?period=2026-10&rate=0.1',
  '/v1/posture': '?period=2026-10',
  '/v1/explain': '?id=rag-call&source=test',
  '/v1/explain/:event_id': '?source=test',
  '/v1/breakdown': '?period=2026-10&by=model&compare=previous',
  '/v1/breakdown/focus': '?period=2026-10',
  '/v1/statements/focus': '?period=2026-10',
  '/v1/verify': '',
  '/v1/pull/cursor': '?provider=openai&report=completions&width=1d',
};

/** Values for path parameters: an event that the EVENTS below store. */
const PATH_VALUES: Record<string, string> = { event_id: 'rag-call' };

const POOL = `shared_pools:
  - { id: pool-platform, amount: 100, level: team, method: even }`;

/** A trace in which the shared `rag` service works for svc-a, plus an unknown caller and a refused tenant. */
const EVENTS = [
  canonical('root', 'svc-a', { trace_id: 't1', span_id: 's1', tenant: 'tenant-x' }),
  canonical('rag-call', 'rag', { trace_id: 't1', span_id: 's2', parent_span_id: 's1', output_tokens: 1000 }),
  canonical('stranger', 'svc-unknown', { api_key: 'key_0123abcd' }),
  canonical('refused', 'svc-b', { tenant: 'tenant-x', status: 'error', error_type: '429' }),
  canonical('tool', 'svc-b', { operation: 'execute_tool', tool: 'web_search', input_tokens: 0, model: null }),
];

function responseSchema(path: string, method: string, status: string, type: string): Schema | undefined {
  return doc.paths[path]?.[method]?.responses[status]?.content?.[type]?.schema;
}

function expectBody(path: string, method: string, status: number, body: unknown): void {
  const schema = responseSchema(path, method, String(status), 'application/json');
  expect(schema, `${method} ${path} ${status} has a JSON schema`).toBeDefined();
  expectValid(
    schema as Schema,
    body,
    `${method.toUpperCase()} ${path} → ${status}`,
    doc as unknown as Schema,
  );
}

beforeAll(async () => {
  h = await harness({ extraYaml: POOL });
  doc = (await (await h.call('GET', '/openapi.json')).json()) as Doc;
  const schema = doc.paths['/v1/events']?.post?.requestBody?.content['application/json']?.schema as Schema;
  expectValid(schema, EVENTS, 'the request body', doc as unknown as Schema);
  const res = await postJson(h, '/v1/events', TOKENS.ingest, EVENTS);
  expect(res.status).toBe(200);
  expectBody('/v1/events', 'post', 200, await res.json());
  // A pulled page (a duplicate here, so that the other checks count EVENTS only).
  const page = await postJson(
    h,
    '/v1/pull/pages?provider=openai&report=completions&width=1d&complete_until=2026-10-02T00:00:00Z',
    TOKENS.ingest,
    [EVENTS[2]],
  );
  expect(page.status).toBe(200);
  expectBody('/v1/pull/pages', 'post', 200, await page.json());
});

afterAll(() => h.close());

describe('/openapi.json', () => {
  it('has every route of the server, each with a response schema for what it produces', () => {
    for (const r of h.app.routes) {
      const path = r.path.replace(/:([A-Za-z_]\w*)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      const content = op?.responses['200']?.content ?? {};
      expect(Object.keys(content), `${r.method} ${r.path}`).toContain(r.produces);
      for (const [type, media] of Object.entries(content))
        expect(
          Object.keys(media.schema ?? {}).length,
          `${r.method} ${r.path} ${type} schema`,
        ).toBeGreaterThan(0);
      for (const type of r.accepts ?? [])
        expect(op?.requestBody?.content[type]?.schema, `${r.method} ${r.path} accepts ${type}`).toBeDefined();
    }
  });

  it('is well formed: unique operation ids, described responses, typed parameters, bearer on every /v1 route', () => {
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops) as Array<
        [string, Operation & Record<string, unknown>]
      >) {
        ids.push(op.operationId as string);
        for (const [status, r] of Object.entries(op.responses))
          expect((r as { description?: string }).description, `${method} ${path} ${status}`).toBeTruthy();
        for (const p of op.parameters ?? [])
          expect(p, `${method} ${path}`).toMatchObject({ schema: expect.any(Object) });
        if (path.startsWith('/v1/')) expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        else expect(op.security, `${method} ${path}`).toBeUndefined();
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      (doc as unknown as { components: { securitySchemes: unknown } }).components.securitySchemes,
    ).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
  });

  it('resolves every $ref it holds', () => {
    const refs: string[] = [];
    JSON.stringify(doc, (k, v) => (k === '$ref' ? refs.push(v) && v : v));
    expect(refs.length).toBeGreaterThan(20);
    for (const r of new Set(refs))
      expect(validate({ $ref: r }, null, doc as unknown as Schema)).toBeInstanceOf(Array);
  });

  it('reuses the shipped statement and canonical event schemas', () => {
    const strip = (s: Schema) => {
      const { $schema: _s, $id: _i, ...rest } = s as Record<string, unknown>;
      return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/NAME/$defs/'));
    };
    const named = (name: string) =>
      JSON.parse(
        JSON.stringify(doc.components.schemas[name]).replaceAll(`/schemas/${name}/`, '/schemas/NAME/'),
      );
    expect(named('Statement')).toEqual(strip(loadSchema('statement')));
    expect(named('CanonicalEvent')).toEqual(strip(loadSchema('canonical-event')));
  });

  it('describes the body of every GET endpoint, called with an admin token', async () => {
    const gets = h.app.routes.filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(11);
    for (const r of gets) {
      const res = await h.call(
        'GET',
        r.path.replace(/:(\w+)/g, (_, name: string) => PATH_VALUES[name] ?? name) + (QUERY[r.path] ?? ''),
        r.roles === 'public' ? null : TOKENS.admin,
      );
      expect(res.status, `GET ${r.path}`).toBe(200);
      const type = res.headers.get('content-type') ?? '';
      if (r.produces.startsWith('text/')) {
        expect(type).toMatch(new RegExp(`^${r.produces.split(';')[0]}`));
        expect(responseSchema(r.path, 'get', '200', r.produces)).toEqual(
          expect.objectContaining({ type: 'string' }),
        );
        continue;
      }
      expect(type, `GET ${r.path}`).toMatch(/^application\/json/);
      expectBody(r.path.replace(/:(\w+)/g, '{$1}'), 'get', 200, await res.json());
    }
  });

  it('describes bodies that are not empty: lines, events, signals and replay spans are all checked', async () => {
    const statement = await (await h.call('GET', '/v1/statements?period=2026-10', TOKENS.admin)).json();
    const statuses = new Set(statement.lines.map((l: { status: string }) => l.status));
    expect([...statuses].sort()).toEqual(['attributed', 'unattributed']);
    expect(statement.lines.some((l: { pool: string | null }) => l.pool === 'pool-platform')).toBe(true);
    const page = await (await h.call('GET', '/v1/events?period=2026-10', TOKENS.admin)).json();
    expect(page.events).toHaveLength(EVENTS.length);
    const signals = await (await h.call('GET', `/v1/signals${QUERY['/v1/signals']}`, TOKENS.admin)).json();
    expect(signals.signals.map((s: { rule: string }) => s.rule)).toEqual(
      expect.arrayContaining(['S03', 'S04']),
    );
    const replay = await (await h.call('GET', `/v1/replay${QUERY['/v1/replay']}`, TOKENS.admin)).json();
    expect(replay.spans).toBe(EVENTS.length);
    for (const id of ['rag-call', 'stranger', 'refused', 'tool']) {
      const explained = await (await h.call('GET', `/v1/explain?id=${id}`, TOKENS.admin)).json();
      expect(explained.event.id).toBe(id);
      expectBody('/v1/explain', 'get', 200, explained);
    }
  });

  it('describes what a team token gets: scoped bodies', async () => {
    for (const p of [
      '/v1/statements',
      '/v1/spend/daily',
      '/v1/signals',
      '/v1/budgets',
      '/v1/replay',
      '/v1/breakdown',
    ]) {
      const res = await h.call('GET', p + QUERY[p], TOKENS.teamA);
      expect(res.status, p).toBe(200);
      const body = await res.json();
      expect(body.scope, p).toEqual({ team: 'team-a' });
      expectBody(p, 'get', 200, body);
    }
  });

  it('describes the month-close POST routes: issue, reconcile, restate (JSON by default)', async () => {
    const issue = await h.call('POST', '/v1/statements/issue?period=2026-10', TOKENS.finance);
    expect(issue.status).toBe(200);
    expect(decodeURIComponent(issue.headers.get('tally-notes') ?? '')).toMatch(/issued statement 2026-10 v1/);
    expectBody('/v1/statements/issue', 'post', 200, await issue.json());
    const bill = await h.call('POST', '/v1/reconcile?period=2026-10', TOKENS.finance, {
      body: 'provider,model,amount\nacme,m1,1.00\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(bill.status).toBe(200);
    expect(bill.headers.get('tally-exit-code')).toMatch(/^[01]$/);
    expectBody('/v1/reconcile', 'post', 200, await bill.json());
    const restate = await h.call('POST', '/v1/restate?period=2026-10', TOKENS.admin);
    expect(restate.status).toBe(200);
    expectBody('/v1/restate', 'post', 200, await restate.json());
    const bad = await h.call('POST', '/v1/reconcile?period=2026-10', TOKENS.finance, {
      body: 'provider,model,amount\nacme,m1,lots\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad.status).toBe(400);
    expectBody('/v1/reconcile', 'post', 400, await bad.json());
  });

  it('describes OTLP/JSON replies, with and without partial success', async () => {
    const span = (spanId: string, tokens: unknown) => ({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId,
      startTimeUnixNano: '1791115200000000000',
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.usage.input_tokens', value: tokens },
      ],
    });
    const request = (spans: unknown[]) => ({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc-a' } }] },
          scopeSpans: [{ spans }],
        },
      ],
    });
    const body = request([
      span('00f067aa0ba902b7', { intValue: '10' }),
      span('00f067aa0ba902b8', { intValue: '-3' }),
    ]);
    expectValid(
      responseSchema('/v1/traces', 'post', '200', 'application/json') as Schema,
      {},
      'empty reply',
      doc as never,
    );
    const req = doc.paths['/v1/traces']?.post?.requestBody?.content['application/json']?.schema as Schema;
    expectValid(req, body, 'OTLP/JSON request', doc as unknown as Schema);
    const res = await postJson(h, '/v1/traces', TOKENS.ingest, body);
    expect(res.status).toBe(200);
    const reply = await res.json();
    expect(reply.partialSuccess.rejectedSpans).toBe('1');
    expectBody('/v1/traces', 'post', 200, reply);
  });

  it('describes error bodies: 401, 403, and 400 with per-record problems or a bad parameter', async () => {
    const unauthorized = await h.call('GET', '/v1/statements?period=2026-10', null);
    expect(unauthorized.status).toBe(401);
    expectBody('/v1/statements', 'get', 401, await unauthorized.json());
    const forbidden = await h.call('GET', '/v1/posture', TOKENS.teamA);
    expect(forbidden.status).toBe(403);
    expectBody('/v1/posture', 'get', 403, await forbidden.json());
    const invalid = await postJson(h, '/v1/events', TOKENS.ingest, [
      canonical('bad', 'svc-a', { input_tokens: -1 }),
    ]);
    expect(invalid.status).toBe(400);
    const problems = await invalid.json();
    expect(problems.problems).toHaveLength(1);
    expectBody('/v1/events', 'post', 400, problems);
    const badPeriod = await h.call('GET', '/v1/statements?period=2026-13', TOKENS.admin);
    expect(badPeriod.status).toBe(400);
    expectBody('/v1/statements', 'get', 400, await badPeriod.json());
  });
});
