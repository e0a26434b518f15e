// B2-pg: `tally statement --format json` over a month stored in PostgreSQL,
// as a user runs it (`tally statement --store postgres://…`, end to end in
// its own process, with its peak RSS). Reference in the same run: a
// hand-written PostgreSQL query over the same table grouping by the
// statement's line key (cost center, team, application, tenant, environment,
// category, status), token-priced, with the identity → owner, operation →
// category and model → rate lookup tables prepared beforehand (not timed),
// as B2 does on DuckDB. The month: bench/lib/pg-month.mjs (1M events by
// default), ingested once with `tally ingest` into schema `month_<tag>` of
// the tally_pg_bench database and kept for the next run.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../dist/config/load.js';
import { PriceBook } from '../dist/core/pricing.js';
import { Registry } from '../dist/core/registry.js';
import { load, runCli } from './lib/cli.mjs';
import { categoryRows, ownerRows, rateRows } from './lib/line-key.mjs';
import { pgBench, pgBenchUrl, pgMonthFile } from './lib/pg-month.mjs';

const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
const loadBefore = load();

const { jsonl, configPath, events, tag } = await pgMonthFile();
const schema = `month_${tag.replaceAll('-', '_')}`;
const { store } = await pgBenchUrl(schema);
const stored = await pgBench(async (c) => {
  const found = await c.query(`SELECT to_regclass('${schema}.batches') IS NOT NULL AS found`);
  if (!found.rows[0]?.found) return 0;
  const r = await c.query(`SELECT coalesce(sum(count), 0) AS n FROM ${schema}.batches`);
  return Number(r.rows[0]?.n ?? 0);
});
if (stored !== events) {
  await pgBench((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  process.stderr.write(`bench: ingesting ${events} events into ${schema}\n`);
  runCli(['ingest', jsonl, '--store', store, '--config', configPath]);
}

// what a user runs
const out = path.join(os.tmpdir(), `tally-b2-pg-${process.pid}.json`);
const cli = runCli([
  'statement',
  '--store',
  store,
  '--config',
  configPath,
  '--period',
  '2026-10',
  '--format',
  'json',
  '--out',
  out,
]);
const statement = JSON.parse(readFileSync(out, 'utf8'));
rmSync(out, { force: true });

// the reference query, its lookup tables built before timing
const { config } = await loadConfig(configPath);
const registry = new Registry(config);
const prices = new PriceBook(config.prices);
const at = OCT.start + 15 * 86_400_000;
const { refMs, refRows } = await pgBench(async (c) => {
  await c.query(`SET search_path TO ${schema}; SET work_mem = '64MB'`);
  const tuples = (await c.query('SELECT DISTINCT api_key, service, agent, project FROM events')).rows;
  const owners = ownerRows(registry, at, tuples);
  await c.query(`CREATE TEMP TABLE owner_map (api_key text, service text, agent text, project text,
    cost_center text, team text, application text, environment text, status text)`);
  await c.query(`INSERT INTO owner_map VALUES ${owners.join(',')}`);
  const ops = (await c.query('SELECT DISTINCT operation FROM events')).rows;
  await c.query('CREATE TEMP TABLE categories (operation text, has_tokens boolean, category text)');
  await c.query(`INSERT INTO categories VALUES ${categoryRows(ops.map((o) => o.operation)).join(',')}`);
  const models = (await c.query('SELECT DISTINCT provider, model FROM events')).rows;
  const rates = rateRows(prices, at, models, 'numeric');
  await c.query('CREATE TEMP TABLE rates (provider text, model text, in_rate numeric, out_rate numeric)');
  await c.query(`INSERT INTO rates VALUES ${rates.join(',')}`);
  await c.query('ANALYZE owner_map; ANALYZE categories; ANALYZE rates');
  // NULL-safe equality written as equalities, so that PostgreSQL can hash the joins
  const same = (a, b, cols) =>
    cols.map((f) => `coalesce(${a}.${f}, chr(30)) = coalesce(${b}.${f}, chr(30))`).join(' AND ');
  const reference = `
    SELECT o.cost_center, o.team, o.application, e.tenant, o.environment, c.category, o.status,
           sum(e.input_tokens * r.in_rate + e.output_tokens * r.out_rate) AS cost, count(*) AS events
    FROM events e
    JOIN owner_map o ON ${same('e', 'o', ['api_key', 'service', 'agent', 'project'])}
    JOIN categories c ON c.operation = e.operation AND c.has_tokens = (e.input_tokens + e.output_tokens > 0)
    LEFT JOIN rates r ON ${same('e', 'r', ['provider', 'model'])}
    WHERE e.time >= '2026-10-01T00:00:00Z' AND e.time < '2026-11-01T00:00:00Z'
    GROUP BY 1, 2, 3, 4, 5, 6, 7`;
  const t = performance.now();
  const rows = (await c.query(reference)).rows;
  return { refMs: performance.now() - t, refRows: rows.length };
});

const ratio = cli.ms / refMs;
console.log(
  JSON.stringify({
    name: 'B2-pg statement on PostgreSQL',
    target: '`tally statement --store postgres://…` ≤ 2× a PostgreSQL query grouping by the line key',
    figures: {
      data: `${events} events (${tag}) in PostgreSQL, ${statement.lines.length} lines`,
      'tally statement --format json s': (cli.ms / 1000).toFixed(2),
      'peak RSS MiB': cli.peakRssMiB,
      'reference query s': (refMs / 1000).toFixed(2),
      'reference rows': refRows,
      'tally ÷ reference': ratio.toFixed(1),
      'load average before / after': `${loadBefore} / ${load()}`,
    },
    pass: ratio <= 2,
  }),
);
