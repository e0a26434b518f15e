/**
 * Steady, seasonal, ordinary traffic for the signal tests: two months
 * (September and October 2026) of a weekday-business service with quiet
 * weekends, a round-the-clock service with a daily swing, a nightly batch,
 * a month-end batch that runs only on the last two nights of each month, and
 * a tenant-serving key. Deterministic: a seeded generator, ids from counters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { Config } from '../../src/core/config.js';
import { parseConfig } from '../../src/core/config-schema.js';
import { emptyEvent, type UsageEvent } from '../../src/core/event.js';
import type { Signal } from '../../src/core/signals/signal.js';
import { evaluateSignals, type SignalOptions } from '../../src/service/signals.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { type Adapter, DUCKDB } from '../store/adapters.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const SEP = Date.UTC(2026, 8, 1);
export const NOV = Date.UTC(2026, 10, 1);
/** The window judged: the 30 days up to the end of October, with September as history. */
export const WINDOW = { start: NOV - 30 * DAY, end: NOV };

export const REGISTRY = `
currency: USD
cost_centers:
  - { id: cc-a, name: A }
teams:
  - { id: team-web, name: Web, cost_center: cc-a }
  - { id: team-fin, name: Finance, cost_center: cc-a }
  - { id: team-gone, name: Gone, cost_center: cc-a, offboarded: 2026-10-20 }
applications:
  - { id: app-web, name: Web, owner: [{ team: team-web, from: 2026-01-01 }] }
  - { id: app-fin, name: Finance, owner: [{ team: team-fin, from: 2026-01-01 }] }
  - { id: app-gone, name: Gone, owner: [{ team: team-gone, from: 2026-01-01 }] }
tenants:
  - { id: tenant-a, name: A }
  - { id: tenant-b, name: B }
  - { id: tenant-c, name: C }
identities:
  - { id: nhi-web, kind: service_account, application: app-web, environment: production, models: ["m-std*", "m-mini*"], match: [{ service: web }] }
  - { id: nhi-api, kind: api_key, application: app-web, environment: production, match: [{ api_key: key-api }] }
  - { id: nhi-nightly, kind: workload, application: app-fin, environment: production, match: [{ service: nightly }] }
  - { id: nhi-close, kind: workload, application: app-fin, environment: production, match: [{ service: close }] }
  - { id: nhi-tenants, kind: api_key, application: app-web, environment: production, tenants: [tenant-a, tenant-b], match: [{ api_key: key-tenants }] }
  - { id: nhi-gone, kind: api_key, application: app-gone, environment: production, match: [{ api_key: key-gone }] }
  - id: nhi-revoked
    kind: api_key
    application: app-web
    environment: production
    match: [{ api_key: key-revoked }]
    lifecycle:
      - { at: 2026-01-01T00:00:00Z, event: created }
      - { at: 2026-10-21T00:00:00Z, event: revoked }
  - id: nhi-leaked
    kind: api_key
    application: app-web
    environment: production
    match: [{ api_key: key-leaked }]
    lifecycle:
      - { at: 2026-10-21T00:00:00Z, event: leaked }
prices:
  models:
    - { provider: acme, model: m-std, from: 2026-01-01, input_per_mtok: 3.00, output_per_mtok: 15.00 }
    - { provider: acme, model: m-mini, from: 2026-01-01, input_per_mtok: 0.15, output_per_mtok: 0.60 }
    - { provider: acme, model: m-batch, from: 2026-01-01, input_per_mtok: 2.50, output_per_mtok: 10.00 }
    - { provider: acme, model: m-premium, from: 2026-01-01, input_per_mtok: 15.00, output_per_mtok: 75.00 }
`;

/** The same registry without the incidents: no revocation, no leak, no offboarded team. */
export const STEADY_REGISTRY = REGISTRY.replace('      - { at: 2026-10-21T00:00:00Z, event: revoked }\n', '')
  .replace(
    '      - { at: 2026-10-21T00:00:00Z, event: leaked }\n',
    '      - { at: 2026-01-01T00:00:00Z, event: created }\n',
  )
  .replace(', offboarded: 2026-10-20', '');

/** Mulberry32: small, fast and the same everywhere. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  /** A Poisson count (Knuth for small means, normal beyond). */
  poisson(mean: number): number {
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
}

export interface Stream {
  identity: string;
  selector: Partial<UsageEvent>;
  /** Expected events in the hour starting at `t`. */
  rate: (t: number) => number;
  model: string;
  input: number;
  output: number;
  addresses: string[];
  tenants?: string[];
  errorRate?: number;
}

const BUSINESS = [
  0, 0, 0, 0, 0, 0, 0.05, 0.3, 0.8, 1, 1, 0.95, 0.85, 0.95, 1, 1, 0.9, 0.6, 0.3, 0.1, 0.05, 0, 0, 0,
];
const weekend = (t: number) => [0, 6].includes(new Date(t).getUTCDay());
const hourOf = (t: number) => new Date(t).getUTCHours();
const lastNights = (t: number) => {
  const d = new Date(t);
  const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).getTime();
  return next - t <= 2 * DAY;
};

