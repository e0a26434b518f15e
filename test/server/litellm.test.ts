// POST /v1/litellm: LiteLLM's generic API callback (its logging payloads) reports requests live;
// a later export of its spend table holds the same requests, and they count once.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseConfig } from '../../src/core/config-schema.js';
import { createApp } from '../../src/server/app.js';
import { ingestFile } from '../../src/service/ingest.js';
import type { Store } from '../../src/store/store.js';
import { fixture } from '../ingest/helpers.js';
import { ADAPTERS, type Adapter, DUCKDB, openFresh } from '../store/adapters.js';

const INGEST = 'tok-litellm-ingest-0123456789';
const ADMIN = 'tok-litellm-admin-0123456789';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const NOW = Date.UTC(2026, 10, 5, 12);

// The two LiteLLM virtual keys of the fixtures, named by the first 16 hex digits of their hashes.
const CONFIG = `
currency: USD
cost_centers: [{ id: cc, name: CC }]
teams:
  - { id: team-cx, name: CX, cost_center: cc }
  - { id: team-search, name: Search, cost_center: cc }
applications:
  - { id: support-bot, name: Support bot, owner: [{ team: team-cx, from: 2026-01-01 }] }
  - { id: indexer, name: Indexer, owner: [{ team: team-search, from: 2026-01-01 }] }
identities:
  - { id: key-support, kind: api_key, application: support-bot, tenants: ["*"], match: [{ api_key: c97dca33f6895167 }] }
  - { id: key-indexer, kind: api_key, application: indexer, tenants: ["*"], match: [{ api_key: 7c9479b93522a7cb }] }
prices:
  models:
    - { provider: openai, model: gpt-4o, from: 2026-01-01, input_per_mtok: 2.50, output_per_mtok: 10.00, cache_read_per_mtok: 1.25 }
    - { provider: anthropic, model: claude-sonnet-4-5, from: 2026-01-01, input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.30, cache_write_per_mtok: 3.75 }
    - { provider: openai, model: text-embedding-3-small, from: 2026-01-01, input_per_mtok: 0.02, output_per_mtok: 0 }
access:
  - { token_sha256: "${sha(INGEST)}", role: ingest }
  - { token_sha256: "${sha(ADMIN)}", role: admin }
`;

const BATCH = readFileSync(fixture('litellm', 'callback-batch.json'), 'utf8');
const NDJSON = readFileSync(fixture('litellm', 'callback-batch.ndjson'), 'utf8');
const SPEND_LOGS = fixture('litellm', 'spend-logs.json');

