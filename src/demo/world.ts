/**
 * The synthetic organisation behind `tally demo`: who exists, which
 * identities send which traffic through which channel, and when. Dates are
 * relative to the demo month so that any month gives the same story.
 */
import { createHash } from 'node:crypto';
import { fingerprint } from '../core/secrets.js';
import type { Random } from './random.js';

const DAY_MS = 86_400_000;

export type Profile = 'business' | 'always' | 'nightly';
type Channel = 'otlp' | 'gateway' | 'litellm' | 'litellm-eu';

/** A model an identity calls, with typical token sizes (medians of a log-normal). */
export interface ModelUse {
  provider: string;
  model: string;
  /** The versioned name the provider answers with. */
  response: string;
  operation: 'chat' | 'embeddings';
  share: number;
  input: number;
  output: number;
  /** Probability that a request reads from the prompt cache. */
  cache: number;
}

export interface IdentityDef {
  id: string;
  kind: 'api_key' | 'service_account' | 'agent' | 'workload';
  application: string;
  environment: string;
  shared?: boolean;
  tenants?: string[];
  models?: string[];
  match: Array<Record<string, string>>;
  lifecycle: Array<{ at: string; event: string }>;
}

/** Direct traffic of one identity: each unit is one event. */
export interface DirectStream {
  identity: IdentityDef;
  channel: Channel;
  /** OTLP resource service.name. */
  service: string;
  /** What the telemetry carries as the key (gateway: `tally.api_key`; LiteLLM: the hashed token). */
  apiKey: string | null;
  weight: number;
  profile: Profile;
  /** Offset of the users' local time from UTC, minutes. */
  tzMinutes: number;
  uses: ModelUse[];
  /** Tenants this traffic claims (all allowed for the identity); empty: no claim. */
  claims: string[];
  addresses: string[];
  errorRate: number;
  /** Share of events that claim another environment than the identity's (signal S11). */
  envDrift?: { share: number; environment: string };
}

interface AgentDef {
  id: string;
  name: string;
  identity: IdentityDef;
  use: ModelUse;
  chats: [number, number];
  tools: Array<{ name: string; max: number }>;
  retrieval: number;
}

/** Agent workflows started by an application: each unit is one trace. */
export interface AgentStream {
  invoker: IdentityDef;
  service: string;
  agent: AgentDef;
  weight: number;
  profile: Profile;
  tzMinutes: number;
  claims: string[];
  addresses: string[];
}

