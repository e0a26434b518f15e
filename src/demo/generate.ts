/**
 * `tally demo`: writes a realistic synthetic month (configuration, OTLP
 * traces, LiteLLM spend logs, provider usage reports) into a directory.
 * Output is a pure function of the options: the same seed writes the same
 * bytes. Events are produced hour by hour and streamed to the files, so
 * memory stays flat however many events are asked for.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderConfigYaml, type YamlExtras } from './config-yaml.js';
import { dollarsCeil, estimateNano, UNIT_NANO } from './estimate.js';
import { csvHeader, csvLine, ndjsonLine, type SpendLogRow } from './litellm.js';
import { type Attr, OtlpFiles, resourceSpansJson, SPAN_KIND, type SpanSpec, spanJson } from './otlp.js';
import { Random } from './random.js';
import { FileSink } from './sink.js';
import { anthropicUsageReport, openaiUsagePage, reportDays } from './usage-reports.js';
import {
  type AgentStream,
  buildWorld,
  type DirectStream,
  type ModelUse,
  ownerResolver,
  PREMIUM_USES,
  type Profile,
  type World,
} from './world.js';

export interface DemoOptions {
  dir: string;
  /** Default 50 000. */
  events: number;
  /** `YYYY-MM`, default 2026-10. */
  month: string;
  /** Default 42. */
  seed: number;
}

export type DemoFormat = 'otlp' | 'litellm' | 'openai-usage' | 'anthropic-usage' | 'jsonl';

export interface DemoFiles {
  config: string;
  files: Array<{ path: string; format: DemoFormat }>;
  events: number;
  incident: { identity: string; apiKey: string; compromisedAt: string };
}

export const DEMO_DEFAULTS = { events: 50_000, month: '2026-10', seed: 42 } as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MIN_EVENTS = 500;
const AGENT_SHARE = 0.2;
const INCIDENT_SHARE = 0.025;
/** Share of agent traces whose root span the invoking application exports a week late. */
const LATE_ROOT_SHARE = 0.05;
const MAX_SPANS_PER_FILE = 25_000;

const DIURNAL = [
  0.05, 0.04, 0.04, 0.04, 0.05, 0.08, 0.15, 0.35, 0.7, 0.95, 1, 1, 0.85, 0.95, 1, 0.95, 0.85, 0.6, 0.4, 0.3,
  0.22, 0.15, 0.1, 0.07,
];
const WEEKEND = 0.25;
const BATCH_HOURS_UTC = new Set([2, 3]);

/**
 * Normalised weights of each hour of the month for a traffic profile in a
 * time zone; each day gets its own level, some days being busier than others.
 */
function hourWeights(world: World, profile: Profile, tzMinutes: number, rng: Random): Float64Array {
  const hours = world.days * 24;
  const w = new Float64Array(hours);
  const dayLevel = Array.from({ length: world.days + 1 }, () =>
    rng.logNormal(1, profile === 'nightly' ? 0.05 : 0.12),
  );
  let sum = 0;
  for (let h = 0; h < hours; h++) {
    const utc = world.start + h * HOUR_MS;
    let v: number;
    if (profile === 'nightly') v = BATCH_HOURS_UTC.has(new Date(utc).getUTCHours()) ? 1 : 0;
    else {
      const local = new Date(utc + tzMinutes * 60_000);
      const dow = local.getUTCDay();
      const business = (DIURNAL[local.getUTCHours()] ?? 0) * (dow === 0 || dow === 6 ? WEEKEND : 1);
      v = profile === 'always' ? 0.45 + 0.55 * business : business;
    }
    w[h] = v * (dayLevel[Math.floor(h / 24)] ?? 1);
    sum += w[h] ?? 0;
  }
  for (let h = 0; h < hours; h++) w[h] = (w[h] ?? 0) / sum;
  return w;
}

interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

const REASONING_MODELS = /^(o1|o3)/;

function drawUsage(rng: Random, use: ModelUse): Usage {
  const input = Math.min(200_000, Math.max(1, Math.round(rng.logNormal(use.input, 0.5))));
  if (use.operation === 'embeddings') return { input, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
  const output = Math.min(32_000, Math.max(1, Math.round(rng.logNormal(use.output, 0.6))));
  let cacheRead = 0;
  let cacheWrite = 0;
  // Providers cache prompt prefixes in 128-token steps, only above 1024 tokens.
  if (input > 1024 && rng.chance(use.cache))
    cacheRead = Math.floor((input * (0.3 + 0.55 * rng.next())) / 128) * 128;
  else if (use.provider === 'anthropic' && input > 1024 && rng.chance(0.15))
    cacheWrite = Math.floor(input * 0.6);
  const reasoning = REASONING_MODELS.test(use.model) ? Math.floor(output * (0.4 + 0.4 * rng.next())) : 0;
  return { input, output, cacheRead, cacheWrite, reasoning };
}

const SERVER_ADDRESS: Record<string, string> = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  internal: 'llm.internal.example',
};

