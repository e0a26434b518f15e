/**
 * A fast generator of canonical JSONL (SPEC §3, every field present) with a
 * matching registry, for the statement and signals benchmarks. It trades
 * realism for speed: lines are built from templates, ids from counters, and
 * written through a buffered sink so that 10 M lines stream in flat memory.
 */
import { type Registry, renderConfigYaml } from './config-yaml.js';
import { Random } from './random.js';
import { FileSink } from './sink.js';
import { type IdentityDef, isoSeconds, monthBounds } from './world.js';

export interface CanonicalOptions {
  events: number;
  /** Non-shared identities; five shared ones (agent platform, three agents, RAG service) come on top. */
  identities: number;
  applications: number;
  tenants: number;
  /** Share of events that belong to agent traces (0–1). */
  agentShare: number;
  month: string;
  seed: number;
}

const pad = (n: number) => String(n).padStart(4, '0');
/** `mm:ss.` for every second of an hour and `123Z` for every millisecond: a time's text is two lookups. */
const MIN_SEC = Array.from(
  { length: 3600 },
  (_, i) => `${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.`,
);
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
const TRACE_SIZE = 5;
const AGENTS = ['agent-1', 'agent-2', 'agent-3'];

/** A model call an event can make, with the line fragment it contributes. */
const CALLS = [
  { weight: 60, head: '"provider":"openai","model":"gpt-4o-mini","operation":"chat"', embed: false },
  { weight: 20, head: '"provider":"openai","model":"gpt-4o","operation":"chat"', embed: false },
  { weight: 10, head: '"provider":"anthropic","model":"claude-sonnet-4-5","operation":"chat"', embed: false },
  {
    weight: 10,
    head: '"provider":"openai","model":"text-embedding-3-small","operation":"embeddings"',
    embed: true,
  },
];
const CALL_TABLE = CALLS.flatMap((c) => Array.from({ length: c.weight }, () => c));

interface BenchIdentity {
  /** `"api_key":…,"service":…,"agent":null,"project":null` */
  selector: string;
  /** Tenants it claims, as JSON string literals. */
  tenants: string[];
  environment: string;
  address: string;
}

function buildRegistry(opts: CanonicalOptions, rng: Random): { registry: Registry; bench: BenchIdentity[] } {
  const { start } = monthBounds(opts.month);
  const year = new Date(start).getUTCFullYear();
  const orgStart = `${year - 1}-01-01`;
  const appCount = Math.max(1, opts.applications);
  const teamCount = Math.max(1, Math.ceil(appCount / 3));
  const ccCount = Math.max(1, Math.ceil(teamCount / 4));
  const costCenters = Array.from({ length: ccCount }, (_, i) => ({
    id: `cc-${pad(i + 1)}`,
    name: `Cost Center ${i + 1}`,
  }));
  const teams = Array.from({ length: teamCount }, (_, i) => ({
    id: `team-${pad(i + 1)}`,
    name: `Team ${i + 1}`,
    costCenters: [{ cc: `cc-${pad((i % ccCount) + 1)}`, from: orgStart }],
  }));
  const applications = Array.from({ length: appCount }, (_, i) => ({
    id: `app-${pad(i + 1)}`,
    name: `Application ${i + 1}`,
    owners: [{ team: `team-${pad((i % teamCount) + 1)}`, from: orgStart }],
  }));
  applications.push({
    id: 'app-shared-platform',
    name: 'Shared Platform',
    owners: [{ team: 'team-0001', from: orgStart }],
  });
  const tenantCount = Math.max(1, opts.tenants);
  const tenants = Array.from({ length: tenantCount }, (_, i) => ({
    id: `tenant-${pad(i + 1)}`,
    name: `Tenant ${i + 1}`,
  }));

  const created = [{ at: isoSeconds(Date.UTC(year - 1, 6, 1)), event: 'created' }];
  const identities: IdentityDef[] = [];
  const bench: BenchIdentity[] = [];
  for (let i = 0; i < opts.identities; i++) {
    const id = `nhi-${pad(i + 1)}`;
    const byKey = i % 2 === 0;
    const key = rng.hex(16);
    const service = `svc-${pad(i + 1)}`;
    const anyTenant = i % 5 === 0;
    const allowed = anyTenant ? [] : [0, 1, 2].map((k) => tenants[(i + k) % tenantCount]?.id as string);
    const environment = i % 10 === 9 ? 'experimentation' : 'production';
    identities.push({
      id,
      kind: (['api_key', 'service_account', 'workload'] as const)[i % 3] ?? 'api_key',
      application: `app-${pad((i % appCount) + 1)}`,
      environment,
      tenants: anyTenant ? ['*'] : [...new Set(allowed)],
      ...(i % 2 === 1 ? { models: ['gpt-4o*', 'text-embedding-3-*', 'claude-sonnet-4*'] } : {}),
      match: [byKey ? { api_key: key } : { service }],
      lifecycle: created,
    });
    bench.push({
      selector: byKey
        ? `"api_key":"${key}","service":null,"agent":null,"project":null`
        : `"api_key":null,"service":"${service}","agent":null,"project":null`,
      tenants: (anyTenant ? tenants.map((t) => t.id) : [...new Set(allowed)]).map((t) => JSON.stringify(t)),
      environment,
      address: `10.${(i >> 8) & 255}.${i & 255}.${rng.int(2, 254)}`,
    });
  }
  const shared = (id: string, kind: IdentityDef['kind'], match: Record<string, string>): IdentityDef => ({
    id,
    kind,
    application: 'app-shared-platform',
    environment: 'production',
    shared: true,
    tenants: ['*'],
    match: [match],
    lifecycle: created,
  });
  identities.push(shared('nhi-agent-platform', 'workload', { service: 'agent-platform' }));
  for (const a of AGENTS)
    identities.push(shared(`nhi-${a}`, 'agent', { service: 'agent-platform', agent: a }));
  identities.push(shared('nhi-rag-service', 'service_account', { service: 'rag-service' }));

  return {
    registry: {
      costCenters,
      teams,
      applications,
      tenants,
      identities,
      dates: { orgStart, discountFrom: orgStart },
    },
    bench,
  };
}

