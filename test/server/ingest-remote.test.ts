// `tally ingest FILE --server URL`: real producer files (test/fixtures) sent
// to a running `tally serve` give the same report lines and exit codes as
// the same files ingested into a store file, and the same statement.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir, freePort, ROOT, type Served, startServe, runTally as tally } from './child.js';
import { TOKENS } from './helpers.js';

const FIXTURES = path.join(ROOT, 'test/fixtures');
/** Every format, as its producers write it; the OTLP files carry spans that are not AI work (kept as trace links). */
const FILES = [
  'canonical/events.jsonl',
  'canonical/events.csv',
  'otlp/agent-trace.json',
  'otlp/file-exporter.jsonl',
  'otlp/otel-python-openai-v2.json',
  'litellm/spend-logs.json',
  'litellm/spend-logs.csv',
  'openai-usage/completions-page.json',
  'anthropic-usage/messages-report.json',
  'canonical/events.jsonl',
];

let far: string;
let near: string;
let served: Served | null = null;
const ingestToken = { TALLY_TOKEN: TOKENS.ingest };

beforeAll(async () => {
  far = await configDir();
  near = await configDir();
  served = await startServe(far, await freePort());
  const bad = `${JSON.stringify({ id: 'x1', source: 's', time: '2026-10-02T10:00:00Z', operation: 'chat' })}\n{"id":"x2","source":"s","time":"yesterday","operation":"chat"}\n`;
  for (const dir of [far, near]) {
    await mkdir(path.join(dir, 'in'));
    await writeFile(path.join(dir, 'in', 'bad.jsonl'), bad);
  }
}, 300_000);

afterAll(() => {
  served?.child.kill('SIGKILL');
});

describe('tally ingest --server', () => {
  it('prints the same report lines and exit codes as on a store file, for every format', async () => {
    for (const f of FILES) {
      const file = path.join(FIXTURES, f);
      const remote = await tally(['ingest', file, '--server', served?.base as string], ingestToken);
      const local = await tally(['ingest', file, '--config', path.join(near, 'tally.yaml')]);
      expect(remote.stderr, f).not.toMatch(/tally: /);
      expect(remote.code, f).toBe(local.code);
      expect(remote.stdout, f).toBe(local.stdout);
      expect(remote.stdout, f).toMatch(/: [1-9]\d* stored|: 0 stored, [1-9]\d* duplicates/);
    }
    const json = await tally(
      [
        'ingest',
        path.join(FIXTURES, 'otlp/agent-trace.json'),
        '--report',
        'json',
        '--server',
        served?.base as string,
      ],
      ingestToken,
    );
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ format: 'otlp', duplicates: expect.any(Number) });
  }, 300_000);

  it('refuses a file with an invalid record as on a store file, sending nothing of it; --skip-invalid sends the rest', async () => {
    const remote = await tally(
      ['ingest', path.join(far, 'in', 'bad.jsonl'), '--server', served?.base as string],
      ingestToken,
    );
    const local = await tally([
      'ingest',
      path.join(near, 'in', 'bad.jsonl'),
      '--config',
      path.join(near, 'tally.yaml'),
    ]);
    expect(remote.code).toBe(2);
    expect(local.code).toBe(2);
    expect(remote.stderr.replaceAll(far, near)).toBe(local.stderr);
    const skipped = await tally(
      ['ingest', path.join(far, 'in', 'bad.jsonl'), '--skip-invalid', '--server', served?.base as string],
      ingestToken,
    );
    const skippedLocal = await tally([
      'ingest',
      path.join(near, 'in', 'bad.jsonl'),
      '--skip-invalid',
      '--config',
      path.join(near, 'tally.yaml'),
    ]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout.replaceAll(far, near)).toBe(skippedLocal.stdout);
    expect(skipped.stdout).toMatch(/1 stored, 0 duplicates, 0 superseded, 1 rejected/);
    expect(await readFile(path.join(far, 'in', 'bad.jsonl.quarantine.jsonl'), 'utf8')).toContain('yesterday');
  }, 300_000);

  it('refuses a token that may not ingest, and a server that is not there, exit 2', async () => {
    const file = path.join(FIXTURES, 'canonical/events.jsonl');
    const team = await tally(['ingest', file, '--server', served?.base as string], {
      TALLY_TOKEN: TOKENS.teamA,
    });
    expect(team.code).toBe(2);
    expect(team.stderr).toMatch(/refused POST \/v1\/events for this token/);
    const gone = await tally(
      ['ingest', file, '--server', `http://127.0.0.1:${await freePort()}`],
      ingestToken,
    );
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/cannot reach the server/);
  }, 120_000);

  it('stores what the store file stores: the same statement', async () => {
    const period = ['statement', '--period', '2026-10', '--format', 'json'];
    const remote = await tally([...period, '--server', served?.base as string], {
      TALLY_TOKEN: TOKENS.finance,
    });
    const local = await tally([...period, '--config', path.join(near, 'tally.yaml')]);
    expect(remote.code, remote.stderr).toBe(0);
    const body = (s: string) => {
      const j = JSON.parse(s) as Record<string, unknown>;
      return { lines: j.lines, totals: j.totals };
    };
    expect(body(remote.stdout)).toEqual(body(local.stdout));
    expect((body(local.stdout).lines as unknown[]).length).toBeGreaterThan(0);
  }, 120_000);
});
