// `tally sampling` (SPEC §11): the expected relative error a rate buys, from
// the period's own data, checked against actually sampling simulated months
// at that rate; and the command end to end.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Attributor } from '../../src/core/attribution.js';
import { PriceBook } from '../../src/core/pricing.js';
import { Registry } from '../../src/core/registry.js';
import { EVENT_UNIT } from '../../src/core/sampling.js';
import { planSampling } from '../../src/core/sampling-plan.js';
import type { UsageGroup } from '../../src/core/usage.js';
import { Random } from '../../src/demo/random.js';
import { definedPlan, month, type Stream, statementOf, WORLD } from './world.js';

const UNSAMPLED: Stream[] = [
  { key: 'key-a', traces: 600, p: { n: 1n, d: 1n } },
  { key: 'key-b', traces: 150, p: { n: 1n, d: 1n } },
];

function plan(groups: readonly UsageGroup[], rate: number, target = 0.05) {
  const attributor = new Attributor(new Registry(WORLD), new PriceBook(WORLD.prices), WORLD.policy);
  return planSampling(
    groups.map((g) => attributor.attribute(g)),
    rate,
    target,
  );
}

describe('the expected relative error of a sampling rate', () => {
  const { units } = month(31, UNSAMPLED, 0);
  const p = plan(units, 0.1);
  const row = (id: string) => p.rows.find((r) => r.level === 'team' && r.id === id);

  it('is what sampling at that rate gives: the 95th percentile of the actual relative error', () => {
    // Sample the same month (the same calls) at 10 % with 400 different randomness seeds.
    const streams: Stream[] = UNSAMPLED.map((s) => ({ ...s, p: { n: 1n, d: 10n } }));
    const errors: Record<string, number[]> = { 'team-a': [], 'team-b': [] };
    for (let k = 0; k < 400; k++) {
      const { all, kept } = resampled(31, streams, k);
      const truth = statementOf(all);
      const est = statementOf(kept);
      for (const team of ['team-a', 'team-b']) {
        const t = Number(truth.lines.find((l) => l.team === team)?.effective_cost ?? 0n);
        const e = Number(est.lines.find((l) => l.team === team)?.effective_cost ?? 0n);
        errors[team]?.push(Math.abs(e - t) / t);
      }
    }
    for (const team of ['team-a', 'team-b']) {
      const sorted = [...(errors[team] ?? [])].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
      const expected = row(team)?.expected_relative_error ?? 0;
      expect(p95 / expected, `${team}: actual ${p95}, expected ${expected}`).toBeGreaterThan(0.8);
      expect(p95 / expected, `${team}: actual ${p95}, expected ${expected}`).toBeLessThan(1.2);
    }
  });

  it('falls with the rate, and rate_for is the rate that meets the target', () => {
    const a = row('team-a');
    expect(a?.expected_relative_error).toBeGreaterThan(0);
    const at = plan(units, a?.rate_for ?? 1).rows.find((r) => r.id === 'team-a');
    expect(at?.expected_relative_error).toBeLessThanOrEqual(0.05);
    expect(at?.expected_relative_error).toBeGreaterThan(0.0499);
    expect(plan(units, 0.5).rows[0]?.expected_relative_error).toBeLessThan(a?.expected_relative_error ?? 0);
    // The smaller team needs the larger rate; the plan's rate keeps every team within the target.
    expect(row('team-b')?.rate_for).toBeGreaterThan(a?.rate_for ?? 1);
    expect(p.rate_for).toBe(row('team-b')?.rate_for);
    expect(plan(units, 1).rows.every((r) => r.expected_relative_error === 0)).toBe(true);
  });
});

describe('the plan folded charge by charge', () => {
  it('equals the plan of every unit merged first, in any order of the charges', () => {
    const attributor = new Attributor(new Registry(WORLD), new PriceBook(WORLD.prices), WORLD.policy);
    for (const seed of [1, 2, 3]) {
      // Sampled traces of one to three calls (weights of 1, 4 and 10), and calls without a trace.
      const streams: Stream[] = [
        { key: 'key-a', traces: 300, p: { n: 1n, d: 4n } },
        { key: 'key-b', traces: 200, p: { n: 1n, d: 10n } },
        { key: 'key-c', traces: 100, p: { n: 1n, d: 1n } },
      ];
      const { kept } = month(seed, streams);
      const alone = kept
        .filter((_, i) => i % 5 === 0)
        .map((g, i) => ({ ...g, sample_unit: `${EVENT_UNIT}otlp:alone-${i}` }));
      const charges = [...kept.filter((g) => g.sample_unit !== undefined), ...alone].map((g) =>
        attributor.attribute(g),
      );
      const rnd = new Random(seed);
      for (let i = charges.length - 1; i > 0; i--) {
        const j = rnd.int(0, i);
        [charges[i], charges[j]] = [
          charges[j] as (typeof charges)[number],
          charges[i] as (typeof charges)[number],
        ];
      }
      const folded = planSampling(charges, 0.2, 0.05);
      expect(folded).toEqual(definedPlan(charges, 0.2, 0.05));
      expect(folded.rows.filter((r) => r.level === 'team').map((r) => r.id)).toEqual([
        'team-a',
        'team-b',
        'team-c',
      ]);
    }
  });
});

/** The month of `seed` (the same calls whatever `k`), sampled with the randomness of `k`. */
function resampled(seed: number, streams: Stream[], k: number) {
  return month(seed, streams, k + 1);
}

describe('tally sampling', () => {
  let dir: string;
  let out: string;
  let err: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-sampling-cli-'));
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s);
      return true;
    });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints each team and tenant with its error at the rate, and the rate for the target', async () => {
    const yaml = `store: ./tally.duckdb
cost_centers: [{ id: cc, name: CC }]
teams: [{ id: team-a, name: A, cost_center: cc }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
tenants: [{ id: tenant-x, name: X }]
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, tenants: ["*"], match: [{ api_key: k1 }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
`;
    await writeFile(path.join(dir, 'tally.yaml'), yaml);
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        id: `e${i}`,
        source: 'gw',
        time: `2026-10-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
        provider: 'acme',
        model: 'm1',
        operation: 'chat',
        input_tokens: 1000 * (1 + (i % 7)),
        api_key: 'k1',
        tenant: 'tenant-x',
        trace_id: `t${Math.floor(i / 2)}`,
        span_id: `s${i}`,
      }),
    );
    await writeFile(path.join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
    const config = ['--config', path.join(dir, 'tally.yaml')];
    expect(await main(['ingest', path.join(dir, 'events.jsonl'), ...config])).toBe(0);
    out = '';
    expect(
      await main(['sampling', '--period', '2026-10', '--rate', '0.1', '--format', 'json', ...config]),
    ).toBe(0);
    const body = JSON.parse(out) as {
      rows: Array<Record<string, unknown>>;
      rate_for: number;
      target: number;
    };
    expect(body.target).toBe(0.05);
    expect(body.rows.map((r) => [r.level, r.id, r.units])).toEqual([
      ['team', 'team-a', 20],
      ['tenant', 'tenant-x', 20],
    ]);
    expect(body.rows[0]?.expected_relative_error).toBeGreaterThan(0.1);
    expect(body.rate_for).toBe(body.rows[0]?.rate_for);
    out = '';
    expect(await main(['sampling', '--period', '2026-10', '--rate', '0.1', ...config])).toBe(0);
    expect(out).toMatch(/team-a/);
    expect(await main(['sampling', '--period', '2026-10', '--rate', '1.5', ...config])).toBe(2);
    expect(err).toMatch(/--rate must be a decimal in \(0, 1\]/);
  });
});
