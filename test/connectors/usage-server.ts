// A local stand-in for the providers' organisation usage APIs (node:http on a loopback port):
// it answers pages as OpenAI's and Anthropic's API references document them (`data` buckets,
// `has_more`, `next_page`), pages by a fixed number of buckets, checks the admin key, and can
// be told to fail the next requests (429 with Retry-After, 500) before answering.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Failure {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Bucket {
  /** Epoch ms. */
  start: number;
  end: number;
  results: unknown[];
}

export interface UsageServer {
  url: string;
  /** Buckets by path (e.g. `/v1/organization/usage/completions`), in time order. */
  buckets: Map<string, Bucket[]>;
  /** Answers to give before the real ones, one per request, in order. */
  failures: Failure[];
  /** Every request: its path and query, and the header that carried the key. */
  requests: Array<{ path: string; query: URLSearchParams; key: string | null }>;
  close(): Promise<void>;
}

const PAGE_BUCKETS = 2;

export async function usageServer(opts: {
  provider: 'openai' | 'anthropic';
  key: string;
}): Promise<UsageServer> {
  const state = {
    buckets: new Map<string, Bucket[]>(),
    failures: [] as Failure[],
    requests: [] as UsageServer['requests'],
  };
  const server = createServer((req, res) => answer(req, res));

  function keyOf(req: IncomingMessage): string | null {
    if (opts.provider === 'anthropic') return (req.headers['x-api-key'] as string | undefined) ?? null;
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice(7) : null;
  }

  function answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const key = keyOf(req);
    state.requests.push({ path: url.pathname, query: url.searchParams, key });
    const failure = state.failures.shift();
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
      res.end(failure.body ?? JSON.stringify({ error: { message: 'try again' } }));
      return;
    }
    if (key !== opts.key) {
      // Providers name the key they refused; tally must not repeat it.
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}` } }));
      return;
    }
    const all = state.buckets.get(url.pathname);
    if (!all) {
      res.writeHead(404).end();
      return;
    }
    const { start, end } = window(url.searchParams);
    const inWindow = all.filter((b) => b.start >= start && (end === null || b.start < end));
    const offset = pageIndex(url);
    const slice = inWindow.slice(offset, offset + PAGE_BUCKETS);
    const hasMore = offset + PAGE_BUCKETS < inWindow.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page(slice, hasMore, hasMore ? `page_${offset + PAGE_BUCKETS}` : null)));
  }

  function pageIndex(url: URL): number {
    const p = url.searchParams.get('page');
    return p === null ? 0 : Number(p.replace('page_', ''));
  }

  function window(q: URLSearchParams): { start: number; end: number | null } {
    if (opts.provider === 'openai') {
      const end = q.get('end_time');
      return { start: Number(q.get('start_time')) * 1000, end: end === null ? null : Number(end) * 1000 };
    }
    const end = q.get('ending_at');
    return { start: Date.parse(q.get('starting_at') ?? ''), end: end === null ? null : Date.parse(end) };
  }

  function page(buckets: Bucket[], hasMore: boolean, next: string | null): unknown {
    if (opts.provider === 'openai')
      return {
        object: 'page',
        data: buckets.map((b) => ({
          object: 'bucket',
          start_time: b.start / 1000,
          end_time: b.end / 1000,
          results: b.results,
        })),
        has_more: hasMore,
        next_page: next,
      };
    return {
      data: buckets.map((b) => ({
        starting_at: new Date(b.start).toISOString().replace('.000Z', 'Z'),
        ending_at: new Date(b.end).toISOString().replace('.000Z', 'Z'),
        results: b.results,
      })),
      has_more: hasMore,
      next_page: next,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
