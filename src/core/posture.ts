/**
 * `tally posture` (SPEC §6): NHI and asset hygiene, from the registry, the
 * selector tuples seen in telemetry and the statement's charges. Each finding
 * carries its framework references:
 *
 * | finding | NIST CSF 2.0 | OWASP NHI Top 10 (2025) |
 * |---|---|---|
 * | unregistered_identity: telemetry from selectors no identity matches | ID.AM-02, ID.AM-08 | NHI1 Improper Offboarding |
 * | ambiguous_identity: selectors two identities claim equally | ID.AM-02 | NHI9 NHI Reuse |
 * | unmatched_selector: a registry selector that matched nothing while unknown callers of its kind were seen | ID.AM-02 | NHI1 |
 * | identity_without_owner: no application, or no owner team now | ID.AM-02, ID.AM-08 | NHI1 |
 * | application_without_team: no owner team in effect now | ID.AM-02, ID.AM-08 | NHI1 |
 * | key_not_rotated: no `created`/`rotated` within N days | ID.AM-08 | NHI7 Long-Lived Secrets |
 * | compromised_not_revoked: leaked or compromised, still not revoked | ID.AM-08 | NHI2 Secret Leakage, NHI1 |
 * | identity_across_environments: events claiming another environment | ID.AM-02 | NHI8 Environment Isolation, NHI9 |
 * | identity_across_services: one identity in several services | ID.AM-02 | NHI9 NHI Reuse |
 * | unrestricted_identity: in use with no model allowlist | — | NHI5 Overprivileged NHI |
 * | unpriced_model: a model with no price anywhere | ID.AM-04 (services provided by suppliers) | — |
 * | price_fallback: usage priced at a more general rate (1h cache writes, audio), or units with no price | ID.AM-04 | — |
 * | attribution_coverage: spend not tied to an owner | ID.AM-02 | — |
 *
 * ID.AM-02: inventories of software, services and systems are maintained;
 * ID.AM-04: inventories of services provided by suppliers are maintained;
 * ID.AM-08: systems, hardware, software, services and data are managed
 * throughout their life cycles.
 */
import { maxOf, minOf } from './arrays.js';
import { type Charge, selectorLabel } from './attribution.js';
import type { Config, Identity, Selector } from './config.js';
import { SELECTOR_FIELDS } from './config.js';
import type { Money } from './money.js';
import { inEffect, type Registry } from './registry.js';
import { anyTupleMatches } from './selectors.js';
import type { Severity } from './signals/signal.js';
import { SEVERITIES } from './signals/signal.js';
import { iso, type Totals } from './statement.js';
import { type SelectorTuple, tupleKey } from './usage.js';

/** Events per selector tuple and claimed environment. */
export interface SelectorUsage {
  tuple: SelectorTuple;
  environment: string | null;
  events: number;
  first: number;
  last: number;
}

export type FindingKind =
  | 'unregistered_identity'
  | 'ambiguous_identity'
  | 'unmatched_selector'
  | 'identity_without_owner'
  | 'application_without_team'
  | 'key_not_rotated'
  | 'compromised_not_revoked'
  | 'identity_across_environments'
  | 'identity_across_services'
  | 'unrestricted_identity'
  | 'unpriced_model'
  | 'price_fallback'
  | 'attribution_coverage';

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** What the finding is about: an identity id, an application id, a selector as seen, `provider/model`. */
  subject: string;
  detail: string;
  /** Telemetry behind it in the window; 0 when the finding comes from the registry alone. */
  events: number;
  /** Effective cost of those events; null when unknown (unpriced) or not applicable. */
  cost: Money | null;
  figures: Record<string, string | number | null>;
  refs: string[];
}

export interface Posture {
  window: { start: number; end: number };
  /** The instant "now" for ownership and key age: the window's last instant. */
  asOf: number;
  rotationDays: number;
  coverage: { attributed: Money; direct: Money };
  findings: Finding[];
}

export interface PostureInput {
  config: Config;
  registry: Registry;
  window: { start: number; end: number };
  usage: readonly SelectorUsage[];
  /** The statement's charges over the window: all, or those `postureReads` (the same posture). */
  charges: readonly Charge[];
  totals: Totals;
  rotationDays: number;
}

export const DEFAULT_ROTATION_DAYS = 90;
/** Below this attribution coverage the coverage finding is medium; below the second, high. */
const COVERAGE_MEDIUM = 95n;
const COVERAGE_HIGH = 80n;
const DAY_MS = 86_400_000;
const KEY_KINDS: ReadonlySet<Identity['kind']> = new Set(['api_key', 'service_account']);

