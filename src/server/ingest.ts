/**
 * The ingest endpoints. A reply is sent only after the store's transaction
 * for the request has committed (on a replica, SPEC §10: after the ingest
 * stream has acknowledged it); ids make retries idempotent.
 */

import { isUtf8 } from 'node:buffer';
import { formatProblem, InputError, type Problem } from '../core/errors.js';
import type { TraceLink, UsageEvent } from '../core/event.js';
import type { Where } from '../ingest/fields.js';
import { canonicalRecordToEvent, litellmPayloadToEvent, otlpRequestToEvents } from '../ingest/index.js';
import { jsonShape, MAX_JSON_DEPTH, tooDeepAt } from '../ingest/limits.js';
import type { Store } from '../store/store.js';
import { HttpError } from './errors.js';
import { decodeTraceRequest, encodeTraceResponse, MAX_SPANS_PER_REQUEST } from './otlp-proto.js';
import type { Committed, EventWriter } from './writer.js';

export type OtlpEncoding = 'protobuf' | 'json';

export function otlpEncoding(contentType: string | null): OtlpEncoding {
  const ct = mediaType(contentType);
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  throw new HttpError(
    'unsupported_media_type',
    'OTLP/HTTP takes Content-Type application/x-protobuf or application/json',
  );
}

function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The body as text: UTF-8 only, never with replacement characters (distinct ids must not collide). */
function bodyText(body: Buffer): string {
  if (!isUtf8(body)) throw new HttpError('invalid_input', 'the body is not valid UTF-8');
  return body.toString('utf8');
}

/** Parses a body whose `shape` (`jsonShape`) was taken first; refuses it past a bound before parsing. */
function parseJson(text: string, shape = jsonShape(text)): unknown {
  const deep = shape.tooDeepAt;
  if (deep >= 0)
    throw new HttpError(
      'invalid_input',
      `the body is nested deeper than ${MAX_JSON_DEPTH} levels (at character ${deep})`,
    );
  // Parsing millions of empty objects takes seconds; counting them, milliseconds.
  if (shape.containers > MAX_JSON_CONTAINERS) throw tooMany('JSON objects and arrays', MAX_JSON_CONTAINERS);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError('invalid_input', 'the body is not valid JSON');
  }
}

/**
 * JSON objects and arrays in one request body; beyond it a 413. A dense
 * OTLP request of 16 MiB (the default body limit) holds about 550 000.
 */
export const MAX_JSON_CONTAINERS = 1_000_000;

/** Records in one request to /v1/events; beyond it a 413, whatever they hold. */
export const MAX_RECORDS_PER_REQUEST = 100_000;

function tooMany(what: string, max: number): HttpError {
  return new HttpError(
    'payload_too_large',
    `the request holds more than ${max} ${what}; send them in several requests`,
  );
}

