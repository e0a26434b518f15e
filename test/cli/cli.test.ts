// The command line end to end, in-process: exit codes, messages, and what
// reaches the store (SPEC §8).
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MIN_ASIDE_BYTES } from '../../src/store/duckdb/json-key-scan.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../security/cli.js';
import { captureCli } from '../setup/cli-capture.js';

const cli = captureCli('tally-cli-');

const CONFIG = `
store: ./tally.duckdb
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, match: [{ api_key: k1 }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
`;

const line = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    source: 'gw',
    time: '2026-10-02T10:00:00Z',
    provider: 'acme',
    model: 'm1',
    operation: 'chat',
    input_tokens: 1_000_000,
    output_tokens: 0,
    api_key: 'k1',
    ...extra,
  });

async function run(...args: string[]): Promise<number> {
  return main([...args, '--config', path.join(cli.dir, 'tally.yaml')]);
}

async function eventCount(): Promise<number> {
  const store = await openStore(path.join(cli.dir, 'tally.duckdb'));
  try {
    return (await store.counters()).events;
  } finally {
    await store.close();
  }
}

describe('tally ingest', () => {
  beforeEach(async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
    await writeFile(path.join(cli.dir, 'good.jsonl'), `${line('a')}\n${line('b')}\n`);
  });

  it('stores a file once; ingesting it again only counts duplicates', async () => {
    expect(await run('ingest', path.join(cli.dir, 'good.jsonl'))).toBe(0);
    expect(cli.out).toMatch(/2 stored, 0 duplicates/);
    expect(await run('ingest', path.join(cli.dir, 'good.jsonl'))).toBe(0);
    expect(cli.out).toMatch(/0 stored, 2 duplicates/);
    const store = await openStore(path.join(cli.dir, 'tally.duckdb'));
    const counters = await store.counters();
    await store.close();
    expect(counters).toMatchObject({ events: 2, duplicates: 2, batches: 1 });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['truncated JSON', `${line('a')}\n{"id": "b", "source": "gw", "ti`, /bad\.jsonl, line 2: .*JSON/i],
    [
      'a negative token count',
      `${line('a')}\n${line('b', { input_tokens: -5 })}\n`,
      /line 2, field input_tokens: .*negative/i,
    ],
    ['an unparseable time', `${line('a', { time: 'yesterday' })}\n`, /line 1, field time/],
    [
      'a time years in the future',
      `${line('a', { time: '2031-01-01T00:00:00Z' })}\n`,
      /line 1, field time: .*future/i,
    ],
    ['a wrong type', `${line('a', { model: 42 })}\n`, /line 1, field model/],
  ];
  for (const [what, text, message] of bad) {
    it(`rejects ${what} with exit code 2, naming the place, and stores nothing`, async () => {
      await writeFile(path.join(cli.dir, 'bad.jsonl'), text);
      expect(await run('ingest', path.join(cli.dir, 'bad.jsonl'))).toBe(2);
      expect(cli.err).toMatch(message);
      expect(await eventCount()).toBe(0);
    });
  }

  it("rejects a misspelt key first seen after the bulk reader's sample, naming line and field", async () => {
    // DuckDB's reader sniffs its columns from the first ~20k records and ignores any other key;
    // the bulk path must still refuse the file as the streaming parser does.
    const lines = Array.from({ length: 30_000 }, (_, i) => line(`e${i}`));
    lines.push(line('late', { input_token: 5 }));
    await writeFile(path.join(cli.dir, 'late.jsonl'), `${lines.join('\n')}\n`);
    expect(await run('ingest', path.join(cli.dir, 'late.jsonl'))).toBe(2);
    expect(cli.err).toMatch(/late\.jsonl, line 30001, field input_token: unknown field/);
    expect(await eventCount()).toBe(0);
  });

  it('refuses a late misspelt key in a file large enough to be scanned in a worker thread (the built CLI)', async () => {
    // 60,000 records (~12 MB, over MIN_ASIDE_BYTES): the built command scans the keys off its main thread.
    const lines = Array.from({ length: 60_000 }, (_, i) => line(`e${i}`, { tenant: 't'.repeat(40) }));
    lines.push(line('late', { modle: 'm1' }));
    const file = path.join(cli.dir, 'large.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    expect((await stat(file)).size).toBeGreaterThan(MIN_ASIDE_BYTES);
    const refused = await runCli(['ingest', file, '--config', path.join(cli.dir, 'tally.yaml')], null);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/large\.jsonl, line 60001, field modle: unknown field/);
    expect(await eventCount()).toBe(0);
    lines.pop();
    await writeFile(file, `${lines.join('\n')}\n`);
    const stored = await runCli(['ingest', file, '--config', path.join(cli.dir, 'tally.yaml')], null);
    expect(stored.code).toBe(0);
    expect(await eventCount()).toBe(60_000);
  });

  it('rejects an unknown format', async () => {
    await writeFile(path.join(cli.dir, 'notes.txt'), 'hello world\n');
    expect(await run('ingest', path.join(cli.dir, 'notes.txt'))).toBe(2);
    expect(cli.err).toMatch(/notes\.txt.*format/i);
    expect(await run('ingest', '--format', 'xml', path.join(cli.dir, 'good.jsonl'))).toBe(2);
    expect(cli.err).toMatch(/--format must be one of auto, otlp, .*, got 'xml'/);
  });

  it('with --skip-invalid stores the valid records and quarantines the rest with reasons', async () => {
    await writeFile(
      path.join(cli.dir, 'mixed.jsonl'),
      `${line('a')}\n${line('b', { input_tokens: -1 })}\n${line('c')}\n`,
    );
    expect(await run('ingest', '--skip-invalid', path.join(cli.dir, 'mixed.jsonl'))).toBe(0);
    expect(cli.out).toMatch(/2 stored, 0 duplicates, 0 superseded, 1 rejected/);
    const q = await readFile(path.join(cli.dir, 'mixed.jsonl.quarantine.jsonl'), 'utf8');
    expect(JSON.parse(q.trim())).toMatchObject({ record: 2, field: 'input_tokens' });
    expect(await eventCount()).toBe(2);
  });

  it('reports an invalid configuration as a whole, with exit code 2', async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), `${CONFIG}\nteams: oops\n`);
    expect(await run('statement', '--period', '2026-10')).toBe(2);
    expect(cli.err).toMatch(/invalid configuration/);
  });
});