function modelAttrs(use: ModelUse, u: Usage | null, error: string | null): Attr[] {
  return [
    ['gen_ai.operation.name', use.operation],
    ['gen_ai.provider.name', use.provider],
    ['gen_ai.request.model', use.model],
    ['gen_ai.response.model', error ? null : use.response],
    ['gen_ai.usage.input_tokens', u?.input],
    ['gen_ai.usage.output_tokens', use.operation === 'chat' ? u?.output : null],
    ['gen_ai.usage.cache_read.input_tokens', u?.cacheRead || null],
    ['gen_ai.usage.cache_creation.input_tokens', u?.cacheWrite || null],
    ['gen_ai.usage.reasoning.output_tokens', u?.reasoning || null],
    ['gen_ai.response.finish_reasons', use.operation === 'chat' && !error ? ['stop'] : null],
    ['server.address', SERVER_ADDRESS[use.provider] ?? null],
    ['error.type', error],
  ];
}

const ERROR_TYPES = ['429', '500', 'timeout'];
const ERROR_WEIGHTS = [0.5, 0.3, 0.2];
const ERROR_MESSAGES: Record<string, string> = {
  '401': 'Incorrect API key provided',
  '403': 'Model not available for this key',
  '429': 'Rate limit reached for requests',
  '500': 'The server had an error while processing your request',
  timeout: 'Request timed out',
};

/** A resource (service + environment) with the spans it exported in the current hour. */
interface ResourceBatch {
  attrs: Attr[];
  spans: string[];
}

/** Rough cost tallies that size budgets and pools to the generated traffic. */
class Tally {
  readonly team = new Map<string, number>();
  readonly tenant = new Map<string, number>();
  total = 0;

  add(team: string, tenant: string | null, nano: number): void {
    this.team.set(team, (this.team.get(team) ?? 0) + nano);
    if (tenant) this.tenant.set(tenant, (this.tenant.get(tenant) ?? 0) + nano);
    this.total += nano;
  }
}

type AgentDef = AgentStream['agent'];

/** The running state of one agent trace while its spans are written. */
interface AgentTrace {
  traceId: string;
  rootId: string;
  agentSpanId: string;
  /** Where the next child span starts. */
  cursor: number;
  /** Estimated cost so far, in nano-dollars. */
  nano: number;
  /** Chat tokens of the children, reported again (aggregated) on the agent span. */
  agg: { input: number; output: number; cacheRead: number };
}

class Generator {
  readonly rng: Random;
  readonly owner: (app: string, ms: number) => string;
  readonly tally = new Tally();
  readonly otlp: OtlpFiles;
  batches = new Map<string, ResourceBatch>();
  lateRoots = new Map<string, ResourceBatch>();
  rows: Array<{ t: number; line: string }> = [];
  euRows: Array<{ t: number; line: string }> = [];
  events = 0;
  private readonly litellmTeams = new Map<string, string>();

  constructor(
    readonly world: World,
    seed: number,
    dir: string,
    month: string,
  ) {
    this.rng = new Random(seed);
    this.owner = ownerResolver(world);
    this.otlp = new OtlpFiles(dir, `otlp/traces-${month}`, MAX_SPANS_PER_FILE);
  }

  private batch(into: Map<string, ResourceBatch>, service: string, environment: string): ResourceBatch {
    const key = `${service}|${environment}`;
    let b = into.get(key);
    if (!b) {
      b = {
        attrs: [
          ['service.name', service],
          ['service.version', '1.4.2'],
          ['deployment.environment.name', environment],
          ['telemetry.sdk.language', 'python'],
          ['telemetry.sdk.name', 'opentelemetry'],
        ],
        spans: [],
      };
      into.set(key, b);
    }
    return b;
  }

  private span(into: Map<string, ResourceBatch>, service: string, environment: string, s: SpanSpec): void {
    this.batch(into, service, environment).spans.push(spanJson(s));
    this.events++;
  }

  private error(rate: number): string | null {
    return this.rng.chance(rate) ? this.rng.weighted(ERROR_TYPES, ERROR_WEIGHTS) : null;
  }

