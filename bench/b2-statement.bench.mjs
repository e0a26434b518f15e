// B2: the full statement (attribution, rollup, pricing, pools, cents) over
// the benchmark month, as a user runs it: `tally statement --format json`,
// end to end in its own process, with its peak memory. Beside it, an inner
// timing of computeStatement, and a hand-written DuckDB query over the same
// table that groups by the statement's own line key (cost center, team,
// application, tenant, environment, category, status), with the identity →
// owner and model → rate lookup tables prepared beforehand (not timed).
// Target: the CLI at most 2× the query, and under 3 s.
//
// The machines are shared and noisy (a single run of either side varied by
// up to a fifth), so both sides run three times, each in a fresh process or
// a freshly opened database, and the medians are compared. The statement's
// three runs are each the first on the store (the trace walk that a run
// keeps in the store is dropped before it, src/store/duckdb/walk-memo.ts);
// two reruns, which recall the walk the last of them kept, are shown beside
// them (a rerun after a correction of the configuration).
//
// Equality: the CLI's JSON must equal, to the last digit, the statement
// recorded in the repository for the same events and configuration
// (bench/recorded-statements.json, lib/recorded-statement.mjs; a month the
// generator makes differently has no record until `TALLY_BENCH_RECORD=<commit>`
// records one), and a statement of the same month by an earlier
// implementation when one is kept beside the store
// (`<store>.previous-statement.json`, written by `TALLY_BENCH_KEEP=1`).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../dist/config/load.js';
import { PriceBook } from '../dist/core/pricing.js';
import { Registry } from '../dist/core/registry.js';
import { computeStatement } from '../dist/service/statement.js';
import { openStore } from '../dist/store/open.js';
import { load, runCli, yesNo } from './lib/cli.mjs';
import { categoryRows, ownerRows, rateRows } from './lib/line-key.mjs';
import { forgetWalks, monthStore } from './lib/month-store.mjs';
import { matchesRecord, record } from './lib/recorded-statement.mjs';

const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
const loadBefore = load();

const { storePath, configPath, events, generator } = await monthStore();
const { config } = await loadConfig(configPath);

const RUNS = 3;
/** The run of median time among `runs`. */
const medianRun = (runs) => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
const times = (runs) => runs.map((r) => (r.ms / 1000).toFixed(2)).join(', ');

// what a user runs
const out = `${storePath}.statement.json`;
const statementRun = () =>
  runCli(['statement', '--config', configPath, '--period', '2026-10', '--format', 'json', '--out', out]);
const cliRuns = [];
for (let i = 0; i < RUNS; i++) {
  await forgetWalks(storePath);
  cliRuns.push(statementRun());
}
const cli = medianRun(cliRuns);
const json = readFileSync(out, 'utf8');
const reruns = Array.from({ length: 2 }, () => statementRun());
const rerunsEqual = readFileSync(out, 'utf8') === json;
const rerun = [...reruns].sort((a, b) => a.ms - b.ms)[0];
rmSync(out, { force: true });
const previousPath = `${storePath}.previous-statement.json`;
if (process.env.TALLY_BENCH_KEEP) writeFileSync(previousPath, json);
const equal = existsSync(previousPath) ? readFileSync(previousPath, 'utf8') === json : null;
const configYaml = readFileSync(configPath, 'utf8');
if (process.env.TALLY_BENCH_RECORD) record(json, configYaml, generator, process.env.TALLY_BENCH_RECORD);
const recorded = matchesRecord(json, configYaml);

// inner timing, and the size of the data
const store = await openStore(storePath);
const t0 = performance.now();
const { statement, charges } = await computeStatement(store, config, OCT);
const inner = performance.now() - t0;
await store.close();

// the reference query, its lookup tables built before timing, in a freshly opened database each run
const refRuns = [];
let refRows;
for (let i = 0; i < RUNS; i++) {
  const run = await referenceRun();
  refRows = run.rows;
  refRuns.push(run);
}
const ref = medianRun(refRuns).ms;

