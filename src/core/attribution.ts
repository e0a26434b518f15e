/**
 * Attribution (SPEC §4): turns one usage group into a charge — who pays, with
 * which status and reason, at what price. A deterministic function of the
 * group, the configuration and the price book.
 */
import type { UsageCategory } from './category.js';
import { categoryOf } from './category.js';
import type { Config, Identity } from './config.js';
import type { Money } from './money.js';
import type { PriceBook, PriceFallback } from './pricing.js';
import type { DisputedReason, Registry, UnattributedReason } from './registry.js';
import type { UsageGroup } from './usage.js';

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
}

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

export function selectorLabel(t: UsageGroup['own']): string {
  const parts: string[] = [];
  if (t.api_key !== null) parts.push(`api_key:${t.api_key}`);
  if (t.service !== null) parts.push(`service:${t.service}`);
  if (t.agent !== null) parts.push(`agent:${t.agent}`);
  if (t.project !== null) parts.push(`project:${t.project}`);
  return parts.length > 0 ? parts.join(',') : 'none';
}

export class Attributor {
  constructor(
    private readonly registry: Registry,
    private readonly prices: PriceBook,
    private readonly policy: Config['policy'],
  ) {}

  attribute(g: UsageGroup): Charge {
    const quote = this.prices.price({ ...g, tierUnits: g.tier_units });
    const hasTokens = g.input_tokens + g.output_tokens > 0;
    const cost = quote.priced ? quote.cost : 0n;
    const charge: Charge = {
      cost_center: null,
      team: null,
      application: null,
      tenant: null,
      environment: null,
      category: categoryOf(g.operation, hasTokens),
      status: 'attributed',
      reason: null,
      pool: null,
      direct_cost: cost,
      shared_cost: 0n,
      effective_cost: cost,
      list_cost: quote.priced ? quote.listCost : 0n,
      billed_cost: 0n,
      events: g.events,
      unpriced_events: quote.priced ? 0 : g.events,
      requests: g.requests,
      input_tokens: g.input_tokens,
      output_tokens: g.output_tokens,
      identity: null,
      payer: null,
      provider: g.provider,
      model: g.model,
      project: g.project,
      api_key: g.own.api_key,
      day: g.day,
      time: g.time,
      refusedTenant: null,
      staleOwner: false,
      disputes: [],
    };
    if (quote.fallbacks) charge.fallbacks = quote.fallbacks;

    const own = this.registry.resolve(g.own);
    if (own.kind !== 'identity') {
      charge.identity = selectorLabel(g.own);
      charge.status = 'unattributed';
      charge.reason = own.kind === 'unknown' ? 'unknown_identity' : 'ambiguous_identity';
      charge.tenant = null;
      return charge;
    }
    charge.identity = own.identity.id;

    const payer = this.payerOf(own.identity, g);
    charge.payer = payer.identity.id;
    charge.environment = payer.identity.environment;

    charge.disputes = this.registry.disputes(own.identity, g.time, g.model);
    const disputed = charge.disputes[0] ?? null;
    const accountable = accountableIdentity(own.identity, payer.identity, disputed);
    const owner = this.registry.owner(accountable, g.time);
    if (owner.ok) {
      charge.cost_center = owner.chain.costCenter;
      charge.team = owner.chain.team;
      charge.application = owner.chain.application;
      charge.staleOwner = owner.offboarded || owner.retired;
    } else {
      charge.application = owner.partial.application ?? null;
      charge.team = owner.partial.team ?? null;
    }

    if (g.tenant !== null) {
      if (this.registry.tenantAllowed(payer.identity, g.tenant)) charge.tenant = g.tenant;
      else charge.refusedTenant = g.tenant;
    }

    if (disputed) {
      charge.status = 'disputed';
      charge.reason = disputed;
    } else if (!owner.ok) {
      charge.status = 'unattributed';
      charge.reason = owner.reason;
    } else if (charge.refusedTenant !== null) {
      charge.reason = 'tenant_unverified';
    } else if (payer.noInvoker) {
      charge.reason = 'no_invoker';
    }
    charge.billed_cost = this.billed(charge);
    return charge;
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

  private billed(c: Charge): Money {
    return this.notBilled(c) === null ? c.effective_cost : 0n;
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
