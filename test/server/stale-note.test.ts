// The address note a `tally serve` leaves beside its embedded store when it is
// killed (kill -9 gives it no chance to remove it): the next command or
// server that finds it stale removes it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configDir, freePort, ROOT, runTally, type Served, startServe } from './child.js';
import { canonical, TOKENS } from './helpers.js';

let dir: string;
let served: Served | null = null;

afterAll(() => {
  served?.child.kill('SIGKILL');
});

/** A command on the test's configuration. */
const tally = (args: string[]) => runTally([...args, '--config', path.join(dir, 'tally.yaml')]);

/** The note's PID, once the server has written it (just after it starts listening). */
async function notedPid(note: string): Promise<number> {
  for (let i = 0; i < 200 && !existsSync(note); i++) await new Promise((r) => setTimeout(r, 50));
  return (JSON.parse(await readFile(note, 'utf8')) as { pid: number }).pid;
}

async function killed(): Promise<string> {
  dir = await configDir();
  served = await startServe(dir, await freePort());
  const res = await fetch(`${served.base}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify([canonical('e1', 'svc-a')]),
  });
  expect(res.status).toBe(200);
  const note = path.join(dir, 'tally.duckdb.server');
  expect(await notedPid(note)).toBe(served.child.pid);
  served.child.kill('SIGKILL');
  await served.exited;
  served = null;
  expect(existsSync(note)).toBe(true);
  return note;
}

describe('a server note left by a killed tally serve', () => {
  it('is removed by the next command that opens the store', async () => {
    const note = await killed();
    const r = await tally(['verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(note)).toBe(false);
  }, 120_000);

  it('is replaced by the next server', async () => {
    const note = await killed();
    served = await startServe(dir, await freePort());
    expect(await notedPid(note)).toBe(served.child.pid);
    served.child.kill('SIGTERM');
    await served.exited;
    served = null;
    expect(existsSync(note)).toBe(false);
  }, 120_000);

  it('is removed by a command that finds the store held by another process, its PID gone', async () => {
    const note = await killed();
    const stale = JSON.parse(await readFile(note, 'utf8')) as { url: string };
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const db = await DuckDBInstance.create(${JSON.stringify(path.join(dir, 'tally.duckdb'))});
         await db.connect(); console.log('ready'); setInterval(() => {}, 1000);`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const r = await tally(['verify']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is held by another process/);
      expect(r.stderr).not.toContain(stale.url);
      expect(existsSync(note)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 120_000);
});
