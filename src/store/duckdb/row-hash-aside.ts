/**
 * Row texts hashed in a worker thread (row-hash-worker.ts) instead of on the
 * thread that answers DuckDB's callbacks. A DuckDB thread that hands a chunk
 * of texts to the row-text function (row-text-sink.ts) waits until the main
 * thread has taken it; hashing each row there made the main thread the
 * bottleneck of a month's `verify` (busy ~90 % while DuckDB's threads waited
 * on it). Here the main thread copies the chunk's texts out and posts them;
 * the worker hashes and keeps the digests and folds them at the end, with the
 * same `RowTextHasher`, so the content hashes are the same.
 *
 * At most `MAX_IN_FLIGHT` chunks of texts wait for the worker: past that the
 * main thread hashes the next chunk itself and posts its digests, which the
 * worker adds to the same buckets (a month's worker was busy throughout, and
 * the main thread waited on it for seconds). Past `MAX_WITH_DIGESTS` chunks
 * of either kind it waits (`Atomics.wait`), so memory stays bounded.
 */
import { on } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type BatchContent, bucketHash, contentOfBuckets, packedDigests } from '../audit.js';
import type { PackedTexts } from './text-bytes.js';

/**
 * A chunk of rows, or of rows hashed by the caller (32 bytes a row), or the end (the large
 * batches' buckets from `split` on to be hashed by the caller).
 */
export type AsideMessage =
  | { kind: 'rows'; seqs: Int32Array; bytes: Uint8Array; ends: Uint32Array }
  | { kind: 'digests'; seqs: Int32Array; digests: Uint8Array }
  | { kind: 'finish'; split: number };

/**
 * The worker's answers to `finish`: the large batches' buckets it leaves to the caller (their
 * digests, unsorted), then each batch's count and bucket hashes ('' for those left); or why it failed.
 */
export type AsideReply =
  | { kind: 'taken'; taken: [number, Uint8Array[][]][] }
  | { kind: 'done'; batches: [number, { count: number; hashes: string[] }][] }
  | { kind: 'failed'; message: string };

/**
 * The bucket from which a large batch's buckets are sorted and hashed by the calling thread while
 * the worker does those below: the fold at the end took a month's single batch 1.6 s on one thread.
 * Past the middle: the calling thread also joins each bucket's blocks, and took longer with half.
 */
const SPLIT_BUCKET = 144;

/** The shared words: chunks posted and not yet taken by the worker; 1 once it failed on one. */
export const IN_FLIGHT = 0;
export const FAILED = 1;

/**
 * Chunks posted and not yet hashed, at most (each ~2,048 rows of a few hundred bytes): past that
 * the calling thread hashes the next chunk itself.
 */
const MAX_IN_FLIGHT = 32;

/**
 * Chunks in flight, at most, counting those the caller hashed itself: each of those is its
 * digests (64 KiB for 2,048 rows), which the worker adds in a fraction of the time hashing took.
 */
const MAX_WITH_DIGESTS = 256;

/** A worker that takes no chunk for this long is taken as stopped (it cannot be asked while this thread waits). */
const STALLED_MS = 60_000;

/**
 * Windows of fewer rows are hashed on the calling thread. The worker pays where that thread is
 * the bottleneck for long: the benchmark month's 10M rows in one batch, 11.2–12.0 → 10.2–10.4 s.
 * On B1's store (1M rows of every field, longer texts) it cost more than it saved (1.38–1.42 →
 * 1.52–1.58 s: the worker's start, and the texts copied and posted).
 */
export const MIN_ASIDE_ROWS = 2_000_000;

const WORKER_SCRIPT = new URL('./row-hash-worker.js', import.meta.url);

export class AsideHasher {
  private readonly shared: Int32Array;

  /** Chunks hashed on the calling thread (`take`). */
  hashedHere = 0;

  private constructor(
    private readonly worker: Worker,
    buffer: SharedArrayBuffer,
    private readonly maxInFlight: number,
  ) {
    this.shared = new Int32Array(buffer);
    // An error is answered by `finish` (or seen as a stall); without a listener it would be thrown.
    worker.on('error', () => Atomics.store(this.shared, FAILED, 1));
  }

