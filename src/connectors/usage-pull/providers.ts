/**
 * The organisation usage APIs `tally pull` reads: where each report lives,
 * how it is asked for (times, bucket width, grouping, paging) and
 * authenticated, and which ingest format reads its pages.
 *
 * - OpenAI: `GET /v1/organization/usage/{completions,embeddings}` with
 *   `start_time`/`end_time` (unix seconds), `bucket_width`, `group_by`
 *   (repeated), `limit`, `page`; `Authorization: Bearer <admin key>`.
 * - Anthropic: `GET /v1/organizations/usage_report/messages` with
 *   `starting_at`/`ending_at` (RFC 3339), `bucket_width`, `group_by[]`,
 *   `limit`, `page`; `x-api-key: <admin key>` and `anthropic-version`.
 * Both answer `{data: [bucket], has_more, next_page}`.
 */
export type ProviderName = 'openai' | 'anthropic';
export type BucketWidth = '1d' | '1h';

export const PROVIDERS: readonly ProviderName[] = ['openai', 'anthropic'];
export const WIDTHS: readonly BucketWidth[] = ['1d', '1h'];

export const WIDTH_MS: Readonly<Record<BucketWidth, number>> = { '1d': 86_400_000, '1h': 3_600_000 };

/** Buckets per page at most, as both APIs document it per width. */
const MAX_LIMIT: Readonly<Record<BucketWidth, number>> = { '1d': 31, '1h': 168 };

export interface PageQuery {
  start: number;
  end: number | null;
  width: BucketWidth;
  page: string | null;
}

export interface Provider {
  name: ProviderName;
  /** The ingest format that reads its pages. */
  format: 'openai-usage' | 'anthropic-usage';
  /** Environment variable holding the admin key. */
  keyVariable: string;
  defaultBaseUrl: string;
  /** The reports to pull, by a short name. */
  reports: readonly string[];
  url(base: string, report: string, q: PageQuery): URL;
  headers(key: string): Record<string, string>;
  /** A bucket's end in epoch ms, or null when the bucket does not say. */
  bucketEnd(bucket: unknown): number | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function endpoint(base: string, path: string): URL {
  return new URL(base.replace(/\/+$/, '') + path);
}

const openai: Provider = {
  name: 'openai',
  format: 'openai-usage',
  keyVariable: 'OPENAI_ADMIN_KEY',
  defaultBaseUrl: 'https://api.openai.com',
  reports: ['completions', 'embeddings'],
  url(base, report, q) {
    const url = endpoint(base, `/v1/organization/usage/${report}`);
    const p = url.searchParams;
    p.set('start_time', String(Math.floor(q.start / 1000)));
    if (q.end !== null) p.set('end_time', String(Math.ceil(q.end / 1000)));
    p.set('bucket_width', q.width);
    for (const g of ['project_id', 'api_key_id', 'model']) p.append('group_by', g);
    p.set('limit', String(MAX_LIMIT[q.width]));
    if (q.page !== null) p.set('page', q.page);
    return url;
  },
  headers: (key) => ({ authorization: `Bearer ${key}`, accept: 'application/json' }),
  bucketEnd: (b) => (isObject(b) && typeof b.end_time === 'number' ? b.end_time * 1000 : null),
};

const anthropic: Provider = {
  name: 'anthropic',
  format: 'anthropic-usage',
  keyVariable: 'ANTHROPIC_ADMIN_KEY',
  defaultBaseUrl: 'https://api.anthropic.com',
  reports: ['messages'],
  url(base, _report, q) {
    const url = endpoint(base, '/v1/organizations/usage_report/messages');
    const p = url.searchParams;
    p.set('starting_at', new Date(q.start).toISOString());
    if (q.end !== null) p.set('ending_at', new Date(q.end).toISOString());
    p.set('bucket_width', q.width);
    for (const g of ['api_key_id', 'workspace_id', 'model', 'service_tier', 'context_window'])
      p.append('group_by[]', g);
    p.set('limit', String(MAX_LIMIT[q.width]));
    if (q.page !== null) p.set('page', q.page);
    return url;
  },
  headers: (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01', accept: 'application/json' }),
  bucketEnd(b) {
    if (!isObject(b) || typeof b.ending_at !== 'string') return null;
    const t = Date.parse(b.ending_at);
    return Number.isNaN(t) ? null : t;
  },
};

export const PROVIDER: Readonly<Record<ProviderName, Provider>> = { openai, anthropic };
