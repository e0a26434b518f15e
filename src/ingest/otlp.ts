/**
 * OTLP traces (an ExportTraceServiceRequest, as OTLP/HTTP JSON or decoded
 * from protobuf) with the OpenTelemetry GenAI semantic conventions, mapped
 * as SPEC §3 says.
 *
 * Decisions:
 * - A span without `gen_ai.operation.name` is not AI work (HTTP, database,
 *   framework spans): it is counted as ignored, not stored. Spans that carry
 *   tokens without an operation name are ignored too, because some SDKs put
 *   an aggregate of their child calls on such wrapper spans and counting it
 *   would double the tokens.
 * - So that workflow rollup still finds the invoking span, an AI span whose
 *   parent was ignored in the same request is re-parented to the nearest
 *   ancestor that was not ignored (or to what that chain points outside the
 *   request).
 * - `gen_ai.agent.name` stands in for `gen_ai.agent.id` when the id is absent.
 * - Prompt and completion content (`gen_ai.input.messages`, …) is never
 *   mapped; it is also cut from a rejected span before it is quarantined.
 */
import { aiWorkOperation, isVercelSpan, type SpanSignals } from '../core/ai-work.js';
import { emptyEvent, type TraceLink, type UsageEvent } from '../core/event.js';
import { adjustedCountFromTraceState } from '../core/sampling.js';
import { redactSecrets } from '../core/secrets.js';
import { normalizeKeyHash } from '../core/selectors.js';

import {
  clip,
  count,
  countText,
  FieldError,
  fail,
  isObject,
  notFuture,
  redactEvent,
  toProblem,
  typeName,
  type Where,
} from './fields.js';
import type { Sink } from './sink.js';

/** The attributes read, by slot name (several conventions per field; docs/producers.md). */
const ATTRIBUTES = {
  OP: 'gen_ai.operation.name',
  PROVIDER: 'gen_ai.provider.name',
  SYSTEM: 'gen_ai.system',
  RESPONSE_MODEL: 'gen_ai.response.model',
  REQUEST_MODEL: 'gen_ai.request.model',
  INPUT: 'gen_ai.usage.input_tokens',
  OUTPUT: 'gen_ai.usage.output_tokens',
  PROMPT: 'gen_ai.usage.prompt_tokens',
  COMPLETION: 'gen_ai.usage.completion_tokens',
  CACHE_READ: 'gen_ai.usage.cache_read.input_tokens',
  CACHE_WRITE: 'gen_ai.usage.cache_creation.input_tokens',
  REASONING: 'gen_ai.usage.reasoning.output_tokens',
  TOOL: 'gen_ai.tool.name',
  DATA_SOURCE: 'gen_ai.data_source.id',
  TENANT: 'tenant.id',
  ENVIRONMENT: 'deployment.environment.name',
  ENVIRONMENT_OLD: 'deployment.environment',
  ERROR_TYPE: 'error.type',
  CLIENT: 'client.address',
  SERVICE: 'service.name',
  AGENT_ID: 'gen_ai.agent.id',
  AGENT_NAME: 'gen_ai.agent.name',
  API_KEY: 'tally.api_key',
  API_KEY_ID: 'gen_ai.request.api_key_id',
  // OpenLLMetry before its semantic-convention migration
  REQUEST_TYPE: 'llm.request.type',
  LLM_PROMPT: 'llm.usage.prompt_tokens',
  LLM_COMPLETION: 'llm.usage.completion_tokens',
  LLM_REQUEST_MODEL: 'llm.request.model',
  LLM_RESPONSE_MODEL: 'llm.response.model',
  LLM_VENDOR: 'llm.vendor',
  OLD_CACHE_READ: 'gen_ai.usage.cache_read_input_tokens',
  OLD_CACHE_WRITE: 'gen_ai.usage.cache_creation_input_tokens',
  TRACELOOP_KIND: 'traceloop.span.kind',
  TRACELOOP_ENTITY: 'traceloop.entity.name',
  // Vercel AI SDK
  AI_OPERATION: 'ai.operationId',
  AI_MODEL: 'ai.model.id',
  AI_PROVIDER: 'ai.model.provider',
  AI_PROMPT: 'ai.usage.promptTokens',
  AI_COMPLETION: 'ai.usage.completionTokens',
  AI_INPUT: 'ai.usage.inputTokens',
  AI_OUTPUT: 'ai.usage.outputTokens',
  AI_TOKENS: 'ai.usage.tokens',
  AI_CACHED: 'ai.usage.cachedInputTokens',
  AI_REASONING: 'ai.usage.reasoningTokens',
  AI_TOOL: 'ai.toolCall.name',
  // OpenInference
  OI_KIND: 'openinference.span.kind',
  OI_MODEL: 'llm.model_name',
  OI_EMBEDDING_MODEL: 'embedding.model_name',
  OI_PROVIDER: 'llm.provider',
  OI_SYSTEM: 'llm.system',
  OI_PROMPT: 'llm.token_count.prompt',
  OI_COMPLETION: 'llm.token_count.completion',
  OI_CACHE_READ: 'llm.token_count.prompt_details.cache_read',
  OI_CACHE_WRITE: 'llm.token_count.prompt_details.cache_write',
  OI_REASONING: 'llm.token_count.completion_details.reasoning',
  OI_INPUT_AUDIO: 'llm.token_count.prompt_details.audio',
  OI_OUTPUT_AUDIO: 'llm.token_count.completion_details.audio',
  OI_TOOL: 'tool.name',
} as const;

