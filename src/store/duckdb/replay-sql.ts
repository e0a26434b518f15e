/**
 * Reading single events for `tally replay` and the selector census of
 * `tally posture`. Replay filters on time first: events arrive roughly in
 * time order, so DuckDB's min/max zone maps on `time` skip most row groups,
 * and the spans completing the traces are looked for near the window, not
 * in the whole table. Events are read column by column: building row
 * objects value by value costs more than the query itself.
 */
import type { DuckDBResultReader } from '@duckdb/node-api';
import type { Selector } from '../../core/config.js';
import { ALL_EVENT_FIELDS, type UsageEvent } from '../../core/event.js';
import { sqlString, withRichUsage } from '../rows.js';
import type { EventWindowQuery } from '../store.js';
import {
  selectedInWindowSql,
  type WindowDialect,
  matchSql as windowMatchSql,
  nearbySql as windowNearbySql,
  traceEventsSql as windowTraceEventsSql,
} from '../window-sql.js';
import { columnType, liveRowSql } from './schema.js';
import { TRACE_NODES, ts } from './usage-sql.js';

/** Counts and times as DOUBLE: exact below 2^53, and read back as numbers rather than bigints. */
const COLUMNS = ALL_EVENT_FIELDS.map((f) =>
  f === 'time' ? 'epoch_ms(time)::DOUBLE AS time' : columnType(f) === 'BIGINT' ? `${f}::DOUBLE AS ${f}` : f,
).join(', ');

/** How DuckDB spells the parts of the window query that differ between engines. */
export const DUCKDB_WINDOW: WindowDialect = {
  columns: COLUMNS,
  ts,
  isKeyHash: (field) => `regexp_full_match(${field}, '[0-9a-f]{64}')`,
  limitedBranch: (sql) => sql,
  traceNodes: TRACE_NODES,
  oneOf: traceIdsSql,
  prefixRange,
  traceRows,
};

/**
 * The values that start with `prefix`, as a range DuckDB tests inside the
 * scan with plain comparisons (its texts compare byte by byte, so the range
 * ends at the prefix with its last character raised by one); only for an
 * ASCII last character. A key's test before it (an `OR` of an equality and
 * a hash prefix) is an expression evaluated on every row: the identity's
 * copy for its signals ~400 → ~350 ms of CPU cold on the 10M month.
 */
function prefixRange(field: string, prefix: string): string | null {
  const last = prefix.charCodeAt(prefix.length - 1);
  if (!(last >= 32 && last < 126)) return null;
  const end = prefix.slice(0, -1) + String.fromCharCode(last + 1);
  return `${field} >= ${sqlString(prefix)} AND ${field} < ${sqlString(end)}`;
}

/** Up to this many values, `traceIdsSql` tests them inside the scan. */
const IN_SCAN_VALUES = 32;

/**
 * `field IN (…)`, for a few values as DuckDB tests it inside the scan: an
 * `IN` list stays a filter above the scan (its bounds only skip row groups),
 * so every column read is read for every row of the range, while
 * `list_contains` is tested first and the other columns are read only for
 * the rows it keeps (a whole trace of the 10M-event month: ~1.2 s of CPU
 * against ~0.14 s). It compares each value in turn, so a long list (the
 * busiest identity's 175 traces) is left to the `IN` list's hash lookup
 * (`traceRows` reads such a list's rows by row id).
 */
function traceIdsSql(field: string, values: readonly string[]): string {
  const list = values.map(sqlString).join(', ');
  return values.length <= IN_SCAN_VALUES
    ? `list_contains([${list}]::VARCHAR[], ${field})`
    : `${field} IN (${list})`;
}

/**
 * The live events of some traces that `more` also selects. A long list
 * (`IN`, tested above the scan) is read in two steps within one statement:
 * the row ids of its rows by a scan of the few columns the test reads, then
 * the columns asked for of those rows alone (DuckDB filters the log's scan
 * by the ids inside it), so that the scan no longer reads every column of
 * every row in range. On the 10M month, the busiest identity-day's 175
 * traces: their spans within a day of its events ~65 → ~50 ms of CPU, the
 * traces whole ~1,000 → ~150 ms. (The events near the window, read with
 * every column, gained nothing: `nearbySql` keeps the list.) The log is
 * read by row id as the drill-down's tenant page does, with the view's
 * rule for live rows, in the order of the log.
 */
