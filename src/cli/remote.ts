/**
 * `--server URL` (or `TALLY_SERVER`) with `TALLY_TOKEN`: a command runs
 * through a running `tally serve` instead of on the store file, which the
 * server holds. The reply carries the command's document in its body and
 * the notes and exit code in headers (`Tally-Notes`, `Tally-Exit-Code`).
 */
import { InputError, LimitError, type Problem, StoreError, TallyError, UsageError } from '../core/errors.js';
import { str } from './args.js';
import type { Output } from './output.js';

export const SERVER_OPTIONS = { server: { type: 'string' } } as const;

export interface Server {
  url: string;
  token: string;
}

export interface Upload {
  type: string;
  body: string | Uint8Array<ArrayBuffer>;
}

/** The server to run on: `--server`, else `TALLY_SERVER` unless `--store` names a store; null: the store file. */
export function serverOf(values: Record<string, unknown>): Server | null {
  const flag = str(values, 'server');
  if (flag !== undefined && str(values, 'store') !== undefined)
    throw new UsageError('give --store or --server, not both');
  const env = process.env.TALLY_SERVER?.trim();
  const url = flag ?? (str(values, 'store') === undefined && env ? env : undefined);
  if (url === undefined) return null;
  if (!/^https?:\/\/[^/\s]+/i.test(url))
    throw new UsageError(
      `--server must be an http:// or https:// URL such as http://127.0.0.1:4318, got '${url}'`,
    );
  const token = process.env.TALLY_TOKEN?.trim();
  if (!token)
    throw new UsageError(
      `set TALLY_TOKEN to a token of the server at ${url} (a finance or admin token to close a month)`,
    );
  return { url: url.replace(/\/+$/, ''), token };
}

export const NOTES_HEADER = 'tally-notes';
export const EXIT_HEADER = 'tally-exit-code';
export const WROTE_HEADER = 'tally-wrote';

export async function callServer(
  server: Server,
  route: { method: string; path: string },
  query: URLSearchParams,
  upload: Upload | undefined,
): Promise<Output> {
  const q = query.toString();
  const target = `${server.url}${route.path}${q ? `?${q}` : ''}`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: route.method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(upload ? { 'content-type': upload.type } : {}),
      },
      ...(upload ? { body: upload.body } : {}),
    });
  } catch (e) {
    throw unreachable(server, e);
  }
  if (!res.ok) throw await refusal(server, route, res);
  const type = res.headers.get('content-type') ?? 'application/octet-stream';
  const bytes = new Uint8Array(await res.arrayBuffer());
  const textual = /^(text\/|application\/json)/i.test(type);
  const notes = res.headers.get(NOTES_HEADER);
  const wrote = res.headers.get(WROTE_HEADER);
  return {
    body: textual ? new TextDecoder().decode(bytes) : bytes,
    type,
    notes: notes ? (JSON.parse(decodeURIComponent(notes)) as string[]) : [],
    exit: res.headers.get(EXIT_HEADER) === '1' ? 1 : 0,
    ...(wrote ? { wrote } : {}),
  };
}

/** POSTs a body to the server; a refusal is the error the command would give on the store file. */
export async function postToServer(
  server: Server,
  path: string,
  type: string,
  body: string,
  query?: URLSearchParams,
): Promise<Response> {
  const route = { method: 'POST', path };
  let res: Response;
  try {
    res = await fetch(`${server.url}${path}${query ? `?${query}` : ''}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': type },
      body,
    });
  } catch (e) {
    throw unreachable(server, e);
  }
  if (!res.ok) throw await refusal(server, route, res);
  return res;
}

function unreachable(server: Server, e: unknown): UsageError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return new UsageError(
    `cannot reach the server at ${server.url} (${cause?.code ?? cause?.message ?? String(e)}): is \`tally serve\` running there?`,
  );
}

/** A refused request as the error the command would give: the same exit codes as on the store file. */
async function refusal(
  server: Server,
  route: { method: string; path: string },
  res: Response,
): Promise<TallyError> {
  let message = res.statusText;
  let problems: Problem[] = [];
  try {
    const body = (await res.json()) as { message?: string; problems?: Problem[] };
    message = body.message ?? message;
    problems = body.problems ?? [];
  } catch {
    // not a JSON error body: the status text says enough
  }
  if (res.status === 400 && problems.length > 0) return new InputError(problems);
  const where = `the server at ${server.url}`;
  switch (res.status) {
    case 401:
      return new UsageError(`${where} refused TALLY_TOKEN: ${message}`);
    case 403:
      return new UsageError(`${where} refused ${route.method} ${route.path} for this token: ${message}`);
    case 404:
      return new TallyError('not_found', `${where}: ${message}`);
    case 422:
      return new LimitError(`${where}: ${message}`);
    case 429:
      return new UsageError(
        `${where} asks to slow down (retry after ${res.headers.get('retry-after') ?? 'a moment'} s): ${message}`,
      );
    default:
      return res.status >= 500
        ? new StoreError(`${where} could not answer (${res.status}): ${message}`)
        : new UsageError(`${where}: ${message}`);
  }
}