type SlotName = keyof typeof ATTRIBUTES;
const KEYS: readonly string[] = Object.values(ATTRIBUTES);
const S = Object.fromEntries(Object.keys(ATTRIBUTES).map((k, i) => [k, i])) as Record<SlotName, number>;
const SLOTS = KEYS.length;

const SLOT_OF: ReadonlyMap<string, number> = new Map(KEYS.map((k, i) => [k, i]));

/**
 * Attribute values by slot, and where each came from: n ≥ 0 the span's
 * attribute n, -1-n the resource's. `from` is only kept to name the place
 * of a problem, so the hot path leaves it out.
 */
interface Attrs {
  values: unknown[];
  from?: number[];
}

function collect(attributes: unknown, into: Attrs, resource: boolean): void {
  if (attributes === undefined || attributes === null) return;
  if (!Array.isArray(attributes)) fail('attributes', `must be an array, got ${typeName(attributes)}`);
  for (let n = 0; n < attributes.length; n++) {
    const kv = attributes[n] as { key?: unknown; value?: unknown } | null;
    const slot = typeof kv?.key === 'string' ? SLOT_OF.get(kv.key) : undefined;
    if (slot === undefined) continue;
    into.values[slot] = kv?.value;
    if (into.from) into.from[slot] = resource ? -1 - n : n;
  }
}

const SCALARS = ['intValue', 'doubleValue', 'boolValue'] as const;

/** A scalar AnyValue as a string; an array stands for its first element. */
function anyString(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) return fail(field, `must be an AnyValue object, got ${typeName(v)}`);
  const s = v.stringValue;
  if (typeof s === 'string') return s === '' ? null : s;
  if (s !== undefined && s !== null) return fail(field, `stringValue must be a string, got ${typeName(s)}`);
  if (v.arrayValue !== undefined) {
    const values = isObject(v.arrayValue) ? v.arrayValue.values : undefined;
    if (values === undefined) return null;
    if (!Array.isArray(values))
      return fail(field, `arrayValue.values must be an array, got ${typeName(values)}`);
    return anyString(values[0], field);
  }
  for (const k of SCALARS) {
    const x = v[k];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
  }
  if (v.kvlistValue !== undefined) return fail(field, 'must be a string, got a kvlistValue');
  if (v.bytesValue !== undefined) return fail(field, 'must be a string, got a bytesValue');
  return null;
}

