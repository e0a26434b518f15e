/**
 * `tally explain` (SPEC §8): why one event was charged where it was. Every
 * verdict here is the one attribution and pricing reach for the event (the
 * same functions, asked for their reasons), never a second copy of a rule:
 * the selectors that matched and those that nearly did, the identity and its
 * owner chain at the event's time, the invoker path up the trace, the tenant,
 * lifecycle and allowlist verdicts, every price component with its source,
 * and the statement line the event's cost lands on.
 */
import { Attributor, accountableIdentity, type Charge, type NotBilled } from './attribution.js';
import type { Config, Identity, Selector } from './config.js';
import { SELECTOR_FIELDS } from './config.js';
import { editDistance } from './config-schema.js';
import type { UsageEvent } from './event.js';
import { explainPrice, type PriceJson } from './explain-price.js';
import { formatMoney } from './money.js';
import type { PriceBook } from './pricing.js';
import { inEffect, lifecycleApplies, type OwnerResult, type Registry } from './registry.js';
import { selectorScore } from './selectors.js';
import { iso, KEY_FIELDS, type Line, type Statement } from './statement.js';
import { type SpanLike, TraceIndex, tupleOf, type WalkStep } from './trace-walk.js';
import { eventGroup, type SelectorTuple } from './usage.js';

type Field = (typeof SELECTOR_FIELDS)[number];

/** How one field of a selector met the event's value. */
export type FieldVerdict = 'match' | 'absent' | 'differs' | 'prefix' | 'case' | 'close';

export interface SelectorJson {
  identity: string;
  selector: Selector;
  fields: Array<{ field: Field; wanted: string; carried: string | null; verdict: FieldVerdict }>;
}

export interface IdentityJson {
  /** As the event carried them, in full. */
  selectors: SelectorTuple;
  verdict: 'matched' | 'unknown_identity' | 'ambiguous_identity';
  /** The identity whose usage it is, or null. */
  id: string | null;
  kind: string | null;
  application: string | null;
  environment: string | null;
  shared: boolean | null;
  /** The identities tied for the most specific match (ambiguous). */
  candidates: string[];
  /** Every selector that matched, the most specific first; `chosen` on the winner's. */
  matched: Array<SelectorJson & { score: number; chosen: boolean }>;
  /** Selectors that nearly matched: some fields matched, or a value differs only by case, a prefix or a typo. */
  near_misses: SelectorJson[];
}

export interface PathStepJson {
  span_id: string;
  /** false: the parent span is not stored, so the walk stopped there. */
  stored: boolean;
  selectors: SelectorTuple | null;
  identity: string | null;
  shared: boolean | null;
  can_pay: boolean;
  tenant: string | null;
}

export interface InvokerJson {
  policy: Config['policy']['workflowRollup'];
  /** The event's identity is shared, so an invoker pays for it (under `invoker`). */
  shared: boolean;
  rollup: 'self' | 'invoker' | 'no_invoker';
  payer: string | null;
  /** The ancestors looked at, nearest first, up to the payer and the inherited tenant. */
  path: PathStepJson[];
}

export interface OwnerJson {
  /** The identity whose owner pays: the payer, or the event's own identity when disputed. */
  identity: string | null;
  at: string;
  verdict: 'ok' | 'no_application' | 'no_owner_at_time' | 'no_cost_center_at_time' | null;
  application: string | null;
  team: string | null;
  cost_center: string | null;
  /** The application's owner entries; `in_effect` on the one at the event's time. */
  owners: Array<{ team: string; from: string | null; until: string | null; in_effect: boolean }>;
  /** The owner team's cost center entries. */
  cost_centers: Array<{ cost_center: string; from: string | null; until: string | null; in_effect: boolean }>;
  team_offboarded: string | null;
  application_retired: string | null;
  /** The team was offboarded or the application retired before the event: it still pays (S12). */
  stale: boolean;
}

