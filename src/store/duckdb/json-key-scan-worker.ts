/**
 * The key scan of a JSON lines file (json-key-scan.ts) in a worker thread:
 * `scanJsonKeysAside` starts it with the file, the known keys and their
 * kinds, and it posts the scan's result back once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type KeyScanJob, type KeyScanResult, scanJsonKeysSync } from './json-key-scan.js';

const job = workerData as KeyScanJob;
let result: KeyScanResult;
try {
  result = scanJsonKeysSync(job.path, job.known, job.kinds);
} catch (e) {
  result = { ok: false, line: 0, reason: `cannot read: ${e instanceof Error ? e.message : String(e)}` };
}
parentPort?.postMessage(result);