const REFS: Record<FindingKind, string[]> = {
  unregistered_identity: ['NIST CSF ID.AM-02', 'NIST CSF ID.AM-08', 'OWASP NHI1'],
  ambiguous_identity: ['NIST CSF ID.AM-02', 'OWASP NHI9'],
  unmatched_selector: ['NIST CSF ID.AM-02', 'OWASP NHI1'],
  identity_without_owner: ['NIST CSF ID.AM-02', 'NIST CSF ID.AM-08', 'OWASP NHI1'],
  application_without_team: ['NIST CSF ID.AM-02', 'NIST CSF ID.AM-08', 'OWASP NHI1'],
  key_not_rotated: ['NIST CSF ID.AM-08', 'OWASP NHI7'],
  compromised_not_revoked: ['NIST CSF ID.AM-08', 'OWASP NHI2', 'OWASP NHI1'],
  identity_across_environments: ['NIST CSF ID.AM-02', 'OWASP NHI8', 'OWASP NHI9'],
  identity_across_services: ['NIST CSF ID.AM-02', 'OWASP NHI9'],
  unrestricted_identity: ['OWASP NHI5'],
  unpriced_model: ['NIST CSF ID.AM-04'],
  price_fallback: ['NIST CSF ID.AM-04'],
  attribution_coverage: ['NIST CSF ID.AM-02'],
};

type Draft = Omit<Finding, 'refs'>;

export function assessPosture(input: PostureInput): Posture {
  const { config, registry, window } = input;
  const asOf = window.end - 1;
  const { seen, unmatched } = usageByIdentity(registry, input.usage);
  const drafts: Draft[] = [
    ...unregisteredFindings(unmatched, unknownCostByLabel(input.charges)),
    ...unmatchedSelectors(config, registry, input.usage, asOf).map(unmatchedFinding),
    ...applicationFindings(config, asOf),
    ...config.identities.flatMap((identity) => {
      const use = seen.get(identity.id);
      const found = ownerFindings(registry, identity, asOf, use?.events ?? 0);
      lifecycleFindings(identity, asOf, input.rotationDays, use?.events ?? 0, (f) => found.push(f));
      return use ? [...found, ...usageFindings(identity, use)] : found;
    }),
    ...unpricedFindings(input.charges),
    ...priceFallbacks(input.charges),
    ...coverageFindings(input.totals),
  ];
  const findings: Finding[] = drafts.map((f) => ({ ...f, refs: REFS[f.kind] }));
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  findings.sort(
    (a, b) => rank(a.severity) - rank(b.severity) || cmp(a.kind, b.kind) || cmp(a.subject, b.subject),
  );
  const { attributed, direct } = input.totals.coverage;
  return { window, asOf, rotationDays: input.rotationDays, coverage: { attributed, direct }, findings };
}

/** How a registry identity was used in the window. */
interface IdentityUse {
  events: number;
  services: Set<string>;
  /** Environments claimed other than the registered one, with their event counts. */
  claims: Map<string, number>;
  last: number;
}

/** Usage of selector tuples that resolve to no identity, or to several. */
interface UnresolvedUse {
  kind: 'unknown' | 'ambiguous';
  label: string;
  candidates: string[];
  usage: SelectorUsage[];
}

/** Splits the window's usage into what each identity did and what resolved to none or several. */
function usageByIdentity(
  registry: Registry,
  usage: readonly SelectorUsage[],
): { seen: Map<string, IdentityUse>; unmatched: Map<string, UnresolvedUse> } {
  const seen = new Map<string, IdentityUse>();
  const unmatched = new Map<string, UnresolvedUse>();
  for (const u of usage) {
    const r = registry.resolve(u.tuple);
    if (r.kind === 'identity') {
      const s = seen.get(r.identity.id) ?? {
        events: 0,
        services: new Set(),
        claims: new Map(),
        last: u.last,
      };
      s.events += u.events;
      s.last = Math.max(s.last, u.last);
      if (u.tuple.service !== null) s.services.add(u.tuple.service);
      if (u.environment !== null && u.environment !== r.identity.environment) {
        s.claims.set(u.environment, (s.claims.get(u.environment) ?? 0) + u.events);
      }
      seen.set(r.identity.id, s);
      continue;
    }
    const key = tupleKey(u.tuple);
    const entry = unmatched.get(key) ?? {
      kind: r.kind,
      label: selectorLabel(u.tuple),
      candidates: r.kind === 'ambiguous' ? r.candidates : [],
      usage: [],
    };
    entry.usage.push(u);
    unmatched.set(key, entry);
  }
  return { seen, unmatched };
}

