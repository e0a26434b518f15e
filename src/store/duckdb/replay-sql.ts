/**
 * Reading single events for `tally replay` and the selector census of
 * `tally posture`. Replay filters on time first: events arrive roughly in
 * time order, so DuckDB's min/max zone maps on `time` skip most row groups.
 */
import { SELECTOR_FIELDS, type Selector } from '../../core/config.js';
import { EVENT_FIELDS } from '../../core/event.js';
import type { EventWindowQuery } from '../store.js';
import { sqlString } from './usage-sql.js';

const ts = (ms: number) => `epoch_ms(${Math.trunc(ms)}::BIGINT)`;

const COLUMNS = EVENT_FIELDS.map((f) => (f === 'time' ? 'epoch_ms(time) AS time' : f)).join(', ');

function selectorSql(s: Selector): string {
  const parts = SELECTOR_FIELDS.flatMap((f) => {
    const v = s[f];
    return v === undefined ? [] : [`${f} = ${sqlString(v)}`];
  });
  return parts.length === 0 ? 'true' : `(${parts.join(' AND ')})`;
}

export function eventsInWindowSql(q: EventWindowQuery): string {
  const where = [`time >= ${ts(q.from)}`, `time < ${ts(q.to)}`];
  if (q.match) where.push(q.match.length === 0 ? 'false' : `(${q.match.map(selectorSql).join(' OR ')})`);
  return `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY time, source, id`;
}

export function traceEventsSql(traceIds: readonly string[]): string {
  return `SELECT ${COLUMNS} FROM events WHERE trace_id IN (${traceIds.map(sqlString).join(', ')})
ORDER BY time, source, id`;
}

export function selectorUsageSql(window: { from: number; to: number }): string {
  return `SELECT api_key, service, agent, project, environment, count(*) AS events,
       epoch_ms(min(time)) AS first, epoch_ms(max(time)) AS last
FROM events WHERE time >= ${ts(window.from)} AND time < ${ts(window.to)}
GROUP BY ALL ORDER BY ALL`;
}
