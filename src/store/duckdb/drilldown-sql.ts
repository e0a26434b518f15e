/**
 * Reading events back for the server's drill-down and trace walks; the
 * rest of the store reads usage groups, never single events.
 */
import { ALL_EVENT_FIELDS } from '../../core/event.js';
import { sqlString } from '../rows.js';
import type { EventsPageQuery } from '../store.js';
import { matchSql, pageFiltersSql } from '../window-sql.js';
import { DUCKDB_WINDOW } from './replay-sql.js';
import { SUPERSEDED_ROWS } from './schema.js';
import { ts } from './usage-sql.js';

const COLUMNS = ALL_EVENT_FIELDS.map((f) => (f === 'time' ? 'epoch_ms(time) AS time' : f)).join(', ');

const ORDER = 'ORDER BY time DESC, source DESC, id DESC';

/** The page's window, trace and cursor. */
function keyFilters(q: EventsPageQuery): string[] {
  const where = [`time >= ${ts(q.from)}`, `time < ${ts(q.to)}`];
  if (q.trace) where.push(`trace_id = ${sqlString(q.trace)}`);
  if (q.after) {
    const t = ts(q.after.time);
    const s = sqlString(q.after.source);
    const i = sqlString(q.after.id);
    where.push(`(time < ${t} OR (time = ${t} AND (source < ${s} OR (source = ${s} AND id < ${i}))))`);
  }
  return where;
}

const limitOf = (q: EventsPageQuery) => Math.max(1, Math.trunc(q.limit));

export function eventsPageSql(q: EventsPageQuery): string {
  const where = [...keyFilters(q), ...pageFiltersSql(DUCKDB_WINDOW, q)];
  // The page's keys first, then its rows: a top-N over every column of a month reads all of them.
  return `WITH k AS (
  SELECT time, source, id FROM events WHERE ${where.join(' AND ')}
  ${ORDER} LIMIT ${limitOf(q)})
SELECT ${COLUMNS} FROM events e SEMI JOIN k ON e.time = k.time AND e.source = k.source AND e.id = k.id
ORDER BY e.time DESC, e.source DESC, e.id DESC`;
}

/** The temporary tables of `tenantPageSql`, dropped after the page. */
export const TENANT_PAGE_TABLES = [
  'tally_page_replaced',
  'tally_page_claimed',
  'tally_page_rows',
  'tally_page_owned',
] as const;

/** The statements of a tenant page, run in this order by the store. */
export interface TenantPageSql {
  /** Fill the replaced versions' row ids and the traces where a live span claims the tenant. */
  claims: string[];
  /** One row: `traced`, whether any trace claims the tenant. */
  traced: string;
  /** Fill the rows the page is chosen from and the traces with an own span, given `traced`'s answer. */
  rows(traced: boolean): string[];
  /** The page's events. */
  page: string;
}

/**
 * A page with a tenant filter: the same events as `eventsPageSql` (the
 * tenant claimed, or inherited in a trace where some span claims it; the
 * selectors `match` asks for, or shared work in a trace with one of them),
 * found in steps that each read few columns of the log, since each column a
 * month-wide scan touches costs a read of it all: the traces some live span
 * claims the tenant in, then in one scan the live rows claiming the tenant
 * or in those traces (so the selector columns are read once; only the
 * claiming rows when no trace claims it), the traces with a span of `own`
 * selectors among those, then the page's rows by row id. Each step is its
 * own statement, so that DuckDB does not test selectors over the month
 * before the tenant and trace filters narrow it.
 */
export function tenantPageSql(q: EventsPageQuery & { tenant: string }): TenantPageSql {
  const t = sqlString(q.tenant);
  const own = q.match ? `coalesce(${matchSql(DUCKDB_WINDOW, q.match.own)}, false)` : 'true';
  const [replaced, claimed, rows, owned] = TENANT_PAGE_TABLES;
  const live = `rowid NOT IN (SELECT r FROM ${replaced})`;
  const claims = [
    `CREATE OR REPLACE TEMP TABLE ${replaced} AS ${SUPERSEDED_ROWS}`,
    `CREATE OR REPLACE TEMP TABLE ${claimed} AS
SELECT trace_id FROM event_log WHERE tenant = ${t} AND trace_id IS NOT NULL AND ${live}
UNION SELECT trace_id FROM spans WHERE tenant = ${t} AND trace_id IS NOT NULL`,
  ];
  // Without a claimed trace the scan's filter is the tenant alone, which DuckDB applies while reading.
  const inTraces = (traced: boolean) =>
    traced ? `(tenant = ${t} OR trace_id IN (SELECT trace_id FROM ${claimed}))` : `tenant = ${t}`;
  return {
    claims,
    traced: `SELECT EXISTS (SELECT 1 FROM ${claimed}) AS traced`,
    rows: (traced) => [
      `CREATE OR REPLACE TEMP TABLE ${rows} AS
SELECT rowid AS r, tenant, trace_id, ${own} AS own FROM event_log WHERE ${inTraces(traced)} AND ${live}`,
      `CREATE OR REPLACE TEMP TABLE ${owned} AS
SELECT trace_id FROM ${rows} WHERE own AND trace_id IS NOT NULL
UNION SELECT trace_id FROM spans WHERE trace_id IN (SELECT trace_id FROM ${claimed}) AND ${own}`,
    ],
    page: tenantRowsPageSql(q, t),
  };
}

/** The page of a tenant page's rows: own rows, and shared work in a trace with an own span. */
function tenantRowsPageSql(q: EventsPageQuery, t: string): string {
  const shared = q.match ? matchSql(DUCKDB_WINDOW, q.match.shared) : 'false';
  const [, , rows, owned] = TENANT_PAGE_TABLES;
  // Rows that claim none inherit the tenant in their trace (every such row here is in a claimed one).
  const mine = `(tenant = ${t} OR tenant IS NULL)`;
  const invokedRows = `SELECT r FROM ${rows} WHERE ${mine} AND NOT own AND trace_id IN (SELECT trace_id FROM ${owned})`;
  const where = [
    ...keyFilters(q),
    ...pageFiltersSql(DUCKDB_WINDOW, { ...q, match: undefined, tenant: undefined }),
  ];
  return `WITH cand AS (
  SELECT r FROM ${rows} WHERE ${mine} AND own
  UNION ALL SELECT rowid FROM event_log WHERE rowid IN (${invokedRows}) AND ${shared}),
k AS (SELECT rowid AS r FROM event_log WHERE rowid IN (SELECT r FROM cand) AND ${where.join(' AND ')}
  ${ORDER} LIMIT ${limitOf(q)})
SELECT ${COLUMNS} FROM event_log WHERE rowid IN (SELECT r FROM k) ${ORDER}`;
}

export function eventsByIdSql(id: string, source: string | null, limit: number): string {
  const where = [`id = ${sqlString(id)}`];
  if (source !== null) where.push(`source = ${sqlString(source)}`);
  return `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY source LIMIT ${Math.trunc(limit)}`;
}
