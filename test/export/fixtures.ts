import type { PoolShare } from '../../src/core/allocation.js';
import { type Charge, emptyAmounts } from '../../src/core/attribution.js';
import type { SharedPool } from '../../src/core/config.js';
import { parseMoney } from '../../src/core/money.js';
import { buildStatement, type Level, type Statement } from '../../src/core/statement.js';

export const OCT = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1) };
export const DAY = 86_400_000;

/** An attributed inference charge of team-a on 2026-10-02; override what a test is about. */
export function charge(fields: Partial<Charge> = {}): Charge {
  const cost = parseMoney('1.25');
  return {
    cost_center: 'cc-a',
    team: 'team-a',
    application: 'app-a',
    tenant: null,
    environment: 'production',
    category: 'inference',
    status: 'attributed',
    reason: null,
    pool: null,
    ...emptyAmounts(),
    direct_cost: cost,
    effective_cost: cost,
    list_cost: parseMoney('1.5'),
    billed_cost: cost,
    events: 3,
    requests: 3,
    input_tokens: 1000,
    output_tokens: 200,
    identity: 'nhi-a',
    payer: 'nhi-a',
    provider: 'openai',
    model: 'gpt-4o',
    project: null,
    api_key: null,
    day: OCT.start + DAY,
    time: OCT.start + DAY + 3_600_000,
    refusedTenant: null,
    staleOwner: false,
    disputes: [],
    ...fields,
  };
}

export function pool(fields: Partial<SharedPool> = {}): SharedPool {
  return {
    id: 'pool-vectordb',
    amount: parseMoney('100'),
    level: 'team',
    method: 'proportional',
    basis: 'cost',
    weights: {},
    ...fields,
  };
}

export function share(fields: Partial<PoolShare> = {}): PoolShare {
  return {
    cost_center: 'cc-a',
    team: 'team-a',
    application: null,
    tenant: null,
    environment: null,
    category: 'shared',
    status: 'attributed',
    reason: null,
    pool: 'pool-vectordb',
    amount: parseMoney('100'),
    consumer: 'team-a',
    basisValue: '1',
    basisTotal: '1',
    ...fields,
  };
}

export function statement(charges: Charge[], shares: PoolShare[] = [], level: Level = 'line'): Statement {
  return buildStatement(
    charges,
    shares,
    {
      period: OCT,
      currency: 'USD',
      inputs: { config_sha256: 'abc', catalog_version: 'test', events: 0, audit_head: null },
    },
    level,
  );
}
