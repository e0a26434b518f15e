/**
 * Simulated months with known totals (SPEC §11 judging): traces of one to
 * three calls, costs spread log-normally, sampled per trace as a consistent
 * OpenTelemetry sampler does (keep when the trace's 56-bit randomness is at
 * least the threshold), and the statement computed by core from the kept
 * calls, each weighted by the adjusted count of its tracestate.
 */

import type { Charge } from '../../src/core/attribution.js';
import { Attributor } from '../../src/core/attribution.js';
import type { Config } from '../../src/core/config.js';
import { emptyEvent } from '../../src/core/event.js';
import { PriceBook } from '../../src/core/pricing.js';
import { Registry } from '../../src/core/registry.js';
import {
  adjustedCountFromTraceState,
  isqrt,
  mergeSamples,
  type SampleUnits,
  TRACE_UNIT,
  thresholdFor,
} from '../../src/core/sampling.js';
import type { PlanRow, SamplingPlan } from '../../src/core/sampling-plan.js';
import { buildStatement, type Statement } from '../../src/core/statement.js';
import { eventGroup, type UsageGroup } from '../../src/core/usage.js';
import { Random } from '../../src/demo/random.js';
import { config } from '../statement/helpers.js';

export const WORLD = config(`
currency: USD
cost_centers: [{ id: cc, name: CC }]
teams:
  - { id: team-a, name: A, cost_center: cc }
  - { id: team-b, name: B, cost_center: cc }
  - { id: team-c, name: C, cost_center: cc }
applications:
  - { id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-b, name: B, owner: [{ team: team-b, from: 2026-01-01 }] }
  - { id: app-c, name: C, owner: [{ team: team-c, from: 2026-01-01 }] }
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, match: [{ api_key: key-a }] }
  - { id: nhi-b, kind: api_key, application: app-b, environment: production, match: [{ api_key: key-b }] }
  - { id: nhi-c, kind: api_key, application: app-c, environment: production, match: [{ api_key: key-c }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
`);

/** A team's traffic in the simulation: traces a month and the sampling probability (1: unsampled). */
export interface Stream {
  key: string;
  traces: number;
  /** The sampling probability, as p = n/d. */
  p: { n: bigint; d: bigint };
}

export const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };

/** One call of a trace, as the store would hand it over (one event, one group). */
function call(rnd: Random, key: string, trace: string, span: number): UsageGroup {
  const e = emptyEvent(`${trace}:${span}`, 'otlp', OCT.start + rnd.int(0, 29) * 86_400_000);
  e.provider = 'acme';
  e.model = 'm1';
  e.api_key = key;
  e.trace_id = trace;
  e.span_id = String(span).padStart(16, '0');
  e.input_tokens = Math.round(rnd.logNormal(2000, 1));
  e.output_tokens = Math.round(rnd.logNormal(400, 1));
  return eventGroup(e, { shared: false, payer: null, tenant: null });
}

/** A 56-bit randomness value as 14 hex digits. */
function randomness(rnd: Random): string {
  const hi = rnd.u32().toString(16).padStart(8, '0');
  const lo = (rnd.u32() & 0xffffff).toString(16).padStart(6, '0');
  return hi + lo;
}

/**
 * One month: every call (the truth), the calls a consistent sampler kept,
 * with the adjusted count read from the tracestate it would write, and every
 * call with its trace as sampling unit (what `tally sampling` reads).
 */
export function month(
  seed: number,
  streams: readonly Stream[],
  samplingSeed?: number,
): { all: UsageGroup[]; kept: UsageGroup[]; units: UsageGroup[] } {
  const rnd = new Random(seed);
  // With a sampling seed, the traces' randomness has a generator of its own: the same calls, sampled anew.
  const coin = samplingSeed === undefined ? rnd : new Random(samplingSeed + 0x9e3779b9);
  const all: UsageGroup[] = [];
  const units: UsageGroup[] = [];
  const kept: UsageGroup[] = [];
  for (const s of streams) {
    const th = thresholdFor(s.p);
    const threshold = BigInt(`0x${th.padEnd(14, '0')}`);
    for (let t = 0; t < s.traces; t++) {
      const rv = randomness(coin);
      const trace = `${s.key}-${seed}-${t}`;
      const keep = BigInt(`0x${rv}`) >= threshold;
      const adjusted = keep ? adjustedCountFromTraceState(`ot=th:${th};rv:${rv}`, trace) : null;
      const calls = rnd.int(1, 3);
      for (let c = 0; c < calls; c++) {
        const g = call(rnd, s.key, trace, c);
        all.push(g);
        units.push({ ...g, sample_unit: `${TRACE_UNIT}${trace}` });
        if (adjusted) kept.push({ ...g, adjusted_count: adjusted, sample_unit: `${TRACE_UNIT}${trace}` });
        else if (keep) kept.push(g);
      }
    }
  }
  return { all, kept, units };
}

/** The statement core computes from usage groups (no pools in this world). */
export function statementOf(groups: readonly UsageGroup[], cfg: Config = WORLD): Statement {
  const attributor = new Attributor(new Registry(cfg), new PriceBook(cfg.prices), cfg.policy);
  const charges = groups.map((g) => attributor.attribute(g));
  return buildStatement(charges, [], {
    period: OCT,
    currency: cfg.currency,
    inputs: { config_sha256: cfg.sha256, catalog_version: 'test', events: groups.length, audit_head: null },
  });
}

/**
 * The plan by its definition (docs/sampling.md), from every charge kept: per
 * team and tenant, every unit's cost merged, then Σ w·y² over the units. What
 * the plan folds charge by charge must equal it.
 */
export function definedPlan(charges: readonly Charge[], rate: number, target: number): SamplingPlan {
  const z = 1.959964;
  const rows: PlanRow[] = [];
  for (const level of ['team', 'tenant'] as const) {
    const by = new Map<string, { cost: bigint; units: SampleUnits }>();
    for (const c of charges) {
      const id = c[level];
      if (id === null || c.pool !== null) continue;
      const s = by.get(id) ?? { cost: 0n, units: new Map() };
      by.set(id, s);
      s.cost += c.effective_cost;
      if (c.sample) mergeSamples(s.units, c.sample);
    }
    for (const id of [...by.keys()].sort()) {
      const { cost, units } = by.get(id) as { cost: bigint; units: SampleUnits };
      let squares = 0n;
      for (const { w, y } of units.values()) squares += (y * y * w.n) / w.d;
      const base = { level, id, cost, units: units.size };
      if (cost <= 0n) {
        rows.push({ ...base, expected_relative_error: null, rate_for: null });
        continue;
      }
      const spread = Number(isqrt(squares)) / Number(cost);
      const rateFor = spread === 0 ? 0 : 1 / (1 + (target / (z * spread)) ** 2);
      rows.push({
        ...base,
        expected_relative_error: Math.round(z * spread * Math.sqrt(1 / rate - 1) * 1e6) / 1e6,
        rate_for: Math.min(1, Math.ceil(rateFor * 1e6) / 1e6),
      });
    }
  }
  const teamRates = rows
    .filter((r) => r.level === 'team' && r.rate_for !== null)
    .map((r) => r.rate_for as number);
  return { rate, target, rows, rate_for: teamRates.length > 0 ? Math.max(...teamRates) : 1 };
}