function traceRows(columns: string, traceIds: readonly string[], more: string): string {
  const where = `${traceIdsSql('trace_id', traceIds)}${more ? ` AND ${more}` : ''}`;
  if (traceIds.length <= IN_SCAN_VALUES) return `SELECT ${columns} FROM events WHERE ${where}`;
  return `(SELECT ${columns} FROM event_log l
WHERE l.rowid IN (SELECT rowid FROM event_log WHERE ${where}) AND ${liveRowSql('l')}
ORDER BY l.rowid)`;
}

/**
 * The window query in two statements: the selected events, then the events
 * near the window in their traces, found by id inside the scan
 * (`traceIdsSql`); in one statement the traces were a join's, tested above
 * a scan that read every column of the margin's rows, and the selection was
 * read twice.
 */
export const selectedSql = (q: EventWindowQuery): string => selectedInWindowSql(DUCKDB_WINDOW, q);
export const nearbySql = (q: EventWindowQuery, traceIds: readonly string[]): string =>
  windowNearbySql(DUCKDB_WINDOW, q, traceIds);

/** Events that some of the selectors match; none match an empty list. */
export const matchSql = (match: readonly Selector[]): string => windowMatchSql(DUCKDB_WINDOW, match);

export const traceEventsSql = (traceIds: readonly string[]): string =>
  windowTraceEventsSql(DUCKDB_WINDOW, traceIds);

export function selectorUsageSql(window: { from: number; to: number }): string {
  return `SELECT api_key, service, agent, project, environment, count(*) AS events,
       epoch_ms(min(time)) AS first, epoch_ms(max(time)) AS last
FROM events WHERE time >= ${ts(window.from)} AND time < ${ts(window.to)}
GROUP BY ALL ORDER BY ALL`;
}

/** The rows of a query over COLUMNS as events, each built as one literal so that all share one shape. */
export function eventsOf(result: DuckDBResultReader): UsageEvent[] {
  const columns = result.getColumnsJS() as unknown[][];
  const col = (f: (typeof ALL_EVENT_FIELDS)[number]) => columns[ALL_EVENT_FIELDS.indexOf(f)] ?? [];
  const [id, source, time, provider, model, operation] = [
    col('id'),
    col('source'),
    col('time'),
    col('provider'),
    col('model'),
    col('operation'),
  ];
  const [input, output, cacheRead, cacheWrite, reasoning, requests] = [
    col('input_tokens'),
    col('output_tokens'),
    col('cache_read_tokens'),
    col('cache_write_tokens'),
    col('reasoning_tokens'),
    col('requests'),
  ];
  const [tool, dataSource, apiKey, service, agent, project, tenant, environment] = [
    col('tool'),
    col('data_source'),
    col('api_key'),
    col('service'),
    col('agent'),
    col('project'),
    col('tenant'),
    col('environment'),
  ];
  const [traceId, spanId, parentSpanId, status, errorType, clientAddress, reportedCost] = [
    col('trace_id'),
    col('span_id'),
    col('parent_span_id'),
    col('status'),
    col('error_type'),
    col('client_address'),
    col('reported_cost'),
  ];
  const rich = [
    col('cache_write_1h_tokens'),
    col('input_audio_tokens'),
    col('output_audio_tokens'),
    col('units'),
  ];
  const adjusted = col('adjusted_count');
  const n = id.length;
  const events = new Array<UsageEvent>(n);
  for (let i = 0; i < n; i++) {
    events[i] = {
      id: id[i] as string,
      source: source[i] as string,
      time: time[i] as number,
      provider: provider[i] as string | null,
      model: model[i] as string | null,
      operation: operation[i] as string,
      input_tokens: input[i] as number,
      output_tokens: output[i] as number,
      cache_read_tokens: cacheRead[i] as number,
      cache_write_tokens: cacheWrite[i] as number,
      reasoning_tokens: reasoning[i] as number,
      requests: requests[i] as number,
      tool: tool[i] as string | null,
      data_source: dataSource[i] as string | null,
      api_key: apiKey[i] as string | null,
      service: service[i] as string | null,
      agent: agent[i] as string | null,
      project: project[i] as string | null,
      tenant: tenant[i] as string | null,
      environment: environment[i] as string | null,
      trace_id: traceId[i] as string | null,
      span_id: spanId[i] as string | null,
      parent_span_id: parentSpanId[i] as string | null,
      status: status[i] as UsageEvent['status'],
      error_type: errorType[i] as string | null,
      client_address: clientAddress[i] as string | null,
      reported_cost: reportedCost[i] as string | null,
    };
    withRichUsage(events[i] as UsageEvent, rich[0]?.[i], rich[1]?.[i], rich[2]?.[i], rich[3]?.[i]);
    if (typeof adjusted[i] === 'string') (events[i] as UsageEvent).adjusted_count = adjusted[i] as string;
  }
  return events;
}