  direct(s: DirectStream, t: number): void {
    const rng = this.rng;
    const use =
      s.uses.length === 1
        ? (s.uses[0] as ModelUse)
        : rng.weighted(
            s.uses,
            s.uses.map((u) => u.share),
          );
    const error = this.error(s.errorRate);
    const u = error ? null : drawUsage(rng, use);
    const tenant = s.claims.length > 0 ? rng.pick(s.claims) : null;
    const address = rng.pick(s.addresses);
    const durationMs = use.operation === 'chat' ? 300 + (u?.output ?? 0) * 12 : 60 + (u?.input ?? 0) / 40;
    if (u) {
      const nano = estimateNano(use.model, u.input, u.output, u.cacheRead, u.cacheWrite);
      this.tally.add(this.owner(s.identity.application, t), tenant, nano);
    }
    if (s.channel === 'litellm' || s.channel === 'litellm-eu') {
      this.litellmRow(s, use, u, t, Math.round(durationMs), tenant, address, error);
      return;
    }
    const attrs = modelAttrs(use, u, error);
    attrs.push(['client.address', address], ['tenant.id', tenant]);
    if (s.channel === 'gateway') attrs.push(['tally.api_key', s.apiKey]);
    if (s.envDrift && rng.chance(s.envDrift.share))
      attrs.push(['deployment.environment.name', s.envDrift.environment]);
    const env = s.channel === 'gateway' ? 'production' : s.identity.environment;
    this.span(this.batches, s.service, env, {
      traceId: rng.hex(32),
      spanId: rng.hex(16),
      parentSpanId: null,
      name: `${use.operation} ${use.model}`,
      kind: SPAN_KIND.client,
      startMs: t,
      subNs: rng.int(0, 999_999),
      durationMs: Math.round(durationMs),
      attrs,
      error: error ? (ERROR_MESSAGES[error] ?? error) : null,
    });
  }

  private litellmRow(
    s: DirectStream,
    use: ModelUse,
    u: Usage | null,
    t: number,
    durationMs: number,
    tenant: string | null,
    address: string,
    error: string | null,
  ): void {
    const rng = this.rng;
    const team = this.owner(s.identity.application, t);
    let teamId = this.litellmTeams.get(team);
    if (!teamId) {
      teamId = rng.uuid();
      this.litellmTeams.set(team, teamId);
    }
    const tags = [`app:${s.identity.application.replace(/^app-/, '')}`];
    const metadata: Record<string, unknown> = {
      user_api_key_alias: s.identity.id.replace(/^nhi-llm-/, ''),
      user_api_key_team_id: teamId,
      spend_logs_metadata: null,
    };
    let endUser = '';
    // Gateways pass the tenant in different ways; tally reads all three.
    if (tenant) {
      const how = rng.next();
      if (how < 0.5) metadata.spend_logs_metadata = { tenant };
      else if (how < 0.8) tags.push(`tenant:${tenant}`);
      else endUser = tenant;
    }
    if (u && use.provider === 'anthropic') {
      metadata.additional_usage_values = {
        cache_read_input_tokens: u.cacheRead,
        cache_creation_input_tokens: u.cacheWrite,
      };
    } else if (u) {
      metadata.usage_object = {
        prompt_tokens: u.input,
        completion_tokens: u.output,
        total_tokens: u.input + u.output,
        prompt_tokens_details: { cached_tokens: u.cacheRead },
        completion_tokens_details: { reasoning_tokens: u.reasoning },
      };
    }
    if (error)
      metadata.error_information = {
        error_code: error,
        error_class: error === '429' ? 'RateLimitError' : 'APIError',
      };
    const spendNano = u ? estimateNano(use.model, u.input, u.output, u.cacheRead, u.cacheWrite) : 0;
    const row: SpendLogRow = {
      request_id:
        use.operation === 'chat' && use.provider === 'openai' ? `chatcmpl-${rng.hex(29)}` : rng.uuid(),
      call_type: use.operation === 'chat' ? 'acompletion' : 'aembedding',
      api_key: s.apiKey ?? '',
      spend: spendNano / 1e9,
      total_tokens: u ? u.input + u.output : 0,
      prompt_tokens: u?.input ?? 0,
      completion_tokens: u?.output ?? 0,
      startTime: new Date(t).toISOString(),
      endTime: new Date(t + durationMs).toISOString(),
      completionStartTime:
        use.operation === 'chat' ? new Date(t + Math.min(durationMs, 250)).toISOString() : null,
      model: use.response,
      model_id: rng.hex(12),
      model_group: use.model,
      custom_llm_provider: use.provider,
      api_base: `https://${SERVER_ADDRESS[use.provider] ?? 'localhost'}/v1`,
      user: '',
      metadata,
      cache_hit: 'False',
      cache_key: '',
      request_tags: tags,
      team_id: teamId,
      end_user: endUser,
      requester_ip_address: address,
      status: error ? 'failure' : 'success',
      session_id: rng.uuid(),
    };
    this.events++;
    if (s.channel === 'litellm-eu') this.euRows.push({ t, line: csvLine(row) });
    else this.rows.push({ t, line: ndjsonLine(row) });
  }

