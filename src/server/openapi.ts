/**
 * The OpenAPI 3.1 document, generated from the route table: each route's
 * parameters, request body, success response and errors. The statement and
 * canonical event schemas are the ones shipped in `schemas/` (read once);
 * the other response shapes are described here. test/reference/openapi.test.ts
 * calls every endpoint and checks its body against this document.
 */
import { readFileSync } from 'node:fs';
import { BREAKDOWN_DIMENSIONS } from '../core/breakdown.js';
import { LEVELS } from '../core/statement.js';
import type { Route } from './routes.js';

type JsonSchema = Record<string, unknown>;

const REFERENCE = 'docs/reference/ in the tally repository';
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] });
const MONEY: JsonSchema = {
  type: 'string',
  pattern: '^-?[0-9]+\\.[0-9]{2,12}$',
  description: 'An exact decimal amount (2 to 12 decimals).',
};
const TIME: JsonSchema = {
  type: 'string',
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{3})?Z$',
};
const TEXT: JsonSchema = { type: 'string' };
const ID: JsonSchema = { type: ['string', 'null'] };
const COUNT: JsonSchema = { type: 'integer', minimum: 0 };
const SEVERITY: JsonSchema = { enum: ['critical', 'high', 'medium', 'low'] };
const STATUS: JsonSchema = { enum: ['attributed', 'unattributed', 'disputed'] };
const WINDOW: JsonSchema = strict({ start: TIME, end: TIME });
const SCOPE: JsonSchema = nullable(strict({ team: TEXT }));

/** An object with exactly these properties, all required but the `optional` ones. */
function strict(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  return { type: 'object', required, properties, additionalProperties: false };
}

const shippedCache = new Map<string, JsonSchema>();

/** A schema of `schemas/`, with its `$defs` reachable from inside the document's components. */
function shipped(file: string, name: string): JsonSchema {
  const cached = shippedCache.get(file);
  if (cached) return cached;
  const text = readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8');
  const {
    $schema: _s,
    $id: _i,
    ...schema
  } = JSON.parse(text.replaceAll('"#/$defs/', `"#/components/schemas/${name}/$defs/`)) as JsonSchema;
  shippedCache.set(file, schema);
  return schema;
}

const SIGNAL = strict({
  rule: { type: 'string', pattern: '^S[0-9]{2}$', description: 'S01–S14, see docs/signals.md' },
  severity: SEVERITY,
  identity: { type: 'string', description: 'A registry identity, or the unmatched selector as seen' },
  team: ID,
  title: TEXT,
  first_seen: TIME,
  last_seen: TIME,
  events: COUNT,
  cost: MONEY,
  evidence: { type: 'object', description: 'A few event ids (`events`) and the figures behind the verdict' },
  refs: { type: 'array', items: TEXT },
});

const REPLAY_NODE = strict({
  id: TEXT,
  source: TEXT,
  time: TIME,
  span_id: ID,
  parent_span_id: ID,
  operation: TEXT,
  provider: ID,
  model: ID,
  input_tokens: COUNT,
  output_tokens: COUNT,
  requests: COUNT,
  status: { enum: ['ok', 'error'] },
  error_type: ID,
  client_address: ID,
  selected: { type: 'boolean' },
  identity: ID,
  payer: ID,
  team: ID,
  application: ID,
  tenant: ID,
  cost: MONEY,
  billed_cost: MONEY,
  priced: { type: 'boolean' },
  wrapper: {
    type: 'boolean',
    description: 'A wrapper: its tokens are those of AI spans below it in the trace, never priced again',
  },
  verdict: strict({
    lifecycle: { enum: ['active', 'compromised', 'leaked', 'revoked', 'expired', 'unregistered'] },
    lifecycle_since: nullable(TIME),
    model_allowed: { type: ['boolean', 'null'] },
    tenant_claim: ID,
    tenant_allowed: { type: ['boolean', 'null'] },
    owner_stale: { type: 'boolean' },
    status: STATUS,
    reason: ID,
  }),
  signals: { type: 'array', items: COUNT, description: 'Indices into the replay’s signals' },
  children: { type: 'array', items: ref('ReplayNode') },
});

