/**
 * The usage-group query (see src/core/usage.ts). It sums the events of a
 * window into groups that attribution cannot tell apart, after resolving the
 * two things that need the trace tree (SPEC §4.3, §4.4): the invoker of a
 * shared identity's span (the nearest ancestor whose selectors belong to a
 * paying identity) and the tenant claim a span inherits from its nearest
 * ancestor with one. Ancestors are looked up among all stored spans, whatever
 * batch or order they arrived in, so the answer never depends on arrival order.
 *
 * It runs in stages over temporary tables, so each step is computed once:
 *  1. `tally_tuples`: the selector tuples that are shared or can pay (from core);
 *  2. `tally_needs`: spans of the window that need their ancestors (spans with
 *     a trace id and a parent, as in core/trace-walk.ts);
 *  3. `tally_spans`: the stored spans of those traces that are some span's
 *     parent (the events' and the trace links', SPEC §3.2), the only ones the
 *     walk looks up;
 *  4. `tally_resolved`: the walk up the tree, one row per span in need and
 *     parent it names (a span stored twice may name two); the
 *     walk carries the paying ancestor's node, its selectors are looked up once
 *     at the end;
 *  4b. `tally_wnodes`, `tally_wrappers`: the wrappers (core/ai-work.ts), see
 *     `wrapperSetupSql`;
 *  5. the grouping of the window's events. Events with units (rare) are
 *     grouped by their units too, so a group's units are its events' units
 *     times its event count.
 */
import { TOKEN_COLUMNS } from '../../core/ai-work.js';
import { AGGREGATE_OPERATIONS, RICH_COUNT_FIELDS } from '../../core/event.js';
import { tupleOrder } from '../../core/trace-walk.js';
import type { SelectorTuple, UsageQuery, VaryingPairs } from '../../core/usage.js';
import { sampleColumns, sqlString } from '../rows.js';
import { CONTEXT_FIELDS, type ContextCensus } from './context-census.js';
import { hashKeyMatchSql, hashKeySql } from './hash-key.js';
import { TUPLE_FIELDS, type TupleCensus } from './tuple-census.js';

/** Whether an event row carries tokens (core/ai-work.ts `carriesTokens`). */
export const CARRIES_TOKENS = `(${TOKEN_COLUMNS.map((c) => `${c} > 0`).join(' OR ')})`;

/**
 * Every stored span with what the walks read: the events' spans and the
 * trace links, and whether the span carries tokens (`usage`: the wrappers).
 */
export const TRACE_NODES = `SELECT trace_id, span_id, parent_span_id, tenant, api_key, service, agent, project,
    ${CARRIES_TOKENS} AS usage FROM events
  UNION ALL SELECT trace_id, span_id, parent_span_id, tenant, api_key, service, agent, project, false FROM spans`;

/** A time in epoch milliseconds as a DuckDB timestamp. */
export const ts = (ms: number) => `epoch_ms(${Math.trunc(ms)}::BIGINT)`;

/** Which of the stretches between `cuts` a value falls in; `op` says on which side a cut itself lies. */
function bandCase(column: string, cuts: readonly string[], op: '<' | '<='): string {
  if (cuts.length === 0) return '0';
  const whens = cuts.map((c, i) => `WHEN ${column} ${op} ${c} THEN ${i}`).join(' ');
  return `CASE ${whens} ELSE ${cuts.length} END`;
}

/** A band that only splits the events of the listed (provider, model) pairs; the rest stay in band 0. */
function pairBand(
  pairs: ReadonlyArray<{ provider: string | null; model: string | null }>,
  band: string,
): string {
  if (pairs.length === 0 || band === '0') return '0';
  const list = pairs.map((p) => `(${sqlString(p.provider)}, ${sqlString(p.model)})`).join(', ');
  return `CASE WHEN (w.provider, w.model) IN (${list}) THEN ${band} ELSE 0 END`;
}

/**
 * A span's key for walking the tree: a 128-bit hash of its trace and span
 * ids. Joining on one integer instead of two strings makes each step of the
 * walk several times faster; a collision among a month's spans is about as
 * likely as a meteorite hitting the machine.
 */
