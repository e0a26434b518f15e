// B2-focus: the FOCUS exports of a month as a user runs them, `tally statement
// --format focus` and `--format focus-parquet` to a file, each end to end in
// its own process with its peak memory, beside `--format json` of the same
// month (the reference: the same statement without FOCUS rows). A guard, at a
// tenth of B2's month (1M events, the same generator, its own cached store), so
// that the default run stays short: the 10M month's exports take minutes each
// (measured by hand in BENCHMARKS.md). Each export's EffectiveCost, BilledCost
// and x_Events sums must equal the JSON statement's totals to the last digit,
// and the JSON statement the one recorded for the month, where one is
// (lib/recorded-statement.mjs, as B2 checks its month).
import { readFileSync, rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseMoney } from '../dist/core/money.js';
import { load, runCli, yesNo } from './lib/cli.mjs';
import { matchesRecord } from './lib/recorded-statement.mjs';

process.env.TALLY_BENCH_EVENTS ??= '1000000';
const { monthStore } = await import('./lib/month-store.mjs');
const loadBefore = load();
const { storePath, configPath, events, generator } = await monthStore();

const statement = (format, out) =>
  runCli(['statement', '--config', configPath, '--period', '2026-10', '--format', format, '--out', out]);

const jsonOut = `${storePath}.focus-bench.json`;
const csvOut = `${storePath}.focus-bench.csv`;
const parquetOut = `${storePath}.focus-bench.parquet`;
try {
  const json = statement('json', jsonOut);
  const csv = statement('focus', csvOut);
  const parquet = statement('focus-parquet', parquetOut);
  const jsonText = readFileSync(jsonOut, 'utf8');
  const totals = JSON.parse(jsonText).totals;
  const recorded = matchesRecord(jsonText, readFileSync(configPath, 'utf8'));

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const sums = async (from) =>
    (
      await conn.runAndReadAll(
        `SELECT sum(EffectiveCost::DECIMAL(38,12))::VARCHAR AS effective, sum(BilledCost::DECIMAL(38,12))::VARCHAR AS billed,
                sum(x_Events::BIGINT)::BIGINT AS events, count(*) AS rows FROM ${from}`,
      )
    ).getRowObjectsJson()[0];
  const csvSums = await sums(`read_csv('${csvOut}', all_varchar = true)`);
  const parquetSums = await sums(`read_parquet('${parquetOut}')`);
  conn.closeSync();
  instance.closeSync();
  const agrees = (s) =>
    parseMoney(s.effective) === parseMoney(totals.effective_cost) &&
    parseMoney(s.billed) === parseMoney(totals.billed_cost) &&
    Number(s.events) === totals.events;
  const s = (run) => (run.ms / 1000).toFixed(2);

  console.log(
    JSON.stringify({
      name: 'B2-focus FOCUS exports of a month (guard)',
      target: "FOCUS CSV and Parquet sums equal the JSON statement's totals; times and memory recorded",
      figures: {
        data: `${events} events (month ${generator}), ${csvSums.rows} FOCUS rows`,
        'tally statement --format json s / peak RSS MiB': `${s(json)} / ${json.peakRssMiB}`,
        'tally statement --format focus s / peak RSS MiB': `${s(csv)} / ${csv.peakRssMiB}`,
        'tally statement --format focus-parquet s / peak RSS MiB': `${s(parquet)} / ${parquet.peakRssMiB}`,
        'focus ÷ json, focus-parquet ÷ json (time)': `${(csv.ms / json.ms).toFixed(1)}, ${(parquet.ms / json.ms).toFixed(1)}`,
        'sums equal the statement (CSV, Parquet)': `${agrees(csvSums)}, ${agrees(parquetSums)}`,
        'the JSON statement equals the recorded one': yesNo(recorded, 'none recorded'),
        'load average before / after': `${loadBefore} / ${load()}`,
      },
      pass: agrees(csvSums) && agrees(parquetSums) && csvSums.rows === parquetSums.rows && recorded !== false,
    }),
  );
} finally {
  for (const f of [jsonOut, csvOut, parquetOut]) rmSync(f, { force: true });
}
