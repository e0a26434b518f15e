import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PoolShare } from '../../src/core/allocation.js';
import type { Charge, LineKey } from '../../src/core/attribution.js';
import { type Money, parseMoney } from '../../src/core/money.js';
import { csvRecords } from '../../src/export/csv.js';
import {
  FOCUS_NAMES,
  type FocusColumn,
  type FocusRow,
  FocusUsage,
  focusCsvChunks,
  focusRowChunks,
  focusRows,
  renderFocusCsv,
} from '../../src/export/focus.js';
import { charge, DAY, OCT, pool, share, statement } from './fixtures.js';

const FOCUS_12 = [
  'AvailabilityZone',
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingAccountType',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'CapacityReservationId',
  'CapacityReservationStatus',
  'ChargeCategory',
  'ChargeClass',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'CommitmentDiscountCategory',
  'CommitmentDiscountId',
  'CommitmentDiscountName',
  'CommitmentDiscountQuantity',
  'CommitmentDiscountStatus',
  'CommitmentDiscountType',
  'CommitmentDiscountUnit',
  'ConsumedQuantity',
  'ConsumedUnit',
  'ContractedCost',
  'ContractedUnitPrice',
  'EffectiveCost',
  'InvoiceId',
  'InvoiceIssuerName',
  'ListCost',
  'ListUnitPrice',
  'PricingCategory',
  'PricingCurrency',
  'PricingCurrencyContractedUnitPrice',
  'PricingCurrencyEffectiveCost',
  'PricingCurrencyListUnitPrice',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'RegionId',
  'RegionName',
  'ResourceId',
  'ResourceName',
  'ResourceType',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
  'SkuMeter',
  'SkuPriceDetails',
  'SkuPriceId',
  'SubAccountId',
  'SubAccountName',
  'SubAccountType',
  'Tags',
];
const ALLOCATION = [
  'AllocatedMethodDetails',
  'AllocatedMethodId',
  'AllocatedResourceId',
  'AllocatedResourceName',
];
const X_COLUMNS = [
  'x_CostCenterId',
  'x_TeamId',
  'x_ApplicationId',
  'x_TenantId',
  'x_Environment',
  'x_CostCategory',
  'x_AttributionStatus',
  'x_AttributionReason',
  'x_IdentityId',
  'x_SharedPoolId',
  'x_InputTokens',
  'x_OutputTokens',
  'x_Events',
  'x_Estimated',
];

/** Non-null on every row of ours: the mandatory FOCUS 1.2 columns that allow no null for usage charges. */
const NEVER_NULL: FocusColumn[] = [
  'BilledCost',
  'BillingAccountId',
  'BillingAccountName',
  'BillingCurrency',
  'BillingPeriodEnd',
  'BillingPeriodStart',
  'ChargeCategory',
  'ChargeDescription',
  'ChargeFrequency',
  'ChargePeriodEnd',
  'ChargePeriodStart',
  'ContractedCost',
  'EffectiveCost',
  'InvoiceIssuerName',
  'ListCost',
  'PricingCategory',
  'PricingQuantity',
  'PricingUnit',
  'ProviderName',
  'PublisherName',
  'ServiceCategory',
  'ServiceName',
  'ServiceSubcategory',
  'SkuId',
];

const DECIMALS: FocusColumn[] = [
  'BilledCost',
  'EffectiveCost',
  'ListCost',
  'ContractedCost',
  'PricingQuantity',
];

const meta = { period: OCT, currency: 'USD', pools: [pool()] };