  /** Writes one agent workflow; returns its number of spans. */
  agentTrace(s: AgentStream, t: number, lateRoot: boolean): number {
    const before = this.events;
    const rng = this.rng;
    const trace: AgentTrace = {
      traceId: rng.hex(32),
      rootId: rng.hex(16),
      agentSpanId: rng.hex(16),
      cursor: t + 12,
      nano: UNIT_NANO.invoke_agent,
      agg: { input: 0, output: 0, cacheRead: 0 },
    };
    const tenant = s.claims.length > 0 ? rng.pick(s.claims) : null;
    const { agentService, ragService } = this.world.platform;
    if (rng.chance(s.agent.retrieval)) this.retrieval(trace, ragService);
    this.agentTurns(trace, s.agent, agentService);
    this.agentSpan(trace, s.agent, agentService, t);
    this.rootSpan(trace, s, t, tenant, lateRoot);
    this.tally.add(this.owner(s.invoker.application, t), tenant, trace.nano);
    return this.events - before;
  }

  /** A child of the agent span, starting where the previous child ended. */
  private child(
    tr: AgentTrace,
    service: string,
    name: string,
    kind: number,
    durationMs: number,
    attrs: Attr[],
    error: string | null,
  ): void {
    this.span(this.batches, service, 'production', {
      traceId: tr.traceId,
      spanId: this.rng.hex(16),
      parentSpanId: tr.agentSpanId,
      name,
      kind,
      startMs: tr.cursor,
      subNs: this.rng.int(0, 999_999),
      durationMs,
      attrs,
      error: error ? (ERROR_MESSAGES[error] ?? error) : null,
    });
    tr.cursor += durationMs + this.rng.int(2, 40);
  }

  /** A model call inside the trace; its chat tokens add to the agent span's aggregate. */
  private modelCall(tr: AgentTrace, service: string, use: ModelUse, agent: AgentDef | null): void {
    const error = this.error(0.01);
    const u = error ? null : drawUsage(this.rng, use);
    const attrs = modelAttrs(use, u, error);
    if (agent) attrs.push(['gen_ai.agent.id', agent.id], ['gen_ai.agent.name', agent.name]);
    const duration = use.operation === 'chat' ? 300 + (u?.output ?? 0) * 12 : 40 + this.rng.int(0, 60);
    this.child(tr, service, `${use.operation} ${use.model}`, SPAN_KIND.client, duration, attrs, error);
    if (!u) return;
    tr.nano += estimateNano(use.model, u.input, u.output, u.cacheRead, u.cacheWrite);
    if (use.operation === 'chat') {
      tr.agg.input += u.input;
      tr.agg.output += u.output;
      tr.agg.cacheRead += u.cacheRead;
    }
  }

  private retrieval(tr: AgentTrace, ragService: string): void {
    this.modelCall(tr, ragService, QUERY_EMBEDDING, null);
    const attrs: Attr[] = [
      ['gen_ai.operation.name', 'retrieval'],
      ['gen_ai.data_source.id', 'kb-main'],
      ['db.system.name', 'qdrant'],
    ];
    this.child(tr, ragService, 'retrieval kb-main', SPAN_KIND.client, this.rng.int(20, 140), attrs, null);
    tr.nano += UNIT_NANO.retrieval;
  }

  /** The agent's chat turns, with a tool call after each but the last (and after a lone first one). */
  private agentTurns(tr: AgentTrace, agent: AgentDef, service: string): void {
    const rng = this.rng;
    const chats = rng.int(agent.chats[0], agent.chats[1]);
    const toolCalls: string[] = [];
    for (const tool of agent.tools) for (let i = rng.int(0, tool.max); i > 0; i--) toolCalls.push(tool.name);
    for (let i = 0; i < chats; i++) {
      this.modelCall(tr, service, agent.use, agent);
      const tool = i < chats - 1 || i === 0 ? toolCalls.shift() : undefined;
      if (!tool) continue;
      const durationMs = rng.int(150, 1800);
      const attrs: Attr[] = [
        ['gen_ai.operation.name', 'execute_tool'],
        ['gen_ai.tool.name', tool],
        ['gen_ai.tool.type', 'function'],
        ['gen_ai.tool.call.id', `call_${rng.hex(24)}`],
      ];
      this.child(tr, service, `execute_tool ${tool}`, SPAN_KIND.internal, durationMs, attrs, null);
      if (tool === 'web_search') tr.nano += UNIT_NANO.web_search;
    }
  }

