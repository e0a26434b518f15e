/**
 * Shared pools (SPEC §4.9): each pool's amount is split among the consumers
 * at its level, to the cent by largest remainder, ties broken by consumer id
 * ascending, so the shares always add up to the pool exactly.
 *
 * A pool's amount is per calendar month (UTC); a window gets each month's
 * amount prorated by the share of that month's time it covers
 * (`poolAmountIn`). A window without any event carries its pools
 * unallocated, as `pool_without_consumers`.
 */
import type { Charge, LineKey } from './attribution.js';
import type { PoolLevel, SharedPool } from './config.js';
import { allocateLargestRemainder, CENT, type Money } from './money.js';
import type { Registry } from './registry.js';

export interface PoolShare extends LineKey {
  amount: Money;
  /** The consumer at the pool's level, or null for an unallocated pool. */
  consumer: string | null;
  /** How the share was computed, for FOCUS AllocatedMethodDetails. */
  basisValue: string;
  basisTotal: string;
}

/** What a pool reads of the usage it is split over: statement lines (or charges, which sum into them). */
export type PoolUsage = Pick<
  Charge,
  | 'status'
  | 'pool'
  | 'category'
  | 'cost_center'
  | 'team'
  | 'application'
  | 'tenant'
  | 'effective_cost'
  | 'input_tokens'
  | 'output_tokens'
  | 'requests'
>;

function consumerOf(c: PoolUsage, level: PoolLevel): string | null {
  switch (level) {
    case 'team':
      return c.team;
    case 'application':
      return c.application;
    case 'tenant':
      return c.tenant;
    case 'cost_center':
      return c.cost_center;
  }
}

function basisOf(c: PoolUsage, pool: SharedPool): bigint {
  switch (pool.basis) {
    case 'cost':
      return c.effective_cost;
    case 'tokens':
      return BigInt(c.input_tokens + c.output_tokens);
    case 'requests':
      return BigInt(c.requests);
    default:
      return c.category === pool.basis ? c.effective_cost : 0n;
  }
}

/**
 * The part of a monthly amount that falls in [start, end): for each calendar
 * month the window touches, the amount to the cent at the window's end in that
 * month minus the amount to the cent at its start, where the amount to the
 * cent at an instant is the month's amount × the elapsed part of the month,
 * rounded half up to the cent (exact bigint arithmetic). A whole month gets
 * exactly its amount, and windows that tile a month (days, two-day windows,
 * budgets' days) add up to it exactly, each within a cent of its exact share.
 */
export function poolAmountIn(amount: Money, window: { start: number; end: number }): Money {
  let total = 0n;
  for (let m = monthStart(window.start); m < window.end; m = nextMonth(m)) {
    const next = nextMonth(m);
    const from = Math.max(window.start, m);
    const to = Math.min(window.end, next);
    total += elapsed(amount, m, next, to) - elapsed(amount, m, next, from);
  }
  return total;
}

/** The month's amount accrued at instant `t`, to the cent (the whole amount at the month's end). */
function elapsed(amount: Money, start: number, end: number, t: number): Money {
  if (t <= start) return 0n;
  if (t >= end) return amount;
  const num = amount * BigInt(t - start);
  const den = BigInt(end - start) * CENT;
  const neg = num < 0n;
  const q = ((neg ? -num : num) * 2n + den) / (2n * den);
  return (neg ? -q : q) * CENT;
}

function monthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonth(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The pool's shares for a window: its prorated amount split among the eligible consumers. */
export function allocatePool(
  pool: SharedPool,
  charges: readonly PoolUsage[],
  registry: Registry,
  window: { start: number; end: number },
): PoolShare[] {
  const periodEnd = window.end;
  const amount = poolAmountIn(pool.amount, window);
  const weights = new Map<string, bigint>();
  if (charges.length === 0) {
    // no event in the window: nobody consumed anything, weighted pools included
  } else if (pool.method === 'weighted') {
    for (const [id, w] of Object.entries(pool.weights)) weights.set(id, w);
  } else {
    for (const c of charges) {
      if (c.status !== 'attributed' || c.pool !== null) continue;
      const consumer = consumerOf(c, pool.level);
      if (consumer === null) continue;
      const value = pool.method === 'even' ? (c.effective_cost > 0n ? 1n : 0n) : basisOf(c, pool);
      if (pool.method === 'even') {
        if (value > 0n) weights.set(consumer, 1n);
      } else {
        weights.set(consumer, (weights.get(consumer) ?? 0n) + value);
      }
    }
  }
  const consumers = [...weights.entries()]
    .filter(([, w]) => w > 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (consumers.length === 0) {
    return [
      {
        ...lineFor(pool, null, registry, periodEnd),
        status: 'unattributed',
        reason: 'pool_without_consumers',
        amount,
        consumer: null,
        basisValue: '0',
        basisTotal: '0',
      },
    ];
  }
  const total = consumers.reduce((s, [, w]) => s + w, 0n);
  const shares = allocateLargestRemainder(
    amount,
    consumers.map(([, w]) => w),
  );
  return consumers.map(([consumer, w], i) => ({
    ...lineFor(pool, consumer, registry, periodEnd),
    amount: shares[i] ?? 0n,
    consumer,
    basisValue: w.toString(),
    basisTotal: total.toString(),
  }));
}

/** The line a share lands on: the consumer and, above it, its owner chain as of the period's last instant. */
function lineFor(pool: SharedPool, consumer: string | null, registry: Registry, periodEnd: number): LineKey {
  const at = periodEnd - 1;
  const key: LineKey = {
    cost_center: null,
    team: null,
    application: null,
    tenant: null,
    environment: null,
    category: 'shared',
    status: 'attributed',
    reason: null,
    pool: pool.id,
  };
  if (consumer === null) return key;
  switch (pool.level) {
    case 'cost_center':
      key.cost_center = consumer;
      break;
    case 'team':
      key.team = consumer;
      key.cost_center = registry.teamCostCenter(consumer, at);
      break;
    case 'application': {
      key.application = consumer;
      const owner = registry.applicationOwner(consumer, at);
      if (owner.ok) {
        key.team = owner.chain.team;
        key.cost_center = owner.chain.costCenter;
      } else {
        key.team = owner.partial.team ?? null;
      }
      break;
    }
    case 'tenant':
      key.tenant = consumer;
      break;
  }
  return key;
}