describe('FOCUS columns', () => {
  it('writes the FOCUS 1.2 columns, then the 1.3 allocation columns, then the x_ columns of SPEC §5.1', () => {
    const header = renderFocusCsv([]).split('\r\n')[0]?.split(',');
    expect(header).toEqual([...FOCUS_12, ...ALLOCATION, ...X_COLUMNS]);
  });

  it('fills the mandatory columns on usage and pool rows', () => {
    const rows = focusRows(
      [
        charge(),
        charge({ provider: null, model: null, category: 'tool', input_tokens: 0, output_tokens: 0 }),
      ],
      [share(), share({ consumer: null, team: null, cost_center: null, status: 'unattributed' })],
      meta,
    );
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      for (const col of NEVER_NULL) expect(row[col], col).not.toBeNull();
      expect(row.ServiceCategory).toBe('AI and Machine Learning');
      expect(row.ServiceSubcategory).toBe('Generative AI');
    }
  });

  it('charges a usage row for one UTC day, end exclusive, within the statement’s billing period', () => {
    const [row] = focusRows([charge({ day: OCT.start + 30 * DAY })], [], meta);
    expect(row?.ChargePeriodStart).toBe('2026-10-31T00:00:00Z');
    expect(row?.ChargePeriodEnd).toBe('2026-11-01T00:00:00Z');
    expect(row?.BillingPeriodStart).toBe('2026-10-01T00:00:00Z');
    expect(row?.BillingPeriodEnd).toBe('2026-11-01T00:00:00Z');
    expect(row?.ChargeFrequency).toBe('Usage-Based');
  });

  it('gives a pool row the whole period', () => {
    const [row] = focusRows([], [share()], meta);
    expect(row?.ChargePeriodStart).toBe('2026-10-01T00:00:00Z');
    expect(row?.ChargePeriodEnd).toBe('2026-11-01T00:00:00Z');
  });

  it('maps a usage row to tokens, the provider, the model and the identity', () => {
    const [row] = focusRows([charge({ project: 'proj_1', tenant: 'tenant-x' })], [], meta);
    expect(row).toMatchObject({
      ConsumedQuantity: '1200',
      ConsumedUnit: 'Tokens',
      PricingQuantity: '1200',
      PricingUnit: 'Tokens',
      ProviderName: 'openai',
      ServiceName: 'OpenAI API',
      SkuId: 'gpt-4o',
      ResourceId: 'nhi-a',
      SubAccountId: 'proj_1',
      ChargeCategory: 'Usage',
      ChargeClass: null,
      EffectiveCost: '1.25',
      ContractedCost: '1.25',
      ListCost: '1.50',
      BilledCost: '1.25',
      x_IdentityId: 'nhi-a',
      x_InputTokens: 1000,
      x_OutputTokens: 200,
      x_Events: 3,
      x_Estimated: 'false',
    });
    expect(JSON.parse(String(row?.Tags))).toEqual({
      cost_center: 'cc-a',
      team: 'team-a',
      application: 'app-a',
      tenant: 'tenant-x',
    });
  });

  it('counts requests when a row has no tokens', () => {
    const [row] = focusRows(
      [charge({ category: 'tool', input_tokens: 0, output_tokens: 0, requests: 7 })],
      [],
      meta,
    );
    expect(row).toMatchObject({ ConsumedQuantity: '7', ConsumedUnit: 'Requests' });
  });

  it('writes exact decimals: no exponent, no float, every pico-unit kept', () => {
    const tiny = 1n;
    const huge = parseMoney('123456789012345678.123456789012');
    const rows = focusRows(
      [
        charge({ effective_cost: tiny, direct_cost: tiny, billed_cost: tiny, list_cost: tiny }),
        charge({
          identity: 'nhi-b',
          effective_cost: huge,
          direct_cost: huge,
          billed_cost: huge,
          list_cost: huge,
        }),
      ],
      [],
      meta,
    );
    expect(rows.map((r) => r.EffectiveCost)).toEqual(['0.000000000001', '123456789012345678.123456789012']);
    for (const row of rows) {
      for (const col of DECIMALS) expect(String(row[col])).toMatch(/^-?\d+\.?\d*$/);
    }
  });

  it('marks a restatement run as a correction', () => {
    const [row] = focusRows([charge()], [share()], { ...meta, chargeClass: 'Correction' });
    expect(row?.ChargeClass).toBe('Correction');
  });
});

