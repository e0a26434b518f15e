/** The dashboard's only way to the server: `/v1/*` with the signed-in token. */

type Role = 'admin' | 'finance' | 'team' | 'ingest';

export interface Session {
  token: string;
  role: Role;
  team: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | null | undefined>;

/** Absolute URLs would break when the dashboard is served behind a path prefix; the API sits beside it. */
function url(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v);
  const qs = params.toString();
  return `${new URL(`.${path}`, document.baseURI).pathname}${qs ? `?${qs}` : ''}`;
}

async function request(
  token: string,
  path: string,
  query: Query | undefined,
  accept: string,
): Promise<Response> {
  const res = await fetch(url(path, query), {
    headers: { Authorization: `Bearer ${token}`, Accept: accept },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: string; message?: string } | null;
    throw new ApiError(
      res.status,
      body?.error ?? 'http_error',
      body?.message ?? `${res.status} ${res.statusText}`,
    );
  }
  return res;
}

export async function get<T>(token: string, path: string, query?: Query): Promise<T> {
  return (await (await request(token, path, query, 'application/json')).json()) as T;
}

/** A text body (a CSV download) with the file name the server suggests. */
export async function getText(
  token: string,
  path: string,
  query?: Query,
): Promise<{ text: string; filename: string | null }> {
  const res = await request(token, path, query, 'text/csv');
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return { text: await res.text(), filename: m?.[1] ?? null };
}

export async function whoami(token: string): Promise<Session> {
  const me = await get<{ role: Role; team: string | null }>(token, '/v1/whoami');
  return { token, role: me.role, team: me.team ?? null };
}

interface Totals {
  effective_cost: string;
  billed_cost: string;
  attributed_cost: string;
  unattributed_cost: string;
  disputed_cost: string;
  shared_cost: string;
  coverage: number | null;
  events: number;
  unpriced_events: number;
  /** Sampled telemetry (SPEC §11): the totals are estimates, with their 95 % interval. */
  estimated?: true;
  effective_cost_ci95?: [string, string];
  /** The statement's cents (SPEC §4.8): what every view shows. */
  cents: Record<
    | 'direct_cost'
    | 'shared_cost'
    | 'effective_cost'
    | 'list_cost'
    | 'billed_cost'
    | 'attributed_cost'
    | 'unattributed_cost'
    | 'disputed_cost',
    string
  >;
}

export const DIMENSIONS = [
  'cost_center',
  'team',
  'application',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
  'pool',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export type Line = Record<Dimension, string | null> & {
  direct_cost: string;
  shared_cost: string;
  effective_cost: string;
  list_cost: string;
  billed_cost: string;
  events: number;
  unpriced_events: number;
  input_tokens: number;
  output_tokens: number;
  /** The line's cents, as the statement computed them. */
  cents: Record<'direct_cost' | 'shared_cost' | 'effective_cost' | 'list_cost' | 'billed_cost', string>;
  /** Sampled telemetry (SPEC §11): the amounts are estimates, with their 95 % interval. */
  estimated?: true;
  effective_cost_ci95?: [string, string];
};

export interface Statement {
  period: { start: string; end: string };
  currency: string;
  level: string;
  scope: { team: string } | null;
  totals: Totals;
  lines: Line[];
  inputs: Record<string, unknown>;
  /** Set when the period was issued and has changed since (late data): the version and the change. */
  differs_from_issued: { version: number; effective_cost_delta: string } | null;
}

export interface DailySpend {
  currency: string;
  days: string[];
  /** Attributed usage per team; disputed and unattributed money as series of their own (team null). */
  series: Array<{ team: string | null; status: 'attributed' | 'disputed' | 'unattributed'; costs: string[] }>;
  /** The statement's direct cost in cents. */
  total_cents: string;
}

export interface BudgetStatus {
  scope: string;
  id: string;
  period: string;
  budget: string;
  actual: string;
  /** The actual to the cent, as the statement shows it. */
  actual_cents: string;
  forecast: string;
  observed_days: number;
  days: number;
  thresholds: Array<{
    percent: number;
    amount: string;
    crossed_at: string | null;
    forecast_to_cross: boolean;
  }>;
}

export interface EventRow {
  id: string;
  source: string;
  time: string;
  provider: string | null;
  model: string | null;
  operation: string;
  input_tokens: number;
  output_tokens: number;
  trace_id: string | null;
  span_id: string | null;
  status: string;
  identity: string | null;
  payer: string | null;
  cost_center: string | null;
  team: string | null;
  application: string | null;
  tenant: string | null;
  environment: string | null;
  category: string;
  attribution: string;
  reason: string | null;
  cost: string | null;
  billed_cost: string | null;
  priced: boolean;
}

export interface EventPage {
  events: EventRow[];
  next_cursor: string | null;
}

export interface Signal {
  rule: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  identity: string;
  team: string | null;
  title: string;
  first_seen: string;
  last_seen: string;
  events: number;
  cost: string;
  evidence: { events?: string[]; [figure: string]: unknown };
  refs: string[];
}

export interface Signals {
  window: { start: string; end: string } | null;
  signals: Signal[];
}

export interface ReplaySpan {
  id: string;
  time: string;
  operation: string;
  provider: string | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  status: string;
  selected: boolean;
  identity: string | null;
  payer: string | null;
  team: string | null;
  application: string | null;
  tenant: string | null;
  cost: string;
  billed_cost: string;
  priced: boolean;
  verdict: {
    lifecycle: string;
    lifecycle_since: string | null;
    model_allowed: boolean | null;
    tenant_claim: string | null;
    adjusted_count: string | null;
    tenant_allowed: boolean | null;
    owner_stale: boolean;
    status: string;
    reason: string | null;
  };
  /** Indices into the replay's `signals`. */
  signals: number[];
  children: ReplaySpan[];
}

export interface Replay {
  window: { start: string; end: string };
  selection: { identity: string | null; trace: string | null };
  currency: string;
  totals: {
    events: number;
    effective_cost: string;
    legitimate_cost: string;
    disputed_cost: string;
    unattributed_cost: string;
    billed_cost: string;
    unpriced_events: number;
    by_reason: Array<{ status: string; reason: string | null; events: number; cost: string }>;
  };
  signals: Signal[];
  traces: Array<{ trace_id: string | null; start: string; cost: string; spans: ReplaySpan[] }>;
}

export interface BreakdownRow {
  key: string | null;
  name: string | null;
  effective_cost: string;
  billed_cost: string;
  cents: { effective_cost: string; billed_cost: string };
  events: number;
  unpriced_events: number;
  input_tokens: number;
  output_tokens: number;
  previous_cents: string | null;
  change_percent: string | null;
}

export interface Breakdown {
  period: { start: string; end: string };
  currency: string;
  scope: { team: string } | null;
  by: string;
  filter: Record<string, string | null>;
  totals: {
    effective_cost: string;
    billed_cost: string;
    cents: { effective_cost: string; billed_cost: string };
    events: number;
    input_tokens: number;
    output_tokens: number;
  };
  rows: BreakdownRow[];
  previous: {
    period: { start: string; end: string };
    cents: { effective_cost: string; billed_cost: string };
    events: number;
    change_percent: string | null;
  } | null;
  values: Record<string, Array<string | null>>;
}
