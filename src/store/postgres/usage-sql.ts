/**
 * The usage-group query in PostgreSQL (what it returns: src/core/usage.ts;
 * the DuckDB twin: ../duckdb/usage-sql.ts). One statement, so that it runs
 * in a read-only snapshot: the selector tuples from core, the spans of the
 * window that need their ancestors, the spans of their traces, the walk up
 * the tree (SPEC §4.3 invoker, §4.4 inherited tenant), the wrappers
 * (core/ai-work.ts, `wrapperCtes`), then the grouping.
 */
import { TOKEN_COLUMNS } from '../../core/ai-work.js';
import { AGGREGATE_OPERATIONS } from '../../core/event.js';
import { tupleOrder } from '../../core/trace-walk.js';
import type { SelectorTuple, UsageQuery, VaryingPairs } from '../../core/usage.js';
import { sampleColumns, sqlString } from '../rows.js';

/** A timestamptz literal of an epoch-millisecond instant. */
export function ts(ms: number): string {
  const clamped = Math.max(-8.64e15, Math.min(8.64e15, Math.trunc(ms)));
  return `'${new Date(clamped).toISOString()}'::timestamptz`;
}

/** A timestamptz column as epoch milliseconds (bigint). */
export const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint`;

const FIELDS = ['api_key', 'service', 'agent', 'project'] as const;

/** Whether an event row carries tokens (core/ai-work.ts `carriesTokens`). */
export const CARRIES_TOKENS = `(${TOKEN_COLUMNS.map((c) => `${c} > 0`).join(' OR ')})`;
const tokensOf = (alias: string) => `(${TOKEN_COLUMNS.map((c) => `${alias}.${c} > 0`).join(' OR ')})`;

/**
 * Every stored span with what the walks read: the events' spans and the
 * trace links, and whether the span carries tokens (`usage`: the wrappers).
 */
export const TRACE_NODES = `SELECT trace_id, span_id, parent_span_id, tenant, api_key, service, agent, project,
    ${CARRIES_TOKENS} AS usage FROM events
  UNION ALL SELECT trace_id, span_id, parent_span_id, tenant, api_key, service, agent, project, false FROM spans`;

/** Equal selector tuples, NULL matching NULL, written as equalities so that PostgreSQL can hash the join. */
export const sameTuple = (a: string, b: string) =>
  FIELDS.map((f) => `coalesce(${a}.${f}, chr(30)) = coalesce(${b}.${f}, chr(30))`).join(' AND ');

/** The shared and paying tuples; only payers have a rank, in core's order (a span stored twice pays as its first paying copy). */
function tuplesCte(shared: readonly SelectorTuple[], payers: readonly SelectorTuple[]): string {
  const row = (t: SelectorTuple, rank: number | null) =>
    `(${FIELDS.map((f) => `${sqlString(t[f])}::text`).join(', ')}, ${rank === null}, ${rank ?? 'NULL'}::integer)`;
  const rows = [...shared.map((t) => row(t, null)), ...[...payers].sort(tupleOrder).map((t, i) => row(t, i))];
  if (rows.length === 0)
    return `SELECT NULL::text AS api_key, NULL::text AS service, NULL::text AS agent, NULL::text AS project, false AS shared, NULL::integer AS rank WHERE false`;
  return `SELECT * FROM (VALUES ${rows.join(', ')}) v(api_key, service, agent, project, shared, rank)`;
}

/** The smallest of a column's texts by their bytes (code point order, as core/trace-walk.ts compares them). */
const smallest = (column: string) => `(min(${column} COLLATE "C") COLLATE "default")`;

function bandCase(column: string, cuts: readonly string[], op: '<' | '<='): string {
  if (cuts.length === 0) return '0';
  return `CASE ${cuts.map((c, i) => `WHEN ${column} ${op} ${c} THEN ${i}`).join(' ')} ELSE ${cuts.length} END`;
}

function pairBand(
  pairs: ReadonlyArray<{ provider: string | null; model: string | null }>,
  band: string,
): string {
  if (pairs.length === 0 || band === '0') return '0';
  const list = pairs.map((p) => `(${sqlString(p.provider)}::text, ${sqlString(p.model)}::text)`).join(', ');
  return `CASE WHEN (w.provider, w.model) IN (${list}) THEN ${band} ELSE 0 END`;
}

/**
 * The wrappers (core/ai-work.ts) among the events that `window` selects
 * (on the alias it is given), as in the
 * DuckDB twin (`wrapperSetupSql`): the spans of the traces where a
 * token-carrying event of the window has another one beside it, whatever
 * its time; each token-carrying span walks up (through spans that carry
 * none) to the first that carries tokens, a wrapper. Only wrappers whose
 * operation is not already an aggregate are kept (`plain`).
 */
export function wrapperCtes(window: (alias: string) => string): string {
  return `