const NODE = (span: string, trace = 'e.trace_id') =>
  `(hash(${trace}, ${span})::UHUGEINT << 64) + hash(${span}, ${trace})`;

/**
 * Which of a span's parents a record names, beside its node: a 64-bit hash of
 * the parent id tells apart the few records of one span (two records whose
 * parents share a hash would share their walk's answer).
 */
const UP = (parent: string) => `hash(${parent})`;

/**
 * The wrappers (core/ai-work.ts) among the events of `window`, in two
 * temporary tables: `tally_wnodes`, every stored span (events' and trace
 * links') of the traces where a token-carrying event of the window has
 * another token-carrying event beside it, whatever its time; then
 * `tally_wrappers`, the spans that a token-carrying span reaches first when
 * walking up (through spans that carry none). A trace with a single
 * token-carrying event has no wrapper, so most traces are never walked.
 * Only wrappers whose operation is not already an aggregate are kept
 * (`plain`): the others are priced as aggregates anyway, and leaving them
 * out keeps the table empty for most months, and their groups whole.
 * `scoped` names a table of the only events read (one identity's, for its
 * signals): then only the traces of its token-carrying events are walked.
 */
export function wrapperSetupSql(window: string, scoped?: string): string[] {
  // A span stored more than once: its smallest named parent (core/trace-walk.ts).
  const parent = `CASE WHEN min(e.parent_span_id) IS NULL THEN NULL
    ELSE ${NODE('min(e.parent_span_id)', 'any_value(e.trace_id)')} END`;
  const carriers = `trace_id IS NOT NULL AND span_id IS NOT NULL AND ${CARRIES_TOKENS}`;
  const traces = scoped
    ? `SELECT hash(trace_id) AS th FROM events
       WHERE ${carriers} AND hash(trace_id) IN (
         SELECT hash(trace_id) FROM ${scoped} WHERE ${carriers} AND (${window}))
       GROUP BY th HAVING count(*) >= 2`
    : `SELECT hash(trace_id) AS th FROM events
       WHERE ${carriers}
       GROUP BY th HAVING count(*) >= 2 AND bool_or(${window})`;
  return [
    `CREATE OR REPLACE TEMP TABLE tally_wnodes AS
     WITH t AS (${traces})
     SELECT ${NODE('e.span_id')} AS node, ${parent} AS next_node, bool_or(e.tok) AS tok,
            bool_or(e.tok AND e.plain) AS plain
     FROM (SELECT trace_id, span_id, parent_span_id, ${CARRIES_TOKENS} AS tok,
                  operation NOT IN (${AGGREGATES}) AS plain FROM events
           UNION ALL SELECT trace_id, span_id, parent_span_id, false, false FROM spans) e
     WHERE e.trace_id IS NOT NULL AND e.span_id IS NOT NULL AND hash(e.trace_id) IN (SELECT th FROM t)
     GROUP BY node`,
    `CREATE OR REPLACE TEMP TABLE tally_wrappers AS
     WITH RECURSIVE up AS (
       SELECT next_node AS at, 1 AS depth FROM tally_wnodes WHERE tok AND next_node IS NOT NULL
       UNION ALL
       SELECT s.next_node, u.depth + 1 FROM up u JOIN tally_wnodes s ON s.node = u.at
       WHERE NOT s.tok AND s.next_node IS NOT NULL AND u.depth < 64
     )
     SELECT DISTINCT u.at AS node FROM up u SEMI JOIN tally_wnodes s ON s.node = u.at AND s.plain`,
  ];
}

/**
 * The events that `where` selects (from `events`, or a table of some of
 * them), with a `wrapper` column (`tally_wrappers` prepared by
 * wrapperSetupSql); when there are no wrappers (`any` false), the events as
 * they are, without hashing their ids.
 */