/**
 * Whether the posture reads a charge: an unknown or ambiguous caller's (`unknownCostByLabel`),
 * one with unpriced events (`unpricedFindings`) or a price fallback (`priceFallbacks`). The
 * posture of these charges alone is that of all of them, so a month's millions need not be kept.
 */
export function postureReads(c: Charge): boolean {
  return (
    c.reason === 'unknown_identity' ||
    c.reason === 'ambiguous_identity' ||
    c.unpriced_events > 0 ||
    (c.fallbacks?.length ?? 0) > 0
  );
}

/** The effective cost of unknown and ambiguous callers, by the label the statement gives them. */
function unknownCostByLabel(charges: readonly Charge[]): Map<string, Money> {
  const cost = new Map<string, Money>();
  for (const c of charges) {
    if (c.reason !== 'unknown_identity' && c.reason !== 'ambiguous_identity') continue;
    const label = c.identity ?? 'none';
    cost.set(label, (cost.get(label) ?? 0n) + c.effective_cost);
  }
  return cost;
}

function unregisteredFindings(unmatched: Map<string, UnresolvedUse>, cost: Map<string, Money>): Draft[] {
  return [...unmatched.values()].map((u) => ({
    kind: u.kind === 'unknown' ? 'unregistered_identity' : 'ambiguous_identity',
    severity: u.kind === 'unknown' ? 'high' : 'medium',
    subject: u.label,
    detail:
      u.kind === 'unknown'
        ? 'seen in telemetry but matched by no identity in the registry'
        : `matched equally by ${u.candidates.join(' and ')}`,
    events: u.usage.reduce((n, x) => n + x.events, 0),
    cost: cost.get(u.label) ?? 0n,
    figures: {
      first_seen: iso(minOf(u.usage.map((x) => x.first))),
      last_seen: iso(maxOf(u.usage.map((x) => x.last))),
      ...(u.kind === 'ambiguous' ? { candidates: u.candidates.join(', ') } : {}),
    },
  }));
}

function applicationFindings(config: Config, asOf: number): Draft[] {
  return config.applications
    .filter((app) => !app.owner.some((o) => inEffect(o, asOf)))
    .map((app) => ({
      kind: 'application_without_team',
      severity: 'medium',
      subject: app.id,
      detail: app.owner.length === 0 ? 'has no owner team' : 'has no owner team in effect now',
      events: 0,
      cost: null,
      figures: {},
    }));
}

/** An identity with no owner now, or whose owner is offboarded or retired. */
function ownerFindings(registry: Registry, identity: Identity, asOf: number, events: number): Draft[] {
  const owner = registry.owner(identity, asOf);
  const severity = events > 0 ? 'high' : 'medium';
  if (!owner.ok) {
    return [
      {
        kind: 'identity_without_owner',
        severity,
        subject: identity.id,
        detail: ownerGap(owner.reason),
        events,
        cost: null,
        figures: { reason: owner.reason, application: identity.application },
      },
    ];
  }
  if (!owner.offboarded && !owner.retired) return [];
  return [
    {
      kind: 'identity_without_owner',
      severity,
      subject: identity.id,
      detail: owner.retired ? 'its application is retired' : 'its owner team is offboarded',
      events,
      cost: null,
      figures: { application: owner.chain.application, team: owner.chain.team },
    },
  ];
}

/** What an identity's use shows: other environments claimed, several services, no allowlist. */
function usageFindings(identity: Identity, use: IdentityUse): Draft[] {
  const found: Draft[] = [];
  if (use.claims.size > 0) {
    const claimed = [...use.claims.keys()].sort();
    found.push({
      kind: 'identity_across_environments',
      severity: 'medium',
      subject: identity.id,
      detail: `registered for ${identity.environment}, seen claiming ${claimed.join(', ')}`,
      events: [...use.claims.values()].reduce((a, b) => a + b, 0),
      cost: null,
      figures: { environment: identity.environment, claimed: claimed.join(', ') },
    });
  }
  if (use.services.size > 1) {
    const services = [...use.services].sort();
    found.push({
      kind: 'identity_across_services',
      severity: 'medium',
      subject: identity.id,
      detail: `one identity used by ${services.length} services: ${services.join(', ')}`,
      events: use.events,
      cost: null,
      figures: { services: services.join(', ') },
    });
  }
  if (identity.models === null && !identity.shared) {
    found.push({
      kind: 'unrestricted_identity',
      severity: 'low',
      subject: identity.id,
      detail: 'in use with no model allowlist: any model, however costly, is authorised',
      events: use.events,
      cost: null,
      figures: {},
    });
  }
  return found;
}

