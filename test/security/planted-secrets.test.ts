// Secrets planted in every string field of every input format, in every
// common shape (whole keys, keys with blanks around them, `Bearer` headers,
// `key=` pairs, JSON in a string, keys inside the ids built from usage-report
// groups), then looked for in the store, every export and everything the
// commands print: none may come back (SPEC §3). The fingerprints must.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** One secret per shape; each `raw` is what must never be written. */
const SECRETS = {
  openai: 'sk-proj-PLANTEDopenai0123456789abcdefXYZ',
  anthropic: 'sk-ant-api03-PLANTEDanthropic0123456789-_abcdefghij',
  aws: 'AKIAPLANTED0AWS12345',
  github: 'ghp_PLANTEDgithub0123456789abcdefghijklmn',
  google: 'AIzaPLANTEDgoogle0123456789abcdefghijkl',
  bearer: 'PLANTEDbearerToken0123456789',
  named: 'PLANTEDnamedValue0123',
} as const;
const RAW = Object.values(SECRETS);

/** The shapes a value may carry a secret in. */
const shapes = (s: string): string[] => [
  s,
  `  ${s}\t`,
  `Bearer ${s}`,
  `Authorization: Bearer ${s}`,
  `https://gw.example/v1?key=${s}&x=1`,
  `{"api_key": "${s}"}`,
  `trace/${s}/end`,
];

/** A long supply of planted values, each distinct, cycling through secrets and shapes. */
function* planted(): Generator<string> {
  for (;;) {
    for (const s of [SECRETS.openai, SECRETS.anthropic, SECRETS.aws, SECRETS.github, SECRETS.google])
      yield* shapes(s);
    yield `Authorization: Bearer ${SECRETS.bearer}`;
    yield `api_key=${SECRETS.named}`;
    yield `{"password":"${SECRETS.named}"}`;
  }
}

const CANONICAL_TEXT = [
  'id',
  'source',
  'provider',
  'model',
  'operation',
  'tool',
  'data_source',
  'api_key',
  'service',
  'agent',
  'project',
  'tenant',
  'environment',
  'trace_id',
  'span_id',
  'parent_span_id',
  'error_type',
  'client_address',
] as const;

/** Events with a planted value in every text field; `bulk`: none with a brace, so DuckDB's bulk reader takes the file. */
function canonicalEvents(n: number, bulk = false): Array<Record<string, unknown>> {
  const all = planted();
  const values = {
    next: () => {
      for (;;) {
        const v = all.next();
        if (!bulk || !v.value.includes('{')) return v;
      }
    },
  };
  return Array.from({ length: n }, (_, i) => {
    const e: Record<string, unknown> = {
      time: `2026-10-0${1 + (i % 9)}T10:00:00Z`,
      input_tokens: 1000,
      output_tokens: 100,
      status: i % 2 === 0 ? 'ok' : 'error',
    };
    for (const f of CANONICAL_TEXT) e[f] = values.next().value;
    return e;
  });
}

const csvCell = (v: unknown) => (typeof v === 'string' ? `"${v.replaceAll('"', '""')}"` : String(v));

function otlp(): string {
  const values = planted();
  const s = (key: string) => ({ key, value: { stringValue: values.next().value } });
  const spans = Array.from({ length: 6 }, (_, i) => ({
    traceId: `4bf92f3577b34da6a3ce929d0e0e47${String(i).padStart(2, '0')}`,
    spanId: `00f067aa0ba902${String(i).padStart(2, '0')}`,
    name: values.next().value,
    startTimeUnixNano: String(Date.parse('2026-10-03T10:00:00Z') * 1e6 + i),
    endTimeUnixNano: String(Date.parse('2026-10-03T10:00:01Z') * 1e6),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      s('gen_ai.provider.name'),
      s('gen_ai.request.model'),
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '100' } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: '10' } },
      s('tally.api_key'),
      s('gen_ai.agent.id'),
      s('tenant.id'),
      s('error.type'),
      s('client.address'),
      s('gen_ai.tool.name'),
      s('gen_ai.data_source.id'),
      s('deployment.environment.name'),
    ],
  }));
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: [s('service.name')] }, scopeSpans: [{ spans }] }],
  });
}