  private agentSpan(tr: AgentTrace, agent: AgentDef, service: string, t: number): void {
    this.span(this.batches, service, 'production', {
      traceId: tr.traceId,
      spanId: tr.agentSpanId,
      parentSpanId: tr.rootId,
      name: `invoke_agent ${agent.name}`,
      kind: SPAN_KIND.internal,
      startMs: t + 5,
      subNs: this.rng.int(0, 999_999),
      durationMs: tr.cursor - t - 5,
      attrs: [
        ['gen_ai.operation.name', 'invoke_agent'],
        ['gen_ai.agent.id', agent.id],
        ['gen_ai.agent.name', agent.name],
        ['gen_ai.provider.name', agent.use.provider],
        ['gen_ai.request.model', agent.use.model],
        // Aggregated over the children: tally must not price it again.
        ['gen_ai.usage.input_tokens', tr.agg.input],
        ['gen_ai.usage.output_tokens', tr.agg.output],
        ['gen_ai.usage.cache_read.input_tokens', tr.agg.cacheRead || null],
      ],
      error: null,
    });
  }

  /** The invoking application's workflow span, which carries the tenant; some arrive in a later file. */
  private rootSpan(tr: AgentTrace, s: AgentStream, t: number, tenant: string | null, late: boolean): void {
    this.span(late ? this.lateRoots : this.batches, s.service, s.invoker.environment, {
      traceId: tr.traceId,
      spanId: tr.rootId,
      parentSpanId: null,
      name: `invoke_workflow ${s.invoker.application.replace(/^app-/, '')}`,
      kind: SPAN_KIND.server,
      startMs: t,
      subNs: this.rng.int(0, 999_999),
      durationMs: tr.cursor - t + 8,
      attrs: [
        ['gen_ai.operation.name', 'invoke_workflow'],
        ['tenant.id', tenant],
        ['client.address', this.rng.pick(s.addresses)],
      ],
      error: null,
    });
  }

  /** A span planned outside the ordinary streams (incident, unknown key), as the gateway reports it. */
  gatewaySpan(spec: SpanSpec): void {
    this.span(this.batches, 'llm-gateway', 'production', spec);
  }

  async flushHour(litellm: FileSink, eu: FileSink): Promise<void> {
    for (const b of this.batches.values()) {
      if (b.spans.length > 0)
        await this.otlp.add(
          resourceSpansJson(b.attrs, 'opentelemetry.instrumentation.genai', b.spans),
          b.spans.length,
        );
    }
    this.batches = new Map();
    this.rows.sort((a, b) => a.t - b.t);
    for (const r of this.rows) litellm.write(r.line);
    this.rows = [];
    await litellm.maybeFlush();
    this.euRows.sort((a, b) => a.t - b.t);
    for (const r of this.euRows) eu.write(r.line);
    this.euRows = [];
    await eu.maybeFlush();
  }

  async flushLateRoots(): Promise<void> {
    for (const b of this.lateRoots.values()) {
      await this.otlp.add(
        resourceSpansJson(b.attrs, 'opentelemetry.instrumentation.genai', b.spans),
        b.spans.length,
      );
    }
    this.lateRoots = new Map();
  }
}

const QUERY_EMBEDDING: ModelUse = {
  provider: 'openai',
  model: 'text-embedding-3-small',
  response: 'text-embedding-3-small',
  operation: 'embeddings',
  share: 1,
  input: 40,
  output: 0,
  cache: 0,
};

/**
 * Hourly counts for one stream by systematic sampling: a unit starts each
 * time the expected curve, shifted by a random phase, crosses a whole number
 * of units. The month's total then lands on the target (within one unit per
 * stream) even for small demos; day-to-day variation comes from the weights.
 * Agent traces vary in size, so their curve counts events and is compared
 * with the events actually written.
 */
class Pace {
  private expected: number;
  private done = 0;

  constructor(
    private readonly events: number,
    private readonly eventsPerUnit: number,
    phase: number,
  ) {
    this.expected = phase * eventsPerUnit;
  }

  /** Units (events or traces) to start in an hour with weight `w`. */
  draw(w: number): number {
    this.expected += this.events * w;
    return Math.max(0, Math.floor((this.expected - this.done) / this.eventsPerUnit));
  }

  emitted(events: number): void {
    this.done += events;
  }
}

function agentTraceSize(s: AgentStream): number {
  const a = s.agent;
  const tools = a.tools.reduce((sum, t) => sum + t.max / 2, 0);
  return 2 + (a.chats[0] + a.chats[1]) / 2 + Math.min(tools, (a.chats[0] + a.chats[1]) / 2) + 2 * a.retrieval;
}

