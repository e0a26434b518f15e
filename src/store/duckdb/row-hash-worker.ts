/**
 * The row hashes of `verify` in a worker thread (row-hash-aside.ts): takes
 * chunks of row texts as DuckDB wrote them, hashes and keeps each row's
 * digest (`RowTextHasher`), and answers `finish` with every batch's count
 * and bucket hashes, having first posted the large batches' upper buckets
 * for the other thread to sort and hash meanwhile. A chunk it fails on is
 * remembered and answered at `finish`; the shared words say how many chunks
 * wait and whether it failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RowTextHasher } from '../audit.js';
import { type AsideMessage, type AsideReply, FAILED, IN_FLIGHT } from './row-hash-aside.js';

const shared = new Int32Array(workerData as SharedArrayBuffer);
const hasher = new RowTextHasher();
let failure: string | null = null;

parentPort?.on('message', (m: AsideMessage) => {
  if (m.kind === 'finish') {
    parentPort?.postMessage(finished(m.split));
    return;
  }
  try {
    // After a failure nothing more is hashed: `finish` answers with it.
    if (failure === null) {
      if (m.kind === 'rows') hasher.addPacked(m.seqs, m.bytes, m.ends);
      else hasher.addDigests(m.seqs, m.digests);
    }
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
    Atomics.store(shared, FAILED, 1);
  }
  Atomics.sub(shared, IN_FLIGHT, 1);
  Atomics.notify(shared, IN_FLIGHT);
});

/**
 * The answer to `finish`: every batch's count and bucket hashes, those of the large batches'
 * buckets from `split` on left out and posted first, for the other thread to hash meanwhile.
 */
function finished(split: number): AsideReply {
  try {
    if (failure !== null) throw new Error(failure);
    const taken = [...hasher.takeBuckets(split)];
    // Moved, not copied: a month's upper buckets are 160 MB.
    const buffers = new Set(
      taken.flatMap(([, buckets]) => buckets.flat().map((b) => b.buffer as ArrayBuffer)),
    );
    parentPort?.postMessage({ kind: 'taken', taken } satisfies AsideReply, [...buffers]);
    return { kind: 'done', batches: [...hasher.finishBuckets()] };
  } catch (e) {
    return { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}