function unpricedFindings(charges: readonly Charge[]): Draft[] {
  const unpriced = new Map<string, { events: number; input: number; output: number }>();
  for (const c of charges) {
    if (c.unpriced_events === 0) continue;
    const key = `${c.provider ?? '?'}/${c.model ?? '?'}`;
    const u = unpriced.get(key) ?? { events: 0, input: 0, output: 0 };
    u.events += c.unpriced_events;
    u.input += c.input_tokens;
    u.output += c.output_tokens;
    unpriced.set(key, u);
  }
  return [...unpriced].map(([model, u]) => ({
    kind: 'unpriced_model',
    severity: 'medium',
    subject: model,
    detail: 'no organisation or catalog price: its cost is unknown, not 0',
    events: Math.round(u.events),
    cost: null,
    figures: { input_tokens: u.input, output_tokens: u.output },
  }));
}

function coverageFindings(totals: Totals): Draft[] {
  const { attributed, direct } = totals.coverage;
  if (direct <= 0n || attributed >= direct) return [];
  const percent = (attributed * 100n) / direct;
  return [
    {
      kind: 'attribution_coverage',
      severity: percent < COVERAGE_HIGH ? 'high' : percent < COVERAGE_MEDIUM ? 'medium' : 'low',
      subject: 'telemetry',
      detail: `${percentText(attributed, direct)} of direct cost is attributed to an owner`,
      events: totals.events,
      cost: direct - attributed,
      figures: { attributed: String(attributed), direct: String(direct) },
    },
  ];
}

/** A registry selector that matched no event while unknown callers of its kind were seen. */
export interface UnmatchedSelector {
  identity: string;
  /** The selector as the registry names it (`api_key:…`), in full. */
  selector: string;
  /** The unknown callers of the same kind, as the events carried them, in full. */
  unknown: string[];
  /** Their events. */
  events: number;
}

/**
 * Registry selectors that matched none of the `usage` while callers that no
 * identity matches, carrying every field the selector names, were seen: a
 * mis-pasted key hash shows up the day it happens (SPEC §2, §3.1). An
 * identity revoked or expired by `asOf` is expected to be silent: skipped.
 */
export function unmatchedSelectors(
  config: Config,
  registry: Registry,
  usage: ReadonlyArray<{ tuple: SelectorTuple; events: number }>,
  asOf: number,
): UnmatchedSelector[] {
  const matched = anyTupleMatches(usage.map((u) => u.tuple));
  let unknownUse: typeof usage | null = null;
  const unknown = () => {
    unknownUse ??= usage.filter((u) => registry.resolve(u.tuple).kind === 'unknown');
    return unknownUse;
  };
  const out: UnmatchedSelector[] = [];
  for (const identity of config.identities) {
    if (endedBy(identity, asOf)) continue;
    for (const selector of identity.match) {
      if (matched(selector)) continue;
      const fields = SELECTOR_FIELDS.filter((f) => selector[f] !== undefined);
      const kin = unknown().filter((u) => fields.every((f) => u.tuple[f] !== null));
      if (kin.length === 0) continue;
      out.push({
        identity: identity.id,
        selector: selectorLabel(selectorTuple(selector)),
        unknown: [...new Set(kin.map((u) => selectorLabel(u.tuple)))].sort(),
        events: kin.reduce((n, u) => n + u.events, 0),
      });
    }
  }
  return out;
}

/** Whether the identity was revoked or expired at or before `at`. */
function endedBy(identity: Identity, at: number): boolean {
  return identity.lifecycle.some((l) => l.at <= at && (l.event === 'revoked' || l.event === 'expired'));
}

function selectorTuple(s: Selector): SelectorTuple {
  return {
    api_key: s.api_key ?? null,
    service: s.service ?? null,
    agent: s.agent ?? null,
    project: s.project ?? null,
  };
}

const SHOWN_UNKNOWN = 5;

