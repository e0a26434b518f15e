/**
 * Computing a statement: the use case that wires the store's usage groups to
 * attribution, pricing and allocation. Shared by the CLI, the server and the
 * demo; recomputed from the stored events and the configuration every time,
 * so a corrected configuration needs no re-ingestion. Everything a statement
 * reads (events, batches, audit head, the issued statement) comes from one
 * snapshot of the store (SPEC §5.3).
 */
import { allocatePool, type PoolShare } from '../core/allocation.js';
import { Attributor, type Charge, type ChargeFlags } from '../core/attribution.js';
import type { Config } from '../core/config.js';
import { applyControlTotals } from '../core/control-totals.js';
import { PriceBook } from '../core/pricing.js';
import { Registry } from '../core/registry.js';
import {
  type DiffersFromIssued,
  type Level,
  type Line,
  LineSums,
  rollUp,
  type Statement,
  statementOfLines,
} from '../core/statement.js';
import type { DecisionKey, SelectorTuple, UsageQuery } from '../core/usage.js';
import type { IssuedStatement, Store, StoreSnapshot } from '../store/store.js';
import { issuedLines, issuedTotal, statementSha256 } from './content.js';

export interface Computed extends StatementOnly {
  charges: Charge[];
}

export interface StatementOnly {
  statement: Statement;
  shares: PoolShare[];
  registry: Registry;
  prices: PriceBook;
}

export interface ComputeOptions {
  level?: Level;
  /** Split charges by UTC day (FOCUS rows). */
  byDay?: boolean;
  /** Split charges by sampling unit, sampled or not (`tally sampling`). */
  allUnits?: boolean;
  /** `usage`: provider usage reports are the control totals of the telemetry they cover (SPEC §11). */
  controlTotals?: 'usage';
}

/** The sources whose events are provider usage reports (SPEC §3). */
export const REPORT_SOURCES = ['openai-usage', 'anthropic-usage'] as const;

/**
 * The statement of a window, with the charges behind it. With a `label` (the
 * period, e.g. `2026-10`) it is compared with the latest statement issued for
 * that period and carries `differs_from_issued` when they differ.
 */
export function computeStatement(
  store: Store,
  config: Config,
  window: Window,
  opts: ComputeOptions = {},
): Promise<Computed> {
  return store.snapshot((snap) => computeIn(snap, config, window, opts));
}

/**
 * The statement of a window without its charges, for a caller that shows the
 * statement only: its groups are summed into lines as they are attributed,
 * so a month's millions of charges are never kept. The same statement as
 * `computeStatement`'s.
 */
export function computeStatementOnly(
  store: Store,
  config: Config,
  window: Window,
  opts: Pick<ComputeOptions, 'level'> = {},
): Promise<StatementOnly> {
  return store.snapshot((snap) => compute(snap, config, window, opts, false));
}

/**
 * The statement of a window, each charge handed to `sink` as it is made
 * instead of kept (a month's FOCUS rows are summed from them as they come).
 * The same statement as `computeStatement`'s.
 */
export function computeStatementEach(
  store: Store,
  config: Config,
  window: Window,
  opts: Pick<ComputeOptions, 'byDay'>,
  sink: (c: Charge) => void,
): Promise<StatementOnly> {
  return store.snapshot((snap) => compute(snap, config, window, opts, sink));
}

/**
 * The charges of a window that `keep` accepts (told by their flags before
 * they are priced: few), without the statement; with the registry and price
 * book they were made with.
 */
export function computeKeptCharges(
  store: Store,
  config: Config,
  window: Window,
  keep: (c: ChargeFlags) => boolean,
): Promise<{ charges: Charge[]; registry: Registry; prices: PriceBook }> {
  return store.snapshot(async (snap) => {
    const { registry, prices, query, attributor } = await attributing(snap, config, window, {});
    const charges: Charge[] = [];
    const wanted = (key: DecisionKey) => attributor.wants(key, keep);
    await snap.eachUsageGroup({ ...query, wanted }, (g) => {
      const charge = attributor.chargeIf(g, keep);
      if (charge) charges.push(charge);
    });
    return { charges, registry, prices };
  });
}

/**
 * Each charge of a window handed to `sink` as it is made, without a
 * statement: no line sums them (`tally sampling` folds them by unit).
 */
export function eachCharge(
  store: Store,
  config: Config,
  window: Window,
  opts: Pick<ComputeOptions, 'allUnits'>,
  sink: (c: Charge) => void,
): Promise<void> {
  return store.snapshot(async (snap) => {
    const { query, attributor } = await attributing(snap, config, window, opts);
    await snap.eachUsageGroup(query, (g) => sink(attributor.attribute(g)));
  });
}

/** The statement of a window, read from a snapshot the caller holds (to read more from the same one). */
export async function computeIn(
  store: StoreSnapshot,
  config: Config,
  window: Window,
  opts: ComputeOptions,
): Promise<Computed> {
  return (await compute(store, config, window, opts, true)) as Computed;
}

type Window = { start: number; end: number; label?: string };

