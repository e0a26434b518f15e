/**
 * FOCUS export (SPEC §5.1): the charges and pool shares behind a statement as
 * FOCUS 1.2 rows, with the FOCUS 1.3 allocation columns on shared-pool rows
 * and tally's x_ columns after them. Usage rows are one per UTC day, line,
 * identity, provider, model and provider project; a pool row is one share and
 * covers the whole billing period. Amounts are exact decimal strings, so
 * EffectiveCost summed by any x_ column gives the JSON statement's figures.
 * docs/focus.md explains each choice.
 */
import type { PoolShare } from '../core/allocation.js';
import { type Amounts, addAmounts, type Charge, emptyAmounts, type LineKey } from '../core/attribution.js';
import type { Config, SharedPool } from '../core/config.js';
import { allocateLargestRemainder, formatMoney, type Money, ONE } from '../core/money.js';
import { iso as isoOf, KEY_FIELDS, poolShareAsLine } from '../core/statement.js';
import { csvField, csvRecords } from './csv.js';
import { type Names, nameOf, namesOf } from './names.js';

export type FocusColumnType = 'varchar' | 'decimal' | 'timestamp' | 'json' | 'bigint' | 'boolean';

/** FOCUS 1.2 columns in the spec's (alphabetical) order, then the 1.3 allocation columns, then ours. */
export const FOCUS_COLUMNS = [
  ['AvailabilityZone', 'varchar'],
  ['BilledCost', 'decimal'],
  ['BillingAccountId', 'varchar'],
  ['BillingAccountName', 'varchar'],
  ['BillingAccountType', 'varchar'],
  ['BillingCurrency', 'varchar'],
  ['BillingPeriodEnd', 'timestamp'],
  ['BillingPeriodStart', 'timestamp'],
  ['CapacityReservationId', 'varchar'],
  ['CapacityReservationStatus', 'varchar'],
  ['ChargeCategory', 'varchar'],
  ['ChargeClass', 'varchar'],
  ['ChargeDescription', 'varchar'],
  ['ChargeFrequency', 'varchar'],
  ['ChargePeriodEnd', 'timestamp'],
  ['ChargePeriodStart', 'timestamp'],
  ['CommitmentDiscountCategory', 'varchar'],
  ['CommitmentDiscountId', 'varchar'],
  ['CommitmentDiscountName', 'varchar'],
  ['CommitmentDiscountQuantity', 'decimal'],
  ['CommitmentDiscountStatus', 'varchar'],
  ['CommitmentDiscountType', 'varchar'],
  ['CommitmentDiscountUnit', 'varchar'],
  ['ConsumedQuantity', 'decimal'],
  ['ConsumedUnit', 'varchar'],
  ['ContractedCost', 'decimal'],
  ['ContractedUnitPrice', 'decimal'],
  ['EffectiveCost', 'decimal'],
  ['InvoiceId', 'varchar'],
  ['InvoiceIssuerName', 'varchar'],
  ['ListCost', 'decimal'],
  ['ListUnitPrice', 'decimal'],
  ['PricingCategory', 'varchar'],
  ['PricingCurrency', 'varchar'],
  ['PricingCurrencyContractedUnitPrice', 'decimal'],
  ['PricingCurrencyEffectiveCost', 'decimal'],
  ['PricingCurrencyListUnitPrice', 'decimal'],
  ['PricingQuantity', 'decimal'],
  ['PricingUnit', 'varchar'],
  ['ProviderName', 'varchar'],
  ['PublisherName', 'varchar'],
  ['RegionId', 'varchar'],
  ['RegionName', 'varchar'],
  ['ResourceId', 'varchar'],
  ['ResourceName', 'varchar'],
  ['ResourceType', 'varchar'],
  ['ServiceCategory', 'varchar'],
  ['ServiceName', 'varchar'],
  ['ServiceSubcategory', 'varchar'],
  ['SkuId', 'varchar'],
  ['SkuMeter', 'varchar'],
  ['SkuPriceDetails', 'json'],
  ['SkuPriceId', 'varchar'],
  ['SubAccountId', 'varchar'],
  ['SubAccountName', 'varchar'],
  ['SubAccountType', 'varchar'],
  ['Tags', 'json'],
  ['AllocatedMethodDetails', 'json'],
  ['AllocatedMethodId', 'varchar'],
  ['AllocatedResourceId', 'varchar'],
  ['AllocatedResourceName', 'varchar'],
  ['x_CostCenterId', 'varchar'],
  ['x_TeamId', 'varchar'],
  ['x_ApplicationId', 'varchar'],
  ['x_TenantId', 'varchar'],
  ['x_Environment', 'varchar'],
  ['x_CostCategory', 'varchar'],
  ['x_AttributionStatus', 'varchar'],
  ['x_AttributionReason', 'varchar'],
  ['x_IdentityId', 'varchar'],
  ['x_SharedPoolId', 'varchar'],
  ['x_InputTokens', 'bigint'],
  ['x_OutputTokens', 'bigint'],
  ['x_Events', 'bigint'],
  // SPEC §11: the row's amounts and counts are estimates from sampled telemetry.
  ['x_Estimated', 'boolean'],
] as const satisfies readonly (readonly [string, FocusColumnType])[];

