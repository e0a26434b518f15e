// Estimates from sampled traces (SPEC §11), judged against known totals over
// many simulated months with fixed seeds: the 95 % intervals cover the truth
// 93–97 % of the time and the estimates are unbiased within their standard error.
import { describe, expect, it } from 'vitest';
import { Attributor } from '../../src/core/attribution.js';
import { ONE, parseMoney, sum } from '../../src/core/money.js';
import { PriceBook } from '../../src/core/pricing.js';
import { Registry } from '../../src/core/registry.js';
import { interval95, isqrt } from '../../src/core/sampling.js';
import { type Line, type Statement, statementJson } from '../../src/core/statement.js';
import { focusRows } from '../../src/export/focus.js';
import { month, OCT, type Stream, statementOf, WORLD } from './world.js';

const STREAMS: Stream[] = [
  { key: 'key-a', traces: 600, p: { n: 1n, d: 10n } },
  { key: 'key-b', traces: 200, p: { n: 1n, d: 4n } },
  { key: 'key-c', traces: 50, p: { n: 1n, d: 1n } },
];
const MONTHS = 1000;

const dollars = (m: bigint) => Number(m) / Number(ONE);

function teamLine(s: Statement, team: string): Line {
  const l = s.lines.find((x) => x.team === team);
  if (!l) throw new Error(`no line for ${team}`);
  return l;
}

interface Trial {
  truth: number;
  estimate: number;
  low: number;
  high: number;
}

/** Every month's truth, estimate and interval for one team's line and for the totals. */
function simulate(): Record<'team-a' | 'team-b' | 'team-c' | 'totals', Trial[]> {
  const out = {
    'team-a': [] as Trial[],
    'team-b': [] as Trial[],
    'team-c': [] as Trial[],
    totals: [] as Trial[],
  };
  for (let m = 0; m < MONTHS; m++) {
    const { all, kept } = month(1000 + m, STREAMS);
    const truth = statementOf(all);
    const est = statementOf(kept);
    for (const team of ['team-a', 'team-b', 'team-c'] as const) {
      const e = teamLine(est, team);
      const [low, high] = e.sample
        ? interval95(e.effective_cost, e.sample)
        : [e.effective_cost, e.effective_cost];
      out[team].push({
        truth: dollars(teamLine(truth, team).effective_cost),
        estimate: dollars(e.effective_cost),
        low: dollars(low),
        high: dollars(high),
      });
    }
    const t = est.totals;
    const [low, high] = interval95(t.effective_cost, t.sample ?? new Map());
    out.totals.push({
      truth: dollars(truth.totals.effective_cost),
      estimate: dollars(t.effective_cost),
      low: dollars(low),
      high: dollars(high),
    });
  }
  return out;
}

const coverage = (trials: Trial[]) =>
  trials.filter((t) => t.low <= t.truth && t.truth <= t.high).length / trials.length;

function bias(trials: Trial[]): { mean: number; se: number } {
  const errs = trials.map((t) => t.estimate - t.truth);
  const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
  const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / (errs.length - 1));
  return { mean, se: sd / Math.sqrt(errs.length) };
}

describe('Horvitz–Thompson estimates over simulated months', () => {
  const trials = simulate();

  it('cover the truth with their 95 % interval 93–97 % of the time, per sampled team and in total', () => {
    for (const key of ['team-a', 'team-b', 'totals'] as const) {
      const c = coverage(trials[key]);
      expect(c, `${key} coverage ${c}`).toBeGreaterThanOrEqual(0.93);
      expect(c, `${key} coverage ${c}`).toBeLessThanOrEqual(0.97);
    }
  });

  it('are unbiased within their standard error', () => {
    for (const key of ['team-a', 'team-b', 'totals'] as const) {
      const { mean, se } = bias(trials[key]);
      expect(Math.abs(mean), `${key} mean error ${mean} (se ${se})`).toBeLessThan(3 * se);
    }
  });

  it('leave an unsampled team exact: no interval, the estimate is the truth', () => {
    for (const t of trials['team-c']) {
      expect(t.estimate).toBe(t.truth);
      expect([t.low, t.high]).toEqual([t.truth, t.truth]);
    }
  });

  it('are not exact: a sampled team misses its truth in some months', () => {
    expect(trials['team-a'].some((t) => t.estimate !== t.truth)).toBe(true);
  });
});

