/**
 * The events of a window, optionally only those a set of selectors matches,
 * with the other events of their traces near the window (replay). Written
 * once for both engines; a `WindowDialect` says how each spells the parts
 * that differ. The matching rule itself is core's (`selectorComparisons`):
 * this only translates it.
 */
import { TOKEN_COLUMNS } from '../core/ai-work.js';
import type { Selector } from '../core/config.js';
import { type FieldComparison, MIN_KEY_PREFIX_DIGITS, selectorComparisons } from '../core/selectors.js';
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
  /** True when the text column holds one of the values (none: an empty list). */
  oneOf(field: string, values: readonly string[]): string;
  /**
   * A cheap test that every value starting with `prefix` passes (a range of
   * the column), or null: put before a selector test that only such values
   * pass, so that the engine can drop most rows before testing them.
   */
  prefixRange?(field: string, prefix: string): string | null;
  /**
   * `SELECT columns FROM events WHERE trace_id is one of traceIds AND more`,
   * or the same rows read another way (DuckDB reads a long list's by row id).
   */
  traceRows?(columns: string, traceIds: readonly string[], more: string): string;
}

/** The live events of some traces that `more` (a condition, or '') also selects. */
function traceRows(d: WindowDialect, columns: string, traceIds: readonly string[], more: string): string {
  return (
    d.traceRows?.(columns, traceIds, more) ??
    `SELECT ${columns} FROM events WHERE ${d.oneOf('trace_id', traceIds)}${more ? ` AND ${more}` : ''}`
  );
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

/**
 * Events that some of the selectors match; none match an empty list.
 * Selectors of a key hash alone (most of a registry) are tested together:
 * whole values by one `IN` list, prefixes first by their first 16 digits in
 * another (a hash lookup) and only then one by one, so a registry's many
 * selectors cost about one comparison per event, not one each.
 */
export function matchSql(d: WindowDialect, match: readonly Selector[]): string {
  if (match.length === 0) return 'false';
  const keys: FieldComparison[] = [];
  const others: string[] = [];
  for (const s of match) {
    const cs = selectorComparisons(s);
    const [only] = cs;
    if (cs.length === 1 && only?.field === 'api_key') keys.push(only);
    else others.push(cs.length === 0 ? 'true' : `(${cs.map((c) => comparisonSql(d, c)).join(' AND ')})`);
  }
  const test = `(${[...keyHashesSql(d, keys), ...others].join(' OR ')})`;
  // One key (an identity's usual selector): every event it matches has an api_key starting with it.
  const values = new Set(keys.map((k) => k.value));
  const [only] = values;
  const range =
    others.length === 0 && values.size === 1 && only !== undefined ? d.prefixRange?.('api_key', only) : null;
  return range ? `(${range} AND ${test})` : test;
}

/** The api_key comparisons of `matchSql`, grouped: equal to any value, or a key hash with any prefix. */
function keyHashesSql(d: WindowDialect, keys: readonly FieldComparison[]): string[] {
  if (keys.length === 0) return [];
  const list = (values: Iterable<string>) => [...new Set(values)].map(sqlString).join(', ');
  const out = [`api_key IN (${list(keys.map((k) => k.value))})`];
  const prefixes = keys.filter((k) => k.op === 'key_prefix').map((k) => k.value);
  if (prefixes.length > 0) {
    const heads = list(prefixes.map((p) => p.slice(0, MIN_KEY_PREFIX_DIGITS)));
    const each = [...new Set(prefixes)].map((p) => `starts_with(api_key, ${sqlString(p)})`).join(' OR ');
    out.push(
      `(length(api_key) = 64 AND substr(api_key, 1, ${MIN_KEY_PREFIX_DIGITS}) IN (${heads}) AND (${each}) AND ${d.isKeyHash('api_key')})`,
    );
  }
  return out;
}

export function eventsInWindowSql(d: WindowDialect, q: EventWindowQuery): string {
  const selected = selectedInWindowSql(d, q);
  if (q.traceMargin === undefined) return selected;
  const nearby = nearbySql(
    d,
    q,
    'trace_id IN (SELECT DISTINCT trace_id FROM sel WHERE trace_id IS NOT NULL)',
  );
  return `WITH sel AS (${selected})
SELECT * FROM sel
UNION ALL
${q.limit === undefined ? nearby : d.limitedBranch(nearby)}`;
}

/** The first part of `eventsInWindowSql`: the events of the window that the selectors match. */
export function selectedInWindowSql(d: WindowDialect, q: EventWindowQuery): string {
  const where = [`time >= ${d.ts(q.from)}`, `time < ${d.ts(q.to)}`];
  if (q.match) where.push(matchSql(d, q.match));
  return `SELECT ${d.columns} FROM events WHERE ${where.join(' AND ')}${limitSql(q)}`;
}

/**
 * The second part: the events near the window (`traceMargin`) in the traces
 * of the first part's, given by their ids (an adapter that reads the first
 * part on its own) or by a condition on `trace_id`.
 */
export function nearbySql(d: WindowDialect, q: EventWindowQuery, traces: readonly string[] | string): string {
  const margin = q.traceMargin ?? 0;
  const inTraces = typeof traces === 'string' ? traces : d.oneOf('trace_id', traces);
  return `SELECT ${d.columns} FROM events
WHERE time >= ${d.ts(q.from - margin)} AND time < ${d.ts(q.to + margin)}
  AND ${inTraces}${limitSql(q)}`;
}

const limitSql = (q: EventWindowQuery) => (q.limit === undefined ? '' : ` LIMIT ${Math.trunc(q.limit)}`);

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
  if (q.tenant !== undefined) {
    // A span without a claim inherits one from an ancestor, so only from a trace where some span has it.
    const t = sqlString(q.tenant);
    const claimed = `SELECT trace_id FROM (${d.traceNodes}) n WHERE tenant = ${t} AND trace_id IS NOT NULL`;
    out.push(`(tenant = ${t} OR (tenant IS NULL AND trace_id IN (${claimed})))`);
  }
  if (q.provider !== undefined) out.push(`provider IS NOT DISTINCT FROM ${sqlString(q.provider)}`);
  if (q.model !== undefined) out.push(`model IS NOT DISTINCT FROM ${sqlString(q.model)}`);
  return out;
}

/** What the trace walk reads of a span (core/trace-walk.ts SpanLike), in both the events and the links; `usage`: whether it carries tokens (core/ai-work.ts). */
const NODE_COLUMNS = 'trace_id, span_id, parent_span_id, tenant, api_key, service, agent, project';

/**
 * The spans of some traces, events and trace links (SPEC §3.2). `near`
 * limits the events to a time range, so that zone maps on `time` skip most
 * of a month; the trace links carry no time and are always read whole.
 */
export function traceSpansSql(
  d: WindowDialect,
  traceIds: readonly string[],
  near?: { from: number; to: number },
): string {
  const when = near ? ` AND time >= ${d.ts(near.from)} AND time < ${d.ts(near.to)}` : '';
  const usage = `(${TOKEN_COLUMNS.map((c) => `${c} > 0`).join(' OR ')})`;
  return `${traceRows(d, `${NODE_COLUMNS}, ${usage} AS usage`, traceIds, `span_id IS NOT NULL${when}`)}
UNION ALL SELECT ${NODE_COLUMNS}, false AS usage FROM spans WHERE span_id IS NOT NULL AND ${d.oneOf('trace_id', traceIds)}`;
}

/** Every live event of some traces (`columns`: the adapter's event columns). */
export function traceEventsSql(d: WindowDialect, traceIds: readonly string[]): string {
  return traceRows(d, d.columns, traceIds, '');
}