export interface TenantJson {
  claim: string | null;
  /** Where the claim came from: null for the event's own, else the ancestor span that carried it. */
  inherited_from: string | null;
  verdict: 'none' | 'accepted' | 'unknown_tenant' | 'not_allowed' | 'unknown_identity';
  /** The tenants the paying identity may act for (null: none). */
  allowed: string[] | null;
  charged: string | null;
}

export interface ExplanationJson {
  event: Record<string, unknown>;
  identity: IdentityJson;
  invoker: InvokerJson;
  owner: OwnerJson;
  tenant: TenantJson;
  environment: { claimed: string | null; charged: string | null };
  lifecycle: {
    identity: string | null;
    events: Array<{ at: string; event: string; before_event: boolean }>;
  };
  allowlist: { identity: string | null; models: string[] | null; model: string | null; allowed: boolean };
  disputes: string[];
  status: Charge['status'];
  reason: Charge['reason'];
  currency: string;
  price: PriceJson;
  /** A wrapper (core/ai-work.ts): a span below it that carries tokens, priced there rather than here. */
  wrapper: { below: string } | null;
  billing: { billed: boolean; not_billed: NotBilled | null; billed_cost: string | null };
  line: LineJson | null;
}

export interface LineJson {
  /** The statement the line belongs to: the calendar month of the event. */
  period: { start: string; end: string };
  key: Record<string, string | null>;
  /** What this event adds to the line, exact (null when unpriced). */
  event_effective_cost: string | null;
  event_billed_cost: string | null;
  events: number;
  effective_cost: string;
  billed_cost: string;
  /** The line's cents as every output that shows cents shows them. */
  cents: { effective_cost: string; billed_cost: string };
}

export interface ExplainInput {
  event: UsageEvent;
  /** The stored spans of the event's trace (empty without one). */
  spans: readonly SpanLike[];
  config: Config;
  registry: Registry;
  prices: PriceBook;
}

export interface Explained {
  json: ExplanationJson;
  charge: Charge;
}

/** The explanation of one event; the statement line is added by `withLine`. */
export function explainEvent(x: ExplainInput): Explained {
  const { event: e, config, registry } = x;
  const index = new TraceIndex(registry, config.policy.workflowRollup === 'invoker').add(x.spans);
  const steps: WalkStep[] = [];
  const walk = index.walk(e, steps);
  const wrappedSpan = index.wrapped(e);
  const group = eventGroup(e, walk);
  const attributor = new Attributor(registry, x.prices, config.policy);
  const charge = attributor.attribute(group);
  const own = registry.resolve(group.own);
  const ownIdentity = own.kind === 'identity' ? own.identity : null;
  const payer = ownIdentity ? attributor.payerOf(ownIdentity, group).identity : null;
  const accountable =
    ownIdentity && payer ? accountableIdentity(ownIdentity, payer, charge.disputes[0] ?? null) : null;
  const notBilled = attributor.notBilled(charge);
  const priced = charge.unpriced_events === 0;
  return {
    charge,
    json: {
      event: eventJson(e),
      identity: identityJson(registry, group.own),
      invoker: {
        policy: config.policy.workflowRollup,
        shared: walk.shared,
        rollup: group.rollup,
        payer: charge.payer,
        path: steps.map((s) => stepJson(registry, s)),
      },
      owner: ownerJson(registry, accountable, e.time),
      tenant: tenantJson(registry, e, walk.tenant, steps, payer, charge),
      environment: { claimed: e.environment, charged: charge.environment },
      lifecycle: lifecycleJson(ownIdentity, e.time),
      allowlist: allowlistJson(registry, ownIdentity, e.model),
      disputes: charge.disputes,
      status: charge.status,
      reason: charge.reason,
      currency: config.currency,
      price: explainPrice(
        x.prices.explain({ ...group, tierUnits: group.tier_units }),
        x.prices.catalogVersion,
      ),
      wrapper: wrappedSpan === null ? null : { below: wrappedSpan },
      billing: {
        billed: notBilled === null,
        not_billed: notBilled,
        billed_cost: priced ? formatMoney(charge.billed_cost) : null,
      },
      line: null,
    },
  };
}

