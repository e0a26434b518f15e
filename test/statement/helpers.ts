import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { Config } from '../../src/core/config.js';
import { parseConfig } from '../../src/core/config-schema.js';
import { emptyEvent, type UsageEvent } from '../../src/core/event.js';
import { type Computed, computeStatement } from '../../src/service/statement.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { type Adapter, DUCKDB } from '../store/adapters.js';

export const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };

/** A canonical event with sensible defaults; `at` is an ISO time. */
export function ev(id: string, at: string, fields: Partial<UsageEvent> = {}): UsageEvent {
  return { ...emptyEvent(id, 'test', Date.parse(at)), provider: 'acme', model: 'm1', ...fields };
}

export function config(yaml: string): Config {
  return parseConfig(YAML.parse(yaml), { sha256: 'test' });
}

export interface Scenario {
  store: Store;
  config: Config;
  dir: string;
  compute(
    opts?: Parameters<typeof computeStatement>[3],
    window?: { start: number; end: number },
  ): Promise<Computed>;
  close(): Promise<void>;
}

/** A fresh store of the adapter (DuckDB unless named) holding the batches, and the configuration. */
export async function scenario(
  yaml: string,
  batches: UsageEvent[][],
  adapter: Adapter = DUCKDB,
): Promise<Scenario> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-test-'));
  const store = await openStore(adapter.url(dir));
  const cfg = config(yaml);
  for (const [i, batch] of batches.entries()) await store.ingest(`test:${i}`, [batch]);
  return {
    store,
    config: cfg,
    dir,
    compute: (opts, window = OCT) => computeStatement(store, cfg, window, opts),
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The base registry of the attribution tests. Organisation prices make every
 * amount easy to check by hand: m1 costs $1 per million input tokens and $2
 * per million output tokens, so 1,000,000 input + 500,000 output = $2.00.
 */
export const BASE = `
currency: USD
cost_centers:
  - { id: cc-a, name: A }
  - { id: cc-b, name: B }
teams:
  - { id: team-a, name: Team A, cost_center: cc-a }
  - id: team-b
    name: Team B
    cost_center:
      - { cost_center: cc-a, from: 2026-01-01, until: 2026-10-10 }
      - { cost_center: cc-b, from: 2026-10-10 }
  - id: team-c
    name: Team C
    cost_center:
      - { cost_center: cc-a, from: 2026-11-01 }
applications:
  - id: app-one
    name: One
    owner:
      - { team: team-a, from: 2026-01-01, until: 2026-10-15 }
      - { team: team-b, from: 2026-10-15 }
  - id: app-two
    name: Two
    owner:
      - { team: team-b, from: 2026-01-01 }
  - id: app-future
    name: Not yet owned
    owner:
      - { team: team-a, from: 2026-11-01 }
  - id: app-nocc
    name: Team without a cost center yet
    owner:
      - { team: team-c, from: 2026-01-01 }
  - id: app-rag
    name: RAG platform
    owner:
      - { team: team-a, from: 2026-01-01 }
tenants:
  - { id: tenant-x, name: X }
  - { id: tenant-y, name: Y }
identities:
  - id: nhi-one
    kind: api_key
    application: app-one
    environment: production
    tenants: [tenant-x]
    models: ["m1*"]
    match:
      - { api_key: key-one }
  - id: nhi-two
    kind: service_account
    application: app-two
    environment: production
    tenants: ["*"]
    match:
      - { service: svc-two }
  - id: nhi-lab
    kind: api_key
    application: app-two
    environment: experimentation
    match:
      - { api_key: key-lab }
  - id: nhi-rag
    kind: workload
    application: app-rag
    environment: production
    shared: true
    tenants: ["*"]
    match:
      - { service: rag }
  - id: nhi-old
    kind: api_key
    application: app-one
    environment: production
    match:
      - { api_key: key-old }
    lifecycle:
      - { at: 2026-01-01T00:00:00Z, event: created }
      - { at: 2026-10-20T00:00:00Z, event: revoked }
  - id: nhi-comp
    kind: api_key
    application: app-two
    environment: production
    models: [m1]
    match:
      - { api_key: key-comp }
    lifecycle:
      - { at: 2026-10-20T00:00:00Z, event: compromised }
      - { at: 2026-10-22T00:00:00Z, event: revoked }
  - { id: nhi-dup-1, kind: workload, application: app-two, environment: production, match: [{ service: dup }] }
  - { id: nhi-dup-2, kind: workload, application: app-two, environment: production, match: [{ service: dup }] }
  - { id: nhi-platform, kind: agent, application: app-two, environment: production, match: [{ service: agents }] }
  - id: nhi-research
    kind: agent
    application: app-one
    environment: production
    match:
      - { service: agents, agent: research }
  - { id: nhi-orphan, kind: workload, environment: production, match: [{ service: orphan }] }
  - { id: nhi-future, kind: workload, application: app-future, environment: production, match: [{ service: future }] }
  - { id: nhi-nocc, kind: workload, application: app-nocc, environment: production, match: [{ service: nocc }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
    - { provider: acme, model: m2, from: 2026-01-01, input_per_mtok: 10.00, output_per_mtok: 20.00 }
  units:
    - { operation: invoke_agent, per_call: 0.002 }
    - { operation: retrieval, data_source: kb, per_query: 0.0004 }
`;

/** Shared pools of every method and basis but requests, over BASE's teams, applications and tenants. */
export const POOLS = `
shared_pools:
  - { id: pool-vec, amount: 100.00, level: application, method: proportional, basis: retrieval }
  - { id: pool-fee, amount: 10.00, level: team, method: even }
  - { id: pool-gpu, amount: 100.00, level: team, method: weighted, weights: { team-a: 1, team-b: 2 } }
  - { id: pool-tenants, amount: 7.00, level: tenant, method: proportional, basis: tokens }
  - { id: pool-penny, amount: 0.01, level: team, method: even }
  - { id: pool-cost, amount: 1.00, level: cost_center, method: proportional, basis: cost }
`;

export function line(c: Computed, match: Record<string, unknown>) {
  const found = c.statement.lines.filter((l) =>
    Object.entries(match).every(([k, v]) => (l as unknown as Record<string, unknown>)[k] === v),
  );
  if (found.length !== 1) {
    throw new Error(`expected one line matching ${JSON.stringify(match)}, found ${found.length}`);
  }
  return found[0]!;
}
