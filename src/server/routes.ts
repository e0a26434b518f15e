/**
 * The route table: the one list the app registers and the OpenAPI document
 * is generated from, so the two cannot drift apart.
 */
import type { Role } from '../core/config.js';
import type { Principal } from './access.js';

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
