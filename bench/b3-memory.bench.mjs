// B3: peak memory of `tally ingest` of a 10M-event canonical JSON lines file
// (~7 GB, generated on the fly and deleted afterwards) into a fresh DuckDB
// store, as a user runs it: the CLI in its own process under /usr/bin/time,
// whose peak resident set includes DuckDB's native memory. `TALLY_B3_EVENTS`
// changes the size. Runs only when named: `npm run bench -- b3`.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from './b1-ingest.bench.mjs';
import { load, runCli } from './lib/cli.mjs';

const n = Number(process.env.TALLY_B3_EVENTS ?? 10_000_000);
const seconds = (ms) => Math.round(ms) / 1000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-b3-'));
try {
  const file = path.join(dir, 'events.jsonl');
  const config = path.join(dir, 'tally.yaml');
  writeFileSync(config, 'store: ./tally.duckdb\ncurrency: USD\n');
  const t = performance.now();
  generate(file, n);
  const generateMs = performance.now() - t;
  const loadBefore = load();
  const run = runCli(['ingest', file, '--config', config]);
  const stored = Number(/: (\d+) stored/.exec(run.stdout)?.[1]);
  if (stored !== n) throw new Error(`stored ${stored} of ${n}: ${run.stdout}`);
  console.log(
    JSON.stringify({
      name: 'B3 ingest memory',
      target: 'peak RSS <= 1 GiB while `tally ingest` loads 10M events',
      figures: {
        events: n,
        file_gb: Math.round(statSync(file).size / 2 ** 27) / 8,
        generate_s: seconds(generateMs),
        'tally ingest s': seconds(run.ms),
        events_per_s: Math.round(n / (run.ms / 1000)),
        'tally ingest peak RSS MiB': run.peakRssMiB,
        load_average_before_after: `${loadBefore} / ${load()}`,
      },
      pass: run.peakRssMiB !== null && run.peakRssMiB <= 1024,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
