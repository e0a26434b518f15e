// The shared benchmark month: 10M canonical events (5,000 identities, 300
// applications, 2,000 tenants, 20 % of events in agent traces, three pools)
// ingested once into a store file under the temp directory and reused by the
// statement, signals and replay benchmarks. TALLY_BENCH_EVENTS scales it.
//
// The cached file is named by a hash of the code that makes it (every built
// file of dist/demo, the generator, and of dist/store/duckdb, which writes
// the log and decides its row order) and of the generator's parameters, so a
// change to any builds a new month instead of reusing a stale one. Schema
// changes also reach a cached file through the store's own migrations at open.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCanonicalJsonl } from '../../dist/demo/index.js';
import { openStore } from '../../dist/store/open.js';

export const EVENTS = Number(process.env.TALLY_BENCH_EVENTS ?? 10_000_000);

const PARAMS = {
  events: EVENTS,
  identities: 5000,
  applications: 300,
  tenants: 2000,
  agentShare: 0.2,
  month: '2026-10',
  seed: 7,
};

/** The built folders whose code makes the month: the generator, and the store that writes its log. */
const MAKERS = ['demo', path.join('store', 'duckdb')];

/** Hash of the month's makers' built code and the generator's parameters (12 hex digits). */
export function generatorKey() {
  const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
  const h = createHash('sha256');
  for (const folder of MAKERS) {
    const dir = path.join(dist, folder);
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.js'))
      .sort()) {
      h.update(path.join(folder, f)).update(readFileSync(path.join(dir, f)));
    }
  }
  h.update(JSON.stringify(PARAMS));
  return h.digest('hex').slice(0, 12);
}

export async function monthStore() {
  const dir = path.join(os.tmpdir(), 'tally-bench');
  mkdirSync(dir, { recursive: true });
  const tag = `${EVENTS === 10_000_000 ? '10m' : EVENTS}-${generatorKey()}`;
  const storePath = path.join(dir, `${tag}.duckdb`);
  const configPath = path.join(dir, `${tag}.yaml`);
  const info = { storePath, configPath, events: EVENTS, generator: tag };
  if (existsSync(storePath) && existsSync(configPath)) return info;
  const jsonl = path.join(dir, `${tag}.jsonl`);
  process.stderr.write(`bench: generating ${EVENTS} events into ${jsonl}\n`);
  const { configYaml } = await writeCanonicalJsonl(jsonl, PARAMS);
  const building = `${storePath}.building`;
  rmSync(building, { force: true });
  const store = await openStore(building);
  process.stderr.write(`bench: ingesting into ${storePath}\n`);
  await store.ingestCanonicalFile(jsonl, 'jsonl', { label: 'bench', now: Date.UTC(2026, 10, 15) });
  await store.close();
  renameSync(building, storePath);
  writeFileSync(configPath, configYaml.replace(/^store:.*$/m, `store: ${storePath}`));
  rmSync(jsonl, { force: true });
  return info;
}

/**
 * Drops what a statement or signals run kept in the store (the trace walk, the signals' keys:
 * src/store/duckdb/walk-memo.ts), so that the next run computes them as the first run on an
 * unchanged store does.
 */
export async function forgetWalks(storePath) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(storePath);
  const conn = await instance.connect();
  const kept = (
    await conn.runAndReadAll(
      `SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND table_name LIKE 'tally_memo%'`,
    )
  ).getRows();
  for (const [name] of kept) await conn.run(`DROP TABLE IF EXISTS "${name}"`);
  conn.closeSync();
  instance.closeSync();
}
