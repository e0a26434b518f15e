/**
 * Reading events back for the server's drill-down and trace walks; the
 * rest of the store reads usage groups, never single events.
 */
import { ALL_EVENT_FIELDS } from '../../core/event.js';
import { sqlString } from '../rows.js';
import type { EventsPageQuery } from '../store.js';
import { pageFiltersSql } from '../window-sql.js';
import { DUCKDB_WINDOW } from './replay-sql.js';

const ts = (ms: number) => `epoch_ms(${Math.trunc(ms)}::BIGINT)`;

const COLUMNS = ALL_EVENT_FIELDS.map((f) => (f === 'time' ? 'epoch_ms(time) AS time' : f)).join(', ');

const pageFilters = (q: EventsPageQuery): string[] => pageFiltersSql(DUCKDB_WINDOW, q);

export function eventsPageSql(q: EventsPageQuery): string {
  const where = [`time >= ${ts(q.from)}`, `time < ${ts(q.to)}`];
  if (q.trace) where.push(`trace_id = ${sqlString(q.trace)}`);
  if (q.after) {
    const t = ts(q.after.time);
    const s = sqlString(q.after.source);
    const i = sqlString(q.after.id);
    where.push(`(time < ${t} OR (time = ${t} AND (source < ${s} OR (source = ${s} AND id < ${i}))))`);
  }
  where.push(...pageFilters(q));
  // The page's keys first, then its rows: a top-N over every column of a month reads all of them.
  return `WITH k AS (
  SELECT time, source, id FROM events WHERE ${where.join(' AND ')}
  ORDER BY time DESC, source DESC, id DESC LIMIT ${Math.max(1, Math.trunc(q.limit))})
SELECT ${COLUMNS} FROM events e SEMI JOIN k ON e.time = k.time AND e.source = k.source AND e.id = k.id
ORDER BY e.time DESC, e.source DESC, e.id DESC`;
}

export function eventsByIdSql(id: string, source: string | null, limit: number): string {
  const where = [`id = ${sqlString(id)}`];
  if (source !== null) where.push(`source = ${sqlString(source)}`);
  return `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY source LIMIT ${Math.trunc(limit)}`;
}