wtraces AS (
  SELECT e.trace_id FROM events e
  WHERE e.trace_id IN (SELECT w.trace_id FROM events w
                       WHERE ${window('w')} AND w.trace_id IS NOT NULL AND ${tokensOf('w')})
    AND e.span_id IS NOT NULL AND ${tokensOf('e')}
  GROUP BY e.trace_id HAVING count(*) >= 2
),
wnodes AS (
  SELECT e.trace_id, e.span_id, ${smallest('e.parent_span_id')} AS next_span, bool_or(e.tok) AS tok,
         bool_or(e.tok AND e.plain) AS plain
  FROM (SELECT trace_id, span_id, parent_span_id, ${CARRIES_TOKENS} AS tok,
               operation NOT IN (${AGGREGATES}) AS plain FROM events
        UNION ALL SELECT trace_id, span_id, parent_span_id, false, false FROM spans) e
  WHERE e.span_id IS NOT NULL AND e.trace_id IN (SELECT trace_id FROM wtraces)
  GROUP BY e.trace_id, e.span_id
),
wup AS (
  SELECT trace_id, next_span AS at, 1 AS depth FROM wnodes WHERE tok AND next_span IS NOT NULL
  UNION ALL
  SELECT u.trace_id, s.next_span, u.depth + 1
  FROM wup u JOIN wnodes s ON s.trace_id = u.trace_id AND s.span_id = u.at
  WHERE NOT s.tok AND s.next_span IS NOT NULL AND u.depth < 64
),
wrappers AS (
  SELECT DISTINCT u.trace_id, u.at AS span_id
  FROM wup u JOIN wnodes s ON s.trace_id = u.trace_id AND s.span_id = u.at AND s.plain
)`;
}

/** The operations that are aggregates whatever the trace (core/event.ts), as an SQL list. */
const AGGREGATES = [...AGGREGATE_OPERATIONS].map((o) => `${sqlString(o)}::text`).join(', ');

const KEEP = 'w.payer_found OR NOT w.want_payer OR NOT s.can_pay';

/** The walk: for each span of the window that needs it, its nearest paying ancestor and inherited tenant. */
function walkCtes(q: UsageQuery): string {
  const window = `e.time >= ${ts(q.from)} AND e.time < ${ts(q.to)}`;
  return `
