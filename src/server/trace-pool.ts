/**
 * Worker threads that decode and map OTLP traces requests and events bodies
 * (canonical events, LiteLLM's payloads), so that the main thread, which
 * appends to the store and answers requests, does not also build each
 * request's object tree (docs/decisions.md, "spans off the main thread",
 * "events off the main thread"). Each worker runs the same `parseTraces` and
 * `parseEvents` as the main thread; a body too small to be worth the
 * hand-over is parsed in this thread.
 * Workers start on first use (or all at once, `start`), hold the process only while they have work,
 * and a worker that dies fails its requests (a 500) and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { TallyError } from '../core/errors.js';
import { type HttpCode, HttpError } from './errors.js';
import {
  type EventsParser,
  type ParsedEvents,
  type ParsedTraces,
  parseEventsHere,
  parseTracesHere,
  type TraceParser,
} from './ingest.js';
import { unpackEvents, unpackTraces } from './records-pack.js';
import type { ParseJob, ParseResult, ParseWork } from './trace-worker.js';

/** Bodies smaller than this are parsed in this thread (about a millisecond's work). */
export const MIN_WORKER_BYTES = 32 * 1024;

const WORKER_SCRIPT = new URL('./trace-worker.js', import.meta.url);

/** An error that refuses a request, as it crosses between threads. */
export interface ErrorData {
  kind: 'http' | 'tally' | 'other';
  code: string;
  message: string;
}

export function errorData(e: unknown): ErrorData {
  if (e instanceof HttpError) return { kind: 'http', code: e.code, message: e.message };
  if (e instanceof TallyError) return { kind: 'tally', code: e.code, message: e.message };
  return { kind: 'other', code: '', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

function errorOf(d: ErrorData): Error {
  if (d.kind === 'http') return new HttpError(d.code as HttpCode, d.message);
  if (d.kind === 'tally') return new TallyError(d.code as TallyError['code'], d.message);
  return new Error(`a trace parse worker failed: ${d.message}`);
}

interface Waiting {
  resolve(p: ParsedTraces | ParsedEvents): void;
  reject(e: Error): void;
}

class Slot {
  readonly pending = new Map<number, Waiting>();
  readonly worker: Worker;

  constructor(script: URL, onGone: (slot: Slot) => void) {
    this.worker = new Worker(script);
    this.worker.unref();
    this.worker.on('message', (r: ParseResult) => this.settle(r));
    const gone = (e: unknown) => {
      onGone(this);
      const err = new Error(`a trace parse worker stopped: ${e instanceof Error ? e.message : String(e)}`);
      for (const w of this.pending.values()) w.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', gone);
    this.worker.on('exit', (code) => gone(`exit code ${code}`));
  }

  post(job: ParseJob, w: Waiting): void {
    // A worker holds the process only while a request waits for it.
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(job.id, w);
    this.worker.postMessage(job, [job.body.buffer as ArrayBuffer]);
  }

  private settle(r: ParseResult): void {
    const w = this.pending.get(r.id);
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    if (w === undefined) return;
    if ('packed' in r) w.resolve(unpackTraces(r.packed));
    else if ('packedEvents' in r) w.resolve(unpackEvents(r.packedEvents));
    else if ('parsed' in r) w.resolve(r.parsed);
    else w.reject(errorOf(r.error));
  }
}

export class TracePool {
  private slots: Slot[] = [];
  private seq = 0;

  /** `size` workers at most; `script` is the worker's module (tests run it from the build). */
  constructor(
    readonly size: number,
    private readonly script: URL = WORKER_SCRIPT,
    private readonly minBytes = MIN_WORKER_BYTES,
  ) {}

  readonly parse: TraceParser = (encoding, body, now) =>
    this.size < 1 || body.length < this.minBytes
      ? parseTracesHere(encoding, body, now)
      : (this.inWorker({ kind: 'traces', encoding, now }, body) as Promise<ParsedTraces>);

  readonly parseEvents: EventsParser = (format, contentType, body, now) =>
    this.size < 1 || body.length < this.minBytes
      ? parseEventsHere(format, contentType, body, now)
      : (this.inWorker({ kind: 'events', format, contentType, now }, body) as Promise<ParsedEvents>);

  /** How many workers are running. */
  get running(): number {
    return this.slots.length;
  }

  /**
   * Starts every worker now rather than at the first large body: a worker takes a hundred
   * milliseconds or more to load its modules, which the first requests would otherwise wait for.
   */
  start(): void {
    while (this.slots.length < this.size) this.slots.push(this.newSlot());
  }

  /**
   * Parses `body` once in every worker, starting them first, or here when there are none (a
   * server's warm-up, src/server/warm-up.ts): the results, one per worker.
   */
  everywhere(what: ParseWork, body: Buffer): Promise<(ParsedTraces | ParsedEvents)[]> {
    if (this.size < 1)
      return Promise.all([
        what.kind === 'traces'
          ? parseTracesHere(what.encoding, body, what.now)
          : parseEventsHere(what.format, what.contentType, body, what.now),
      ]);
    this.start();
    return Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<ParsedTraces | ParsedEvents>((resolve, reject) =>
            slot.post(this.job(what, body), { resolve, reject }),
          ),
      ),
    );
  }

  /** Stops the workers; requests still waiting fail. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private inWorker(what: ParseWork, body: Buffer): Promise<ParsedTraces | ParsedEvents> {
    const job = this.job(what, body);
    return new Promise((resolve, reject) => this.slot().post(job, { resolve, reject }));
  }

  private job(what: ParseWork, body: Buffer): ParseJob {
    // A copy of its own, handed over without another copy; the caller's buffer stays usable.
    return { ...what, id: this.seq++, body: new Uint8Array(body) };
  }

  /** The least busy worker, starting another while fewer than `size` run and all are busy. */
  private slot(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (best === undefined || s.pending.size < best.pending.size) best = s;
    if (best !== undefined && (best.pending.size === 0 || this.slots.length >= this.size)) return best;
    const s = this.newSlot();
    this.slots.push(s);
    return s;
  }

  private newSlot(): Slot {
    return new Slot(this.script, (gone) => {
      this.slots = this.slots.filter((x) => x !== gone);
    });
  }
}