/** Adds the statement line the event's cost lands on, from the statement of its month. */
export function withLine(x: Explained, statement: Statement): ExplanationJson {
  const c = x.charge;
  const line = statement.lines.find((l) => sameKey(l, c));
  const priced = c.unpriced_events === 0;
  return {
    ...x.json,
    line: line
      ? {
          period: { start: iso(statement.period.start), end: iso(statement.period.end) },
          key: lineKey(line),
          event_effective_cost: priced ? formatMoney(c.effective_cost) : null,
          event_billed_cost: priced ? formatMoney(c.billed_cost) : null,
          events: line.events,
          effective_cost: formatMoney(line.effective_cost),
          billed_cost: formatMoney(line.billed_cost),
          cents: {
            effective_cost: formatMoney(line.cents.effective_cost),
            billed_cost: formatMoney(line.cents.billed_cost),
          },
        }
      : null,
  };
}

function lifecycleJson(identity: Identity | null, t: number): ExplanationJson['lifecycle'] {
  return {
    identity: identity?.id ?? null,
    events: (identity?.lifecycle ?? []).map((l) => ({
      at: iso(l.at),
      event: l.event,
      before_event: lifecycleApplies(l, t),
    })),
  };
}

function allowlistJson(
  registry: Registry,
  identity: Identity | null,
  model: string | null,
): ExplanationJson['allowlist'] {
  return {
    identity: identity?.id ?? null,
    models: identity?.models ?? null,
    model,
    allowed: identity === null || registry.modelAllowed(identity, model),
  };
}

function sameKey(l: Line, c: Charge): boolean {
  return KEY_FIELDS.every((k) => l[k] === c[k]);
}

function lineKey(l: Line): Record<string, string | null> {
  return Object.fromEntries(KEY_FIELDS.map((k) => [k, l[k]]));
}

function eventJson(e: UsageEvent): Record<string, unknown> {
  return { ...e, time: iso(e.time), units: e.units ?? null };
}

/** Every selector of the registry against the event's: those that match, and those that nearly do. */
export function identityJson(registry: Registry, tuple: SelectorTuple): IdentityJson {
  const r = registry.resolve(tuple);
  const chosen = r.kind === 'identity' ? r.identity : null;
  const matched: IdentityJson['matched'] = [];
  const near: SelectorJson[] = [];
  for (const identity of registry.config.identities) {
    for (const selector of identity.match) {
      const score = selectorScore(selector, tuple);
      const json = selectorJson(identity, selector, tuple);
      if (score > 0) matched.push({ ...json, score, chosen: identity === chosen });
      else if (nearMiss(json)) near.push(json);
    }
  }
  matched.sort((a, b) => b.score - a.score || Number(b.chosen) - Number(a.chosen));
  return {
    selectors: tuple,
    verdict:
      r.kind === 'identity' ? 'matched' : r.kind === 'unknown' ? 'unknown_identity' : 'ambiguous_identity',
    id: chosen?.id ?? null,
    kind: chosen?.kind ?? null,
    application: chosen?.application ?? null,
    environment: chosen?.environment ?? null,
    shared: chosen?.shared ?? null,
    candidates: r.kind === 'ambiguous' ? r.candidates : [],
    matched,
    near_misses: near.slice(0, MAX_NEAR_MISSES),
  };
}

const MAX_NEAR_MISSES = 10;

function selectorJson(identity: Identity, selector: Selector, tuple: SelectorTuple): SelectorJson {
  const fields: SelectorJson['fields'] = [];
  for (const field of SELECTOR_FIELDS) {
    const wanted = selector[field];
    if (wanted === undefined) continue;
    const carried = tuple[field];
    fields.push({ field, wanted, carried, verdict: fieldVerdict(field, wanted, tuple) });
  }
  return { identity: identity.id, selector, fields };
}

