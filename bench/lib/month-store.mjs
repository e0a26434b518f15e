// The shared benchmark month: 10M canonical events (5,000 identities, 300
// applications, 2,000 tenants, 20 % of events in agent traces, three pools)
// ingested once into a store file under the temp directory and reused by the
// statement, signals and replay benchmarks. TALLY_BENCH_EVENTS scales it.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeCanonicalJsonl } from '../../dist/demo/index.js';
import { openStore } from '../../dist/store/open.js';

export const EVENTS = Number(process.env.TALLY_BENCH_EVENTS ?? 10_000_000);

export async function monthStore() {
  const dir = path.join(os.tmpdir(), 'tally-bench');
  mkdirSync(dir, { recursive: true });
  const tag = EVENTS === 10_000_000 ? '10m' : `${EVENTS}`;
  const storePath = path.join(dir, `${tag}.duckdb`);
  const configPath = path.join(dir, `${tag}.yaml`);
  if (existsSync(storePath) && existsSync(configPath)) return { storePath, configPath, events: EVENTS };
  const jsonl = path.join(dir, `${tag}.jsonl`);
  process.stderr.write(`bench: generating ${EVENTS} events into ${jsonl}\n`);
  const { configYaml } = await writeCanonicalJsonl(jsonl, {
    events: EVENTS,
    identities: 5000,
    applications: 300,
    tenants: 2000,
    agentShare: 0.2,
    month: '2026-10',
    seed: 7,
  });
  const building = `${storePath}.building`;
  rmSync(building, { force: true });
  const store = await openStore(building);
  process.stderr.write(`bench: ingesting into ${storePath}\n`);
  await store.ingestCanonicalFile(jsonl, 'jsonl', { label: 'bench', now: Date.UTC(2026, 10, 15) });
  await store.close();
  renameSync(building, storePath);
  writeFileSync(configPath, configYaml.replace(/^store:.*$/m, `store: ${storePath}`));
  rmSync(jsonl, { force: true });
  return { storePath, configPath, events: EVENTS };
}
