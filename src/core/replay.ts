/**
 * Incident replay (SPEC §6): the events of a window, for an identity or a
 * trace, as trace trees, each span with its cost, its authorisation verdict
 * at that time and the signals it fed; totals split into legitimate,
 * disputed and unattributed spend.
 *
 * Amounts are the statement's to the last digit. The selected events are
 * summed into the same usage groups as the statement's query (same selectors,
 * invoker, tenant claim, model, operation, configuration segment, price tier
 * and time-of-day band), each group is priced and attributed once, and its
 * cost is split over its events by largest remainder in proportion to each
 * event's own price. So a window equal to the statement's gives the
 * statement's amounts per identity exactly, and the spans add up to the totals.
 *
 * The payer and the inherited tenant are found by walking the tree the way
 * the statement's query does (src/store/duckdb/usage-sql.ts): the nearest
 * ancestor span whose identity may pay, the nearest ancestor with a tenant
 * claim, at most 63 ancestors up, over every stored span of the trace.
 */
import { minOf } from './arrays.js';
import { Attributor, type Charge, type Reason, type Status, selectorLabel } from './attribution.js';
import type { Config, Identity } from './config.js';
import type { TraceLink, UsageEvent } from './event.js';
import { normalizeModel } from './models.js';
import { allocateLargestRemainder, type Money } from './money.js';
import type { PriceBook } from './pricing.js';
import type { Registry } from './registry.js';
import type { RuleId, Signal } from './signals/signal.js';
import { TraceIndex, tupleOf } from './trace-walk.js';
import { addRichUsage, type SelectorTuple, tierUnitsOf, tupleKey, type UsageGroup } from './usage.js';

/** An identity's state at an instant: the most serious lifecycle event at or before it (SPEC §4.7). */
export type LifecycleState = 'active' | 'compromised' | 'leaked' | 'revoked' | 'expired' | 'unregistered';

export interface Verdict {
  lifecycle: LifecycleState;
  /** When the lifecycle event behind the state happened. */
  lifecycleSince: number | null;
  /** Whether the model is on the identity's allowlist; null for an unregistered caller. */
  modelAllowed: boolean | null;
  /** The tenant claim, the span's own or inherited from an ancestor. */
  tenantClaim: string | null;
  /** Whether the paying identity may act for the claimed tenant; null without a claim or a payer. */
  tenantAllowed: boolean | null;
  /** The owner team was offboarded or the application retired before the span (S12). */
  ownerStale: boolean;
  status: Status;
  reason: Reason | null;
}

export interface ReplayNode {
  event: UsageEvent;
  /** In the selection (the identity's own span, or a span of the asked trace) and in the window; the others complete the tree. */
  selected: boolean;
  /** The identity whose usage it is, or the unmatched selector as seen. */
  identity: string | null;
  payer: string | null;
  team: string | null;
  application: string | null;
  /** The accepted tenant. */
  tenant: string | null;
  cost: Money;
  billed: Money;
  /** False when the model has no price: the cost shown is the unit price part only. */
  priced: boolean;
  /** A wrapper (core/ai-work.ts): its tokens are those of the spans below it, never priced again. */
  wrapper: boolean;
  verdict: Verdict;
  /** Indices into `Replay.signals`. */
  signals: number[];
  children: ReplayNode[];
}

export interface ReplayTrace {
  /** null for the events that carry no trace: each is a tree of its own. */
  traceId: string | null;
  roots: ReplayNode[];
  start: number;
  /** Effective cost of the trace's selected spans. */
  cost: Money;
}

export interface ReplayTotals {
  events: number;
  effective: Money;
  /** Attributed spend. */
  legitimate: Money;
  disputed: Money;
  unattributed: Money;
  billed: Money;
  unpricedEvents: number;
  byReason: Array<{ status: Status; reason: Reason | null; events: number; cost: Money }>;
}

export interface ReplaySelection {
  identity: string | null;
  trace: string | null;
}

