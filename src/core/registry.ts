/**
 * The registry: identities, their applications, owner teams and cost centers,
 * each effective-dated (SPEC §4.1, §4.2, §4.4, §4.7).
 */
import { maxOf } from './arrays.js';
import type { Application, Config, Dated, Identity, SELECTOR_FIELDS, Selector, Team } from './config.js';
import { modelMatches } from './glob.js';
import { MIN_KEY_PREFIX_DIGITS, selectorComparisons, selectorScore } from './selectors.js';
import type { SelectorTuple } from './usage.js';
import { tupleKey } from './usage.js';

export type Resolution =
  | { kind: 'identity'; identity: Identity }
  | { kind: 'unknown' }
  | { kind: 'ambiguous'; candidates: string[] };

export type UnattributedReason =
  | 'unknown_identity'
  | 'ambiguous_identity'
  | 'no_application'
  | 'no_owner_at_time'
  | 'no_cost_center_at_time'
  | 'pool_without_consumers';

export type DisputedReason = 'use_after_compromise' | 'use_after_revocation' | 'unauthorized_model';

export interface OwnerChain {
  application: string;
  team: string;
  costCenter: string;
}

export type OwnerResult =
  | { ok: true; chain: OwnerChain; offboarded: boolean; retired: boolean }
  | {
      ok: false;
      reason: 'no_application' | 'no_owner_at_time' | 'no_cost_center_at_time';
      partial: Partial<OwnerChain>;
    };

type SelectorField = (typeof SELECTOR_FIELDS)[number];

/** An identity (by its position in the configuration) with a selector naming `fields` fields. */
interface SelectorMatch {
  position: number;
  fields: number;
}

interface SelectorIndex {
  byShape: Map<readonly SelectorField[], Map<string, SelectorMatch[]>>;
  /** Selectors with an api_key hash prefix, by the prefix's first MIN_KEY_PREFIX_DIGITS characters. */
  prefixed: Map<string, Array<{ position: number; selector: Selector }>>;
}

/**
 * The selector index of a configuration's identities: built once and shared
 * by every Registry of that configuration (a replay's and its signals').
 */
const INDEXES = new WeakMap<readonly Identity[], SelectorIndex>();

/** The values of a tuple's fields of one shape, as a key. */
function projection(t: SelectorTuple, shape: readonly SelectorField[]): string {
  return shape.map((f) => t[f] ?? '\u0001').join('\u0000');
}

/** A lifecycle event applies to usage at or after it (SPEC §4.7). */
export function lifecycleApplies(l: { at: number }, t: number): boolean {
  return l.at <= t;
}

export function inEffect(d: Dated, t: number): boolean {
  return (d.from === null || d.from <= t) && (d.until === null || t < d.until);
}

export class Registry {
  private readonly applications = new Map<string, Application>();
  private readonly teams = new Map<string, Team>();
  private readonly tenants: Set<string>;
  private readonly cache = new Map<string, Resolution>();
  private readonly tenantSets = new WeakMap<Identity, ReadonlySet<string>>();
  private index: SelectorIndex | null = null;

  constructor(readonly config: Config) {
    for (const a of config.applications) this.applications.set(a.id, a);
    for (const t of config.teams) this.teams.set(t.id, t);
    this.tenants = new Set(config.tenants.map((t) => t.id));
  }

