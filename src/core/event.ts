/**
 * The canonical usage event (SPEC §3): every input format is normalised to
 * this shape before anything is stored.
 */
export interface UsageEvent {
  id: string;
  /** The event's own source, or the format name (`otlp`, `litellm`, …); never a file name. */
  source: string;
  /** Start of the span / request / bucket, epoch milliseconds UTC. */
  time: number;
  provider: string | null;
  model: string | null;
  operation: string;
  /** Includes cache-read and cache-write tokens. */
  input_tokens: number;
  /** Includes reasoning tokens. */
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  requests: number;
  tool: string | null;
  data_source: string | null;
  api_key: string | null;
  service: string | null;
  agent: string | null;
  project: string | null;
  tenant: string | null;
  environment: string | null;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  status: 'ok' | 'error';
  error_type: string | null;
  client_address: string | null;
  /** What the source said it cost, as a decimal string; kept for reconciliation, never the price. */
  reported_cost: string | null;
  // Richer usage (SPEC §3), where a source reports it. Absent means 0 / none,
  // so that events written before these fields existed keep their shape.
  /** The part of `cache_write_tokens` written with a one-hour lifetime. */
  cache_write_1h_tokens?: number;
  /** The audio part of `input_tokens`. */
  input_audio_tokens?: number;
  /** The audio part of `output_tokens`. */
  output_audio_tokens?: number;
  /** Counts of server-side tool use priced per unit, e.g. `{"web_search": 10}`; null or absent: none. */
  units?: Units | null;
  /**
   * How many events this one stands for when the source sampled (SPEC §11):
   * the exact rational as text (`"10"`, `"1.25"` or `"p/q"`, see
   * core/sampling.ts); absent means 1, an unsampled event.
   */
  adjusted_count?: string;
}

/**
 * A span that is not AI work (SPEC §3.2): not an event, but its ids and
 * selectors are kept so that the walk up a trace (§4.3, §4.4) passes through
 * it, however an exporter cut the trace into requests.
 */
export interface TraceLink {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  tenant: string | null;
  api_key: string | null;
  service: string | null;
  agent: string | null;
  project: string | null;
}

/** Unit name → count (a non-negative safe integer). */
export type Units = Readonly<Record<string, number>>;

/** Column order of the canonical event: CSV header, storage and the batch hash use it. */
export const EVENT_FIELDS = [
  'id',
  'source',
  'time',
  'provider',
  'model',
  'operation',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'requests',
  'tool',
  'data_source',
  'api_key',
  'service',
  'agent',
  'project',
  'tenant',
  'environment',
  'trace_id',
  'span_id',
  'parent_span_id',
  'status',
  'error_type',
  'client_address',
  'reported_cost',
] as const satisfies readonly (keyof UsageEvent)[];

/**
 * The richer-usage fields (SPEC §3), after EVENT_FIELDS in every column
 * order. They are stored and hashed only where set (the batch hash of an
 * event without them is what it was before they existed).
 */
export const RICH_FIELDS = [
  'cache_write_1h_tokens',
  'input_audio_tokens',
  'output_audio_tokens',
  'units',
] as const satisfies readonly (keyof UsageEvent)[];

export const RICH_COUNT_FIELDS = [
  'cache_write_1h_tokens',
  'input_audio_tokens',
  'output_audio_tokens',
] as const satisfies readonly (keyof UsageEvent)[];

/**
 * The sampling field (SPEC §11), after RICH_FIELDS in every column order;
 * stored and hashed only where set, like them.
 */
export const SAMPLING_FIELDS = ['adjusted_count'] as const satisfies readonly (keyof UsageEvent)[];

/** Every field of the canonical event: the canonical formats' field names and the stored columns. */
export const ALL_EVENT_FIELDS = [...EVENT_FIELDS, ...RICH_FIELDS, ...SAMPLING_FIELDS] as const;

export type EventField = (typeof ALL_EVENT_FIELDS)[number];

/** A unit name: lower-case letters, digits and `_ - .`, up to 64 characters. */
export const UNIT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** The units as stored: JSON with sorted keys and no zero counts, or null when there are none. */
export function unitsText(units: Units | null | undefined): string | null {
  if (!units) return null;
  const keys = Object.keys(units)
    .filter((k) => (units[k] ?? 0) > 0)
    .sort();
  if (keys.length === 0) return null;
  return `{${keys.map((k) => `${JSON.stringify(k)}:${units[k]}`).join(',')}}`;
}

/** Adds `b` to `a` times `times` (a group of events that all carry `b`). */
export function addUnits(a: Record<string, number>, b: Units, times = 1): void {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v * times;
}

export const TOKEN_FIELDS = [
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'requests',
] as const satisfies readonly (keyof UsageEvent)[];

/** Operations whose reported usage aggregates their children and is never priced as tokens (SPEC §3). */
export const AGGREGATE_OPERATIONS: ReadonlySet<string> = new Set([
  'invoke_agent',
  'invoke_workflow',
  'create_agent',
]);

/** Events later than this after the moment of ingestion are rejected as "far in the future". */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

export function emptyEvent(id: string, source: string, time: number): UsageEvent {
  return {
    id,
    source,
    time,
    provider: null,
    model: null,
    operation: 'chat',
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    requests: 1,
    tool: null,
    data_source: null,
    api_key: null,
    service: null,
    agent: null,
    project: null,
    tenant: null,
    environment: null,
    trace_id: null,
    span_id: null,
    parent_span_id: null,
    status: 'ok',
    error_type: null,
    client_address: null,
    reported_cost: null,
  };
}