describe('FOCUS rows', () => {
  it('hands each day over once a later day comes, and refuses a day that comes back', () => {
    const days: number[][] = [];
    const usage = new FocusUsage((rows) => days.push(rows.map((r) => r.day as number)));
    for (const d of [0, 0, 1, 3, 3, 3]) usage.add(charge({ day: OCT.start + d * DAY, tenant: `t-${d}` }));
    expect(days).toEqual([[OCT.start], [OCT.start + DAY]]);
    expect(usage.rows().map((r) => r.day)).toEqual([OCT.start + 3 * DAY]);
    expect(() => usage.add(charge({ day: OCT.start + 2 * DAY }))).toThrow(RangeError);
  });

  it('in chunks are the rows of all the charges at once, and their CSV the same text', () => {
    const charges = Array.from({ length: 9_500 }, (_, i) =>
      charge({
        day: OCT.start + (i % 31) * DAY,
        tenant: `tenant-${i % 400}`,
        identity: `nhi-${i % 7}`,
        effective_cost: BigInt(i) * 1_234_567n,
        direct_cost: BigInt(i) * 1_234_567n,
        input_tokens: i,
      }),
    );
    const all = focusRows(charges, [share()], meta);
    const chunks = [...focusRowChunks(FocusUsage.of(charges).rows(), [share()], meta)];
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.flat()).toEqual(all);
    expect([...focusCsvChunks(chunks)].join('')).toBe(renderFocusCsv(all));
    expect(renderFocusCsv([]).split('\r\n')).toHaveLength(2); // the header and its CRLF alone
  });

  it('writes each row as the general CSV writer does, its columns in FOCUS order', () => {
    // Values a telemetry sender controls: separators, quotes, line breaks, formula starts.
    const hostile = ['a,b', 'say "hi"', 'two\nlines', '=SUM(A1)', '-1.23', '+x', '@cmd', '\tlead', 'plain'];
    const charges = hostile.map((text, i) =>
      charge({
        day: OCT.start + i * DAY,
        tenant: text,
        identity: `nhi-${text}`,
        model: text,
        input_tokens: i,
      }),
    );
    const rows = focusRows(charges, [share()], meta);
    for (const row of rows) expect(Object.keys(row)).toEqual(FOCUS_NAMES);
    const general = csvRecords([FOCUS_NAMES, ...rows.map((r) => FOCUS_NAMES.map((n) => r[n]))]);
    expect(renderFocusCsv(rows)).toBe(general);
    expect(general).toContain('"a,b"');
    expect(general).toContain("'=SUM(A1)");
  });

  it('sums charges of one day, line and identity into one row and splits the rest', () => {
    const rows = focusRows(
      [
        charge(),
        charge(),
        charge({ identity: 'nhi-b' }),
        charge({ day: OCT.start + 2 * DAY }),
        charge({ model: 'gpt-4o-mini' }),
      ],
      [],
      meta,
    );
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.EffectiveCost)).toContain('2.50');
  });

  it('fills the allocation columns on pool rows only', () => {
    const shares = [
      share({ consumer: 'team-a', basisValue: '1', basisTotal: '3', amount: parseMoney('33.34') }),
      share({
        consumer: 'team-b',
        team: 'team-b',
        basisValue: '2',
        basisTotal: '3',
        amount: parseMoney('66.66'),
      }),
    ];
    const rows = focusRows([charge()], shares, {
      ...meta,
      pools: [pool({ basis: 'requests' })],
      names: {
        team: new Map([['team-b', 'Team B']]),
        cost_center: new Map(),
        application: new Map(),
        tenant: new Map(),
      },
    });
    const usage = rows.filter((r) => r.x_SharedPoolId === null);
    const pools = rows.filter((r) => r.x_SharedPoolId !== null);
    for (const row of usage) for (const col of ALLOCATION) expect(row[col as FocusColumn]).toBeNull();
    expect(pools.map((r) => [r.AllocatedMethodId, r.AllocatedResourceId, r.AllocatedResourceName])).toEqual([
      ['proportional', 'team-a', 'team-a'],
      ['proportional', 'team-b', 'Team B'],
    ]);
    const details = pools.map((r) => JSON.parse(String(r.AllocatedMethodDetails)));
    expect(details[1]).toEqual({
      Elements: [{ AllocatedRatio: 0.666666666667, UsageUnit: 'Requests', UsageQuantity: 2 }],
      x_Basis: 'Requests',
      x_BasisTotal: 3,
    });
    const ratios = pools.map(
      (r) => /"AllocatedRatio":([\d.]+)/.exec(String(r.AllocatedMethodDetails))?.[1] ?? '',
    );
    expect(ratios.reduce((a, r) => a + parseMoney(r), 0n)).toBe(parseMoney('1'));
    expect(pools.map((r) => r.ChargeFrequency)).toEqual(['Recurring', 'Recurring']);
  });

  it('leaves the allocated resource empty on a pool without consumers', () => {
    const [row] = focusRows(
      [],
      [
        share({
          consumer: null,
          team: null,
          cost_center: null,
          status: 'unattributed',
          reason: 'pool_without_consumers',
        }),
      ],
      meta,
    );
    expect(row).toMatchObject({
      AllocatedMethodId: 'proportional',
      AllocatedResourceId: null,
      BilledCost: '0.00',
      EffectiveCost: '100.00',
      x_AttributionReason: 'pool_without_consumers',
    });
  });

  it('refuses a share of a pool it does not know', () => {
    expect(() => focusRows([], [share({ pool: 'pool-gone' })], meta)).toThrow(/pool-gone/);
  });
});

const X_BY_FIELD: [FocusColumn, keyof LineKey][] = [
  ['x_CostCenterId', 'cost_center'],
  ['x_TeamId', 'team'],
  ['x_ApplicationId', 'application'],
  ['x_TenantId', 'tenant'],
  ['x_Environment', 'environment'],
  ['x_CostCategory', 'category'],
  ['x_AttributionStatus', 'status'],
  ['x_AttributionReason', 'reason'],
  ['x_SharedPoolId', 'pool'],
];

function sumBy<T>(items: readonly T[], key: (t: T) => unknown, amount: (t: T) => Money): Map<string, Money> {
  const out = new Map<string, Money>();
  for (const t of items) {
    const k = JSON.stringify(key(t) ?? null);
    out.set(k, (out.get(k) ?? 0n) + amount(t));
  }
  return out;
}

