/**
 * Evaluating the signal rules (SPEC §6) over a window: the statement's
 * attribution gives S01–S05 and S12, the store's hourly and all-time
 * aggregates give S06–S11 and S14, and a provider bill, when given, gives
 * S13. Shared by the CLI, the server, replay and the demo.
 */

import { pushAll } from '../core/arrays.js';
import { selectorLabel } from '../core/attribution.js';
import { checkWindow, MAX_WINDOW_DAYS } from '../core/bounds.js';
import type { Config } from '../core/config.js';
import { AGGREGATE_OPERATIONS } from '../core/event.js';
import type { Money } from '../core/money.js';
import { PriceBook } from '../core/pricing.js';
import { type BillRow, reconcile } from '../core/reconcile.js';
import { Registry } from '../core/registry.js';
import type { EvidenceFilter, RateRow, SignalQuery, UnitRate } from '../core/signals/facts.js';
import { factSignals } from '../core/signals/from-facts.js';
import {
  backsFinding,
  type ChargeFinding,
  chargeFindings,
  findingSignal,
} from '../core/signals/from-statement.js';
import { sortSignals } from '../core/signals/order.js';
import { s13FromReconciliation } from '../core/signals/reconciliation.js';
import { type SignalSettings, signalSettings } from '../core/signals/settings.js';
import type { Signal } from '../core/signals/signal.js';
import type { SelectorTuple } from '../core/usage.js';
import type { Store } from '../store/store.js';
import { type Computed, computeKeptCharges, computeStatement } from './statement.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The month-ago comparison looks up to 34 days back. */
const MONTH_AGO_DAYS = 35;
const EVIDENCE_IDS = 5;
const MTOK = 1_000_000;

/**
 * Failed or invalid requests (S09): HTTP 400/401/403/404/413/422/429 and the
 * names providers give them. Server errors and timeouts are the provider's
 * trouble, not probing, and stay out.
 */
export const PROBE_ERRORS =
  '(^|[^0-9])(400|401|403|404|413|422|429)([^0-9]|$)|auth|permission|forbidden|invalid|validation|rate.?limit|not.?found|bad.?request|quota';

/** Which signals a caller wants (replay: the few that can feed its spans). Each signal kept is the same as without it. */
export interface SignalScope {
  /**
   * Only these registry identities' signals: the store sums only the events
   * their selectors match, and the fact rules (S06–S11, S14) judge only them.
   */
  identities?: readonly string[];
  /**
   * The statement's findings (S01–S05, S12) backed by these identities'
   * events alone, or none (then the window's statement is not computed).
   * Default: `identities`, or every finding.
   */
  findingsOf?: readonly string[] | 'none';
}

export interface SignalOptions extends SignalScope {
  /** A provider bill (core/reconcile.ts rows) for the same window: enables S13. */
  invoice?: readonly BillRow[];
  /** The statement of the same window, when the caller has it already. */
  computed?: Computed;
}

/** The default window of `tally signals`: the 30 days up to the latest event, in whole hours. */
export function defaultSignalWindow(latestEvent: number): { start: number; end: number } {
  const end = Math.floor(latestEvent / HOUR_MS) * HOUR_MS + HOUR_MS;
  return { start: end - 30 * DAY_MS, end };
}

/** The selector tuples seen for each identity (or unmatched selector label), as the facts' scan met them. */
type TuplesOf = Map<string, SelectorTuple[]>;

export async function evaluateSignals(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  opts: SignalOptions = {},
): Promise<Signal[]> {
  checkWindow('signals', window, MAX_WINDOW_DAYS.signals);
  const settings = signalSettings(config.policy.signals);
  const byId = new Map(config.identities.map((i) => [i.id, i]));
  // The statement's charges are done with before the facts are summed: a month's charges are large.
  const { registry, prices, findings, reconciled } = await fromStatement(
    store,
    config,
    window,
    settings,
    opts,
  );
  const tuplesOf: TuplesOf = new Map();
  const signals = await factSignalsOf(store, config, window, settings, { registry, prices, tuplesOf }, opts);
  const findingsOf = opts.findingsOf ?? opts.identities ?? null;
  if (findingsOf !== null && findingsOf !== 'none') {
    const unread = findingsOf.filter((id) => !opts.identities?.includes(id));
    await rememberTuples(store, registry, tuplesOf, unread);
  }
  pushAll(signals, await findingSignals(store, findings, tuplesOf));
  pushAll(signals, reconciled);

  for (const s of signals) {
    if (s.team !== null || !byId.has(s.identity)) continue;
    const identity = byId.get(s.identity);
    const owner = identity ? registry.owner(identity, s.last_seen) : null;
    s.team = owner?.ok ? owner.chain.team : (owner?.partial.team ?? null);
  }
  return sortSignals(signals);
}

