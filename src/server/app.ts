/**
 * The HTTP API (SPEC §9) as a fetch handler: `createApp(deps)` builds it,
 * nothing listens on import (`tally serve` adds the listener). Errors become
 * responses in one place, `app.onError`.
 */
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { MAX_WINDOW_DAYS } from '../core/bounds.js';
import type { Config } from '../core/config.js';
import { redactSecret } from '../core/secrets.js';
import { iso, LEVELS } from '../core/statement.js';
import { postureJson } from '../export/posture.js';
import { replayJson } from '../export/replay.js';
import { signalJson } from '../export/signals.js';
import { computeBudgets } from '../service/budgets.js';
import { computePosture } from '../service/posture.js';
import { computeReplay } from '../service/replay.js';
import { defaultSignalWindow, evaluateSignals } from '../service/signals.js';
import type { Store } from '../store/store.js';
import { Authenticator, type RateLimit, RateLimiter } from './access.js';
import { readBody } from './body.js';
import { budgetStatusJson, visibleToTeam } from './budgets.js';
import { Drilldown, decodeCursor, type EventFilter } from './drilldown.js';
import { errorReply, HttpError } from './errors.js';
import { ingestEvents, ingestTraces, otlpEncoding, type TracesReply } from './ingest.js';
import { HttpCounters, renderMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { encodeStatus } from './otlp-proto.js';
import { currentMonth, intParam, oneOf, windowOf } from './params.js';
import { dailySpend, scopeTeam, statementFor } from './read.js';
import { INGESTERS, READERS, type Route, type RouteContext, WINDOW_PARAMS } from './routes.js';
import { replayOfTeam, signalsOfTeam } from './scope.js';
import { serveStatic } from './static.js';
import { GroupWriter } from './writer.js';

export interface Limits {
  /** Largest request body, before and after decompression. */
  bodyBytes: number;
  rate: RateLimit;
}

export const DEFAULT_LIMITS: Limits = { bodyBytes: 16 * 1024 * 1024, rate: { perSecond: 100, burst: 200 } };

export interface AppDeps {
  store: Store;
  config: Config;
  /** The built dashboard; default web/dist of the package. */
  webDir?: string;
  now?: () => number;
  limits?: Partial<Limits>;
  /** Called after every committed ingest that stored something (budget alerts hook on it). */
  onIngest?: () => void;
}

export interface App {
  fetch(req: Request): Promise<Response>;
  /** In-process requests for tests: a path relative to http://localhost. */
  request(path: string, init?: RequestInit): Promise<Response>;
  routes: readonly Route[];
}

const VERSION = '0.1.0';
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** An unexpected failure, for the operator: on stderr, secrets redacted, never in the reply. */
function logInternal(method: string, path: string, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  const lines = text.split('\n').map((l) => l.replace(/\S+/g, (w) => redactSecret(w)));
  process.stderr.write(`tally serve: internal error on ${method} ${path}: ${lines.join('\n')}\n`);
}

function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

/**
 * What a traces request did, in headers (the OTLP reply body has no place
 * for it): counts of this request's group commit for stored, duplicate and
 * superseded; this request's own for rejected and ignored.
 */
function countHeaders(reply: TracesReply): Record<string, string> {
  return {
    'x-tally-stored': String(reply.result.stored),
    'x-tally-duplicates': String(reply.result.duplicates),
    'x-tally-superseded': String(reply.result.superseded),
    'x-tally-rejected': String(reply.rejected),
    'x-tally-ignored': String(reply.ignored),
  };
}

export function createApp(deps: AppDeps): App {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const limits: Limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const auth = new Authenticator(config);
  const limiter = new RateLimiter(limits.rate, now);
  const http = new HttpCounters();
  const drilldown = new Drilldown(store, config);
  const writer = new GroupWriter(store);
  const webDir = deps.webDir ?? DEFAULT_WEB_DIR;

  const committed = (stored: number) => {
    if (stored > 0) deps.onIngest?.();
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/v1/traces',
      roles: INGESTERS,
      summary: 'OTLP/HTTP trace export (protobuf or JSON, gzip accepted); partial success for invalid spans',
      accepts: ['application/x-protobuf', 'application/json'],
      produces: 'application/x-protobuf',
      async handle({ req }) {
        const encoding = otlpEncoding(req.headers.get('content-type'));
        const body = await readBody(req, limits.bodyBytes);
        const reply = await ingestTraces(store, writer, encoding, body, now());
        committed(reply.result.stored);
        return new Response(typeof reply.body === 'string' ? reply.body : bytes(reply.body), {
          status: 200,
          headers: {
            'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
            ...countHeaders(reply),
          },
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/events',
      roles: INGESTERS,
      summary: 'canonical usage events, JSON array or NDJSON; all or nothing',
      accepts: ['application/json', 'application/x-ndjson'],
      produces: 'application/json',
      async handle({ req }) {
        const body = await readBody(req, limits.bodyBytes);
        const result = await ingestEvents(store, writer, req.headers.get('content-type'), body, now());
        committed(result.stored);
        // All or nothing: a request that gets here had no invalid record, and canonical events are all usage.
        return json({ ...result, rejected: 0, ignored: 0 });
      },
    },
    {
      method: 'GET',
      path: '/v1/whoami',
      roles: ['admin', 'finance', 'team', 'ingest'],
      summary: 'the role and team of the token',
      produces: 'application/json',
      async handle({ principal }) {
        return json({ role: principal?.role, team: principal?.team ?? null });
      },
    },
    {
      method: 'GET',
      path: '/v1/statements',
      roles: READERS,
      summary: 'the statement JSON of a window (team tokens: their team only, totals recomputed)',
      query: [
        ...WINDOW_PARAMS,
        { name: 'level', description: `line roll-up: ${LEVELS.join(', ')}` },
        { name: 'team', description: 'only this team (team tokens: their own only)' },
      ],
      produces: 'application/json',
      async handle({ query, principal }) {
        const window = windowOf(query);
        const level = oneOf(query, 'level', LEVELS, 'line');
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        return json(await statementFor(store, config, window, level, team));
      },
    },
    {
      method: 'GET',
      path: '/v1/spend/daily',
      roles: READERS,
      summary: 'effective cost per UTC day and team (team tokens: their team only)',
      query: [...WINDOW_PARAMS, { name: 'team', description: 'only this team' }],
      produces: 'application/json',
      async handle({ query, principal }) {
        const window = windowOf(query);
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        return json(await dailySpend(store, config, window, team));
      },
    },
    {
      method: 'GET',
      path: '/v1/events',
      roles: READERS,
      summary: 'drill-down: priced, attributed events, newest first, filtered, cursor-paged',
      query: [
        ...WINDOW_PARAMS,
        ...['team', 'application', 'tenant', 'category', 'status', 'reason', 'identity', 'trace'].map(
          (name) => ({
            name,
            description: `only events with this ${name === 'status' ? 'attribution status' : name}`,
          }),
        ),
        { name: 'limit', description: 'events per page, 1–1000 (default 100)' },
        { name: 'cursor', description: 'next_cursor of the previous page' },
      ],
      produces: 'application/json',
      async handle({ query, principal }) {
        const window = windowOf(query, () => currentMonth(now()));
        const filter: EventFilter = {};
        for (const k of [
          'application',
          'tenant',
          'category',
          'status',
          'reason',
          'identity',
          'trace',
        ] as const) {
          const v = optional(query, k);
          if (v !== undefined) filter[k] = v;
        }
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        if (team !== null) filter.team = team;
        const limit = intParam(query, 'limit', 1, 1000, 100);
        const cursor = optional(query, 'cursor');
        return json(await drilldown.page(window, filter, cursor ? decodeCursor(cursor) : null, limit));
      },
    },
    {
      method: 'GET',
      path: '/v1/signals',
      roles: READERS,
      summary:
        'security and hygiene signals (default: the 30 days up to the latest event; team tokens: their team)',
      query: [
        { name: 'from', description: 'window start (with `to`)' },
        { name: 'to', description: 'window end, exclusive' },
        { name: 'team', description: 'only signals of this team' },
      ],
      produces: 'application/json',
      async handle({ query, principal }) {
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        const latest = query.get('from') || query.get('to') ? null : await store.latestEventTime();
        const window =
          latest === null && !query.get('from') && !query.get('to')
            ? null
            : windowOf(
                query,
                () => ({ ...defaultSignalWindow(latest as number), label: 'default' }),
                MAX_WINDOW_DAYS.signals,
              );
        const signals =
          window === null ? [] : signalsOfTeam(await evaluateSignals(store, config, window), team);
        return json({
          window: window === null ? null : { start: iso(window.start), end: iso(window.end) },
          scope: team === null ? null : { team },
          signals: signals.map(signalJson),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/replay',
      roles: READERS,
      summary:
        'incident replay: events of a window by identity or trace as trace trees (team tokens: their spans)',
      query: [
        { name: 'from', description: 'window start (with `to`; optional with `trace`)' },
        { name: 'to', description: 'window end, exclusive' },
        { name: 'identity', description: 'a registry identity, or an unmatched selector such as api_key:…' },
        { name: 'trace', description: 'a trace id' },
        { name: 'team', description: 'only spans of this team (team tokens: their own only)' },
      ],
      produces: 'application/json',
      async handle({ query, principal }) {
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        const trace = optional(query, 'trace') ?? null;
        const window =
          query.get('from') || query.get('to') || !trace
            ? windowOf(query, undefined, MAX_WINDOW_DAYS.replay)
            : null;
        const replay = await computeReplay(store, config, {
          window,
          identity: optional(query, 'identity') ?? null,
          trace,
          signals: (w) => evaluateSignals(store, config, w),
        });
        return json({
          ...(replayJson(team === null ? replay : replayOfTeam(replay, team)) as object),
          scope: team === null ? null : { team },
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/budgets',
      roles: READERS,
      summary: 'budgets: actual, forecast and thresholds crossed (team tokens: their team and applications)',
      query: [
        { name: 'period', description: 'month YYYY-MM (default: the current month)' },
        { name: 'team', description: 'only budgets of this team (team tokens: their own only)' },
      ],
      produces: 'application/json',
      async handle({ query, principal }) {
        const team = scopeTeam(principal as NonNullable<typeof principal>, optional(query, 'team') ?? null);
        const window = windowOf(query, () => currentMonth(now()));
        const report = await computeBudgets(store, config, window);
        const show = team === null ? () => true : visibleToTeam(config, team, window);
        const budgets = report.budgets.filter(show);
        return json({
          period: window.label,
          start: iso(window.start),
          end: iso(window.end),
          currency: config.currency,
          scope: team === null ? null : { team },
          budgets: budgets.map(budgetStatusJson),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/posture',
      roles: ['admin', 'finance'],
      summary: 'NHI and asset hygiene (organisation-wide: admin and finance only)',
      query: WINDOW_PARAMS,
      produces: 'application/json',
      async handle({ query }) {
        const window = query.get('period') || query.get('from') || query.get('to') ? windowOf(query) : null;
        return json(postureJson(await computePosture(store, config, { window })));
      },
    },
    {
      method: 'GET',
      path: '/healthz',
      roles: 'public',
      summary: 'liveness',
      produces: 'application/json',
      async handle() {
        return json({ status: 'ok' });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      roles: 'public',
      summary: 'Prometheus metrics: events ingested, duplicates, rejected, ingest lag, requests',
      produces: 'text/plain; version=0.0.4',
      async handle() {
        const [counters, latest] = await Promise.all([store.counters(), store.latestEventTime()]);
        const lag = latest === null ? null : Math.max(0, (now() - latest) / 1000);
        return new Response(renderMetrics(counters, lag, http), {
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        });
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      roles: 'public',
      summary: 'this OpenAPI document',
      produces: 'application/json',
      async handle() {
        return json(openApiDocument(routes, VERSION));
      },
    },
  ];

  const app = new Hono();

  app.onError((err, c) => {
    const reply = errorReply(err);
    if (reply.status >= 500) logInternal(c.req.method, c.req.path, err);
    reply.headers['cache-control'] = 'no-store';
    // OTLP/HTTP: an error reply to a protobuf request is a google.rpc.Status in protobuf.
    if (c.req.path === '/v1/traces' && /protobuf/i.test(c.req.header('content-type') ?? '')) {
      return new Response(bytes(encodeStatus(grpcCode(reply.status), reply.body.message)), {
        status: reply.status,
        headers: { ...reply.headers, 'content-type': 'application/x-protobuf' },
      });
    }
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { ...reply.headers, 'content-type': 'application/json; charset=utf-8' },
    });
  });

  for (const route of routes) {
    app.on(route.method, route.path, async (c) => {
      const req = c.req.raw;
      let status = 500;
      try {
        let principal: RouteContext['principal'] = null;
        if (route.roles !== 'public') {
          principal = auth.authenticate(req.headers.get('authorization'));
          if (!route.roles.includes(principal.role))
            throw new HttpError(
              'forbidden',
              `the ${principal.role} role may not ${route.method} ${route.path}`,
            );
          limiter.take(principal.key);
        }
        const res = await route.handle({ req, query: new URL(req.url).searchParams, principal });
        status = res.status;
        // Nothing the API answers is for a cache: data is per token and changes with every ingest.
        if (!res.headers.has('cache-control')) res.headers.set('cache-control', 'no-store');
        return res;
      } catch (e) {
        status = errorReply(e).status;
        throw e;
      } finally {
        http.count(`${route.method} ${route.path}`, status);
      }
    });
  }

  app.all('/v1/*', () => {
    throw new HttpError('not_found', 'no such endpoint');
  });
  app.get('*', (c) => serveStatic(webDir, c.req.path));

  return {
    fetch: (req) => Promise.resolve(app.fetch(req)),
    request: (path, init) => Promise.resolve(app.request(path, init)),
    routes,
  };
}

function bytes(b: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
}

/** The gRPC code for an HTTP status, for google.rpc.Status replies. */
function grpcCode(status: number): number {
  if (status === 400 || status === 413 || status === 415) return 3;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 429) return 8;
  if (status === 503) return 14;
  return 13;
}