describe('tally statement, verify', () => {
  it('prints the statement as JSON with decimal strings and verifies the chain', async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
    await writeFile(path.join(cli.dir, 'good.jsonl'), `${line('a')}\n`);
    await run('ingest', path.join(cli.dir, 'good.jsonl'));
    cli.out = '';
    expect(await run('statement', '--period', '2026-10', '--format', 'json')).toBe(0);
    const s = JSON.parse(cli.out);
    expect(s.totals.effective_cost).toBe('1.00');
    expect(s.lines[0]).toMatchObject({ team: 'team-a', application: 'app-a', status: 'attributed' });
    expect(await run('verify')).toBe(0);
    expect(await run('statement', '--period', '2026-13')).toBe(2);
  });
});

describe('tally demo', () => {
  it('generates, ingests and summarises a month', async () => {
    const demoDir = path.join(cli.dir, 'demo');
    expect(await main(['demo', '--events', '3000', '--dir', demoDir])).toBe(0);
    expect(cli.out).toMatch(/events stored/);
    expect(cli.out).toMatch(/^ +effective\s+\$\d+\.\d\d$/m);
    expect(cli.out).toMatch(/use_after_compromise/);
    // Data Engineering samples its traces: its spend is an estimate with an interval, in the summary and the table.
    expect(cli.out).toMatch(
      /Estimated from sampled traces[^\n]*\n {2}team-data +\$\d+\.\d\d {2}≈ \d+\.\d\d – \d+\.\d\d\n\n/,
    );
    cli.out = '';
    const config = path.join(demoDir, 'tally.yaml');
    expect(await main(['statement', '--config', config, '--period', '2026-10', '--level', 'team'])).toBe(0);
    const estimated = cli.out.split('\n').filter((l) => l.includes('≈'));
    // The header's `estimated` total, then the one estimated line: team-data's.
    expect(estimated.map((l) => l.split(/ +/).slice(0, 2))).toEqual([
      ['estimated', '≈'],
      ['cc-platform', 'team-data'],
    ]);
    // a second run starts from a fresh folder
    expect(await main(['demo', '--events', '3000', '--dir', demoDir])).toBe(0);
  });
});

describe('tally ingest, more inputs', () => {
  beforeEach(async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
  });

  it('reads gzip files, whatever their name, and names a missing file', async () => {
    const { gzipSync } = await import('node:zlib');
    await writeFile(path.join(cli.dir, 'events.jsonl.gz'), gzipSync(`${line('a')}\n${line('b')}\n`));
    expect(await run('ingest', path.join(cli.dir, 'events.jsonl.gz'))).toBe(0);
    expect(cli.out).toMatch(/\(jsonl\): 2 stored/);
    expect(await eventCount()).toBe(2);
    expect(await run('ingest', path.join(cli.dir, 'nope.jsonl'))).toBe(2);
    expect(cli.err).toMatch(/nope\.jsonl: cannot read the file \(no such file\)/);
  });
});

