/**
 * The route table: the one list the app registers and the OpenAPI document
 * is generated from, so the two cannot drift apart.
 */
import type { Config, Role } from '../core/config.js';
import type { QueuePublisher } from '../queue/publisher.js';
import type { CommitTimes } from '../store/commit-times.js';
import type { Store } from '../store/store.js';
import type { Principal } from './access.js';
import type { Limits } from './app.js';
import type { Drilldown } from './drilldown.js';
import type { EventsParser, TraceParser } from './ingest.js';
import type { HttpCounters } from './metrics.js';
import type { EventWriter } from './writer.js';

export interface Param {
  name: string;
  description: string;
  required?: boolean;
}

export interface RouteContext {
  req: Request;
  query: URLSearchParams;
  /** null on public routes. */
  principal: Principal | null;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Roles allowed; `public` needs no token. */
  roles: readonly Role[] | 'public';
  summary: string;
  query?: readonly Param[];
  /** Request content types. */
  accepts?: readonly string[];
  /** Response content type of a success. */
  produces: string;
  handle(ctx: RouteContext): Promise<Response>;
}

export const READERS: readonly Role[] = ['admin', 'finance', 'team'];
export const INGESTERS: readonly Role[] = ['admin', 'ingest'];

export const WINDOW_PARAMS: readonly Param[] = [
  { name: 'period', description: 'month YYYY-MM (UTC)' },
  { name: 'from', description: 'window start, date or RFC 3339 time (with `to`)' },
  { name: 'to', description: 'window end, exclusive (with `from`)' },
];

/** What the routes of one app share (built once by createApp). */
export interface AppContext {
  store: Store;
  config: Config;
  now: () => number;
  limits: Limits;
  http: HttpCounters;
  /** How long the embedded writer's group commits took; null when the queue takes the events. */
  commits: CommitTimes | null;
  drilldown: Drilldown;
  writer: EventWriter;
  /** The ingest queue's publisher when `tally serve` runs as a replica (SPEC §10), else null. */
  queue: QueuePublisher | null;
  /** Decodes and maps an OTLP traces request (in this thread or a worker's). */
  parseTraces: TraceParser;
  /** Parses and maps an events body (in this thread or a worker's). */
  parseEvents: EventsParser;
  /** Call after an ingest commits: hooks such as budget alerts run when something was stored. */
  committed(stored: number): void;
}