/** Counts the spans of an OTLP/JSON request before any is mapped. */
function checkSpanCount(request: unknown): void {
  let n = 0;
  const list = (v: unknown, key: string): unknown[] =>
    isObject(v) && Array.isArray(v[key]) ? (v[key] as unknown[]) : [];
  for (const rs of list(request, 'resourceSpans'))
    for (const ss of [...list(rs, 'scopeSpans'), ...list(rs, 'instrumentationLibrarySpans')]) {
      n += list(ss, 'spans').length;
      if (n > MAX_SPANS_PER_REQUEST) throw tooMany('spans', MAX_SPANS_PER_REQUEST);
    }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface TracesReply {
  result: Committed;
  rejected: number;
  /** Spans that are not AI work (SPEC §3.2). */
  ignored: number;
  body: Buffer | string;
}

/** A traces request decoded and mapped, before anything is stored: what a parse worker hands back. */
export interface ParsedTraces {
  events: UsageEvent[];
  links: TraceLink[];
  /** Spans that are not AI work (SPEC §3.2). */
  ignored: number;
  /** Invalid spans, and the partial-success message that names the first of them. */
  rejected: number;
  message: string;
}

/** Decodes and maps a traces request (in this thread or in a worker, src/server/trace-pool.ts). */
export type TraceParser = (encoding: OtlpEncoding, body: Buffer, now: number) => Promise<ParsedTraces>;

const SHOWN_PROBLEMS = 5;

/** Problems listed in a 400 to /v1/events; the rest are counted. */
const MAX_PROBLEMS_SHOWN = 100;

/**
 * Decodes (protobuf) or parses (JSON) a traces request within its bounds and maps its spans.
 * Throws HttpError or TallyError (`invalid_input`) when the body as a whole is unreadable.
 */
export function parseTraces(encoding: OtlpEncoding, body: Buffer, now: number): ParsedTraces {
  const request = encoding === 'protobuf' ? decodeTraceRequest(body) : parseJson(bodyText(body));
  if (encoding === 'json') checkSpanCount(request);
  const parsed = otlpRequestToEvents(request, { file: 'request', now, skipInvalid: true });
  const { rejected } = parsed;
  const message =
    rejected.length === 0
      ? ''
      : rejected
          .slice(0, SHOWN_PROBLEMS)
          .map((r) => formatProblem({ ...r.problem, file: undefined }))
          .join('; ') +
        (rejected.length > SHOWN_PROBLEMS ? `; … and ${rejected.length - SHOWN_PROBLEMS} more` : '');
  return {
    events: parsed.events,
    links: parsed.links ?? [],
    ignored: parsed.ignored ?? 0,
    rejected: rejected.length,
    message,
  };
}

/** `parseTraces` in this thread. */
export const parseTracesHere: TraceParser = async (encoding, body, now) => parseTraces(encoding, body, now);

export async function ingestTraces(
  store: Store,
  writer: EventWriter,
  encoding: OtlpEncoding,
  body: Buffer,
  now: number,
  parse: TraceParser = parseTracesHere,
): Promise<TracesReply> {
  const { events, links, ignored, rejected, message } = await parse(encoding, body, now);
  const result =
    events.length > 0 || links.length > 0
      ? await writer.write('otlp:http', events, links)
      : { batch: null, stored: 0, duplicates: 0, superseded: 0, requests: 1 };
  if (rejected > 0) await store.countRejected(rejected);
  if (ignored > 0) await store.countIgnored(ignored);
  const reply =
    encoding === 'protobuf'
      ? encodeTraceResponse(rejected, message)
      : JSON.stringify(
          rejected === 0
            ? {}
            : { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } },
        );
  return { result, rejected, ignored, body: reply };
}

/** The records of a JSON (array or object) or NDJSON body, with the number each is reported by. */
interface BodyRecords {
  records: unknown[];
  /** Line numbers (NDJSON), else null: records are then numbered by their index. */
  lineNos: number[] | null;
  kind: 'line' | 'record';
}

/** An events request parsed and mapped, before anything is stored: what a parse worker hands back. */
export interface ParsedEvents {
  events: UsageEvent[];
  /** Invalid records or lines: when any, the request is refused with `problems` and nothing is stored. */
  rejected: number;
  problems: Problem[];
}

/** Which mapping an events body takes: canonical events (/v1/events) or LiteLLM's payloads. */
export type EventsFormat = 'canonical' | 'litellm';

/** Parses and maps an events body (in this thread or in a worker, src/server/trace-pool.ts). */
export type EventsParser = (
  format: EventsFormat,
  contentType: string | null,
  body: Buffer,
  now: number,
) => Promise<ParsedEvents>;

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/ndjson'];

/**
 * Parses and maps an events body; all or nothing: any invalid record (or NDJSON line that is not
 * JSON) makes it a refusal, with up to 100 problems listed, each naming its record and field.
 * Throws HttpError when the body as a whole is unreadable or too large.
 */
export function parseEvents(
  format: EventsFormat,
  contentType: string | null,
  body: Buffer,
  now: number,
): ParsedEvents {
  const { what, ndjsonAsJson, map } = EVENTS_FORMATS[format];
  const records = bodyRecords(contentType, body, what, ndjsonAsJson);
  return 'records' in records ? mapRecords(records, (rec, where) => map(rec, where, now)) : records;
}

/** How each events format is read: its name in errors, whether JSON may be NDJSON, its mapping. */
const EVENTS_FORMATS: Record<
  EventsFormat,
  {
    what: string;
    ndjsonAsJson: boolean;
    map: (rec: unknown, where: Where, now: number) => UsageEvent | Problem;
  }
> = {
  canonical: { what: 'events', ndjsonAsJson: false, map: canonicalRecordToEvent },
  litellm: { what: 'LiteLLM payloads', ndjsonAsJson: true, map: litellmPayloadToEvent },
};

/** `parseEvents` in this thread. */
export const parseEventsHere: EventsParser = async (format, contentType, body, now) =>
  parseEvents(format, contentType, body, now);

/**
 * Splits a body into records: `application/json` (an array or one object) or
 * NDJSON. With `ndjsonAsJson`, an `application/json` body that is not one
 * JSON value is read as NDJSON (LiteLLM's logger sends NDJSON so labelled).
 * Lines that are not JSON refuse the request (400, counted as rejected).
 */
