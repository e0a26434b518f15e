/**
 * Global setup: one PostgreSQL database per test run, `tally_test_<random>`,
 * created before the tests and dropped after them. Each store a test opens
 * lives in a schema of its own inside it (test/store/adapters.ts). The server
 * is the machine's (127.0.0.1:5432, user postgres; TALLY_TEST_PG overrides);
 * `.ci/run` starts it. Without it the run fails: the PostgreSQL half of the
 * store contract is not skipped silently.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

const SERVER = process.env.TALLY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `tally_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  project.provide('pgUrl', url.toString());
  return async () => {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
}
