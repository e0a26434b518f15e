// The month-close routes in process: a tampered store is a finding (Tally-Exit-Code 1), query values
// are the command's own options and never its flags, and team tokens see their team only.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { canonical, config, NOW, TOKENS } from './helpers.js';

let dir: string;
let file: string;
let store: Store;
let app: App;

const call = (method: string, p: string, token: string, body?: string) =>
  app.request(p, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    ...(body === undefined ? {} : { body }),
  });

async function open(): Promise<void> {
  store = await openStore(file);
  app = createApp({ store, config: config(), webDir: dir, now: () => NOW });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-commands-'));
  file = path.join(dir, 'tally.duckdb');
  await open();
  const events = [
    canonical('a1', 'svc-a'),
    canonical('b1', 'svc-b', { time: '2026-10-11T12:00:00Z' }),
    canonical('u1', 'svc-unknown', { api_key: 'key_0123abcd' }),
  ];
  const res = await app.request('/v1/events', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the month close through the API', () => {
  it('reads query values as option values, never as flags', async () => {
    const res = await call('GET', '/v1/statements?period=--help&format=json', TOKENS.finance);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'usage', message: expect.stringContaining('--help') });
    const issue = await call('POST', '/v1/statements/issue?period=2026-10&issue=false', TOKENS.finance);
    expect(issue.status).toBe(200);
    expect(decodeURIComponent(issue.headers.get('tally-notes') ?? '')).toContain(
      'issued statement 2026-10 v1',
    );
    const odd = await call(
      'POST',
      '/v1/reconcile?period=2026-10&true-up=yes',
      TOKENS.finance,
      'provider,amount\n',
    );
    expect(odd.status).toBe(400);
  });

  it('scopes the command outputs of the reading routes to a team token', async () => {
    const res = await call('GET', '/v1/statements?period=2026-10&format=json', TOKENS.teamB);
    expect(res.status).toBe(200);
    const s = (await res.json()) as { lines: { team: string | null }[]; totals: { events: number } };
    expect(s.lines.map((l) => l.team)).toEqual(['team-b']);
    expect(s.totals.events).toBe(1);
    const other = await call('GET', '/v1/statements?period=2026-10&format=json&team=team-a', TOKENS.teamB);
    expect(other.status).toBe(403);
    const signals = await call('GET', '/v1/signals?from=2026-10-01&to=2026-11-01&format=json', TOKENS.teamB);
    expect(signals.status).toBe(200);
    for (const sig of (await signals.json()) as { team: string | null }[]) expect(sig.team).toBe('team-b');
  });

  it('says TAMPERED with Tally-Exit-Code 1 after an event was edited in the file', async () => {
    const ok = await call('GET', '/v1/verify', TOKENS.admin);
    expect(ok.headers.get('tally-exit-code')).toBe('0');
    expect(await ok.json()).toMatchObject({ ok: true, batches: 1, events: 3 });
    await store.close();
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    await conn.run(`UPDATE event_log SET input_tokens = 1 WHERE id = 'b1'`);
    conn.closeSync();
    db.closeSync();
    await open();
    const bad = await call('GET', '/v1/verify?format=table', TOKENS.finance);
    expect(bad.status).toBe(200);
    expect(bad.headers.get('tally-exit-code')).toBe('1');
    expect(await bad.text()).toMatch(/^TAMPERED: batch 1 no longer matches/);
  });
});