export interface Replay {
  window: { start: number; end: number };
  selection: ReplaySelection;
  currency: string;
  traces: ReplayTrace[];
  /** Spans shown, selected or not. */
  spans: number;
  totals: ReplayTotals;
  /** The signals that at least one selected span fed. */
  signals: Signal[];
  inputs: { config_sha256: string; catalog_version: string; audit_head: string | null };
}

export interface ReplayInput {
  /** The selected events and every other span of their traces, in any order; repeats are ignored. */
  events: readonly UsageEvent[];
  /** Trace links of those traces (spans that are not AI work, SPEC §3.2): the walk passes through them. */
  links?: readonly TraceLink[];
  isSelected: (e: UsageEvent) => boolean;
  window: { start: number; end: number };
  selection: ReplaySelection;
  registry: Registry;
  prices: PriceBook;
  config: Config;
  signals: readonly Signal[];
  auditHead: string | null;
}

const MAX_DEPTH = 64;
/**
 * A span nested deeper than this in a replay's tree is shown as a root of
 * its own, as a span whose parent is missing is: every output of the tree
 * (JSON, Markdown, HTML, the dashboard) is written by depth, and a chain of
 * tens of thousands of spans each under the last overflowed the stack.
 */
export const MAX_TREE_DEPTH = MAX_DEPTH * 4;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** What the statement's query derives per span before grouping. */
interface Placed {
  event: UsageEvent;
  /** Position in time order. */
  order: number;
  selected: boolean;
  own: SelectorTuple;
  /** The registry identity the span's selectors resolve to. */
  identity: Identity | null;
  payer: SelectorTuple | null;
  rollup: UsageGroup['rollup'];
  tenant: string | null;
  wrapper: boolean;
}

/**
 * Whether an event belongs to an identity: its selectors resolve to the
 * registry identity `id`, or, for an unregistered caller, its selectors read
 * as `id` (`api_key:…`, as S03 names them).
 */
export function belongsTo(registry: Registry, id: string, e: UsageEvent): boolean {
  const tuple = tupleOf(e);
  const r = registry.resolve(tuple);
  if (r.kind === 'identity') return r.identity.id === id;
  return r.kind === 'unknown' && selectorLabel(tuple) === id;
}

export function buildReplay(input: ReplayInput): Replay {
  return finishReplay(attributeReplay(input), input.signals);
}

/** A replay's spans attributed and in time order, before the signals they fed are attached. */
export interface AttributedReplay {
  input: Omit<ReplayInput, 'signals'>;
  nodes: readonly ReplayNode[];
}

/** Places and attributes every span of a replay (the signals are attached by `finishReplay`). */
export function attributeReplay(input: Omit<ReplayInput, 'signals'>): AttributedReplay {
  const { registry, prices, config } = input;
  const placed = place(unique(input.events), input.links ?? [], input.isSelected, registry, config);
  const attributor = new Attributor(registry, prices, config.policy);
  const cuts = segmentCuts(registry, prices, input.window);

  const nodes: Array<ReplayNode & { order: number }> = [];
  const add = (p: Placed, charge: Charge, cost: Money, billed: Money) =>
    nodes.push({
      order: p.order,
      event: p.event,
      selected: p.selected,
      identity: charge.identity,
      payer: charge.payer,
      team: charge.team,
      application: charge.application,
      tenant: charge.tenant,
      cost,
      billed,
      priced: charge.unpriced_events === 0,
      wrapper: p.wrapper,
      verdict: verdictOf(registry, p, charge),
      signals: [],
      children: [],
    });
  for (const group of groupsOf(
    placed.filter((p) => p.selected),
    cuts,
    prices,
  )) {
    const charge = attributor.attribute(sumGroup(group));
    const shares =
      group.length === 1
        ? [charge.effective_cost]
        : split(
            charge.effective_cost,
            group.map((p) => prices.price(p.wrapper ? { ...p.event, wrapper: true } : p.event).cost),
          );
    group.forEach((p, i) => {
      const cost = shares[i] ?? 0n;
      add(p, charge, cost, charge.billed_cost === 0n ? 0n : cost);
    });
  }
  for (const p of placed) {
    if (p.selected) continue;
    const charge = attributor.attribute(sumGroup([p]));
    add(p, charge, charge.effective_cost, charge.billed_cost);
  }
  nodes.sort((a, b) => a.order - b.order);
  return { input, nodes };
}