/** A token count from an AnyValue: intValue (number or int64 string), an integral doubleValue, or digits. */
function anyCount(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) return fail(field, `must be an AnyValue object, got ${typeName(v)}`);
  const i = v.intValue;
  if (typeof i === 'string') return countText(i, field);
  if (i !== undefined && i !== null) return count(i, field, false);
  const d = v.doubleValue;
  if (d !== undefined && d !== null)
    return typeof d === 'string' ? countText(d, field) : count(d, field, false);
  if (typeof v.stringValue === 'string') return countText(v.stringValue, field);
  if (v.arrayValue !== undefined) {
    const values = isObject(v.arrayValue) ? v.arrayValue.values : undefined;
    if (!Array.isArray(values) || values.length === 0) return null;
    return anyCount(values[0], field);
  }
  return fail(field, `must be a whole number, got ${Object.keys(v)[0] ?? 'an empty value'}`);
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Trace and span ids are hex in OTLP/JSON; some exporters emit protobuf's
 * default JSON mapping (base64) instead, which is converted to hex.
 */
function hexId(v: unknown, bytes: number, field: string): string {
  if (typeof v !== 'string')
    return fail(field, v === undefined ? 'is required' : `must be a string, got ${typeName(v)}`);
  if (v.length === bytes * 2 && HEX.test(v)) return v.toLowerCase();
  if (v.length === Math.ceil(bytes / 3) * 4 && BASE64.test(v)) {
    const b = Buffer.from(v, 'base64');
    if (b.length === bytes) return b.toString('hex');
  }
  return fail(field, `must be ${bytes * 2} hex digits (or base64 of ${bytes} bytes), got "${v}"`);
}

/** Epoch ms from fixed64 nanoseconds, given as a JSON string (exact) or number. */
function startTime(v: unknown, now: number): number {
  let ms: number;
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) ms = v.length > 6 ? Number(v.slice(0, -6)) : 0;
  else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) ms = Math.floor(v / 1e6);
  else if (v === undefined) return fail('startTimeUnixNano', 'is required');
  else
    return fail(
      'startTimeUnixNano',
      `must be nanoseconds since the epoch, got ${typeName(v)} ${JSON.stringify(v)}`,
    );
  if (ms === 0) fail('startTimeUnixNano', 'is required (got 0)');
  return notFuture(ms, 'startTimeUnixNano', now);
}

function isError(status: unknown): boolean {
  if (!isObject(status)) return false;
  const c = status.code;
  return c === 2 || c === '2' || c === 'STATUS_CODE_ERROR';
}

const CONTENT =
  /^(?:gen_ai\.(?:input\.messages|output\.messages|system_instructions|prompt|completion|tool\.call\.arguments|tool\.call\.result|tool\.definitions)|llm\.prompts|llm\.completions|traceloop\.entity\.(?:input|output))/;

/** The span as quarantine text, without prompt/completion content or events (which may hold content). */
function quarantineText(span: unknown): string {
  if (!isObject(span)) return JSON.stringify(span) ?? String(span);
  const { events: _events, ...rest } = span;
  if (Array.isArray(rest.attributes)) {
    rest.attributes = rest.attributes.filter(
      (a) => !(isObject(a) && typeof a.key === 'string' && CONTENT.test(a.key)),
    );
  }
  return JSON.stringify(rest);
}

function str(a: Attrs, slot: number): string | null {
  return anyString(a.values[slot], KEYS[slot] as string);
}

function num(a: Attrs, slot: number): number | null {
  return anyCount(a.values[slot], KEYS[slot] as string);
}

/** The first of the slots that is set. */
function firstNum(a: Attrs, ...slots: number[]): number | null {
  for (const slot of slots) {
    const n = num(a, slot);
    if (n !== null) return n;
  }
  return null;
}

function firstStr(a: Attrs, ...slots: number[]): string | null {
  for (const slot of slots) {
    const v = str(a, slot);
    if (v !== null) return v;
  }
  return null;
}