export type FocusColumn = (typeof FOCUS_COLUMNS)[number][0];

/** Decimals and timestamps as strings (exact decimal, ISO 8601 UTC), JSON serialised, counts as numbers. */
export type FocusRow = Record<FocusColumn, string | number | null>;

export interface FocusMeta {
  period: { start: number; end: number };
  currency: string;
  /** The configured pools: a share's level, method and basis. */
  pools: readonly SharedPool[];
  /** Display names for AllocatedResourceName; ids are used without them. */
  names?: Names;
  /** The account the chargeback is issued under (default id and name `tally`). */
  billingAccount?: { id: string; name: string };
  /** `Correction` for a restatement run (SPEC §5.3). */
  chargeClass?: 'Correction';
}

/** The FOCUS metadata of a window under a configuration: its currency, pools and display names. */
export function focusMeta(config: Config, period: { start: number; end: number }): FocusMeta {
  return {
    period: { start: period.start, end: period.end },
    currency: config.currency,
    pools: config.sharedPools,
    names: namesOf(config),
  };
}

const DAY_MS = 86_400_000;

/**
 * An instant in ISO 8601, remembered: the rows of a month have a few dozen
 * distinct days and bounds, and writing the text anew, four times a row, took
 * a twelfth of a month's export (4M rows).
 */
const isoText = new Map<number, string>();
function iso(ms: number): string {
  let text = isoText.get(ms);
  if (text === undefined) {
    text = isoOf(ms);
    if (isoText.size > 10_000) isoText.clear();
    isoText.set(ms, text);
  }
  return text;
}

const SERVICE_NAMES: Record<string, string> = {
  openai: 'OpenAI API',
  anthropic: 'Anthropic API',
  azure: 'Azure OpenAI',
  bedrock: 'Amazon Bedrock',
  google: 'Gemini API',
  'google-vertex': 'Vertex AI',
  mistral: 'Mistral AI API',
};

export function focusRows(
  charges: readonly Charge[],
  shares: readonly PoolShare[],
  meta: FocusMeta,
): FocusRow[] {
  return [...focusRowChunks(FocusUsage.of(charges).rows(), shares, meta)].flat();
}

/**
 * Rows per chunk of `focusRowChunks`. A chunk's rows and their text are alive until it is written, so
 * each young-generation collection copies them: at 4,096 rows the 1M-event month's export spent
 * 3.2 s in 643 of them; at 1,024 its CSV took 18.6–18.7 s instead of 19.6–19.9 s and its Parquet
 * 24.0 s instead of 25.2–25.5 s, the same files.
 */
const CHUNK_ROWS = 1024;

/**
 * The FOCUS rows of usage rows and pool shares, a chunk at a time: a month
 * has millions of usage rows, and all of their 75-column rows at once did
 * not fit in Node.js's heap.
 */