async function referenceRun() {
  const instance = await DuckDBInstance.create(storePath);
  const conn = await instance.connect();
  const registry = new Registry(config);
  const prices = new PriceBook(config.prices);
  const at = OCT.start + 15 * 86_400_000;
  const tuples = (
    await conn.runAndReadAll('SELECT DISTINCT api_key, service, agent, project FROM events')
  ).getRowObjectsJS();
  const owners = ownerRows(registry, at, tuples);
  await conn.run(`CREATE TEMP TABLE owner_map (api_key VARCHAR, service VARCHAR, agent VARCHAR, project VARCHAR,
  cost_center VARCHAR, team VARCHAR, application VARCHAR, environment VARCHAR, status VARCHAR)`);
  await conn.run(`INSERT INTO owner_map VALUES ${owners.join(',')}`);
  const ops = (await conn.runAndReadAll('SELECT DISTINCT operation FROM events')).getRowObjectsJS();
  await conn.run('CREATE TEMP TABLE categories (operation VARCHAR, has_tokens BOOLEAN, category VARCHAR)');
  await conn.run(`INSERT INTO categories VALUES ${categoryRows(ops.map((o) => o.operation)).join(',')}`);
  const models = (await conn.runAndReadAll('SELECT DISTINCT provider, model FROM events')).getRowObjectsJS();
  const rates = rateRows(prices, at, models, 'DECIMAL(38,18)');
  await conn.run(
    `CREATE TEMP TABLE rates (provider VARCHAR, model VARCHAR, in_rate DECIMAL(38,18), out_rate DECIMAL(38,18))`,
  );
  await conn.run(`INSERT INTO rates VALUES ${rates.join(',')}`);
  const reference = `
  SELECT o.cost_center, o.team, o.application, e.tenant, o.environment, c.category, o.status,
         sum(e.input_tokens * r.in_rate + e.output_tokens * r.out_rate) AS cost, count(*) AS events
  FROM events e
  JOIN owner_map o ON e.api_key IS NOT DISTINCT FROM o.api_key AND e.service IS NOT DISTINCT FROM o.service
                  AND e.agent IS NOT DISTINCT FROM o.agent AND e.project IS NOT DISTINCT FROM o.project
  JOIN categories c ON c.operation = e.operation AND c.has_tokens = (e.input_tokens + e.output_tokens > 0)
  LEFT JOIN rates r ON e.provider IS NOT DISTINCT FROM r.provider AND e.model IS NOT DISTINCT FROM r.model
  WHERE e.time >= '2026-10-01' AND e.time < '2026-11-01'
  GROUP BY ALL`;
  const t1 = performance.now();
  const rows = (await conn.runAndReadAll(reference)).getRowObjectsJS();
  const ms = performance.now() - t1;
  conn.closeSync();
  instance.closeSync();
  return { ms, rows };
}

const ratio = cli.ms / ref;
console.log(
  JSON.stringify({
    name: 'B2 statement',
    target: '`tally statement` ≤ 2× a query grouping by the line key, < 3 s',
    figures: {
      data: `${events} events (month ${generator}), ${charges.length} usage groups, ${statement.lines.length} lines`,
      'tally statement --format json s (median of 3, each the first on the store)': (cli.ms / 1000).toFixed(
        2,
      ),
      'tally statement runs s': times(cliRuns),
      'reruns s (the walk recalled)': times(reruns),
      'rerun ÷ reference (the faster rerun)': (rerun.ms / ref).toFixed(1),
      'reruns equal the first runs': rerunsEqual ? 'yes' : 'NO',
      'peak RSS MiB': cli.peakRssMiB,
      'computeStatement s (inner)': (inner / 1000).toFixed(2),
      'reference query s (median of 3)': (ref / 1000).toFixed(2),
      'reference runs s': times(refRuns),
      'reference rows': refRows.length,
      'tally ÷ reference': ratio.toFixed(1),
      'equal to the recorded statement of this month': yesNo(recorded, 'none recorded for these events'),
      'equal to the previous implementation': yesNo(equal, 'not checked'),
      'load average before / after': `${loadBefore} / ${load()}`,
    },
    pass: ratio <= 2 && cli.ms < 3000 && equal !== false && recorded !== false && rerunsEqual,
  }),
);
