// B6: every signal rule (S01–S12, S14) over the shared benchmark month
// (bench/lib/month-store.mjs), as a user runs it: `tally signals --format
// json` for October, end to end in its own process (the statement's
// attribution, the hourly baselines, the all-time profile, the evidence),
// with its peak memory, under the store's default DuckDB limits.
//
// Reference in the same run: a hand-written DuckDB query that makes the one
// pass over the events that the hourly rules cannot do without: event count,
// tokens and first event per selector tuple and hour. Target: under 5 s.
//
// The run is the first on the store (the trace walk a statement or signals run
// keeps in the store is dropped before it, src/store/duckdb/walk-memo.ts); a
// second run, which recalls the walk the first kept, is shown beside it.
import { DuckDBInstance } from '@duckdb/node-api';
import { load, runCli } from './lib/cli.mjs';
import { forgetWalks, monthStore } from './lib/month-store.mjs';

const TARGET_S = 5;
const loadBefore = load();
const { storePath, configPath, events, generator } = await monthStore();

const signalsRun = () =>
  runCli([
    'signals',
    '--config',
    configPath,
    '--from',
    '2026-10-01',
    '--to',
    '2026-11-01',
    '--format',
    'json',
  ]);
await forgetWalks(storePath);
const cli = signalsRun();
const rerun = signalsRun();
const signals = JSON.parse(cli.stdout);
const byRule = {};
for (const s of signals) byRule[s.rule] = (byRule[s.rule] ?? 0) + 1;

const instance = await DuckDBInstance.create(storePath, { memory_limit: '4GB' });
const conn = await instance.connect();
const t = performance.now();
const ref = await conn.runAndReadAll(`
  SELECT count(*) AS n FROM (
    SELECT api_key, service, agent, project, date_trunc('hour', time) AS h, count(*) AS events,
           sum(input_tokens) AS tin, sum(output_tokens) AS tout, min_by(id, time) AS first_id
    FROM events WHERE time < '2026-11-01' GROUP BY ALL)`);
const refMs = performance.now() - t;
const refRows = Number(ref.getRowObjectsJS()[0]?.n ?? 0);
conn.closeSync();
instance.closeSync();

console.log(
  JSON.stringify({
    name: 'B6 signals over a month',
    target: `\`tally signals\` over ${events.toLocaleString('en-US')} events in < ${TARGET_S} s`,
    figures: {
      data: `${events} events (month ${generator})`,
      'tally signals --format json s (the first run on the store)': (cli.ms / 1000).toFixed(2),
      'rerun s (the walk recalled)': (rerun.ms / 1000).toFixed(2),
      'rerun gives the same signals': rerun.stdout === cli.stdout ? 'yes' : 'NO',
      'peak RSS MiB': cli.peakRssMiB,
      signals: `${signals.length} ${JSON.stringify(byRule)}`,
      'reference query s (hourly sums per selector tuple)': (refMs / 1000).toFixed(2),
      'reference rows': refRows,
      'tally ÷ reference': (cli.ms / refMs).toFixed(1),
      'load average before / after': `${loadBefore} / ${load()}`,
    },
    pass: cli.ms < TARGET_S * 1000 && rerun.stdout === cli.stdout,
  }),
);
