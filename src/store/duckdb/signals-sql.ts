/**
 * The sums behind the signal rules (core/signals/sums.ts), in DuckDB: one
 * scan of the events before the window end, grouped per selector tuple,
 * provider, model, client address, claimed environment, operation, tool,
 * data source and hour; and the evidence samples of the statement's findings.
 */
import type { EvidenceFilter, EvidenceSample } from '../../core/signals/facts.js';
import type { SignalSum, SignalSumsQuery } from '../../core/signals/sums.js';
import type { SelectorTuple } from '../../core/usage.js';
import { num, type Row, rowToSignalSum, sqlString } from '../rows.js';

const eq = (a: string, b: string, col: string) =>
  `coalesce(${a}.${col}, chr(30)) = coalesce(${b}.${col}, chr(30))`;

export function signalSumsSql(q: SignalSumsQuery): string {
  const probe = `status = 'error' AND (error_type IS NULL OR regexp_matches(lower(error_type), ${sqlString(q.probeErrors)}))`;
  return `
SELECT api_key, service, agent, project, provider, model, client_address, environment, operation, tool, data_source,
       epoch_ms(date_trunc('hour', time)) AS h,
       count(*) AS events, sum(requests) AS requests,
       coalesce(sum(requests) FILTER (WHERE input_tokens > 0), 0) AS treq,
       sum(input_tokens) AS tin, sum(output_tokens) AS tout, sum(cache_read_tokens) AS cr,
       sum(cache_write_tokens) AS cw, sum(reasoning_tokens) AS rs,
       count(*) FILTER (WHERE ${probe}) AS probes,
       epoch_ms(min(time)) AS first_t, epoch_ms(max(time)) AS last_t, min_by(id, time) AS first_id
FROM events
WHERE time < epoch_ms(${Math.trunc(q.end)}::BIGINT)
GROUP BY ALL`;
}

type Rows = (sql: string) => Promise<Row[]>;

export async function readSignalSums(q: SignalSumsQuery, rows: Rows): Promise<SignalSum[]> {
  return (await rows(signalSumsSql(q))).map(rowToSignalSum);
}

/** First and last time, count and the earliest ids of the events each filter selects. */
export function evidenceSql(filters: readonly EvidenceFilter[], limit: number): string {
  const rows: string[] = [];
  const tuple = (t: SelectorTuple) =>
    `${sqlString(t.api_key)}, ${sqlString(t.service)}, ${sqlString(t.agent)}, ${sqlString(t.project)}`;
  for (const f of filters) {
    const models = f.models && f.models.length > 0 ? f.models : [null];
    const tenants = f.tenants && f.tenants.length > 0 ? f.tenants : [null];
    for (const t of f.tuples)
      for (const m of models)
        for (const tn of tenants)
          rows.push(
            `(${sqlString(f.key)}, ${tuple(t)}, ${Math.trunc(f.from)}::BIGINT, ${Math.trunc(f.to)}::BIGINT, ${sqlString(m)}, ${sqlString(tn)})`,
          );
  }
  return `
WITH f AS (
  SELECT k::VARCHAR AS k, api_key::VARCHAR AS api_key, service::VARCHAR AS service, agent::VARCHAR AS agent,
         project::VARCHAR AS project, f_from, f_to, f_model::VARCHAR AS f_model, f_tenant::VARCHAR AS f_tenant
  FROM (VALUES ${rows.join(', ')}) v(k, api_key, service, agent, project, f_from, f_to, f_model, f_tenant)
)
SELECT f.k, epoch_ms(min(e.time)) AS first_t, epoch_ms(max(e.time)) AS last_t, count(*)::BIGINT AS events,
       min_by(e.id, e.time, ${Math.max(1, Math.trunc(limit))}) AS ids
FROM events e JOIN f ON ${['api_key', 'service', 'agent', 'project'].map((c) => eq('f', 'e', c)).join(' AND ')}
WHERE e.time >= epoch_ms(f.f_from) AND e.time < epoch_ms(f.f_to)
  AND (f.f_model IS NULL OR e.model = f.f_model) AND (f.f_tenant IS NULL OR e.tenant = f.f_tenant)
GROUP BY f.k`;
}

export async function readSignalEvidence(
  filters: readonly EvidenceFilter[],
  limit: number,
  rows: Rows,
): Promise<EvidenceSample[]> {
  if (filters.every((f) => f.tuples.length === 0)) return [];
  return (await rows(evidenceSql(filters, limit))).map((r) => ({
    key: String(r.k),
    firstSeen: num(r.first_t),
    lastSeen: num(r.last_t),
    events: num(r.events),
    eventIds: Array.isArray(r.ids) ? r.ids.filter((x) => x !== null).map(String) : [],
  }));
}
