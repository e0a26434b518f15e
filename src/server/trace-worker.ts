/**
 * A worker thread of `TracePool`: decodes and maps one traces request or
 * events body per message with the same `parseTraces` or `parseEvents` as
 * the main thread, and posts back the events (packed when they can be:
 * `records-pack.ts`) or the error that refuses the request, as data.
 */
import { parentPort } from 'node:worker_threads';
import {
  type EventsFormat,
  type OtlpEncoding,
  type ParsedEvents,
  type ParsedTraces,
  parseEvents,
  parseTraces,
} from './ingest.js';
import { type PackedEvents, type PackedTraces, packEvents, packTraces } from './records-pack.js';
import { type ErrorData, errorData } from './trace-pool.js';

/** What a body is to be parsed as. */
export type ParseWork =
  | { kind: 'traces'; encoding: OtlpEncoding; now: number }
  | { kind: 'events'; format: EventsFormat; contentType: string | null; now: number };

export type ParseJob = ParseWork & { id: number; body: Uint8Array };

export type ParseResult =
  | { id: number; parsed: ParsedTraces | ParsedEvents }
  | { id: number; packed: PackedTraces }
  | { id: number; packedEvents: PackedEvents }
  | { id: number; error: ErrorData };

/** The reply for a parsed traces request, and the buffers it hands over. */
function tracesReply(id: number, parsed: ParsedTraces): [ParseResult, ArrayBuffer[]] {
  const packed = packTraces(parsed);
  return packed === null ? [{ id, parsed }, []] : [{ id, packed: packed.traces }, packed.buffers];
}

/** The reply for a parsed events body, and the buffers it hands over. */
function eventsReply(id: number, parsed: ParsedEvents): [ParseResult, ArrayBuffer[]] {
  const packed = packEvents(parsed);
  return packed === null ? [{ id, parsed }, []] : [{ id, packedEvents: packed.packed }, packed.buffers];
}

function replyOf(job: ParseJob): [ParseResult, ArrayBuffer[]] {
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  return job.kind === 'traces'
    ? tracesReply(job.id, parseTraces(job.encoding, body, job.now))
    : eventsReply(job.id, parseEvents(job.format, job.contentType, body, job.now));
}

const port = parentPort;
port?.on('message', (job: ParseJob) => {
  let reply: [ParseResult, ArrayBuffer[]];
  try {
    reply = replyOf(job);
  } catch (e) {
    reply = [{ id: job.id, error: errorData(e) }, []];
  }
  port.postMessage(...reply);
});
