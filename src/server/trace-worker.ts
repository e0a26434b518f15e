/**
 * A worker thread of `TracePool`: decodes and maps one traces request per
 * message with the same `parseTraces` as the main thread, and posts back
 * the events (packed when they can be: `records-pack.ts`) or the error that
 * refuses the request, as data.
 */
import { parentPort } from 'node:worker_threads';
import { type OtlpEncoding, type ParsedTraces, parseTraces } from './ingest.js';
import { type PackedTraces, packTraces } from './records-pack.js';
import { type ErrorData, errorData } from './trace-pool.js';

export interface TraceJob {
  id: number;
  encoding: OtlpEncoding;
  body: Uint8Array;
  now: number;
}

export type TraceResult =
  | { id: number; parsed: ParsedTraces }
  | { id: number; packed: PackedTraces }
  | { id: number; error: ErrorData };

/** The reply for a parsed request, and the buffers it hands over. */
function replyOf(id: number, parsed: ParsedTraces): [TraceResult, ArrayBuffer[]] {
  const packed = packTraces(parsed);
  return packed === null ? [{ id, parsed }, []] : [{ id, packed: packed.traces }, packed.buffers];
}

const port = parentPort;
port?.on('message', (job: TraceJob) => {
  let reply: [TraceResult, ArrayBuffer[]];
  try {
    const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    reply = replyOf(job.id, parseTraces(job.encoding, body, job.now));
  } catch (e) {
    reply = [{ id: job.id, error: errorData(e) }, []];
  }
  port.postMessage(...reply);
});
