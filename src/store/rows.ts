/**
 * What every adapter does alike with the rows its database returns and the
 * values it stores: exact numbers, events, spans and usage groups built from
 * rows, and the columns of the event log. Engine-neutral: no SQL dialect here
 * beyond ANSI string literals.
 */
import { LimitError, StoreError } from '../core/errors.js';
import { addUnits, EVENT_FIELDS, RICH_COUNT_FIELDS, type Units, type UsageEvent } from '../core/event.js';
import type { SelectorUsage } from '../core/posture.js';
import { EVENT_UNIT, TRACE_UNIT } from '../core/sampling.js';
import { redactSecrets } from '../core/secrets.js';
import type { SignalSum } from '../core/signals/sums.js';
import type { SelectorTuple, UsageGroup, UsageQuery } from '../core/usage.js';
import type { TraceSpan } from './store.js';

export type Row = Record<string, unknown>;

/** The event-log columns holding exact counts; `time` is a timestamp and the rest is text. */
export const COUNT_COLUMNS: ReadonlySet<string> = new Set([
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'requests',
  'cache_write_1h_tokens',
  'input_audio_tokens',
  'output_audio_tokens',
]);

/** Text columns never redacted: neither can hold a secret, and both have a fixed shape. */
const PLAIN_TEXT: ReadonlySet<string> = new Set(['status', 'reported_cost', 'units']);

/**
 * The text stored for a text field. The parsers fingerprint secrets already;
 * the store makes sure none slips through.
 */
export function storedText(field: string, value: string): string {
  return PLAIN_TEXT.has(field) ? value : redactSecrets(value);
}

/** An event's sampling unit (SPEC §11): its trace, or the event itself when it has none (core/sampling.ts names). */
export const sampleUnitSql = (prefix = '') =>
  `CASE WHEN ${prefix}trace_id IS NULL THEN '${EVENT_UNIT}' || ${prefix}source || ':' || ${prefix}id
        ELSE '${TRACE_UNIT}' || ${prefix}trace_id END`;

/**
 * How many traces the events of [from, to) hold: the sampling units that
 * `tally sampling` holds until the period's groups are all read (an event
 * without a trace is a unit whole in its group).
 */
export const samplingTracesSql = (window: { from: string; to: string }) =>
  `SELECT count(DISTINCT trace_id) AS n FROM events WHERE time >= ${window.from} AND time < ${window.to}`;

/**
 * The usage-group columns of sampled events and control totals (SPEC §11),
 * alike in both adapters. Sampled events are grouped by their adjusted
 * count and their sampling unit, the trace (or the event itself when it has
 * none), so that core can weigh them and compute the estimate's variance
 * per unit; with `allUnits` (`tally sampling`) every event is. With
 * `reportSources`, events of those sources (provider usage reports) are
 * grouped apart (`from_report`), to serve as control totals. `sampled`:
 * whether any event of the window carries an adjusted count.
 */
export function sampleColumns(q: Pick<UsageQuery, 'allUnits' | 'reportSources'>, sampled = true): string {
  const sources = q.reportSources ?? [];
  const report = sources.length > 0 ? `w.source IN (${sources.map(sqlString).join(', ')})` : 'false';
  // Without a sampled event in the window the columns are NULL: the scan need not read the ids.
  if (!sampled && !q.allUnits)
    return `NULL::VARCHAR AS adjusted_count, NULL::VARCHAR AS sample_unit, ${report} AS from_report`;
  return `w.adjusted_count,
       CASE WHEN ${q.allUnits ? 'true' : 'w.adjusted_count IS NOT NULL'} THEN ${sampleUnitSql('w.')} END AS sample_unit,
       ${report} AS from_report`;
}

