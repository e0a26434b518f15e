import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { DemoFiles } from '../../src/demo/index.js';
import {
  demo,
  globMatch,
  otlpSpans,
  readYaml,
  removeTempDirs,
  type Span,
  type YamlIdentity,
} from './helpers.js';

afterAll(removeTempDirs);

const EVENTS = 20_000;
const HOUR = 3_600_000;
const ms = (nanos: string) => Number(BigInt(nanos) / 1_000_000n);

let files: DemoFiles;
let spans: Span[];
let yaml: ReturnType<typeof readYaml>;
let identity: (id: string) => YamlIdentity;

beforeAll(async () => {
  files = await demo(EVENTS);
  spans = otlpSpans(files);
  yaml = readYaml(files.config);
  identity = (id) => {
    const found = yaml.identities.find((i) => i.id === id);
    if (!found) throw new Error(`no identity ${id}`);
    return found;
  };
});

function litellmRows(): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const f of files.files.filter((x) => x.format === 'litellm')) {
    const text = readFileSync(f.path, 'utf8');
    if (f.path.endsWith('.ndjson')) {
      for (const line of text.split('\n').filter(Boolean)) rows.push(JSON.parse(line));
    }
  }
  return rows;
}

function csvRows(): number {
  const csv = files.files.find((f) => f.path.endsWith('.csv'));
  if (!csv) return 0;
  // Embedded newlines never occur: JSON strings in the export are single-line.
  return readFileSync(csv.path, 'utf8').split('\n').filter(Boolean).length - 1;
}

function reportResults(): number {
  let n = 0;
  for (const f of files.files.filter((x) => x.format === 'openai-usage' || x.format === 'anthropic-usage')) {
    const doc = JSON.parse(readFileSync(f.path, 'utf8')) as { data: Array<{ results: unknown[] }> };
    for (const bucket of doc.data) n += bucket.results.length;
  }
  return n;
}

