/**
 * The typed configuration (SPEC §2). Times are epoch milliseconds UTC; a date
 * `2026-10-15` means its midnight UTC. `until` is exclusive everywhere.
 * Parsing and validation of the raw YAML value lives in `config-schema.ts`.
 */
import type { Money } from './money.js';
import type { Severity } from './signals/signal.js';

export interface Dated {
  from: number | null;
  until: number | null;
}

export interface CostCenter {
  id: string;
  name: string;
}

export interface Team {
  id: string;
  name: string;
  costCenter: Array<Dated & { costCenter: string }>;
  offboarded: number | null;
}

export interface Application {
  id: string;
  name: string;
  owner: Array<Dated & { team: string }>;
  retired: number | null;
}

export interface Tenant {
  id: string;
  name: string;
}

export type IdentityKind = 'api_key' | 'service_account' | 'agent' | 'workload';
export type LifecycleEventKind = 'created' | 'rotated' | 'revoked' | 'expired' | 'leaked' | 'compromised';

/** A selector: every field present must equal the event's. */
export interface Selector {
  api_key?: string;
  service?: string;
  agent?: string;
  project?: string;
}
export const SELECTOR_FIELDS = ['api_key', 'service', 'agent', 'project'] as const;

export interface Identity {
  id: string;
  kind: IdentityKind;
  application: string | null;
  environment: string;
  shared: boolean;
  /** null = none allowed; ['*'] = any. */
  tenants: string[] | null;
  /** null = any model; else globs. */
  models: string[] | null;
  match: Selector[];
  lifecycle: Array<{ at: number; event: LifecycleEventKind }>;
}

export interface ModelPrice extends Dated {
  provider: string;
  /** Exact name or glob. */
  model: string;
  /** Money per million tokens. */
  inputPerMtok: Money;
  outputPerMtok: Money;
  cacheReadPerMtok: Money | null;
  cacheWritePerMtok: Money | null;
  reasoningPerMtok: Money | null;
  /** One-hour cache writes; omitted: priced at the cache-write rate (SPEC §3). */
  cacheWrite1hPerMtok?: Money | null;
  /** Audio input tokens; omitted: priced at the input rate. */
  inputAudioPerMtok?: Money | null;
  /** Audio output tokens; omitted: priced at the output rate. */
  outputAudioPerMtok?: Money | null;
}

export interface Discount extends Dated {
  provider: string;
  /** Per cent as an exact decimal (10 = 10 %), in Money units of 10^-12 to stay exact. */
  percent: Money;
}

/** A price per unit of server-side tool use (`units: [{unit: web_search, per_unit: 0.01}]`, SPEC §3). */
export interface UnitRate {
  unit: string;
  /** Only events of this provider; null: any. */
  provider: string | null;
  perUnit: Money;
}

export interface UnitPrice {
  operation: string;
  tool: string | null;
  dataSource: string | null;
  perCall: Money;
}

export type PoolLevel = 'team' | 'application' | 'tenant' | 'cost_center';
export type PoolMethod = 'proportional' | 'even' | 'weighted';
export type PoolBasis =
  | 'inference'
  | 'embedding'
  | 'retrieval'
  | 'tool'
  | 'orchestration'
  | 'cost'
  | 'tokens'
  | 'requests';

export interface SharedPool {
  id: string;
  amount: Money;
  level: PoolLevel;
  method: PoolMethod;
  basis: PoolBasis;
  /** Relative weights by consumer id: the configured numbers × 10^12, so that decimal weights stay exact. */
  weights: Record<string, bigint>;
}

export interface SignalThresholds {
  spikeZ: number;
  spikeFloor: Money;
  baselineDays: number;
  historyDays: number;
  [rule: string]: unknown;
}

export interface Policy {
  workflowRollup: 'invoker' | 'executor';
  experimentation: 'showback' | 'charge';
  disputed: 'hold' | 'charge';
  signals: Record<string, unknown>;
}

export type Role = 'admin' | 'finance' | 'team' | 'ingest';
export interface AccessToken {
  tokenSha256: string;
  role: Role;
  team: string | null;
}

export interface Budget {
  scope: 'team' | 'application' | 'tenant';
  id: string;
  monthly: Money;
  alertAt: number[];
}

export interface Config {
  store: string;
  /** The ingest queue (SPEC §10): `tally serve` publishes to it, `tally worker` consumes it; null: none. */
  queue: string | null;
  currency: string;
  costCenters: CostCenter[];
  teams: Team[];
  applications: Application[];
  tenants: Tenant[];
  identities: Identity[];
  prices: { models: ModelPrice[]; discounts: Discount[]; units: UnitPrice[]; unitRates?: UnitRate[] };
  sharedPools: SharedPool[];
  policy: Policy;
  access: AccessToken[];
  budgets: Budget[];
  /** Webhook for budget alerts (server). */
  alertWebhook: string | null;
  /** New signals at or above a severity, posted to a webhook by the server (SPEC §12). */
  notify: { webhook: string; minSeverity: Severity; dashboardUrl: string | null } | null;
  /** SHA-256 over the bytes of the file and its includes, in order. */
  sha256: string;
}