const money = (r: FocusRow, c: FocusColumn) => parseMoney(String(r[c]));
const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const orNull = <T>(xs: readonly T[]) => fc.option(pick(xs), { nil: null });

const chargeArb: fc.Arbitrary<Charge> = fc
  .record({
    cost_center: orNull(['cc-a', 'cc-b']),
    team: orNull(['team-a', 'team-b', 'team-c']),
    application: orNull(['app-a', 'app-b']),
    tenant: orNull(['t1', 't2']),
    environment: orNull(['production', 'experimentation']),
    category: pick(['inference', 'embedding', 'retrieval', 'tool'] as const),
    status: pick(['attributed', 'unattributed', 'disputed'] as const),
    reason: orNull(['unknown_identity', 'use_after_compromise', 'tenant_unverified'] as const),
    identity: orNull(['nhi-a', 'nhi-b', 'api_key:abc']),
    provider: orNull(['openai', 'anthropic']),
    model: orNull(['gpt-4o', 'claude']),
    project: orNull(['p1']),
    day: fc.integer({ min: 0, max: 30 }).map((d) => OCT.start + d * DAY),
    effective: fc.bigInt({ min: 0n, max: 10n ** 15n }),
    billed: fc.bigInt({ min: 0n, max: 10n ** 15n }),
    tokens: fc.integer({ min: 0, max: 10_000 }),
    events: fc.integer({ min: 1, max: 50 }),
  })
  .map(({ effective, billed, tokens, events, ...key }) =>
    charge({
      ...key,
      direct_cost: effective,
      effective_cost: effective,
      list_cost: effective,
      billed_cost: billed,
      input_tokens: tokens,
      output_tokens: tokens >> 1,
      events,
    }),
  );

const shareArb: fc.Arbitrary<PoolShare> = fc
  .record({
    pool: pick(['pool-a', 'pool-b']),
    consumer: orNull(['team-a', 'team-b']),
    amount: fc.bigInt({ min: 0n, max: 10n ** 16n }),
    basisValue: fc.integer({ min: 1, max: 100 }),
  })
  .map(({ consumer, amount, basisValue, pool: id }) =>
    share({
      pool: id,
      consumer,
      team: consumer,
      amount,
      basisValue: String(basisValue),
      basisTotal: '100',
      status: consumer === null ? 'unattributed' : 'attributed',
      reason: consumer === null ? 'pool_without_consumers' : null,
    }),
  );

describe('FOCUS sums to the statement', () => {
  it('gives the statement’s effective and billed cost, tokens and events grouped by every x_ column', () => {
    fc.assert(
      fc.property(
        fc.array(chargeArb, { maxLength: 40 }),
        fc.array(shareArb, { maxLength: 6 }),
        (charges, shares) => {
          const rows = focusRows(charges, shares, {
            ...meta,
            pools: [pool({ id: 'pool-a' }), pool({ id: 'pool-b', method: 'even' })],
          });
          const s = statement(charges, shares);
          for (const [col, field] of X_BY_FIELD) {
            expect(
              sumBy(
                rows,
                (r) => r[col],
                (r) => money(r, 'EffectiveCost'),
              ),
            ).toEqual(
              sumBy(
                s.lines,
                (l) => l[field],
                (l) => l.effective_cost,
              ),
            );
            expect(
              sumBy(
                rows,
                (r) => r[col],
                (r) => money(r, 'BilledCost'),
              ),
            ).toEqual(
              sumBy(
                s.lines,
                (l) => l[field],
                (l) => l.billed_cost,
              ),
            );
            expect(
              sumBy(
                rows,
                (r) => r[col],
                (r) => BigInt(Number(r.x_Events)),
              ),
            ).toEqual(
              sumBy(
                s.lines,
                (l) => l[field],
                (l) => BigInt(l.events),
              ),
            );
          }
          expect(
            sumBy(
              rows,
              (r) => r.x_IdentityId,
              (r) => money(r, 'EffectiveCost'),
            ),
          ).toEqual(
            sumBy(
              [
                ...charges.map((c) => ({ id: c.identity, m: c.effective_cost })),
                ...shares.map((x) => ({ id: null, m: x.amount })),
              ],
              (x) => x.id,
              (x) => x.m,
            ),
          );
          const tokens = rows.reduce((n, r) => n + Number(r.x_InputTokens) + Number(r.x_OutputTokens), 0);
          expect(tokens).toBe(s.lines.reduce((n, l) => n + l.input_tokens + l.output_tokens, 0));
        },
      ),
      { numRuns: 200 },
    );
  });
});
