/**
 * `tally pull --server` (docs/pull.md): the CLI fetches a provider's usage
 * report and sends each page here, so that a pull runs beside a server that
 * holds the store. The cursor is the one a pull on the store keeps (the
 * batch labels of src/service/pull.ts): one route reads it, the other stores
 * a page of canonical events in one batch under the label that carries it.
 */

import {
  type BucketWidth,
  PROVIDER,
  PROVIDERS,
  type ProviderName,
  WIDTHS,
} from '../../connectors/usage-pull/providers.js';
import { UsageError } from '../../core/errors.js';
import { type PullReportKey, pullLabel, SETTLE_MS, storedCursor } from '../../service/pull.js';
import { readBody } from '../body.js';
import { json } from '../http.js';
import { ingestEvents } from '../ingest.js';
import { type AppContext, INGESTERS, type Param, type Route } from '../routes.js';

const KEY_PARAMS: readonly Param[] = [
  { name: 'provider', description: `${PROVIDERS.join(' or ')}`, required: true },
  {
    name: 'report',
    description: 'the report (openai: completions, embeddings; anthropic: messages)',
    required: true,
  },
  { name: 'width', description: `bucket width: ${WIDTHS.join(' or ')}`, required: true },
];

export function pullRoutes(app: AppContext): Route[] {
  const { store, writer, limits, now, committed, parseEvents } = app;
  return [
    {
      method: 'GET',
      path: '/v1/pull/cursor',
      roles: INGESTERS,
      summary: 'where a pull of this report resumes: the end of the last complete bucket stored, or null',
      query: KEY_PARAMS,
      produces: 'application/json',
      async handle({ query }) {
        const key = pullKeyOf(query);
        const t = await storedCursor(store, key);
        return json({ label: pullLabel(key, null), complete_until: t === null ? null : iso(t) });
      },
    },
    {
      method: 'POST',
      path: '/v1/pull/pages',
      roles: INGESTERS,
      summary:
        "one page of a provider's usage report as canonical events, stored in one batch labelled with the pull's cursor; all or nothing",
      query: [
        ...KEY_PARAMS,
        {
          name: 'complete_until',
          description: 'the end of the last complete bucket so far (RFC 3339), if any',
        },
      ],
      accepts: ['application/json', 'application/x-ndjson'],
      produces: 'application/json',
      async handle({ req, query }) {
        const key = pullKeyOf(query);
        const until = completeUntilOf(query.get('complete_until'), now());
        const body = await readBody(req, limits.bodyBytes);
        const contentType = req.headers.get('content-type');
        const label = pullLabel(key, until);
        const result = await ingestEvents(store, writer, contentType, body, now(), parseEvents, label);
        committed(result.stored);
        return json({ ...result, rejected: 0, ignored: 0 });
      },
    },
  ];
}

function pullKeyOf(q: URLSearchParams): PullReportKey {
  const name = q.get('provider') ?? '';
  if (!PROVIDERS.includes(name as ProviderName))
    throw new UsageError(`provider must be ${PROVIDERS.join(' or ')}, got '${name}'`);
  const provider = PROVIDER[name as ProviderName];
  const report = q.get('report') ?? '';
  if (!provider.reports.includes(report))
    throw new UsageError(`report of ${name} must be ${provider.reports.join(' or ')}, got '${report}'`);
  const width = q.get('width') ?? '';
  if (!WIDTHS.includes(width as BucketWidth))
    throw new UsageError(`width must be ${WIDTHS.join(' or ')}, got '${width}'`);
  return { provider, report, width: width as BucketWidth };
}

/** The page's cursor: a bucket is complete only once it ended SETTLE_MS before now, by the server's clock too. */
function completeUntilOf(v: string | null, now: number): number | null {
  if (v === null || v === '') return null;
  const t = Date.parse(v);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(v))
    throw new UsageError(`complete_until must be an RFC 3339 time, got '${v}'`);
  if (t > now - SETTLE_MS)
    throw new UsageError(
      `complete_until ${v} is later than ${iso(now - SETTLE_MS)}: a bucket is complete an hour after it ends`,
    );
  return t;
}

const iso = (t: number) => new Date(t).toISOString();