export interface World {
  start: number;
  end: number;
  days: number;
  /** Dates that the configuration and the story refer to. */
  dates: {
    orgStart: string;
    costCenterMove: string;
    ownerChange: number;
    offboarded: number;
    discountFrom: string;
    compromisedAt: number;
  };
  costCenters: Array<{ id: string; name: string }>;
  teams: Array<{
    id: string;
    name: string;
    costCenters: Array<{ cc: string; from: string; until?: string }>;
    offboarded?: string;
  }>;
  applications: Array<{
    id: string;
    name: string;
    owners: Array<{ team: string; from: string; until?: string }>;
  }>;
  tenants: Array<{ id: string; name: string }>;
  identities: IdentityDef[];
  direct: DirectStream[];
  agents: AgentStream[];
  platform: { agentService: string; ragService: string };
  incident: { stream: DirectStream; apiKey: string };
  unknownApiKey: string;
  reports: {
    openai: { identity: IdentityDef; projectId: string; apiKeyId: string };
    anthropic: { identity: IdentityDef; workspaceId: string; apiKeyId: string };
  };
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function monthBounds(month: string): { start: number; end: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(m?.[1]);
  const mon = Number(m?.[2]);
  if (!m || mon < 1 || mon > 12) throw new RangeError(`month must be YYYY-MM, got ${JSON.stringify(month)}`);
  return { start: Date.UTC(year, mon - 1, 1), end: Date.UTC(year, mon, 1) };
}

const use = (
  provider: string,
  model: string,
  response: string,
  share: number,
  input: number,
  output: number,
  cache = 0,
  operation: 'chat' | 'embeddings' = 'chat',
): ModelUse => ({ provider, model, response, operation, share, input, output, cache });

const GPT4O = (share: number, input = 1400, output = 320) =>
  use('openai', 'gpt-4o', 'gpt-4o-2024-08-06', share, input, output, 0.35);
const GPT4O_MINI = (share: number, input = 900, output = 200) =>
  use('openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', share, input, output, 0.3);
const EMBED_SMALL = (share: number, input = 380) =>
  use('openai', 'text-embedding-3-small', 'text-embedding-3-small', share, input, 0, 0, 'embeddings');
const EMBED_LARGE = (share: number, input = 6000) =>
  use('openai', 'text-embedding-3-large', 'text-embedding-3-large', share, input, 0, 0, 'embeddings');
const SONNET = (share: number, input = 2200, output = 450) =>
  use('anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', share, input, output, 0.4);
const HAIKU45 = (share: number) =>
  use('anthropic', 'claude-haiku-4-5', 'claude-haiku-4-5-20251001', share, 1100, 220, 0.3);
const HAIKU35 = (share: number) =>
  use('anthropic', 'claude-3-5-haiku-latest', 'claude-3-5-haiku-20241022', share, 800, 150, 0.25);
const O3_MINI = (share: number) => use('openai', 'o3-mini', 'o3-mini-2025-01-31', share, 1600, 900);
const GPT41 = (share: number) => use('openai', 'gpt-4.1', 'gpt-4.1-2025-04-14', share, 2500, 500, 0.2);
/** No catalog prices this one: the demo shows the unpriced path with it. */
const LLAMA_FT = (share: number) =>
  use('internal', 'llama-ft-support-v2', 'llama-ft-support-v2', share, 700, 180);

export const PREMIUM_USES = {
  opus: use('anthropic', 'claude-opus-4-1', 'claude-opus-4-1-20250805', 0.8, 2200, 1500),
  o1: use('openai', 'o1', 'o1-2024-12-17', 0.2, 1800, 2400),
};

const TEAM_TZ: Record<string, number> = {
  'team-search': -240,
  'team-cx': 120,
  'team-platform': 60,
  'team-data': -420,
  'team-finance-ops': 60,
  'team-legal': -240,
  'team-marketing': 0,
  'team-research': 330,
};

/**
 * What every part of the world is built with: the month, the random source
 * and what earlier parts made. Parts draw from `rng` in the order
 * `buildWorld` calls them; that order fixes the demo's bytes.
 */
class WorldBuilder {
  readonly appOwner: Record<string, string> = {};
  readonly identities: IdentityDef[] = [];
  readonly direct: DirectStream[] = [];
  readonly agents: AgentStream[] = [];

  constructor(
    readonly start: number,
    readonly rng: Random,
    readonly tenants: World['tenants'],
  ) {}

  createdAt(daysBeforeStart: number): string {
    return isoSeconds(this.start - daysBeforeStart * DAY_MS + this.rng.int(8 * 60, 18 * 60) * 60_000);
  }

  identity(def: Omit<IdentityDef, 'lifecycle'> & { lifecycle?: IdentityDef['lifecycle'] }): IdentityDef {
    const full: IdentityDef = {
      ...def,
      lifecycle: def.lifecycle ?? [{ at: this.createdAt(this.rng.int(40, 250)), event: 'created' }],
    };
    this.identities.push(full);
    return full;
  }

  addresses(n: number): string[] {
    const { rng } = this;
    return Array.from({ length: n }, () => `10.${rng.int(16, 40)}.${rng.int(0, 255)}.${rng.int(2, 254)}`);
  }

  stream(
    id: IdentityDef,
    channel: Channel,
    weight: number,
    profile: Profile,
    uses: ModelUse[],
    extra: Partial<DirectStream> = {},
  ): DirectStream {
    const s: DirectStream = {
      identity: id,
      channel,
      service: channel === 'otlp' ? (id.match[0]?.service ?? id.id) : 'llm-gateway',
      apiKey: null,
      weight: weight * this.rng.logNormal(1, 0.3),
      profile,
      tzMinutes: TEAM_TZ[this.appOwner[id.application] ?? ''] ?? 0,
      uses,
      claims: id.tenants?.filter((t) => t !== '*') ?? [],
      addresses: this.addresses(this.rng.int(1, 2)),
      errorRate: 0.01,
      ...extra,
    };
    if (id.tenants?.[0] === '*' && !extra.claims) s.claims = this.tenants.map((t) => t.id);
    this.direct.push(s);
    return s;
  }

