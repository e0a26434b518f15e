/**
 * The key scan of a JSON lines file (json-key-scan.ts) in a worker thread:
 * `scanJsonKeysAside` starts it with the file, the known keys and their
 * kinds, and it posts the scan's result back once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type KeyScanJob, scanJsonKeys } from './json-key-scan.js';

const job = workerData as KeyScanJob;
scanJsonKeys(job.path, job.known, () => false, job.kinds).then(
  (result) => parentPort?.postMessage(result),
  (e: unknown) =>
    parentPort?.postMessage({
      ok: false,
      line: 0,
      reason: `cannot read: ${e instanceof Error ? e.message : String(e)}`,
    }),
);
