/**
 * Attribution (SPEC §4): turns one usage group into a charge — who pays, with
 * which status and reason, at what price. A deterministic function of the
 * group, the configuration and the price book.
 */
import type { UsageCategory } from './category.js';
import { categoryOf } from './category.js';
import type { Config, Identity } from './config.js';
import type { Money } from './money.js';
import type { PriceBook, PriceFallback, PriceQuote, PricingInput } from './pricing.js';
import type { DisputedReason, Registry, UnattributedReason } from './registry.js';
import { addSample, type SampleUnits, weigh, weightOf } from './sampling.js';
import type { LineSums } from './statement.js';
import { type DecisionKey, type Rollup, tupleKey, type UsageGroup } from './usage.js';

export type Status = 'attributed' | 'unattributed' | 'disputed';
/** `uninstrumented`: money on the provider's bill with no telemetry behind it (reconcile --true-up, SPEC §5.2). */
export type Reason =
  | UnattributedReason
  | DisputedReason
  | 'no_invoker'
  | 'tenant_unverified'
  | 'uninstrumented';

/** The fields that make a statement line (SPEC §5), shared by usage and pool lines. */
export interface LineKey {
  cost_center: string | null;
  team: string | null;
  application: string | null;
  tenant: string | null;
  environment: string | null;
  /** null on lines rolled up above the line level. */
  category: UsageCategory | 'shared' | null;
  status: Status;
  reason: Reason | null;
  pool: string | null;
}

/**
 * The fields of a line key that attribution decides once per decision (all
 * but the tenant, the category and the pool), with their key text: groups
 * with the same head, tenant and category add into one line.
 */
export interface LineHead {
  readonly text: string;
  readonly cost_center: string | null;
  readonly team: string | null;
  readonly application: string | null;
  readonly environment: string | null;
  readonly status: LineKey['status'];
  readonly reason: LineKey['reason'];
}

const HEAD_FIELDS = ['cost_center', 'team', 'application', 'environment', 'status', 'reason'] as const;

export function lineHead(k: Pick<LineKey, (typeof HEAD_FIELDS)[number]>): LineHead {
  return {
    text: HEAD_FIELDS.map((f) => k[f] ?? '').join('\u0000'),
    cost_center: k.cost_center,
    team: k.team,
    application: k.application,
    environment: k.environment,
    status: k.status,
    reason: k.reason,
  };
}

export interface Amounts {
  direct_cost: Money;
  shared_cost: Money;
  effective_cost: Money;
  list_cost: Money;
  billed_cost: Money;
  events: number;
  unpriced_events: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
}

/** One attributed usage group, with what FOCUS, reconciliation and signals need beyond the line. */
export interface Charge extends LineKey, Amounts {
  /** The identity whose usage it is (the span's own identity), or the unmatched selector as seen. */
  identity: string | null;
  /** The identity that pays (differs from `identity` when rolled up to an invoker). */
  payer: string | null;
  provider: string | null;
  model: string | null;
  project: string | null;
  /** The api key selector the events carried (a fingerprint), for bills itemised by key. */
  api_key: string | null;
  day: number | null;
  time: number;
  /** The tenant the events claimed, when it was refused (S04). */
  refusedTenant: string | null;
  /** The owner team was offboarded or the application retired before the event (S12). */
  staleOwner: boolean;
  /** Every §4.7 rule that applies to the events, in precedence order; `reason` shows only the first. */
  disputes: DisputedReason[];
  /** Parts of the usage priced at a fallback rate or not at all (SPEC §3); absent when none. */
  fallbacks?: PriceFallback[];
  /** Sampled events (SPEC §11): the unit, weight and observed cost behind the weighted amounts. */
  sample?: SampleUnits;
  /** Usage from a provider usage report, asked for as a control total (SPEC §11). */
  fromReport?: true;
}

/** What tells a charge apart for a reader of few charges (the signals' findings), known before it is priced. */
export type ChargeFlags = Pick<Charge, 'identity' | 'reason' | 'disputes' | 'refusedTenant' | 'staleOwner'>;