function unmatchedFinding(u: UnmatchedSelector): Omit<Finding, 'refs'> {
  const shown = u.unknown.slice(0, SHOWN_UNKNOWN).join('; ');
  const more = u.unknown.length > SHOWN_UNKNOWN ? `; and ${u.unknown.length - SHOWN_UNKNOWN} more` : '';
  return {
    kind: 'unmatched_selector',
    severity: 'high',
    subject: u.identity,
    detail: `its selector ${u.selector} matched no event, while ${u.unknown.length} unknown caller(s) of that kind were seen: ${shown}${more}`,
    events: u.events,
    cost: null,
    figures: { selector: u.selector, unknown_callers: u.unknown.length, unknown_seen: shown + more },
  };
}

function lifecycleFindings(
  identity: Identity,
  asOf: number,
  rotationDays: number,
  events: number,
  add: (f: Omit<Finding, 'refs'>) => void,
): void {
  const past = identity.lifecycle.filter((l) => l.at <= asOf);
  const ended = endedBy(identity, asOf);
  if (ended) return;
  const exposed = past.filter((l) => l.event === 'leaked' || l.event === 'compromised').at(-1);
  if (exposed) {
    add({
      kind: 'compromised_not_revoked',
      severity: 'critical',
      subject: identity.id,
      detail: `${exposed.event} at ${iso(exposed.at)} and not revoked since`,
      events,
      cost: null,
      figures: { [exposed.event]: iso(exposed.at) },
    });
  }
  if (!KEY_KINDS.has(identity.kind)) return;
  const renewed = past.filter((l) => l.event === 'created' || l.event === 'rotated').at(-1);
  const ageDays = renewed ? Math.floor((asOf - renewed.at) / DAY_MS) : null;
  if (ageDays !== null && ageDays <= rotationDays) return;
  add({
    kind: 'key_not_rotated',
    severity: events > 0 ? 'medium' : 'low',
    subject: identity.id,
    detail:
      ageDays === null
        ? 'no creation or rotation on record'
        : `last ${renewed?.event} ${ageDays} days ago (policy: ${rotationDays})`,
    events,
    cost: null,
    figures: { age_days: ageDays, last_renewed: renewed ? iso(renewed.at) : null },
  });
}

function ownerGap(reason: 'no_application' | 'no_owner_at_time' | 'no_cost_center_at_time'): string {
  switch (reason) {
    case 'no_application':
      return 'belongs to no application in the registry';
    case 'no_owner_at_time':
      return 'its application has no owner team now';
    case 'no_cost_center_at_time':
      return 'its owner team has no cost center now';
  }
}

function percentText(part: Money, whole: Money): string {
  const basisPoints = (part * 10_000n) / whole;
  return `${basisPoints / 100n}.${String(basisPoints % 100n).padStart(2, '0')} %`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const FALLBACK_DETAIL: Readonly<Record<string, string>> = {
  cache_write_1h: 'one-hour cache writes have no price of their own: priced at the cache-write rate',
  input_audio: 'audio input tokens have no price of their own: priced at the input rate',
  output_audio: 'audio output tokens have no price of their own: priced at the output rate',
};

/** Usage priced at a fallback rate, or units with no price, per provider/model and part (SPEC §3). */
function priceFallbacks(charges: readonly Charge[]): Array<Omit<Finding, 'refs'>> {
  const by = new Map<string, { model: string; part: string; events: number; quantity: number }>();
  for (const c of charges) {
    for (const f of c.fallbacks ?? []) {
      const model = `${c.provider ?? '?'}/${c.model ?? '?'}`;
      const key = `${model}\0${f.part}`;
      const x = by.get(key) ?? { model, part: f.part, events: 0, quantity: 0 };
      x.events += c.events;
      x.quantity += f.quantity;
      by.set(key, x);
    }
  }
  return [...by.values()].map((x) => {
    const unit = x.part.startsWith('unit:') ? x.part.slice(5) : null;
    return {
      kind: 'price_fallback' as const,
      severity: unit === null ? ('low' as const) : ('medium' as const),
      subject: `${x.model} ${x.part}`,
      detail:
        unit === null
          ? (FALLBACK_DETAIL[x.part] ?? `${x.part} priced at a more general rate`)
          : `"${unit}" units have no organisation or catalog price: left out of the cost, which is too low by their price`,
      events: Math.round(x.events),
      cost: null,
      figures: { part: x.part, quantity: x.quantity },
    };
  });
}
