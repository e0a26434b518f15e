/**
 * Usage groups: what the store hands to attribution. The store sums events
 * that attribution cannot tell apart (same selectors, invoker, tenant claim,
 * model, operation, and the same stretch of time between two configuration
 * changes), so that a month of events prices and attributes in one pass over
 * a few thousand groups instead of millions of rows.
 */
import { addUnits, type UsageEvent } from './event.js';

export interface SelectorTuple {
  api_key: string | null;
  service: string | null;
  agent: string | null;
  project: string | null;
}

/**
 * How the payer of a group was found (SPEC §4.3): `self` — the span pays for
 * itself; `invoker` — a shared identity's span paid by the nearest ancestor
 * span whose identity is not shared (`payer`); `no_invoker` — a shared
 * identity's span with no such ancestor.
 */
export type Rollup = 'self' | 'invoker' | 'no_invoker';

export interface UsageGroup {
  own: SelectorTuple;
  payer: SelectorTuple | null;
  rollup: Rollup;
  /** The tenant claim, the span's own or inherited from its nearest ancestor with one. */
  tenant: string | null;
  /** The environment the events claimed. */
  environment: string | null;
  provider: string | null;
  model: string | null;
  operation: string;
  tool: string | null;
  data_source: string | null;
  project: string | null;
  /** The earliest event time in the group; every event of a group lies in one configuration segment. */
  time: number;
  /** Start of the UTC day, when grouped by day. */
  day: number | null;
  events: number;
  requests: number;
  /** Σ tierUnitsOf(event) over the events: what a tiered price spreads the input tokens over. */
  tier_units: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  errors: number;
  /** Richer usage (SPEC §3), summed; absent means 0 / none. */
  cache_write_1h_tokens?: number;
  input_audio_tokens?: number;
  output_audio_tokens?: number;
  units?: Record<string, number> | null;
  /** Sampled events (SPEC §11): the adjusted count every event of the group carries; absent means 1. */
  adjusted_count?: string;
  /** Sampled events: the sampling unit (a trace id, or `source:id` for an event without a trace). */
  sample_unit?: string;
  /** The events are wrappers (core/ai-work.ts): their usage is an aggregate; absent means not. */
  wrapper?: true;
  /** The events came from a provider usage report, asked for as a control total (`reportSources`). */
  from_report?: true;
}

/** A query for usage groups over [from, to). */
export interface UsageQuery {
  from: number;
  to: number;
  /** Instants where the configuration or a price changes; groups never straddle one. */
  boundaries: number[];
  /** Selector tuples whose identity is `shared: true` (empty under `workflow_rollup: executor`). */
  sharedTuples: SelectorTuple[];
  /** Selector tuples whose identity can pay for shared work (a registered, not shared identity). */
  payerTuples: SelectorTuple[];
  /** Split groups by UTC day; the store then hands them over in order of their day (FOCUS rows are written a day at a time). */
  byDay: boolean;
  /** Input-token thresholds of tiered prices: a group never mixes requests below and above one. */
  tierThresholds?: number[];
  /** Seconds after midnight UTC where a time-of-day price switches: a group never straddles one. */
  timeOfDayCuts?: number[];
  /**
   * Whether a model's price depends on the request's size (tiers) or the
   * time of day; only such models' groups are split by those bands.
   * Omitted: every model is split.
   */
  varies?: (provider: string | null, model: string | null) => { tiered: boolean; timeOfDay: boolean };
  /** Group every event by its sampling unit, sampled or not (`tally sampling`, SPEC §11). */
  allUnits?: boolean;
  /** Sources whose events are control totals (provider usage reports): grouped apart, `from_report`. */
  reportSources?: readonly string[];
  /**
   * Only the groups some of whose charges the reader wants (the findings of
   * `tally signals`): the store may first read the window's decision keys
   * (`DecisionKey`), ask `wanted` of each, and group in full only the
   * events of the own selector tuples it wanted. It may also ignore this and
   * hand over every group; the reader still tests each group it gets.
   */
  wanted?: (key: DecisionKey) => boolean;
}