/** The replay with the signals its selected spans fed. */
export function finishReplay(attributed: AttributedReplay, signals: readonly Signal[]): Replay {
  const { input, nodes } = attributed;
  const { prices, config } = input;
  const fed = attachSignals(nodes, signals, input.registry);
  const traces = buildTrees(nodes);
  return {
    window: input.window,
    selection: input.selection,
    currency: config.currency,
    traces,
    spans: nodes.length,
    totals: replayTotals(nodes.filter((n) => n.selected)),
    signals: fed,
    inputs: {
      config_sha256: config.sha256,
      catalog_version: prices.catalogVersion,
      audit_head: input.auditHead,
    },
  };
}

function unique(events: readonly UsageEvent[]): UsageEvent[] {
  const seen = new Map<string, UsageEvent>();
  for (const e of events) {
    const key = `${e.source}\u0000${e.id}`;
    if (!seen.has(key)) seen.set(key, e);
  }
  return [...seen.values()].sort((a, b) => a.time - b.time || cmp(a.source, b.source) || cmp(a.id, b.id));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SPEC §4.3, §4.4: each span's payer and tenant claim, as the statement's query finds them. */
function place(
  events: readonly UsageEvent[],
  links: readonly TraceLink[],
  isSelected: (e: UsageEvent) => boolean,
  registry: Registry,
  config: Config,
): Placed[] {
  const index = new TraceIndex(registry, config.policy.workflowRollup === 'invoker').add(events).add(links);
  return events.map((e, order) => {
    const own = tupleOf(e);
    const r = registry.resolve(own);
    const { shared, payer, tenant, wrapper } = index.walk(e);
    const rollup: UsageGroup['rollup'] = !shared ? 'self' : payer !== null ? 'invoker' : 'no_invoker';
    return {
      event: e,
      order,
      selected: isSelected(e),
      own,
      identity: r.kind === 'identity' ? r.identity : null,
      payer,
      rollup,
      tenant,
      wrapper,
    };
  });
}

/** Instants inside the window where an attribution answer or a price can change (the statement's segments). */
function segmentCuts(registry: Registry, prices: PriceBook, w: { start: number; end: number }): number[] {
  return [...new Set([...registry.boundaries(), ...prices.boundaries()])]
    .filter((b) => b > w.start && b < w.end)
    .sort((a, b) => a - b);
}

function band(value: number, cuts: readonly number[], inclusive: boolean): number {
  for (let i = 0; i < cuts.length; i++) {
    const c = cuts[i] as number;
    if (inclusive ? value <= c : value < c) return i;
  }
  return cuts.length;
}

function groupsOf(placed: readonly Placed[], cuts: readonly number[], prices: PriceBook): Placed[][] {
  const tiers = [...new Set(prices.tierThresholds())].sort((a, b) => a - b);
  const clock = [...new Set(prices.timeOfDayCuts())].filter((c) => c > 0 && c < 86_400).sort((a, b) => a - b);
  const groups = new Map<string, Placed[]>();
  for (const p of placed) {
    const e = p.event;
    const text = (v: string | null) => (v === null ? '\u0001' : v);
    const key = `${tupleKey(p.own)}\u0000${p.payer === null ? '' : tupleKey(p.payer)}\u0000${p.rollup}\u0000${text(p.tenant)}\u0000${text(e.environment)}\u0000${text(e.provider)}\u0000${text(e.model)}\u0000${e.operation}\u0000${text(e.tool)}\u0000${text(e.data_source)}\u0000${band(e.time, cuts, false)}\u0000${band(e.input_tokens / Math.max(e.requests, 1), tiers, true)}\u0000${band((e.time % DAY_MS) / 1000, clock, false)}\u0000${p.wrapper}`;
    const list = groups.get(key);
    if (list) list.push(p);
    else groups.set(key, [p]);
  }
  return [...groups.values()];
}

function sumGroup(group: readonly Placed[]): UsageGroup {
  const first = group[0] as Placed;
  const g: UsageGroup = {
    own: first.own,
    payer: first.payer,
    rollup: first.rollup,
    tenant: first.tenant,
    environment: first.event.environment,
    provider: first.event.provider,
    model: first.event.model,
    operation: first.event.operation,
    tool: first.event.tool,
    data_source: first.event.data_source,
    project: first.event.project,
    time: first.event.time,
    day: null,
    events: 0,
    requests: 0,
    tier_units: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    errors: 0,
  };
  if (first.wrapper) g.wrapper = true;
  for (const { event: e } of group) {
    g.time = Math.min(g.time, e.time);
    g.events++;
    g.requests += e.requests;
    g.tier_units += tierUnitsOf(e);
    g.input_tokens += e.input_tokens;
    g.output_tokens += e.output_tokens;
    g.cache_read_tokens += e.cache_read_tokens;
    g.cache_write_tokens += e.cache_write_tokens;
    g.reasoning_tokens += e.reasoning_tokens;
    addRichUsage(g, e);
    if (e.status === 'error') g.errors++;
  }
  return g;
}

/** A group's cost over its events, in proportion to their own prices (evenly when none has one). */
function split(total: Money, weights: readonly Money[]): Money[] {
  if (weights.length === 1) return [total];
  if (total === 0n) return weights.map(() => 0n);
  const usable = weights.some((w) => w > 0n) ? weights : weights.map(() => 1n);
  return allocateLargestRemainder(total, usable, 1n);
}

function verdictOf(registry: Registry, p: Placed, charge: Charge): Verdict {
  const identity = p.identity;
  const { state, since } = identity
    ? lifecycleAt(identity, p.event.time)
    : { state: 'unregistered' as const, since: null };
  return {
    lifecycle: state,
    lifecycleSince: since,
    modelAllowed: identity ? registry.modelAllowed(identity, p.event.model) : null,
    tenantClaim: p.tenant,
    tenantAllowed: p.tenant === null || charge.payer === null ? null : charge.refusedTenant === null,
    ownerStale: charge.staleOwner,
    status: charge.status,
    reason: charge.reason,
  };
}

/** The same precedence as disputed spend: a leak or compromise outweighs a revocation or expiry. */
export function lifecycleAt(identity: Identity, t: number): { state: LifecycleState; since: number | null } {
  let compromise: { event: 'leaked' | 'compromised'; at: number } | null = null;
  let revocation: { event: 'revoked' | 'expired'; at: number } | null = null;
  for (const l of identity.lifecycle) {
    if (l.at > t) continue;
    if ((l.event === 'leaked' || l.event === 'compromised') && compromise === null)
      compromise = { event: l.event, at: l.at };
    if ((l.event === 'revoked' || l.event === 'expired') && revocation === null)
      revocation = { event: l.event, at: l.at };
  }
  if (compromise) return { state: compromise.event, since: compromise.at };
  if (revocation) return { state: revocation.event, since: revocation.at };
  return { state: 'active', since: null };
}

/**
 * Which signals a span fed. A signal lists a few events as evidence; the
 * others it counts are recognised by what the rule is about: the same
 * identity (for S04 the paying one; for S03 the unmatched selector), a time
 * between the signal's first and last sighting, and, for the rules that judge
 * a property of a single request, that property:
 * S01 revoked/expired, S02 leaked/compromised, S04 refused tenant, S05 model
 * off the allowlist, S09 a failed request, S11 a claimed environment other
 * than the identity's, S12 an owner offboarded or retired. Rules that judge
 * an hour or a pattern (S06–S08, S10, S13, S14) are fed by every span of the
 * identity in their time span; S07 only by spans of the new models its
 * evidence lists, and where the evidence names a model, provider or client
 * address, only by spans with that value.
 */
function attachSignals(
  nodes: readonly ReplayNode[],
  signals: readonly Signal[],
  registry: Registry,
): Signal[] {
  const fed: Signal[] = [];
  const index = new Map<Signal, number>();
  for (const s of signals) {
    const evidence = new Set(s.evidence.events);
    for (const n of nodes) {
      if (!n.selected) continue;
      if (!evidence.has(n.event.id) && !feeds(s, n, registry)) continue;
      let i = index.get(s);
      if (i === undefined) {
        i = fed.length;
        index.set(s, i);
        fed.push(s);
      }
      n.signals.push(i);
    }
  }
  return fed;
}

const PER_REQUEST: Partial<Record<RuleId, (n: ReplayNode, registry: Registry) => boolean>> = {
  S01: (n) => n.verdict.lifecycle === 'revoked' || n.verdict.lifecycle === 'expired',
  S02: (n) => n.verdict.lifecycle === 'leaked' || n.verdict.lifecycle === 'compromised',
  S03: (n) => n.verdict.lifecycle === 'unregistered',
  S04: (n) => n.verdict.tenantAllowed === false,
  S05: (n) => n.verdict.modelAllowed === false,
  S09: (n) => n.event.status === 'error',
  S11: (n, registry) => {
    const r = registry.resolve(tupleOf(n.event));
    return (
      r.kind === 'identity' && n.event.environment !== null && n.event.environment !== r.identity.environment
    );
  },
  S12: (n) => n.verdict.ownerStale,
};

/** The statement's findings (core/signals/from-statement.ts): each a property of single requests. */
const FINDINGS: readonly RuleId[] = ['S01', 'S02', 'S03', 'S04', 'S05', 'S12'];

/**
 * Whether a statement finding (S01–S05, S12) can feed a selected span of
 * the replay of a registered identity, so that the replay needs the
 * window's statement. A finding feeds a span that has its property (the
 * rules above), or that it names as evidence: events of the identities
 * whose charges back it. In a window of whole hours where the configuration
 * does not change, those events of the identity have the property as well
 * (lifecycle, allowlists and owners hold all window long; a shared
 * identity's charge is judged by its payer's owner unless it is disputed,
 * and then by its own, hence the check that no shared identity's owner is
 * stale). So when no span of the identity, and none it pays for, has a
 * finding's property, none can feed; outside those conditions the answer
 * is yes.
 */
export function findingsMayFeed(attributed: AttributedReplay, identity: string): boolean {
  const { registry, window, config } = attributed.input;
  const hours = window.start % HOUR_MS === 0 && window.end % HOUR_MS === 0;
  const steady = !registry.boundaries().some((b) => b > window.start && b < window.end);
  const staleShared = config.identities.some((i) => {
    const owner = i.shared ? registry.owner(i, window.start) : null;
    return owner?.ok === true && (owner.offboarded || owner.retired);
  });
  if (!hours || !steady || staleShared) return true;
  return attributed.nodes.some(
    (n) =>
      (n.selected || n.payer === identity) &&
      FINDINGS.some((rule) => PER_REQUEST[rule]?.(n, registry) === true),
  );
}

function feeds(s: Signal, n: ReplayNode, registry: Registry): boolean {
  const who = s.rule === 'S04' ? n.payer : n.identity;
  if (who !== s.identity) return false;
  if (n.event.time < s.first_seen || n.event.time > s.last_seen) return false;
  const rule = PER_REQUEST[s.rule];
  if (rule) return rule(n, registry);
  const e = n.event;
  const models = s.evidence.models;
  if (s.rule === 'S07' && Array.isArray(models)) {
    const model = normalizeModel(e.model);
    return models.some(
      (m: { model?: unknown }) => typeof m?.model === 'string' && normalizeModel(m.model) === model,
    );
  }
  const same = (figure: string, value: string | null) => {
    const want = s.evidence[figure];
    return typeof want !== 'string' || want === value;
  };
  return same('model', e.model) && same('provider', e.provider) && same('client_address', e.client_address);
}

function buildTrees(nodes: readonly ReplayNode[]): ReplayTrace[] {
  const byTrace = new Map<string, ReplayNode[]>();
  const loose: ReplayTrace[] = [];
  for (const n of nodes) {
    const t = n.event.trace_id;
    if (t === null) {
      loose.push({ traceId: null, roots: [n], start: n.event.time, cost: n.selected ? n.cost : 0n });
      continue;
    }
    const list = byTrace.get(t);
    if (list) list.push(n);
    else byTrace.set(t, [n]);
  }
  const traces: ReplayTrace[] = [...loose];
  for (const [traceId, list] of byTrace) {
    const bySpan = new Map<string, ReplayNode>();
    for (const n of list)
      if (n.event.span_id !== null && !bySpan.has(n.event.span_id)) bySpan.set(n.event.span_id, n);
    const roots: ReplayNode[] = [];
    for (const n of list) {
      const parent = n.event.parent_span_id === null ? undefined : bySpan.get(n.event.parent_span_id);
      // A missing parent, or one that would close a cycle, makes the span a root.
      if (parent && parent !== n && !isAncestor(n, parent, bySpan)) parent.children.push(n);
      else roots.push(n);
    }
    capDepth(roots);
    const cost = list.reduce((sum, n) => (n.selected ? sum + n.cost : sum), 0n);
    traces.push({ traceId, roots, start: minOf(list.map((n) => n.event.time)), cost });
  }
  return traces.sort((a, b) => a.start - b.start || cmp(a.traceId ?? '', b.traceId ?? ''));
}

/** Cuts each tree at `MAX_TREE_DEPTH`: the children of a node at that depth become roots (walked without recursion). */
function capDepth(roots: ReplayNode[]): void {
  const stack = roots.map((node) => ({ node, depth: 1 }));
  for (let top = stack.pop(); top; top = stack.pop()) {
    const { node, depth } = top;
    const cut = depth >= MAX_TREE_DEPTH;
    for (const child of node.children) {
      if (cut) roots.push(child);
      stack.push({ node: child, depth: cut ? 1 : depth + 1 });
    }
    if (cut) node.children = [];
  }
}

/** Whether `n` is already an ancestor of `candidate` along parent links (a cycle in bad telemetry). */
function isAncestor(n: ReplayNode, candidate: ReplayNode, bySpan: ReadonlyMap<string, ReplayNode>): boolean {
  let cur: ReplayNode | undefined = candidate;
  for (let depth = 0; cur && depth < MAX_DEPTH * 4; depth++) {
    if (cur === n) return true;
    cur = cur.event.parent_span_id === null ? undefined : bySpan.get(cur.event.parent_span_id);
  }
  return false;
}

/** Legitimate, disputed and unattributed totals of the selected spans, by status and reason. */
export function replayTotals(selected: readonly ReplayNode[]): ReplayTotals {
  const t: ReplayTotals = {
    events: 0,
    effective: 0n,
    legitimate: 0n,
    disputed: 0n,
    unattributed: 0n,
    billed: 0n,
    unpricedEvents: 0,
    byReason: [],
  };
  const reasons = new Map<string, ReplayTotals['byReason'][number]>();
  for (const n of selected) {
    t.events++;
    t.effective += n.cost;
    t.billed += n.billed;
    if (!n.priced) t.unpricedEvents++;
    if (n.verdict.status === 'attributed') t.legitimate += n.cost;
    else if (n.verdict.status === 'disputed') t.disputed += n.cost;
    else t.unattributed += n.cost;
    const key = `${n.verdict.status}\u0000${n.verdict.reason ?? ''}`;
    const r = reasons.get(key) ?? { status: n.verdict.status, reason: n.verdict.reason, events: 0, cost: 0n };
    r.events++;
    r.cost += n.cost;
    reasons.set(key, r);
  }
  const order: Record<Status, number> = { attributed: 0, disputed: 1, unattributed: 2 };
  t.byReason = [...reasons.values()].sort(
    (a, b) => order[a.status] - order[b.status] || cmp(a.reason ?? '', b.reason ?? ''),
  );
  return t;
}
