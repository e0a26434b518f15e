/**
 * The usage-group query (see src/core/usage.ts). It sums the events of a
 * window into groups that attribution cannot tell apart, after resolving the
 * two things that need the trace tree (SPEC §4.3, §4.4): the invoker of a
 * shared identity's span (the nearest ancestor whose selectors belong to a
 * paying identity) and the tenant claim a span inherits from its nearest
 * ancestor with one. Ancestors are looked up among all stored spans, whatever
 * batch or order they arrived in, so the answer never depends on arrival order.
 */
import type { SelectorTuple, UsageQuery } from '../../core/usage.js';

export function sqlString(v: string | null): string {
  return v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`;
}

/** One key per selector tuple; chr(30) stands for a missing field so that NULL and '' differ. */
export const TUPLE_KEY = (p = '') =>
  `concat_ws(chr(31), coalesce(${p}api_key, chr(30)), coalesce(${p}service, chr(30)), coalesce(${p}agent, chr(30)), coalesce(${p}project, chr(30)))`;

/** The same key for a tuple, as a constant SQL expression (no control characters inside literals). */
export function tupleKeyLiteral(t: SelectorTuple): string {
  const f = (v: string | null) => (v === null ? 'chr(30)' : sqlString(v));
  return `concat_ws(chr(31), ${f(t.api_key)}, ${f(t.service)}, ${f(t.agent)}, ${f(t.project)})`;
}

function keyList(tuples: readonly SelectorTuple[]): string {
  return tuples.length === 0
    ? `(SELECT NULL::VARCHAR WHERE false)`
    : `(${tuples.map(tupleKeyLiteral).join(', ')})`;
}

const ts = (ms: number) => `epoch_ms(${Math.trunc(ms)}::BIGINT)`;

/** Which of the stretches between `cuts` a value falls in; `op` says on which side a cut itself lies. */
function bandCase(column: string, cuts: readonly string[], op: '<' | '<='): string {
  if (cuts.length === 0) return '0';
  const whens = cuts.map((c, i) => `WHEN ${column} ${op} ${c} THEN ${i}`).join(' ');
  return `CASE ${whens} ELSE ${cuts.length} END`;
}

/** The SELECT that returns one row per usage group; column names match UsageGroup. */
export function usageGroupsSql(q: UsageQuery): string {
  const cuts = q.boundaries.filter((b) => b > q.from && b < q.to);
  const shared = keyList(q.sharedTuples);
  const payers = keyList(q.payerTuples);
  const tiers = [...new Set(q.tierThresholds ?? [])].sort((a, b) => a - b);
  const clock = [...new Set(q.timeOfDayCuts ?? [])].filter((c) => c > 0 && c < 86_400).sort((a, b) => a - b);
  return `
WITH RECURSIVE
win AS (
  SELECT *, (trace_id IS NOT NULL AND ${TUPLE_KEY()} IN ${shared}) AS is_shared
  FROM events
  WHERE time >= ${ts(q.from)} AND time < ${ts(q.to)}
),
needs AS (
  SELECT trace_id, span_id, parent_span_id, is_shared, tenant
  FROM win
  WHERE parent_span_id IS NOT NULL AND (is_shared OR tenant IS NULL)
),
spans AS (
  SELECT trace_id, span_id, any_value(parent_span_id) AS parent_span_id, any_value(tenant) AS tenant,
         any_value(api_key) AS api_key, any_value(service) AS service, any_value(agent) AS agent,
         any_value(project) AS project, bool_or(${TUPLE_KEY()} IN ${payers}) AS can_pay
  FROM events
  WHERE trace_id IN (SELECT DISTINCT trace_id FROM needs)
  GROUP BY trace_id, span_id
),
walk AS (
  SELECT n.trace_id, n.span_id, n.parent_span_id AS next_span, 1 AS depth, n.is_shared AS want_payer,
         false AS payer_found, NULL::VARCHAR AS p_api_key, NULL::VARCHAR AS p_service,
         NULL::VARCHAR AS p_agent, NULL::VARCHAR AS p_project, n.tenant AS tenant_found
  FROM needs n
  UNION ALL
  SELECT w.trace_id, w.span_id, s.parent_span_id, w.depth + 1, w.want_payer,
         w.payer_found OR (w.want_payer AND s.can_pay),
         CASE WHEN w.payer_found OR NOT w.want_payer OR NOT s.can_pay THEN w.p_api_key ELSE s.api_key END,
         CASE WHEN w.payer_found OR NOT w.want_payer OR NOT s.can_pay THEN w.p_service ELSE s.service END,
         CASE WHEN w.payer_found OR NOT w.want_payer OR NOT s.can_pay THEN w.p_agent ELSE s.agent END,
         CASE WHEN w.payer_found OR NOT w.want_payer OR NOT s.can_pay THEN w.p_project ELSE s.project END,
         coalesce(w.tenant_found, s.tenant)
  FROM walk w JOIN spans s ON s.trace_id = w.trace_id AND s.span_id = w.next_span
  WHERE w.depth < 64 AND ((w.want_payer AND NOT w.payer_found) OR w.tenant_found IS NULL)
),
resolved AS (
  SELECT trace_id, span_id,
         arg_max(payer_found, depth) AS payer_found,
         arg_max(p_api_key, depth) AS p_api_key, arg_max(p_service, depth) AS p_service,
         arg_max(p_agent, depth) AS p_agent, arg_max(p_project, depth) AS p_project,
         arg_max(tenant_found, depth) AS tenant_found
  FROM walk GROUP BY trace_id, span_id
)
SELECT w.api_key, w.service, w.agent, w.project,
       r.p_api_key, r.p_service, r.p_agent, r.p_project,
       CASE WHEN NOT w.is_shared THEN 'self' WHEN coalesce(r.payer_found, false) THEN 'invoker' ELSE 'no_invoker' END AS rollup,
       coalesce(w.tenant, r.tenant_found) AS tenant,
       w.environment, w.provider, w.model, w.operation, w.tool, w.data_source,
       ${q.byDay ? "epoch_ms(date_trunc('day', w.time))" : 'NULL::BIGINT'} AS day,
       ${bandCase('w.time', cuts.map(ts), '<')} AS segment,
       ${bandCase('w.input_tokens / greatest(w.requests, 1)', tiers.map(String), '<=')} AS tier,
       ${bandCase('(epoch_ms(w.time) % 86400000) / 1000.0', clock.map(String), '<')} AS clock,
       epoch_ms(min(w.time)) AS time,
       count(*) AS events, sum(w.requests) AS requests, sum(greatest(w.requests, 1)) AS tier_units,
       sum(w.input_tokens) AS input_tokens, sum(w.output_tokens) AS output_tokens,
       sum(w.cache_read_tokens) AS cache_read_tokens, sum(w.cache_write_tokens) AS cache_write_tokens,
       sum(w.reasoning_tokens) AS reasoning_tokens,
       count(*) FILTER (WHERE w.status = 'error') AS errors
FROM win w LEFT JOIN resolved r ON r.trace_id = w.trace_id AND r.span_id = w.span_id
GROUP BY ALL`;
}
