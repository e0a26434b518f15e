/**
 * The rules that read the statement's attribution (S01–S05, S12): a charge
 * already says whether its events were disputed, unknown, refused a tenant or
 * paid by a stale owner. Each finding names the events behind it so that the
 * store can sample their ids and first and last times.
 */
import { minOf } from '../arrays.js';
import type { Charge, ChargeFlags } from '../attribution.js';
import type { Identity } from '../config.js';
import type { Money } from '../money.js';
import type { RuleId, Severity, Signal } from './signal.js';
import { REFS } from './signal.js';
import { TITLES } from './titles.js';

export interface ChargeFinding {
  rule: RuleId;
  severity: Severity;
  identity: string;
  team: string | null;
  events: number;
  cost: Money;
  /** Whose events back it: registry identity ids, or for S03 the unmatched selector label. */
  sources: string[];
  from: number;
  to: number;
  models: string[];
  tenants: string[];
  figures: Record<string, unknown>;
}

const BY_REASON: Partial<Record<string, { rule: RuleId; severity: Severity }>> = {
  use_after_revocation: { rule: 'S01', severity: 'critical' },
  use_after_compromise: { rule: 'S02', severity: 'critical' },
  unauthorized_model: { rule: 'S05', severity: 'high' },
  unknown_identity: { rule: 'S03', severity: 'high' },
};

const iso = (t: number) => new Date(t).toISOString();
const sorted = (s: Iterable<string | null>) => [...new Set(s)].filter((x): x is string => x !== null).sort();

/** A rule a charge raises, and whether it names the identity that pays (S04, S12) rather than its own. */
interface Raised {
  rule: RuleId;
  severity: Severity;
  byPayer: boolean;
}

/**
 * The rules a charge raises (SPEC §6), rule by rule: every dispute that
 * applies raises its signal, not only the line's reason.
 */
function raisedBy(c: ChargeFlags): Raised[] {
  if (c.identity === null) return [];
  const raised: Raised[] = [];
  for (const reason of c.reason === 'unknown_identity' ? [c.reason] : c.disputes) {
    const r = BY_REASON[reason];
    if (r) raised.push({ ...r, byPayer: false });
  }
  if (c.refusedTenant !== null) raised.push({ rule: 'S04', severity: 'high', byPayer: true });
  if (c.staleOwner) raised.push({ rule: 'S12', severity: 'medium', byPayer: true });
  return raised;
}

/** Whether a charge can back a finding: the charges that `chargeFindings` reads, the others it passes over. */
export function backsFinding(c: ChargeFlags): boolean {
  return raisedBy(c).length > 0;
}

/** The statement's findings over `charges` of the window [start, end). */
export function chargeFindings(
  charges: readonly Charge[],
  identities: ReadonlyMap<string, Identity>,
  end: number,
): ChargeFinding[] {
  const groups = new Map<string, { rule: RuleId; severity: Severity; identity: string; charges: Charge[] }>();
  const add = (rule: RuleId, severity: Severity, identity: string, c: Charge) => {
    const k = `${rule}\u0000${identity}`;
    const g = groups.get(k) ?? { rule, severity, identity, charges: [] };
    g.charges.push(c);
    groups.set(k, g);
  };
  for (const c of charges) {
    if (c.pool !== null || c.identity === null) continue;
    for (const r of raisedBy(c)) add(r.rule, r.severity, r.byPayer ? (c.payer ?? c.identity) : c.identity, c);
  }
  const out: ChargeFinding[] = [];
  for (const g of groups.values()) {
    const cs = g.charges;
    const from = minOf(cs.map((c) => c.time));
    const identity = identities.get(g.identity);
    const last = cs.reduce((a, b) => (b.time >= a.time ? b : a));
    const finding: ChargeFinding = {
      rule: g.rule,
      severity: g.severity,
      identity: g.identity,
      team: last.team,
      // Sampled charges count estimated events (SPEC §11): a whole number, as on statement lines.
      events: Math.round(cs.reduce((n, c) => n + c.events, 0)),
      cost: cs.reduce((m, c) => m + c.direct_cost, 0n),
      sources: sorted(cs.map((c) => c.identity)),
      from,
      to: end,
      models: [],
      tenants: [],
      figures: {},
    };
    const models = sorted(cs.map((c) => c.model));
    const lifecycle = identity?.lifecycle ?? [];
    switch (g.rule) {
      case 'S01':
      case 'S02': {
        const kinds = g.rule === 'S01' ? ['revoked', 'expired'] : ['leaked', 'compromised'];
        const event = lifecycle.filter((l) => kinds.includes(l.event) && l.at <= from).at(-1);
        finding.figures = { lifecycle: event ? { event: event.event, at: iso(event.at) } : null, models };
        break;
      }
      case 'S05':
        finding.models = models;
        finding.figures = { models, allowed: identity?.models ?? null };
        break;
      case 'S03':
        finding.team = null;
        finding.figures = { selector: g.identity, models };
        break;
      case 'S04': {
        const claimed = sorted(cs.map((c) => c.refusedTenant));
        finding.tenants = claimed;
        finding.sources = sorted([...finding.sources, g.identity]);
        finding.figures = { claimed, allowed: identity?.tenants ?? [] };
        break;
      }
      case 'S12':
        finding.sources = sorted([...finding.sources]);
        finding.figures = { team: last.team, application: last.application };
        break;
    }
    out.push(finding);
  }
  return out;
}

export function findingSignal(
  f: ChargeFinding,
  sample: { firstSeen: number; lastSeen: number; eventIds: string[] } | undefined,
): Signal {
  return {
    rule: f.rule,
    severity: f.severity,
    identity: f.identity,
    team: f.team,
    first_seen: sample?.firstSeen ?? f.from,
    last_seen: sample?.lastSeen ?? f.from,
    events: f.events,
    cost: f.cost,
    evidence: { events: sample?.eventIds ?? [], ...f.figures },
    refs: REFS[f.rule],
    title: TITLES[f.rule],
  };
}
