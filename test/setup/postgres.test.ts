// The test databases of killed runs are dropped by the next run's setup;
// those of live runs (a running process, or a session connected) are not.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dropStaleDatabases, HOST_TAG, isStale } from './postgres.js';

const SERVER = process.env.TALLY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const created: string[] = [];

async function admin<T>(body: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

const exists = (name: string) =>
  admin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

function nameOf(pid: number, at = Date.now()): string {
  return `tally_test_${Math.floor(at / 1000).toString(36)}_${HOST_TAG}_${pid}_${randomBytes(4).toString('hex')}`;
}

/** The PID of a process that has ended. */
const deadPid = () => Number(execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }));

afterAll(async () => {
  await admin(async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

describe('stale test databases', () => {
  it('drops a killed run’s database and keeps a live run’s and one with a session', async () => {
    const dead = nameOf(deadPid());
    const live = nameOf(process.pid);
    const busy = nameOf(deadPid());
    created.push(dead, live, busy);
    await admin(async (c) => {
      for (const name of created) await c.query(`CREATE DATABASE ${name}`);
    });
    const url = new URL(SERVER);
    url.pathname = `/${busy}`;
    const session = new pg.Client({ connectionString: url.toString() });
    await session.connect();
    try {
      const dropped = await admin((c) => dropStaleDatabases(c));
      expect(dropped).toContain(dead);
      expect(dropped).not.toContain(live);
      expect(dropped).not.toContain(busy);
    } finally {
      await session.end();
    }
    expect(await exists(dead)).toBe(false);
    expect(await exists(live)).toBe(true);
    expect(await exists(busy)).toBe(true);
  });

  it('judges another machine’s or an older-named database by its age', () => {
    const day = 24 * 3600_000;
    const now = Date.UTC(2026, 11, 3);
    const foreign = (at: number) => `tally_test_${Math.floor(at / 1000).toString(36)}_ffffff_1_ab`;
    expect(isStale(foreign(now - 2 * day), null, now)).toBe(true);
    expect(isStale(foreign(now - 3600_000), null, now)).toBe(false);
    expect(isStale('tally_test_0123456789ab', now - 2 * day, now)).toBe(true);
    expect(isStale('tally_test_0123456789ab', now - 3600_000, now)).toBe(false);
    expect(isStale('tally_test_0123456789ab', null, now)).toBe(false);
    expect(isStale(nameOf(process.pid, now - 2 * day), null, now)).toBe(true);
  });
});