async function compute(
  store: StoreSnapshot,
  config: Config,
  window: Window,
  opts: ComputeOptions,
  keepCharges: boolean | ((c: Charge) => void),
): Promise<StatementOnly & { charges?: Charge[] }> {
  const { registry, prices, query, attributor } = await attributing(store, config, window, opts);
  const { events, charges, usage } = await attributed(store, query, attributor, opts, keepCharges);
  const shares = config.sharedPools.flatMap((p) => allocatePool(p, usage, registry, window));
  const meta = {
    period: { start: window.start, end: window.end },
    currency: config.currency,
    inputs: {
      config_sha256: config.sha256,
      catalog_version: prices.catalogVersion,
      events,
      audit_head: await store.auditHead(),
    },
  };
  // The line level is what is issued; the statement asked for is its roll-up.
  const lines = statementOfLines(usage, shares, meta);
  const statement = rollUp(lines, opts.level ?? 'line');
  const issued = window.label === undefined ? null : await store.issuedStatement(window.label);
  statement.differs_from_issued = issued ? differsFrom(issued, lines) : null;
  return { statement, shares, registry, prices, ...(charges ? { charges } : {}) };
}

/** What attributing a window's groups needs: the registry and price book, the store's query, the attributor. */
async function attributing(store: StoreSnapshot, config: Config, window: Window, opts: ComputeOptions) {
  const registry = new Registry(config);
  const prices = new PriceBook(config.prices);
  const query = usageQuery(config, registry, prices, window, opts, await store.selectorTuples());
  return { registry, prices, query, attributor: new Attributor(registry, prices, config.policy) };
}

/** What attribution of a window's groups gives: its usage lines, and the charges when they are kept. */
interface Attributed {
  /** The events read, not the estimate: a sampled event is one stored event (SPEC §11). */
  events: number;
  usage: Line[];
  charges?: Charge[];
}

/** The window's groups attributed: every charge kept, each handed to a sink, or summed into lines alone. */
function attributed(
  store: StoreSnapshot,
  query: UsageQuery,
  attributor: Attributor,
  opts: ComputeOptions,
  keepCharges: boolean | ((c: Charge) => void),
): Promise<Attributed> {
  if (keepCharges === true) return chargesOf(store, query, attributor, opts);
  if (keepCharges === false) return linesOf(store, query, attributor);
  return chargesInto(store, query, attributor, keepCharges);
}

async function chargesOf(
  store: StoreSnapshot,
  query: UsageQuery,
  attributor: Attributor,
  opts: ComputeOptions,
): Promise<Attributed> {
  const attributed: Charge[] = [];
  let events = 0;
  await store.eachUsageGroup(query, (g) => {
    events += g.events;
    attributed.push(attributor.attribute(g));
  });
  const charges = opts.controlTotals ? applyControlTotals(attributed) : attributed;
  const sums = new LineSums();
  for (const c of charges) sums.add(c);
  return { events, charges, usage: sums.lines() };
}

/** Lines from the window's charges, each charge handed to `sink` and not kept. */
async function chargesInto(
  store: StoreSnapshot,
  query: UsageQuery,
  attributor: Attributor,
  sink: (c: Charge) => void,
): Promise<Attributed> {
  const sums = new LineSums();
  let events = 0;
  await store.eachUsageGroup(query, (g) => {
    events += g.events;
    sink(attributor.attributeAdding(g, sums));
  });
  return { events, usage: sums.lines() };
}

async function linesOf(store: StoreSnapshot, query: UsageQuery, attributor: Attributor): Promise<Attributed> {
  const sums = new LineSums();
  let events = 0;
  await store.eachUsageGroup(query, (g) => {
    events += g.events;
    attributor.attributeInto(g, sums);
  });
  return { events, usage: sums.lines() };
}

/** What the statement asks the store for: the window's groups, split where attribution or a price may change. */
function usageQuery(
  config: Config,
  registry: Registry,
  prices: PriceBook,
  window: { start: number; end: number },
  opts: ComputeOptions,
  tuples: readonly SelectorTuple[],
): UsageQuery {
  const sharedTuples: SelectorTuple[] = [];
  const payerTuples: SelectorTuple[] = [];
  for (const t of tuples) {
    const r = registry.resolve(t);
    if (r.kind !== 'identity') continue;
    if (r.identity.shared) sharedTuples.push(t);
    else payerTuples.push(t);
  }
  return {
    from: window.start,
    to: window.end,
    boundaries: [...new Set([...registry.boundaries(), ...prices.boundaries()])].sort((a, b) => a - b),
    sharedTuples: config.policy.workflowRollup === 'invoker' ? sharedTuples : [],
    payerTuples,
    byDay: opts.byDay ?? false,
    tierThresholds: prices.tierThresholds(),
    timeOfDayCuts: prices.timeOfDayCuts(),
    varies: (provider, model) => prices.varies(provider, model),
    ...(opts.allUnits ? { allUnits: true } : {}),
    ...(opts.controlTotals ? { reportSources: REPORT_SOURCES } : {}),
  };
}

function differsFrom(issued: IssuedStatement, now: Statement): DiffersFromIssued | null {
  if (statementSha256(now) === issued.contentSha256) return null;
  return {
    version: issued.version,
    effective_cost_delta: now.totals.effective_cost - issuedTotal(issued),
    issuedLines: issuedLines(issued),
  };
}
