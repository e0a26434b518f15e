/**
 * The ingest endpoints. A reply is sent only after the store's transaction
 * for the request has committed; ids make retries idempotent.
 */

import { formatProblem, InputError, type Problem } from '../core/errors.js';
import type { UsageEvent } from '../core/event.js';
import { canonicalRecordToEvent, otlpRequestToEvents } from '../ingest/index.js';
import type { Store } from '../store/store.js';
import { HttpError } from './errors.js';
import { decodeTraceRequest, encodeTraceResponse } from './otlp-proto.js';
import type { Committed, GroupWriter } from './writer.js';

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

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError('invalid_input', 'the body is not valid JSON');
  }
}

export interface TracesReply {
  result: Committed;
  rejected: number;
  body: Buffer | string;
}

const SHOWN_PROBLEMS = 5;

export async function ingestTraces(
  store: Store,
  writer: GroupWriter,
  encoding: OtlpEncoding,
  body: Buffer,
  now: number,
): Promise<TracesReply> {
  const request = encoding === 'protobuf' ? decodeTraceRequest(body) : parseJson(body);
  const { events, rejected } = otlpRequestToEvents(request, { file: 'request', now, skipInvalid: true });
  const result =
    events.length > 0
      ? await writer.write('otlp:http', events)
      : { batch: null, stored: 0, duplicates: 0, superseded: 0, requests: 1 };
  if (rejected.length > 0) await store.countRejected(rejected.length);
  const message =
    rejected.length === 0
      ? ''
      : rejected
          .slice(0, SHOWN_PROBLEMS)
          .map((r) => formatProblem({ ...r.problem, file: undefined }))
          .join('; ') +
        (rejected.length > SHOWN_PROBLEMS ? `; … and ${rejected.length - SHOWN_PROBLEMS} more` : '');
  const reply =
    encoding === 'protobuf'
      ? encodeTraceResponse(rejected.length, message)
      : JSON.stringify(
          rejected.length === 0
            ? {}
            : { partialSuccess: { rejectedSpans: String(rejected.length), errorMessage: message } },
        );
  return { result, rejected: rejected.length, body: reply };
}

/** Canonical events: a JSON array or object, or NDJSON. All or nothing: one bad record refuses the request. */
export async function ingestEvents(
  store: Store,
  writer: GroupWriter,
  contentType: string | null,
  body: Buffer,
  now: number,
): Promise<Committed> {
  const ct = mediaType(contentType);
  let records: unknown[];
  let kind: Problem['recordKind'];
  let lineNos: number[] | null = null;
  if (ct === 'application/json') {
    const v = parseJson(body);
    records = Array.isArray(v) ? v : [v];
    kind = 'record';
  } else if (ct === 'application/x-ndjson' || ct === 'application/jsonl' || ct === 'application/ndjson') {
    records = [];
    const numbers: number[] = [];
    lineNos = numbers;
    const lines = body.toString('utf8').split('\n');
    const bad: Problem[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push(JSON.parse(line));
        numbers.push(i + 1);
      } catch {
        bad.push({ record: i + 1, recordKind: 'line', reason: 'not valid JSON' });
      }
    });
    if (bad.length > 0) {
      await store.countRejected(bad.length);
      throw new InputError(bad);
    }
    kind = 'line';
  } else {
    throw new HttpError(
      'unsupported_media_type',
      'events take Content-Type application/json (array or object) or application/x-ndjson',
    );
  }
  const events: UsageEvent[] = [];
  const problems: Problem[] = [];
  records.forEach((rec, i) => {
    const r = canonicalRecordToEvent(
      rec,
      { file: 'request', record: lineNos?.[i] ?? i, recordKind: kind },
      now,
    );
    if ('reason' in r) problems.push(r);
    else events.push(r);
  });
  if (problems.length > 0) {
    await store.countRejected(problems.length);
    throw new InputError(problems);
  }
  if (events.length === 0) return { batch: null, stored: 0, duplicates: 0, superseded: 0, requests: 1 };
  return writer.write('events:http', events);
}
