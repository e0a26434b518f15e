// B2: the full statement (attribution, rollup, pricing, pools) over a month
// of stored events, against a hand-written DuckDB query over the same table
// that only sums token-priced cost by team (identity → team and model → rate
// tables prepared beforehand, not timed). Target: at most 2× the query, and
// under 2 s.
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../dist/config/load.js';
import { PriceBook } from '../dist/core/pricing.js';
import { Registry } from '../dist/core/registry.js';
import { computeStatement } from '../dist/service/statement.js';
import { openStore } from '../dist/store/open.js';
import { monthStore } from './lib/month-store.mjs';

const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
const RUNS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const q = (s) => (s === null ? 'NULL' : `'${String(s).replaceAll("'", "''")}'`);

const { storePath, configPath, events } = await monthStore();
const { config } = await loadConfig(configPath);

// tally
const tallyTimes = [];
let statement;
for (let i = 0; i < RUNS; i++) {
  const store = await openStore(storePath);
  const t0 = performance.now();
  ({ statement } = await computeStatement(store, config, OCT));
  tallyTimes.push(performance.now() - t0);
  await store.close();
}

// the reference query, with its lookup tables built before timing
const instance = await DuckDBInstance.create(storePath);
const conn = await instance.connect();
const registry = new Registry(config);
const prices = new PriceBook(config.prices);
const tuples = (
  await conn.runAndReadAll('SELECT DISTINCT api_key, service, agent, project FROM events')
).getRowObjectsJS();
const owners = [];
for (const t of tuples) {
  const r = registry.resolve(t);
  const owner = r.kind === 'identity' ? registry.owner(r.identity, OCT.start + 15 * 86_400_000) : null;
  owners.push(
    `(${q(t.api_key)}, ${q(t.service)}, ${q(t.agent)}, ${q(t.project)}, ${q(owner?.ok ? owner.chain.team : null)})`,
  );
}
await conn.run(
  `CREATE TEMP TABLE owner_map (api_key VARCHAR, service VARCHAR, agent VARCHAR, project VARCHAR, team VARCHAR)`,
);
await conn.run(`INSERT INTO owner_map VALUES ${owners.join(',')}`);
const models = (await conn.runAndReadAll('SELECT DISTINCT provider, model FROM events')).getRowObjectsJS();
const rates = models.map((m) => {
  const per = (field) => {
    const quote = prices.price({
      time: OCT.start,
      provider: m.provider,
      model: m.model,
      operation: 'chat',
      input_tokens: field === 'in' ? 1_000_000 : 0,
      output_tokens: field === 'out' ? 1_000_000 : 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
      requests: 0,
      tool: null,
      data_source: null,
    });
    return quote.priced ? (Number(quote.tokenCost) / 1e12 / 1e6).toFixed(15) : '0';
  };
  return `(${q(m.provider)}, ${q(m.model)}, ${per('in')}::DECIMAL(38,18), ${per('out')}::DECIMAL(38,18))`;
});
await conn.run(
  `CREATE TEMP TABLE rates (provider VARCHAR, model VARCHAR, in_rate DECIMAL(38,18), out_rate DECIMAL(38,18))`,
);
await conn.run(`INSERT INTO rates VALUES ${rates.join(',')}`);
const reference = `
  SELECT o.team, sum(e.input_tokens * r.in_rate + e.output_tokens * r.out_rate) AS cost
  FROM events e
  JOIN owner_map o ON e.api_key IS NOT DISTINCT FROM o.api_key AND e.service IS NOT DISTINCT FROM o.service
                  AND e.agent IS NOT DISTINCT FROM o.agent AND e.project IS NOT DISTINCT FROM o.project
  JOIN rates r ON e.provider = r.provider AND e.model = r.model
  WHERE e.time >= '2026-10-01' AND e.time < '2026-11-01'
  GROUP BY o.team`;
const refTimes = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  await conn.runAndReadAll(reference);
  refTimes.push(performance.now() - t0);
}
conn.closeSync();
instance.closeSync();

const tally = median(tallyTimes);
const ref = median(refTimes);
const ratio = tally / ref;
console.log(
  JSON.stringify({
    name: 'B2 statement',
    target: '≤ 2× the hand-written query, < 2 s',
    figures: {
      events,
      'statement s (median of 3)': (tally / 1000).toFixed(2),
      'reference query s': (ref / 1000).toFixed(2),
      'tally ÷ reference': ratio.toFixed(2),
      lines: statement.lines.length,
      'events/s': Math.round(events / (tally / 1000)).toLocaleString('en-US'),
    },
    pass: ratio <= 2 && tally < 2000,
  }),
);