export function* focusRowChunks(
  usage: readonly UsageRow[],
  shares: readonly PoolShare[],
  meta: FocusMeta,
): Generator<FocusRow[]> {
  for (let at = 0; at < usage.length; at += CHUNK_ROWS)
    yield usage.slice(at, at + CHUNK_ROWS).map((u) => usageRow(u, meta));
  const pools = poolRatios(shares).map(([share, ratio]) => poolRow(share, ratio, meta));
  if (pools.length > 0) yield pools;
}

export function renderFocusCsv(rows: readonly FocusRow[]): string {
  return [...focusCsvChunks([rows])].join('');
}

/** FOCUS CSV in chunks: the header, then each chunk's rows (the same text as `renderFocusCsv` of them all). */
export function* focusCsvChunks(chunks: Iterable<readonly FocusRow[]>): Generator<string> {
  yield FOCUS_CSV_HEADER;
  for (const rows of chunks) if (rows.length > 0) yield focusCsvRecords(rows);
}

/** The FOCUS column names, in order. */
export const FOCUS_NAMES = FOCUS_COLUMNS.map(([name]) => name);

/** The FOCUS CSV header record. */
export const FOCUS_CSV_HEADER = csvRecords([FOCUS_NAMES]);

/** FOCUS rows as CSV records, without the header. */
export function focusCsvRecords(rows: readonly FocusRow[]): string {
  // One array of fields reused for every row: a month's export writes millions of them.
  const records = new Array<string>(rows.length);
  const fields = new Array<string>(FOCUS_NAMES.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as FocusRow;
    for (let i = 0; i < FOCUS_NAMES.length; i++) fields[i] = csvField(row[FOCUS_NAMES[i] as FocusColumn]);
    records[r] = fields.join(',');
  }
  return `${records.join('\r\n')}\r\n`;
}

/** What makes a usage row: the day, the line, and what FOCUS needs single-valued on a row. */
const ROW_FIELDS = [
  'day',
  ...KEY_FIELDS,
  'identity',
  'provider',
  'model',
  'project',
] as const satisfies readonly (keyof Charge)[];

export type UsageRow = Pick<Charge, (typeof ROW_FIELDS)[number]> & Amounts & { estimated?: true };

/**
 * Charges summed per day, line, identity, provider, model and project as
 * they are added, so that a month's millions of charges need not be kept.
 * Given `done`, the rows of a day are handed to it as soon as a charge of a
 * later day comes, and let go: the charges must then come day by day (as a
 * store hands over groups by day, `UsageQuery.byDay`), and only one day's
 * rows are ever held.
 */
export class FocusUsage {
  readonly #byKey = new Map<string, UsageRow>();
  #day: number | null | undefined;

  constructor(private readonly done?: (rows: UsageRow[]) => void) {}

  static of(charges: Iterable<Charge>): FocusUsage {
    const usage = new FocusUsage();
    for (const c of charges) usage.add(c);
    return usage;
  }