describe('the statement of sampled events', () => {
  const { kept } = month(7, STREAMS);
  const s = statementOf(kept);
  const json = statementJson(s) as {
    totals: Record<string, unknown>;
    lines: Array<Record<string, unknown>>;
  };

  it('marks estimated lines and totals, with an interval around the estimate', () => {
    const a = json.lines.find((l) => l.team === 'team-a') as Record<string, unknown>;
    expect(a.estimated).toBe(true);
    const [low, high] = a.effective_cost_ci95 as [string, string];
    expect(Number(low)).toBeLessThan(Number(a.effective_cost));
    expect(Number(high)).toBeGreaterThan(Number(a.effective_cost));
    expect(json.totals.estimated).toBe(true);
    expect(json.totals.effective_cost_ci95).toHaveLength(2);
  });

  it('leaves exact lines as they were: no estimated field at all', () => {
    const c = json.lines.find((l) => l.team === 'team-c') as Record<string, unknown>;
    expect(c).not.toHaveProperty('estimated');
    expect(c).not.toHaveProperty('effective_cost_ci95');
  });

  it('shows whole-number token and event estimates that sum to the totals', () => {
    for (const l of json.lines) {
      expect(Number.isInteger(l.events)).toBe(true);
      expect(Number.isInteger(l.input_tokens)).toBe(true);
    }
    expect(json.lines.reduce((n, l) => n + (l.events as number), 0)).toBe(json.totals.events);
  });

  it('weighs money exactly: an estimated line is the sum of its calls × adjusted count, to the unit', () => {
    const a = s.lines.find((l) => l.team === 'team-a') as Line;
    const alone = statementOf(kept.filter((g) => g.own.api_key === 'key-a'));
    expect(alone.totals.effective_cost).toBe(a.effective_cost);
  });
});

describe('FOCUS rows of sampled events', () => {
  it('say so in x_Estimated, with whole counts, and sum to the estimated statement', () => {
    const { kept } = month(11, STREAMS);
    const attributor = new Attributor(new Registry(WORLD), new PriceBook(WORLD.prices), WORLD.policy);
    const charges = kept.map((g) => attributor.attribute(g));
    const rows = focusRows(charges, [], { period: OCT, currency: 'USD', pools: [] });
    const s = statementOf(kept);
    for (const team of ['team-a', 'team-b', 'team-c']) {
      const mine = rows.filter((r) => r.x_TeamId === team);
      expect(new Set(mine.map((r) => r.x_Estimated))).toEqual(
        new Set([team === 'team-c' ? 'false' : 'true']),
      );
      for (const r of mine) expect(Number.isInteger(r.x_Events)).toBe(true);
      const effective = sum(mine.map((r) => parseMoney(String(r.EffectiveCost))));
      expect(effective).toBe(teamLine(s, team).effective_cost);
    }
  });
});

describe('the integer square root under the intervals', () => {
  it('is ⌊√v⌋ at every size, quickly also far beyond a double (amounts of 10^30 pico-units hung it)', () => {
    const cases = [
      0n,
      1n,
      2n,
      3n,
      4n,
      15n,
      16n,
      17n,
      2n ** 53n + 1n,
      10n ** 40n,
      10n ** 61n + 7n,
      2n ** 1100n + 3n,
    ];
    for (const v of cases) {
      const r = isqrt(v);
      expect(r * r <= v && (r + 1n) * (r + 1n) > v).toBe(true);
    }
    const big = 123_456_789_012_345_678_901_234_567_890n;
    expect(isqrt(big * big)).toBe(big);
    expect(isqrt(big * big - 1n)).toBe(big - 1n);
  });
});
