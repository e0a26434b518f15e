/**
 * HTTP errors and the one mapping from errors to responses (used by the
 * app's onError). Bodies are `{error, message}` and never carry a stack, a
 * query or a path on the server.
 */

import type { Problem } from '../core/errors.js';
import { InputError, QueueBusyError, TallyError } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';

export type HttpCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'invalid_input'
  | 'usage';

const STATUS: Record<HttpCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  invalid_input: 400,
  usage: 400,
};

export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: HttpCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = STATUS[code];
  }
}

export interface ErrorReply {
  status: number;
  body: { error: string; message: string; problems?: Problem[] };
  headers: Record<string, string>;
}

/** Problems as shown to a client: where and why, without the server's file names. */
function publicProblems(problems: readonly Problem[]): Problem[] {
  return problems.slice(0, 100).map(({ file: _file, ...p }) => ({
    ...p,
    reason: redactSecrets(p.reason),
    ...(p.field === undefined ? {} : { field: redactSecrets(p.field) }),
  }));
}

export function errorReply(err: unknown): ErrorReply {
  if (err instanceof HttpError)
    return {
      status: err.status,
      body: { error: err.code, message: redactSecrets(err.message) },
      headers: err.headers,
    };
  if (err instanceof InputError)
    return {
      status: 400,
      body: {
        error: 'invalid_input',
        message: `${err.problems.length} invalid record${err.problems.length === 1 ? '' : 's'}`,
        problems: publicProblems(err.problems),
      },
      headers: {},
    };
  if (err instanceof QueueBusyError)
    return {
      status: err.code === 'queue_full' ? 429 : 503,
      body: { error: err.code, message: redactSecrets(err.message) },
      headers: { 'retry-after': String(err.retryAfter) },
    };
  if (err instanceof TallyError) {
    switch (err.code) {
      case 'invalid_input':
      case 'usage':
      case 'unknown_format':
        return { status: 400, body: { error: err.code, message: redactSecrets(err.message) }, headers: {} };
      case 'not_found':
        return { status: 404, body: { error: err.code, message: redactSecrets(err.message) }, headers: {} };
      case 'limit_exceeded':
        return { status: 422, body: { error: err.code, message: redactSecrets(err.message) }, headers: {} };
      case 'store_failure':
        return {
          status: 503,
          body: { error: 'store_failure', message: 'the store could not complete the request' },
          headers: {},
        };
      default:
        break;
    }
  }
  return { status: 500, body: { error: 'internal', message: 'internal error' }, headers: {} };
}
