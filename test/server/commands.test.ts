// Every command beside a running server: a real `tally serve` child holds the
// embedded store while events are ingested; the CLI runs with --server (same
// bytes as on the file, once the server has stopped), a command on the held
// file exits 2 naming the server's address, and roles are refused with 403.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir, freePort, ROOT, type Served, startServe } from './child.js';
import { canonical, TOKENS } from './helpers.js';

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function tally(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(ROOT, 'bin/tally.js'), ...args],
      { encoding: 'buffer', env: { ...process.env, TALLY_SERVER: '', TALLY_TOKEN: '', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr: stderr.toString() }),
    );
    child.stdin?.end();
  });
}

let dir: string;
let served: Served;
let stopped = false;

/** October: two teams, a shared service working for svc-a, an unknown caller; November only grows while commands run. */
const OCTOBER = [
  canonical('root', 'svc-a', { trace_id: 't1', span_id: 's1', tenant: 'tenant-x' }),
  canonical('rag-call', 'rag', { trace_id: 't1', span_id: 's2', parent_span_id: 's1', output_tokens: 1000 }),
  canonical('b1', 'svc-b', { time: '2026-10-12T08:00:00Z', output_tokens: 500_000 }),
  canonical('stranger', 'svc-unknown', { api_key: 'key_0123abcd', time: '2026-10-20T09:30:00Z' }),
];