/** One field alone, by the registry's own matching rule; a miss is classed by how near it came. */
function fieldVerdict(field: Field, wanted: string, tuple: SelectorTuple): FieldVerdict {
  if (selectorScore({ [field]: wanted }, tuple) > 0) return 'match';
  const carried = tuple[field];
  if (carried === null) return 'absent';
  const [a, b] = [wanted.trim().toLowerCase(), carried.trim().toLowerCase()];
  if (a === b) return 'case';
  if (a.length >= 4 && b.length >= 4 && (a.startsWith(b) || b.startsWith(a))) return 'prefix';
  if (Math.min(a.length, b.length) >= 4 && editDistance(a, b) <= 2) return 'close';
  return 'differs';
}

/** A selector that did not match, but where some field matched or a value came close. */
function nearMiss(s: SelectorJson): boolean {
  const verdicts = s.fields.map((f) => f.verdict);
  if (verdicts.some((v) => v === 'case' || v === 'prefix' || v === 'close')) return true;
  return verdicts.includes('match') && verdicts.some((v) => v === 'differs');
}

function stepJson(registry: Registry, s: WalkStep): PathStepJson {
  if (s.node === null)
    return {
      span_id: s.span_id,
      stored: false,
      selectors: null,
      identity: null,
      shared: null,
      can_pay: false,
      tenant: null,
    };
  const r = registry.resolve(s.node.tuple);
  return {
    span_id: s.span_id,
    stored: true,
    selectors: tupleOf(s.node.tuple),
    identity: r.kind === 'identity' ? r.identity.id : null,
    shared: r.kind === 'identity' ? r.identity.shared : null,
    can_pay: s.node.canPay,
    tenant: s.node.tenant,
  };
}

function ownerJson(registry: Registry, identity: Identity | null, t: number): OwnerJson {
  const config = registry.config;
  const result: OwnerResult | null = identity ? registry.owner(identity, t) : null;
  const chain = result?.ok ? result.chain : (result?.partial ?? {});
  const app = config.applications.find((a) => a.id === (chain.application ?? identity?.application));
  const team = config.teams.find((x) => x.id === chain.team);
  const time = (v: number | null) => (v === null ? null : iso(v));
  return {
    identity: identity?.id ?? null,
    at: iso(t),
    verdict: result === null ? null : result.ok ? 'ok' : result.reason,
    application: chain.application ?? null,
    team: chain.team ?? null,
    cost_center: chain.costCenter ?? null,
    owners: (app?.owner ?? []).map((o) => ({
      team: o.team,
      from: time(o.from),
      until: time(o.until),
      in_effect: inEffect(o, t),
    })),
    cost_centers: (team?.costCenter ?? []).map((c) => ({
      cost_center: c.costCenter,
      from: time(c.from),
      until: time(c.until),
      in_effect: inEffect(c, t),
    })),
    team_offboarded: time(team?.offboarded ?? null),
    application_retired: time(app?.retired ?? null),
    stale: result?.ok === true && (result.offboarded || result.retired),
  };
}

function tenantJson(
  registry: Registry,
  e: UsageEvent,
  claim: string | null,
  steps: readonly WalkStep[],
  payer: Identity | null,
  charge: Charge,
): TenantJson {
  const from = e.tenant === null && claim !== null ? steps.find((s) => s.node?.tenant === claim) : undefined;
  const verdict: TenantJson['verdict'] =
    claim === null ? 'none' : payer === null ? 'unknown_identity' : registry.tenantVerdict(payer, claim);
  return {
    claim,
    inherited_from: from?.span_id ?? null,
    verdict,
    allowed: payer?.tenants ?? null,
    charged: charge.tenant,
  };
}
