// Crash safety: `tally serve` is killed (SIGKILL) twice while a client
// streams batches of events and retries whatever was not acknowledged. In
// the end every event is stored exactly once, acknowledged or retried.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir, freePort, type Served, startServe } from './child.js';
import { TOKENS } from './helpers.js';

const BATCHES = 60;
const PER_BATCH = 500;
const WORKERS = 4;

let dir: string;
let served: Served | null = null;

beforeAll(async () => {
  dir = await configDir();
}, 120_000);

afterAll(async () => {
  served?.child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

function batch(n: number): string {
  const events = [];
  for (let i = 0; i < PER_BATCH; i++) {
    events.push({
      id: `b${n}-e${i}`,
      source: 'crash-test',
      time: new Date(Date.now() - 3_600_000).toISOString(),
      provider: 'acme',
      model: 'm1',
      operation: 'chat',
      input_tokens: 1000,
      service: i % 2 === 0 ? 'svc-a' : 'svc-b',
    });
  }
  return JSON.stringify(events);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash during ingest', () => {
  it('stores every acknowledged event exactly once and nothing twice', async () => {
    const port = await freePort();
    served = await startServe(dir, port);
    const base = served.base;
    const acked = new Set<number>();
    let attempts = 0;
    let failures = 0;

    const send = async (n: number, body: string) => {
      for (let tries = 0; tries < 400; tries++) {
        attempts++;
        try {
          const r = await fetch(`${base}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ingest}` },
            body,
          });
          await r.arrayBuffer();
          if (r.status === 200) {
            acked.add(n);
            return;
          }
          failures++;
        } catch {
          failures++;
        }
        await sleep(50);
      }
      throw new Error(`batch ${n} was never acknowledged`);
    };

    let next = 0;
    const worker = async () => {
      while (next < BATCHES) {
        const n = next++;
        await send(n, batch(n));
      }
    };
    const killer = async () => {
      for (const at of [12, 35]) {
        while (acked.size < at) await sleep(5);
        served?.child.kill('SIGKILL');
        await served?.exited;
        await sleep(200);
        served = await startServe(dir, port);
      }
    };
    await Promise.all([...Array.from({ length: WORKERS }, worker), killer()]);
    expect(acked.size).toBe(BATCHES);
    expect(failures).toBeGreaterThan(0);
    expect(attempts).toBeGreaterThan(BATCHES);

    const m = await (await fetch(`${base}/metrics`)).text();
    expect(m).toMatch(new RegExp(`^tally_events_ingested_total ${BATCHES * PER_BATCH}$`, 'm'));
    served.child.kill('SIGTERM');
    await served.exited;
    served = null;

    const db = await DuckDBInstance.create(path.join(dir, 'tally.duckdb'));
    const conn = await db.connect();
    const rows = (
      await conn.runAndReadAll(
        `SELECT count(*) AS n, count(DISTINCT (source, id)) AS d, count(DISTINCT batch_seq) AS b FROM events`,
      )
    ).getRowObjectsJS();
    conn.closeSync();
    db.closeSync();
    expect(Number(rows[0]?.n)).toBe(BATCHES * PER_BATCH);
    expect(Number(rows[0]?.d)).toBe(BATCHES * PER_BATCH);
  }, 180_000);
});
