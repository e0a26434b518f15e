/**
 * Reconciliation (SPEC §5.2): the provider's bill against the telemetry-priced
 * cost, per provider, model and project, and the true-up that makes the
 * statement equal the bill to the cent.
 */
import { pushAll } from './arrays.js';
import type { Charge, LineKey } from './attribution.js';
import { normalizeModel } from './models.js';
import { allocateLargestRemainder, CENT, type Money, mulDiv, ONE, roundTo } from './money.js';
import { blankKey, KEY_FIELDS } from './statement.js';

export interface BillRow {
  provider: string;
  model: string | null;
  project: string | null;
  apiKey: string | null;
  amount: Money;
}

export type ReconcileStatus = 'matched' | 'over_billed' | 'under_billed' | 'not_in_telemetry' | 'not_on_bill';

export interface ReconcileRow {
  provider: string;
  model: string | null;
  project: string | null;
  api_key: string | null;
  billed: Money;
  telemetry: Money;
  /** billed − telemetry */
  variance: Money;
  /** variance ÷ telemetry in per cent, rounded to 2 decimals; null when telemetry is 0. */
  variancePct: Money | null;
  /** Events whose model has no price: their cost is unknown, so the variance is too. */
  unpricedEvents: number;
  status: ReconcileStatus;
  /** The variance is beyond the tolerance: `reconcile` exits 1. */
  exceeds: boolean;
}

export interface Adjustment extends LineKey {
  provider: string;
  telemetry: Money;
  adjustment: Money;
  adjusted: Money;
}

const norm = (s: string | null) => (s === null ? null : s.trim().toLowerCase());

/**
 * How specifically a bill row covers a charge, or -1 when it does not: the
 * model first (the release's own name over its family's over no model), then
 * a named project, then a named key. A charge belongs to the most specific
 * row that covers it, so bill rows never overlap.
 */
function specificity(bill: BillRow, c: Charge): number {
  if (norm(c.provider) !== norm(bill.provider)) return -1;
  if (bill.project !== null && c.project !== bill.project) return -1;
  if (bill.apiKey !== null && c.api_key !== bill.apiKey) return -1;
  let model: number;
  if (bill.model === null) model = 0;
  else if (norm(c.model) === norm(bill.model)) model = 2;
  else if (normalizeModel(c.model) === norm(bill.model)) model = 1;
  else return -1;
  return model * 4 + (bill.project !== null ? 2 : 0) + (bill.apiKey !== null ? 1 : 0);
}

/** Bill rows naming the same provider, model, project and key, summed, in bill order. */
function mergeBill(bill: readonly BillRow[]): BillRow[] {
  const merged = new Map<string, BillRow>();
  for (const b of bill) {
    const k = [norm(b.provider), norm(b.model), b.project, b.apiKey].join('\u0000');
    const prev = merged.get(k);
    merged.set(k, prev ? { ...prev, amount: prev.amount + b.amount } : { ...b });
  }
  return [...merged.values()];
}

/** Each usage charge with the bill row it belongs to (index into `rows`), or -1. */
function assign(rows: readonly BillRow[], charges: readonly Charge[]): Map<Charge, number> {
  const out = new Map<Charge, number>();
  for (const c of charges) {
    if (c.pool !== null) continue;
    let best = -1;
    let bestScore = -1;
    rows.forEach((b, i) => {
      const score = specificity(b, c);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    });
    out.set(c, best);
  }
  return out;
}

/** Per cent with two decimals, as Money so it stays exact (1 % = 1.00). */
function percent(variance: Money, base: Money): Money | null {
  if (base === 0n) return null;
  return roundTo(mulDiv(variance * 100n, ONE, base), 2);
}

/**
 * Whether a variance is beyond the tolerance: a per cent of the telemetry,
 * and never less than half a cent, since a bill is itself rounded to the cent.
 */
function exceeds(variance: Money, telemetry: Money, tolerancePct: Money): boolean {
  const abs = variance < 0n ? -variance : variance;
  const allowed = mulDiv(telemetry, tolerancePct, 100n * ONE);
  return abs > (allowed > CENT / 2n ? allowed : CENT / 2n);
}

/**
 * Compares each bill row with the telemetry it covers (SPEC §5.2). Bill rows
 * that name the same provider, model and project are summed first; each
 * usage charge then counts for one bill row only, the most specific that
 * covers it: a row naming a release (`gpt-4o-2024-08-06`) takes that
 * release, a row naming its family (`gpt-4o`) the family's other releases.
 * Telemetry of a billed provider that no bill row covers is reported as
 * `not_on_bill`.
 */