export const STREAMS: Stream[] = [
  {
    identity: 'nhi-web',
    selector: { service: 'web' },
    rate: (t) => 100 * (BUSINESS[hourOf(t)] ?? 0) * (weekend(t) ? 0.2 : 1) + 0.3,
    model: 'm-std',
    input: 20_000,
    output: 500,
    addresses: ['10.1.0.11', '10.1.0.12', '10.1.0.13'],
    errorRate: 0.005,
  },
  {
    identity: 'nhi-api',
    selector: { api_key: 'key-api', service: 'gateway' },
    rate: (t) => 30 * (0.5 + 0.5 * Math.sin(((hourOf(t) - 9) / 24) * 2 * Math.PI) ** 2),
    model: 'm-mini',
    input: 1_500,
    output: 300,
    addresses: ['10.2.0.21'],
    errorRate: 0.01,
  },
  {
    identity: 'nhi-nightly',
    selector: { service: 'nightly' },
    rate: (t) => ([2, 3].includes(hourOf(t)) ? 120 : 0),
    model: 'm-batch',
    input: 8_000,
    output: 700,
    addresses: ['10.3.0.31'],
  },
  {
    identity: 'nhi-close',
    selector: { service: 'close' },
    rate: (t) => (lastNights(t) && [1, 2, 3].includes(hourOf(t)) ? 250 : 0),
    model: 'm-batch',
    input: 12_000,
    output: 900,
    addresses: ['10.3.0.32'],
  },
  {
    identity: 'nhi-tenants',
    selector: { api_key: 'key-tenants', service: 'gateway' },
    rate: (t) => 12 * (BUSINESS[hourOf(t)] ?? 0) * (weekend(t) ? 0.3 : 1) + 0.2,
    model: 'm-std',
    input: 3_000,
    output: 400,
    addresses: ['10.4.0.41', '10.4.0.42'],
    tenants: ['tenant-a', 'tenant-b'],
  },
  // Keys whose traffic the tests make suspicious; ordinary until then.
  ...['revoked', 'leaked', 'gone'].map(
    (k): Stream => ({
      identity: `nhi-${k}`,
      selector: { api_key: `key-${k}`, service: 'gateway' },
      rate: (t) => 4 * (BUSINESS[hourOf(t)] ?? 0) * (weekend(t) ? 0.3 : 1),
      model: 'm-mini',
      input: 1_000,
      output: 200,
      addresses: [`10.5.0.${k.length}`],
    }),
  ),
];

export function eventOf(
  s: Stream,
  id: string,
  t: number,
  rng: Rng,
  over: Partial<UsageEvent> = {},
): UsageEvent {
  const failed = rng.next() < (s.errorRate ?? 0);
  return {
    ...emptyEvent(id, 'test', t),
    provider: 'acme',
    model: s.model,
    operation: 'chat',
    input_tokens: failed ? 0 : Math.max(1, Math.round(rng.logNormal(s.input, 0.4))),
    output_tokens: failed ? 0 : Math.max(1, Math.round(rng.logNormal(s.output, 0.4))),
    environment: 'production',
    client_address: rng.pick(s.addresses),
    tenant: s.tenants ? rng.pick(s.tenants) : null,
    status: failed ? 'error' : 'ok',
    error_type: failed ? rng.pick(['429', '500']) : null,
    ...s.selector,
    ...over,
  };
}

/** The ordinary traffic: each hour's count drawn around the stream's rate, with a per-day level. */
export function steadyTraffic(seed = 1): UsageEvent[] {
  const rng = new Rng(seed);
  const out: UsageEvent[] = [];
  for (const s of STREAMS) {
    let n = 0;
    let level = 1;
    for (let t = SEP; t < NOV; t += HOUR) {
      if (hourOf(t) === 0) level = rng.logNormal(1, 0.1);
      const count = rng.poisson(s.rate(t) * level);
      for (let i = 0; i < count; i++)
        out.push(eventOf(s, `${s.identity}-${n++}`, t + Math.floor(rng.next() * HOUR), rng));
    }
  }
  return out;
}

export function stream(identity: string): Stream {
  const s = STREAMS.find((x) => x.identity === identity);
  if (!s) throw new Error(`no stream ${identity}`);
  return s;
}

export function parse(yaml: string): Config {
  return parseConfig(YAML.parse(yaml), { sha256: 'test' });
}

export interface World {
  store: Store;
  config: Config;
  signals(opts?: SignalOptions): Promise<Signal[]>;
  close(): Promise<void>;
}

export async function world(
  events: UsageEvent[],
  yaml = STEADY_REGISTRY,
  adapter: Adapter = DUCKDB,
): Promise<World> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-signals-'));
  const store = await openStore(adapter.url(dir));
  await store.ingest('test', [events]);
  const config = parse(yaml);
  return {
    store,
    config,
    signals: (opts) => evaluateSignals(store, config, WINDOW, opts),
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
