// A command on a large registry reads the configuration it keeps parsed
// (src/config/cache.ts), and an edited configuration shows in the next
// command: the statement stays a function of the events and the files.
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { KEEP_FROM_BYTES } from '../../src/config/cache.js';
import { canonical } from '../server/helpers.js';
import { captureCli } from '../setup/cli-capture.js';

const cli = captureCli('tally-config-cache-');

/** A registry past the size the cache keeps: the identity that spends, then many that do not. */
function config(owner: string): string {
  const lines = [
    'store: ./tally.duckdb',
    'cost_centers: [{ id: cc-a, name: A }]',
    'teams:',
    '  - { id: team-a, name: A, cost_center: cc-a }',
    '  - { id: team-b, name: B, cost_center: cc-a }',
    'applications:',
    `  - { id: app-a, name: A, owner: [{ team: ${owner}, from: 2026-01-01 }] }`,
    'prices:',
    '  models:',
    '    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }',
    'identities:',
  ];
  for (let i = 0; i < 2000; i++)
    lines.push(
      `  - id: nhi-${i}`,
      '    kind: api_key',
      '    application: app-a',
      '    environment: production',
      '    match:',
      `      - { api_key: k${i} }`,
    );
  return `${lines.join('\n')}\n`;
}

const EVENT = JSON.stringify(canonical('e1', 'svc-a', { api_key: 'k0' }));

describe('a command on a large registry', () => {
  let cacheDir = '';
  const before = process.env.TALLY_CACHE_DIR;
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'tally-cache-dir-'));
    process.env.TALLY_CACHE_DIR = cacheDir;
    await writeFile(path.join(cli.dir, 'tally.yaml'), config('team-a'));
    await writeFile(path.join(cli.dir, 'e.jsonl'), `${EVENT}\n`);
  });
  afterEach(() => {
    if (before === undefined) delete process.env.TALLY_CACHE_DIR;
    else process.env.TALLY_CACHE_DIR = before;
  });

  const statement = async () => {
    cli.out = '';
    const file = path.join(cli.dir, 'tally.yaml');
    expect(await main(['statement', '--period', '2026-10', '--format', 'json', '--config', file])).toBe(0);
    return JSON.parse(cli.out) as { lines: Array<{ team: string }>; inputs: { config_sha256: string } };
  };

  it('keeps it parsed, and shows an edit in the next command', async () => {
    expect((await readFile(path.join(cli.dir, 'tally.yaml'))).length).toBeGreaterThan(KEEP_FROM_BYTES);
    const file = path.join(cli.dir, 'tally.yaml');
    expect(await main(['ingest', path.join(cli.dir, 'e.jsonl'), '--config', file])).toBe(0);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.v8'))).toHaveLength(1);

    const first = await statement();
    const kept = await statement();
    expect(kept).toEqual(first);
    expect(first.lines.map((l) => l.team)).toEqual(['team-a']);
    process.env.TALLY_CACHE_DIR = 'off';
    expect(await statement()).toEqual(first);
    process.env.TALLY_CACHE_DIR = cacheDir;

    await writeFile(file, config('team-b'));
    const edited = await statement();
    expect(edited.lines.map((l) => l.team)).toEqual(['team-b']);
    expect(edited.inputs.config_sha256).not.toBe(first.inputs.config_sha256);
  });
});