export function eventsWithWrappers(where: string, any: boolean, from = 'events'): string {
  if (!any) return `SELECT *, false AS wrapper FROM ${from} WHERE ${where}`;
  return `SELECT *, false AS wrapper FROM ${from} WHERE (${where}) AND trace_id IS NULL
  UNION ALL
  SELECT e.*, x.node IS NOT NULL AS wrapper
  FROM ${from} e LEFT JOIN tally_wrappers x ON x.node = ${NODE('e.span_id')}
  WHERE (${where}) AND e.trace_id IS NOT NULL`;
}

/** The operations that are aggregates whatever the trace (core/event.ts), as an SQL list. */
const AGGREGATES = [...AGGREGATE_OPERATIONS].map(sqlString).join(', ');

const SAME_TUPLE = (a: string, b: string) =>
  ['api_key', 'service', 'agent', 'project']
    .map((f) => `${a}.${f} IS NOT DISTINCT FROM ${b}.${f}`)
    .join(' AND ');

/**
 * Rows of text values as a table of one column `r`, a list per row, read by
 * DuckDB from one JSON text: thousands of rows as a VALUES list took DuckDB
 * ~300 ms to parse and bind, as one string literal ~30 ms. A boolean is read
 * as its text (`'true'`).
 */
export function jsonRowsSql(rows: readonly (readonly (string | boolean | null)[])[]): string {
  return `SELECT unnest(from_json(${sqlString(JSON.stringify(rows))}, '[["VARCHAR"]]')) AS r`;
}

/** A span of a trace where some span of the window needs its ancestors. */
const NEEDED_TRACE = `e.trace_id IS NOT NULL AND hash(e.trace_id) IN (SELECT DISTINCT hash(trace_id) FROM tally_needs)`;

/**
 * The statements that prepare the temporary tables, in two parts run in
 * order: the walk, from the tuples that are shared or can pay to
 * `tally_resolved` (its text holds everything besides the stored spans that
 * it depends on: walk-memo.ts keys it by that), then the wrappers.
 */