const NO_EXTRA = '"tool":null,"data_source":null';
const NO_TRACE = '"trace_id":null,"span_id":null,"parent_span_id":null';
const OK = '"status":"ok","error_type":null';
const FAILED = '"status":"error","error_type":"429"';
const ZERO =
  '"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0';
const PLAIN = '"api_key":null,"service":"agent-platform","agent":null,"project":null';
const RAG = '"api_key":null,"service":"rag-service","agent":null,"project":null';

/** Token counts of a model call, drawn from the bits of one random number. */
function tokensOf(x: number, embed: boolean): string {
  const input = 200 + (x % 3000);
  const output = embed ? 0 : 40 + ((x >>> 12) % 800);
  const cacheRead = !embed && (x & 7) === 0 ? input >> 1 : 0;
  return `"input_tokens":${input},"output_tokens":${output},"cache_read_tokens":${cacheRead},"cache_write_tokens":0,"reasoning_tokens":0`;
}

/** An ISO time for epoch milliseconds; toISOString per line would be the generator's largest cost. */
function isoFormatter(): (ms: number) => string {
  let hourMs = -1;
  let hourIso = '';
  return (ms) => {
    const inHour = ms % 3_600_000;
    if (ms - inHour !== hourMs) {
      hourMs = ms - inHour;
      hourIso = new Date(hourMs).toISOString().slice(0, 14);
    }
    return `${hourIso}${MIN_SEC[Math.floor(inHour / 1000)]}${MILLIS[inHour % 1000]}`;
  };
}

/** What differs between two lines; the rest of a canonical line is a template. */
interface LineParts {
  call: string;
  tokens: string;
  extra: string;
  selector: string;
  tenant: string;
  environment: string;
  trace: string;
  status: string;
}

type LineOf = (n: number, ms: number, address: string, p: LineParts) => string;

function lineWriter(): LineOf {
  const iso = isoFormatter();
  return (n, ms, address, p) =>
    `{"id":"bench-${n}","source":"bench","time":"${iso(ms)}",${p.call},${p.tokens},"requests":1,${p.extra},${p.selector},` +
    `"tenant":${p.tenant},"environment":"${p.environment}",${p.trace},${p.status},"client_address":"${address}","reported_cost":null}\n`;
}

