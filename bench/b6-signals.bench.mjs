// B6: every signal rule (S01–S12, S14) over a month of 10M canonical events
// (the shared benchmark month, bench/lib/month-store.mjs): the statement's
// attribution, the hourly baselines and the all-time profile, as
// `tally signals` runs them. Reports the median of 3 runs after a warm-up.
// Target: under 5 s.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseConfig } from '../dist/core/config-schema.js';
import { evaluateSignals } from '../dist/service/signals.js';
import { openStore } from '../dist/store/open.js';
import { monthStore } from './lib/month-store.mjs';

const TARGET_S = 5;
const RUNS = 3;
const seconds = (ms) => Math.round(ms) / 1000;

async function main() {
  const { storePath, configPath, events } = await monthStore();
  const config = parseConfig(YAML.parse(readFileSync(configPath, 'utf8')), { sha256: 'bench' });
  const store = await openStore(
    process.env.B6_MEMORY ? `duckdb:${storePath}?memory_limit=${process.env.B6_MEMORY}` : storePath,
  );
  const window = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
  const times = [];
  let found = 0;
  try {
    for (let i = 0; i <= RUNS; i++) {
      const t = performance.now();
      const signals = await evaluateSignals(store, config, window);
      const ms = performance.now() - t;
      found = signals.length;
      if (i > 0) times.push(ms);
      process.stderr.write(`b6: run ${i}: ${seconds(ms)} s, ${signals.length} signals\n`);
    }
  } finally {
    await store.close();
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const s = seconds(median);
  console.log(
    JSON.stringify({
      name: 'B6 signals over a month',
      target: `all signals over ${events.toLocaleString('en-US')} events in < ${TARGET_S} s`,
      figures: {
        seconds: s,
        events_per_second: Math.round(events / (median / 1000)),
        signals: found,
      },
      pass: s < TARGET_S,
    }),
  );
}

await main();