/** Why a charge is billed 0: unattributed, disputed spend held, or experimentation shown back. */
export type NotBilled = 'unattributed' | 'disputed_hold' | 'experimentation_showback';

/** Disputed spend is shown against the identity that made the call, never rolled up to an invoker (SPEC §4.7). */
export function accountableIdentity(
  own: Identity,
  payer: Identity,
  disputed: DisputedReason | null,
): Identity {
  return disputed ? own : payer;
}

const NO_DISPUTES: DisputedReason[] = Object.freeze([]) as unknown as DisputedReason[];

export function emptyAmounts(): Amounts {
  return {
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
  };
}

export function addAmounts(into: Amounts, a: Amounts): void {
  into.direct_cost += a.direct_cost;
  into.shared_cost += a.shared_cost;
  into.effective_cost += a.effective_cost;
  into.list_cost += a.list_cost;
  into.billed_cost += a.billed_cost;
  into.events += a.events;
  into.unpriced_events += a.unpriced_events;
  into.requests += a.requests;
  into.input_tokens += a.input_tokens;
  into.output_tokens += a.output_tokens;
}

/**
 * A charge of sampled events (SPEC §11) weighted by their adjusted count
 * (Horvitz–Thompson): money exactly (a rational weight, rounded to the
 * money unit), counts as estimates (rounded on the statement's lines).
 */
function weighCharge(c: Charge, g: UsageGroup): void {
  const w = weightOf(g.adjusted_count);
  c.sample = unitOf(g, c.effective_cost);
  c.direct_cost = weigh(c.direct_cost, w);
  c.effective_cost = weigh(c.effective_cost, w);
  c.list_cost = weigh(c.list_cost, w);
  c.billed_cost = weigh(c.billed_cost, w);
  const times = Number(w.n) / Number(w.d);
  c.events *= times;
  c.unpriced_events *= times;
  c.requests *= times;
  c.input_tokens *= times;
  c.output_tokens *= times;
}

/** The group's sampling unit with its weight and observed cost. */
function unitOf(g: UsageGroup, observed: Money): SampleUnits {
  const sample: SampleUnits = new Map();
  addSample(sample, g.sample_unit ?? '', weightOf(g.adjusted_count), observed);
  return sample;
}

export function selectorLabel(t: UsageGroup['own']): string {
  const parts: string[] = [];
  if (t.api_key !== null) parts.push(`api_key:${t.api_key}`);
  if (t.service !== null) parts.push(`service:${t.service}`);
  if (t.agent !== null) parts.push(`agent:${t.agent}`);
  if (t.project !== null) parts.push(`project:${t.project}`);
  return parts.length > 0 ? parts.join(',') : 'none';
}

/**
 * What attribution decides from the registry alone, the same for every group
 * with the same selectors, payer, model and configuration segment. The
 * tenant claim is checked per group (a month has about a million distinct
 * selector × tenant pairs, but only thousands of these decisions); the
 * reason it may change is kept beside the usual one.
 */
type Decision = Pick<
  Charge,
  | 'cost_center'
  | 'team'
  | 'application'
  | 'environment'
  | 'status'
  | 'reason'
  | 'identity'
  | 'payer'
  | 'staleOwner'
  | 'disputes'
> & {
  billed: boolean;
  /** Whether the paying identity may act for a tenant (SPEC §4.4); null when no claim is kept (unattributed). */
  tenantAllowed: ((tenant: string) => boolean) | null;
  /** The reason when the tenant claim is refused. */
  refusedReason: Reason | null;
};

/** A decision with the line-key fields of its charges (`refusedHead`: when their tenant claim is refused). */
type Decided = Decision & { head: LineHead; refusedHead: LineHead };

export class Attributor {
  /** Decisions by group key: a month has millions of groups but few distinct decisions. */
  private readonly decisions = new Map<number, Map<number, Map<number, Decided>>>();
  private readonly tupleIds = new WeakMap<UsageGroup['own'], number>();
  private readonly tupleIdsByKey = new Map<string, number>();
  private readonly modelIds = new Map<string | null, number>();
  private readonly boundaries: number[];

  constructor(
    private readonly registry: Registry,
    private readonly prices: PriceBook,
    private readonly policy: Config['policy'],
  ) {
    this.boundaries = registry.boundaries();
  }

