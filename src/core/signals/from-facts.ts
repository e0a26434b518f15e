/**
 * The behavioural rules (S06–S11, S14) over the store's aggregates. Each
 * identity is judged against its own history; an hour that the identity's
 * own pattern explains (the same hour in earlier weeks, the same time of day
 * about a month earlier for month-end work) is not a finding.
 */
import { maxOf, minOf } from '../arrays.js';
import { normalizeModel } from '../models.js';
import { formatMoney, type Money } from '../money.js';
import type {
  AddressHour,
  ClaimUse,
  ErrorHour,
  ModelUse,
  NetworkUse,
  OffHoursHour,
  ShapeHour,
  SignalFacts,
  SpikeHour,
} from './facts.js';
import type { SignalSettings } from './settings.js';
import type { RuleId, Severity, Signal } from './signal.js';
import { REFS } from './signal.js';
import { MAD_SCALE, robustZ } from './stats.js';
import { TITLES } from './titles.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Flagged hours of one identity less than this apart are one episode, one signal. */
const EPISODE_GAP_MS = DAY_MS;
/** The least baseline samples S06 judges against: one earlier week, with its neighbouring hours. */
const MIN_SPIKE_SAMPLES = 3;
/** S08: the least events in the baseline for an identity to have usual hours at all. */
const MIN_USUAL_EVENTS = 50;
/** S14: the least spread (natural log) a shape baseline counts as. */
const MIN_LOG_SPREAD = 0.05;
const MAX_EVIDENCE = 5;

const iso = (t: number) => new Date(t).toISOString();

/**
 * Uses in the order their evidence ids are taken: earliest in the window
 * first, then by their earliest id. Not the order the store returned them
 * in, which a parallel aggregate does not fix (the same replay named other
 * events from one run to the next).
 */
