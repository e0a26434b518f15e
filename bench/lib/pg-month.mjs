// The PostgreSQL benchmarks' month: canonical JSONL of the shared month's
// shape (bench/lib/month-store.mjs: 5,000 identities, 300 applications,
// 2,000 tenants, 20 % agent traces), TALLY_BENCH_PG_EVENTS events (default
// 1M, sized to finish in minutes on 2 shared cores), generated once into the
// temp directory with its tally.yaml, and a database of the benchmarks' own
// on the machine's PostgreSQL (TALLY_BENCH_PG, default
// postgres://postgres@127.0.0.1:5432/postgres): `tally_pg_bench`, created when
// missing; every run uses fresh schemas in it and drops them after.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { writeCanonicalJsonl } from '../../dist/demo/index.js';
import { generatorKey } from './month-store.mjs';

export const PG_EVENTS = Number(process.env.TALLY_BENCH_PG_EVENTS ?? 1_000_000);
const SERVER = process.env.TALLY_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const PG_DATABASE = 'tally_pg_bench';

const PARAMS = {
  events: PG_EVENTS,
  identities: 5000,
  applications: 300,
  tenants: 2000,
  agentShare: 0.2,
  month: '2026-10',
  seed: 7,
};

/** The month's canonical JSONL file and its tally.yaml (without a store line). */
export async function pgMonthFile() {
  const dir = path.join(os.tmpdir(), 'tally-bench');
  mkdirSync(dir, { recursive: true });
  const tag = `pg-${PG_EVENTS}-${generatorKey()}`;
  const jsonl = path.join(dir, `${tag}.jsonl`);
  const configPath = path.join(dir, `${tag}.yaml`);
  if (!existsSync(jsonl) || !existsSync(configPath)) {
    process.stderr.write(`bench: generating ${PG_EVENTS} events into ${jsonl}\n`);
    const { writeFileSync } = await import('node:fs');
    const { configYaml } = await writeCanonicalJsonl(`${jsonl}.part`, PARAMS);
    writeFileSync(configPath, configYaml.replace(/^store:.*$/m, '').trimStart());
    renameSync(`${jsonl}.part`, jsonl);
  }
  return { jsonl, configPath, events: PG_EVENTS, tag };
}

/** The benchmarks' database URL (created when missing), with `?schema=` for a store of its own. */
export async function pgBenchUrl(schema) {
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG_DATABASE]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${PG_DATABASE}`);
  } finally {
    await admin.end();
  }
  const u = new URL(SERVER);
  u.pathname = `/${PG_DATABASE}`;
  return { base: u.toString(), store: `${u.toString()}?schema=${schema}` };
}

/** Runs SQL on the benchmarks' database. */
export async function pgBench(body) {
  const u = new URL(SERVER);
  u.pathname = `/${PG_DATABASE}`;
  const c = new pg.Client({ connectionString: u.toString(), options: '-c TimeZone=UTC' });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}