const SELECTORS = strict({ api_key: ID, service: ID, agent: ID, project: ID });
const SELECTOR = {
  type: 'object',
  additionalProperties: false,
  properties: { api_key: TEXT, service: TEXT, agent: TEXT, project: TEXT },
};
const SELECTOR_FIELDS = {
  type: 'array',
  items: strict({
    field: { enum: ['api_key', 'service', 'agent', 'project'] },
    wanted: TEXT,
    carried: ID,
    verdict: { enum: ['match', 'absent', 'differs', 'prefix', 'case', 'close'] },
  }),
};
const DATED = { from: nullable(TIME), until: nullable(TIME) };
const RATE: JsonSchema = {
  type: 'string',
  pattern: '^-?[0-9]+\\.[0-9]{2,}$',
  description: 'An exact decimal amount; a rate or a part of a cent may need more than 12 decimals.',
};

/** `GET /v1/explain`: docs/reference/explain.md describes every field. */
const EXPLAIN_SCHEMAS: Record<string, JsonSchema> = {
  Explanation: strict({
    event: ref('CanonicalEvent'),
    identity: strict({
      selectors: SELECTORS,
      verdict: { enum: ['matched', 'unknown_identity', 'ambiguous_identity'] },
      id: ID,
      kind: ID,
      application: ID,
      environment: ID,
      shared: { type: ['boolean', 'null'] },
      candidates: { type: 'array', items: TEXT },
      matched: {
        type: 'array',
        items: strict({
          identity: TEXT,
          selector: SELECTOR,
          fields: SELECTOR_FIELDS,
          score: COUNT,
          chosen: { type: 'boolean' },
        }),
      },
      near_misses: {
        type: 'array',
        items: strict({ identity: TEXT, selector: SELECTOR, fields: SELECTOR_FIELDS }),
      },
    }),
    invoker: strict({
      policy: { enum: ['invoker', 'executor'] },
      shared: { type: 'boolean' },
      rollup: { enum: ['self', 'invoker', 'no_invoker'] },
      payer: ID,
      path: {
        type: 'array',
        items: strict({
          span_id: TEXT,
          stored: { type: 'boolean' },
          selectors: nullable(SELECTORS),
          identity: ID,
          shared: { type: ['boolean', 'null'] },
          can_pay: { type: 'boolean' },
          tenant: ID,
        }),
      },
    }),
    owner: strict({
      identity: ID,
      at: TIME,
      verdict: { enum: ['ok', 'no_application', 'no_owner_at_time', 'no_cost_center_at_time', null] },
      application: ID,
      team: ID,
      cost_center: ID,
      owners: {
        type: 'array',
        items: strict({ team: TEXT, ...DATED, in_effect: { type: 'boolean' } }),
      },
      cost_centers: {
        type: 'array',
        items: strict({ cost_center: TEXT, ...DATED, in_effect: { type: 'boolean' } }),
      },
      team_offboarded: nullable(TIME),
      application_retired: nullable(TIME),
      stale: { type: 'boolean' },
    }),
    tenant: strict({
      claim: ID,
      inherited_from: ID,
      verdict: { enum: ['none', 'accepted', 'unknown_tenant', 'not_allowed', 'unknown_identity'] },
      allowed: nullable({ type: 'array', items: TEXT }),
      charged: ID,
    }),
    environment: strict({ claimed: ID, charged: ID }),
    lifecycle: strict({
      identity: ID,
      events: {
        type: 'array',
        items: strict({ at: TIME, event: TEXT, before_event: { type: 'boolean' } }),
      },
    }),
    allowlist: strict({
      identity: ID,
      models: nullable({ type: 'array', items: TEXT }),
      model: ID,
      allowed: { type: 'boolean' },
    }),
    disputes: {
      type: 'array',
      items: { enum: ['use_after_compromise', 'use_after_revocation', 'unauthorized_model'] },
    },
    status: STATUS,
    reason: ID,
    currency: TEXT,
    wrapper: nullable(strict({ below: TEXT })),
    price: strict({
      priced: { type: 'boolean' },
      source: { enum: ['organisation', 'catalog', 'none'] },
      stop: { enum: ['no_usage', 'no_model', 'no_price', null] },
      catalog_version: TEXT,
      catalog_model: nullable(strict({ provider: TEXT, model: TEXT })),
      organisation_price: nullable(
        strict({
          provider: TEXT,
          model: TEXT,
          ...DATED,
          input_per_mtok: MONEY,
          output_per_mtok: MONEY,
          cache_read_per_mtok: nullable(MONEY),
          cache_write_per_mtok: nullable(MONEY),
          reasoning_per_mtok: nullable(MONEY),
        }),
      ),
      discount: nullable(strict({ provider: TEXT, percent: TEXT, ...DATED })),
      components: {
        type: 'array',
        items: strict({
          part: TEXT,
          quantity: COUNT,
          rate: RATE,
          rate_unit: { enum: ['per_mtok', 'per_unit'] },
          tier: COUNT,
          amount: RATE,
          source: { enum: ['organisation', 'catalog'] },
        }),
      },
      token_cost_before_discount: RATE,
      discount_amount: RATE,
      token_cost: MONEY,
      unit_price: nullable(
        strict({ operation: TEXT, tool: ID, data_source: ID, per_call: MONEY, calls: COUNT, amount: MONEY }),
      ),
      unit_rates: {
        type: 'array',
        items: strict({ unit: TEXT, provider: ID, per_unit: MONEY, count: COUNT, amount: MONEY }),
      },
      unit_cost: MONEY,
      effective_cost: nullable(MONEY),
      list_cost: nullable(MONEY),
      fallbacks: { type: 'array', items: strict({ part: TEXT, quantity: COUNT }) },
    }),
    billing: strict({
      billed: { type: 'boolean' },
      not_billed: { enum: ['unattributed', 'disputed_hold', 'experimentation_showback', null] },
      billed_cost: nullable(MONEY),
    }),
    line: nullable(
      strict({
        period: WINDOW,
        key: strict(
          Object.fromEntries(
            [
              'cost_center',
              'team',
              'application',
              'tenant',
              'environment',
              'category',
              'status',
              'reason',
              'pool',
            ].map((k) => [k, ID]),
          ),
        ),
        event_effective_cost: nullable(MONEY),
        event_billed_cost: nullable(MONEY),
        events: COUNT,
        effective_cost: MONEY,
        billed_cost: MONEY,
        cents: strict({ effective_cost: MONEY, billed_cost: MONEY }),
      }),
    ),
  }),
};