function litellm(): string {
  const values = planted();
  const v = () => values.next().value;
  return Array.from({ length: 6 }, (_, i) =>
    JSON.stringify({
      request_id: v(),
      call_type: i === 0 ? '' : 'acompletion',
      api_key: v(),
      spend: 0.001,
      prompt_tokens: 100,
      completion_tokens: 10,
      startTime: '2026-10-04T10:00:00Z',
      model: v(),
      custom_llm_provider: v(),
      end_user: v(),
      requester_ip_address: v(),
      agent_id: v(),
      request_tags: [`tenant:${v()}`],
      metadata: { spend_logs_metadata: { tenant: v() }, error_information: { error_class: v() } },
      messages: [{ role: 'user', content: `my key is ${SECRETS.openai}` }],
    }),
  ).join('\n');
}

function openaiUsage(): string {
  const values = planted();
  const v = () => values.next().value;
  const start = Date.parse('2026-10-05T00:00:00Z') / 1000;
  return JSON.stringify({
    object: 'page',
    data: [
      {
        object: 'bucket',
        start_time: start,
        end_time: start + 86_400,
        results: Array.from({ length: 4 }, () => ({
          object: 'organization.usage.completions.result',
          input_tokens: 1000,
          output_tokens: 100,
          num_model_requests: 2,
          project_id: v(),
          user_id: v(),
          api_key_id: v(),
          model: v(),
          batch: false,
        })),
      },
    ],
    has_more: false,
    next_page: null,
  });
}

function anthropicUsage(): string {
  const values = planted();
  const v = () => values.next().value;
  return JSON.stringify({
    data: [
      {
        starting_at: '2026-10-06T00:00:00Z',
        ending_at: '2026-10-07T00:00:00Z',
        results: Array.from({ length: 4 }, () => ({
          uncached_input_tokens: 1000,
          cache_read_input_tokens: 0,
          output_tokens: 100,
          api_key_id: v(),
          workspace_id: v(),
          model: v(),
          service_tier: 'standard',
        })),
      },
    ],
    has_more: false,
    next_page: null,
  });
}

const CONFIG = `
store: ./tally.duckdb
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-a, kind: api_key, application: app-a, match: [{ api_key: "${sha(SECRETS.openai)}" }] }
prices:
  models:
    - { provider: "${sha(SECRETS.anthropic)}", model: "${sha(SECRETS.aws)}", from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
`;

let dir: string;
let printed = '';

async function run(...args: string[]): Promise<number> {
  return main([...args, '--config', path.join(dir, 'tally.yaml')]);
}

