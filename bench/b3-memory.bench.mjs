// B3: peak memory while ingesting a 10M-event canonical JSON lines file
// (~6.9 GB, generated on the fly and deleted afterwards) through the bulk
// path. The peak is the process's VmHWM, which includes DuckDB's native
// memory. `TALLY_B3_EVENTS` changes the size.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../dist/store/open.js';
import { generate } from './b1-ingest.bench.mjs';

const n = Number(process.env.TALLY_B3_EVENTS ?? 10_000_000);
const peakMiB = () =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
const seconds = (ms) => Math.round(ms) / 1000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-b3-'));
try {
  const file = path.join(dir, 'events.jsonl');
  let t = performance.now();
  generate(file, n);
  const generateMs = performance.now() - t;
  const beforeMiB = peakMiB();
  const store = await openStore(path.join(dir, 'tally.duckdb'));
  t = performance.now();
  const r = await store.ingestCanonicalFile(file, 'jsonl', { label: 'jsonl:b3', now: Date.now() });
  const ingestMs = performance.now() - t;
  await store.close();
  if (r.stored !== n) throw new Error(`stored ${r.stored} of ${n}`);
  const peak = peakMiB();
  console.log(
    JSON.stringify({
      name: 'B3 ingest memory',
      target: 'peak RSS <= 1 GiB while ingesting 10M events',
      figures: {
        events: n,
        file_gb: Math.round(statSync(file).size / 2 ** 27) / 8,
        generate_s: seconds(generateMs),
        ingest_s: seconds(ingestMs),
        events_per_s: Math.round(n / (ingestMs / 1000)),
        peak_rss_before_mib: Math.round(beforeMiB),
        peak_rss_mib: Math.round(peak),
      },
      pass: peak <= 1024,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