function earliestFirst<U extends { firstEver: number; firstSeen: number | null; eventIds: string[] }>(
  uses: readonly U[],
): U[] {
  const first = (u: U) => u.firstSeen ?? u.firstEver;
  const id = (u: U) => u.eventIds[0] ?? '';
  return [...uses].sort((a, b) => first(a) - first(b) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

function signal(
  rule: RuleId,
  severity: Severity,
  identity: string,
  parts: { first: number; last: number; events: number; cost: Money; ids: (string | null)[] },
  figures: Record<string, unknown>,
): Signal {
  return {
    rule,
    severity,
    identity,
    team: null,
    first_seen: parts.first,
    last_seen: parts.last,
    events: parts.events,
    cost: parts.cost,
    evidence: {
      events: parts.ids.filter((x): x is string => x !== null).slice(0, MAX_EVIDENCE),
      ...figures,
    },
    refs: REFS[rule],
    title: TITLES[rule],
  };
}

/** Has the identity been seen for long enough before `t` to have a history? */
function historyBefore(firstSeen: ReadonlyMap<string, number>, identity: string, t: number, days: number) {
  const first = firstSeen.get(identity);
  return first !== undefined && first <= t - days * DAY_MS;
}

/** Groups flagged hours by identity into episodes; each becomes one signal. */
function episodes<H extends { identity: string; hour: number }>(hours: H[]): H[][] {
  const byIdentity = new Map<string, H[]>();
  for (const h of hours) {
    const list = byIdentity.get(h.identity) ?? [];
    list.push(h);
    byIdentity.set(h.identity, list);
  }
  const out: H[][] = [];
  for (const list of byIdentity.values()) {
    list.sort((a, b) => a.hour - b.hour);
    let current: H[] = [];
    for (const h of list) {
      const prev = current.at(-1);
      if (prev && h.hour - prev.hour > EPISODE_GAP_MS) {
        out.push(current);
        current = [];
      }
      current.push(h);
    }
    if (current.length > 0) out.push(current);
  }
  return out;
}

interface HourLike {
  hour: number;
  events: number;
  cost: Money;
  firstSeen: number;
  lastSeen: number;
  eventId: string | null;
}

function totals(hours: readonly HourLike[], rank: (h: HourLike) => number) {
  const top = [...hours].sort((a, b) => rank(b) - rank(a) || a.hour - b.hour);
  return {
    first: minOf(hours.map((h) => h.firstSeen)),
    last: maxOf(hours.map((h) => h.lastSeen)),
    events: hours.reduce((n, h) => n + h.events, 0),
    cost: hours.reduce((m, h) => m + h.cost, 0n),
    ids: top.map((h) => h.eventId),
  };
}

/** S06: an hour's cost ≥ z robust deviations and ≥ the floor above the same hour of week's median. */
export function s06Spikes(
  hours: readonly SpikeHour[],
  firstSeen: ReadonlyMap<string, number>,
  s: SignalSettings,
) {
  type Judged = SpikeHour & { z: number; median: Money; mad: Money };
  const flagged: Judged[] = [];
  for (const h of hours) {
    if (h.baseline.length < MIN_SPIKE_SAMPLES) continue;
    if (!historyBefore(firstSeen, h.identity, h.hour, s.historyDays)) continue;
    const r = robustZ(h.cost, h.baseline, s.spikeSpreadPct / 100);
    if (h.cost - r.median < s.spikeFloor || r.z < s.spikeZ) continue;
    // The same time of day about a month ago reached half of it: a monthly job, not a spike.
    if (h.monthAgoMax * 2n >= h.cost) continue;
    flagged.push({ ...h, ...r });
  }
  return episodes(flagged).map((ep) => {
    const far = ep.some((h) => h.z >= 2 * s.spikeZ && h.cost - h.median >= 10n * s.spikeFloor);
    const t = totals(ep, (h) => (h as Judged).z);
    const top = [...ep].sort((a, b) => b.z - a.z).slice(0, MAX_EVIDENCE);
    return signal('S06', far ? 'high' : 'medium', (ep[0] as Judged).identity, t, {
      hours: top.map((h) => ({
        hour: iso(h.hour),
        cost: formatMoney(h.cost),
        median: formatMoney(h.median),
        mad: formatMoney(h.mad),
        // A flat zero baseline has no spread to measure against: the floor decided, not z.
        z: h.median === 0n && h.mad === 0n ? null : round(h.z),
      })),
      threshold: { z: s.spikeZ, floor: formatMoney(s.spikeFloor) },
    });
  });
}

/** S07: first use of a model (or of a provider) after the identity's history period. */
export function s07NewModels(
  uses: readonly ModelUse[],
  firstSeen: ReadonlyMap<string, number>,
  window: { start: number; end: number },
  s: SignalSettings,
  outputPerMtok: (provider: string | null, model: string | null) => Money | null,
): Signal[] {
  const byModel = new Map<
    string,
    { identity: string; provider: string | null; model: string; uses: ModelUse[] }
  >();
  const providersBefore = new Map<string, Set<string>>();
  for (const u of uses) {
    const model = normalizeModel(u.model);
    if (model === null) continue;
    const k = `${u.identity}\u0000${u.provider ?? ''}\u0000${model}`;
    const g = byModel.get(k) ?? { identity: u.identity, provider: u.provider, model, uses: [] };
    g.uses.push(u);
    byModel.set(k, g);
    if (u.firstEver < window.start) {
      const set = providersBefore.get(u.identity) ?? new Set();
      set.add(u.provider ?? '');
      providersBefore.set(u.identity, set);
    }
  }
  const fresh = new Map<
    string,
    Array<{ provider: string | null; model: string; first: number; uses: ModelUse[] }>
  >();
  for (const g of byModel.values()) {
    const first = minOf(g.uses.map((u) => u.firstEver));
    if (first < window.start || first >= window.end) continue;
    if (!historyBefore(firstSeen, g.identity, first, s.historyDays)) continue;
    const list = fresh.get(g.identity) ?? [];
    list.push({ provider: g.provider, model: g.model, first, uses: g.uses });
    fresh.set(g.identity, list);
  }
  const out: Signal[] = [];
  for (const [identity, list] of fresh) {
    list.sort((a, b) => a.first - b.first || (a.model < b.model ? -1 : 1));
    const all = list.flatMap((m) => earliestFirst(m.uses)).filter((u) => u.events > 0);
    if (all.length === 0) continue;
    const models = list.map((m) => {
      const price = m.uses
        .map((u) => outputPerMtok(u.provider, u.model))
        .reduce<Money | null>((a, b) => (b !== null && (a === null || b > a) ? b : a), null);
      return {
        provider: m.provider,
        model: m.model,
        first_use: iso(m.first),
        new_provider: !(providersBefore.get(identity)?.has(m.provider ?? '') ?? false),
        premium: price !== null && price >= s.premiumOutputPerMtok,
        output_per_mtok: price === null ? null : formatMoney(price),
      };
    });
    out.push(
      signal(
        'S07',
        models.some((m) => m.premium) ? 'medium' : 'low',
        identity,
        {
          first: minOf(all.map((u) => u.firstSeen ?? u.firstEver)),
          last: maxOf(all.map((u) => u.lastSeen ?? u.firstEver)),
          events: all.reduce((n, u) => n + u.events, 0),
          cost: all.reduce((m, u) => m + u.cost, 0n),
          ids: all.flatMap((u) => u.eventIds),
        },
        { models, history_days: s.historyDays },
      ),
    );
  }
  return out;
}

/** S08: real activity in an hour of day that is quiet for the identity, well above anything seen there lately. */
export function s08OffHours(
  hours: readonly OffHoursHour[],
  firstSeen: ReadonlyMap<string, number>,
  s: SignalSettings,
): Signal[] {
  const flagged = hours.filter((h) => {
    if (!historyBefore(firstSeen, h.identity, h.hour, s.historyDays)) return false;
    if (h.baselineEvents < MIN_USUAL_EVENTS || h.events < s.offHoursMinEvents) return false;
    // Three hours of 24 would hold 1/8 of an even day.
    const share = h.hourOfDayEvents / h.baselineEvents;
    if (share > (s.offHoursQuietShare * 3) / 24) return false;
    if (h.events < s.offHoursFactor * Math.max(1, h.recentMax)) return false;
    return h.monthAgoMax * 2 < h.events;
  });
  return episodes(flagged).map((ep) => {
    const first = ep[0] as OffHoursHour;
    return signal(
      'S08',
      'medium',
      first.identity,
      totals(ep, (h) => h.events),
      {
        hours: ep.slice(0, MAX_EVIDENCE).map((h) => ({
          hour: iso(h.hour),
          events: h.events,
          usual_max: h.recentMax,
          share_of_traffic_at_this_time: round(h.hourOfDayEvents / h.baselineEvents),
        })),
      },
    );
  });
}

/** S09: a burst of failed or invalid requests (authentication, permission, validation, rate limits). */
export function s09ErrorBursts(hours: readonly ErrorHour[], s: SignalSettings): Signal[] {
  const flagged = hours.filter(
    (h) =>
      h.errors >= s.errorBurstMin &&
      h.errors >= s.errorBurstRatio * h.events &&
      h.errors > s.errorBurstFactor * h.baselineMax,
  );
  return episodes(flagged).map((ep) => {
    const first = ep[0] as ErrorHour;
    return signal(
      'S09',
      'medium',
      first.identity,
      totals(ep, (h) => (h as ErrorHour).errors),
      {
        hours: ep.slice(0, MAX_EVIDENCE).map((h) => ({
          hour: iso(h.hour),
          errors: h.errors,
          events: h.events,
          baseline_max: h.baselineMax,
        })),
      },
    );
  });
}

/** S10: use from a network the identity never used, or many addresses at once. */
export function s10Addresses(
  networks: readonly NetworkUse[],
  hours: readonly AddressHour[],
  firstSeen: ReadonlyMap<string, number>,
  window: { start: number; end: number },
  s: SignalSettings,
): Signal[] {
  const out: Signal[] = [];
  const fresh = new Map<string, NetworkUse[]>();
  for (const n of networks) {
    if (n.events === 0 || n.firstEver < window.start || n.firstEver >= window.end) continue;
    if (!historyBefore(firstSeen, n.identity, n.firstEver, s.historyDays)) continue;
    const list = fresh.get(n.identity) ?? [];
    list.push(n);
    fresh.set(n.identity, list);
  }
  for (const [identity, list] of fresh) {
    list.sort((a, b) => a.firstEver - b.firstEver || (a.network < b.network ? -1 : 1));
    out.push(
      signal(
        'S10',
        'medium',
        identity,
        {
          first: minOf(list.map((n) => n.firstSeen ?? n.firstEver)),
          last: maxOf(list.map((n) => n.lastSeen ?? n.firstEver)),
          events: list.reduce((k, n) => k + n.events, 0),
          cost: list.reduce((m, n) => m + n.cost, 0n),
          ids: list.flatMap((n) => n.eventIds),
        },
        {
          new_networks: list.map((n) => ({
            network: n.network,
            first_use: iso(n.firstEver),
            addresses: n.addresses,
          })),
        },
      ),
    );
  }
  const bursts = hours.filter(
    (h) =>
      historyBefore(firstSeen, h.identity, h.hour, s.historyDays) &&
      h.addresses >= s.addressBurstMin &&
      h.addresses > s.addressBurstFactor * h.baselineMax,
  );
  for (const ep of episodes(bursts)) {
    const first = ep[0] as AddressHour;
    out.push(
      signal(
        'S10',
        'medium',
        first.identity,
        totals(ep, (h) => (h as AddressHour).addresses),
        {
          hours: ep
            .slice(0, MAX_EVIDENCE)
            .map((h) => ({ hour: iso(h.hour), addresses: h.addresses, baseline_max: h.baselineMax })),
        },
      ),
    );
  }
  return out;
}

/**
 * Environments that say nothing (SPEC §6): unset, empty, or a producer's
 * placeholder such as OpenLIT's `default`. They never count as a claim for S11.
 */
const UNSET_ENVIRONMENTS: ReadonlySet<string> = new Set(['', 'default', 'unknown', 'none', 'null', 'unset']);

export function claimsEnvironment(environment: string | null): environment is string {
  return environment !== null && !UNSET_ENVIRONMENTS.has(environment.trim().toLowerCase());
}

/** S11: events claiming another environment than the identity's, or one identity used by several services. */
export function s11Claims(
  claims: readonly ClaimUse[],
  environmentOf: (identity: string) => string | null,
  s: SignalSettings,
): Signal[] {
  const byIdentity = new Map<string, ClaimUse[]>();
  for (const c of claims) {
    if (c.events === 0) continue;
    const list = byIdentity.get(c.identity) ?? [];
    list.push(c);
    byIdentity.set(c.identity, list);
  }
  const out: Signal[] = [];
  for (const [identity, list] of byIdentity) {
    const own = environmentOf(identity);
    const foreign = list.filter(
      (c) => claimsEnvironment(c.environment) && own !== null && c.environment !== own,
    );
    const foreignEvents = foreign.reduce((n, c) => n + c.events, 0);
    const services = [...new Set(list.map((c) => c.service).filter((x): x is string => x !== null))].sort();
    const badEnv = foreignEvents >= s.environmentMinEvents;
    if (!badEnv && services.length < 2) continue;
    const backing = badEnv ? foreign : list;
    const environments = [...new Set(foreign.map((c) => c.environment as string))].sort();
    out.push(
      signal(
        'S11',
        'medium',
        identity,
        {
          first: minOf(backing.map((c) => c.firstSeen ?? c.firstEver)),
          last: maxOf(backing.map((c) => c.lastSeen ?? c.firstEver)),
          events: backing.reduce((n, c) => n + c.events, 0),
          cost: backing.reduce((m, c) => m + c.cost, 0n),
          ids: earliestFirst(backing).flatMap((c) => c.eventIds),
        },
        {
          environment: own,
          claimed_environments: environments,
          claimed_events: foreignEvents,
          services,
        },
      ),
    );
  }
  return out;
}

/** S14: an hour whose output/input ratio or request size is far outside the identity's baseline. */
export function s14Shapes(
  hours: readonly ShapeHour[],
  firstSeen: ReadonlyMap<string, number>,
  s: SignalSettings,
): Signal[] {
  const minDistance = Math.log(s.shapeFactor);
  const off = (x: number | null, med: number | null, dev: number | null, n: number) => {
    if (x === null || med === null || dev === null || n < s.shapeMinHours) return null;
    const distance = Math.abs(x - med);
    const z = distance / (MAD_SCALE * Math.max(dev, MIN_LOG_SPREAD));
    return z >= s.shapeZ && distance >= minDistance ? z : null;
  };
  type Judged = ShapeHour & { ratioZ: number | null; sizeZ: number | null };
  const flagged: Judged[] = [];
  for (const h of hours) {
    if (h.requests < s.shapeMinRequests || !historyBefore(firstSeen, h.identity, h.hour, s.historyDays))
      continue;
    const ratioZ = off(h.ratio, h.ratioMedian, h.ratioMad, h.ratioHours);
    const sizeZ = off(h.size, h.sizeMedian, h.sizeMad, h.sizeHours);
    if (ratioZ !== null || sizeZ !== null) flagged.push({ ...h, ratioZ, sizeZ });
  }
  const exp = (x: number | null) => (x === null ? null : round(Math.exp(x)));
  return episodes(flagged).map((ep) => {
    const first = ep[0] as Judged;
    return signal(
      'S14',
      'low',
      first.identity,
      totals(ep, (h) => h.events),
      {
        hours: ep.slice(0, MAX_EVIDENCE).map((h) => ({
          hour: iso(h.hour),
          requests: h.requests,
          output_per_input: exp(h.ratio),
          usual_output_per_input: exp(h.ratioMedian),
          input_per_request: exp(h.size),
          usual_input_per_request: exp(h.sizeMedian),
        })),
      },
    );
  });
}

/** Every behavioural rule over one set of facts. */
export function factSignals(
  facts: SignalFacts,
  window: { start: number; end: number },
  s: SignalSettings,
  lookup: {
    environmentOf: (identity: string) => string | null;
    outputPerMtok: (provider: string | null, model: string | null) => Money | null;
  },
): Signal[] {
  const firstSeen = new Map(facts.firstSeen.map((f) => [f.identity, f.time]));
  return [
    ...s06Spikes(facts.spikes, firstSeen, s),
    ...s07NewModels(facts.models, firstSeen, window, s, lookup.outputPerMtok),
    ...s08OffHours(facts.offHours, firstSeen, s),
    ...s09ErrorBursts(facts.errors, s),
    ...s10Addresses(facts.networks, facts.addresses, firstSeen, window, s),
    ...s11Claims(facts.claims, lookup.environmentOf, s),
    ...s14Shapes(facts.shapes, firstSeen, s),
  ];
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