/** One agent trace of TRACE_SIZE lines: workflow, agent, retrieval, chat and tool, started by `who`. */
function traceLines(
  line: LineOf,
  at: { n: number; ms: number },
  who: BenchIdentity,
  tenant: string,
  ids: { trace: string; span: (k: number) => string; agent: string; tokens: number },
): string {
  const traceOf = (k: number, parent: number | null) =>
    `"trace_id":"${ids.trace}","span_id":"${ids.span(k)}","parent_span_id":${parent === null ? 'null' : `"${ids.span(parent)}"`}`;
  const platform = `"api_key":null,"service":"agent-platform","agent":"${ids.agent}","project":null`;
  const inner = (
    k: number,
    parent: number,
    offset: number,
    call: string,
    selector: string,
    extra = NO_EXTRA,
  ) =>
    line(at.n + k, at.ms + offset, who.address, {
      call,
      tokens: k === 3 ? tokensOf(ids.tokens, false) : ZERO,
      extra,
      selector,
      tenant: 'null',
      environment: 'production',
      trace: traceOf(k, parent),
      status: OK,
    });
  const root = line(at.n, at.ms, who.address, {
    call: '"provider":null,"model":null,"operation":"invoke_workflow"',
    tokens: ZERO,
    extra: NO_EXTRA,
    selector: who.selector,
    tenant,
    environment: who.environment,
    trace: traceOf(0, null),
    status: OK,
  });
  return (
    root +
    inner(1, 0, 3, '"provider":"openai","model":"gpt-4o","operation":"invoke_agent"', platform) +
    inner(
      2,
      1,
      9,
      '"provider":null,"model":null,"operation":"retrieval"',
      RAG,
      '"tool":null,"data_source":"kb-main"',
    ) +
    inner(3, 1, 60, '"provider":"openai","model":"gpt-4o","operation":"chat"', platform) +
    inner(
      4,
      1,
      900,
      '"provider":null,"model":null,"operation":"execute_tool"',
      PLAIN,
      '"tool":"web_search","data_source":null',
    )
  );
}

/** One model call outside any trace; about one in a hundred fails with a 429. */
function directLine(
  line: LineOf,
  at: { n: number; ms: number },
  who: BenchIdentity,
  tenant: string,
  x: number,
  rng: Random,
): string {
  const call = CALL_TABLE[x % CALL_TABLE.length] ?? CALLS[0];
  const failed = x % 100 === 37;
  return line(at.n, at.ms, who.address, {
    call: call?.head ?? '',
    tokens: failed ? ZERO : tokensOf(rng.u32(), call?.embed ?? false),
    extra: NO_EXTRA,
    selector: who.selector,
    tenant,
    environment: who.environment,
    trace: NO_TRACE,
    status: failed ? FAILED : OK,
  });
}

function benchConfigYaml(registry: Registry, opts: CanonicalOptions): string {
  const gpuWeights: Record<string, number> = {};
  registry.teams.slice(0, 3).forEach((t, i) => {
    gpuWeights[t.id] = [50, 30, 20][i] ?? 10;
  });
  return renderConfigYaml(registry, {
    header: `# tally benchmark registry: ${opts.identities} identities, ${opts.applications} applications, ${opts.tenants} tenants (seed ${opts.seed}).`,
    budgets: [],
    pools: { vectordb: '3000.00', platform: '1000.00', gpu: '5000.00', gpuWeights },
    access: [],
  });
}

function checkOptions(opts: CanonicalOptions): void {
  if (!Number.isInteger(opts.events) || opts.events < 0)
    throw new RangeError(`events must be a whole number, got ${opts.events}`);
  if (opts.identities < 1) throw new RangeError('at least one identity is needed');
  if (opts.agentShare < 0 || opts.agentShare > 1) throw new RangeError('agentShare must be between 0 and 1');
}

export async function writeCanonicalJsonl(
  path: string,
  opts: CanonicalOptions,
): Promise<{ configYaml: string }> {
  checkOptions(opts);
  const rng = new Random(opts.seed);
  const { registry, bench } = buildRegistry(opts, rng);
  const { start, end } = monthBounds(opts.month);
  const step = (end - start) / Math.max(1, opts.events);
  const traceChance = opts.agentShare / (TRACE_SIZE - (TRACE_SIZE - 1) * opts.agentShare);
  const tracePrefix = rng.hex(8);
  const sink = await FileSink.create(path);
  const line = lineWriter();
  let n = 0;
  let traces = 0;
  while (n < opts.events) {
    const at = { n, ms: Math.floor(start + n * step) };
    const x = rng.u32();
    const who = bench[Math.floor(bench.length * rng.next() ** 2)] as BenchIdentity;
    const tenant =
      who.tenants.length > 0 && (x & 63) !== 0 ? (who.tenants[x % who.tenants.length] as string) : 'null';
    if (opts.events - n >= TRACE_SIZE && rng.next() < traceChance) {
      const trace = `${tracePrefix}${(traces++).toString(16).padStart(24, '0')}`;
      const spanBase = (traces & 0xffffffffff).toString(16).padStart(15, '0');
      const agent = AGENTS[x % AGENTS.length] as string;
      const ids = { trace, span: (k: number) => `${spanBase}${k}`, agent, tokens: rng.u32() };
      sink.write(traceLines(line, at, who, tenant, ids));
      n += TRACE_SIZE;
    } else {
      sink.write(directLine(line, at, who, tenant, x, rng));
      n++;
    }
    if ((n & 1023) < TRACE_SIZE) await sink.maybeFlush();
  }
  await sink.close();
  return { configYaml: benchConfigYaml(registry, opts) };
}
