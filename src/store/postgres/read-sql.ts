/**
 * Reading single events back (drill-down, trace walks, replay), the selector
 * census of `tally posture` and the evidence samples of the signals, in
 * PostgreSQL. Rows come back with `time` in epoch milliseconds.
 */

import { pushAll } from '../../core/arrays.js';
import type { Selector } from '../../core/config.js';
import { ALL_EVENT_FIELDS } from '../../core/event.js';
import type { EvidenceFilter } from '../../core/signals/facts.js';
import type { SignalSumsQuery } from '../../core/signals/sums.js';
import { sqlString } from '../rows.js';
import type { EventsPageQuery, EventWindowQuery } from '../store.js';
import {
  pageFiltersSql,
  type WindowDialect,
  matchSql as windowMatchSql,
  eventsInWindowSql as windowSql,
} from '../window-sql.js';
import { ms, sameTuple, TRACE_NODES, ts, wrapperCtes } from './usage-sql.js';

const COLUMNS = ALL_EVENT_FIELDS.map((f) => (f === 'time' ? `${ms('time')} AS time` : f)).join(', ');
const list = (ids: readonly string[]) => ids.map(sqlString).join(', ');

const pageFilters = (q: EventsPageQuery): string[] => pageFiltersSql(POSTGRES_WINDOW, q);

export function eventsPageSql(q: EventsPageQuery): string {
  const where = [`time >= ${ts(q.from)}`, `time < ${ts(q.to)}`];
  if (q.trace) where.push(`trace_id = ${sqlString(q.trace)}`);
  if (q.after) {
    const t = ts(q.after.time);
    const s = sqlString(q.after.source);
    const i = sqlString(q.after.id);
    where.push(`(time, source COLLATE "C", id COLLATE "C") < (${t}, ${s} COLLATE "C", ${i} COLLATE "C")`);
  }
  pushAll(where, pageFilters(q));
  return `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')}
ORDER BY time DESC, source COLLATE "C" DESC, id COLLATE "C" DESC LIMIT ${Math.max(1, Math.trunc(q.limit))}`;
}

export function eventsByIdSql(id: string, source: string | null, limit: number): string {
  const where = [`id = ${sqlString(id)}`];
  if (source !== null) where.push(`source = ${sqlString(source)}`);
  return `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY source COLLATE "C" LIMIT ${Math.trunc(limit)}`;
}

/** How PostgreSQL spells the parts of the window query that differ between engines. */
export const POSTGRES_WINDOW: WindowDialect = {
  columns: COLUMNS,
  ts,
  isKeyHash: (field) => `${field} ~ '^[0-9a-f]{64}$'`,
  limitedBranch: (sql) => `(${sql})`,
  traceNodes: TRACE_NODES,
  oneOf: (field, values) => `${field} IN (${values.map(sqlString).join(', ')})`,
};

export const eventsInWindowSql = (q: EventWindowQuery): string => windowSql(POSTGRES_WINDOW, q);

/** Events that some of the selectors match; none match an empty list. */
export const matchSql = (match: readonly Selector[]): string => windowMatchSql(POSTGRES_WINDOW, match);

export function traceEventsSql(traceIds: readonly string[]): string {
  return `SELECT ${COLUMNS} FROM events WHERE trace_id IN (${list(traceIds)})`;
}

export function selectorUsageSql(window: { from: number; to: number }): string {
  return `SELECT api_key, service, agent, project, environment, count(*) AS events,
       ${ms('min(time)')} AS first, ${ms('max(time)')} AS last
FROM events WHERE time >= ${ts(window.from)} AND time < ${ts(window.to)}
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`;
}

/** First and last time, count and the earliest ids of the events each filter selects. */
export function evidenceSql(filters: readonly EvidenceFilter[], limit: number): string {
  const rows: string[] = [];
  for (const f of filters) {
    const models = f.models && f.models.length > 0 ? f.models : [null];
    const tenants = f.tenants && f.tenants.length > 0 ? f.tenants : [null];
    for (const t of f.tuples)
      for (const m of models)
        for (const tn of tenants)
          rows.push(
            `(${[f.key, t.api_key, t.service, t.agent, t.project].map((v) => `${sqlString(v)}::text`).join(', ')}, ${ts(f.from)}, ${ts(f.to)}, ${sqlString(m)}::text, ${sqlString(tn)}::text)`,
          );
  }
  return `
WITH f(k, api_key, service, agent, project, f_from, f_to, f_model, f_tenant) AS (VALUES ${rows.join(', ')})
SELECT f.k, ${ms('min(e.time)')} AS first_t, ${ms('max(e.time)')} AS last_t, count(*) AS events,
       (array_agg(e.id ORDER BY e.time, e.id))[1:${Math.max(1, Math.trunc(limit))}] AS ids
FROM events e JOIN f ON ${sameTuple('f', 'e')}
WHERE e.time >= f.f_from AND e.time < f.f_to
  AND (f.f_model IS NULL OR e.model = f.f_model) AND (f.f_tenant IS NULL OR e.tenant = f.f_tenant)
GROUP BY f.k`;
}

/** The sums behind the signal rules (core/signals/sums.ts): the events before the window end, per hour. */
export function signalSumsSql(q: SignalSumsQuery): string {
  const probe = `status = 'error' AND (error_type IS NULL OR lower(error_type) ~ ${sqlString(q.probeErrors)})`;
  return `
WITH RECURSIVE ${wrapperCtes((a) => `${a}.time < ${ts(q.end)}`)}
SELECT api_key, service, agent, project, provider, model, client_address, environment, operation, tool, data_source,
       x.span_id IS NOT NULL AS wrapper,
       ${ms("date_trunc('hour', time)")} AS h,
       count(*) AS events, sum(requests) AS requests,
       coalesce(sum(requests) FILTER (WHERE input_tokens > 0), 0) AS treq,
       sum(input_tokens) AS tin, sum(output_tokens) AS tout, sum(cache_read_tokens) AS cr,
       sum(cache_write_tokens) AS cw, sum(reasoning_tokens) AS rs,
       count(*) FILTER (WHERE ${probe}) AS probes,
       ${ms('min(time)')} AS first_t, ${ms('max(time)')} AS last_t,
       (array_agg(id ORDER BY time, id COLLATE "C"))[1] AS first_id
FROM events e LEFT JOIN wrappers x ON x.trace_id = e.trace_id AND x.span_id = e.span_id
WHERE time < ${ts(q.end)}${q.match ? ` AND ${matchSql(q.match)}` : ''}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13`;
}