export function sqlString(v: string | null): string {
  return v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`;
}

export function sqlInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new StoreError(`not an integer: ${n}`);
  return String(n);
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A number read back from the store. Counts and token sums come as bigint
 * (DuckDB) or decimal text (PostgreSQL); one beyond 2^53 − 1 cannot be a JS
 * number exactly, so it is refused rather than rounded (a window whose token
 * sum is that large is split by the user).
 */
export function num(v: unknown): number {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return num(BigInt(v));
  if (typeof v === 'bigint') {
    if (v > MAX_EXACT || v < -MAX_EXACT)
      throw new LimitError(
        `a count summed by the store (${v}) exceeds 2^53 − 1 and cannot be exact; ask for a shorter window`,
      );
    return Number(v);
  }
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  return Number(v);
}

export function optNum(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function tupleOf(r: Row, prefix = ''): SelectorTuple {
  return {
    api_key: str(r[`${prefix}api_key`]),
    service: str(r[`${prefix}service`]),
    agent: str(r[`${prefix}agent`]),
    project: str(r[`${prefix}project`]),
  };
}

/** Sets the richer-usage fields a stored row has (absent when 0 or NULL, as the parsers leave them). */
export function withRichUsage(
  e: UsageEvent,
  cacheWrite1h: unknown,
  inputAudio: unknown,
  outputAudio: unknown,
  units: unknown,
): UsageEvent {
  const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  if (n(cacheWrite1h) > 0) e.cache_write_1h_tokens = n(cacheWrite1h);
  if (n(inputAudio) > 0) e.input_audio_tokens = n(inputAudio);
  if (n(outputAudio) > 0) e.output_audio_tokens = n(outputAudio);
  if (typeof units === 'string') e.units = JSON.parse(units) as Record<string, number>;
  return e;
}

/** An event from a row of every event column, `time` in epoch milliseconds. */
export function rowToEvent(r: Row): UsageEvent {
  const e: Record<string, unknown> = {};
  for (const f of EVENT_FIELDS) {
    const v = r[f];
    if (v === null || v === undefined) e[f] = null;
    else if (f === 'time' || COUNT_COLUMNS.has(f)) e[f] = Number(v);
    else e[f] = String(v);
  }
  const event = withRichUsage(
    e as unknown as UsageEvent,
    r.cache_write_1h_tokens,
    r.input_audio_tokens,
    r.output_audio_tokens,
    r.units,
  );
  if (typeof r.adjusted_count === 'string') event.adjusted_count = r.adjusted_count;
  return event;
}

export function rowToSpan(r: Row): TraceSpan {
  return {
    trace_id: String(r.trace_id),
    span_id: String(r.span_id),
    parent_span_id: str(r.parent_span_id),
    tenant: str(r.tenant),
    api_key: str(r.api_key),
    service: str(r.service),
    agent: str(r.agent),
    project: str(r.project),
    usage: r.usage === true,
  };
}

/** The richer usage of a usage-group row, set only where non-zero (SPEC §3). */
function richGroupUsage(r: Row): Partial<UsageGroup> {
  const out: Partial<UsageGroup> = {};
  for (const f of RICH_COUNT_FIELDS) if (num(r[f]) > 0) out[f] = num(r[f]);
  if (typeof r.units === 'string') {
    const units: Record<string, number> = {};
    addUnits(units, JSON.parse(r.units) as Units, num(r.events));
    out.units = units;
  }
  return out;
}

/** A usage group from a row of the usage-group query (column names as in UsageGroup, `p_` for the payer). */
export function rowToUsageGroup(r: Row): UsageGroup {
  return {
    own: tupleOf(r),
    payer: r.rollup === 'invoker' ? tupleOf(r, 'p_') : null,
    rollup: r.rollup as UsageGroup['rollup'],
    tenant: str(r.tenant),
    environment: str(r.environment),
    provider: str(r.provider),
    model: str(r.model),
    operation: String(r.operation),
    tool: str(r.tool),
    data_source: str(r.data_source),
    project: str(r.project),
    time: num(r.time),
    day: optNum(r.day),
    events: num(r.events),
    requests: num(r.requests),
    tier_units: num(r.tier_units),
    input_tokens: num(r.input_tokens),
    output_tokens: num(r.output_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_tokens),
    reasoning_tokens: num(r.reasoning_tokens),
    errors: num(r.errors),
    ...richGroupUsage(r),
    ...sampleOf(r.adjusted_count, r.sample_unit, r.from_report),
    ...(r.wrapper === true ? { wrapper: true as const } : {}),
  };
}

/** A group's sampling fields (SPEC §11): the adjusted count of sampled events, the unit where grouped by it. */
export function sampleOf(adjusted: unknown, unit: unknown, fromReport: unknown): SampleFields {
  const out: SampleFields = {};
  if (adjusted !== null && adjusted !== undefined) out.adjusted_count = String(adjusted);
  if (unit !== null && unit !== undefined) out.sample_unit = String(unit);
  if (fromReport === true) out.from_report = true;
  return out;
}

export type SampleFields = Pick<UsageGroup, 'adjusted_count' | 'sample_unit' | 'from_report'>;

/** A row of the selector census (`selectorUsage`). */
export function rowToSelectorUsage(r: Row): SelectorUsage {
  return {
    tuple: tupleOf(r),
    environment: str(r.environment),
    events: num(r.events),
    first: num(r.first),
    last: num(r.last),
  };
}

/** A row of the signal-sums query (both adapters name its columns alike). */
export function rowToSignalSum(r: Row): SignalSum {
  return {
    tuple: tupleOf(r),
    provider: str(r.provider),
    model: str(r.model),
    client_address: str(r.client_address),
    environment: str(r.environment),
    operation: String(r.operation),
    tool: str(r.tool),
    data_source: str(r.data_source),
    hour: num(r.h),
    events: num(r.events),
    requests: num(r.requests),
    tokenRequests: num(r.treq),
    input: num(r.tin),
    output: num(r.tout),
    cacheRead: num(r.cr),
    cacheWrite: num(r.cw),
    reasoning: num(r.rs),
    probes: num(r.probes),
    firstSeen: num(r.first_t),
    lastSeen: num(r.last_t),
    firstId: str(r.first_id),
    ...(r.wrapper === true ? { wrapper: true } : {}),
  };
}
