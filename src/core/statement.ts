/**
 * Statements (SPEC §5): charges and pool shares summed into lines, totals and
 * the versions of every input. The JSON form is byte-stable: lines are sorted
 * by their key and amounts are exact decimal strings.
 */

import type { PoolShare } from './allocation.js';
import { type Amounts, addAmounts, type Charge, emptyAmounts, type LineKey } from './attribution.js';
import { formatMoney, type Money } from './money.js';

export interface Line extends LineKey, Amounts {}

export type Level = 'line' | 'team' | 'application' | 'tenant' | 'cost_center';
export const LEVELS: readonly Level[] = ['line', 'team', 'application', 'tenant', 'cost_center'];

export interface StatementInputs {
  config_sha256: string;
  catalog_version: string;
  events: number;
  audit_head: string | null;
}

export interface Statement {
  period: { start: number; end: number };
  currency: string;
  level: Level;
  lines: Line[];
  totals: Totals;
  inputs: StatementInputs;
}

export interface Totals {
  effective_cost: Money;
  billed_cost: Money;
  attributed_cost: Money;
  unattributed_cost: Money;
  disputed_cost: Money;
  shared_cost: Money;
  direct_cost: Money;
  /** Attributed direct cost ÷ all direct cost, as an exact ratio (null when there is no direct cost). */
  coverage: { attributed: Money; direct: Money };
  events: number;
  unpriced_events: number;
}

/** The fields that make a line, in the spec's order. */
export const KEY_FIELDS = [
  'cost_center',
  'team',
  'application',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
  'pool',
] as const satisfies readonly (keyof LineKey)[];

/** Which key fields survive a roll-up to each level; status and reason always do. */
export const LEVEL_FIELDS: Record<Level, readonly (keyof LineKey)[]> = {
  line: KEY_FIELDS,
  cost_center: ['cost_center', 'status', 'reason'],
  team: ['cost_center', 'team', 'status', 'reason'],
  application: ['cost_center', 'team', 'application', 'status', 'reason'],
  tenant: ['tenant', 'status', 'reason'],
};

function keyOf(k: LineKey, fields: readonly (keyof LineKey)[]): string {
  return fields.map((f) => k[f] ?? '').join('\u0000');
}

/** A line key with nothing set, attributed. */
export function blankKey(): LineKey {
  return {
    cost_center: null,
    team: null,
    application: null,
    tenant: null,
    environment: null,
    category: null,
    status: 'attributed',
    reason: null,
    pool: null,
  };
}

export function poolShareAsLine(s: PoolShare): Line {
  const { amount, consumer: _c, basisValue: _v, basisTotal: _t, ...key } = s;
  return {
    ...key,
    ...emptyAmounts(),
    shared_cost: amount,
    effective_cost: amount,
    list_cost: amount,
    billed_cost: s.status === 'attributed' ? amount : 0n,
  };
}

/** Sums rows with equal keys (at a level) into lines, in a stable order. */
export function sumLines(rows: Iterable<LineKey & Amounts>, level: Level = 'line'): Line[] {
  const fields = LEVEL_FIELDS[level];
  const byKey = new Map<string, Line>();
  for (const row of rows) {
    const k = keyOf(row, fields);
    let line = byKey.get(k);
    if (!line) {
      line = { ...blankKey(), ...emptyAmounts() };
      for (const f of fields) (line as unknown as Record<string, unknown>)[f] = row[f];
      byKey.set(k, line);
    }
    addAmounts(line, row);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
}

export function totalsOf(lines: readonly Line[]): Totals {
  const t: Totals = {
    effective_cost: 0n,
    billed_cost: 0n,
    attributed_cost: 0n,
    unattributed_cost: 0n,
    disputed_cost: 0n,
    shared_cost: 0n,
    direct_cost: 0n,
    coverage: { attributed: 0n, direct: 0n },
    events: 0,
    unpriced_events: 0,
  };
  for (const l of lines) {
    t.effective_cost += l.effective_cost;
    t.billed_cost += l.billed_cost;
    t.shared_cost += l.shared_cost;
    t.direct_cost += l.direct_cost;
    if (l.status === 'attributed') t.attributed_cost += l.effective_cost;
    else if (l.status === 'unattributed') t.unattributed_cost += l.effective_cost;
    else t.disputed_cost += l.effective_cost;
    if (l.status === 'attributed') t.coverage.attributed += l.direct_cost;
    t.events += l.events;
    t.unpriced_events += l.unpriced_events;
  }
  t.coverage.direct = t.direct_cost;
  return t;
}

export function buildStatement(
  charges: readonly Charge[],
  shares: readonly PoolShare[],
  meta: { period: { start: number; end: number }; currency: string; inputs: StatementInputs },
  level: Level = 'line',
): Statement {
  const lines = sumLines([...charges, ...shares.map(poolShareAsLine)], level);
  return { ...meta, level, lines, totals: totalsOf(lines) };
}

/** The same statement with its lines rolled up to a level; totals do not change. */
export function rollUp(s: Statement, level: Level): Statement {
  if (level === s.level) return s;
  return { ...s, level, lines: sumLines(s.lines, level) };
}

/** Coverage as a number for display (4 decimals); the exact parts stay in the totals. */
export function coverageRatio(t: Totals): number | null {
  if (t.coverage.direct === 0n) return null;
  return Number((t.coverage.attributed * 1_000_000n) / t.coverage.direct) / 1_000_000;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The JSON form of SPEC §5, amounts as decimal strings. */
export function statementJson(s: Statement): unknown {
  const money = (m: Money) => formatMoney(m);
  return {
    period: { start: iso(s.period.start), end: iso(s.period.end) },
    currency: s.currency,
    level: s.level,
    totals: {
      effective_cost: money(s.totals.effective_cost),
      billed_cost: money(s.totals.billed_cost),
      attributed_cost: money(s.totals.attributed_cost),
      unattributed_cost: money(s.totals.unattributed_cost),
      disputed_cost: money(s.totals.disputed_cost),
      shared_cost: money(s.totals.shared_cost),
      coverage: coverageRatio(s.totals),
      events: s.totals.events,
      unpriced_events: s.totals.unpriced_events,
    },
    lines: s.lines.map((l) => ({
      cost_center: l.cost_center,
      team: l.team,
      application: l.application,
      tenant: l.tenant,
      environment: l.environment,
      category: l.category,
      status: l.status,
      reason: l.reason,
      pool: l.pool,
      direct_cost: money(l.direct_cost),
      shared_cost: money(l.shared_cost),
      effective_cost: money(l.effective_cost),
      list_cost: money(l.list_cost),
      billed_cost: money(l.billed_cost),
      events: l.events,
      unpriced_events: l.unpriced_events,
      input_tokens: l.input_tokens,
      output_tokens: l.output_tokens,
    })),
    inputs: s.inputs,
  };
}