const DRILLDOWN_EVENT = strict({
  id: TEXT,
  source: TEXT,
  time: TIME,
  provider: ID,
  model: ID,
  operation: TEXT,
  input_tokens: COUNT,
  output_tokens: COUNT,
  cache_read_tokens: COUNT,
  cache_write_tokens: COUNT,
  reasoning_tokens: COUNT,
  requests: COUNT,
  tool: ID,
  data_source: ID,
  trace_id: ID,
  span_id: ID,
  parent_span_id: ID,
  status: { enum: ['ok', 'error'], description: 'The request’s own outcome' },
  error_type: ID,
  tenant_claim: { ...ID, description: 'The tenant the event claimed' },
  adjusted_count: {
    ...ID,
    description:
      'How many events this sampled one stands for (decimal or exact fraction p/q); null when unsampled',
  },
  identity: { ...ID, description: 'The identity whose usage it is, or the unmatched selector' },
  payer: { ...ID, description: 'The identity that pays (the invoker of shared work)' },
  cost_center: ID,
  team: ID,
  application: ID,
  tenant: { ...ID, description: 'The accepted tenant' },
  environment: ID,
  category: ID,
  attribution: STATUS,
  reason: ID,
  cost: nullable(MONEY),
  billed_cost: nullable(MONEY),
  priced: { type: 'boolean' },
  wrapper: {
    type: 'boolean',
    description: 'A wrapper: its tokens are those of AI spans below it in the trace, never priced again',
  },
});

