// Issue 15's hostile files through the real CLI, as a child process (a crash
// of DuckDB or of Node must show as a failed test, not take the runner down):
// each ends with exit 2 and its reason, with no stack trace, and nothing of it
// is stored (SPEC §8: a malformed file is rejected and nothing from it stored).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { runCli } from './cli.js';
import { REPRODUCTIONS } from './reproductions.js';

const CONFIG = `
store: ./tally.duckdb
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, match: [{ service: svc-a }] }
`;

let dir: string;

async function storeState(): Promise<{ events: number; batches: number; head: string | null }> {
  const store = await openStore(path.join(dir, 'tally.duckdb'));
  try {
    const c = await store.counters();
    return { events: c.events, batches: c.batches, head: await store.auditHead() };
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-hostile-'));
  await writeFile(path.join(dir, 'tally.yaml'), CONFIG);
  const seed = path.join(dir, 'seed.jsonl');
  await writeFile(
    seed,
    `${JSON.stringify({ id: 'seed', source: 'hostile', time: '2026-10-01T12:00:00Z', operation: 'chat', service: 'svc-a' })}\n`,
  );
  const r = await runCli(['ingest', seed, '--config', path.join(dir, 'tally.yaml')], null);
  expect(r.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hostile files: exit 2 with the reason, no stack, nothing stored', () => {
  it.each(REPRODUCTIONS.map((r) => [r.name, r] as const))('%s', async (_name, rep) => {
    const before = await storeState();
    const file = path.join(dir, rep.file);
    const bytes = rep.bytes();
    if (!rep.stdin) await writeFile(file, bytes);
    const args = ['ingest', rep.stdin ? '-' : file, '--config', path.join(dir, 'tally.yaml')];
    if (rep.format) args.push('--format', rep.format);
    const r = await runCli(args, rep.stdin ? bytes : null);
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(rep.reason);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
    expect(await storeState()).toEqual(before);
    await rm(file, { force: true });
  });
});
