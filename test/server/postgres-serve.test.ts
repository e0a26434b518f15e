// Several `tally serve` processes on one PostgreSQL store, with `tally verify`
// run beside them: two servers take the same events (clients retry on the
// other one), one is killed mid-way and restarted. In the end every event is
// stored once, the batches are numbered without gaps and the chain verifies.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { POSTGRES } from '../store/adapters.js';
import { freePort, ROOT, type Served, startServe } from './child.js';
import { configYaml, TOKENS } from './helpers.js';

const BATCHES = 40;
const PER_BATCH = 200;

let dir: string;
let url: string;
const served: Array<Served | null> = [null, null];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-pg-serve-'));
  url = POSTGRES.url('');
  await writeFile(
    path.join(dir, 'tally.yaml'),
    configYaml().replace('store: ./tally.duckdb', `store: ${JSON.stringify(url)}`),
  );
}, 120_000);

afterAll(async () => {
  for (const s of served) s?.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function batch(n: number): string {
  return JSON.stringify(
    Array.from({ length: PER_BATCH }, (_, i) => ({
      id: `b${n}-e${i}`,
      source: 'pg-serve-test',
      time: new Date(Date.now() - 3_600_000).toISOString(),
      provider: 'acme',
      model: 'm1',
      operation: 'chat',
      input_tokens: 1000,
      service: i % 2 === 0 ? 'svc-a' : 'svc-b',
    })),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two servers and a CLI command on one PostgreSQL store', () => {
  it('stores every event once, in one gapless chain that verifies while ingesting', async () => {
    const ports = [await freePort(), await freePort()];
    served[0] = await startServe(dir, ports[0] as number);
    served[1] = await startServe(dir, ports[1] as number);
    let sent = 0;
    // Each batch goes to both servers: the second to commit finds it stored.
    const post = async (server: number, body: string) => {
      for (let tries = 0; tries < 400; tries++) {
        try {
          const r = await fetch(`http://127.0.0.1:${ports[server]}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ingest}` },
            body,
          });
          await r.arrayBuffer();
          if (r.status === 200) return;
        } catch {
          // the server is down: retry
        }
        await sleep(50);
      }
      throw new Error('never acknowledged');
    };
    const verifies: number[] = [];
    const cli = async () => {
      while (sent < BATCHES) {
        const r = await promisify(execFile)(
          process.execPath,
          [path.join(ROOT, 'bin/tally.js'), 'verify', '--config', path.join(dir, 'tally.yaml')],
          { encoding: 'utf8' },
        ).then(
          () => 0,
          (e: { code?: number }) => e.code ?? -1,
        );
        verifies.push(r);
      }
    };
    const killer = async () => {
      while (sent < BATCHES / 2) await sleep(5);
      served[1]?.child.kill('SIGKILL');
      await served[1]?.exited;
      served[1] = await startServe(dir, ports[1] as number);
    };
    const writer = async () => {
      for (let n = 0; n < BATCHES; n++) {
        const body = batch(n);
        await Promise.all([post(0, body), post(1, body)]);
        sent++;
      }
    };
    await Promise.all([writer(), cli(), killer()]);
    expect(verifies.length).toBeGreaterThan(0);
    expect(verifies.every((code) => code === 0)).toBe(true);

    const store = await openStore(url);
    try {
      const counters = await store.counters();
      expect(counters.events).toBe(BATCHES * PER_BATCH);
      const seqs = (await store.batches()).map((b) => b.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(await store.verify()).toMatchObject({ ok: true, events: BATCHES * PER_BATCH, firstBad: null });
    } finally {
      await store.close();
    }
  }, 240_000);
});
