/**
 * The HTTP API (SPEC §9) as a fetch handler: `createApp(deps)` builds it,
 * nothing listens on import (`tally serve` adds the listener). Errors become
 * responses in one place, `app.onError`.
 */
import { fileURLToPath } from 'node:url';
import { type Context, Hono } from 'hono';
import type { Config } from '../core/config.js';
import { QueueBusyError } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';
import type { QueuePublisher } from '../queue/publisher.js';
import type { Store } from '../store/store.js';
import { Authenticator, type RateLimit, RateLimiter } from './access.js';
import { Drilldown } from './drilldown.js';
import { errorReply, HttpError } from './errors.js';
import { bytes } from './http.js';
import { type EventsParser, parseEventsHere, parseTracesHere, type TraceParser } from './ingest.js';
import { HttpCounters } from './metrics.js';
import { encodeStatus } from './otlp-proto.js';
import { closeRoutes } from './routes/commands.js';
import { explainRoutes } from './routes/explain.js';
import { ingestRoutes } from './routes/ingest.js';
import { litellmRoutes } from './routes/litellm.js';
import { opsRoutes } from './routes/ops.js';
import { pullRoutes } from './routes/pull.js';
import { reportRoutes } from './routes/reports.js';
import { securityRoutes } from './routes/security.js';
import type { AppContext, Route, RouteContext } from './routes.js';
import { serveStatic } from './static.js';
import { GroupWriter, QueueWriter } from './writer.js';

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
  /** Publish accepted requests to this queue instead of committing them (a replica, SPEC §10). */
  queue?: QueuePublisher;
  /** Decodes and maps OTLP traces requests (`tally serve`: a `TracePool`); default in this thread. */
  parseTraces?: TraceParser;
  /** Parses and maps events bodies (`tally serve`: the same `TracePool`); default in this thread. */
  parseEvents?: EventsParser;
}

export interface App {
  fetch(req: Request): Promise<Response>;
  /** In-process requests for tests: a path relative to http://localhost. */
  request(path: string, init?: RequestInit): Promise<Response>;
  routes: readonly Route[];
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** An unexpected failure, for the operator: on stderr, secrets redacted, never in the reply. */
function logInternal(method: string, path: string, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  process.stderr.write(redactSecrets(`tally serve: internal error on ${method} ${path}: ${text}\n`));
}

/** What every route shares: the store, the configuration and the per-app state. */
function appContext(deps: AppDeps): AppContext {
  const { store, config } = deps;
  const writer = deps.queue ? new QueueWriter(deps.queue) : new GroupWriter(store);
  return {
    store,
    config,
    now: deps.now ?? Date.now,
    limits: { ...DEFAULT_LIMITS, ...deps.limits },
    http: new HttpCounters(),
    commits: writer instanceof GroupWriter ? writer.times : null,
    drilldown: new Drilldown(store, config),
    writer,
    queue: deps.queue ?? null,
    parseTraces: deps.parseTraces ?? parseTracesHere,
    parseEvents: deps.parseEvents ?? parseEventsHere,
    committed: (stored) => {
      if (stored > 0) deps.onIngest?.();
    },
  };
}

export function createApp(deps: AppDeps): App {
  const ctx = appContext(deps);
  const routes: Route[] = [
    ...ingestRoutes(ctx),
    ...litellmRoutes(ctx),
    ...pullRoutes(ctx),
    ...reportRoutes(ctx),
    ...securityRoutes(ctx),
    ...explainRoutes(ctx),
    ...closeRoutes(ctx),
    ...opsRoutes(ctx, () => routes),
  ];
  const app = new Hono();
  app.onError(replyToError);
  const auth = new Authenticator(deps.config);
  const limiter = new RateLimiter(ctx.limits.rate, ctx.now);
  for (const route of routes) app.on(route.method, route.path, (c) => serve(route, c.req.raw));

  /** Runs one route: the token's role, the rate limit, the handler, the request counter. */
  async function serve(route: Route, req: Request): Promise<Response> {
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
      ctx.http.count(`${route.method} ${route.path}`, status);
    }
  }

  app.all('/v1/*', () => {
    throw new HttpError('not_found', 'no such endpoint');
  });
  const webDir = deps.webDir ?? DEFAULT_WEB_DIR;
  app.get('*', (c) => serveStatic(webDir, c.req.path));

  return {
    fetch: (req) => Promise.resolve(app.fetch(req)),
    request: (path, init) => Promise.resolve(app.request(path, init)),
    routes,
  };
}

/** Errors become replies in one place; OTLP/HTTP protobuf requests get a google.rpc.Status. */
function replyToError(err: Error, c: Context): Response {
  const reply = errorReply(err);
  // A queue that is away or full is the client's cue to retry, not a fault of this server.
  if (reply.status >= 500 && !(err instanceof QueueBusyError)) logInternal(c.req.method, c.req.path, err);
  reply.headers['cache-control'] = 'no-store';
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