interface Planned {
  hour: number;
  spec: SpanSpec;
}

/** The LLMjacking story: probing, then night-time bursts with a premium model and spoofed tenants. */
function incidentSpans(world: World, rng: Random, total: number): Planned[] {
  const { incident, dates } = world;
  const night = (d: number, h: number, m: number) =>
    dates.compromisedAt - 3 * HOUR_MS + d * DAY_MS + (h * 60 + m) * 60_000;
  const bursts = [
    { at: night(0, 1, 37), probe: true },
    { at: night(0, 2, 14), probe: false },
    { at: night(0, 3, 22), probe: false },
    { at: night(0, 4, 5), probe: false },
    { at: night(1, 1, 12), probe: false },
    { at: night(1, 2, 40), probe: false },
    { at: night(1, 4, 18), probe: false },
    { at: night(2, 1, 25), probe: false },
    { at: night(2, 3, 5), probe: false },
    { at: night(2, 4, 31), probe: false },
  ];
  const attackers = ['203.0.113.57', '203.0.113.88', '198.51.100.23', '198.51.100.190', '192.0.2.45'];
  const spoofed = ['tenant-wayne', 'tenant-wayne', 'tenant-stark', null];
  const probeSize = Math.max(3, Math.round(total * 0.05));
  const burstSize = Math.max(1, Math.round((total - probeSize) / (bursts.length - 1)));
  const out: Planned[] = [];
  bursts.forEach((b, i) => {
    const size = b.probe ? probeSize : burstSize;
    const spreadMs = (2 + rng.int(0, 4)) * 60_000;
    const times = Array.from({ length: size }, () => b.at + Math.floor(rng.next() * spreadMs)).sort(
      (x, y) => x - y,
    );
    const address = attackers[i % attackers.length] as string;
    times.forEach((t, k) => {
      const use = rng.chance(PREMIUM_USES.opus.share) ? PREMIUM_USES.opus : PREMIUM_USES.o1;
      let error: string | null = null;
      if (b.probe) error = k < size * 0.6 ? '401' : k < size * 0.8 ? '403' : null;
      else if (k < size * 0.1) error = '429';
      const u = error ? null : drawUsage(rng, use);
      const attrs = modelAttrs(use, u, error);
      attrs.push(
        ['client.address', address],
        ['tenant.id', rng.pick(spoofed)],
        ['tally.api_key', incident.apiKey],
      );
      out.push({
        hour: Math.floor((t - world.start) / HOUR_MS),
        spec: {
          traceId: rng.hex(32),
          spanId: rng.hex(16),
          parentSpanId: null,
          name: `chat ${use.model}`,
          kind: SPAN_KIND.client,
          startMs: t,
          subNs: rng.int(0, 999_999),
          durationMs: error ? rng.int(40, 120) : 400 + (u?.output ?? 0) * 10,
          attrs,
          error: error ? (ERROR_MESSAGES[error] ?? error) : null,
        },
      });
    });
  });
  return out;
}

/** A key nobody registered, used a little during office hours (signal S03). */
function unknownKeySpans(world: World, rng: Random, count: number): Planned[] {
  const use: ModelUse = {
    provider: 'openai',
    model: 'gpt-4o-mini',
    response: 'gpt-4o-mini-2024-07-18',
    operation: 'chat',
    share: 1,
    input: 600,
    output: 120,
    cache: 0,
  };
  return Array.from({ length: count }, () => {
    const t = world.start + rng.int(7, 11) * DAY_MS + rng.int(13, 20) * HOUR_MS + rng.int(0, HOUR_MS - 1);
    const u = drawUsage(rng, use);
    const attrs = modelAttrs(use, u, null);
    attrs.push(['client.address', '10.99.4.17'], ['tally.api_key', world.unknownApiKey]);
    return {
      hour: Math.floor((t - world.start) / HOUR_MS),
      spec: {
        traceId: rng.hex(32),
        spanId: rng.hex(16),
        parentSpanId: null,
        name: `chat ${use.model}`,
        kind: SPAN_KIND.client,
        startMs: t,
        subNs: rng.int(0, 999_999),
        durationMs: 300 + u.output * 12,
        attrs,
        error: null,
      },
    };
  });
}