/**
 * What attribution's decision and the tenant check read of a group (own and
 * paying selectors, rollup, tenant, model, and a time in its configuration
 * segment): a group whose other columns are empty and whose counts are zero.
 */
export type DecisionKey = UsageGroup;

export interface ModelPair {
  provider: string | null;
  model: string | null;
}

/** The models of a window whose groups are split by request size and by time of day (see `UsageQuery.varies`). */
export interface VaryingPairs {
  tiered: ModelPair[];
  timeOfDay: ModelPair[];
}

export function varyingPairs(q: UsageQuery, pairs: readonly ModelPair[]): VaryingPairs {
  const flags = pairs.map((p) => ({
    p,
    v: q.varies?.(p.provider, p.model) ?? { tiered: true, timeOfDay: true },
  }));
  return {
    tiered: flags.filter((f) => f.v.tiered).map((f) => f.p),
    timeOfDay: flags.filter((f) => f.v.timeOfDay).map((f) => f.p),
  };
}

export function tupleKey(t: SelectorTuple): string {
  return `${t.api_key ?? ''}\u0000${t.service ?? ''}\u0000${t.agent ?? ''}\u0000${t.project ?? ''}`;
}

/** Adds an event's richer usage (SPEC §3) to a group, leaving absent what stays 0. */
export function addRichUsage(g: UsageGroup, e: UsageEvent): void {
  if (e.cache_write_1h_tokens)
    g.cache_write_1h_tokens = (g.cache_write_1h_tokens ?? 0) + e.cache_write_1h_tokens;
  if (e.input_audio_tokens) g.input_audio_tokens = (g.input_audio_tokens ?? 0) + e.input_audio_tokens;
  if (e.output_audio_tokens) g.output_audio_tokens = (g.output_audio_tokens ?? 0) + e.output_audio_tokens;
  if (e.units) {
    g.units ??= {};
    addUnits(g.units, e.units);
  }
}

/**
 * One event as a usage group of its own, with the payer and tenant claim a
 * trace walk found for it (core/trace-walk.ts): what the drill-down and
 * `tally explain` attribute, exactly as the statement attributes its group.
 */
export function eventGroup(
  e: UsageEvent,
  walk: { shared: boolean; payer: SelectorTuple | null; tenant: string | null; wrapper?: boolean },
): UsageGroup {
  const g: UsageGroup = {
    own: { api_key: e.api_key, service: e.service, agent: e.agent, project: e.project },
    payer: walk.payer,
    rollup: !walk.shared ? 'self' : walk.payer ? 'invoker' : 'no_invoker',
    tenant: walk.tenant,
    environment: e.environment,
    provider: e.provider,
    model: e.model,
    operation: e.operation,
    tool: e.tool,
    data_source: e.data_source,
    project: e.project,
    time: e.time,
    day: null,
    events: 1,
    requests: e.requests,
    tier_units: tierUnitsOf(e),
    input_tokens: e.input_tokens,
    output_tokens: e.output_tokens,
    cache_read_tokens: e.cache_read_tokens,
    cache_write_tokens: e.cache_write_tokens,
    reasoning_tokens: e.reasoning_tokens,
    errors: e.status === 'error' ? 1 : 0,
  };
  addRichUsage(g, e);
  if (walk.wrapper) g.wrapper = true;
  if (e.adjusted_count) {
    g.adjusted_count = e.adjusted_count;
    g.sample_unit = e.trace_id ?? `${e.source}:${e.id}`;
  }
  return g;
}

/**
 * What a tiered price spreads an event's input tokens over: its requests, or,
 * for a usage-report bucket that does not count its requests (Anthropic), its
 * input tokens themselves, so that it prices at the base tier. A provider
 * bills the higher tiers per request above a size, and one day's bucket is
 * not one request: Anthropic reports such requests as rows of their own
 * (`context_window: 200k-1M`).
 */
export function tierUnitsOf(e: Pick<UsageEvent, 'requests' | 'input_tokens'>): number {
  return e.requests > 0 ? e.requests : Math.max(e.input_tokens, 1);
}