export function usageSetupParts(q: UsageQuery): { walk: string[]; wrappers: string[] } {
  const window = windowOf(q);
  // Payers ranked in core's order: a span stored more than once pays as its first paying copy.
  const payers = [...q.payerTuples].sort(tupleOrder);
  // A payer has its rank; a shared tuple has none.
  const row = (t: SelectorTuple, rank: number | null) => [
    t.api_key,
    t.service,
    t.agent,
    t.project,
    rank === null ? null : String(rank),
  ];
  // In a fixed order, so that the same tuples give the same text (the walk's memo is keyed by it).
  const tuples = [...q.sharedTuples.map((t) => row(t, null)), ...payers.map((t, i) => row(t, i))]
    .map((r) => ({ r, k: JSON.stringify(r) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.r);
  const walk = [
    `CREATE OR REPLACE TEMP TABLE tally_tuples (api_key VARCHAR, service VARCHAR, agent VARCHAR, project VARCHAR,
       shared BOOLEAN, rank INTEGER)`,
    ...(tuples.length > 0
      ? [
          `INSERT INTO tally_tuples SELECT r[1], r[2], r[3], r[4], r[5] IS NULL, r[5]::INTEGER
           FROM (${jsonRowsSql(tuples)})`,
        ]
      : []),
    `CREATE OR REPLACE TEMP TABLE tally_needs AS
     SELECT ${NODE('e.span_id')} AS node, ${NODE('e.parent_span_id')} AS next_node, ${UP('e.parent_span_id')} AS up,
            e.trace_id, coalesce(t.shared, false) AS want_payer
     FROM events e LEFT JOIN tally_tuples t ON ${SAME_TUPLE('e', 't')}
     WHERE e.${window} AND e.trace_id IS NOT NULL AND e.parent_span_id IS NOT NULL AND (coalesce(t.shared, false) OR e.tenant IS NULL)`,
    // Only the spans that are some span's parent: the walk looks spans up by a parent's node alone.
    // A span stored more than once is one node (core/trace-walk.ts): its smallest parent and claim,
    // and, when some copy can pay, the rank of the first paying copy's selectors (`pay_rank`; only
    // payers have a rank).
    `CREATE OR REPLACE TEMP TABLE tally_spans AS
     WITH parents AS (
       SELECT DISTINCT ${NODE('e.parent_span_id')} AS node FROM (${TRACE_NODES}) e
       WHERE e.parent_span_id IS NOT NULL AND ${NEEDED_TRACE})
     SELECT ${NODE('e.span_id')} AS node, ${NODE('min(e.parent_span_id)', 'any_value(e.trace_id)')} AS next_node,
            min(e.tenant) AS tenant, min(t.rank) AS pay_rank
     FROM (${TRACE_NODES}) e LEFT JOIN tally_tuples t ON ${SAME_TUPLE('e', 't')}
     WHERE ${NEEDED_TRACE} AND ${NODE('e.span_id')} IN (SELECT node FROM parents)
     GROUP BY node`,
    // One answer per span and parent it names (`up`): a span stored twice with two parents walks
    // from each, as each event does in core/trace-walk.ts. The tenant found is the one inherited
    // (an event's own claim wins over it when the groups are read), so that the copies of a span
    // with the same parent find the same; the payer, wanted by a shared copy, is its walk's.
    `CREATE OR REPLACE TEMP TABLE tally_resolved AS
     WITH RECURSIVE walk AS (
       SELECT n.node, n.up, n.next_node, 1 AS depth, n.want_payer, NULL::UHUGEINT AS payer,
              NULL::VARCHAR AS tenant_found
       FROM tally_needs n
       UNION ALL
       SELECT w.node, w.up, s.next_node, w.depth + 1, w.want_payer,
              CASE WHEN w.payer IS NULL AND w.want_payer AND s.pay_rank IS NOT NULL THEN s.node ELSE w.payer END,
              coalesce(w.tenant_found, s.tenant)
       FROM walk w JOIN tally_spans s ON s.node = w.next_node
       WHERE w.depth < 64 AND ((w.want_payer AND w.payer IS NULL) OR w.tenant_found IS NULL)
     ),
     found AS (
       SELECT node, up, arg_max(payer, depth) AS payer, arg_max(tenant_found, depth) AS tenant_found
       FROM walk GROUP BY node, up
     )
     SELECT f.node, f.up, f.payer IS NOT NULL AS payer_found,
            t.api_key AS p_api_key, t.service AS p_service, t.agent AS p_agent, t.project AS p_project,
            f.tenant_found
     FROM found f LEFT JOIN tally_spans p ON p.node = f.payer LEFT JOIN tally_tuples t ON t.rank = p.pay_rank`,
  ];
  return { walk, wrappers: wrapperSetupSql(window) };
}

/**
 * The SELECT that returns one row per usage group; column names match
 * UsageGroup. `rollup` is `invoker` where a paying ancestor was found and
 * `self` otherwise: whether the span's own identity is shared, and so
 * whether `self` means `no_invoker`, is core's to say. The events' contexts
 * are grouped by their hash and joined back to their values from the
 * window's context census (`tally_ctx`, context-census.ts), which lists each
 * context once: every group finds exactly one.
 */
export function usageGroupsSql(
  q: UsageQuery,
  census: TupleCensus,
  context: ContextCensus,
  varying: VaryingPairs,
  owners: readonly SelectorTuple[] | null = null,
): string {
  const tiers = [...new Set(q.tierThresholds ?? [])].sort((a, b) => a - b);
  const clock = [...new Set(q.timeOfDayCuts ?? [])].filter((c) => c > 0 && c < 86_400).sort((a, b) => a - b);
  // An event without a request count (a usage-report bucket) is at the base tier (core/usage.ts tierUnitsOf).
  const tier = bandCase(
    'CASE WHEN w.requests > 0 THEN w.input_tokens / w.requests ELSE 0 END',
    tiers.map(String),
    '<=',
  );
  const clockBand = bandCase('(epoch_ms(w.time) % 86400000) / 1000.0', clock.map(String), '<');
  const keys = `${decidedBy(census)},
       ${hashKeySql(CONTEXT_FIELDS, 'w.', 'ctx', context.collisions)}, w.wrapper,
       ${q.byDay ? "epoch_ms(date_trunc('day', w.time))" : 'NULL::BIGINT'} AS day,
       ${segmentSql(q)} AS segment,
       ${pairBand(varying.tiered, tier)} AS tier,
       ${pairBand(varying.timeOfDay, clockBand)} AS clock`;
  const units = sampleColumns(q, groupsCarryUnits(q, context));
  const grouped = (events: string) => `
SELECT ${keys},
       ${GROUP_COUNTS.map(([name, sum]) => `${sum} AS ${name}`).join(', ')},
       ${units}
FROM (${events}) w
GROUP BY ALL`;
  // Every event without a trace is a sampling unit of its own: its group is its row, not worth a hash table's slot.
  const groups = q.allUnits
    ? `${grouped(tracedEvents(windowOf(q), owners))}
UNION ALL BY NAME
SELECT ${keys},
       ${GROUP_COUNTS.map(([name, , one]) => `${one} AS ${name}`).join(', ')},
       ${units}
FROM (${untracedEvents(windowOf(q), owners)}) w`
    : grouped(resolvedEvents(windowOf(q), owners));
  return `
SELECT g.* EXCLUDE (ctx_h, ctx_x), ${CONTEXT_FIELDS.map((f) => `c.${f}`).join(', ')}
FROM (${groups}) g
JOIN tally_ctx c ON ${hashKeyMatchSql(CONTEXT_FIELDS, 'c', 'g', 'ctx')}`;
}

/**
 * The window's decision keys (core/usage.ts `DecisionKey`): the columns of
 * `usageGroupsSql`, grouped only by those a decision and the tenant check
 * read, the others empty and the counts zero. A month has about a million
 * of them against one and a half million groups, and half the grouping's work.
 */
export function decisionKeysSql(q: UsageQuery, census: TupleCensus): string {
  const zero = (c: string) => `0::BIGINT AS ${c}`;
  return `
SELECT ${decidedBy(census)},
       NULL::VARCHAR AS environment, NULL::VARCHAR AS provider, w.model, NULL::VARCHAR AS operation,
       NULL::VARCHAR AS tool, NULL::VARCHAR AS data_source, false AS wrapper, NULL::BIGINT AS day,
       ${segmentSql(q)} AS segment, 0 AS tier, 0 AS clock,
       epoch_ms(min(w.time)) AS time, count(*) AS events,
       ${['requests', 'tier_units', ...GROUP_SUMS, 'errors'].map(zero).join(', ')},
       NULL::VARCHAR AS units, NULL::VARCHAR AS adjusted_count, NULL::VARCHAR AS sample_unit, false AS from_report
FROM (${resolvedEvents(windowOf(q))}) w
GROUP BY ALL`;
}

/** Whether the window's groups carry a sampling unit: it holds a sampled event, or every group is split by unit. */
export const groupsCarryUnits = (q: UsageQuery, context: ContextCensus) =>
  q.allUnits === true || context.pairs.some((p) => p.sampled);

export const windowOf = (q: UsageQuery) => `time >= ${ts(q.from)} AND time < ${ts(q.to)}`;

/**
 * The group columns a decision and the tenant check read besides the model
 * and segment; the own and paying selector tuples as keys (`tupleKeySql`),
 * their values read back from the census (usage-read.ts).
 */
const decidedBy = (census: TupleCensus) => `${tupleKeySql('w.', 'own', census)},
       ${tupleKeySql('w.p_', 'payer', census)},
       CASE WHEN coalesce(w.payer_found, false) THEN 'invoker' ELSE 'self' END AS rollup,
       coalesce(w.tenant, w.tenant_found) AS tenant`;

/** A selector tuple in a group's key (`hashKeySql`), its values there where the census found its hash shared. */
const tupleKeySql = (prefix: string, name: string, census: TupleCensus) =>
  hashKeySql(TUPLE_FIELDS, prefix, name, census.collisions);

/**
 * The exact sum of a count: counts are whole numbers, never negative, so a
 * sum in doubles is exact while it stays below 2^53, and the reader refuses
 * any sum that reaches it (usage-read.ts). DuckDB sums BIGINTs in 128 bits,
 * which cost a fifth of the month's grouping.
 */
const exactSum = (v: string) => `sum((${v})::DOUBLE)`;

/** Which stretch between the window's configuration boundaries an event falls in: groups never straddle one. */
function segmentSql(q: UsageQuery): string {
  return bandCase('w.time', q.boundaries.filter((b) => b > q.from && b < q.to).map(ts), '<');
}

/** The token sums of a group. */
const GROUP_SUMS = [
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  ...RICH_COUNT_FIELDS,
] as const;

/**
 * A usage group's counts: each as summed over its events, and as the one
 * event of a group of one (the same value and type: `count` is BIGINT, the
 * sums doubles, a filtered count 0 or 1).
 */
const GROUP_COUNTS: readonly (readonly [name: string, grouped: string, one: string])[] = [
  ['time', 'epoch_ms(min(w.time))', 'epoch_ms(w.time)'],
  ['events', 'count(*)', '1::BIGINT'],
  ...(
    [
      ['requests', 'w.requests'],
      ['tier_units', 'CASE WHEN w.requests > 0 THEN w.requests ELSE greatest(w.input_tokens, 1) END'],
      ...GROUP_SUMS.map((c) => [c, `w.${c}`] as const),
    ] as const
  ).map(([name, v]) => [name, exactSum(v), `(${v})::DOUBLE`] as const),
  [
    'errors',
    "count(*) FILTER (WHERE w.status = 'error')",
    "(CASE WHEN w.status = 'error' THEN 1 ELSE 0 END)::BIGINT",
  ],
];

/**
 * Events whose own selectors are one of `owners`, compared as one text
 * (a value holding the separators can only let more events through: the
 * reader tests each group it gets).
 */
function ownedBy(owners: readonly SelectorTuple[]): string {
  if (owners.length === 0) return 'false';
  const fields = ['api_key', 'service', 'agent', 'project'] as const;
  const column = fields.map((f) => `coalesce(${f}, chr(30))`).join(' || chr(31) || ');
  const text = (t: SelectorTuple) => fields.map((f) => t[f] ?? '\u001e').join('\u001f');
  return `(${column}) IN (${owners.map((t) => sqlString(text(t))).join(', ')})`;
}

/**
 * The window's events with what the walks resolved for them. Only events
 * with a trace id can have been resolved (a span without one has no
 * ancestors to find, nor descendants): the others, most of a month, skip
 * the joins and the hashing of their ids.
 */
function resolvedEvents(window: string, owners: readonly SelectorTuple[] | null = null): string {
  return `${tracedEvents(window, owners)}
  UNION ALL${untracedEvents(window, owners)}`;
}

/** `resolvedEvents`' events with a trace id, joined to what the walks resolved for them. */
function tracedEvents(window: string, owners: readonly SelectorTuple[] | null): string {
  return `
  SELECT w.*, r.payer_found, r.p_api_key, r.p_service, r.p_agent, r.p_project, r.tenant_found,
         x.node IS NOT NULL AS wrapper
  FROM (SELECT *, ${NODE('span_id', 'trace_id')} AS node, ${UP('parent_span_id')} AS up
        FROM events WHERE ${window} AND trace_id IS NOT NULL${ownFilter(owners)}) w
  LEFT JOIN tally_resolved r ON r.node = w.node AND r.up = w.up LEFT JOIN tally_wrappers x ON x.node = w.node`;
}

/** `resolvedEvents`' events without a trace id, with the same columns, empty. */
function untracedEvents(window: string, owners: readonly SelectorTuple[] | null): string {
  return `
  SELECT w.*, NULL::UHUGEINT AS node, NULL::UBIGINT AS up, NULL::BOOLEAN AS payer_found,
         NULL::VARCHAR AS p_api_key, NULL::VARCHAR AS p_service, NULL::VARCHAR AS p_agent,
         NULL::VARCHAR AS p_project, NULL::VARCHAR AS tenant_found, false AS wrapper
  FROM events w WHERE w.${window} AND w.trace_id IS NULL${ownFilter(owners)}`;
}

const ownFilter = (owners: readonly SelectorTuple[] | null) =>
  owners === null ? '' : ` AND ${ownedBy(owners)}`;
