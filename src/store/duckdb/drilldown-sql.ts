/**
 * Reading events back for the server's drill-down and trace walks; the
 * rest of the store reads usage groups, never single events.
 */
import { ALL_EVENT_FIELDS, EVENT_FIELDS, type UsageEvent } from '../../core/event.js';
import type { EventsPageQuery, TraceSpan } from '../store.js';
import { withRichUsage } from './replay-sql.js';
import { columnType } from './schema.js';
import { sqlString, TRACE_NODES } from './usage-sql.js';

const ts = (ms: number) => `epoch_ms(${Math.trunc(ms)}::BIGINT)`;

const COLUMNS = ALL_EVENT_FIELDS.map((f) => (f === 'time' ? 'epoch_ms(time) AS time' : f)).join(', ');

export function eventsPageSql(q: EventsPageQuery): string {
  const where = [`time >= ${ts(q.from)}`, `time < ${ts(q.to)}`];
  if (q.trace) where.push(`trace_id = ${sqlString(q.trace)}`);
  if (q.after) {
    const t = ts(q.after.time);
    const s = sqlString(q.after.source);
    const i = sqlString(q.after.id);
    where.push(`(time < ${t} OR (time = ${t} AND (source < ${s} OR (source = ${s} AND id < ${i}))))`);
  }
  return `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')}
ORDER BY time DESC, source DESC, id DESC LIMIT ${Math.max(1, Math.trunc(q.limit))}`;
}

export function traceSpansSql(traceIds: readonly string[]): string {
  return `SELECT * FROM (${TRACE_NODES})
WHERE span_id IS NOT NULL AND trace_id IN (${traceIds.map(sqlString).join(', ')})`;
}

export function rowToEvent(r: Record<string, unknown>): UsageEvent {
  const e: Record<string, unknown> = {};
  for (const f of EVENT_FIELDS) {
    const v = r[f];
    if (v === null || v === undefined) e[f] = null;
    else if (f === 'time' || columnType(f) === 'BIGINT') e[f] = Number(v);
    else e[f] = String(v);
  }
  return withRichUsage(
    e as unknown as UsageEvent,
    r.cache_write_1h_tokens,
    r.input_audio_tokens,
    r.output_audio_tokens,
    r.units,
  );
}

export function rowToSpan(r: Record<string, unknown>): TraceSpan {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    trace_id: String(r.trace_id),
    span_id: String(r.span_id),
    parent_span_id: s(r.parent_span_id),
    tenant: s(r.tenant),
    api_key: s(r.api_key),
    service: s(r.service),
    agent: s(r.agent),
    project: s(r.project),
  };
}
