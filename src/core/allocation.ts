/**
 * Shared pools (SPEC §4.9): each pool's amount is split among the consumers
 * at its level, to the cent by largest remainder, ties broken by consumer id
 * ascending, so the shares always add up to the pool exactly.
 */
import type { Charge, LineKey } from './attribution.js';
import type { PoolLevel, SharedPool } from './config.js';
import { allocateLargestRemainder, type Money } from './money.js';
import type { Registry } from './registry.js';

export interface PoolShare extends LineKey {
  amount: Money;
  /** The consumer at the pool's level, or null for an unallocated pool. */
  consumer: string | null;
  /** How the share was computed, for FOCUS AllocatedMethodDetails. */
  basisValue: string;
  basisTotal: string;
}

function consumerOf(c: Charge, level: PoolLevel): string | null {
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

function basisOf(c: Charge, pool: SharedPool): bigint {
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

export function allocatePool(
  pool: SharedPool,
  charges: readonly Charge[],
  registry: Registry,
  periodEnd: number,
): PoolShare[] {
  const weights = new Map<string, bigint>();
  if (pool.method === 'weighted') {
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
        amount: pool.amount,
        consumer: null,
        basisValue: '0',
        basisTotal: '0',
      },
    ];
  }
  const total = consumers.reduce((s, [, w]) => s + w, 0n);
  const shares = allocateLargestRemainder(
    pool.amount,
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
