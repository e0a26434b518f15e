/**
 * The row hashes of `verify` in a worker thread (row-hash-aside.ts): takes
 * chunks of row texts as DuckDB wrote them, hashes and keeps each row's
 * digest (`RowTextHasher`), and answers `finish` with every batch's count
 * and content hash. A chunk it fails on is remembered and answered at
 * `finish`; the shared words say how many chunks wait and whether it failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RowTextHasher } from '../audit.js';
import { type AsideMessage, type AsideReply, FAILED, IN_FLIGHT } from './row-hash-aside.js';

const shared = new Int32Array(workerData as SharedArrayBuffer);
const hasher = new RowTextHasher();
let failure: string | null = null;

function hashRows(m: Extract<AsideMessage, { kind: 'rows' }>): void {
  let at = 0;
  for (let row = 0; row < m.seqs.length; row++) {
    const end = m.ends[row] as number;
    hasher.add(m.seqs[row] as number, m.bytes.subarray(at, end));
    at = end;
  }
}

parentPort?.on('message', (m: AsideMessage) => {
  if (m.kind === 'rows') {
    try {
      if (failure === null) hashRows(m);
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
      Atomics.store(shared, FAILED, 1);
    }
    Atomics.sub(shared, IN_FLIGHT, 1);
    Atomics.notify(shared, IN_FLIGHT);
    return;
  }
  let reply: AsideReply;
  try {
    if (failure !== null) throw new Error(failure);
    reply = { ok: true, contents: [...hasher.finish()] };
  } catch (e) {
    reply = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(reply);
});