/** Token usage under every convention read; null where the span reports none. */
interface Usage {
  input: number | null;
  output: number | null;
  cacheRead: number | null;
  cacheWrite: number | null;
  reasoning: number | null;
  inputAudio: number | null;
  outputAudio: number | null;
}

function usageOf(a: Attrs): Usage {
  return {
    input: firstNum(a, S.INPUT, S.PROMPT, S.LLM_PROMPT, S.OI_PROMPT, S.AI_INPUT, S.AI_PROMPT, S.AI_TOKENS),
    output: firstNum(
      a,
      S.OUTPUT,
      S.COMPLETION,
      S.LLM_COMPLETION,
      S.OI_COMPLETION,
      S.AI_OUTPUT,
      S.AI_COMPLETION,
    ),
    cacheRead: firstNum(a, S.CACHE_READ, S.OLD_CACHE_READ, S.OI_CACHE_READ, S.AI_CACHED),
    cacheWrite: firstNum(a, S.CACHE_WRITE, S.OLD_CACHE_WRITE, S.OI_CACHE_WRITE),
    reasoning: firstNum(a, S.REASONING, S.OI_REASONING, S.AI_REASONING),
    inputAudio: num(a, S.OI_INPUT_AUDIO),
    outputAudio: num(a, S.OI_OUTPUT_AUDIO),
  };
}

function modelOf(a: Attrs): string | null {
  return firstStr(
    a,
    S.RESPONSE_MODEL,
    S.REQUEST_MODEL,
    S.LLM_RESPONSE_MODEL,
    S.LLM_REQUEST_MODEL,
    S.OI_MODEL,
    S.OI_EMBEDDING_MODEL,
    S.AI_MODEL,
  );
}

/**
 * The provider, lower-cased (OpenLLMetry wrote `OpenAI`). The Vercel AI SDK
 * names a provider with its API (`openai.chat`, `anthropic.messages`): the
 * API part is cut.
 */
function providerOf(a: Attrs, vercel: boolean): string | null {
  const p = firstStr(a, S.PROVIDER, S.SYSTEM, S.AI_PROVIDER, S.LLM_VENDOR, S.OI_PROVIDER, S.OI_SYSTEM);
  if (p === null) return null;
  const lower = p.toLowerCase();
  return vercel ? (lower.split('.')[0] ?? lower) : lower;
}

/** What the span says about itself, for the AI-work rule. */
function signalsOf(span: Record<string, unknown>, a: Attrs, usage: Usage, model: string | null): SpanSignals {
  return {
    name: typeof span.name === 'string' ? span.name : null,
    operation: str(a, S.OP),
    vercelOperation: str(a, S.AI_OPERATION),
    requestType: str(a, S.REQUEST_TYPE),
    openinferenceKind: str(a, S.OI_KIND),
    traceloopKind: str(a, S.TRACELOOP_KIND),
    provider: firstStr(a, S.PROVIDER, S.SYSTEM),
    hasModel: model !== null,
    hasTokens: usage.input !== null || usage.output !== null,
    hasOutputTokens: usage.output !== null && usage.output > 0,
  };
}

/**
 * One span: an event when it is AI work, else a trace link (its ids and
 * selectors, kept for the walk up a trace). Throws FieldError.
 */
