// B1 (verify at month scale): `tally verify` of the shared benchmark month
// (bench/lib/month-store.mjs, 10M events), as a user runs it, end to end in
// its own process with its peak memory, median of three. Target: at least 1M
// events a second within B3's memory target (1 GiB). Beside it, for scale, DuckDB
// hashing the same row texts itself (`sha256` in SQL, every thread) on a
// freshly opened database: the hashing alone, without the batch hashes,
// the chain or the checks.
import { DuckDBInstance } from '@duckdb/node-api';
import { rowTextsSql } from '../dist/store/audit.js';
import { DUCKDB_AUDIT } from '../dist/store/duckdb/audit.js';
import { load, runCli } from './lib/cli.mjs';
import { monthStore } from './lib/month-store.mjs';

const TARGET_EPS = 1_000_000;
const TARGET_RSS_MIB = 1024;
const RUNS = 3;
const loadBefore = load();

const { storePath, configPath, events, generator } = await monthStore();

const runs = Array.from({ length: RUNS }, () =>
  runCli(['verify', '--config', configPath, '--format', 'json']),
);
for (const r of runs) {
  const v = JSON.parse(r.stdout);
  if (!v.ok || v.events !== events) throw new Error(`verify: ${r.stdout}`);
}
const median = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(RUNS / 2)];
const peak = Math.max(...runs.map((r) => r.peakRssMiB ?? 0));

const instance = await DuckDBInstance.create(storePath, { access_mode: 'READ_ONLY' });
const conn = await instance.connect();
const t = performance.now();
await conn.runAndReadAll(`SELECT count(sha256(t)) FROM (${rowTextsSql(DUCKDB_AUDIT, 'event_log')})`);
const refMs = performance.now() - t;
conn.closeSync();
instance.closeSync();

const perSecond = Math.round(events / (median.ms / 1000));
console.log(
  JSON.stringify({
    name: 'B1 verify, the 10M-event month',
    target: `\`tally verify\` ≥ ${TARGET_EPS / 1e6}M events/s with peak RSS ≤ ${TARGET_RSS_MIB} MiB`,
    figures: {
      data: `${events} events (month ${generator})`,
      'tally verify s (median of 3)': (median.ms / 1000).toFixed(2),
      'tally verify runs s': runs.map((r) => (r.ms / 1000).toFixed(2)).join(', '),
      'events/s': perSecond,
      'peak RSS MiB': peak,
      'CPU s (user + system, median run)': median.cpuS,
      "DuckDB's own sha256 of the row texts s (scale)": (refMs / 1000).toFixed(2),
      'load average before / after': `${loadBefore} / ${load()}`,
    },
    pass: perSecond >= TARGET_EPS && peak <= TARGET_RSS_MIB,
  }),
);
