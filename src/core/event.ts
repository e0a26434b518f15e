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
}

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