function mapSpan(span: unknown, resource: Attrs, now: number): UsageEvent | TraceLink | null {
  if (!isObject(span)) return fail(undefined, `a span must be an object, got ${typeName(span)}`);
  const a: Attrs = { values: resource.values.slice() };
  collect(span.attributes, a, false);
  const usage = usageOf(a);
  const model = modelOf(a);
  const signals = signalsOf(span, a, usage, model);
  const operation = aiWorkOperation(signals);
  if (operation === null) return traceLink(span, a);
  const traceId = hexId(span.traceId, 16, 'traceId');
  const spanId = hexId(span.spanId, 8, 'spanId');
  const e = emptyEvent(`${traceId}:${spanId}`, 'otlp', startTime(span.startTimeUnixNano, now));
  e.operation = operation;
  e.provider = providerOf(a, isVercelSpan(signals));
  e.model = model;
  e.input_tokens = usage.input ?? 0;
  e.output_tokens = usage.output ?? 0;
  e.cache_read_tokens = usage.cacheRead ?? 0;
  e.cache_write_tokens = usage.cacheWrite ?? 0;
  e.reasoning_tokens = usage.reasoning ?? 0;
  if (usage.inputAudio) e.input_audio_tokens = usage.inputAudio;
  if (usage.outputAudio) e.output_audio_tokens = usage.outputAudio;
  e.tool =
    firstStr(a, S.TOOL, S.AI_TOOL, S.OI_TOOL) ??
    (operation === 'execute_tool' ? str(a, S.TRACELOOP_ENTITY) : null);
  e.data_source = str(a, S.DATA_SOURCE);
  e.api_key = str(a, S.API_KEY) ?? str(a, S.API_KEY_ID);
  e.service = str(a, S.SERVICE);
  e.agent = str(a, S.AGENT_ID) ?? str(a, S.AGENT_NAME);
  e.tenant = str(a, S.TENANT);
  e.environment = str(a, S.ENVIRONMENT) ?? str(a, S.ENVIRONMENT_OLD);
  e.trace_id = traceId;
  e.span_id = spanId;
  e.parent_span_id = parentId(span.parentSpanId);
  const adjusted = adjustedCount(span.traceState, traceId);
  if (adjusted !== null) e.adjusted_count = adjusted;
  if (isError(span.status)) e.status = 'error';
  e.error_type = str(a, S.ERROR_TYPE);
  e.client_address = str(a, S.CLIENT);
  return redactEvent(e);
}

/**
 * The span's adjusted count from its W3C `tracestate` (SPEC §11): what an
 * SDK's consistent probability sampler and the Collector's probabilistic
 * sampler (every mode) write as `ot=th:…` (with `rv:…` where the randomness
 * is not the trace id's).
 */
function adjustedCount(v: unknown, traceId: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') return fail('traceState', `must be a string, got ${typeName(v)}`);
  try {
    return adjustedCountFromTraceState(v, traceId);
  } catch (e) {
    if (e instanceof RangeError) return fail('traceState', e.message);
    throw e;
  }
}

function parentId(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : hexId(v, 8, 'parentSpanId');
}

/**
 * A span that is not AI work: its ids and the selectors the walk reads.
 * Null when its ids are unusable: it is then only counted as ignored.
 */
function traceLink(span: Record<string, unknown>, a: Attrs): TraceLink | null {
  try {
    return {
      trace_id: hexId(span.traceId, 16, 'traceId'),
      span_id: hexId(span.spanId, 8, 'spanId'),
      parent_span_id: parentId(span.parentSpanId),
      tenant: redactOptional(str(a, S.TENANT)),
      api_key: keyOf(str(a, S.API_KEY) ?? str(a, S.API_KEY_ID)),
      service: redactOptional(str(a, S.SERVICE)),
      agent: redactOptional(str(a, S.AGENT_ID) ?? str(a, S.AGENT_NAME)),
      project: null,
    };
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    return null;
  }
}

/** A key as events keep it: fingerprinted when raw, a 64-hex hash lowercased. */
function keyOf(v: string | null): string | null {
  return v === null ? null : normalizeKeyHash(redactSecrets(v));
}

function redactOptional(v: string | null): string | null {
  return v === null ? null : redactSecrets(v);
}