/** The hourly and all-time rules (S06–S11, S14) over the store's sums; records each identity's tuples on the way. */
async function factSignalsOf(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  settings: SignalSettings,
  ctx: { registry: Registry; prices: PriceBook; tuplesOf: TuplesOf },
  opts: SignalScope,
): Promise<Signal[]> {
  const { registry, prices, tuplesOf } = ctx;
  const historyStart =
    Math.floor((window.start - Math.max(MONTH_AGO_DAYS, settings.baselineDays + 1) * DAY_MS) / HOUR_MS) *
    HOUR_MS;
  const byId = new Map(config.identities.map((i) => [i.id, i]));
  const identify = (tuples: SelectorTuple[]) => {
    const out: Array<{ tuple: SelectorTuple; identity: string }> = [];
    for (const t of tuples) {
      const r = registry.resolve(t);
      if (r.kind === 'identity') {
        out.push({ tuple: t, identity: r.identity.id });
        remember(tuplesOf, r.identity.id, t);
      } else if (r.kind === 'unknown') remember(tuplesOf, selectorLabel(t), t);
    }
    return out;
  };
  const output = new Map<string, Money>();
  const price = (pairs: Array<{ provider: string | null; model: string | null }>) => {
    const rates = rateRows(prices, pairs, historyStart, window.end);
    for (const r of rates) {
      const k = `${r.provider ?? ''}\u0000${r.model ?? ''}`;
      if (r.output > (output.get(k) ?? -1n)) output.set(k, r.output);
    }
    return rates;
  };

  const scope = opts.identities ? new Set(opts.identities) : null;
  const facts = await store.signalFacts({
    start: window.start,
    end: window.end,
    historyStart,
    baselineWeeks: Math.max(1, Math.floor(settings.baselineDays / 7)),
    baselineDays: settings.baselineDays,
    identify,
    price,
    units: unitRates(config),
    aggregateOperations: [...AGGREGATE_OPERATIONS],
    probeErrors: PROBE_ERRORS,
    prefilter: prefilter(settings),
    ...(scope ? { match: config.identities.filter((i) => scope.has(i.id)).flatMap((i) => i.match) } : {}),
  });
  // Other identities' facts may be partial (their events need not match the selectors): their signals are dropped.
  return factSignals(facts, window, settings, {
    environmentOf: (id) => byId.get(id)?.environment ?? null,
    outputPerMtok: (provider, model) => output.get(`${provider ?? ''}\u0000${model ?? ''}`) ?? null,
  }).filter((s) => scope === null || scope.has(s.identity));
}

function remember(tuplesOf: TuplesOf, key: string, t: SelectorTuple) {
  const list = tuplesOf.get(key) ?? [];
  list.push(t);
  tuplesOf.set(key, list);
}

/** The tuples of identities whose events the facts' scan did not read (their findings' evidence needs them). */
async function rememberTuples(store: Store, registry: Registry, tuplesOf: TuplesOf, ids: readonly string[]) {
  if (ids.length === 0) return;
  const wanted = new Set(ids);
  for (const t of await store.selectorTuples()) {
    const r = registry.resolve(t);
    if (r.kind === 'identity' && wanted.has(r.identity.id)) remember(tuplesOf, r.identity.id, t);
  }
}

/**
 * What the signals read off the window's statement: the findings (S01–S05,
 * S12) of the identities asked for, and S13 against a provider bill. No
 * statement is computed when neither is wanted.
 */