describe('a store that is missing or held (SPEC §8)', () => {
  beforeEach(async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
  });

  it('a reading command on a missing store exits 2 naming the path and creates nothing', async () => {
    const missing = path.join(cli.dir, 'typo.duckdb');
    for (const args of [['verify'], ['statement', '--period', '2026-10'], ['signals'], ['posture']]) {
      cli.err = '';
      expect(await run(...args, '--store', missing)).toBe(2);
      expect(cli.err).toContain(`no store at ${missing}`);
    }
    await expect(readFile(missing)).rejects.toThrow(/ENOENT/);
  });

  it('a command on a store held by another process says so, exit 2', async () => {
    const file = path.join(cli.dir, 'tally.duckdb');
    expect(await run('ingest', '--store', file, await jsonl('a.jsonl', [line('a')]))).toBe(0);
    const { spawn } = await import('node:child_process');
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const db = await DuckDBInstance.create(${JSON.stringify(file)});
         await db.connect(); console.log('ready'); setInterval(() => {}, 1000);`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // A note left by a killed server names another process: its address must not be offered.
    await writeFile(`${file}.server`, `${JSON.stringify({ url: 'http://127.0.0.1:59999', pid: 1 })}\n`);
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      cli.err = '';
      expect(await run('verify', '--store', file)).toBe(2);
      expect(cli.err).toMatch(/is held by another process \(PID \d+/);
      expect(cli.err).toContain('tally serve');
      expect(cli.err).not.toContain('59999');
      expect(cli.err).toContain('--server URL');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('store: in tally.yaml', () => {
  it('takes a duckdb: URL with options, its path relative to the file as a plain path is', async () => {
    await writeFile(
      path.join(cli.dir, 'tally.yaml'),
      CONFIG.replace('store: ./tally.duckdb', 'store: duckdb:./data.duckdb?threads=1&memory_limit=256MB'),
    );
    expect(await run('ingest', await jsonl('a.jsonl', [line('a')]))).toBe(0);
    const store = await openStore(path.join(cli.dir, 'data.duckdb'));
    try {
      expect((await store.counters()).events).toBe(1);
    } finally {
      await store.close();
    }
  });
});

async function jsonl(name: string, lines: string[]): Promise<string> {
  const file = path.join(cli.dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('help, values and clear errors (issue 12 item 3)', () => {
  beforeEach(async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
    await writeFile(path.join(cli.dir, 'good.jsonl'), `${line('a')}\n`);
  });

  it('every command has --help with its options, values and an example, exit 0', async () => {
    const { COMMANDS } = await import('../../src/cli/commands.js');
    for (const name of Object.keys(COMMANDS)) {
      cli.out = '';
      expect(await main([name, '--help']), name).toBe(0);
      expect(cli.out, name).toContain(`usage: tally ${name}`);
      expect(cli.out, name).toContain('example:');
    }
    cli.out = '';
    await main(['statement', '--help']);
    expect(cli.out).toContain('focus-parquet');
    expect(cli.out).toContain('--level L');
    cli.out = '';
    await main(['--help']);
    for (const name of Object.keys(COMMANDS)) expect(cli.out).toContain(`  ${name}`);
  });

  it('an unknown command is named with the nearest one, an object property too', async () => {
    expect(await main(['statment'])).toBe(2);
    expect(cli.err).toContain("unknown command 'statment' (did you mean statement?)");
    for (const name of ['constructor', 'toString', '__proto__']) {
      cli.err = '';
      expect(await main([name]), name).toBe(2);
      expect(cli.err, name).toContain(`unknown command '${name}'`);
    }
  });

  it('an unknown option is named with the nearest one, no raw parser text', async () => {
    expect(await run('statement', '--perod', '2026-10')).toBe(2);
    expect(cli.err).toContain('unknown option --perod (did you mean --period?)');
    expect(cli.err).toContain('tally statement --help');
    expect(cli.err).not.toContain('positional argument');
  });

  it('values are case-insensitive; a wrong one gets a suggestion', async () => {
    expect(await run('ingest', path.join(cli.dir, 'good.jsonl'), '--format', 'JSONL')).toBe(0);
    cli.out = '';
    expect(await run('statement', '--period', '2026-10', '--format', 'JSON')).toBe(0);
    expect(JSON.parse(cli.out).lines).toHaveLength(1);
    cli.err = '';
    expect(await run('statement', '--period', '2026-10', '--format', 'jsn')).toBe(2);
    expect(cli.err).toContain(
      "--format must be one of table, json, csv, html, focus, focus-parquet, got 'jsn' (did you mean json?)",
    );
    cli.err = '';
    expect(await main(['statment'])).toBe(2);
    expect(cli.err).toContain('did you mean statement?');
  });

  it('--out into a missing folder is a usage error naming it, not a stack trace', async () => {
    expect(await run('ingest', path.join(cli.dir, 'good.jsonl'))).toBe(0);
    cli.err = '';
    const missing = path.join(cli.dir, 'no-such-folder', 'october.csv');
    expect(await run('statement', '--period', '2026-10', '--format', 'csv', '--out', missing)).toBe(2);
    expect(cli.err).toContain(`the folder of --out does not exist: ${path.dirname(missing)}`);
    expect(cli.err).not.toMatch(/\n\s+at /);
  });

  it('serve on a busy port says so and how to pick another, exit 2', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      expect(await run('serve', '--port', String(port), '--store', path.join(cli.dir, 'tally.duckdb'))).toBe(
        2,
      );
      expect(cli.err).toContain(`127.0.0.1:${port} is already in use`);
      expect(cli.err).toContain('--port');
    } finally {
      blocker.close();
    }
  });
});
