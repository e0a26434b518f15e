/**
 * GET /v1/breakdown and its FOCUS download: the window's money by one
 * dimension, filtered, with the previous window beside it. The rule (how the
 * statement's cents split over models, providers and identities) is in
 * core/breakdown.ts; this reads the statement and shapes the answer.
 */
import {
  BREAKDOWN_DIMENSIONS,
  type BreakdownDimension,
  type BreakdownFilter,
  type BreakdownRow,
  changePercent,
  type Dimensions,
  dimensionValues,
  groupParts,
  matchesFilter,
  type Part,
  PartSums,
} from '../core/breakdown.js';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { formatMoney, type Money } from '../core/money.js';
import { centsText, iso } from '../core/statement.js';
import { FocusUsage, focusCsvChunks, focusMeta, focusRowChunks } from '../export/focus.js';
import { type Names, namesOf } from '../export/names.js';
import { computeStatementEach } from '../service/statement.js';
import type { Store } from '../store/store.js';
import { optional, streamOf } from './http.js';
import { monthWindow, type Window } from './params.js';

/** The filters of a request: `model=gpt-4o`, and `none=tenant,application` for parts without a value. */
export function breakdownFilter(q: URLSearchParams): BreakdownFilter {
  const filter: BreakdownFilter = {};
  for (const d of BREAKDOWN_DIMENSIONS) {
    const v = optional(q, d);
    if (v !== undefined) filter[d] = v;
  }
  for (const d of (optional(q, 'none') ?? '').split(',').filter(Boolean)) {
    if (!(BREAKDOWN_DIMENSIONS as readonly string[]).includes(d))
      throw new UsageError(`none must list dimensions among ${BREAKDOWN_DIMENSIONS.join(', ')}, got '${d}'`);
    if (filter[d as BreakdownDimension] !== undefined)
      throw new UsageError(`${d} is both given and listed in none`);
    filter[d as BreakdownDimension] = null;
  }
  return filter;
}

/** The window before: the previous calendar month for a month, else the same length just before. */
export function previousWindow(w: Window): Window {
  const m = /^(\d{4})-(\d{2})$/.exec(w.label);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 2, 1));
    return monthWindow(d.toISOString().slice(0, 7));
  }
  const start = w.start - (w.end - w.start);
  return { start, end: w.start, label: `${iso(start)}..${iso(w.start)}` };
}

async function parts(
  store: Store,
  config: Config,
  window: Window,
  team: string | null,
  by: BreakdownDimension,
): Promise<Part[]> {
  // Each charge is summed into its part as it is made, not kept: a month's are millions.
  const sums = new PartSums();
  const { statement, shares } = await computeStatementEach(store, config, window, {}, (c) => sums.add(c));
  const all = sums.parts(statement.lines, shares, by === 'tenant');
  return team === null ? all : all.filter((p) => p.team === team);
}

function totalsOf(rows: readonly BreakdownRow[]) {
  const sum = (f: (r: BreakdownRow) => Money) => rows.reduce((a, r) => a + f(r), 0n);
  const n = (f: (r: BreakdownRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  return {
    effective_cost: sum((r) => r.effective_cost),
    billed_cost: sum((r) => r.billed_cost),
    cents: {
      effective_cost: sum((r) => r.cents.effective_cost),
      billed_cost: sum((r) => r.cents.billed_cost),
    },
    events: n((r) => r.events),
    input_tokens: n((r) => r.input_tokens),
    output_tokens: n((r) => r.output_tokens),
  };
}

const centsJson = (c: BreakdownRow['cents']) => ({
  effective_cost: centsText(c.effective_cost),
  billed_cost: centsText(c.billed_cost),
});

export interface BreakdownRequest {
  window: Window;
  by: BreakdownDimension;
  filter: BreakdownFilter;
  team: string | null;
  compare: boolean;
}

export async function breakdownJson(store: Store, config: Config, r: BreakdownRequest): Promise<unknown> {
  const now = await parts(store, config, r.window, r.team, r.by);
  const rows = groupParts(
    now.filter((p) => matchesFilter(p, r.filter)),
    r.by,
  );
  const totals = totalsOf(rows);
  const prevWindow = r.compare ? previousWindow(r.window) : null;
  const before = prevWindow
    ? groupParts(
        (await parts(store, config, prevWindow, r.team, r.by)).filter((p) => matchesFilter(p, r.filter)),
        r.by,
      )
    : null;
  const prevOf = new Map(before?.map((b) => [b.key, b.cents.effective_cost]));
  const prevTotals = before ? totalsOf(before) : null;
  const names = namesOf(config);
  return {
    period: { start: iso(r.window.start), end: iso(r.window.end) },
    currency: config.currency,
    scope: r.team === null ? null : { team: r.team },
    by: r.by,
    filter: r.filter,
    totals: {
      effective_cost: formatMoney(totals.effective_cost),
      billed_cost: formatMoney(totals.billed_cost),
      cents: centsJson(totals.cents),
      events: totals.events,
      input_tokens: totals.input_tokens,
      output_tokens: totals.output_tokens,
    },
    rows: rows.map((row) => {
      const prev = before ? (prevOf.get(row.key) ?? 0n) : null;
      return {
        key: row.key,
        name: nameOf(names, r.by, row.key),
        effective_cost: formatMoney(row.effective_cost),
        billed_cost: formatMoney(row.billed_cost),
        cents: centsJson(row.cents),
        events: row.events,
        unpriced_events: row.unpriced_events,
        input_tokens: row.input_tokens,
        output_tokens: row.output_tokens,
        previous_cents: prev === null ? null : centsText(prev),
        change_percent: prev === null ? null : changePercent(row.cents.effective_cost, prev),
      };
    }),
    previous:
      prevWindow && prevTotals
        ? {
            period: { start: iso(prevWindow.start), end: iso(prevWindow.end) },
            cents: centsJson(prevTotals.cents),
            events: prevTotals.events,
            change_percent: changePercent(totals.cents.effective_cost, prevTotals.cents.effective_cost),
          }
        : null,
    values: dimensionValues(now),
  };
}

/** The display name from tally.yaml of an org unit (cost center, team, application, tenant). */
function nameOf(names: Names, d: BreakdownDimension, id: string | null): string | null {
  if (id === null || !(d === 'team' || d === 'application' || d === 'tenant' || d === 'cost_center'))
    return null;
  return names[d].get(id) ?? null;
}

/**
 * The same selection as FOCUS rows (one per day, line, identity, provider,
 * model): the charges and pool shares whose part the filter keeps.
 */
export async function breakdownFocus(
  store: Store,
  config: Config,
  window: Window,
  filter: BreakdownFilter,
  team: string | null,
): Promise<ReadableStream<Uint8Array>> {
  const keep = (p: Dimensions) => (team === null || p.team === team) && matchesFilter(p, filter);
  // The charges the filter keeps are summed into rows as they are made, never kept (a month has millions).
  const usage = new FocusUsage();
  const { shares } = await computeStatementEach(store, config, window, { byDay: true }, (c) => {
    if (keep(c)) usage.add(c);
  });
  const chunks = focusRowChunks(
    usage.rows(),
    shares.filter((s) => keep({ ...s, provider: null, model: null, identity: null })),
    focusMeta(config, window),
  );
  return streamOf(focusCsvChunks(chunks));
}
