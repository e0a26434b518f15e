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

export async function writeCanonicalJsonl(
  path: string,
  opts: CanonicalOptions,
): Promise<{ configYaml: string }> {
  if (!Number.isInteger(opts.events) || opts.events < 0)
    throw new RangeError(`events must be a whole number, got ${opts.events}`);
  if (opts.identities < 1) throw new RangeError('at least one identity is needed');
  if (opts.agentShare < 0 || opts.agentShare > 1) throw new RangeError('agentShare must be between 0 and 1');
  const rng = new Random(opts.seed);
  const { registry, bench } = buildRegistry(opts, rng);
  const { start, end } = monthBounds(opts.month);
  const step = (end - start) / Math.max(1, opts.events);
  const traceChance = opts.agentShare / (TRACE_SIZE - (TRACE_SIZE - 1) * opts.agentShare);
  const tracePrefix = rng.hex(8);
  const sink = await FileSink.create(path);

  let hourMs = -1;
  let hourIso = '';
  // toISOString per line would be the generator's largest cost; format the hour once and look up the rest.
  const iso = (ms: number) => {
    const inHour = ms % 3_600_000;
    if (ms - inHour !== hourMs) {
      hourMs = ms - inHour;
      hourIso = new Date(hourMs).toISOString().slice(0, 14);
    }
    return `${hourIso}${MIN_SEC[Math.floor(inHour / 1000)]}${MILLIS[inHour % 1000]}`;
  };
  const line = (
    n: number,
    ms: number,
    call: string,
    tokens: string,
    extra: string,
    selector: string,
    tenant: string,
    environment: string,
    trace: string,
    status: string,
    address: string,
  ) =>
    `{"id":"bench-${n}","source":"bench","time":"${iso(ms)}",${call},${tokens},"requests":1,${extra},${selector},` +
    `"tenant":${tenant},"environment":"${environment}",${trace},${status},"client_address":"${address}","reported_cost":null}\n`;
  const NO_EXTRA = '"tool":null,"data_source":null';
  const NO_TRACE = '"trace_id":null,"span_id":null,"parent_span_id":null';
  const OK = '"status":"ok","error_type":null';
  const ZERO =
    '"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0';
  const tokensOf = (x: number, embed: boolean) => {
    const input = 200 + (x % 3000);
    const output = embed ? 0 : 40 + ((x >>> 12) % 800);
    const cacheRead = !embed && (x & 7) === 0 ? input >> 1 : 0;
    return `"input_tokens":${input},"output_tokens":${output},"cache_read_tokens":${cacheRead},"cache_write_tokens":0,"reasoning_tokens":0`;
  };

  let n = 0;
  let traces = 0;
  while (n < opts.events) {
    const ms = Math.floor(start + n * step);
    const x = rng.u32();
    const who = bench[Math.floor(bench.length * rng.next() ** 2)] as BenchIdentity;
    const tenant =
      who.tenants.length > 0 && (x & 63) !== 0 ? (who.tenants[x % who.tenants.length] as string) : 'null';
    if (opts.events - n >= TRACE_SIZE && rng.next() < traceChance) {
      const trace = `${tracePrefix}${(traces++).toString(16).padStart(24, '0')}`;
      const span = (k: number) => `${(traces & 0xffffffffff).toString(16).padStart(15, '0')}${k}`;
      const ids = (k: number, parent: number | null) =>
        `"trace_id":"${trace}","span_id":"${span(k)}","parent_span_id":${parent === null ? 'null' : `"${span(parent)}"`}`;
      const agent = AGENTS[x % AGENTS.length] as string;
      const platform = `"api_key":null,"service":"agent-platform","agent":"${agent}","project":null`;
      const plain = '"api_key":null,"service":"agent-platform","agent":null,"project":null';
      const rag = '"api_key":null,"service":"rag-service","agent":null,"project":null';
      const env = 'production';
      const y = rng.u32();
      sink.write(
        line(
          n,
          ms,
          '"provider":null,"model":null,"operation":"invoke_workflow"',
          ZERO,
          NO_EXTRA,
          who.selector,
          tenant,
          who.environment,
          ids(0, null),
          OK,
          who.address,
        ) +
          line(
            n + 1,
            ms + 3,
            '"provider":"openai","model":"gpt-4o","operation":"invoke_agent"',
            ZERO,
            NO_EXTRA,
            platform,
            'null',
            env,
            ids(1, 0),
            OK,
            who.address,
          ) +
          line(
            n + 2,
            ms + 9,
            '"provider":null,"model":null,"operation":"retrieval"',
            ZERO,
            '"tool":null,"data_source":"kb-main"',
            rag,
            'null',
            env,
            ids(2, 1),
            OK,
            who.address,
          ) +
          line(
            n + 3,
            ms + 60,
            '"provider":"openai","model":"gpt-4o","operation":"chat"',
            tokensOf(y, false),
            NO_EXTRA,
            platform,
            'null',
            env,
            ids(3, 1),
            OK,
            who.address,
          ) +
          line(
            n + 4,
            ms + 900,
            '"provider":null,"model":null,"operation":"execute_tool"',
            ZERO,
            '"tool":"web_search","data_source":null',
            plain,
            'null',
            env,
            ids(4, 1),
            OK,
            who.address,
          ),
      );
      n += TRACE_SIZE;
    } else {
      const call = CALL_TABLE[x % CALL_TABLE.length] ?? CALLS[0];
      const failed = x % 100 === 37;
      sink.write(
        line(
          n,
          ms,
          call?.head ?? '',
          failed ? ZERO : tokensOf(rng.u32(), call?.embed ?? false),
          NO_EXTRA,
          who.selector,
          tenant,
          who.environment,
          NO_TRACE,
          failed ? '"status":"error","error_type":"429"' : OK,
          who.address,
        ),
      );
      n++;
    }
    if ((n & 1023) < TRACE_SIZE) await sink.maybeFlush();
  }
  await sink.close();

  const teamIds = registry.teams.map((t) => t.id);
  const gpuWeights: Record<string, number> = {};
  teamIds.slice(0, 3).forEach((t, i) => {
    gpuWeights[t] = [50, 30, 20][i] ?? 10;
  });
  const configYaml = renderConfigYaml(registry, {
    header: `# tally benchmark registry: ${opts.identities} identities, ${opts.applications} applications, ${opts.tenants} tenants (seed ${opts.seed}).`,
    budgets: [],
    pools: { vectordb: '3000.00', platform: '1000.00', gpu: '5000.00', gpuWeights },
    access: [],
  });
  return { configYaml };
}