async function storeDump(file: string): Promise<string> {
  const db = await DuckDBInstance.create(file);
  const conn = await db.connect();
  try {
    const tables = (
      await conn.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'`)
    ).getRowObjectsJS();
    let text = '';
    for (const t of tables) {
      const rows = (await conn.runAndReadAll(`SELECT * FROM "${String(t.table_name)}"`)).getRowObjectsJS();
      text += JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    }
    return text;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-planted-'));
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    printed += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    printed += String(s);
    return true;
  });
  await writeFile(path.join(dir, 'tally.yaml'), CONFIG);
  const events = canonicalEvents(24);
  const jsonl = events.slice(0, 12).map((e) => JSON.stringify(e));
  const header = Object.keys(events[12] as object);
  const csv = [header.join(','), ...events.slice(12).map((e) => header.map((h) => csvCell(e[h])).join(','))];
  const bad = {
    ...events[0],
    id: `bad-${SECRETS.openai}`,
    input_tokens: -1,
    api_key: `Bearer ${SECRETS.bearer}`,
  };
  const inputs: Array<[string, string, string[]]> = [
    ['events.jsonl', `${jsonl.join('\n')}\n`, []],
    [
      'bulk.jsonl',
      `${canonicalEvents(12, true)
        .map((e, i) => JSON.stringify({ ...e, source: `bulk-${i}` }))
        .join('\n')}\n`,
      [],
    ],
    ['events.csv', `${csv.join('\n')}\n`, []],
    ['spans.json', otlp(), []],
    ['spend.ndjson', `${litellm()}\n`, ['--format', 'litellm']],
    ['openai.json', openaiUsage(), ['--format', 'openai-usage']],
    ['anthropic.json', anthropicUsage(), ['--format', 'anthropic-usage']],
    ['mixed.jsonl', `${JSON.stringify(bad)}\n${jsonl[0]}\n`, ['--skip-invalid']],
    ['broken.jsonl', `${JSON.stringify(bad)}\n`, []],
  ];
  for (const [name, text, args] of inputs) {
    await writeFile(path.join(dir, name), text);
    await run('ingest', path.join(dir, name), ...args);
  }
  const window = ['--from', '2026-10-01', '--to', '2026-11-01'];
  await run('statement', '--period', '2026-10', '--format', 'focus', '--out', path.join(dir, 'focus.csv'));
  await run('statement', '--period', '2026-10', '--format', 'json');
  await run('statement', '--period', '2026-10', '--format', 'csv');
  await run('replay', ...window, '--format', 'json', '--out', path.join(dir, 'replay.json'));
  await run('replay', ...window, '--format', 'md');
  await run('signals', ...window, '--format', 'json');
  await run('posture', ...window, '--format', 'json');
  await run('replay', ...window, '--identity', `api_key:${SECRETS.github}`);
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('secrets planted in every field of every format', () => {
  it('were ingested: every format stored its events', async () => {
    const dump = await storeDump(path.join(dir, 'tally.duckdb'));
    for (const source of ['otlp', 'litellm', 'openai-usage', 'anthropic-usage'])
      expect(dump).toContain(`"source":"${source}"`);
    expect(printed).toMatch(/12 stored/);
    expect(printed).toMatch(/1 invalid/);
  });

  it('are nowhere in the store, and their fingerprints are', async () => {
    const dump = await storeDump(path.join(dir, 'tally.duckdb'));
    for (const raw of RAW) expect(dump).not.toContain(raw);
    for (const raw of RAW) expect(dump).toContain(sha(raw));
    const bytes = await readFile(path.join(dir, 'tally.duckdb'));
    for (const raw of RAW) expect(bytes.includes(raw)).toBe(false);
  });

  it('are in no file tally wrote (FOCUS CSV, replay, quarantine), and the quarantine is owner-only', async () => {
    const files = (await readdir(dir)).filter((f) => !['tally.yaml', 'tally.duckdb'].includes(f));
    const written = files.filter((f) => /focus|replay|quarantine/.test(f));
    expect(written.sort()).toEqual(['focus.csv', 'mixed.jsonl.quarantine.jsonl', 'replay.json']);
    for (const f of written) {
      const text = await readFile(path.join(dir, f), 'utf8');
      for (const raw of RAW) expect(text, f).not.toContain(raw);
    }
    const focus = await readFile(path.join(dir, 'focus.csv'), 'utf8');
    expect(focus).toContain(sha(SECRETS.openai));
    const q = path.join(dir, 'mixed.jsonl.quarantine.jsonl');
    expect((await stat(q)).mode & 0o777).toBe(0o600);
    expect(await readFile(q, 'utf8')).toContain(sha(SECRETS.bearer));
  });

  it('are in nothing the commands printed: statements, replay, signals, posture, warnings and errors', () => {
    expect(printed).toContain('invalid input');
    expect(printed).toContain(sha(SECRETS.github));
    for (const raw of RAW) expect(printed).not.toContain(raw);
  });

  it('a replay asked for by a raw key shows (and looks for) its fingerprint', () => {
    expect(printed).toContain(`# Replay of identity api\\_key:${sha(SECRETS.github)}`);
  });
});