interface Server {
  store: Store;
  post(body: string, contentType?: string, token?: string): Promise<Response>;
  statement(): Promise<Record<string, unknown>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function server(adapter: Adapter = DUCKDB): Promise<Server> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-litellm-'));
  const store = await openFresh(adapter, dir);
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const config = parseConfig(YAML.parse(CONFIG), { sha256: 'test' });
  const app = createApp({ store, config, webDir: dir, now: () => NOW });
  return {
    store,
    post: (body, contentType = 'application/json', token = INGEST) =>
      app.request('/v1/litellm', {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      }),
    async statement() {
      const r = await app.request('/v1/statements?period=2026-10', {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(r.status).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    },
  };
}

/** The statement without the audit head, which names the batches that brought the events. */
function numbers(s: Record<string, unknown>): unknown {
  const inputs = { ...(s.inputs as Record<string, unknown>), audit_head: null };
  return { ...s, inputs };
}

const spendLogs = (store: Store) =>
  ingestFile(store, SPEND_LOGS, { format: 'litellm', skipInvalid: false, now: NOW });

describe('POST /v1/litellm', () => {
  it.each(ADAPTERS)(
    'counts a request once whether the callback or the spend-log export reports it, with the same statement ($name)',
    async (adapter) => {
      const live = await server(adapter);
      const posted = await live.post(BATCH);
      expect(posted.status).toBe(200);
      expect(await posted.json()).toMatchObject({ stored: 5, duplicates: 0, superseded: 0 });
      const before = await live.statement();
      const teams = (before.lines as Array<{ team: string | null }>).map((l) => l.team);
      expect(teams).toEqual(expect.arrayContaining(['team-cx', 'team-search']));
      expect((before.totals as { events: number }).events).toBe(5);

      const exported = await spendLogs(live.store);
      expect(exported).toMatchObject({ stored: 0, duplicates: 5, superseded: 0 });
      expect(await live.statement()).toEqual(before);

      const table = await server(adapter);
      expect(await spendLogs(table.store)).toMatchObject({ stored: 5, duplicates: 0 });
      expect(numbers(await table.statement())).toEqual(numbers(before));
    },
  );

  it('reads what the logger sends in each of its formats: a JSON array, NDJSON under application/json, one object', async () => {
    const s = await server();
    const ndjson = await s.post(NDJSON);
    expect(await ndjson.json()).toMatchObject({ stored: 5, duplicates: 0 });
    const again = await s.post(NDJSON, 'application/x-ndjson');
    expect(await again.json()).toMatchObject({ stored: 0, duplicates: 5 });
    const first = NDJSON.split('\n')[0] as string;
    expect(await (await s.post(first)).json()).toMatchObject({ stored: 0, duplicates: 1 });
  });

  it('gives a cache hit the id its spend-log row gets, not the id of the request it was answered from', async () => {
    const s = await server();
    const [payload] = JSON.parse(BATCH) as Array<Record<string, unknown>>;
    const hit = {
      ...payload,
      cache_hit: true,
      startTime: (payload?.startTime as number) + 60,
      response_cost: 0,
    };
    expect(await (await s.post(JSON.stringify([payload, hit]))).json()).toMatchObject({ stored: 2 });
    const row = JSON.parse(readFileSync(SPEND_LOGS, 'utf8'))[0] as Record<string, unknown>;
    const hitRow = {
      ...row,
      request_id: `${row.request_id}_cache_hit1790856061.877`,
      startTime: '2026-10-01T12:01:00.123000Z',
      spend: 0,
      cache_hit: 'True',
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-litellm-hit-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'hit.json');
    await writeFile(file, JSON.stringify([hitRow]));
    const r = await ingestFile(s.store, file, { format: 'litellm', skipInvalid: false, now: NOW });
    expect(r.stored + r.superseded).toBe(0);
    expect(r.duplicates).toBe(1);
  });

  it('refuses a batch with an invalid payload with its record and field, storing none of it', async () => {
    const s = await server();
    const payloads = JSON.parse(BATCH) as Array<Record<string, unknown>>;
    payloads[3] = { ...payloads[3], prompt_tokens: -5 };
    payloads[4] = { ...payloads[4], id: '' };
    const r = await s.post(JSON.stringify(payloads));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { problems: unknown[] }).problems).toEqual([
      { record: 3, recordKind: 'record', field: 'prompt_tokens', reason: 'must not be negative, got -5' },
      { record: 4, recordKind: 'record', field: 'id', reason: 'is required' },
    ]);
    expect((await s.store.counters()).events).toBe(0);

    const lines = NDJSON.split('\n');
    lines[1] = '{"id": "x", "startTime": "not json';
    const bad = await s.post(lines.join('\n'), 'application/x-ndjson');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { problems: unknown[] }).problems).toEqual([
      { record: 2, recordKind: 'line', reason: 'not valid JSON' },
    ]);
    expect((await s.store.counters()).events).toBe(0);
  });

  it('takes an ingest or admin token only', async () => {
    const s = await server();
    expect((await s.post(BATCH, 'application/json', 'tok-unknown-0123456789')).status).toBe(401);
    expect((await s.post(BATCH, 'text/plain')).status).toBe(415);
    expect((await s.store.counters()).events).toBe(0);
  });
});