async function fromStatement(
  store: Store,
  config: Config,
  window: { start: number; end: number },
  settings: SignalSettings,
  opts: SignalOptions,
): Promise<{ registry: Registry; prices: PriceBook; findings: ChargeFinding[]; reconciled: Signal[] }> {
  const findingsOf = opts.findingsOf ?? opts.identities ?? null;
  if (findingsOf === 'none' && !opts.invoice)
    return {
      registry: new Registry(config),
      prices: new PriceBook(config.prices),
      findings: [],
      reconciled: [],
    };
  // Reconciling against a bill reads every charge; the findings only the few that can back one, and no statement.
  const { registry, prices, charges } =
    opts.computed ??
    (opts.invoice
      ? await computeStatement(store, config, window)
      : await computeKeptCharges(store, config, window, backsFinding));
  const byId = new Map(config.identities.map((i) => [i.id, i]));
  const scope = findingsOf === null || findingsOf === 'none' ? null : new Set(findingsOf);
  // A finding's evidence is sampled from its sources' events: with a scope, only findings its identities back alone.
  const findings =
    findingsOf === 'none'
      ? []
      : chargeFindings(charges, byId, window.end).filter(
          (f) => scope === null || f.sources.every((s) => scope.has(s)),
        );
  const reconciled: Signal[] = [];
  if (opts.invoice) {
    const tolerance = BigInt(Math.round(settings.reconcileTolerancePct * 1e6)) * 1_000_000n;
    const rows = reconcile(opts.invoice, charges, tolerance);
    pushAll(reconciled, s13FromReconciliation(rows, settings.reconcileTolerancePct, window));
  }
  return { registry, prices, findings, reconciled };
}

/** The findings as signals, each with first and last sighting and a few event ids from the store. */
async function findingSignals(
  store: Store,
  findings: ChargeFinding[],
  tuplesOf: TuplesOf,
): Promise<Signal[]> {
  const filters: EvidenceFilter[] = findings.map((f, i) => ({
    key: String(i),
    tuples: f.sources.flatMap((s) => tuplesOf.get(s) ?? []),
    from: f.from,
    to: f.to,
    models: f.models,
    tenants: f.tenants,
  }));
  const samples = new Map((await store.signalEvidence(filters, EVIDENCE_IDS)).map((s) => [s.key, s]));
  return findings.map((f, i) => findingSignal(f, samples.get(String(i))));
}

function prefilter(s: SignalSettings): SignalQuery['prefilter'] {
  return {
    spikeFloor: s.spikeFloor,
    offHoursMinEvents: s.offHoursMinEvents,
    errorBurstMin: s.errorBurstMin,
    addressBurstMin: s.addressBurstMin,
    shapeMinRequests: s.shapeMinRequests,
    shapeMinLogDistance: Math.log(Math.max(1, s.shapeFactor)),
  };
}

/**
 * Per-token rates of every (provider, model) in each stretch between price
 * changes, read off the price book by pricing a million tokens of each kind
 * (a thousand requests of a thousand tokens, so that no tier applies).
 */
function rateRows(
  prices: PriceBook,
  pairs: ReadonlyArray<{ provider: string | null; model: string | null }>,
  from: number,
  to: number,
): RateRow[] {
  const cuts = prices.boundaries().filter((b) => b > from && b < to);
  const starts = [from, ...cuts];
  const out: RateRow[] = [];
  for (const { provider, model } of pairs) {
    if (model === null) continue;
    starts.forEach((start, i) => {
      const probe = (
        tokens: Partial<Record<'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'reasoning', number>>,
      ) =>
        prices.price({
          time: start,
          provider,
          model,
          operation: 'chat',
          input_tokens: tokens.input ?? 0,
          output_tokens: tokens.output ?? 0,
          cache_read_tokens: tokens.cacheRead ?? 0,
          cache_write_tokens: tokens.cacheWrite ?? 0,
          reasoning_tokens: tokens.reasoning ?? 0,
          requests: 1000,
          tool: null,
          data_source: null,
        });
      const input = probe({ input: MTOK });
      if (!input.priced) return;
      out.push({
        provider,
        model,
        from: i === 0 ? Number.MIN_SAFE_INTEGER : start,
        until: i + 1 < starts.length ? (starts[i + 1] as number) : Number.MAX_SAFE_INTEGER,
        input: input.tokenCost,
        output: probe({ output: MTOK }).tokenCost,
        cacheRead: probe({ input: MTOK, cacheRead: MTOK }).tokenCost,
        cacheWrite: probe({ input: MTOK, cacheWrite: MTOK }).tokenCost,
        reasoning: probe({ output: MTOK, reasoning: MTOK }).tokenCost,
      });
    });
  }
  return out;
}

/** Unit prices, most specific first and then in configuration order, as the price book picks them. */
function unitRates(config: Config): UnitRate[] {
  return config.prices.units
    .map((u, i) => ({ u, i, fields: Number(u.tool !== null) + Number(u.dataSource !== null) }))
    .sort((a, b) => b.fields - a.fields || a.i - b.i)
    .map(({ u }) => ({ operation: u.operation, tool: u.tool, dataSource: u.dataSource, perCall: u.perCall }));
}