const BREAKDOWN_CENTS = strict({ effective_cost: MONEY, billed_cost: MONEY });
const CHANGE: JsonSchema = {
  type: ['string', 'null'],
  pattern: '^-?[0-9]+\\.[0-9]$',
  description:
    'Change of the effective cents from the previous window, per cent with one decimal; null when it had none',
};
const NAME_MAP: JsonSchema = { type: 'object', additionalProperties: TEXT, description: 'id → name' };

const SCHEMAS: Record<string, JsonSchema> = {
  Error: {
    ...strict({ error: TEXT, message: TEXT, problems: { type: 'array', items: ref('Problem') } }, [
      'problems',
    ]),
    description:
      'Every error body. `error` is a stable code: unauthorized, forbidden, invalid_input, usage, unknown_format, not_found, payload_too_large, unsupported_media_type, rate_limited, queue_full, queue_unavailable, store_failure, internal.',
  },
  Problem: strict(
    {
      record: { type: 'integer', description: '1-based line (NDJSON) or 0-based index (JSON array)' },
      recordKind: { enum: ['line', 'record', 'row', 'span'] },
      field: TEXT,
      reason: TEXT,
    },
    ['record', 'recordKind', 'field'],
  ),
  IngestResult: strict(
    {
      stored: COUNT,
      duplicates: COUNT,
      batch: { type: ['integer', 'null'], description: 'The audit batch; null when nothing new was stored' },
      requests: { type: 'integer', minimum: 1, description: 'Requests committed together with this one' },
      superseded: { ...COUNT, description: 'Added in this release' },
      rejected: { ...COUNT, description: 'Added in this release' },
      ignored: { ...COUNT, description: 'Added in this release' },
      queued: {
        ...COUNT,
        description:
          'On a replica (`tally serve --queue`): events and trace links the ingest stream acknowledged; a worker stores them, so stored, duplicates and superseded are 0 here',
      },
    },
    ['superseded', 'rejected', 'ignored', 'queued'],
  ),
  OtlpExportResponse: {
    ...strict({ partialSuccess: strict({ rejectedSpans: TEXT, errorMessage: TEXT }) }, ['partialSuccess']),
    description:
      'ExportTraceServiceResponse in OTLP/JSON: `{}` when every span was accepted. Either encoding answers the counts in headers: x-tally-stored, x-tally-duplicates, x-tally-superseded (of the group commit), x-tally-rejected and x-tally-ignored (spans that are not AI work); a replica (`tally serve --queue`) also x-tally-queued',
  },
  Whoami: strict({ role: { enum: ['admin', 'finance', 'team', 'ingest'] }, team: ID }),
  DailySpend: strict({
    period: WINDOW,
    currency: TEXT,
    scope: SCOPE,
    days: { type: 'array', items: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' } },
    series: {
      type: 'array',
      items: strict({
        team: ID,
        status: { enum: ['attributed', 'unattributed', 'disputed'] },
        costs: { type: 'array', items: MONEY },
      }),
    },
    total_cents: MONEY,
  }),
  EventPage: strict({ events: { type: 'array', items: ref('DrilldownEvent') }, next_cursor: ID }),
  DrilldownEvent: DRILLDOWN_EVENT,
  Signal: SIGNAL,
  Signals: strict({
    window: nullable(WINDOW),
    scope: SCOPE,
    signals: { type: 'array', items: ref('Signal') },
  }),
  ReplayNode: REPLAY_NODE,
  Replay: strict({
    window: WINDOW,
    selection: strict({ identity: ID, trace: ID }),
    currency: TEXT,
    totals: strict({
      events: COUNT,
      effective_cost: MONEY,
      legitimate_cost: MONEY,
      disputed_cost: MONEY,
      unattributed_cost: MONEY,
      billed_cost: MONEY,
      unpriced_events: COUNT,
      by_reason: {
        type: 'array',
        items: strict({ status: STATUS, reason: ID, events: COUNT, cost: MONEY }),
      },
    }),
    signals: { type: 'array', items: ref('Signal') },
    spans: COUNT,
    traces: {
      type: 'array',
      items: strict({
        trace_id: ID,
        start: TIME,
        cost: MONEY,
        spans: { type: 'array', items: ref('ReplayNode') },
      }),
    },
    inputs: strict({ config_sha256: TEXT, catalog_version: TEXT, audit_head: ID }),
    scope: SCOPE,
  }),
  Budgets: strict({
    period: TEXT,
    start: TIME,
    end: TIME,
    currency: TEXT,
    scope: SCOPE,
    budgets: {
      type: 'array',
      items: strict({
        scope: { enum: ['team', 'application', 'tenant'] },
        id: TEXT,
        period: TEXT,
        budget: MONEY,
        actual: MONEY,
        actual_cents: MONEY,
        forecast: MONEY,
        observed_days: COUNT,
        days: COUNT,
        thresholds: {
          type: 'array',
          items: strict({
            percent: { type: 'number' },
            amount: MONEY,
            crossed_at: nullable(TIME),
            forecast_to_cross: { type: 'boolean' },
          }),
        },
      }),
    },
  }),
  Posture: strict({
    window: WINDOW,
    as_of: TIME,
    rotation_days: { type: 'number' },
    coverage: strict({ attributed: MONEY, direct: MONEY }),
    findings: {
      type: 'array',
      items: strict({
        kind: TEXT,
        severity: SEVERITY,
        subject: TEXT,
        detail: TEXT,
        events: COUNT,
        cost: nullable(MONEY),
        figures: { type: 'object' },
        refs: { type: 'array', items: TEXT },
      }),
    },
  }),
  Breakdown: strict({
    period: WINDOW,
    currency: TEXT,
    scope: SCOPE,
    by: { enum: [...BREAKDOWN_DIMENSIONS] },
    filter: {
      type: 'object',
      description: 'The filters applied: a value per dimension, null for “without a value”',
      additionalProperties: ID,
    },
    totals: strict({
      effective_cost: MONEY,
      billed_cost: MONEY,
      cents: BREAKDOWN_CENTS,
      events: COUNT,
      input_tokens: COUNT,
      output_tokens: COUNT,
    }),
    rows: {
      type: 'array',
      items: strict({
        key: { ...ID, description: 'The value of the `by` dimension; null for money without one' },
        name: { ...ID, description: 'The display name from tally.yaml (org units only)' },
        effective_cost: MONEY,
        billed_cost: MONEY,
        cents: BREAKDOWN_CENTS,
        events: COUNT,
        unpriced_events: COUNT,
        input_tokens: COUNT,
        output_tokens: COUNT,
        previous_cents: { ...nullable(MONEY), description: 'Effective cents in the previous window' },
        change_percent: CHANGE,
      }),
    },
    previous: nullable(
      strict({ period: WINDOW, cents: BREAKDOWN_CENTS, events: COUNT, change_percent: CHANGE }),
    ),
    values: {
      type: 'object',
      description: 'The values each dimension takes in the window (before filters), null for none',
      additionalProperties: { type: 'array', items: ID },
    },
  }),
  Names: strict({
    cost_center: NAME_MAP,
    team: NAME_MAP,
    application: NAME_MAP,
    tenant: NAME_MAP,
  }),
  LatestPeriod: strict({
    period: { type: ['string', 'null'], pattern: '^[0-9]{4}-[0-9]{2}$' },
    latest_event: nullable(TIME),
  }),
  Health: strict({ status: { const: 'ok' } }),
  ...EXPLAIN_SCHEMAS,
  LitellmPayload: {
    type: 'object',
    description:
      "LiteLLM's StandardLoggingPayload, as its generic API callback posts it; the fields tally reads (others are ignored, prompts and completions never stored)",
    required: ['id', 'startTime'],
    properties: {
      id: { type: 'string', minLength: 1, description: "LiteLLM's request id: the spend log's request_id" },
      call_type: { type: 'string' },
      startTime: { type: ['number', 'string'], description: 'epoch seconds (LiteLLM sends a float)' },
      model: { type: ['string', 'null'] },
      model_group: { type: ['string', 'null'] },
      custom_llm_provider: { type: ['string', 'null'] },
      prompt_tokens: { type: ['integer', 'null'], minimum: 0 },
      completion_tokens: { type: ['integer', 'null'], minimum: 0 },
      response_cost: { type: ['number', 'null'] },
      status: { enum: ['success', 'failure', null] },
      cache_hit: { type: ['boolean', 'null'] },
      request_tags: { type: ['array', 'null'], items: { type: 'string' } },
      end_user: { type: ['string', 'null'] },
      requester_ip_address: { type: ['string', 'null'] },
      error_information: { type: ['object', 'null'] },
      metadata: {
        type: ['object', 'null'],
        properties: {
          user_api_key_hash: { type: ['string', 'null'] },
          user_api_key_end_user_id: { type: ['string', 'null'] },
          spend_logs_metadata: { type: ['object', 'null'] },
          usage_object: { type: ['object', 'null'] },
          requester_ip_address: { type: ['string', 'null'] },
        },
      },
    },
  },
};

const OTLP_PROTOBUF: JsonSchema = {
  type: 'string',
  contentMediaType: 'application/x-protobuf',
  description:
    'Opaque protobuf, as the OTLP specification defines it (opentelemetry-proto, collector/trace/v1)',
};

/** Success bodies by route, per content type. */
/** With `format`: the command's output as it prints it (notes and exit code in the Tally-Notes and Tally-Exit-Code headers). */
const COMMAND_OUTPUT: Record<string, JsonSchema> = {
  'text/plain; charset=utf-8': {
    type: 'string',
    description: "with format: the command's output, byte for byte",
  },
  'text/csv; charset=utf-8': { type: 'string', description: 'format=csv or focus' },
  'text/html; charset=utf-8': { type: 'string', description: 'format=html' },
};

const RESPONSES: Record<string, Record<string, JsonSchema>> = {
  'POST /v1/traces': {
    'application/x-protobuf': {
      ...OTLP_PROTOBUF,
      description: `ExportTraceServiceResponse: ${OTLP_PROTOBUF.description}`,
    },
    'application/json': ref('OtlpExportResponse'),
  },
  'POST /v1/events': { 'application/json': ref('IngestResult') },
  'POST /v1/litellm': { 'application/json': ref('IngestResult') },
  'GET /v1/pull/cursor': {
    'application/json': strict({
      label: {
        type: 'string',
        description: 'the batch label of this report’s pulled pages, before the cursor',
      },
      complete_until: {
        ...nullable(TIME),
        description:
          'the end of the last complete bucket a pull stored (where the next pull starts), or null',
      },
    }),
  },
  'POST /v1/pull/pages': { 'application/json': ref('IngestResult') },
  'GET /v1/whoami': { 'application/json': ref('Whoami') },
  'GET /v1/statements': { 'application/json': ref('Statement'), ...COMMAND_OUTPUT },
  'GET /v1/spend/daily': { 'application/json': ref('DailySpend') },
  'GET /v1/events': { 'application/json': ref('EventPage') },
  'GET /v1/signals': { 'application/json': ref('Signals'), ...COMMAND_OUTPUT },
  'GET /v1/replay': { 'application/json': ref('Replay'), ...COMMAND_OUTPUT },
  'GET /v1/budgets': { 'application/json': ref('Budgets'), ...COMMAND_OUTPUT },
  'GET /v1/posture': { 'application/json': ref('Posture'), ...COMMAND_OUTPUT },
  'GET /v1/explain': { 'application/json': ref('Explanation'), ...COMMAND_OUTPUT },
  'GET /v1/explain/:event_id': { 'application/json': ref('Explanation'), ...COMMAND_OUTPUT },
  'POST /v1/statements/issue': { 'application/json': ref('Statement'), ...COMMAND_OUTPUT },
  'GET /v1/statements/focus': {
    'text/csv; charset=utf-8': {
      type: 'string',
      description: 'FOCUS CSV, as `tally statement --format focus`',
    },
    'application/vnd.apache.parquet': {
      type: 'string',
      contentEncoding: 'binary',
      description: 'FOCUS Parquet (format=parquet)',
    },
  },
  'POST /v1/reconcile': {
    'application/json': {
      type: 'object',
      required: ['period', 'rows', 'adjustments'],
      description: 'as `tally reconcile --format json`',
    },
    ...COMMAND_OUTPUT,
  },
  'POST /v1/restate': {
    'application/json': {
      type: 'object',
      required: ['period', 'issued', 'corrections', 'charge_class'],
      description: 'as `tally restate --format json`',
    },
    ...COMMAND_OUTPUT,
  },
  'GET /v1/verify': {
    'application/json': strict({
      ok: { type: 'boolean' },
      batches: COUNT,
      events: COUNT,
      firstBad: nullable(strict({ seq: COUNT, reason: TEXT })),
      head: ID,
    }),
    ...COMMAND_OUTPUT,
  },
  'GET /v1/sampling': {
    'application/json': {
      type: 'object',
      required: ['period', 'rate', 'target', 'rate_for', 'rows'],
      description: 'as `tally sampling --format json` (docs/sampling.md)',
    },
    ...COMMAND_OUTPUT,
  },
  'GET /v1/breakdown': { 'application/json': ref('Breakdown') },
  'GET /v1/breakdown/focus': {
    'text/csv; charset=utf-8': { type: 'string', description: 'FOCUS CSV, the columns of docs/focus.md' },
  },
  'GET /v1/periods/latest': { 'application/json': ref('LatestPeriod') },
  'GET /v1/names': { 'application/json': ref('Names') },
  'GET /healthz': { 'application/json': ref('Health') },
  'GET /metrics': { 'text/plain; version=0.0.4': { type: 'string', description: 'Prometheus text format' } },
  'GET /openapi.json': {
    'application/json': {
      type: 'object',
      required: ['openapi', 'info', 'paths'],
      description: 'This document',
    },
  },
};

/** Request bodies by route, per content type. */
const REQUESTS: Record<string, Record<string, JsonSchema>> = {
  'POST /v1/traces': {
    'application/x-protobuf': {
      ...OTLP_PROTOBUF,
      description: `ExportTraceServiceRequest: ${OTLP_PROTOBUF.description}`,
    },
    'application/json': {
      type: 'object',
      description: 'ExportTraceServiceRequest in OTLP/JSON; spans follow the OpenTelemetry GenAI conventions',
      properties: { resourceSpans: { type: 'array', items: { type: 'object' } } },
    },
  },
  'POST /v1/events': {
    'application/json': { oneOf: [ref('CanonicalEvent'), { type: 'array', items: ref('CanonicalEvent') }] },
    'application/x-ndjson': { type: 'string', description: 'One CanonicalEvent (JSON) per line' },
  },
  'POST /v1/pull/pages': {
    'application/json': { oneOf: [ref('CanonicalEvent'), { type: 'array', items: ref('CanonicalEvent') }] },
    'application/x-ndjson': { type: 'string', description: 'One CanonicalEvent (JSON) per line' },
  },
  'POST /v1/reconcile': {
    'text/csv': {
      type: 'string',
      description:
        "The provider's bill: FOCUS CSV (ProviderName, BilledCost, …) or CSV provider,model,amount[,project|api_key]",
    },
  },
  'POST /v1/restate': {
    'application/json': strict({
      files: {
        type: 'array',
        minItems: 1,
        description: 'The corrected configuration: the main file first, then its includes by relative name',
        items: strict({ name: TEXT, text: TEXT }),
      },
    }),
  },
  'POST /v1/litellm': {
    'application/json': {
      oneOf: [ref('LitellmPayload'), { type: 'array', items: ref('LitellmPayload') }],
      description: 'One payload or a JSON array; NDJSON is also read under this type, as LiteLLM sends it',
    },
    'application/x-ndjson': { type: 'string', description: 'One LiteLLM logging payload (JSON) per line' },
  },
};

const PARAMETERS: Record<string, JsonSchema> = {
  period: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}$' },
  level: { enum: [...LEVELS] },
  limit: { type: 'integer', minimum: 1, maximum: 1000 },
  by: { enum: [...BREAKDOWN_DIMENSIONS] },
  compare: { enum: ['previous', 'none'] },
};