  /** SPEC §4.1: the identity whose matching selector has the most fields; a tie is ambiguous. */
  resolve(tuple: SelectorTuple): Resolution {
    const key = tupleKey(tuple);
    const hit = this.cache.get(key);
    if (hit) return hit;
    // Each identity's score: the most fields of any of its selectors that match.
    const scores = new Map<number, number>();
    const { byShape, prefixed } = this.selectorIndex();
    for (const [shape, index] of byShape) {
      for (const m of index.get(projection(tuple, shape)) ?? []) {
        if (m.fields > (scores.get(m.position) ?? 0)) scores.set(m.position, m.fields);
      }
    }
    // A prefix selector can only match a key that starts with its first 16 characters.
    const apiKey = tuple.api_key;
    const candidates = apiKey === null ? undefined : prefixed.get(apiKey.slice(0, MIN_KEY_PREFIX_DIGITS));
    for (const { position, selector } of candidates ?? []) {
      const fields = selectorScore(selector, tuple);
      if (fields > (scores.get(position) ?? 0)) scores.set(position, fields);
    }
    const best = maxOf([0, ...scores.values()]);
    const winners = [...scores.entries()]
      .filter(([, score]) => best > 0 && score === best)
      .sort(([a], [b]) => a - b)
      .map(([position]) => this.config.identities[position] as Identity);
    const result: Resolution =
      winners.length === 0
        ? { kind: 'unknown' }
        : winners.length === 1 && winners[0]
          ? { kind: 'identity', identity: winners[0] }
          : { kind: 'ambiguous', candidates: winners.map((w) => w.id).sort() };
    this.cache.set(key, result);
    return result;
  }

  /**
   * The identities' selectors by shape (which fields a selector names) and
   * then by the values it names, so that resolving a tuple looks up each
   * shape once instead of testing every selector (built on first use).
   * Selectors with an api_key hash prefix match more than one value: they
   * are tested one by one (`prefixed`), by the shared rule of selectors.ts.
   */
  private selectorIndex(): SelectorIndex {
    if (this.index) return this.index;
    let index = INDEXES.get(this.config.identities);
    if (index === undefined) {
      index = buildSelectorIndex(this.config.identities);
      INDEXES.set(this.config.identities, index);
    }
    this.index = index;
    return index;
  }

  /** SPEC §4.2: identity → application → team → cost center, each as of `t`. */
  owner(identity: Identity, t: number): OwnerResult {
    if (!identity.application) return { ok: false, reason: 'no_application', partial: {} };
    const app = this.applications.get(identity.application);
    if (!app) return { ok: false, reason: 'no_application', partial: {} };
    return this.applicationOwner(app.id, t);
  }

  applicationOwner(applicationId: string, t: number): OwnerResult {
    const app = this.applications.get(applicationId);
    if (!app) return { ok: false, reason: 'no_application', partial: {} };
    const entry = app.owner.find((o) => inEffect(o, t));
    if (!entry) return { ok: false, reason: 'no_owner_at_time', partial: { application: app.id } };
    const costCenter = this.teamCostCenter(entry.team, t);
    if (!costCenter) {
      return {
        ok: false,
        reason: 'no_cost_center_at_time',
        partial: { application: app.id, team: entry.team },
      };
    }
    const team = this.teams.get(entry.team);
    return {
      ok: true,
      chain: { application: app.id, team: entry.team, costCenter },
      offboarded: team?.offboarded != null && team.offboarded <= t,
      retired: app.retired !== null && app.retired <= t,
    };
  }

  teamCostCenter(teamId: string, t: number): string | null {
    const team = this.teams.get(teamId);
    return team?.costCenter.find((c) => inEffect(c, t))?.costCenter ?? null;
  }

  /** SPEC §4.7: the reason a statement line shows, the first in order of precedence. */
  disputed(identity: Identity, t: number, model: string | null): DisputedReason | null {
    return this.disputes(identity, t, model)[0] ?? null;
  }

  /**
   * Every §4.7 rule that applies, in order of precedence. Signals read all of
   * them (a compromised key calling a model outside its allowlist is S02 and S05).
   */
  disputes(identity: Identity, t: number, model: string | null): DisputedReason[] {
    let compromised = false;
    let revoked = false;
    for (const l of identity.lifecycle) {
      if (!lifecycleApplies(l, t)) continue;
      if (l.event === 'leaked' || l.event === 'compromised') compromised = true;
      if (l.event === 'revoked' || l.event === 'expired') revoked = true;
    }
    const out: DisputedReason[] = [];
    if (compromised) out.push('use_after_compromise');
    if (revoked) out.push('use_after_revocation');
    if (!this.modelAllowed(identity, model)) out.push('unauthorized_model');
    return out;
  }

