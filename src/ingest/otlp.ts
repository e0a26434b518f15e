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
import { emptyEvent, type UsageEvent } from '../core/event.js';
import {
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

const KEYS = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.response.model',
  'gen_ai.request.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
  'gen_ai.tool.name',
  'gen_ai.data_source.id',
  'tenant.id',
  'deployment.environment.name',
  'deployment.environment',
  'error.type',
  'client.address',
  'service.name',
  'gen_ai.agent.id',
  'gen_ai.agent.name',
  'tally.api_key',
  'gen_ai.request.api_key_id',
] as const;

const OP = 0;
const PROVIDER = 1;
const SYSTEM = 2;
const RESPONSE_MODEL = 3;
const REQUEST_MODEL = 4;
const INPUT = 5;
const OUTPUT = 6;
const PROMPT = 7;
const COMPLETION = 8;
const CACHE_READ = 9;
const CACHE_WRITE = 10;
const REASONING = 11;
const TOOL = 12;
const DATA_SOURCE = 13;
const TENANT = 14;
const ENVIRONMENT = 15;
const ENVIRONMENT_OLD = 16;
const ERROR_TYPE = 17;
const CLIENT = 18;
const SERVICE = 19;
const AGENT_ID = 20;
const AGENT_NAME = 21;
const API_KEY = 22;
const API_KEY_ID = 23;
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

/** One span to an event, or null when it is not AI work. Throws FieldError. */
function spanEvent(
  span: unknown,
  resource: Attrs,
  now: number,
  ignored: Map<string, string | null>,
): UsageEvent | null {
  if (!isObject(span)) return fail(undefined, `a span must be an object, got ${typeName(span)}`);
  const a: Attrs = { values: resource.values.slice() };
  collect(span.attributes, a, false);
  const operation = str(a, OP);
  if (operation === null) {
    noteIgnored(span, ignored);
    return null;
  }
  const traceId = hexId(span.traceId, 16, 'traceId');
  const spanId = hexId(span.spanId, 8, 'spanId');
  const parent = parentId(span.parentSpanId);
  const e = emptyEvent(`${traceId}:${spanId}`, 'otlp', startTime(span.startTimeUnixNano, now));
  e.operation = operation;
  e.provider = str(a, PROVIDER) ?? str(a, SYSTEM);
  e.model = str(a, RESPONSE_MODEL) ?? str(a, REQUEST_MODEL);
  e.input_tokens = num(a, INPUT) ?? num(a, PROMPT) ?? 0;
  e.output_tokens = num(a, OUTPUT) ?? num(a, COMPLETION) ?? 0;
  e.cache_read_tokens = num(a, CACHE_READ) ?? 0;
  e.cache_write_tokens = num(a, CACHE_WRITE) ?? 0;
  e.reasoning_tokens = num(a, REASONING) ?? 0;
  e.tool = str(a, TOOL);
  e.data_source = str(a, DATA_SOURCE);
  e.api_key = str(a, API_KEY) ?? str(a, API_KEY_ID);
  e.service = str(a, SERVICE);
  e.agent = str(a, AGENT_ID) ?? str(a, AGENT_NAME);
  e.tenant = str(a, TENANT);
  e.environment = str(a, ENVIRONMENT) ?? str(a, ENVIRONMENT_OLD);
  e.trace_id = traceId;
  e.span_id = spanId;
  e.parent_span_id = parent;
  if (isError(span.status)) e.status = 'error';
  e.error_type = str(a, ERROR_TYPE);
  e.client_address = str(a, CLIENT);
  return redactEvent(e);
}

function parentId(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : hexId(v, 8, 'parentSpanId');
}

/** Remembers an ignored span's parent for re-parenting; a span with broken ids is simply skipped. */
function noteIgnored(span: Record<string, unknown>, ignored: Map<string, string | null>): void {
  try {
    ignored.set(hexId(span.spanId, 8, 'spanId'), parentId(span.parentSpanId));
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
  }
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
  if (rss === undefined) return;
  if (!Array.isArray(rss)) {
    sink.reject(where0('resourceSpans', `must be an array, got ${typeName(rss)}`), raw);
    return;
  }
  const events: UsageEvent[] = [];
  const ignored = new Map<string, string | null>();
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
          const e = spanEvent(span, resource, now, ignored);
          if (e) events.push(e);
          else sink.ignore();
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
  if (ignored.size > 0) reparent(events, ignored);
  for (const e of events) sink.event(e);
}

function reparent(events: UsageEvent[], ignored: Map<string, string | null>): void {
  for (const e of events) {
    let p = e.parent_span_id;
    for (let hops = 0; p !== null && ignored.has(p) && hops < 1000; hops++) p = ignored.get(p) ?? null;
    e.parent_span_id = p;
  }
}
