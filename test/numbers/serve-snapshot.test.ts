// One snapshot per statement with two processes (SPEC §5.3): this test
// process posts batches to `tally serve` (a child process, the built code)
// while it asks the same server for the month's statement. The server commits
// each batch while statements are being computed; afterwards, from the DuckDB
// file, every statement's audit head must describe exactly the events it counted.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir, freePort, type Served, startServe } from '../server/child.js';
import { TOKENS } from '../server/helpers.js';

let dir: string;
let served: Served | null = null;

beforeAll(async () => {
  dir = await configDir();
}, 120_000);

afterAll(async () => {
  served?.child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

const batch = (n: number, size: number) =>
  JSON.stringify(
    Array.from({ length: size }, (_, i) => ({
      id: `s${n}-${i}`,
      source: 'snapshot-test',
      time: `2026-10-${String(1 + (i % 28)).padStart(2, '0')}T12:00:00Z`,
      provider: 'acme',
      model: 'm1',
      operation: 'chat',
      input_tokens: 1000,
      service: i % 2 === 0 ? 'svc-a' : 'svc-b',
    })),
  );

describe('statements while `tally serve` commits ingests', () => {
  it('each statement’s audit head describes exactly the events it counted', async () => {
    served = await startServe(dir, await freePort());
    const base = served.base;
    const post = async (n: number) => {
      const r = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ingest}` },
        body: batch(n, 50 + n),
      });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    };
    const seen: Array<{ head: string | null; events: number }> = [];
    let writing = true;
    const reader = async () => {
      while (writing) {
        const r = await fetch(`${base}/v1/statements?period=2026-10`, {
          headers: { authorization: `Bearer ${TOKENS.finance}` },
        });
        const st = (await r.json()) as { inputs: { audit_head: string | null; events: number } };
        seen.push({ head: st.inputs.audit_head, events: st.inputs.events });
      }
    };
    const writer = async () => {
      for (let n = 0; n < 25; n++) await post(n);
      writing = false;
    };
    await Promise.all([writer(), reader(), reader()]);
    served.child.kill('SIGTERM');
    await served.exited;
    served = null;

    const db = await DuckDBInstance.create(path.join(dir, 'tally.duckdb'));
    const conn = await db.connect();
    const rows = (
      await conn.runAndReadAll('SELECT seq, count, chain_sha256 FROM batches ORDER BY seq')
    ).getRowObjectsJS();
    conn.closeSync();
    db.closeSync();
    const upTo = new Map<string, number>();
    let total = 0;
    for (const r of rows) {
      total += Number(r.count);
      upTo.set(String(r.chain_sha256), total);
    }
    expect(seen.length).toBeGreaterThan(5);
    // every posted event is in October: a statement counts all the events of the batches up to its head
    for (const s of seen) expect(s.events).toBe(s.head === null ? 0 : upTo.get(s.head));
    expect(new Set(seen.map((s) => s.head)).size).toBeGreaterThan(2);
  }, 120_000);
});