describe('tally.yaml', () => {
  it('has every section of SPEC §2 and the organisation the demo promises', () => {
    for (const key of [
      'store',
      'currency',
      'cost_centers',
      'teams',
      'applications',
      'tenants',
      'identities',
      'prices',
      'shared_pools',
      'policy',
      'budgets',
      'access',
    ]) {
      expect(yaml, key).toHaveProperty(key);
    }
    expect(yaml.store).toBe('./tally.duckdb');
    expect((yaml.cost_centers as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect((yaml.teams as unknown[]).length).toBeGreaterThanOrEqual(7);
    expect((yaml.applications as unknown[]).length).toBeGreaterThanOrEqual(14);
    expect((yaml.tenants as unknown[]).length).toBeGreaterThanOrEqual(6);
    expect(yaml.identities.length).toBeGreaterThanOrEqual(35);
    expect(new Set(yaml.identities.map((i) => i.kind))).toEqual(
      new Set(['api_key', 'service_account', 'agent', 'workload']),
    );
    expect(new Set(yaml.identities.map((i) => i.environment))).toEqual(
      new Set(['production', 'experimentation']),
    );
    expect(yaml.identities.filter((i) => i.shared).map((i) => i.id)).toEqual(
      expect.arrayContaining(['nhi-agent-platform', 'nhi-rag-service']),
    );
    const pools = yaml.shared_pools as Array<{ level: string; method: string; basis?: string }>;
    expect(pools.map((p) => `${p.level}/${p.method}/${p.basis ?? ''}`)).toEqual([
      'application/proportional/retrieval',
      'team/even/',
      'team/weighted/',
    ]);
    expect(yaml.policy).toEqual({
      workflow_rollup: 'invoker',
      experimentation: 'showback',
      disputed: 'hold',
    });
  });

  it('dates the story: a mid-month owner change, a cost-center move, a late offboarding', () => {
    const apps = yaml.applications as Array<{
      id: string;
      owner: Array<{ team: string; from: string; until?: string }>;
    }>;
    const bot = apps.find((a) => a.id === 'app-support-bot');
    expect(bot?.owner).toEqual([
      { team: 'team-cx', from: '2026-01-01', until: '2026-10-15' },
      { team: 'team-search', from: '2026-10-15' },
    ]);
    const teams = yaml.teams as Array<{ id: string; cost_center: unknown; offboarded?: string }>;
    expect(teams.find((t) => t.id === 'team-research')?.cost_center).toHaveLength(2);
    expect(teams.find((t) => t.id === 'team-marketing')?.offboarded).toBe('2026-10-28');
  });

  it('is a valid configuration for tally', async () => {
    const { config } = await loadConfig(files.config);
    expect(config.identities).toHaveLength(yaml.identities.length);
    expect(config.sharedPools).toHaveLength(3);
    expect(config.budgets.length).toBeGreaterThanOrEqual(2);
    expect(config.access.map((a) => a.role).sort()).toEqual(['admin', 'finance', 'ingest', 'team']);
  });

  it('stores only token hashes; tokens.txt holds the raw tokens that hash to them', () => {
    const text = readFileSync(path.join(path.dirname(files.config), 'tokens.txt'), 'utf8');
    const raw = text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t')[1] ?? '');
    expect(raw).toHaveLength(4);
    const hashes = (yaml.access as Array<{ token_sha256: string }>).map((a) => a.token_sha256);
    expect(raw.map((t) => createHash('sha256').update(t).digest('hex'))).toEqual(hashes);
    expect(readFileSync(files.config, 'utf8')).not.toContain(raw[0]);
  });
});

describe('OTLP traces', () => {
  it('use the OTLP/HTTP JSON encoding: hex ids, int64 as strings, AnyValue attributes', () => {
    expect(spans.length).toBeGreaterThan(EVENTS / 2);
    const bad: string[] = [];
    const check = (ok: boolean, what: string, s: Span) => {
      if (!ok && bad.length < 5) bad.push(`${what}: ${JSON.stringify(s).slice(0, 200)}`);
    };
    for (const s of spans) {
      check(/^[0-9a-f]{32}$/.test(s.traceId), 'traceId', s);
      check(/^[0-9a-f]{16}$/.test(s.spanId), 'spanId', s);
      check(s.parentSpanId === undefined || /^[0-9a-f]{16}$/.test(s.parentSpanId), 'parentSpanId', s);
      check(/^\d{19}$/.test(s.startTimeUnixNano) && /^\d{19}$/.test(s.endTimeUnixNano), 'times', s);
      check(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano), 'end before start', s);
      for (const a of s.attributes) {
        const kinds = Object.keys(a.value);
        check(
          kinds.length === 1 && ['stringValue', 'intValue', 'arrayValue'].includes(kinds[0] ?? ''),
          'AnyValue',
          s,
        );
        if ('intValue' in a.value) check(/^\d+$/.test(String(a.value.intValue)), 'intValue', s);
      }
      check(typeof s.attrs['gen_ai.operation.name'] === 'string', 'gen_ai.operation.name', s);
    }
    expect(bad).toEqual([]);
  });

  it('fall inside the month', () => {
    const start = Date.UTC(2026, 9, 1);
    const end = Date.UTC(2026, 10, 1);
    for (const s of spans) {
      expect(ms(s.startTimeUnixNano)).toBeGreaterThanOrEqual(start);
      expect(ms(s.startTimeUnixNano)).toBeLessThan(end);
    }
  });

  it('have agent workflows: an application root, invoke_agent on the shared platform, children without tenant', () => {
    const byId = new Map(spans.map((s) => [`${s.traceId}:${s.spanId}`, s]));
    const childrenOf = new Map<string, Span[]>();
    for (const s of spans) {
      const key = `${s.traceId}:${s.parentSpanId}`;
      childrenOf.set(key, [...(childrenOf.get(key) ?? []), s]);
    }
    const serviceShared = new Map(
      yaml.identities.flatMap((i) =>
        i.match.filter((m) => m.service && !m.agent).map((m) => [m.service, i.shared === true]),
      ),
    );
    const agentSpans = spans.filter((s) => s.attrs['gen_ai.operation.name'] === 'invoke_agent');
    expect(agentSpans.length).toBeGreaterThan(50);
    const childOps = new Set<string>();
    for (const a of agentSpans) {
      expect(a.service).toBe('agent-platform');
      expect(a.attrs['gen_ai.agent.id']).toBeTypeOf('string');
      const root = byId.get(`${a.traceId}:${a.parentSpanId}`);
      expect(root?.attrs['gen_ai.operation.name']).toBe('invoke_workflow');
      expect(root?.parentSpanId).toBeUndefined();
      expect(serviceShared.get(root?.service ?? '')).toBe(false);
      const children = childrenOf.get(`${a.traceId}:${a.spanId}`) ?? [];
      expect(children.length).toBeGreaterThan(0);
      let input = 0;
      for (const c of children) {
        childOps.add(
          `${c.attrs['gen_ai.operation.name']}:${c.attrs['gen_ai.tool.name'] ?? c.attrs['gen_ai.data_source.id'] ?? ''}`,
        );
        expect(c.attrs['tenant.id']).toBeUndefined();
        expect(serviceShared.get(c.service)).toBe(true);
        if (c.attrs['gen_ai.operation.name'] === 'chat')
          input += Number(c.attrs['gen_ai.usage.input_tokens'] ?? 0);
      }
      // The agent span reports the aggregate of its model calls.
      expect(Number(a.attrs['gen_ai.usage.input_tokens'])).toBe(input);
    }
    expect(childOps).toEqual(
      new Set([
        'chat:',
        'embeddings:',
        'execute_tool:web_search',
        'execute_tool:run_sql',
        'retrieval:kb-main',
      ]),
    );
  });

  it('put about a fifth of all events in agent traces', () => {
    const agentTraces = new Set(
      spans.filter((s) => s.attrs['gen_ai.operation.name'] === 'invoke_agent').map((s) => s.traceId),
    );
    const inTraces = spans.filter((s) => agentTraces.has(s.traceId)).length;
    expect(inTraces / files.events).toBeGreaterThan(0.17);
    expect(inTraces / files.events).toBeLessThan(0.23);
  });

  it('deliver some child spans in an earlier file than their parents', () => {
    const fileOf = new Map(spans.map((s) => [`${s.traceId}:${s.spanId}`, s.file]));
    const early = spans.filter(
      (s) => s.parentSpanId && (fileOf.get(`${s.traceId}:${s.parentSpanId}`) ?? -1) > s.file,
    );
    expect(early.length).toBeGreaterThan(0);
  });

  it('carry cache reads, a model no catalog prices, and an identity seen in two environments', () => {
    expect(spans.some((s) => Number(s.attrs['gen_ai.usage.cache_read.input_tokens'] ?? 0) > 0)).toBe(true);
    expect(spans.some((s) => s.attrs['gen_ai.request.model'] === 'llama-ft-support-v2')).toBe(true);
    const rerank = spans.filter((s) => s.service === 'search-rerank');
    const envs = new Set(
      rerank.map((s) => s.attrs['deployment.environment.name'] ?? s.resource['deployment.environment.name']),
    );
    expect(envs).toEqual(new Set(['production', 'experimentation']));
  });

  it('include a few calls with an API key that is not in the registry', () => {
    const known = new Set(yaml.identities.flatMap((i) => i.match.map((m) => m.api_key)).filter(Boolean));
    const unknown = spans.filter((s) => {
      const key = s.attrs['tally.api_key'];
      return typeof key === 'string' && !key.startsWith('sk-') && !known.has(key);
    });
    expect(unknown.length).toBeGreaterThanOrEqual(5);
  });
});

describe('the incident', () => {
  it('is a production api_key identity compromised mid-month', () => {
    const id = identity(files.incident.identity);
    expect(id.kind).toBe('api_key');
    expect(id.environment).toBe('production');
    expect(id.match).toEqual([{ api_key: files.incident.apiKey }]);
    expect(id.lifecycle).toContainEqual({ at: files.incident.compromisedAt, event: 'compromised' });
    expect(files.incident.compromisedAt).toBe('2026-10-20T03:00:00Z');
  });

  it('shows night bursts from new addresses with a premium model, errors first, and spoofed tenants', () => {
    const id = identity(files.incident.identity);
    const compromised = Date.parse(files.incident.compromisedAt);
    const mine = spans.filter((s) => s.attrs['tally.api_key'] === files.incident.apiKey);
    const allowed = (model: string) => (id.models ?? []).some((g) => globMatch(g, model));
    const attack = mine.filter((s) => !allowed(String(s.attrs['gen_ai.request.model'])));
    const usual = mine.filter((s) => allowed(String(s.attrs['gen_ai.request.model'])));
    expect(attack.length).toBeGreaterThan(EVENTS * 0.02);
    const usualAddresses = new Set(usual.map((s) => s.attrs['client.address']));
    const tenants = new Set(id.tenants);
    let spoofed = 0;
    for (const s of attack) {
      const t = ms(s.startTimeUnixNano);
      const hour = new Date(t).getUTCHours();
      expect(hour).toBeGreaterThanOrEqual(1);
      expect(hour).toBeLessThan(5);
      expect(t).toBeGreaterThan(compromised - 2 * HOUR);
      expect(usualAddresses.has(s.attrs['client.address'] ?? '')).toBe(false);
      const claim = s.attrs['tenant.id'];
      if (typeof claim === 'string' && !tenants.has(claim)) spoofed++;
    }
    expect(spoofed).toBeGreaterThan(attack.length / 2);
    expect(attack.some((s) => ms(s.startTimeUnixNano) < compromised)).toBe(true);

    const ordered = attack
      .map((s) => ({ t: ms(s.startTimeUnixNano), error: s.attrs['error.type'] }))
      .sort((a, b) => a.t - b.t);
    expect(ordered[0]?.error).toBe('401');
    expect(new Set(ordered.map((o) => o.error))).toEqual(new Set(['401', '403', '429', undefined]));
    // A burst: many requests within ten minutes.
    const windowed = ordered.map((o, i) => ordered.slice(i).filter((p) => p.t - o.t < 10 * 60_000).length);
    expect(Math.max(...windowed)).toBeGreaterThanOrEqual(40);
  });
});

describe('LiteLLM spend logs', () => {
  it('have the SpendLogs fields and pass tenants in all three ways', () => {
    const rows = litellmRows();
    expect(rows.length).toBeGreaterThan(EVENTS * 0.12);
    const keys = new Set(yaml.identities.flatMap((i) => i.match.map((m) => m.api_key)));
    for (const r of rows.slice(0, 500)) {
      for (const f of [
        'request_id',
        'call_type',
        'api_key',
        'spend',
        'startTime',
        'endTime',
        'model',
        'model_group',
      ]) {
        expect(r, f).toHaveProperty(f);
      }
      expect(r.api_key).toMatch(/^[0-9a-f]{64}$/);
      // The registry names a LiteLLM key as LiteLLM shows it: the whole 64-hex SHA-256.
      expect(keys.has(String(r.api_key))).toBe(true);
      expect(['acompletion', 'aembedding']).toContain(r.call_type);
      expect(['success', 'failure']).toContain(r.status);
    }
    const meta = (r: Record<string, unknown>) =>
      r.metadata as { spend_logs_metadata: { tenant?: string } | null };
    expect(rows.some((r) => meta(r).spend_logs_metadata?.tenant)).toBe(true);
    expect(rows.some((r) => (r.request_tags as string[]).some((t) => t.startsWith('tenant:')))).toBe(true);
    expect(rows.some((r) => String(r.end_user).startsWith('tenant-'))).toBe(true);
    expect(rows.some((r) => r.status === 'failure')).toBe(true);
  });

  it('include a CSV table export with metadata and request_tags as JSON strings', () => {
    const csv = files.files.find((f) => f.path.endsWith('.csv'));
    const [header, first] = readFileSync(csv?.path ?? '', 'utf8').split('\n');
    expect(header?.split(',')).toEqual(
      expect.arrayContaining(['request_id', 'metadata', 'request_tags', 'api_key']),
    );
    expect(first).toMatch(/,"\{""user_api_key_alias""/);
    expect(csvRows()).toBeGreaterThan(100);
  });
});

describe('generation', () => {
  it('writes about as many events as asked for and says how many', () => {
    const total = spans.length + litellmRows().length + csvRows() + reportResults();
    expect(total).toBe(files.events);
    expect(Math.abs(files.events - EVENTS) / EVENTS).toBeLessThan(0.05);
  });

  it('is deterministic: the same seed writes the same bytes, another seed does not', async () => {
    const [a, b, c] = await Promise.all([demo(3_000, 7), demo(3_000, 7), demo(3_000, 8)]);
    const contents = (f: DemoFiles) => {
      const dir = path.dirname(f.config);
      const out: Record<string, string> = {};
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
        }
      };
      walk(dir);
      return out;
    };
    expect(Object.keys(contents(a)).length).toBeGreaterThan(10);
    expect(contents(a)).toEqual(contents(b));
    expect(contents(a)).not.toEqual(contents(c));
    expect(Math.abs(a.events - 3_000) / 3_000).toBeLessThan(0.05);
  });

  it('refuses too few events', async () => {
    await expect(demo(10)).rejects.toThrow(RangeError);
  });
});