const post = (token: string, p: string, body: string, type = 'application/json', method = 'POST') =>
  fetch(`${served.base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    ...(method === 'POST' ? { body } : {}),
  });

const FIXED_PRICES = `prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.5, output_per_mtok: 2 }
`;

beforeAll(async () => {
  dir = await configDir();
  // the corrected configuration for restate: the same file with its prices in an include
  const base = await readFile(path.join(dir, 'tally.yaml'), 'utf8');
  const withoutPrices = base.replace(/prices:\n {2}models:\n.*\n/, '');
  expect(withoutPrices).not.toBe(base);
  await writeFile(path.join(dir, 'tally-fixed.yaml'), `include: [prices-fixed.yaml]\n${withoutPrices}`);
  await writeFile(path.join(dir, 'prices-fixed.yaml'), FIXED_PRICES);
  await writeFile(path.join(dir, 'bill.csv'), 'provider,model,amount\nacme,m1,3.50\n');
  served = await startServe(dir, await freePort());
  const res = await post(TOKENS.ingest, '/v1/events', JSON.stringify(OCTOBER));
  expect(res.status).toBe(200);
}, 300_000);

afterAll(async () => {
  if (!stopped) served?.child.kill('SIGKILL');
});

const cfg = () => ['--config', path.join(dir, 'tally.yaml')];
const remote = () => ['--server', served.base];
const finance = { TALLY_TOKEN: TOKENS.finance };

/** The commands compared, each with the same arguments on the server and on the file. */
const COMMANDS: string[][] = [
  ['statement', '--period', '2026-10'],
  ['statement', '--period', '2026-10', '--format', 'json'],
  ['statement', '--period', '2026-10', '--level', 'team', '--format', 'csv'],
  ['statement', '--period', '2026-10', '--format', 'html'],
  ['statement', '--period', '2026-10', '--format', 'focus'],
  ['statement', '--from', '2026-10-01', '--to', '2026-10-15', '--level', 'tenant', '--format', 'json'],
  ['reconcile', '--period', '2026-10', '--invoice', 'BILL'],
  ['reconcile', '--period', '2026-10', '--invoice', 'BILL', '--true-up', '--format', 'json'],
  ['signals', '--from', '2026-10-01', '--to', '2026-11-01'],
  ['signals', '--from', '2026-10-01', '--to', '2026-11-01', '--format', 'json', '--fail-on', 'low'],
  ['replay', '--from', '2026-10-01', '--to', '2026-11-01', '--format', 'json'],
  ['replay', '--trace', 't1'],
  ['posture', '--period', '2026-10'],
  ['budgets', '--period', '2026-10', '--format', 'json'],
  ['budgets', '--period', '2026-10'],
  ['explain', 'rag-call'],
  ['explain', 'b1', '--format', 'json'],
];

/** Run while events arrive (each of the others runs once ingestion has settled). */
const DURING = [COMMANDS[1], COMMANDS[4], COMMANDS[6], COMMANDS[8], COMMANDS[12]] as string[][];

const withBill = (args: string[]) => args.map((a) => (a === 'BILL' ? path.join(dir, 'bill.csv') : a));
const remoteRuns = new Map<string, Run>();

describe('beside a running tally serve', () => {
  it('a command on the held file says a server holds it and how to reach it, exit 2 (verify too)', async () => {
    for (const args of [['verify'], ['statement', '--period', '2026-10'], ['budgets']]) {
      const r = await tally([...args, ...cfg()]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/is held by another process \(PID \d+/);
      expect(r.stderr).toContain(`--server ${served.base}`);
      expect(r.stderr).toContain('TALLY_TOKEN');
    }
    await writeFile(path.join(dir, 'one.jsonl'), `${JSON.stringify(canonical('late', 'svc-a'))}\n`);
    const ingest = await tally(['ingest', path.join(dir, 'one.jsonl'), ...cfg()]);
    expect(ingest.code).toBe(2);
    expect(ingest.stderr).toContain(`send the data to the server at ${served.base} instead`);
  });

  it('runs every reading and closing command through the API while events are being ingested', async () => {
    let ingesting = true;
    let batches = 0;
    const loop = (async () => {
      for (let i = 0; ingesting; i++) {
        const events = Array.from({ length: 50 }, (_, j) =>
          canonical(`nov-${i}-${j}`, j % 2 ? 'svc-a' : 'svc-b', { time: '2026-11-02T10:00:00Z' }),
        );
        const res = await post(TOKENS.ingest, '/v1/events', JSON.stringify(events));
        expect(res.status).toBe(200);
        batches++;
      }
    })();
    try {
      for (const args of DURING) {
        const r = await tally([...withBill(args), ...remote()], finance);
        expect(r.stderr, args.join(' ')).not.toMatch(/tally: /);
        expect(r.code, args.join(' ')).toBe(args[0] === 'reconcile' ? 1 : 0);
      }
      const v = await tally(['verify', ...remote()], finance);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout.toString()).toMatch(/^ok: \d+ batches/);
    } finally {
      ingesting = false;
      await loop;
    }
    // settled: the outputs compared with the command on the file at the end (the audit head moves with every batch)
    for (const args of COMMANDS) {
      const r = await tally([...withBill(args), ...remote()], finance);
      expect(r.stderr, args.join(' ')).not.toMatch(/tally: /);
      remoteRuns.set(args.join(' '), r);
    }
    expect(batches).toBeGreaterThan(1);
    expect(remoteRuns.get('reconcile --period 2026-10 --invoice BILL')?.code).toBe(1);
    expect(remoteRuns.get('statement --period 2026-10')?.code).toBe(0);
  }, 300_000);

  it('TALLY_SERVER works like --server; --server and --store together are refused', async () => {
    const viaEnv = await tally(['statement', '--period', '2026-10', '--format', 'json'], {
      ...finance,
      TALLY_SERVER: served.base,
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(
      viaEnv.stdout.equals(remoteRuns.get('statement --period 2026-10 --format json')?.stdout as Buffer),
    ).toBe(true);
    const both = await tally(['verify', ...remote(), '--store', path.join(dir, 'x.duckdb')], finance);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--store or --server, not both');
    const noToken = await tally(['verify', ...remote()]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('TALLY_TOKEN');
  });

  it('refuses roles beyond their scope with 403 (exit 2 on the command line)', async () => {
    const closing: Array<[string, string]> = [
      ['POST', '/v1/statements/issue?period=2026-10'],
      ['GET', '/v1/statements/focus?period=2026-10'],
      ['POST', '/v1/reconcile?period=2026-10'],
      ['POST', '/v1/restate?period=2026-10'],
      ['GET', '/v1/verify'],
    ];
    for (const token of [TOKENS.teamA, TOKENS.ingest])
      for (const [method, p] of closing) {
        const res = await post(token, p, 'provider,model,amount\n', 'text/csv', method);
        expect(res.status, `${method} ${p}`).toBe(403);
      }
    const ingestRead = await post(TOKENS.ingest, '/v1/statements?period=2026-10&format=table', '', '', 'GET');
    expect(ingestRead.status).toBe(403);
    const r = await tally(['statement', '--period', '2026-10', '--issue', ...remote()], {
      TALLY_TOKEN: TOKENS.teamA,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused POST \/v1\/statements\/issue for this token: the team role may not/);
    const focus = await post(TOKENS.teamA, '/v1/statements?period=2026-10&format=focus', '', '', 'GET');
    expect(focus.status).toBe(400);
  });

  it("gives a team token its own team's lines only, in the command's format", async () => {
    const r = await tally(['statement', '--period', '2026-10', '--format', 'json', ...remote()], {
      TALLY_TOKEN: TOKENS.teamA,
    });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.toString()) as { lines: { team: string | null }[] };
    expect(s.lines.length).toBeGreaterThan(0);
    expect(new Set(s.lines.map((l) => l.team))).toEqual(new Set(['team-a']));
  });

  it('issues, restates with an uploaded corrected configuration and its include, and downloads Parquet', async () => {
    const issued = await tally(
      ['statement', '--period', '2026-10', '--issue', '--format', 'json', ...remote()],
      finance,
    );
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toMatch(/^issued statement 2026-10 v1: content [0-9a-f]{64}/);
    remoteRuns.set('issued json', issued);
    const again = await tally(['statement', '--period', '2026-10', '--issue', ...remote()], finance);
    expect(again.stderr).toContain('identical to issued v1');
    const fixed = ['restate', '--period', '2026-10', '--config', path.join(dir, 'tally-fixed.yaml')];
    for (const format of ['table', 'json', 'focus']) {
      const r = await tally([...fixed, '--format', format, ...remote()], finance);
      expect(r.code, r.stderr).toBe(0);
      remoteRuns.set(`restate ${format}`, r);
    }
    expect(remoteRuns.get('restate json')?.stdout.toString()).toContain('"charge_class": "Correction"');
    const parquet = path.join(dir, 'remote.parquet');
    const p = await tally(
      ['statement', '--period', '2026-10', '--format', 'focus-parquet', '--out', parquet, ...remote()],
      finance,
    );
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/^wrote \d+ FOCUS rows to /);
  }, 300_000);

  it('gives the same bytes as the command on the file, once the server has stopped', async () => {
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    stopped = true;
    for (const args of COMMANDS) {
      const local = await tally([...withBill(args), ...cfg()]);
      const far = remoteRuns.get(args.join(' ')) as Run;
      expect(far.stdout.toString(), args.join(' ')).toBe(local.stdout.toString());
      expect(far.code, args.join(' ')).toBe(local.code);
    }
    const json = await tally(['statement', '--period', '2026-10', '--format', 'json', ...cfg()]);
    expect(remoteRuns.get('issued json')?.stdout.equals(json.stdout)).toBe(true);
    for (const format of ['table', 'json', 'focus']) {
      const local = await tally([
        'restate',
        '--period',
        '2026-10',
        '--config',
        path.join(dir, 'tally-fixed.yaml'),
        '--format',
        format,
      ]);
      expect(remoteRuns.get(`restate ${format}`)?.stdout.toString(), format).toBe(local.stdout.toString());
    }
    const parquet = path.join(dir, 'local.parquet');
    expect(
      (
        await tally([
          'statement',
          '--period',
          '2026-10',
          '--format',
          'focus-parquet',
          '--out',
          parquet,
          ...cfg(),
        ])
      ).code,
    ).toBe(0);
    expect((await readFile(parquet)).equals(await readFile(path.join(dir, 'remote.parquet')))).toBe(true);
    const verify = await tally(['verify', ...cfg()]);
    expect(verify.code).toBe(0);
  }, 300_000);
});