tuples AS (${tuplesCte(q.sharedTuples, q.payerTuples)}),
needs AS (
  SELECT e.trace_id, e.span_id, e.parent_span_id AS next_span, coalesce(t.shared, false) AS want_payer
  FROM events e LEFT JOIN tuples t ON ${sameTuple('e', 't')}
  WHERE ${window} AND e.trace_id IS NOT NULL AND e.span_id IS NOT NULL AND e.parent_span_id IS NOT NULL
    AND (coalesce(t.shared, false) OR e.tenant IS NULL)
),
copies AS (
  SELECT e.trace_id, e.span_id, ${smallest('e.parent_span_id')} AS next_span, ${smallest('e.tenant')} AS tenant,
         min(t.rank) AS pay_rank
  FROM (${TRACE_NODES}) e LEFT JOIN tuples t ON ${sameTuple('e', 't')}
  WHERE e.span_id IS NOT NULL AND e.trace_id IN (SELECT DISTINCT trace_id FROM needs)
  GROUP BY e.trace_id, e.span_id
),
-- A span stored more than once is one node (core/trace-walk.ts): it pays as its first paying copy.
nodes AS (
  SELECT c.trace_id, c.span_id, c.next_span, c.tenant, p.api_key, p.service, p.agent, p.project,
         c.pay_rank IS NOT NULL AS can_pay
  FROM copies c LEFT JOIN tuples p ON p.rank = c.pay_rank
),
-- One answer per span and parent it names (up), as the DuckDB twin: the tenant found is the one
-- inherited; where copies of a span with the same parent walked, the one that found a payer answers.
walk AS (
  SELECT n.trace_id, n.span_id, n.next_span AS up, n.next_span, 1 AS depth, n.want_payer, false AS payer_found,
         NULL::text AS p_api_key, NULL::text AS p_service, NULL::text AS p_agent, NULL::text AS p_project,
         NULL::text AS tenant_found
  FROM needs n
  UNION ALL
  SELECT w.trace_id, w.span_id, w.up, s.next_span, w.depth + 1, w.want_payer,
         w.payer_found OR (w.want_payer AND s.can_pay),
         CASE WHEN ${KEEP} THEN w.p_api_key ELSE s.api_key END,
         CASE WHEN ${KEEP} THEN w.p_service ELSE s.service END,
         CASE WHEN ${KEEP} THEN w.p_agent ELSE s.agent END,
         CASE WHEN ${KEEP} THEN w.p_project ELSE s.project END,
         coalesce(w.tenant_found, s.tenant)
  FROM walk w JOIN nodes s ON s.trace_id = w.trace_id AND s.span_id = w.next_span
  WHERE w.depth < 64 AND ((w.want_payer AND NOT w.payer_found) OR w.tenant_found IS NULL)
),
resolved AS (
  SELECT DISTINCT ON (trace_id, span_id, up) trace_id, span_id, up, payer_found,
         p_api_key, p_service, p_agent, p_project, tenant_found
  FROM walk ORDER BY trace_id, span_id, up, payer_found DESC, depth DESC
),${wrapperCtes((a) => `${a}.time >= ${ts(q.from)} AND ${a}.time < ${ts(q.to)}`)}`;
}

/** One row per usage group; column names as in UsageGroup (see rowToUsageGroup). */
export function usageGroupsSql(q: UsageQuery, varying: VaryingPairs): string {
  const cuts = q.boundaries.filter((b) => b > q.from && b < q.to);
  const tiers = [...new Set(q.tierThresholds ?? [])].sort((a, b) => a - b);
  const clock = [...new Set(q.timeOfDayCuts ?? [])].filter((c) => c > 0 && c < 86_400).sort((a, b) => a - b);
  // An event without a request count (a usage-report bucket) is at the base tier (core/usage.ts tierUnitsOf).
  const tier = bandCase(
    'CASE WHEN w.requests > 0 THEN w.input_tokens::numeric / w.requests ELSE 0 END',
    tiers.map(String),
    '<=',
  );
  const clockBand = bandCase(`(${ms('w.time')} % 86400000) / 1000.0`, clock.map(String), '<');
  return `
WITH RECURSIVE ${walkCtes(q)}
SELECT w.api_key, w.service, w.agent, w.project,
       r.p_api_key, r.p_service, r.p_agent, r.p_project,
       CASE WHEN coalesce(r.payer_found, false) THEN 'invoker' ELSE 'self' END AS "rollup",
       coalesce(w.tenant, r.tenant_found) AS tenant,
       w.environment, w.provider, w.model, w.operation, w.tool, w.data_source,
       x.span_id IS NOT NULL AS wrapper,
       ${q.byDay ? ms("date_trunc('day', w.time)") : 'NULL::bigint'} AS day,
       ${bandCase('w.time', cuts.map(ts), '<')} AS segment,
       ${pairBand(varying.tiered, tier)} AS tier,
       ${pairBand(varying.timeOfDay, clockBand)} AS clock,
       w.units,
       ${sampleColumns(q)},
       ${ms('min(w.time)')} AS time,
       count(*) AS events, sum(w.requests) AS requests,
       sum(CASE WHEN w.requests > 0 THEN w.requests ELSE greatest(w.input_tokens, 1) END) AS tier_units,
       sum(w.input_tokens) AS input_tokens, sum(w.output_tokens) AS output_tokens,
       sum(w.cache_read_tokens) AS cache_read_tokens, sum(w.cache_write_tokens) AS cache_write_tokens,
       sum(w.reasoning_tokens) AS reasoning_tokens,
       sum(w.cache_write_1h_tokens) AS cache_write_1h_tokens,
       sum(w.input_audio_tokens) AS input_audio_tokens, sum(w.output_audio_tokens) AS output_audio_tokens,
       count(*) FILTER (WHERE w.status = 'error') AS errors
FROM events w LEFT JOIN resolved r ON r.trace_id = w.trace_id AND r.span_id = w.span_id AND r.up = w.parent_span_id
LEFT JOIN wrappers x ON x.trace_id = w.trace_id AND x.span_id = w.span_id
WHERE w.time >= ${ts(q.from)} AND w.time < ${ts(q.to)}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25`;
}

export function modelPairsSql(q: UsageQuery): string {
  return `SELECT DISTINCT provider, model FROM events WHERE time >= ${ts(q.from)} AND time < ${ts(q.to)}`;
}