  attribute(g: UsageGroup): Charge {
    return this.charged(g).charge;
  }

  /**
   * `attribute`, the charge also added into its statement line as
   * `attributeInto` adds it: by its decision's head and its amounts, not by
   * a key read back off the charge (which cost a month's statement with
   * charges ~10 s more).
   */
  attributeAdding(g: UsageGroup, sums: LineSums): Charge {
    const { charge, head, amounts } = this.charged(g);
    if (sampled(g)) sums.add(charge);
    else sums.addGroup(sums.slotAt(head, charge.tenant, charge.category), amounts);
    return charge;
  }

  private charged(g: UsageGroup): { charge: Charge; head: LineHead; amounts: GroupAmounts } {
    const quote = this.prices.price(pricingInput(g));
    const who = this.decisionOf(g);
    const refused = this.refuses(who, g);
    const head = refused ? who.refusedHead : who.head;
    const a = groupAmounts(g, quote, who.billed);
    const charge: Charge = {
      cost_center: head.cost_center,
      team: head.team,
      application: head.application,
      tenant: tenantOf(who, g, refused),
      environment: head.environment,
      category: categoryOfGroup(g),
      status: head.status,
      reason: head.reason,
      pool: null,
      direct_cost: a.cost,
      shared_cost: 0n,
      effective_cost: a.cost,
      list_cost: a.list,
      billed_cost: a.billed,
      events: a.events,
      unpriced_events: a.unpriced_events,
      requests: a.requests,
      input_tokens: a.input_tokens,
      output_tokens: a.output_tokens,
      identity: who.identity,
      payer: who.payer,
      provider: g.provider,
      model: g.model,
      project: g.project,
      api_key: g.own.api_key,
      day: g.day,
      time: g.time,
      refusedTenant: refused ? g.tenant : null,
      staleOwner: who.staleOwner,
      disputes: who.disputes,
    };
    if (quote.fallbacks) charge.fallbacks = quote.fallbacks;
    if (g.adjusted_count) weighCharge(charge, g);
    else if (g.sample_unit !== undefined) charge.sample = unitOf(g, charge.effective_cost);
    if (g.from_report) charge.fromReport = true;
    return { charge, head, amounts: a };
  }

  /**
   * Adds the group into its statement line, as `attribute` charges it, but
   * without a charge object: a statement of a month keeps its lines, not
   * millions of charges. A sampled group goes through its charge (its
   * amounts are weighted and it carries its sampling unit).
   */
  attributeInto(g: UsageGroup, sums: LineSums): void {
    if (sampled(g)) {
      sums.add(this.attribute(g));
      return;
    }
    const quote = this.prices.price(pricingInput(g));
    const who = this.decisionOf(g);
    const refused = this.refuses(who, g);
    const slot = sums.slotAt(
      refused ? who.refusedHead : who.head,
      tenantOf(who, g, refused),
      categoryOfGroup(g),
    );
    sums.addGroup(slot, groupAmounts(g, quote, who.billed));
  }

  /**
   * Whether `test` accepts the flags of the charges of a decision key
   * (core/usage.ts `DecisionKey`): what `chargeIf` tells before it prices,
   * for every group of the key alike (the flags read nothing else).
   */
  wants(key: DecisionKey, test: (c: ChargeFlags) => boolean): boolean {
    const who = this.decisionOf(key);
    const refused = this.refuses(who, key);
    return test(flagsOf(who, refused ? who.refusedHead : who.head, refused ? key.tenant : null));
  }

  /** The group's charge when `test` accepts its flags (told before it is priced), else null. */
  chargeIf(g: UsageGroup, test: (c: ChargeFlags) => boolean): Charge | null {
    if (sampled(g)) {
      const charge = this.attribute(g);
      return test(charge) ? charge : null;
    }
    return this.wants(g, test) ? this.attribute(g) : null;
  }

  /** Whether the group's tenant claim is refused (SPEC §4.4); an unattributed group keeps no claim. */
  private refuses(d: Decided, g: UsageGroup): boolean {
    return g.tenant !== null && d.tenantAllowed !== null && !d.tenantAllowed(g.tenant);
  }

