/** Operator routes: who am I, liveness, metrics, the OpenAPI document. */
import { publisherMetrics } from '../../queue/metrics.js';
import { json } from '../http.js';
import { renderMetrics } from '../metrics.js';
import { openApiDocument } from '../openapi.js';
import type { AppContext, Route } from '../routes.js';

export const VERSION = '0.1.0';

/** `all` is the app's whole route table, for the OpenAPI document. */
export function opsRoutes(app: AppContext, all: () => readonly Route[]): Route[] {
  const { store, now, http, queue, commits } = app;
  return [
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
      summary:
        'Prometheus metrics: events ingested, duplicates, rejected, ingest lag, requests, the durations of ingest commits; on a replica, published and refused requests',
      produces: 'text/plain; version=0.0.4',
      async handle() {
        const [counters, latest] = await Promise.all([store.counters(), store.latestEventTime()]);
        const lag = latest === null ? null : Math.max(0, (now() - latest) / 1000);
        const text =
          renderMetrics(counters, lag, http, commits) + (queue ? publisherMetrics(queue.stats) : '');
        return new Response(text, {
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
        return json(openApiDocument(all(), VERSION));
      },
    },
  ];
}
