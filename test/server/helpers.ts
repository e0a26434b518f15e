import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { Config } from '../../src/core/config.js';
import { parseConfig } from '../../src/core/config-schema.js';
import { type App, type AppDeps, createApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

export const TOKENS = {
  admin: 'tok-admin-0123456789',
  finance: 'tok-finance-0123456789',
  teamA: 'tok-team-a-0123456789',
  teamB: 'tok-team-b-0123456789',
  ingest: 'tok-ingest-0123456789',
} as const;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Two teams with one application each; svc-a belongs to team-a, svc-b to
 * team-b, `rag` is a shared service of team-b whose work is paid by its
 * invoker. acme/m1 costs $1 per million input and $2 per million output tokens.
 */
export function configYaml(extra = ''): string {
  return `
store: ./tally.duckdb
currency: USD
cost_centers:
  - { id: cc-a, name: A }
  - { id: cc-b, name: B }
teams:
  - { id: team-a, name: Team A, cost_center: cc-a }
  - { id: team-b, name: Team B, cost_center: cc-b }
applications:
  - { id: app-a, name: App A, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-b, name: App B, owner: [{ team: team-b, from: 2026-01-01 }] }
tenants:
  - { id: tenant-x, name: X }
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, tenants: ["*"], match: [{ service: svc-a }] }
  - { id: nhi-b, kind: api_key, application: app-b, environment: production, match: [{ service: svc-b }] }
  - { id: nhi-rag, kind: service_account, application: app-b, environment: production, shared: true, match: [{ service: rag }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1, output_per_mtok: 2 }
budgets:
  - { team: team-a, monthly: 10, alert_at: [50, 100] }
  - { team: team-b, monthly: 1000, alert_at: [50] }
access:
  - { token_sha256: "${sha(TOKENS.admin)}", role: admin }
  - { token_sha256: "${sha(TOKENS.finance)}", role: finance }
  - { token_sha256: "${sha(TOKENS.teamA)}", role: team, team: team-a }
  - { token_sha256: "${sha(TOKENS.teamB)}", role: team, team: team-b }
  - { token_sha256: "${sha(TOKENS.ingest)}", role: ingest }
${extra}`;
}

export function config(extra = ''): Config {
  return parseConfig(YAML.parse(configYaml(extra)), { sha256: 'test' });
}

/** "Now" for in-process tests: early November 2026, so October is complete. */
export const NOW = Date.UTC(2026, 10, 5, 12);

export interface Harness {
  app: App;
  store: Store;
  dir: string;
  call(method: string, path: string, token?: string | null, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function harness(opts: { extraYaml?: string; deps?: Partial<AppDeps> } = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-server-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>tally</title>');
  const store = await openStore(path.join(dir, 'tally.duckdb'));
  const app = createApp({ store, config: config(opts.extraYaml), webDir: dir, now: () => NOW, ...opts.deps });
  return {
    app,
    store,
    dir,
    call(method, p, token, init = {}) {
      const headers = new Headers(init.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return app.request(p, { ...init, method, headers });
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A canonical event as JSON, October 2026. */
export function canonical(
  id: string,
  service: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    source: 'test',
    time: '2026-10-10T12:00:00Z',
    provider: 'acme',
    model: 'm1',
    operation: 'chat',
    input_tokens: 1_000_000,
    output_tokens: 0,
    service,
    ...fields,
  };
}

export function postJson(h: Harness, p: string, token: string, body: unknown): Promise<Response> {
  return h.call('POST', p, token, {
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

/** A real webhook receiver on a loopback port: what it received, and how many next posts to fail with 500. */
export interface Receiver {
  url: string;
  received: Array<Record<string, unknown>>;
  failNext: number;
  close(): Promise<void>;
}

export async function webhookReceiver(): Promise<Receiver> {
  const r: Receiver = { url: '', received: [], failNext: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => {
      text += d.toString();
    });
    req.on('end', () => {
      if (r.failNext > 0) {
        r.failNext--;
        res.writeHead(500).end();
        return;
      }
      r.received.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}