  /**
   * A group's decision, made once per distinct key: looked up by numbers
   * (own tuple; payer tuple and rollup; model and segment), no key text per group.
   */
  private decisionOf(g: UsageGroup): Decided {
    const own = this.tupleId(g.own);
    const payer = (g.payer === null ? 0 : this.tupleId(g.payer) + 1) * 3 + ROLLUPS.indexOf(g.rollup);
    const at = this.modelId(g.model) * (this.boundaries.length + 1) + segmentOf(this.boundaries, g.time);
    const byPayer = mapIn(this.decisions, own);
    const byModel = mapIn(byPayer, payer);
    let decision = byModel.get(at);
    if (decision === undefined) {
      decision = withHeads(this.decide(g));
      byModel.set(at, decision);
    }
    return decision;
  }

  /** A number for each distinct selector tuple, found by the object first (the store hands one object to many groups). */
  private tupleId(t: UsageGroup['own']): number {
    let id = this.tupleIds.get(t);
    if (id === undefined) {
      const key = tupleKey(t);
      id = this.tupleIdsByKey.get(key) ?? this.tupleIdsByKey.size;
      this.tupleIdsByKey.set(key, id);
      this.tupleIds.set(t, id);
    }
    return id;
  }

  private modelId(model: string | null): number {
    let id = this.modelIds.get(model);
    if (id === undefined) {
      id = this.modelIds.size;
      this.modelIds.set(model, id);
    }
    return id;
  }

  /** SPEC §4.1–§4.7 for one group, but for its tenant claim: who it is, who pays, the owner chain, the status. */
  private decide(g: UsageGroup): Decision {
    const d: Decision = {
      cost_center: null,
      team: null,
      application: null,
      environment: null,
      status: 'attributed',
      reason: null,
      identity: null,
      payer: null,
      staleOwner: false,
      disputes: NO_DISPUTES,
      billed: false,
      tenantAllowed: null,
      refusedReason: null,
    };
    const own = this.registry.resolve(g.own);
    if (own.kind !== 'identity') {
      d.identity = selectorLabel(g.own);
      d.status = 'unattributed';
      d.reason = own.kind === 'unknown' ? 'unknown_identity' : 'ambiguous_identity';
      d.refusedReason = d.reason;
      return d;
    }
    d.identity = own.identity.id;
    const payer = this.payerOf(own.identity, g);
    d.payer = payer.identity.id;
    d.environment = payer.identity.environment;
    d.tenantAllowed = this.registry.tenantTest(payer.identity);
    // Shared by every charge of the decision: frozen, so that no reader can change another charge's list.
    d.disputes = Object.freeze(this.registry.disputes(own.identity, g.time, g.model)) as DisputedReason[];
    const disputed = d.disputes[0] ?? null;
    const owner = this.registry.owner(accountableIdentity(own.identity, payer.identity, disputed), g.time);
    if (owner.ok) {
      d.cost_center = owner.chain.costCenter;
      d.team = owner.chain.team;
      d.application = owner.chain.application;
      d.staleOwner = owner.offboarded || owner.retired;
    } else {
      d.application = owner.partial.application ?? null;
      d.team = owner.partial.team ?? null;
    }
    const standing: Reason | null = disputed ?? (owner.ok ? null : owner.reason);
    if (disputed) d.status = 'disputed';
    else if (!owner.ok) d.status = 'unattributed';
    d.reason = standing ?? (payer.noInvoker ? 'no_invoker' : null);
    d.refusedReason = standing ?? 'tenant_unverified';
    d.billed = this.notBilled(d) === null;
    return d;
  }

  /** Who pays for the group (SPEC §4.3): the span's own identity, or the invoker of a shared one. */
  payerOf(own: Identity, g: UsageGroup): { identity: Identity; noInvoker: boolean } {
    if (this.policy.workflowRollup === 'executor' || !own.shared) return { identity: own, noInvoker: false };
    if (g.rollup === 'invoker' && g.payer) {
      const invoker = this.registry.resolve(g.payer);
      if (invoker.kind === 'identity' && !invoker.identity.shared)
        return { identity: invoker.identity, noInvoker: false };
    }
    return { identity: own, noInvoker: true };
  }

