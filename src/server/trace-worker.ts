/**
 * A worker thread of `TracePool`: decodes and maps one traces request per
 * message with the same `parseTraces` as the main thread, and posts back
 * the events (or the error that refuses the request, as data).
 */
import { parentPort } from 'node:worker_threads';
import { type OtlpEncoding, type ParsedTraces, parseTraces } from './ingest.js';
import { type ErrorData, errorData } from './trace-pool.js';

export interface TraceJob {
  id: number;
  encoding: OtlpEncoding;
  body: Uint8Array;
  now: number;
}

export type TraceResult = { id: number; parsed: ParsedTraces } | { id: number; error: ErrorData };

const port = parentPort;
port?.on('message', (job: TraceJob) => {
  let reply: TraceResult;
  try {
    const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    reply = { id: job.id, parsed: parseTraces(job.encoding, body, job.now) };
  } catch (e) {
    reply = { id: job.id, error: errorData(e) };
  }
  port.postMessage(reply);
});
