/**
 * The events of a window, optionally only those a set of selectors matches,
 * with the other events of their traces near the window (replay). Written
 * once for both engines; a `WindowDialect` says how each spells the parts
 * that differ. The matching rule itself is core's (`selectorComparisons`):
 * this only translates it.
 */
import type { Selector } from '../core/config.js';
import { type FieldComparison, selectorComparisons } from '../core/selectors.js';
import { sqlString } from './rows.js';
import type { EventsPageQuery, EventWindowQuery } from './store.js';

export interface WindowDialect {
  /** The event columns as the adapter reads them back. */
  columns: string;
  /** A timestamp literal for epoch milliseconds. */
  ts(ms: number): string;
  /** True when the text column holds a 64-hex key hash. */
  isKeyHash(field: string): string;
  /** A UNION branch that carries its own LIMIT (PostgreSQL wants it in parentheses). */
  limitedBranch(sql: string): string;
  /** The query of every span id with its trace (events and trace links), for the drill-down's trace filter. */
  traceNodes: string;
}

/** One comparison in SQL: equal, or a 64-hex key hash that starts with the prefix. */
function comparisonSql(d: WindowDialect, c: FieldComparison): string {
  const equal = `${c.field} = ${sqlString(c.value)}`;
  if (c.op === 'equals') return equal;
  return `(${equal} OR (starts_with(${c.field}, ${sqlString(c.value)}) AND ${d.isKeyHash(c.field)}))`;
}

export function selectorSql(d: WindowDialect, s: Selector): string {
  const parts = selectorComparisons(s).map((c) => comparisonSql(d, c));
  return parts.length === 0 ? 'true' : `(${parts.join(' AND ')})`;
}

/** Events that some of the selectors match; none match an empty list. */
export function matchSql(d: WindowDialect, match: readonly Selector[]): string {
  return match.length === 0 ? 'false' : `(${match.map((s) => selectorSql(d, s)).join(' OR ')})`;
}

export function eventsInWindowSql(d: WindowDialect, q: EventWindowQuery): string {
  const where = [`time >= ${d.ts(q.from)}`, `time < ${d.ts(q.to)}`];
  if (q.match) where.push(matchSql(d, q.match));
  const limit = q.limit === undefined ? '' : ` LIMIT ${Math.trunc(q.limit)}`;
  const selected = `SELECT ${d.columns} FROM events WHERE ${where.join(' AND ')}`;
  if (q.traceMargin === undefined) return selected + limit;
  const nearby = `SELECT ${d.columns} FROM events
WHERE time >= ${d.ts(q.from - q.traceMargin)} AND time < ${d.ts(q.to + q.traceMargin)}
  AND trace_id IN (SELECT DISTINCT trace_id FROM sel WHERE trace_id IS NOT NULL)${limit}`;
  return `WITH sel AS (${selected}${limit})
SELECT * FROM sel
UNION ALL
${limit === '' ? nearby : d.limitedBranch(nearby)}`;
}

/** The drill-down's filters that SQL can apply (EventsPageQuery); the rest is attribution's. */
export function pageFiltersSql(d: WindowDialect, q: EventsPageQuery): string[] {
  const out: string[] = [];
  if (q.match) {
    const own = matchSql(d, q.match.own);
    const invoked = `trace_id IN (SELECT trace_id FROM (${d.traceNodes}) n WHERE trace_id IS NOT NULL AND ${own})`;
    out.push(
      q.match.shared.length === 0 ? own : `(${own} OR (${matchSql(d, q.match.shared)} AND ${invoked}))`,
    );
  }
  if (q.tenant !== undefined)
    out.push(`(tenant = ${sqlString(q.tenant)} OR (tenant IS NULL AND trace_id IS NOT NULL))`);
  if (q.provider !== undefined) out.push(`provider IS NOT DISTINCT FROM ${sqlString(q.provider)}`);
  if (q.model !== undefined) out.push(`model IS NOT DISTINCT FROM ${sqlString(q.model)}`);
  return out;
}
