// B8: incident replay. Replays one identity over one day in a store of 10M
// canonical events (a month of synthetic traffic, agent traces included) and
// reports the median of 5 runs after one warm-up, for a typical identity and
// for the busiest one. Target: under 200 ms for the typical identity.
//
// The store is shared with other benchmarks: `${tmpdir}/tally-bench/10m.duckdb`
// and its configuration `10m.yaml` beside it. Whoever finds them missing builds
// them under a unique name and renames them into place (the database last), so
// that a concurrent run never opens a half-built store.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { parseConfig } from '../dist/core/config-schema.js';
import { writeCanonicalJsonl } from '../dist/demo/index.js';
import { computeReplay } from '../dist/service/replay.js';
import { openStore } from '../dist/store/open.js';

const EVENTS = Number(process.env.B8_EVENTS ?? 10_000_000);
const TARGET_MS = 200;
const BUILD_MEMORY = '4GB';
const dir = path.join(os.tmpdir(), 'tally-bench');
const label = EVENTS === 10_000_000 ? '10m' : `${EVENTS}`;
const storePath = path.join(dir, `${label}.duckdb`);
const configPath = path.join(dir, `${label}.yaml`);

const seconds = (ms) => Math.round(ms) / 1000;

async function ensureStore() {
  if (existsSync(storePath) && existsSync(configPath)) return;
  mkdirSync(dir, { recursive: true });
  const tag = `${process.pid}-${Date.now()}`;
  const jsonl = path.join(dir, `${label}-${tag}.jsonl`);
  const db = path.join(dir, `${label}-${tag}.duckdb`);
  let t = performance.now();
  const { configYaml } = await writeCanonicalJsonl(jsonl, {
    events: EVENTS,
    identities: 200,
    applications: 60,
    tenants: 40,
    agentShare: 0.2,
    month: '2026-10',
    seed: 42,
  });
  process.stderr.write(`b8: generated ${EVENTS} events in ${seconds(performance.now() - t)} s\n`);
  t = performance.now();
  // The default buffer limit is sized for a server; hashing a 10M-event batch needs more.
  const store = await openStore(`duckdb:${db}?memory_limit=${BUILD_MEMORY}`);
  try {
    await store.ingestCanonicalFile(jsonl, 'jsonl', { label: 'jsonl:bench', now: Date.now() });
  } finally {
    await store.close();
    rmSync(jsonl, { force: true });
  }
  process.stderr.write(`b8: ingested in ${seconds(performance.now() - t)} s\n`);
  const yamlTmp = `${configPath}.${tag}`;
  writeFileSync(yamlTmp, configYaml);
  renameSync(yamlTmp, configPath);
  if (existsSync(storePath)) rmSync(db, { force: true });
  else renameSync(db, storePath);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeReplay(store, config, identity, window) {
  const runs = [];
  let report;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    report = await computeReplay(store, config, { window, identity });
    if (i > 0) runs.push(performance.now() - t);
  }
  return { ms: Math.round(median(runs) * 10) / 10, events: report.totals.events, spans: report.spans };
}

async function main() {
  await ensureStore();
  const config = parseConfig(YAML.parse(readFileSync(configPath, 'utf8')), { sha256: 'bench' });
  // The generator draws identities with a bias towards the first: nhi-0001 carries about 7 % of all
  // traffic (the worst case), the middle one about 0.35 % (a typical identity).
  const own = config.identities.filter((i) => !i.shared);
  const typical = own[Math.floor(own.length / 2)]?.id;
  const busiest = own[0]?.id;
  const window = { start: Date.UTC(2026, 9, 14), end: Date.UTC(2026, 9, 15) };
  const store = await openStore(storePath);
  try {
    const t = await timeReplay(store, config, typical, window);
    const b = await timeReplay(store, config, busiest, window);
    const figures = {
      events_in_store: EVENTS,
      typical_identity: `${typical}: ${t.events} events, ${t.spans} spans`,
      typical_median_ms: t.ms,
      busiest_identity: `${busiest}: ${b.events} events, ${b.spans} spans`,
      busiest_median_ms: b.ms,
      load_average: os.loadavg()[0].toFixed(1),
    };
    process.stderr.write(`b8: ${JSON.stringify(figures)}\n`);
    console.log(
      JSON.stringify({
        name: 'B8 replay one identity over one day',
        target: `< ${TARGET_MS} ms for a typical identity in a 10M-event store (median of 5)`,
        figures,
        pass: t.ms < TARGET_MS,
      }),
    );
  } finally {
    await store.close();
  }
}

await main();