  agentStream(invoker: IdentityDef, agent: AgentDef, weight: number): void {
    const s = this.direct.find((d) => d.identity === invoker);
    this.agents.push({
      invoker,
      service: invoker.match[0]?.service ?? invoker.id,
      agent,
      weight: weight * this.rng.logNormal(1, 0.3),
      profile: 'business',
      tzMinutes: s?.tzMinutes ?? 0,
      claims: s?.claims ?? [],
      addresses: s?.addresses ?? this.addresses(1),
    });
  }

  keyFingerprint(): string {
    return fingerprint(`sk-demo-${this.rng.hex(40)}`);
  }
}

const svc = (service: string) => [{ service }];

function worldDates(start: number, end: number) {
  const days = Math.round((end - start) / DAY_MS);
  const startDate = new Date(start);
  // The organisation's records begin on 1 January, at least six months before the demo month.
  const orgStart = `${new Date(Date.UTC(startDate.getUTCFullYear(), startDate.getUTCMonth() - 6, 1)).getUTCFullYear()}-01-01`;
  const monthsBefore = (n: number) =>
    isoDate(Date.UTC(startDate.getUTCFullYear(), startDate.getUTCMonth() - n, 1));
  const dayOf = (d: number, hour = 0) => start + (d - 1) * DAY_MS + hour * 3_600_000;
  const dates: World['dates'] = {
    orgStart,
    costCenterMove: monthsBefore(3),
    ownerChange: dayOf(15),
    offboarded: dayOf(Math.min(28, days - 2)),
    discountFrom: monthsBefore(1),
    compromisedAt: dayOf(20, 3),
  };
  return { days, dates };
}

const COST_CENTERS = [
  { id: 'cc-retail', name: 'Retail' },
  { id: 'cc-platform', name: 'Platform & Infrastructure' },
  { id: 'cc-corporate', name: 'Corporate Functions' },
  { id: 'cc-research', name: 'Research & Development' },
];

function teamsOf(dates: World['dates']): World['teams'] {
  const { orgStart } = dates;
  const one = (cc: string) => [{ cc, from: orgStart }];
  return [
    { id: 'team-search', name: 'Search', costCenters: one('cc-retail') },
    { id: 'team-cx', name: 'Customer Experience', costCenters: one('cc-retail') },
    { id: 'team-platform', name: 'AI Platform', costCenters: one('cc-platform') },
    { id: 'team-data', name: 'Data Engineering', costCenters: one('cc-platform') },
    { id: 'team-finance-ops', name: 'Finance Operations', costCenters: one('cc-corporate') },
    { id: 'team-legal', name: 'Legal Technology', costCenters: one('cc-corporate') },
    {
      id: 'team-marketing',
      name: 'Marketing',
      costCenters: one('cc-retail'),
      offboarded: isoDate(dates.offboarded),
    },
    {
      id: 'team-research',
      name: 'Applied Research',
      costCenters: [
        { cc: 'cc-research', from: orgStart, until: dates.costCenterMove },
        { cc: 'cc-platform', from: dates.costCenterMove },
      ],
    },
  ];
}

/** Applications and their owning teams; the support bot changes owner mid-month. */
const APPLICATIONS: Array<[id: string, name: string, team: string]> = [
  ['app-search-rerank', 'Search Reranker', 'team-search'],
  ['app-product-qa', 'Product Q&A', 'team-search'],
  ['app-storefront-assistant', 'Storefront Assistant', 'team-search'],
  ['app-agent-assist', 'Agent Assist', 'team-cx'],
  ['app-email-triage', 'Email Triage', 'team-cx'],
  ['app-agent-platform', 'Agent Platform', 'team-platform'],
  ['app-rag-service', 'Retrieval Service', 'team-platform'],
  ['app-code-assist', 'Code Assistant', 'team-platform'],
  ['app-doc-ingest', 'Document Ingestion', 'team-data'],
  ['app-catalog-enrich', 'Catalog Enrichment', 'team-data'],
  ['app-finance-close', 'Month-end Close', 'team-finance-ops'],
  ['app-fraud-explain', 'Fraud Explanations', 'team-finance-ops'],
  ['app-contract-review', 'Contract Review', 'team-legal'],
  ['app-campaign-writer', 'Campaign Writer', 'team-marketing'],
  ['app-research-sandbox', 'Research Sandbox', 'team-research'],
  ['app-eval-harness', 'Evaluation Harness', 'team-research'],
];

function applicationsOf(b: WorldBuilder, dates: World['dates']): World['applications'] {
  const { orgStart } = dates;
  const applications: World['applications'] = [
    {
      id: 'app-support-bot',
      name: 'Support Bot',
      owners: [
        { team: 'team-cx', from: orgStart, until: isoDate(dates.ownerChange) },
        { team: 'team-search', from: isoDate(dates.ownerChange) },
      ],
    },
  ];
  b.appOwner['app-support-bot'] = 'team-cx';
  for (const [id, name, team] of APPLICATIONS) {
    b.appOwner[id] = team;
    applications.push({ id, name, owners: [{ team, from: orgStart }] });
  }
  return applications;
}

const TENANTS = [
  { id: 'tenant-acme', name: 'ACME Corp' },
  { id: 'tenant-globex', name: 'Globex Corporation' },
  { id: 'tenant-initech', name: 'Initech' },
  { id: 'tenant-umbrella', name: 'Umbrella Health' },
  { id: 'tenant-hooli', name: 'Hooli' },
  { id: 'tenant-stark', name: 'Stark Industries' },
  { id: 'tenant-wayne', name: 'Wayne Enterprises' },
  { id: 'tenant-tyrell', name: 'Tyrell Corp' },
];

type IdentitySpec = Omit<IdentityDef, 'lifecycle'>;

/** Applications that report through their own OpenTelemetry SDK, in the order they are drawn. */
const OTEL_APPLICATIONS: Array<[IdentitySpec, number, Profile, ModelUse[], Partial<DirectStream>?]> = [
  [
    {
      id: 'nhi-support-bot-prod',
      kind: 'service_account',
      application: 'app-support-bot',
      environment: 'production',
      tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech', 'tenant-umbrella'],
      models: ['gpt-4o*', 'text-embedding-3-*'],
      match: svc('support-bot'),
    },
    6,
    'business',
    [GPT4O(0.75), EMBED_SMALL(0.25)],
  ],
  [
    {
      id: 'nhi-support-bot-staging',
      kind: 'service_account',
      application: 'app-support-bot',
      environment: 'experimentation',
      tenants: ['*'],
      match: svc('support-bot-staging'),
    },
    1.2,
    'business',
    [GPT4O_MINI(1)],
    { claims: ['tenant-acme'] },
  ],
  [
    {
      id: 'nhi-search-rerank-prod',
      kind: 'service_account',
      application: 'app-search-rerank',
      environment: 'production',
      tenants: ['*'],
      models: ['gpt-4o-mini*', 'text-embedding-3-*'],
      match: svc('search-rerank'),
    },
    5,
    'always',
    [GPT4O_MINI(0.6, 700, 60), EMBED_SMALL(0.4, 120)],
    { envDrift: { share: 0.02, environment: 'experimentation' } },
  ],
  [
    {
      id: 'nhi-product-qa-prod',
      kind: 'service_account',
      application: 'app-product-qa',
      environment: 'production',
      tenants: ['tenant-acme', 'tenant-hooli', 'tenant-stark', 'tenant-tyrell'],
      models: ['claude-sonnet-4*', 'claude-haiku-4*'],
      match: svc('product-qa'),
    },
    3,
    'business',
    [SONNET(0.55), HAIKU45(0.45)],
  ],
  [
    {
      id: 'nhi-agent-assist-prod',
      kind: 'workload',
      application: 'app-agent-assist',
      environment: 'production',
      tenants: ['tenant-globex', 'tenant-umbrella', 'tenant-wayne'],
      models: ['gpt-4o*', 'claude-sonnet-4*'],
      match: svc('agent-assist'),
    },
    2,
    'business',
    [GPT4O(1)],
  ],
  [
    {
      id: 'nhi-email-triage-prod',
      kind: 'workload',
      application: 'app-email-triage',
      environment: 'production',
      tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech'],
      models: ['claude-3-5-haiku*', 'claude-haiku-4*'],
      match: svc('email-triage'),
    },
    3,
    'always',
    [HAIKU35(1)],
  ],
  [
    {
      id: 'nhi-doc-ingest-worker',
      kind: 'workload',
      application: 'app-doc-ingest',
      environment: 'production',
      tenants: ['*'],
      models: ['text-embedding-3-*'],
      match: svc('doc-ingest-worker'),
    },
    3,
    'always',
    [EMBED_LARGE(1)],
  ],
  // The month-end close runs every night at the same hour all month, so its
  // last-days volume is the identity's own baseline, not a spike.
  [
    {
      id: 'nhi-finance-close-batch',
      kind: 'workload',
      application: 'app-finance-close',
      environment: 'production',
      models: ['gpt-4o*'],
      match: svc('finance-close-batch'),
    },
    4,
    'nightly',
    [GPT4O(1, 6000, 700)],
    { tzMinutes: 0, errorRate: 0.004 },
  ],
  [
    {
      id: 'nhi-contract-review-prod',
      kind: 'service_account',
      application: 'app-contract-review',
      environment: 'production',
      models: ['claude-sonnet-4*', 'gpt-4o*'],
      match: svc('contract-review'),
    },
    1.5,
    'business',
    [SONNET(1, 9000, 900)],
  ],
  [
    {
      id: 'nhi-research-sandbox',
      kind: 'service_account',
      application: 'app-research-sandbox',
      environment: 'experimentation',
      match: svc('research-sandbox'),
    },
    1.5,
    'business',
    [O3_MINI(0.5), GPT41(0.5)],
  ],
  [
    {
      id: 'nhi-eval-harness',
      kind: 'workload',
      application: 'app-eval-harness',
      environment: 'experimentation',
      match: svc('eval-harness'),
    },
    1.5,
    'business',
    [GPT4O_MINI(0.75), LLAMA_FT(0.25)],
  ],
  [
    {
      id: 'nhi-campaign-writer',
      kind: 'service_account',
      application: 'app-campaign-writer',
      environment: 'production',
      models: ['gpt-4o*'],
      match: svc('campaign-writer'),
    },
    0.6,
    'business',
    [GPT4O(1, 900, 700)],
  ],
  [
    {
      id: 'nhi-code-assist',
      kind: 'service_account',
      application: 'app-code-assist',
      environment: 'production',
      models: ['claude-sonnet-4*', 'claude-haiku-4*'],
      match: svc('code-assist'),
    },
    2,
    'business',
    [SONNET(1, 4000, 600)],
  ],
  [
    {
      id: 'nhi-catalog-enrich-worker',
      kind: 'workload',
      application: 'app-catalog-enrich',
      environment: 'production',
      tenants: ['*'],
      models: ['gpt-4o-mini*'],
      match: svc('catalog-enrich'),
    },
    2,
    'always',
    [GPT4O_MINI(1, 600, 250)],
  ],
];

/** Each OpenTelemetry application's identity and traffic, by identity id. */
function otelApplications(b: WorldBuilder): Map<string, IdentityDef> {
  const byId = new Map<string, IdentityDef>();
  for (const [spec, weight, profile, uses, extra] of OTEL_APPLICATIONS) {
    const id = b.identity(spec);
    b.stream(id, 'otlp', weight, profile, uses, extra);
    byId.set(id.id, id);
  }
  return byId;
}

const AGENT_SERVICE = 'agent-platform';
const RAG_SERVICE = 'rag-service';

function agentDef(
  b: WorldBuilder,
  id: string,
  name: string,
  models: string[],
  u: ModelUse,
  rest: Omit<AgentDef, 'id' | 'name' | 'identity' | 'use'>,
): AgentDef {
  return {
    id,
    name,
    identity: b.identity({
      id: `nhi-agent-${id.replace(/-agent$/, '')}`,
      kind: 'agent',
      application: 'app-agent-platform',
      environment: 'production',
      shared: true,
      tenants: ['*'],
      models,
      match: [{ service: AGENT_SERVICE, agent: id }],
    }),
    use: u,
    ...rest,
  };
}

/** Shared services that work on behalf of the applications that call them, and the agent workflows they run. */
function sharedPlatform(b: WorldBuilder, apps: Map<string, IdentityDef>): void {
  b.identity({
    id: 'nhi-agent-platform',
    kind: 'workload',
    application: 'app-agent-platform',
    environment: 'production',
    shared: true,
    tenants: ['*'],
    models: ['gpt-4o*', 'claude-sonnet-4*'],
    match: svc(AGENT_SERVICE),
  });
  const triage = agentDef(b, 'support-triage-agent', 'Support Triage', ['gpt-4o*'], GPT4O(1, 1800, 260), {
    chats: [1, 3],
    tools: [{ name: 'web_search', max: 1 }],
    retrieval: 0.85,
  });
  const research = agentDef(b, 'research-agent', 'Research', ['claude-sonnet-4*'], SONNET(1, 3200, 600), {
    chats: [2, 5],
    tools: [{ name: 'web_search', max: 3 }],
    retrieval: 0.6,
  });
  const sql = agentDef(b, 'sql-analyst-agent', 'SQL Analyst', ['gpt-4o*'], GPT4O(1, 2400, 350), {
    chats: [1, 3],
    tools: [{ name: 'run_sql', max: 2 }],
    retrieval: 0.3,
  });
  b.identity({
    id: 'nhi-rag-service',
    kind: 'service_account',
    application: 'app-rag-service',
    environment: 'production',
    shared: true,
    tenants: ['*'],
    models: ['text-embedding-3-*'],
    match: svc(RAG_SERVICE),
  });
  const app = (id: string) => apps.get(id) as IdentityDef;
  b.agentStream(app('nhi-support-bot-prod'), triage, 4);
  b.agentStream(app('nhi-agent-assist-prod'), triage, 2);
  b.agentStream(app('nhi-product-qa-prod'), research, 2);
  b.agentStream(app('nhi-contract-review-prod'), research, 1);
  b.agentStream(app('nhi-research-sandbox'), sql, 1);
}

/** Keys used through the gateway, which reports OTLP spans carrying `tally.api_key`; one is compromised. */
function gatewayKeys(b: WorldBuilder, dates: World['dates']): World['incident'] {
  const incidentKey = b.keyFingerprint();
  const storefront = b.identity({
    id: 'nhi-storefront-prod',
    kind: 'api_key',
    application: 'app-storefront-assistant',
    environment: 'production',
    tenants: ['tenant-acme', 'tenant-globex'],
    models: ['gpt-4o-mini*'],
    match: [{ api_key: incidentKey }],
    lifecycle: [
      { at: b.createdAt(160), event: 'created' },
      { at: isoSeconds(dates.compromisedAt), event: 'compromised' },
    ],
  });
  // Its shoppers are in Europe, so the attacker's 01:00–05:00 UTC is the dead of its night.
  const incidentStream = b.stream(storefront, 'gateway', 3, 'business', [GPT4O_MINI(1, 1100, 240)], {
    apiKey: incidentKey,
    tzMinutes: 60,
  });
  // This one reports its raw key, so the demo shows it being fingerprinted at ingestion.
  const rawFraudKey = `sk-demo-${b.rng.hex(40)}`;
  const fraud = b.identity({
    id: 'nhi-fraud-explain-prod',
    kind: 'api_key',
    application: 'app-fraud-explain',
    environment: 'production',
    models: ['gpt-4o*'],
    match: [{ api_key: fingerprint(rawFraudKey) }],
  });
  b.stream(fraud, 'gateway', 1.5, 'always', [GPT4O(1, 1600, 400)], { apiKey: rawFraudKey });
  const voiceKey = b.keyFingerprint();
  const voice = b.identity({
    id: 'nhi-cx-voice-prod',
    kind: 'api_key',
    application: 'app-agent-assist',
    environment: 'production',
    tenants: ['tenant-globex', 'tenant-umbrella'],
    models: ['gpt-4o-mini*'],
    match: [{ api_key: voiceKey }],
  });
  b.stream(voice, 'gateway', 2, 'business', [GPT4O_MINI(1, 500, 90)], { apiKey: voiceKey });
  return { stream: incidentStream, apiKey: incidentKey };
}

interface LitellmKey {
  id: string;
  application: string;
  environment: string;
  channel: Channel;
  weight: number;
  profile: Profile;
  uses: ModelUse[];
  tenants?: string[];
  models?: string[];
  rotatedDaysAgo?: number;
}

const PROD = 'production';
const EXP = 'experimentation';
const SUPPORT_TENANTS = ['tenant-acme', 'tenant-globex', 'tenant-initech', 'tenant-umbrella'];

/** LiteLLM virtual keys, in the order they are drawn. */
const LITELLM_KEYS: LitellmKey[] = [
  {
    id: 'nhi-llm-support-bot',
    application: 'app-support-bot',
    environment: PROD,
    channel: 'litellm',
    weight: 4,
    profile: 'business',
    uses: [GPT4O(0.65), HAIKU35(0.35)],
    tenants: SUPPORT_TENANTS,
    models: ['gpt-4o*', 'claude-3-5-haiku*'],
    rotatedDaysAgo: 30,
  },
  {
    id: 'nhi-llm-search',
    application: 'app-search-rerank',
    environment: PROD,
    channel: 'litellm',
    weight: 4,
    profile: 'always',
    uses: [EMBED_SMALL(0.65, 200), GPT4O_MINI(0.35)],
    tenants: ['*'],
    models: ['gpt-4o-mini*', 'text-embedding-3-*'],
  },
  {
    id: 'nhi-llm-email-triage',
    application: 'app-email-triage',
    environment: PROD,
    channel: 'litellm',
    weight: 2,
    profile: 'always',
    uses: [HAIKU45(1)],
    tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech'],
    models: ['claude-haiku-4*'],
  },
  {
    id: 'nhi-llm-catalog-enrich',
    application: 'app-catalog-enrich',
    environment: PROD,
    channel: 'litellm',
    weight: 3,
    profile: 'always',
    uses: [GPT4O_MINI(1, 700, 300)],
    tenants: ['*'],
    models: ['gpt-4o-mini*'],
  },
  {
    id: 'nhi-llm-marketing',
    application: 'app-campaign-writer',
    environment: PROD,
    channel: 'litellm',
    weight: 0.6,
    profile: 'business',
    uses: [GPT4O(1, 800, 600)],
    models: ['gpt-4o*'],
  },
  {
    id: 'nhi-llm-notebook-alice',
    application: 'app-research-sandbox',
    environment: EXP,
    channel: 'litellm',
    weight: 0.8,
    profile: 'business',
    uses: [GPT41(0.5), SONNET(0.5)],
  },
  {
    id: 'nhi-llm-notebook-bob',
    application: 'app-research-sandbox',
    environment: EXP,
    channel: 'litellm',
    weight: 0.8,
    profile: 'business',
    uses: [O3_MINI(0.5), GPT4O(0.5)],
  },
  {
    id: 'nhi-llm-ci-evals',
    application: 'app-eval-harness',
    environment: EXP,
    channel: 'litellm',
    weight: 1.5,
    profile: 'business',
    uses: [GPT4O_MINI(1)],
    models: ['gpt-4o-mini*'],
    rotatedDaysAgo: 75,
  },
  {
    id: 'nhi-llm-code-assist',
    application: 'app-code-assist',
    environment: PROD,
    channel: 'litellm',
    weight: 2,
    profile: 'business',
    uses: [SONNET(1, 5000, 700)],
    models: ['claude-sonnet-4*', 'claude-haiku-4*'],
  },
  {
    id: 'nhi-llm-contract-review',
    application: 'app-contract-review',
    environment: PROD,
    channel: 'litellm-eu',
    weight: 1.5,
    profile: 'business',
    uses: [SONNET(1, 7000, 800)],
    models: ['claude-sonnet-4*'],
  },
  {
    id: 'nhi-llm-doc-ingest',
    application: 'app-doc-ingest',
    environment: PROD,
    channel: 'litellm-eu',
    weight: 2,
    profile: 'always',
    uses: [EMBED_LARGE(1, 4000)],
    tenants: ['*'],
    models: ['text-embedding-3-*'],
  },
  {
    id: 'nhi-llm-fraud-explain',
    application: 'app-fraud-explain',
    environment: PROD,
    channel: 'litellm-eu',
    weight: 1,
    profile: 'always',
    uses: [GPT4O_MINI(1)],
    models: ['gpt-4o-mini*'],
  },
  {
    id: 'nhi-llm-product-qa',
    application: 'app-product-qa',
    environment: PROD,
    channel: 'litellm-eu',
    weight: 1.5,
    profile: 'business',
    uses: [SONNET(1)],
    tenants: ['tenant-acme', 'tenant-hooli', 'tenant-stark', 'tenant-tyrell'],
    models: ['claude-sonnet-4*'],
  },
];

/**
 * One LiteLLM virtual key: SpendLogs carry the SHA-256 of the raw key as 64 hex digits, and
 * the registry names each key by that value as LiteLLM shows it (it is also tally's fingerprint).
 */
function litellmKey(b: WorldBuilder, k: LitellmKey): void {
  const raw = `sk-${b.rng.hex(32)}`;
  const hashed = createHash('sha256').update(raw).digest('hex');
  const lifecycle = [{ at: b.createdAt(b.rng.int(120, 300)), event: 'created' }];
  if (k.rotatedDaysAgo) lifecycle.push({ at: b.createdAt(k.rotatedDaysAgo), event: 'rotated' });
  const def = b.identity({
    id: k.id,
    kind: 'api_key',
    application: k.application,
    environment: k.environment,
    ...(k.tenants ? { tenants: k.tenants } : {}),
    ...(k.models ? { models: k.models } : {}),
    match: [{ api_key: hashed }],
    lifecycle,
  });
  b.stream(def, k.channel, k.weight, k.profile, k.uses, { apiKey: hashed });
}

/** The legal team's own OpenAI project and Anthropic workspace, seen through provider usage reports. */
function reportIdentities(b: WorldBuilder) {
  const openaiProject = `proj_${b.rng.hex(24)}`;
  const anthropicWorkspace = `wrkspc_01${b.rng.hex(22)}`;
  const reportOf = (id: string, project: string) =>
    b.identity({
      id,
      kind: 'service_account',
      application: 'app-contract-review',
      environment: PROD,
      match: [{ project }],
    });
  const openai = reportOf('nhi-openai-legal-project', openaiProject);
  const anthropic = reportOf('nhi-anthropic-legal-workspace', anthropicWorkspace);
  return { openai, openaiProject, anthropic, anthropicWorkspace };
}

/** Retired from use before the month; kept in the registry as posture shows it. */
function retiredKey(b: WorldBuilder): void {
  b.identity({
    id: 'nhi-legacy-chatbot',
    kind: 'api_key',
    application: 'app-support-bot',
    environment: PROD,
    models: ['gpt-4o*'],
    match: [{ api_key: b.keyFingerprint() }],
    lifecycle: [
      { at: b.createdAt(400), event: 'created' },
      { at: b.createdAt(60), event: 'revoked' },
    ],
  });
}

export function buildWorld(month: string, rng: Random): World {
  const { start, end } = monthBounds(month);
  const { days, dates } = worldDates(start, end);
  const b = new WorldBuilder(start, rng, TENANTS);
  const applications = applicationsOf(b, dates);
  const apps = otelApplications(b);
  sharedPlatform(b, apps);
  const incident = gatewayKeys(b, dates);
  for (const k of LITELLM_KEYS) litellmKey(b, k);
  const reports = reportIdentities(b);
  retiredKey(b);
  return {
    start,
    end,
    days,
    dates,
    costCenters: COST_CENTERS,
    teams: teamsOf(dates),
    applications,
    tenants: TENANTS,
    identities: b.identities,
    direct: b.direct,
    agents: b.agents,
    platform: { agentService: AGENT_SERVICE, ragService: RAG_SERVICE },
    incident,
    unknownApiKey: rng.hex(16),
    reports: {
      openai: { identity: reports.openai, projectId: reports.openaiProject, apiKeyId: `key_${rng.hex(16)}` },
      anthropic: {
        identity: reports.anthropic,
        workspaceId: reports.anthropicWorkspace,
        apiKeyId: `apikey_01${rng.hex(22)}`,
      },
    },
  };
}

/** Resolves the team that owned an application at a time (the support bot changes owner mid-month). */
export function ownerResolver(world: World): (application: string, ms: number) => string {
  const owners = new Map(
    world.applications.map((a) => [
      a.id,
      a.owners.map((o) => ({
        team: o.team,
        from: Date.parse(`${o.from}T00:00:00Z`),
        until: o.until ? Date.parse(`${o.until}T00:00:00Z`) : Number.POSITIVE_INFINITY,
      })),
    ]),
  );
  return (application, ms) => {
    const list = owners.get(application) ?? [];
    for (const o of list) if (ms >= o.from && ms < o.until) return o.team;
    return list.at(-1)?.team ?? '';
  };
}