  add(c: Charge): void {
    if (this.done && this.#day !== undefined && c.day !== this.#day) this.#nextDay(c.day);
    this.#day = c.day;
    const key = JSON.stringify(ROW_FIELDS.map((f) => c[f]));
    let row = this.#byKey.get(key);
    if (!row) {
      row = emptyAmounts() as UsageRow;
      for (const f of ROW_FIELDS) (row as unknown as Record<string, unknown>)[f] = c[f];
      this.#byKey.set(key, row);
    }
    addAmounts(row, c);
    if (c.sample) row.estimated = true;
  }

  /** The rows not yet handed over: by day (a row without one last), then by their key's text; estimated counts rounded. */
  rows(): UsageRow[] {
    return [...this.#byKey.entries()]
      .sort(([a, x], [b, y]) => dayOrder(x.day, y.day) || (a < b ? -1 : a > b ? 1 : 0))
      .map(([, u]) => (u.estimated ? roundedCounts(u) : u));
  }

  #nextDay(day: number | null): void {
    if (day === null || this.#day === null || day < (this.#day as number))
      throw new RangeError(`FOCUS rows: a charge of day ${day} after those of day ${this.#day}`);
    this.done?.(this.rows());
    this.#byKey.clear();
  }
}

const dayOrder = (a: number | null, b: number | null) =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : a - b;

/** Counts of sampled usage are estimates, shown as whole numbers (SPEC §11). */
function roundedCounts(u: UsageRow): UsageRow {
  for (const f of ['events', 'unpriced_events', 'requests', 'input_tokens', 'output_tokens'] as const)
    u[f] = Math.round(u[f]);
  return u;
}

function usageRow(u: UsageRow, meta: FocusMeta): FocusRow {
  const provider = u.provider ?? account(meta).name;
  const tokens = u.input_tokens + u.output_tokens;
  const [quantity, unit] = tokens > 0 ? [tokens, 'Tokens'] : [u.requests || u.events, 'Requests'];
  const start = u.day ?? meta.period.start;
  const what = u.model ?? u.category ?? 'usage';
  const row = commonRow(u, meta);
  row.ChargeCategory = 'Usage';
  row.ChargeDescription = `${what} (${u.category ?? 'usage'}) used by ${u.identity ?? 'an unknown identity'}`;
  row.ChargeFrequency = 'Usage-Based';
  row.ChargePeriodStart = iso(start);
  row.ChargePeriodEnd = iso(u.day === null ? meta.period.end : u.day + DAY_MS);
  row.ConsumedQuantity = String(quantity);
  row.ConsumedUnit = unit;
  row.InvoiceIssuerName = provider;
  row.PricingCategory = 'Standard';
  row.PricingQuantity = String(quantity);
  row.PricingUnit = unit;
  row.ProviderName = provider;
  row.PublisherName = provider;
  row.ResourceId = u.identity;
  row.ResourceName = u.identity;
  row.ResourceType = u.identity === null ? null : 'Non-Human Identity';
  row.ServiceName = SERVICE_NAMES[provider] ?? `${provider} API`;
  row.SkuId = what;
  row.SubAccountId = u.project;
  row.SubAccountName = u.project;
  row.SubAccountType = u.project === null ? null : 'Project';
  row.x_IdentityId = u.identity;
  row.x_Estimated = u.estimated ? 'true' : 'false';
  return row;
}

/** Each share with its AllocatedRatio, in pico-units: exact, and summing to 1 within each pool. */
function poolRatios(shares: readonly PoolShare[]): [PoolShare, Money][] {
  const byPool = new Map<string | null, PoolShare[]>();
  for (const s of shares) byPool.set(s.pool, [...(byPool.get(s.pool) ?? []), s]);
  return [...byPool.values()].flatMap((group) => {
    const weights = group.map((s) => BigInt(s.basisValue));
    const ratios = weights.some((w) => w > 0n)
      ? allocateLargestRemainder(ONE, weights, 1n)
      : group.map(() => ONE);
    return group.map((s, i): [PoolShare, Money] => [s, ratios[i] ?? 0n]);
  });
}

function poolRow(share: PoolShare, ratio: Money, meta: FocusMeta): FocusRow {
  const pool = meta.pools.find((p) => p.id === share.pool);
  if (!pool) throw new RangeError(`pool share for a pool not in the configuration: ${share.pool}`);
  const org = account(meta).name;
  const row = commonRow(poolShareAsLine(share), meta);
  const amount = row.EffectiveCost;
  row.AllocatedMethodDetails = methodDetails(share, pool, ratio);
  row.AllocatedMethodId = pool.method;
  row.AllocatedResourceId = share.consumer;
  row.AllocatedResourceName = share.consumer === null ? null : nameOf(meta.names, pool.level, share.consumer);
  row.ChargeCategory = 'Usage';
  row.ChargeDescription = `Share of shared pool ${pool.id} (${pool.method} by ${pool.level})`;
  row.ChargeFrequency = 'Recurring';
  row.ChargePeriodStart = iso(meta.period.start);
  row.ChargePeriodEnd = iso(meta.period.end);
  row.ContractedUnitPrice = amount;
  row.InvoiceIssuerName = org;
  row.ListUnitPrice = amount;
  row.PricingCategory = 'Other';
  row.PricingCurrencyContractedUnitPrice = amount;
  row.PricingCurrencyListUnitPrice = amount;
  row.PricingQuantity = '1';
  row.PricingUnit = 'Pool Share';
  row.ProviderName = org;
  row.PublisherName = org;
  row.ResourceId = pool.id;
  row.ResourceName = pool.id;
  row.ResourceType = 'Shared Pool';
  row.ServiceName = pool.id;
  row.SkuId = pool.id;
  return row;
}

/** The FOCUS AllocatedMethodDetails object: the share's ratio and the basis quantity behind it. */
function methodDetails(share: PoolShare, pool: SharedPool, ratio: Money): string {
  const [unit, quantity] = basisOf(pool, BigInt(share.basisValue));
  const element =
    share.consumer === null
      ? `{"AllocatedRatio":1}`
      : `{"AllocatedRatio":${formatMoney(ratio, 0)},"UsageUnit":${JSON.stringify(unit)},"UsageQuantity":${quantity}}`;
  const [, total] = basisOf(pool, BigInt(share.basisTotal));
  return `{"Elements":[${element}],"x_Basis":${JSON.stringify(unit)},"x_BasisTotal":${total}}`;
}

/** The basis unit and a value of it as a JSON number (weights and costs are stored × 10^12). */
function basisOf(pool: SharedPool, value: bigint): [string, string] {
  if (pool.method === 'even') return ['Consumer', value.toString()];
  if (pool.method === 'weighted') return ['Weight', formatMoney(value, 0)];
  if (pool.basis === 'tokens') return ['Tokens', value.toString()];
  if (pool.basis === 'requests') return ['Requests', value.toString()];
  if (pool.basis === 'cost') return ['Effective Cost', formatMoney(value, 0)];
  return [`${pool.basis} Effective Cost`, formatMoney(value, 0)];
}

/** Every column null; rows are spread from it, which is much faster than building one per row. */
const NULL_ROW = Object.fromEntries(FOCUS_COLUMNS.map(([name]) => [name, null])) as FocusRow;

/**
 * A row with the columns every row fills the same way from its line and amounts, the others null:
 * one copy of `NULL_ROW`, its columns then set in place (a month's export makes millions).
 */
function commonRow(line: LineKey & Amounts, meta: FocusMeta): FocusRow {
  const effective = formatMoney(line.effective_cost);
  const { id, name } = account(meta);
  const row = { ...NULL_ROW };
  row.BilledCost = formatMoney(line.billed_cost);
  row.BillingAccountId = id;
  row.BillingAccountName = name;
  row.BillingAccountType = 'Chargeback';
  row.BillingCurrency = meta.currency;
  row.BillingPeriodStart = iso(meta.period.start);
  row.BillingPeriodEnd = iso(meta.period.end);
  row.ChargeClass = meta.chargeClass ?? null;
  row.ContractedCost = effective;
  row.EffectiveCost = effective;
  row.ListCost = formatMoney(line.list_cost);
  row.PricingCurrency = meta.currency;
  row.PricingCurrencyEffectiveCost = effective;
  row.ServiceCategory = 'AI and Machine Learning';
  row.ServiceSubcategory = 'Generative AI';
  row.Tags = tags(line);
  row.x_CostCenterId = line.cost_center;
  row.x_TeamId = line.team;
  row.x_ApplicationId = line.application;
  row.x_TenantId = line.tenant;
  row.x_Environment = line.environment;
  row.x_CostCategory = line.category;
  row.x_AttributionStatus = line.status;
  row.x_AttributionReason = line.reason;
  row.x_SharedPoolId = line.pool;
  row.x_InputTokens = line.input_tokens;
  row.x_OutputTokens = line.output_tokens;
  row.x_Events = line.events;
  row.x_Estimated = 'false';
  return row;
}

function tags(k: LineKey): string {
  const tags: Record<string, string> = {};
  for (const f of TAGS) {
    const v = k[f];
    if (v !== null) tags[f] = v;
  }
  return JSON.stringify(tags);
}

const TAGS = ['cost_center', 'team', 'application', 'tenant'] as const;

function account(meta: FocusMeta): { id: string; name: string } {
  return meta.billingAccount ?? { id: 'tally', name: 'tally' };
}