function bodyRecords(
  contentType: string | null,
  body: Buffer,
  what: string,
  ndjsonAsJson = false,
): BodyRecords | ParsedEvents {
  const ct = mediaType(contentType);
  const ndjson = NDJSON_TYPES.includes(ct);
  if (ct !== 'application/json' && !ndjson)
    throw new HttpError(
      'unsupported_media_type',
      `${what} take Content-Type application/json (array or object) or application/x-ndjson`,
    );
  const text = bodyText(body);
  if (!ndjson && !(ndjsonAsJson && isJsonLines(text))) {
    const shape = jsonShape(text);
    if (shape.elements > MAX_RECORDS_PER_REQUEST) throw tooMany('records', MAX_RECORDS_PER_REQUEST);
    const v = parseJson(text, shape);
    const records = Array.isArray(v) ? v : [v];
    if (records.length > MAX_RECORDS_PER_REQUEST) throw tooMany('records', MAX_RECORDS_PER_REQUEST);
    return { records, lineNos: null, kind: 'record' };
  }
  const records: unknown[] = [];
  const lineNos: number[] = [];
  const bad: Problem[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (records.length + bad.length >= MAX_RECORDS_PER_REQUEST)
      throw tooMany('records', MAX_RECORDS_PER_REQUEST);
    if (tooDeepAt(line) >= 0) {
      bad.push({ record: i + 1, recordKind: 'line', reason: `nested deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    try {
      records.push(JSON.parse(line));
      lineNos.push(i + 1);
    } catch {
      bad.push({ record: i + 1, recordKind: 'line', reason: 'not valid JSON' });
    }
  }
  if (bad.length > 0) return { events: [], rejected: bad.length, problems: bad };
  return { records, lineNos, kind: 'line' };
}

/** Whether a body holds more than one line of JSON values: `{…}\n{…}`, not one value over several lines. */
function isJsonLines(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return false;
  const first = lines[0]?.trim() ?? '';
  return first.startsWith('{') && first.endsWith('}');
}

/** Maps every record; the invalid ones are counted, and up to 100 listed. */
function mapRecords(
  body: BodyRecords,
  map: (rec: unknown, where: Where) => UsageEvent | Problem,
): ParsedEvents {
  const events: UsageEvent[] = [];
  const problems: Problem[] = [];
  let invalid = 0;
  body.records.forEach((rec, i) => {
    const r = map(rec, { file: 'request', record: body.lineNos?.[i] ?? i, recordKind: body.kind });
    if (!('reason' in r)) events.push(r);
    else if (++invalid <= MAX_PROBLEMS_SHOWN) problems.push(r);
  });
  if (invalid > MAX_PROBLEMS_SHOWN)
    problems.push({ reason: `… and ${invalid - MAX_PROBLEMS_SHOWN} more invalid records` });
  return { events: invalid > 0 ? [] : events, rejected: invalid, problems };
}

const NOTHING: Committed = { batch: null, stored: 0, duplicates: 0, superseded: 0, requests: 1 };

/**
 * Canonical events: a JSON array or object, or NDJSON. All or nothing: one bad record refuses the request.
 * `label` names the batch (a pulled page's carries the pull's cursor, src/server/routes/pull.ts).
 */
export async function ingestEvents(
  store: Store,
  writer: EventWriter,
  contentType: string | null,
  body: Buffer,
  now: number,
  parse: EventsParser = parseEventsHere,
  label = 'events:http',
): Promise<Committed> {
  return commitParsed(store, writer, label, await parse('canonical', contentType, body, now));
}

/**
 * LiteLLM's logging payloads (its generic API callback): one object, a JSON
 * array or NDJSON, whatever the Content-Type says. All or nothing.
 */
export async function ingestLitellm(
  store: Store,
  writer: EventWriter,
  contentType: string | null,
  body: Buffer,
  now: number,
  parse: EventsParser = parseEventsHere,
): Promise<Committed> {
  return commitParsed(store, writer, 'litellm:http', await parse('litellm', contentType, body, now));
}

/** Counts a refused request's records as rejected and refuses it; else stores its events. */
async function commitParsed(
  store: Store,
  writer: EventWriter,
  label: string,
  parsed: ParsedEvents,
): Promise<Committed> {
  if (parsed.rejected > 0) {
    await store.countRejected(parsed.rejected);
    throw new InputError(parsed.problems);
  }
  return parsed.events.length === 0 ? NOTHING : writer.write(label, parsed.events);
}
