/**
 * Global setup: one PostgreSQL database per test run, created before the
 * tests and dropped after them. Each store a test opens lives in a schema of
 * its own inside it (test/store/adapters.ts). The server is the machine's
 * (127.0.0.1:5432, user postgres; TALLY_TEST_PG overrides); `.ci/run` starts
 * it. Without it the run fails: the PostgreSQL half of the store contract is
 * not skipped silently.
 *
 * The database is `tally_test_<created>_<host>_<pid>_<random>`: when it was
 * created (base-36 seconds), a hash of the machine's name and the test run's
 * process. A run that is killed cannot drop its database, so every run first
 * drops the stale ones (dropStaleDatabases).
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

const SERVER = process.env.TALLY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** A database of a run on another machine, or of an older naming, is stale only after this long. */
const FOREIGN_STALE_MS = 24 * 3600_000;
const HOST = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 6);
export const HOST_TAG = HOST;
const NAME = /^tally_test_([0-9a-z]+)_([0-9a-f]{6})_(\d+)_[0-9a-f]+$/;

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

async function admin<T>(body: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER });
  try {
    await c.connect();
  } catch (e) {
    throw new Error(
      `the tests need PostgreSQL at ${SERVER} (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): ${e instanceof Error ? e.message : e}`,
    );
  }
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a test database's run is gone: it is a day old, or its run was on this machine and its process has ended. */
export function isStale(name: string, createdMs: number | null, now: number): boolean {
  const m = NAME.exec(name);
  const created = m ? Number.parseInt(m[1] as string, 36) * 1000 : createdMs;
  const old = created !== null && now - created > FOREIGN_STALE_MS;
  return old || (m?.[2] === HOST && !alive(Number(m[3])));
}

/**
 * Drops the test databases of runs that were killed. Only databases with no
 * session: DROP without FORCE fails if one connects meanwhile, and that
 * database is left alone.
 */
export async function dropStaleDatabases(c: pg.Client): Promise<string[]> {
  const { rows } = await c.query<{ datname: string; oid: number }>(
    `SELECT d.datname, d.oid FROM pg_database d
     WHERE d.datname LIKE 'tally\\_test\\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`,
  );
  const dropped: string[] = [];
  for (const { datname, oid } of rows) {
    // When the database was created, for names that do not carry it (needs superuser; else unknown).
    const created = await c
      .query<{ t: Date }>(`SELECT (pg_stat_file('base/' || $1::oid || '/PG_VERSION')).modification AS t`, [
        oid,
      ])
      .then((r) => r.rows[0]?.t.getTime() ?? null)
      .catch(() => null);
    if (!isStale(datname, created, Date.now())) continue;
    try {
      await c.query(`DROP DATABASE IF EXISTS "${datname}"`);
      dropped.push(datname);
    } catch {
      // someone connected meanwhile: not stale after all
    }
  }
  return dropped;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const created = Math.floor(Date.now() / 1000).toString(36);
  const name = `tally_test_${created}_${HOST}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(async (c) => {
    await dropStaleDatabases(c);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  project.provide('pgUrl', url.toString());
  return async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
}
