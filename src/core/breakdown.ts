/**
 * Breakdowns (SPEC §9): a window's money grouped by any one dimension of a
 * statement line or of the usage behind it (model, provider, identity), with
 * filters on all of them. The statement's cents stay the cents: each line's
 * cents are split over the (provider, model, identity) parts of its usage by
 * largest remainder, once, so every breakdown and every filter adds up to the
 * statement's lines and totals to the cent. Grouping by tenant splits the
 * tenant-rounded lines instead, so that it shows the tenant level's cents.
 */
import type { PoolShare } from './allocation.js';
import { type Amounts, addAmounts, type Charge, emptyAmounts, type LineKey } from './attribution.js';
import { recentLines, tenantPath, zeroCents } from './cents.js';
import { type Money, roundToCentsLargestRemainder } from './money.js';
import { KEY_FIELDS, type Line, poolShareAsLine } from './statement.js';

export const BREAKDOWN_DIMENSIONS = [
  'team',
  'application',
  'cost_center',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
  'pool',
  'provider',
  'model',
  'identity',
] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

/** A filter value per dimension; `null` selects the parts without a value (no tenant, say). */
export type BreakdownFilter = Partial<Record<BreakdownDimension, string | null>>;

/** The smallest piece a breakdown adds up: one line's usage of one provider, model and identity. */
export interface Part extends LineKey, Amounts {
  provider: string | null;
  model: string | null;
  identity: string | null;
  cents: { effective_cost: Money; billed_cost: Money };
}

export interface BreakdownRow extends Amounts {
  key: string | null;
  cents: { effective_cost: Money; billed_cost: Money };
}

const USAGE_FIELDS = ['provider', 'model', 'identity'] as const;
type Usage = { provider: string | null; model: string | null; identity: string | null };
const noUsage: Usage = { provider: null, model: null, identity: null };

const lineKey = (l: LineKey): string => JSON.stringify(KEY_FIELDS.map((f) => l[f]));

/**
 * The parts of a statement: `lines` are its line-level lines with their
 * cents, built from these `charges` and `shares`. With `tenantCents` the
 * lines' cents are first rounded again in the tenant tree (the tenant level's).
 */
export function partsOf(
  lines: readonly Line[],
  charges: readonly Charge[],
  shares: readonly PoolShare[],
  tenantCents = false,
): Part[] {
  const sums = new PartSums();
  for (const c of charges) sums.add(c);
  return sums.parts(lines, shares, tenantCents);
}

/**
 * Charges summed into the parts of their lines as they are made, so that a
 * month's millions of charges need not be kept (`partsOf` of them all).
 */
export class PartSums {
  /** Line key → part key → part. */
  readonly #byLine = new Map<string, Map<string, Part>>();

  add(c: LineKey & Usage & Amounts): void {
    const lk = lineKey(c);
    let parts = this.#byLine.get(lk);
    if (!parts) {
      parts = new Map();
      this.#byLine.set(lk, parts);
    }
    const pk = JSON.stringify(USAGE_FIELDS.map((f) => c[f]));
    let p = parts.get(pk);
    if (!p) {
      p = newPart(c);
      parts.set(pk, p);
    }
    addAmounts(p, c);
  }

  /**
   * The parts of `lines` (built from the charges added and `shares`), their cents split as
   * `partsOf` says. Asked once: it adds the shares to the sums.
   */
  parts(lines: readonly Line[], shares: readonly PoolShare[], tenantCents = false): Part[] {
    for (const s of shares) this.add({ ...poolShareAsLine(s), ...noUsage });
    const cents = tenantCents ? recentLines(lines, tenantPath) : lines.map((l) => l.cents);
    return lines.flatMap((l, i) => splitLine(this.#byLine.get(lineKey(l)), cents[i] ?? zeroCents()));
  }
}

/**
 * An empty part of `c`'s line and usage, every field written out in one literal: a part built by
 * spreading objects and setting fields in a loop was a slow dictionary-mode object in V8, and a
 * month's breakdown (1.5M parts) spent ~9 s building them and ~19 s collecting garbage.
 */
function newPart(c: LineKey & Usage): Part {
  return {
    cost_center: c.cost_center,
    team: c.team,
    application: c.application,
    tenant: c.tenant,
    environment: c.environment,
    category: c.category,
    status: c.status,
    reason: c.reason,
    pool: c.pool,
    provider: c.provider,
    model: c.model,
    identity: c.identity,
    direct_cost: 0n,
    shared_cost: 0n,
    effective_cost: 0n,
    list_cost: 0n,
    billed_cost: 0n,
    events: 0,
    unpriced_events: 0,
    requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cents: { effective_cost: 0n, billed_cost: 0n },
  };
}

/** A line's cents over its parts, in the parts' key order, by largest remainder. */
function splitLine(
  parts: Map<string, Part> | undefined,
  cents: { effective_cost: Money; billed_cost: Money },
): Part[] {
  if (!parts) return [];
  const sorted = [...parts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  const eff = roundToCentsLargestRemainder(
    sorted.map((p) => p.effective_cost),
    cents.effective_cost,
  );
  const billed = roundToCentsLargestRemainder(
    sorted.map((p) => p.billed_cost),
    cents.billed_cost,
  );
  return sorted.map((p, i) => ({
    ...p,
    cents: { effective_cost: eff[i] ?? 0n, billed_cost: billed[i] ?? 0n },
  }));
}

/** What a filter looks at: a part, a charge, or a pool share with no usage fields. */
export type Dimensions = { [K in BreakdownDimension]: string | null };

export function matchesFilter(p: Dimensions, filter: BreakdownFilter): boolean {
  return Object.entries(filter).every(([d, v]) => v === undefined || p[d as BreakdownDimension] === v);
}

/** The parts grouped by one dimension, largest effective cents first (then by key). */
export function groupParts(parts: readonly Part[], by: BreakdownDimension): BreakdownRow[] {
  const rows = new Map<string | null, BreakdownRow>();
  for (const p of parts) {
    const key = p[by];
    let row = rows.get(key);
    if (!row) {
      row = { key, ...emptyAmounts(), cents: { effective_cost: 0n, billed_cost: 0n } };
      rows.set(key, row);
    }
    addAmounts(row, p);
    row.cents.effective_cost += p.cents.effective_cost;
    row.cents.billed_cost += p.cents.billed_cost;
  }
  return [...rows.values()].sort((a, b) =>
    a.cents.effective_cost !== b.cents.effective_cost
      ? a.cents.effective_cost > b.cents.effective_cost
        ? -1
        : 1
      : (a.key ?? '\uffff') < (b.key ?? '\uffff')
        ? -1
        : 1,
  );
}

/** The distinct values each dimension takes in these parts (null for "none"), sorted. */
export function dimensionValues(parts: readonly Part[]): Record<BreakdownDimension, (string | null)[]> {
  const out = {} as Record<BreakdownDimension, (string | null)[]>;
  for (const d of BREAKDOWN_DIMENSIONS)
    out[d] = [...new Set(parts.map((p) => p[d]))].sort((a, b) =>
      a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
    );
  return out;
}

/**
 * The change from a previous amount in per cent with one decimal, rounded
 * half away from zero; null when there was nothing before.
 */
export function changePercent(now: Money, before: Money): string | null {
  if (before === 0n) return null;
  const diff = now - before;
  const base = before < 0n ? -before : before;
  const tenths = (2n * diff * 1000n + (diff < 0n ? -base : base)) / (2n * base);
  const sign = tenths < 0n ? '-' : '';
  const abs = tenths < 0n ? -tenths : tenths;
  return `${sign}${abs / 10n}.${abs % 10n}`;
}