export function reconcile(
  bill: readonly BillRow[],
  charges: readonly Charge[],
  tolerancePct: Money,
): ReconcileRow[] {
  const merged = mergeBill(bill);
  const owner = assign(merged, charges);
  const rows: ReconcileRow[] = merged.map((b) => {
    let telemetry = 0n;
    let unpriced = 0;
    for (const [c, i] of owner) {
      if (merged[i] !== b) continue;
      telemetry += c.direct_cost;
      unpriced += c.unpriced_events;
    }
    const variance = b.amount - telemetry;
    const beyond = exceeds(variance, telemetry, tolerancePct);
    const status: ReconcileStatus =
      telemetry === 0n && b.amount !== 0n
        ? 'not_in_telemetry'
        : !beyond
          ? 'matched'
          : variance > 0n
            ? 'over_billed'
            : 'under_billed';
    return {
      provider: b.provider,
      model: b.model,
      project: b.project,
      api_key: b.apiKey,
      billed: b.amount,
      telemetry,
      variance,
      variancePct: percent(variance, telemetry),
      unpricedEvents: unpriced,
      status,
      exceeds: beyond,
    };
  });
  const billedProviders = new Set(merged.map((b) => norm(b.provider)));
  const missing = new Map<string, ReconcileRow>();
  for (const [c, i] of owner) {
    if (i >= 0 || !billedProviders.has(norm(c.provider))) continue;
    const model = normalizeModel(c.model);
    const k = [norm(c.provider), model, c.project].join('\u0000');
    const row = missing.get(k) ?? {
      provider: c.provider ?? '',
      model,
      project: c.project,
      api_key: null,
      billed: 0n,
      telemetry: 0n,
      variance: 0n,
      variancePct: null,
      unpricedEvents: 0,
      status: 'not_on_bill' as const,
      exceeds: false,
    };
    row.telemetry += c.direct_cost;
    row.variance = -row.telemetry;
    row.exceeds = exceeds(row.variance, 0n, 0n);
    row.unpricedEvents += c.unpriced_events;
    missing.set(k, row);
  }
  const order = (r: ReconcileRow) =>
    [norm(r.provider), r.model ?? '', r.project ?? '', r.api_key ?? ''].join('\u0000');
  return [...rows, ...missing.values()].sort((a, b) =>
    order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0,
  );
}

/** A line of the statement as the true-up leaves it. */
function adjustmentLine(key: LineKey, provider: string): Adjustment {
  return { ...key, provider, telemetry: 0n, adjustment: 0n, adjusted: 0n };
}

/**
 * The true-up (SPEC §5.2, §11), per billed provider. Each bill row is a
 * control total for the telemetry it covers (its provider, model, project
 * and key, as `reconcile` matches them): disputed lines keep their
 * telemetry cost, and the rest of the row is split over the attributed and
 * unattributed lines it covers in proportion to their telemetry cost (an
 * estimate, where traces were sampled), to the cent by largest remainder.
 * Bill money that no telemetry covers becomes one `unattributed /
 * uninstrumented` line. So each bill row, and each provider, is matched
 * exactly; each line's adjustment is adjusted − telemetry.
 */
export function trueUp(bill: readonly BillRow[], charges: readonly Charge[]): Adjustment[] {
  const merged = mergeBill(bill);
  const owner = assign(merged, charges);
  const providers = new Map<string, string>();
  for (const b of merged)
    if (!providers.has(norm(b.provider) ?? '')) providers.set(norm(b.provider) ?? '', b.provider);
  const out: Adjustment[] = [];
  for (const [k, provider] of [...providers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const lines = providerLines(charges, k, provider);
    for (const l of lines.values()) if (l.status === 'disputed') l.adjusted = l.telemetry;
    let uninstrumented = 0n;
    merged.forEach((row, i) => {
      if (norm(row.provider) === k) uninstrumented += splitRow(row, i, owner, lines);
    });
    for (const l of lines.values()) l.adjustment = l.adjusted - l.telemetry;
    pushAll(
      out,
      [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l),
    );
    if (uninstrumented !== 0n) {
      const line = adjustmentLine(
        { ...blankKey(), status: 'unattributed', reason: 'uninstrumented' },
        provider,
      );
      line.adjustment = uninstrumented;
      line.adjusted = uninstrumented;
      out.push(line);
    }
  }
  return out;
}

/**
 * Splits one bill row over the lines of the charges it covers (disputed
 * ones keep their telemetry); returns what no telemetry covers.
 */
function splitRow(
  row: BillRow,
  index: number,
  owner: ReadonlyMap<Charge, number>,
  lines: ReadonlyMap<string, Adjustment>,
): Money {
  const weights = new Map<string, Money>();
  let disputed = 0n;
  for (const [c, i] of owner) {
    if (i !== index) continue;
    if (c.status === 'disputed') disputed += c.direct_cost;
    else weights.set(lineKeyOf(c), (weights.get(lineKeyOf(c)) ?? 0n) + c.direct_cost);
  }
  const target = row.amount - disputed;
  const keys = [...weights.keys()].filter((key) => (weights.get(key) ?? 0n) > 0n).sort();
  if (keys.length === 0) return target;
  const shares = allocateLargestRemainder(
    target,
    keys.map((key) => weights.get(key) ?? 0n),
    CENT,
  );
  keys.forEach((key, j) => {
    const line = lines.get(key);
    if (line) line.adjusted += shares[j] ?? 0n;
  });
  return 0n;
}

const lineKeyOf = (c: Charge) => KEY_FIELDS.map((f) => c[f] ?? '').join('\u0000');

/** The provider's usage charges summed by statement line. */
function providerLines(charges: readonly Charge[], k: string, provider: string): Map<string, Adjustment> {
  const lines = new Map<string, Adjustment>();
  for (const c of charges) {
    if (c.pool !== null || norm(c.provider) !== k) continue;
    const key = lineKeyOf(c);
    let line = lines.get(key);
    if (!line) {
      line = adjustmentLine(
        Object.fromEntries(KEY_FIELDS.map((f) => [f, c[f]])) as unknown as LineKey,
        provider,
      );
      lines.set(key, line);
    }
    line.telemetry += c.direct_cost;
  }
  return lines;
}
