// `tally signals` end to end: the default window, JSON form, --severity and --fail-on.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signalsCommand } from '../../src/cli/commands/signals.js';
import { openStore } from '../../src/store/open.js';
import { eventOf, REGISTRY, Rng, steadyTraffic, stream } from './traffic.js';

let dir: string;
let configPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-signals-cli-'));
  configPath = path.join(dir, 'tally.yaml');
  await writeFile(configPath, `store: ./tally.duckdb\n${REGISTRY}`);
  const store = await openStore(path.join(dir, 'tally.duckdb'));
  const rng = new Rng(5);
  const unknown = Array.from({ length: 3 }, (_, i) =>
    eventOf(stream('nhi-api'), `u-${i}`, Date.UTC(2026, 9, 10, 12, i), rng, { api_key: 'key-unknown' }),
  );
  await store.ingest('test', [[...steadyTraffic(3), ...unknown]]);
  await store.close();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    const code = await signalsCommand(['--config', configPath, ...args]);
    return { code, out: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('tally signals', () => {
  it('writes JSON with decimal-string costs and ISO times over the 30 days up to the latest event', async () => {
    const { code, out } = await run(['--format', 'json']);
    expect(code).toBe(0);
    const signals = JSON.parse(out) as Array<Record<string, unknown>>;
    expect(signals.map((s) => s.rule)).toEqual(['S01', 'S02', 'S03', 'S12']);
    const s03 = signals.find((s) => s.rule === 'S03');
    expect(s03?.identity).toBe('api_key:key-unknown,service:gateway');
    expect(s03?.cost).toMatch(/^\d+\.\d{2,}$/);
    expect(s03?.first_seen).toBe('2026-10-10T12:00:00.000Z');
    expect(s03?.evidence).toMatchObject({ events: ['u-0', 'u-1', 'u-2'] });
  });

  it('--severity shows signals at or above it; --fail-on exits 1 when one exists', async () => {
    const high = await run(['--format', 'json', '--severity', 'high']);
    expect((JSON.parse(high.out) as Array<{ rule: string }>).map((s) => s.rule)).toEqual([
      'S01',
      'S02',
      'S03',
    ]);
    expect((await run(['--format', 'json', '--fail-on', 'critical'])).code).toBe(1);
  });

  it('a window without findings exits 0 even with --fail-on', async () => {
    const { code, out } = await run(['--from', '2026-10-01', '--to', '2026-10-05', '--fail-on', 'low']);
    expect(code).toBe(0);
    expect(out).toBe('no signals\n');
  });

  it('renders a table', async () => {
    const { out } = await run([]);
    expect(out).toMatch(/^SEVERITY\s+RULE\s+IDENTITY/);
    expect(out).toContain('CRITICAL  S01   nhi-revoked');
    expect(out).toMatch(/4 signals: 2 critical, 1 high, 1 medium\n$/);
  });
});