  modelAllowed(identity: Identity, model: string | null): boolean {
    if (identity.models === null || model === null) return true;
    return identity.models.some((g) => modelMatches(g, model));
  }

  /** SPEC §4.4: may this identity act for the tenant, and does the tenant exist? */
  tenantAllowed(identity: Identity, tenant: string): boolean {
    return this.tenantVerdict(identity, tenant) === 'accepted';
  }

  /** `tenantAllowed` for one identity, as a test of the tenant alone (checked for millions of groups). */
  tenantTest(identity: Identity): (tenant: string) => boolean {
    const allowed = this.allowedTenants(identity);
    return (tenant) => this.verdict(allowed, tenant) === 'accepted';
  }

  /** Why a tenant claim is accepted or refused: a tenant the registry does not know, or one the identity may not act for. */
  tenantVerdict(identity: Identity, tenant: string): 'accepted' | 'unknown_tenant' | 'not_allowed' {
    return this.verdict(this.allowedTenants(identity), tenant);
  }

  private verdict(
    allowed: ReadonlySet<string> | null,
    tenant: string,
  ): 'accepted' | 'unknown_tenant' | 'not_allowed' {
    if (!this.tenants.has(tenant)) return 'unknown_tenant';
    return allowed !== null && (allowed.has('*') || allowed.has(tenant)) ? 'accepted' : 'not_allowed';
  }

  /** An identity's tenant list as a set (a long list was searched once per usage group). */
  private allowedTenants(identity: Identity): ReadonlySet<string> | null {
    if (identity.tenants === null) return null;
    let set = this.tenantSets.get(identity);
    if (set === undefined) {
      set = new Set(identity.tenants);
      this.tenantSets.set(identity, set);
    }
    return set;
  }

  /** Every instant at which an attribution answer can change. */
  boundaries(): number[] {
    const out = new Set<number>();
    const add = (d: Dated) => {
      if (d.from !== null) out.add(d.from);
      if (d.until !== null) out.add(d.until);
    };
    for (const a of this.config.applications) {
      a.owner.forEach(add);
      if (a.retired !== null) out.add(a.retired);
    }
    for (const t of this.config.teams) {
      t.costCenter.forEach(add);
      if (t.offboarded !== null) out.add(t.offboarded);
    }
    for (const i of this.config.identities) for (const l of i.lifecycle) out.add(l.at);
    this.config.prices.models.forEach(add);
    this.config.prices.discounts.forEach(add);
    return [...out].sort((a, b) => a - b);
  }
}

function buildSelectorIndex(identities: readonly Identity[]): SelectorIndex {
  const shapes = new Map<string, readonly SelectorField[]>();
  const index: SelectorIndex = { byShape: new Map(), prefixed: new Map() };
  identities.forEach((identity, position) => {
    for (const selector of identity.match) {
      const comparisons = selectorComparisons(selector);
      if (comparisons.length === 0) continue;
      const prefix = comparisons.find((c) => c.op === 'key_prefix');
      if (prefix) {
        const head = prefix.value.slice(0, MIN_KEY_PREFIX_DIGITS);
        const list = index.prefixed.get(head) ?? [];
        list.push({ position, selector });
        index.prefixed.set(head, list);
        continue;
      }
      const fields = comparisons.map((c) => c.field);
      const name = fields.join(',');
      const shape = shapes.get(name) ?? fields;
      shapes.set(name, shape);
      const byValues = index.byShape.get(shape) ?? new Map<string, SelectorMatch[]>();
      index.byShape.set(shape, byValues);
      const values = projection(selector as SelectorTuple, shape);
      const list = byValues.get(values) ?? [];
      list.push({ position, fields: fields.length });
      byValues.set(values, list);
    }
  });
  return index;
}