const STATUS_TEXT: Record<string, string> = {
  '400': 'bad parameters or records',
  '401': 'missing or unknown token',
  '403': 'beyond the role or its team',
  '404': 'no such endpoint or object',
  '413': 'body too large',
  '415': 'unsupported content type or encoding',
  '429': 'rate limit of the token exceeded (see Retry-After)',
  '500': 'internal error',
  '503': 'the store could not complete the request',
};

function errorStatuses(r: Route): string[] {
  if (r.roles === 'public') return ['500'];
  return ['400', '401', '403', '404', '429', ...(r.accepts ? ['413', '415'] : []), '500', '503'];
}

function operation(r: Route, path: string): Record<string, unknown> {
  const key = `${r.method} ${r.path}`;
  const success = RESPONSES[key] ?? { [r.produces]: {} };
  const responses: Record<string, unknown> = {
    '200': {
      description: 'success',
      content: Object.fromEntries(Object.entries(success).map(([type, schema]) => [type, { schema }])),
    },
  };
  for (const s of errorStatuses(r))
    responses[s] = { description: STATUS_TEXT[s], content: { 'application/json': { schema: ref('Error') } } };
  const op: Record<string, unknown> = {
    summary: r.summary,
    operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    responses,
  };
  if (r.roles !== 'public') {
    op.security = [{ bearer: [] }];
    op['x-roles'] = [...r.roles];
  }
  const inPath = [...r.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
  const parameters = [
    ...inPath.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(r.query ?? []).map((p) => ({
      name: p.name,
      in: 'query',
      required: p.required ?? false,
      description: p.description,
      schema: PARAMETERS[p.name] ?? { type: 'string' },
    })),
  ];
  if (parameters.length > 0) op.parameters = parameters;
  if (r.accepts) {
    const bodies = REQUESTS[key] ?? {};
    op.requestBody = {
      required: true,
      content: Object.fromEntries(r.accepts.map((t) => [t, bodies[t] ? { schema: bodies[t] } : {}])),
    };
  }
  return op;
}

export function openApiDocument(routes: readonly Route[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[r.method.toLowerCase()] = operation(r, path);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tally',
      version,
      description: `AI chargeback: ingest usage, read statements, signals and replays. The statement, the canonical event and every reason code are described in ${REFERENCE}; the server in docs/server.md.`,
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token whose SHA-256 is listed under `access:` in tally.yaml, with its role',
        },
      },
      schemas: {
        ...SCHEMAS,
        Statement: shipped('statement.schema.json', 'Statement'),
        CanonicalEvent: shipped('canonical-event.schema.json', 'CanonicalEvent'),
      },
    },
  };
}
