/**
 * Reconciliation (SPEC §5.2): the provider's bill against the telemetry-priced
 * cost, per provider, model and project, and the true-up that makes the
 * statement equal the bill to the cent.
 */
import type { Charge, LineKey } from './attribution.js';
import { normalizeModel } from './models.js';
import { allocateLargestRemainder, CENT, type Money, mulDiv, ONE, roundTo } from './money.js';
import { KEY_FIELDS } from './statement.js';

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
}

export interface Adjustment extends LineKey {
  provider: string;
  telemetry: Money;
  adjustment: Money;
  adjusted: Money;
}

const norm = (s: string | null) => (s === null ? null : s.trim().toLowerCase());

function matches(bill: BillRow, c: Charge): boolean {
  if (norm(c.provider) !== norm(bill.provider)) return false;
  if (bill.model !== null && c.model !== bill.model && normalizeModel(c.model) !== bill.model.toLowerCase())
    return false;
  if (bill.project !== null && c.project !== bill.project) return false;
  if (bill.apiKey !== null && c.api_key !== bill.apiKey) return false;
  return true;
}

/** Per cent with two decimals, as Money so it stays exact (1 % = 1.00). */
function percent(variance: Money, base: Money): Money | null {
  if (base === 0n) return null;
  return roundTo(mulDiv(variance * 100n, ONE, base), 2);
}

/**
 * Compares each bill row with the telemetry it covers. A bill line that
 * names a model family (`gpt-4o`) covers its dated releases
 * (`gpt-4o-2024-08-06`); one that names a release covers only that release. Bill rows that name
 * the same provider, model and project are summed first. Telemetry of a
 * billed provider that no bill row covers is reported as `not_on_bill`.
 */
export function reconcile(
  bill: readonly BillRow[],
  charges: readonly Charge[],
  tolerancePct: Money,
): ReconcileRow[] {
  const merged = new Map<string, BillRow>();
  for (const b of bill) {
    const k = [norm(b.provider), b.model, b.project, b.apiKey].join('\u0000');
    const prev = merged.get(k);
    merged.set(k, prev ? { ...prev, amount: prev.amount + b.amount } : { ...b });
  }
  const covered = new Set<Charge>();
  const rows: ReconcileRow[] = [];
  for (const b of merged.values()) {
    let telemetry = 0n;
    let unpriced = 0;
    for (const c of charges) {
      if (c.pool !== null || !matches(b, c)) continue;
      covered.add(c);
      telemetry += c.direct_cost;
      unpriced += c.unpriced_events;
    }
    const variance = b.amount - telemetry;
    const pct = percent(variance, telemetry);
    const tolerance = mulDiv(telemetry, tolerancePct, 100n * ONE);
    const status: ReconcileStatus =
      telemetry === 0n && b.amount !== 0n
        ? 'not_in_telemetry'
        : variance > tolerance
          ? 'over_billed'
          : -variance > tolerance
            ? 'under_billed'
            : 'matched';
    rows.push({
      provider: b.provider,
      model: b.model,
      project: b.project,
      api_key: b.apiKey,
      billed: b.amount,
      telemetry,
      variance,
      variancePct: pct,
      unpricedEvents: unpriced,
      status,
    });
  }
  const billedProviders = new Set([...merged.values()].map((b) => norm(b.provider)));
  const missing = new Map<string, ReconcileRow>();
  for (const c of charges) {
    if (c.pool !== null || covered.has(c) || !billedProviders.has(norm(c.provider))) continue;
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
    };
    row.telemetry += c.direct_cost;
    row.variance = -row.telemetry;
    row.unpricedEvents += c.unpriced_events;
    missing.set(k, row);
  }
  const order = (r: ReconcileRow) =>
    [norm(r.provider), r.model ?? '', r.project ?? '', r.api_key ?? ''].join('\u0000');
  return [...rows, ...missing.values()].sort((a, b) =>
    order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0,
  );
}

/**
 * The true-up: for each billed provider, the bill is split over that
 * provider's statement lines in proportion to their telemetry cost, to the
 * cent by largest remainder, so the adjusted lines add up to the bill
 * exactly. Each line's adjustment is the difference.
 */
export function trueUp(bill: readonly BillRow[], charges: readonly Charge[]): Adjustment[] {
  const billed = new Map<string, { provider: string; amount: Money }>();
  for (const b of bill) {
    const k = norm(b.provider) ?? '';
    billed.set(k, { provider: b.provider, amount: (billed.get(k)?.amount ?? 0n) + b.amount });
  }
  const out: Adjustment[] = [];
  for (const [k, { provider, amount }] of [...billed.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const lines = new Map<string, Adjustment>();
    for (const c of charges) {
      if (c.pool !== null || norm(c.provider) !== k) continue;
      const key = KEY_FIELDS.map((f) => c[f] ?? '').join('\u0000');
      const line =
        lines.get(key) ??
        ({
          ...Object.fromEntries(KEY_FIELDS.map((f) => [f, c[f]])),
          provider,
          telemetry: 0n,
          adjustment: 0n,
          adjusted: 0n,
        } as Adjustment);
      line.telemetry += c.direct_cost;
      lines.set(key, line);
    }
    const sorted = [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
    const weights = sorted.map((l) => (l.telemetry > 0n ? l.telemetry : 0n));
    if (weights.every((w) => w === 0n)) {
      out.push({
        cost_center: null,
        team: null,
        application: null,
        tenant: null,
        environment: null,
        category: null,
        status: 'unattributed',
        reason: null,
        pool: null,
        provider,
        telemetry: 0n,
        adjustment: amount,
        adjusted: amount,
      });
      continue;
    }
    const targets = allocateLargestRemainder(amount, weights, CENT);
    sorted.forEach((l, i) => {
      l.adjusted = targets[i] ?? 0n;
      l.adjustment = l.adjusted - l.telemetry;
      out.push(l);
    });
  }
  return out;
}