/** The path of a field named by a FieldError thrown while mapping span `path`. */
function fieldPath(e: FieldError, path: string, resourcePath: string, a: Attrs | undefined): string {
  const slot = e.field === undefined ? undefined : SLOT_OF.get(e.field);
  if (slot !== undefined && a) {
    const from = a.from?.[slot] ?? 0;
    return from >= 0
      ? `${path}.attributes[${from}] (${e.field})`
      : `${resourcePath}.attributes[${-1 - from}] (${e.field})`;
  }
  return e.field === undefined ? path : `${path}.${e.field}`;
}

function resourceAttrs(resource: unknown): Attrs {
  const a: Attrs = { values: new Array(SLOTS), from: new Array(SLOTS).fill(0) };
  if (isObject(resource)) collect(resource.attributes, a, true);
  return a;
}

/**
 * Maps one ExportTraceServiceRequest. Invalid spans are rejected one by
 * one; the valid spans of the same request are kept.
 */
export function mapOtlpRequest(req: unknown, where: Where, raw: string, now: number, sink: Sink): void {
  const where0 = (field: string, reason: string) => ({ ...where, field, reason });
  if (!isObject(req)) {
    sink.reject(where0('', `an OTLP request must be a JSON object, got ${typeName(req)}`), raw);
    return;
  }
  const rss = req.resourceSpans;
  if (rss === undefined) {
    // An empty export request is `{}` in JSON; any other object is not OTLP traces at all.
    const keys = Object.keys(req);
    if (keys.length > 0)
      sink.reject(
        where0(
          'resourceSpans',
          `is missing: this is not an OTLP traces request (its fields: ${keys
            .slice(0, 5)
            .map((k) => clip(k, 40))
            .join(', ')}${keys.length > 5 ? ', …' : ''}); is --format right?`,
        ),
        raw,
      );
    return;
  }
  if (!Array.isArray(rss)) {
    sink.reject(where0('resourceSpans', `must be an array, got ${typeName(rss)}`), raw);
    return;
  }
  for (let i = 0; i < rss.length; i++) {
    const rs = rss[i];
    const rPath = `resourceSpans[${i}]`;
    if (!isObject(rs)) {
      sink.reject(where0(rPath, `must be an object, got ${typeName(rs)}`), JSON.stringify(rs) ?? '');
      continue;
    }
    let resource: Attrs;
    try {
      resource = resourceAttrs(rs.resource);
    } catch (e) {
      sink.reject(toProblem(e, where, `${rPath}.resource.`), JSON.stringify(rs.resource) ?? '');
      continue;
    }
    // `instrumentationLibrarySpans` is the name before OTLP 0.15; old exporters still write it.
    const scopes = rs.scopeSpans ?? rs.instrumentationLibrarySpans;
    if (scopes === undefined || scopes === null) continue;
    if (!Array.isArray(scopes)) {
      sink.reject(where0(`${rPath}.scopeSpans`, `must be an array, got ${typeName(scopes)}`), '');
      continue;
    }
    for (let j = 0; j < scopes.length; j++) {
      const ss = scopes[j];
      const spans = isObject(ss) ? ss.spans : undefined;
      if (spans === undefined || spans === null) continue;
      if (!Array.isArray(spans)) {
        sink.reject(
          where0(`${rPath}.scopeSpans[${j}].spans`, `must be an array, got ${typeName(spans)}`),
          '',
        );
        continue;
      }
      for (let k = 0; k < spans.length; k++) {
        const span = spans[k];
        try {
          const r = mapSpan(span, resource, now);
          if (r === null) sink.ignore(null);
          else if ('source' in r) sink.event(r);
          else sink.ignore(r);
        } catch (err) {
          if (!(err instanceof FieldError)) throw err;
          const path = `${rPath}.scopeSpans[${j}].spans[${k}]`;
          const a: Attrs = { values: resource.values.slice(), from: resource.from?.slice() ?? [] };
          try {
            if (isObject(span)) collect(span.attributes, a, false);
          } catch {
            // The attribute list itself is what is wrong; the path says so.
          }
          sink.reject(where0(fieldPath(err, path, `${rPath}.resource`, a), err.reason), quarantineText(span));
        }
      }
    }
  }
}