function accessTokens(seed: number): Array<{ label: string; raw: string; role: string; team?: string }> {
  const rng = new Random(seed ^ 0x5eed7011);
  const token = (role: string) => `tally_demo_${role}_${rng.hex(32)}`;
  return [
    { label: 'admin', raw: token('admin'), role: 'admin' },
    { label: 'finance', raw: token('finance'), role: 'finance' },
    { label: 'team:team-search', raw: token('team'), role: 'team', team: 'team-search' },
    { label: 'ingest', raw: token('ingest'), role: 'ingest' },
  ];
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Budgets sized to the traffic so that the demo crosses some thresholds and not others. */
function budgets(tally: Tally): YamlExtras['budgets'] {
  const nice = (nano: number, factor: number) => String(dollarsCeil(nano * factor));
  return [
    {
      scope: 'team',
      id: 'team-search',
      monthly: nice(tally.team.get('team-search') ?? 0, 0.8),
      alertAt: [50, 80, 100],
    },
    {
      scope: 'team',
      id: 'team-cx',
      monthly: nice(tally.team.get('team-cx') ?? 0, 1.6),
      alertAt: [50, 80, 100],
    },
    {
      scope: 'tenant',
      id: 'tenant-acme',
      monthly: nice(tally.tenant.get('tenant-acme') ?? 0, 1.05),
      alertAt: [80, 100],
    },
  ];
}

/** How many events each part of the demo contributes to the target. */
function eventCounts(target: number, reportEvents: number) {
  const incident = Math.max(20, Math.round(target * INCIDENT_SHARE));
  const unknown = Math.max(5, Math.round(target * 0.0003));
  const agent = Math.round(target * AGENT_SHARE);
  const direct = target - reportEvents - incident - unknown - agent;
  if (direct <= 0) throw new RangeError(`events ${target} is too few for the demo`);
  return { incident, unknown, agent, direct };
}

/** The incident's and the unknown key's spans, by the hour they fall in. */
function specialSpans(world: World, seed: number, counts: { incident: number; unknown: number }) {
  const special = new Map<number, SpanSpec[]>();
  for (const p of [
    ...incidentSpans(world, new Random(seed ^ 0x1c1d), counts.incident),
    ...unknownKeySpans(world, new Random(seed ^ 0x0b5), counts.unknown),
  ]) {
    const list = special.get(p.hour) ?? [];
    list.push(p.spec);
    special.set(p.hour, list);
  }
  return special;
}

/** Each stream with its hourly weights and pace, so that the month lands on its share of events. */
function pacedStreams(world: World, rng: Random, counts: { direct: number; agent: number }) {
  const weights = (profile: Profile, tz: number) => hourWeights(world, profile, tz, rng);
  const directWeight = world.direct.reduce((s, d) => s + d.weight, 0);
  const direct = world.direct.map((s) => ({
    s,
    w: weights(s.profile, s.tzMinutes),
    pace: new Pace((counts.direct * s.weight) / directWeight, 1, rng.next()),
  }));
  const agentWeight = world.agents.reduce((s, a) => s + a.weight, 0);
  const agents = world.agents.map((s) => ({
    s,
    w: weights(s.profile, s.tzMinutes),
    pace: new Pace((counts.agent * s.weight) / agentWeight, agentTraceSize(s), rng.next()),
  }));
  return { direct, agents };
}

type Paced = ReturnType<typeof pacedStreams>;

/** One hour of every stream's traffic, then the planned spans of that hour. */
function writeHour(
  gen: Generator,
  streams: Paced,
  h: number,
  late: () => boolean,
  special: SpanSpec[],
): void {
  const rng = gen.rng;
  const hourStart = gen.world.start + h * HOUR_MS;
  for (const d of streams.direct) {
    const n = d.pace.draw(d.w[h] ?? 0);
    for (let i = 0; i < n; i++) gen.direct(d.s, hourStart + Math.floor(rng.next() * HOUR_MS));
    d.pace.emitted(n);
  }
  for (const a of streams.agents) {
    const n = a.pace.draw(a.w[h] ?? 0);
    for (let i = 0; i < n; i++) {
      const isLate = late();
      a.pace.emitted(gen.agentTrace(a.s, hourStart + Math.floor(rng.next() * HOUR_MS), isLate));
    }
  }
  for (const spec of special) gen.gatewaySpan(spec);
}

/** The month hour by hour: OTLP files and LiteLLM spend logs a week each, the EU gateway's CSV. */
async function writeTraffic(
  gen: Generator,
  dir: string,
  month: string,
  streams: Paced,
  special: Map<number, SpanSpec[]>,
) {
  const { world, rng } = gen;
  const litellmFiles: string[] = [];
  const euName = `litellm/spendlogs-eu-${month}.csv`;
  const eu = await FileSink.create(path.join(dir, euName));
  eu.write(csvHeader());
  let weekSink: FileSink | null = null;
  const hours = world.days * 24;
  const lastWeek = Math.floor((hours - 1) / 168) + 1;
  let week = 0;
  for (let h = 0; h < hours; h++) {
    const w = Math.floor(h / 168) + 1;
    if (w !== week) {
      week = w;
      await gen.otlp.startWeek(week);
      await gen.flushLateRoots();
      await weekSink?.close();
      const name = `litellm/spendlogs-${month}-w${week}.ndjson`;
      weekSink = await FileSink.create(path.join(dir, name));
      litellmFiles.push(name);
    }
    const late = () => week < lastWeek && rng.chance(LATE_ROOT_SHARE);
    writeHour(gen, streams, h, late, special.get(h) ?? []);
    await gen.flushHour(weekSink as FileSink, eu);
  }
  await gen.otlp.close();
  await weekSink?.close();
  await eu.close();
  return { litellmFiles, euName };
}

/** The configuration (with budgets and pools sized to the traffic) and the access tokens beside it. */
async function writeConfig(gen: Generator, dir: string, month: string, seed: number): Promise<string> {
  const tokens = accessTokens(seed);
  const total = gen.tally.total;
  const pool = (share: number) => `${dollarsCeil(total * share)}.00`;
  const yaml = renderConfigYaml(gen.world, {
    header: [
      `# tally demo: a synthetic organisation and its AI usage in ${month} (seed ${seed}).`,
      '# Generated by `tally demo`; the raw access tokens are in tokens.txt beside this file.',
    ].join('\n'),
    budgets: budgets(gen.tally),
    pools: {
      vectordb: pool(0.1),
      platform: pool(0.04),
      gpu: pool(0.15),
      gpuWeights: { 'team-search': 60, 'team-cx': 40 },
    },
    access: tokens.map((t) => ({ sha256: sha256(t.raw), role: t.role, ...(t.team ? { team: t.team } : {}) })),
  });
  const config = path.resolve(dir, 'tally.yaml');
  await writeFile(config, yaml);
  await writeFile(
    path.join(dir, 'tokens.txt'),
    [
      '# tally demo access tokens, one per role (demo only: tally.yaml keeps just their SHA-256).',
      '# Sign in to the dashboard (`tally serve`) with one of them.',
      ...tokens.map((t) => `${t.label}\t${t.raw}`),
      '',
    ].join('\n'),
  );
  return config;
}

export async function generateDemo(opts: DemoOptions): Promise<DemoFiles> {
  const { dir, events: target, month, seed } = opts;
  if (!Number.isInteger(target) || target < MIN_EVENTS) {
    throw new RangeError(`events must be an integer of at least ${MIN_EVENTS}, got ${target}`);
  }
  const world = buildWorld(month, new Random(seed ^ 0x0c0ffee));
  const gen = new Generator(world, seed, dir, month);

  const days = reportDays(world.start, world.days);
  const scale = target / DEMO_DEFAULTS.events;
  const openai = openaiUsagePage(new Random(seed ^ 0x0a1), days, scale, world.reports.openai);
  const anthropic = anthropicUsageReport(new Random(seed ^ 0x0a2), days, scale, world.reports.anthropic);
  const reportTotals = [...openai.totals, ...anthropic.totals];
  const counts = eventCounts(target, reportTotals.length);
  const special = specialSpans(world, seed, counts);
  const streams = pacedStreams(world, gen.rng, counts);
  const { litellmFiles, euName } = await writeTraffic(gen, dir, month, streams, special);

  const openaiName = `usage/openai-completions-${month}.json`;
  const anthropicName = `usage/anthropic-messages-${month}.json`;
  await mkdir(path.join(dir, 'usage'), { recursive: true });
  await writeFile(path.join(dir, openaiName), openai.json);
  await writeFile(path.join(dir, anthropicName), anthropic.json);
  for (const t of reportTotals) {
    const report = t.provider === 'openai' ? world.reports.openai : world.reports.anthropic;
    const nano = estimateNano(t.model, t.input, t.output, t.cacheRead, t.cacheWrite);
    gen.tally.add(gen.owner(report.identity.application, t.day), null, nano);
  }
  const config = await writeConfig(gen, dir, month, seed);

  const files: DemoFiles['files'] = [
    ...gen.otlp.written.map((p) => ({ path: path.resolve(dir, p), format: 'otlp' as const })),
    ...[...litellmFiles, euName].map((p) => ({ path: path.resolve(dir, p), format: 'litellm' as const })),
    { path: path.resolve(dir, openaiName), format: 'openai-usage' },
    { path: path.resolve(dir, anthropicName), format: 'anthropic-usage' },
  ];
  return {
    config,
    files,
    events: gen.events + reportTotals.length,
    incident: {
      identity: world.incident.stream.identity.id,
      apiKey: world.incident.apiKey,
      compromisedAt: new Date(world.dates.compromisedAt).toISOString().replace('.000Z', 'Z'),
    },
  };
}
