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

export function buildWorld(month: string, rng: Random): World {
  const { start, end } = monthBounds(month);
  const days = Math.round((end - start) / DAY_MS);
  const startDate = new Date(start);
  // The organisation's records begin on 1 January, at least six months before the demo month.
  const orgStart = `${new Date(Date.UTC(startDate.getUTCFullYear(), startDate.getUTCMonth() - 6, 1)).getUTCFullYear()}-01-01`;
  const monthsBefore = (n: number) =>
    isoDate(Date.UTC(startDate.getUTCFullYear(), startDate.getUTCMonth() - n, 1));
  const dayOf = (d: number, hour = 0) => start + (d - 1) * DAY_MS + hour * 3_600_000;
  const dates = {
    orgStart,
    costCenterMove: monthsBefore(3),
    ownerChange: dayOf(15),
    offboarded: dayOf(Math.min(28, days - 2)),
    discountFrom: monthsBefore(1),
    compromisedAt: dayOf(20, 3),
  };

  const costCenters = [
    { id: 'cc-retail', name: 'Retail' },
    { id: 'cc-platform', name: 'Platform & Infrastructure' },
    { id: 'cc-corporate', name: 'Corporate Functions' },
    { id: 'cc-research', name: 'Research & Development' },
  ];
  const teams: World['teams'] = [
    { id: 'team-search', name: 'Search', costCenters: [{ cc: 'cc-retail', from: orgStart }] },
    { id: 'team-cx', name: 'Customer Experience', costCenters: [{ cc: 'cc-retail', from: orgStart }] },
    { id: 'team-platform', name: 'AI Platform', costCenters: [{ cc: 'cc-platform', from: orgStart }] },
    { id: 'team-data', name: 'Data Engineering', costCenters: [{ cc: 'cc-platform', from: orgStart }] },
    {
      id: 'team-finance-ops',
      name: 'Finance Operations',
      costCenters: [{ cc: 'cc-corporate', from: orgStart }],
    },
    { id: 'team-legal', name: 'Legal Technology', costCenters: [{ cc: 'cc-corporate', from: orgStart }] },
    {
      id: 'team-marketing',
      name: 'Marketing',
      costCenters: [{ cc: 'cc-retail', from: orgStart }],
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

  const appOwner: Record<string, string> = {};
  const applications: World['applications'] = [];
  const app = (id: string, name: string, team: string) => {
    appOwner[id] = team;
    applications.push({ id, name, owners: [{ team, from: orgStart }] });
  };
  applications.push({
    id: 'app-support-bot',
    name: 'Support Bot',
    owners: [
      { team: 'team-cx', from: orgStart, until: isoDate(dates.ownerChange) },
      { team: 'team-search', from: isoDate(dates.ownerChange) },
    ],
  });
  appOwner['app-support-bot'] = 'team-cx';
  app('app-search-rerank', 'Search Reranker', 'team-search');
  app('app-product-qa', 'Product Q&A', 'team-search');
  app('app-storefront-assistant', 'Storefront Assistant', 'team-search');
  app('app-agent-assist', 'Agent Assist', 'team-cx');
  app('app-email-triage', 'Email Triage', 'team-cx');
  app('app-agent-platform', 'Agent Platform', 'team-platform');
  app('app-rag-service', 'Retrieval Service', 'team-platform');
  app('app-code-assist', 'Code Assistant', 'team-platform');
  app('app-doc-ingest', 'Document Ingestion', 'team-data');
  app('app-catalog-enrich', 'Catalog Enrichment', 'team-data');
  app('app-finance-close', 'Month-end Close', 'team-finance-ops');
  app('app-fraud-explain', 'Fraud Explanations', 'team-finance-ops');
  app('app-contract-review', 'Contract Review', 'team-legal');
  app('app-campaign-writer', 'Campaign Writer', 'team-marketing');
  app('app-research-sandbox', 'Research Sandbox', 'team-research');
  app('app-eval-harness', 'Evaluation Harness', 'team-research');

  const tenants = [
    { id: 'tenant-acme', name: 'ACME Corp' },
    { id: 'tenant-globex', name: 'Globex Corporation' },
    { id: 'tenant-initech', name: 'Initech' },
    { id: 'tenant-umbrella', name: 'Umbrella Health' },
    { id: 'tenant-hooli', name: 'Hooli' },
    { id: 'tenant-stark', name: 'Stark Industries' },
    { id: 'tenant-wayne', name: 'Wayne Enterprises' },
    { id: 'tenant-tyrell', name: 'Tyrell Corp' },
  ];

  const createdAt = (daysBeforeStart: number) =>
    isoSeconds(start - daysBeforeStart * DAY_MS + rng.int(8 * 60, 18 * 60) * 60_000);
  const identities: IdentityDef[] = [];
  const identity = (
    def: Omit<IdentityDef, 'lifecycle'> & { lifecycle?: IdentityDef['lifecycle'] },
  ): IdentityDef => {
    const full: IdentityDef = {
      ...def,
      lifecycle: def.lifecycle ?? [{ at: createdAt(rng.int(40, 250)), event: 'created' }],
    };
    identities.push(full);
    return full;
  };
  const addresses = (n: number) =>
    Array.from({ length: n }, () => `10.${rng.int(16, 40)}.${rng.int(0, 255)}.${rng.int(2, 254)}`);
  const direct: DirectStream[] = [];
  const stream = (
    id: IdentityDef,
    channel: Channel,
    weight: number,
    profile: Profile,
    uses: ModelUse[],
    extra: Partial<DirectStream> = {},
  ): DirectStream => {
    const s: DirectStream = {
      identity: id,
      channel,
      service: channel === 'otlp' ? (id.match[0]?.service ?? id.id) : 'llm-gateway',
      apiKey: null,
      weight: weight * rng.logNormal(1, 0.3),
      profile,
      tzMinutes: TEAM_TZ[appOwner[id.application] ?? ''] ?? 0,
      uses,
      claims: id.tenants?.filter((t) => t !== '*') ?? [],
      addresses: addresses(rng.int(1, 2)),
      errorRate: 0.01,
      ...extra,
    };
    if (id.tenants?.[0] === '*' && !extra.claims) s.claims = tenants.map((t) => t.id);
    direct.push(s);
    return s;
  };
  const svc = (service: string) => [{ service }];

  // Applications that report through their own OpenTelemetry SDK.
  const supportBot = identity({
    id: 'nhi-support-bot-prod',
    kind: 'service_account',
    application: 'app-support-bot',
    environment: 'production',
    tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech', 'tenant-umbrella'],
    models: ['gpt-4o*', 'text-embedding-3-*'],
    match: svc('support-bot'),
  });
  stream(supportBot, 'otlp', 6, 'business', [GPT4O(0.75), EMBED_SMALL(0.25)]);
  const supportStaging = identity({
    id: 'nhi-support-bot-staging',
    kind: 'service_account',
    application: 'app-support-bot',
    environment: 'experimentation',
    tenants: ['*'],
    match: svc('support-bot-staging'),
  });
  stream(supportStaging, 'otlp', 1.2, 'business', [GPT4O_MINI(1)], { claims: ['tenant-acme'] });
  const rerank = identity({
    id: 'nhi-search-rerank-prod',
    kind: 'service_account',
    application: 'app-search-rerank',
    environment: 'production',
    tenants: ['*'],
    models: ['gpt-4o-mini*', 'text-embedding-3-*'],
    match: svc('search-rerank'),
  });
  stream(rerank, 'otlp', 5, 'always', [GPT4O_MINI(0.6, 700, 60), EMBED_SMALL(0.4, 120)], {
    envDrift: { share: 0.02, environment: 'experimentation' },
  });
  const productQa = identity({
    id: 'nhi-product-qa-prod',
    kind: 'service_account',
    application: 'app-product-qa',
    environment: 'production',
    tenants: ['tenant-acme', 'tenant-hooli', 'tenant-stark', 'tenant-tyrell'],
    models: ['claude-sonnet-4*', 'claude-haiku-4*'],
    match: svc('product-qa'),
  });
  stream(productQa, 'otlp', 3, 'business', [SONNET(0.55), HAIKU45(0.45)]);
  const agentAssist = identity({
    id: 'nhi-agent-assist-prod',
    kind: 'workload',
    application: 'app-agent-assist',
    environment: 'production',
    tenants: ['tenant-globex', 'tenant-umbrella', 'tenant-wayne'],
    models: ['gpt-4o*', 'claude-sonnet-4*'],
    match: svc('agent-assist'),
  });
  stream(agentAssist, 'otlp', 2, 'business', [GPT4O(1)]);
  const emailTriage = identity({
    id: 'nhi-email-triage-prod',
    kind: 'workload',
    application: 'app-email-triage',
    environment: 'production',
    tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech'],
    models: ['claude-3-5-haiku*', 'claude-haiku-4*'],
    match: svc('email-triage'),
  });
  stream(emailTriage, 'otlp', 3, 'always', [HAIKU35(1)]);
  const docIngest = identity({
    id: 'nhi-doc-ingest-worker',
    kind: 'workload',
    application: 'app-doc-ingest',
    environment: 'production',
    tenants: ['*'],
    models: ['text-embedding-3-*'],
    match: svc('doc-ingest-worker'),
  });
  stream(docIngest, 'otlp', 3, 'always', [EMBED_LARGE(1)]);
  // The month-end close runs every night at the same hour all month, so its
  // last-days volume is the identity's own baseline, not a spike.
  const financeClose = identity({
    id: 'nhi-finance-close-batch',
    kind: 'workload',
    application: 'app-finance-close',
    environment: 'production',
    models: ['gpt-4o*'],
    match: svc('finance-close-batch'),
  });
  stream(financeClose, 'otlp', 4, 'nightly', [GPT4O(1, 6000, 700)], { tzMinutes: 0, errorRate: 0.004 });
  const contractReview = identity({
    id: 'nhi-contract-review-prod',
    kind: 'service_account',
    application: 'app-contract-review',
    environment: 'production',
    models: ['claude-sonnet-4*', 'gpt-4o*'],
    match: svc('contract-review'),
  });
  stream(contractReview, 'otlp', 1.5, 'business', [SONNET(1, 9000, 900)]);
  const researchSandbox = identity({
    id: 'nhi-research-sandbox',
    kind: 'service_account',
    application: 'app-research-sandbox',
    environment: 'experimentation',
    match: svc('research-sandbox'),
  });
  stream(researchSandbox, 'otlp', 1.5, 'business', [O3_MINI(0.5), GPT41(0.5)]);
  const evalHarness = identity({
    id: 'nhi-eval-harness',
    kind: 'workload',
    application: 'app-eval-harness',
    environment: 'experimentation',
    match: svc('eval-harness'),
  });
  stream(evalHarness, 'otlp', 1.5, 'business', [GPT4O_MINI(0.75), LLAMA_FT(0.25)]);
  const campaign = identity({
    id: 'nhi-campaign-writer',
    kind: 'service_account',
    application: 'app-campaign-writer',
    environment: 'production',
    models: ['gpt-4o*'],
    match: svc('campaign-writer'),
  });
  stream(campaign, 'otlp', 0.6, 'business', [GPT4O(1, 900, 700)]);
  const codeAssist = identity({
    id: 'nhi-code-assist',
    kind: 'service_account',
    application: 'app-code-assist',
    environment: 'production',
    models: ['claude-sonnet-4*', 'claude-haiku-4*'],
    match: svc('code-assist'),
  });
  stream(codeAssist, 'otlp', 2, 'business', [SONNET(1, 4000, 600)]);
  const catalogWorker = identity({
    id: 'nhi-catalog-enrich-worker',
    kind: 'workload',
    application: 'app-catalog-enrich',
    environment: 'production',
    tenants: ['*'],
    models: ['gpt-4o-mini*'],
    match: svc('catalog-enrich'),
  });
  stream(catalogWorker, 'otlp', 2, 'always', [GPT4O_MINI(1, 600, 250)]);

  // Shared services that work on behalf of the applications that call them.
  const agentService = 'agent-platform';
  const ragService = 'rag-service';
  identity({
    id: 'nhi-agent-platform',
    kind: 'workload',
    application: 'app-agent-platform',
    environment: 'production',
    shared: true,
    tenants: ['*'],
    models: ['gpt-4o*', 'claude-sonnet-4*'],
    match: svc(agentService),
  });
  const agentDef = (
    id: string,
    name: string,
    models: string[],
    u: ModelUse,
    rest: Omit<AgentDef, 'id' | 'name' | 'identity' | 'use'>,
  ): AgentDef => ({
    id,
    name,
    identity: identity({
      id: `nhi-agent-${id.replace(/-agent$/, '')}`,
      kind: 'agent',
      application: 'app-agent-platform',
      environment: 'production',
      shared: true,
      tenants: ['*'],
      models,
      match: [{ service: agentService, agent: id }],
    }),
    use: u,
    ...rest,
  });
  const triageAgent = agentDef('support-triage-agent', 'Support Triage', ['gpt-4o*'], GPT4O(1, 1800, 260), {
    chats: [1, 3],
    tools: [{ name: 'web_search', max: 1 }],
    retrieval: 0.85,
  });
  const researchAgent = agentDef('research-agent', 'Research', ['claude-sonnet-4*'], SONNET(1, 3200, 600), {
    chats: [2, 5],
    tools: [{ name: 'web_search', max: 3 }],
    retrieval: 0.6,
  });
  const sqlAgent = agentDef('sql-analyst-agent', 'SQL Analyst', ['gpt-4o*'], GPT4O(1, 2400, 350), {
    chats: [1, 3],
    tools: [{ name: 'run_sql', max: 2 }],
    retrieval: 0.3,
  });
  identity({
    id: 'nhi-rag-service',
    kind: 'service_account',
    application: 'app-rag-service',
    environment: 'production',
    shared: true,
    tenants: ['*'],
    models: ['text-embedding-3-*'],
    match: svc(ragService),
  });
  const agents: AgentStream[] = [];
  const agentStream = (invoker: IdentityDef, agent: AgentDef, weight: number) => {
    const s = direct.find((d) => d.identity === invoker);
    agents.push({
      invoker,
      service: invoker.match[0]?.service ?? invoker.id,
      agent,
      weight: weight * rng.logNormal(1, 0.3),
      profile: 'business',
      tzMinutes: s?.tzMinutes ?? 0,
      claims: s?.claims ?? [],
      addresses: s?.addresses ?? addresses(1),
    });
  };
  agentStream(supportBot, triageAgent, 4);
  agentStream(agentAssist, triageAgent, 2);
  agentStream(productQa, researchAgent, 2);
  agentStream(contractReview, researchAgent, 1);
  agentStream(researchSandbox, sqlAgent, 1);

  // Keys used through the gateway, which reports OTLP spans carrying `tally.api_key`.
  const keyFingerprint = () => fingerprint(`sk-demo-${rng.hex(40)}`);
  const incidentKey = keyFingerprint();
  const storefront = identity({
    id: 'nhi-storefront-prod',
    kind: 'api_key',
    application: 'app-storefront-assistant',
    environment: 'production',
    tenants: ['tenant-acme', 'tenant-globex'],
    models: ['gpt-4o-mini*'],
    match: [{ api_key: incidentKey }],
    lifecycle: [
      { at: createdAt(160), event: 'created' },
      { at: isoSeconds(dates.compromisedAt), event: 'compromised' },
    ],
  });
  // Its shoppers are in Europe, so the attacker's 01:00–05:00 UTC is the dead of its night.
  const incidentStream = stream(storefront, 'gateway', 3, 'business', [GPT4O_MINI(1, 1100, 240)], {
    apiKey: incidentKey,
    tzMinutes: 60,
  });
  // This one reports its raw key, so the demo shows it being fingerprinted at ingestion.
  const rawFraudKey = `sk-demo-${rng.hex(40)}`;
  const fraud = identity({
    id: 'nhi-fraud-explain-prod',
    kind: 'api_key',
    application: 'app-fraud-explain',
    environment: 'production',
    models: ['gpt-4o*'],
    match: [{ api_key: fingerprint(rawFraudKey) }],
  });
  stream(fraud, 'gateway', 1.5, 'always', [GPT4O(1, 1600, 400)], { apiKey: rawFraudKey });
  const voiceKey = keyFingerprint();
  const voice = identity({
    id: 'nhi-cx-voice-prod',
    kind: 'api_key',
    application: 'app-agent-assist',
    environment: 'production',
    tenants: ['tenant-globex', 'tenant-umbrella'],
    models: ['gpt-4o-mini*'],
    match: [{ api_key: voiceKey }],
  });
  stream(voice, 'gateway', 2, 'business', [GPT4O_MINI(1, 500, 90)], { apiKey: voiceKey });

  // LiteLLM virtual keys: SpendLogs carry the SHA-256 of the raw key as 64 hex digits, and
  // the registry names each key by that value as LiteLLM shows it (it is also tally's fingerprint).
  const litellm = (
    id: string,
    application: string,
    environment: string,
    channel: Channel,
    weight: number,
    profile: Profile,
    uses: ModelUse[],
    opts: { tenants?: string[]; models?: string[]; rotatedDaysAgo?: number } = {},
  ) => {
    const raw = `sk-${rng.hex(32)}`;
    const hashed = createHash('sha256').update(raw).digest('hex');
    const lifecycle = [{ at: createdAt(rng.int(120, 300)), event: 'created' }];
    if (opts.rotatedDaysAgo) lifecycle.push({ at: createdAt(opts.rotatedDaysAgo), event: 'rotated' });
    const def = identity({
      id,
      kind: 'api_key',
      application,
      environment,
      ...(opts.tenants ? { tenants: opts.tenants } : {}),
      ...(opts.models ? { models: opts.models } : {}),
      match: [{ api_key: hashed }],
      lifecycle,
    });
    stream(def, channel, weight, profile, uses, { apiKey: hashed });
  };
  litellm(
    'nhi-llm-support-bot',
    'app-support-bot',
    'production',
    'litellm',
    4,
    'business',
    [GPT4O(0.65), HAIKU35(0.35)],
    {
      tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech', 'tenant-umbrella'],
      models: ['gpt-4o*', 'claude-3-5-haiku*'],
      rotatedDaysAgo: 30,
    },
  );
  litellm(
    'nhi-llm-search',
    'app-search-rerank',
    'production',
    'litellm',
    4,
    'always',
    [EMBED_SMALL(0.65, 200), GPT4O_MINI(0.35)],
    {
      tenants: ['*'],
      models: ['gpt-4o-mini*', 'text-embedding-3-*'],
    },
  );
  litellm('nhi-llm-email-triage', 'app-email-triage', 'production', 'litellm', 2, 'always', [HAIKU45(1)], {
    tenants: ['tenant-acme', 'tenant-globex', 'tenant-initech'],
    models: ['claude-haiku-4*'],
  });
  litellm(
    'nhi-llm-catalog-enrich',
    'app-catalog-enrich',
    'production',
    'litellm',
    3,
    'always',
    [GPT4O_MINI(1, 700, 300)],
    {
      tenants: ['*'],
      models: ['gpt-4o-mini*'],
    },
  );
  litellm(
    'nhi-llm-marketing',
    'app-campaign-writer',
    'production',
    'litellm',
    0.6,
    'business',
    [GPT4O(1, 800, 600)],
    {
      models: ['gpt-4o*'],
    },
  );
  litellm('nhi-llm-notebook-alice', 'app-research-sandbox', 'experimentation', 'litellm', 0.8, 'business', [
    GPT41(0.5),
    SONNET(0.5),
  ]);
  litellm('nhi-llm-notebook-bob', 'app-research-sandbox', 'experimentation', 'litellm', 0.8, 'business', [
    O3_MINI(0.5),
    GPT4O(0.5),
  ]);
  litellm(
    'nhi-llm-ci-evals',
    'app-eval-harness',
    'experimentation',
    'litellm',
    1.5,
    'business',
    [GPT4O_MINI(1)],
    {
      models: ['gpt-4o-mini*'],
      rotatedDaysAgo: 75,
    },
  );
  litellm(
    'nhi-llm-code-assist',
    'app-code-assist',
    'production',
    'litellm',
    2,
    'business',
    [SONNET(1, 5000, 700)],
    {
      models: ['claude-sonnet-4*', 'claude-haiku-4*'],
    },
  );
  litellm(
    'nhi-llm-contract-review',
    'app-contract-review',
    'production',
    'litellm-eu',
    1.5,
    'business',
    [SONNET(1, 7000, 800)],
    {
      models: ['claude-sonnet-4*'],
    },
  );
  litellm(
    'nhi-llm-doc-ingest',
    'app-doc-ingest',
    'production',
    'litellm-eu',
    2,
    'always',
    [EMBED_LARGE(1, 4000)],
    {
      tenants: ['*'],
      models: ['text-embedding-3-*'],
    },
  );
  litellm(
    'nhi-llm-fraud-explain',
    'app-fraud-explain',
    'production',
    'litellm-eu',
    1,
    'always',
    [GPT4O_MINI(1)],
    { models: ['gpt-4o-mini*'] },
  );
  litellm('nhi-llm-product-qa', 'app-product-qa', 'production', 'litellm-eu', 1.5, 'business', [SONNET(1)], {
    tenants: ['tenant-acme', 'tenant-hooli', 'tenant-stark', 'tenant-tyrell'],
    models: ['claude-sonnet-4*'],
  });

  // Provider usage reports for the legal team's own OpenAI project and Anthropic workspace.
  const openaiProject = `proj_${rng.hex(24)}`;
  const anthropicWorkspace = `wrkspc_01${rng.hex(22)}`;
  const openaiReport = identity({
    id: 'nhi-openai-legal-project',
    kind: 'service_account',
    application: 'app-contract-review',
    environment: 'production',
    match: [{ project: openaiProject }],
  });
  const anthropicReport = identity({
    id: 'nhi-anthropic-legal-workspace',
    kind: 'service_account',
    application: 'app-contract-review',
    environment: 'production',
    match: [{ project: anthropicWorkspace }],
  });
  // Retired from use before the month; kept in the registry as posture shows it.
  identity({
    id: 'nhi-legacy-chatbot',
    kind: 'api_key',
    application: 'app-support-bot',
    environment: 'production',
    models: ['gpt-4o*'],
    match: [{ api_key: keyFingerprint() }],
    lifecycle: [
      { at: createdAt(400), event: 'created' },
      { at: createdAt(60), event: 'revoked' },
    ],
  });

  return {
    start,
    end,
    days,
    dates,
    costCenters,
    teams,
    applications,
    tenants,
    identities,
    direct,
    agents,
    platform: { agentService, ragService },
    incident: { stream: incidentStream, apiKey: incidentKey },
    unknownApiKey: rng.hex(16),
    reports: {
      openai: { identity: openaiReport, projectId: openaiProject, apiKeyId: `key_${rng.hex(16)}` },
      anthropic: {
        identity: anthropicReport,
        workspaceId: anthropicWorkspace,
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