  /**
   * A hasher in a worker, or null where the worker's built script is not there to run (the
   * sources run by the tests, before they are built): the caller then hashes on its thread.
   */
  static start(script: URL = WORKER_SCRIPT, maxInFlight = MAX_IN_FLIGHT): AsideHasher | null {
    if (!existsSync(fileURLToPath(script))) return null;
    const buffer = new SharedArrayBuffer(8);
    return new AsideHasher(new Worker(script, { workerData: buffer }), buffer, maxInFlight);
  }

  /**
   * Posts a chunk's rows: their batch numbers and texts; or, while too many wait for the worker,
   * their digests, hashed here instead of waiting (this thread and DuckDB's, which waits on it,
   * were otherwise idle while the worker caught up).
   */
  take(seqs: Int32Array, texts: PackedTexts): void {
    if (Atomics.load(this.shared, FAILED) === 1) throw new Error('hashing the row texts failed');
    if (Atomics.load(this.shared, IN_FLIGHT) < this.maxInFlight) {
      this.post({ kind: 'rows', seqs, bytes: texts.bytes, ends: texts.ends }, texts.ends.buffer);
      return;
    }
    this.waitBelow(MAX_WITH_DIGESTS);
    const digests = packedDigests(texts.bytes, texts.ends);
    this.hashedHere++;
    this.post({ kind: 'digests', seqs, digests }, digests.buffer);
  }

  /** Posts a chunk, counted in flight until the worker has taken it; its batch numbers and `moved` are moved, not copied. */
  private post(message: AsideMessage & { seqs: Int32Array }, moved: ArrayBufferLike): void {
    Atomics.add(this.shared, IN_FLIGHT, 1);
    this.worker.postMessage(message, [message.seqs.buffer as ArrayBuffer, moved as ArrayBuffer]);
  }

  private waitBelow(max: number): void {
    let since = Date.now();
    for (let n = Atomics.load(this.shared, IN_FLIGHT); n >= max; ) {
      if (Atomics.load(this.shared, FAILED) === 1) throw new Error('hashing the row texts failed');
      if (Atomics.wait(this.shared, IN_FLIGHT, n, 100) === 'timed-out' && Date.now() - since > STALLED_MS)
        throw new Error('the row hashing thread stopped taking rows');
      const now = Atomics.load(this.shared, IN_FLIGHT);
      if (now !== n) since = Date.now();
      n = now;
    }
  }

  /**
   * Every batch's count and content hash, once every chunk posted is hashed: the large batches'
   * buckets from `SPLIT_BUCKET` on sorted and hashed here while the worker does the rest. The
   * worker then ends.
   */
  async finish(): Promise<Map<number, BatchContent>> {
    const replies = this.replies();
    try {
      this.worker.postMessage({ kind: 'finish', split: SPLIT_BUCKET } satisfies AsideMessage);
      const first = (await replies.next()).value;
      if (first?.kind === 'failed') throw new Error(first.message);
      if (first?.kind !== 'taken') throw new Error('the row hashing thread answered out of turn');
      const upper = new Map(first.taken.map(([seq, buckets]) => [seq, buckets.map(bucketHash)]));
      const last = (await replies.next()).value;
      if (last?.kind === 'failed') throw new Error(last.message);
      if (last?.kind !== 'done') throw new Error('the row hashing thread answered out of turn');
      const out = new Map<number, BatchContent>();
      for (const [seq, { count, hashes }] of last.batches) {
        for (const [i, h] of (upper.get(seq) ?? []).entries()) hashes[SPLIT_BUCKET + i] = h;
        out.set(seq, { count, content: contentOfBuckets(hashes) });
      }
      return out;
    } finally {
      await replies.return();
      await this.worker.terminate();
    }
  }

  /** The worker's answers in turn (`events.on` keeps those not yet asked for); an error or its end fails the one awaited. */
  private async *replies(): AsyncGenerator<AsideReply, void, undefined> {
    const ended = new AbortController();
    this.worker.once('exit', () => ended.abort(new Error('the row hashing thread ended')));
    try {
      for await (const [reply] of on(this.worker, 'message', { signal: ended.signal }))
        yield reply as AsideReply;
    } catch (e) {
      throw ended.signal.aborted ? ended.signal.reason : e;
    }
  }

  /** Ends the worker without an answer (the hashing failed). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