  /** Why a charge is billed 0 (SPEC §4.6, §4.7), or null when it is billed in full. */
  notBilled(c: Pick<Charge, 'status' | 'environment'>): NotBilled | null {
    if (c.status === 'unattributed') return 'unattributed';
    if (c.status === 'disputed' && this.policy.disputed === 'hold') return 'disputed_hold';
    if (c.environment === 'experimentation' && this.policy.experimentation === 'showback')
      return 'experimentation_showback';
    return null;
  }
}

/** The decision with the line heads of its charges: its own reason, and the reason when a tenant claim is refused. */
function withHeads(d: Decision): Decided {
  const decided = d as Decided;
  decided.head = lineHead(d);
  decided.refusedHead = lineHead({ ...d, reason: d.refusedReason });
  return decided;
}

/** The tenant a charge keeps: the claim, unless it was refused or the usage is unattributed (no claim is kept). */
function tenantOf(who: Decided, g: UsageGroup, refused: boolean): string | null {
  return refused || who.tenantAllowed === null ? null : g.tenant;
}

function flagsOf(who: Decided, head: LineHead, refusedTenant: string | null): ChargeFlags {
  return {
    identity: who.identity,
    reason: head.reason,
    disputes: who.disputes,
    refusedTenant,
    staleOwner: who.staleOwner,
  };
}

/** A group of sampled events (or grouped by sampling unit): its charge carries its unit, its amounts may be weighted. */
function sampled(g: UsageGroup): boolean {
  return Boolean(g.adjusted_count) || g.sample_unit !== undefined;
}

function categoryOfGroup(g: UsageGroup): UsageCategory {
  return categoryOf(g.operation, g.input_tokens + g.output_tokens > 0, g.wrapper);
}

/**
 * What a priced group adds to its charge or line: its cost (0 when unpriced)
 * as direct and effective cost, its list cost, its cost as billed when
 * billed in full (else 0), and its counts.
 */
export interface GroupAmounts {
  cost: Money;
  list: Money;
  billed: Money;
  events: number;
  unpriced_events: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
}

function groupAmounts(g: UsageGroup, quote: PriceQuote, billed: boolean): GroupAmounts {
  const cost = quote.priced ? quote.cost : 0n;
  return {
    cost,
    list: quote.priced ? quote.listCost : 0n,
    billed: billed ? cost : 0n,
    events: g.events,
    unpriced_events: quote.priced ? 0 : g.events,
    requests: g.requests,
    input_tokens: g.input_tokens,
    output_tokens: g.output_tokens,
  };
}

const ROLLUPS: readonly Rollup[] = ['self', 'invoker', 'no_invoker'];

/** The map under `key`, made when missing. */
function mapIn<K, V>(outer: Map<K, Map<number, V>>, key: K): Map<number, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** How many of the sorted instants are at or before `t`: groups in one segment get the same registry answers. */
function segmentOf(boundaries: readonly number[], t: number): number {
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((boundaries[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A group's pricing input, field by field (spreading a whole group per call was a measurable cost). */
function pricingInput(g: UsageGroup): PricingInput {
  const input: PricingInput = {
    time: g.time,
    provider: g.provider,
    model: g.model,
    operation: g.operation,
    input_tokens: g.input_tokens,
    output_tokens: g.output_tokens,
    cache_read_tokens: g.cache_read_tokens,
    cache_write_tokens: g.cache_write_tokens,
    reasoning_tokens: g.reasoning_tokens,
    requests: g.requests,
    tool: g.tool,
    data_source: g.data_source,
    tierUnits: g.tier_units,
  };
  if (g.wrapper) input.wrapper = true;
  if (g.cache_write_1h_tokens !== undefined) input.cache_write_1h_tokens = g.cache_write_1h_tokens;
  if (g.input_audio_tokens !== undefined) input.input_audio_tokens = g.input_audio_tokens;
  if (g.output_audio_tokens !== undefined) input.output_audio_tokens = g.output_audio_tokens;
  if (g.units !== undefined) input.units = g.units;
  return input;
}
