/**
 * The events drill-down: stored events, each attributed on its own exactly
 * as its usage group is in the statement (the same trace walk for the
 * invoker of shared work and the inherited tenant claim, SPEC §4.3–4.4), then
 * filtered. Filters on attribution results (team, status, …) cannot run in
 * SQL, so a page scans a bounded number of events and hands back a cursor.
 */

import { carriesTokens } from '../core/ai-work.js';
import { Attributor, type Charge } from '../core/attribution.js';
import type { Config, Identity } from '../core/config.js';
import type { UsageEvent } from '../core/event.js';
import { formatMoney } from '../core/money.js';
import { PriceBook } from '../core/pricing.js';
import { Registry } from '../core/registry.js';
import { TraceIndex } from '../core/trace-walk.js';
import { eventGroup } from '../core/usage.js';
import { addTraceSpans } from '../service/trace-spans.js';
import type { EventKey, EventsPageQuery, Store } from '../store/store.js';
import { HttpError } from './errors.js';
import { optional } from './http.js';

/** Fields the drill-down filters on by exact value. */
export const EVENT_FILTERS = [
  'team',
  'application',
  'cost_center',
  'tenant',
  'environment',
  'category',
  'status',
  'reason',
  'provider',
  'model',
  'identity',
  'trace',
] as const;
/** Fields that can be asked to be empty (`none=tenant`): a statement line without a tenant drills down so. */
export const NONE_FIELDS = [
  'team',
  'application',
  'cost_center',
  'tenant',
  'environment',
  'reason',
  'provider',
  'model',
  'identity',
] as const;

/**
 * Exact values per field; null asks for events without one. `identity` is
 * the identity whose usage it is, or the one that pays.
 */
export type EventFilter = Partial<Record<(typeof EVENT_FILTERS)[number], string | null>>;

/** The filter of a request's query: each field's value, and `none=a,b` for fields that must be empty. */
export function eventFilter(q: URLSearchParams): EventFilter {
  const filter: EventFilter = {};
  for (const k of EVENT_FILTERS) {
    const v = optional(q, k);
    if (v !== undefined) filter[k] = v;
  }
  for (const k of (optional(q, 'none') ?? '').split(',').filter(Boolean)) {
    const field = NONE_FIELDS.find((f) => f === k);
    if (!field)
      throw new HttpError('usage', `none must list fields among ${NONE_FIELDS.join(', ')}, got '${k}'`);
    if (filter[field] !== undefined) throw new HttpError('usage', `${k} is both given and listed in none`);
    filter[field] = null;
  }
  return filter;
}

export interface DrilldownPage {
  events: Array<Record<string, unknown>>;
  next_cursor: string | null;
}

const CHUNK = 2_000;
/** Events looked at per request, whatever the filters: a sparse filter pages through cursors instead. */
const SCAN_LIMIT = 50_000;

export function encodeCursor(k: EventKey): string {
  return Buffer.from(JSON.stringify([k.time, k.source, k.id])).toString('base64url');
}

export function decodeCursor(s: string): EventKey {
  try {
    const [time, source, id] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown[];
    if (typeof time === 'number' && typeof source === 'string' && typeof id === 'string')
      return { time, source, id };
  } catch {
    // reported below
  }
  throw new HttpError('usage', 'cursor is not one this server handed out');
}

export class Drilldown {
  private readonly registry: Registry;
  private readonly attributor: Attributor;

  constructor(
    private readonly store: Store,
    private readonly config: Config,
  ) {
    this.registry = new Registry(config);
    this.attributor = new Attributor(this.registry, new PriceBook(config.prices), config.policy);
  }

  async page(
    window: { start: number; end: number },
    filter: EventFilter,
    cursor: EventKey | null,
    limit: number,
  ): Promise<DrilldownPage> {
    const out: Array<Record<string, unknown>> = [];
    let after = cursor;
    let scanned = 0;
    while (out.length < limit && scanned < SCAN_LIMIT) {
      const events = await this.store.eventsPage({
        from: window.start,
        to: window.end,
        trace: filter.trace ?? null,
        after,
        limit: exactInSql(filter) ? limit : CHUNK,
        ...prefilter(this.config, filter),
      });
      if (events.length === 0) return { events: out, next_cursor: null };
      const groups = await this.attribute(events);
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as UsageEvent;
        after = { time: e.time, source: e.source, id: e.id };
        scanned++;
        const g = groups[i] as { charge: Charge; wrapper: boolean };
        if (matches(g.charge, filter)) {
          out.push(eventJson(e, g.charge, g.wrapper));
          if (out.length === limit) break;
        }
      }
      if (events.length < CHUNK && out.length < limit) return { events: out, next_cursor: null };
    }
    return { events: out, next_cursor: after ? encodeCursor(after) : null };
  }

  /** Each event as a usage group of one, with its payer and tenant found the way the statement finds them. */
  private async attribute(
    events: readonly UsageEvent[],
  ): Promise<Array<{ charge: Charge; wrapper: boolean }>> {
    const index = new TraceIndex(this.registry, this.config.policy.workflowRollup === 'invoker');
    // A span that carries tokens needs its trace too: the spans below it say whether it is a wrapper.
    const walking = events.filter((e) => index.needsWalk(e) || (e.trace_id !== null && carriesTokens(e)));
    await addTraceSpans(this.store, index, walking);
    return events.map((e) => {
      const g = eventGroup(e, index.walk(e));
      return { charge: this.attributor.attribute(g), wrapper: g.wrapper === true };
    });
  }
}

/**
 * What the store can filter before attribution, a superset of the events
 * whose charge matches: provider and model as stored; a tenant claimed, or
 * inheritable in a trace; for an identity, application or team, the events
 * of the identities that could be charged to it (their selectors), and the
 * events of shared identities in a trace with one of theirs (an invoker).
 */
function prefilter(config: Config, f: EventFilter): Partial<EventsPageQuery> {
  const q: Partial<EventsPageQuery> = {};
  if (f.provider !== undefined) q.provider = f.provider;
  if (f.model !== undefined) q.model = f.model;
  if (typeof f.tenant === 'string') q.tenant = f.tenant;
  const apps = new Map(config.applications.map((a) => [a.id, a]));
  const tests: Array<(i: Identity) => boolean> = [];
  if (typeof f.identity === 'string' && config.identities.some((i) => i.id === f.identity))
    tests.push((i) => i.id === f.identity);
  if (typeof f.application === 'string') tests.push((i) => i.application === f.application);
  if (typeof f.team === 'string')
    tests.push((i) => apps.get(i.application ?? '')?.owner.some((o) => o.team === f.team) ?? false);
  if (tests.length > 0)
    q.match = {
      own: config.identities.filter((i) => tests.every((t) => t(i))).flatMap((i) => i.match),
      shared: config.identities.filter((i) => i.shared).flatMap((i) => i.match),
    };
  return q;
}

/** Filters the store applies exactly: every event it returns matches, so a page need read no more than its size. */
const EXACT_IN_SQL: ReadonlySet<string> = new Set(['provider', 'model', 'trace']);

function exactInSql(f: EventFilter): boolean {
  return Object.keys(f).every((k) => EXACT_IN_SQL.has(k));
}

function matches(c: Charge, f: EventFilter): boolean {
  for (const k of EVENT_FILTERS) {
    const want = f[k];
    if (want === undefined || k === 'trace') continue;
    if (k === 'identity') {
      if (want === null ? c.identity !== null : c.identity !== want && c.payer !== want) return false;
    } else if (c[k] !== want) return false;
  }
  return true;
}

function eventJson(e: UsageEvent, c: Charge, wrapper: boolean): Record<string, unknown> {
  return {
    id: e.id,
    source: e.source,
    time: new Date(e.time).toISOString(),
    provider: e.provider,
    model: e.model,
    operation: e.operation,
    input_tokens: e.input_tokens,
    output_tokens: e.output_tokens,
    cache_read_tokens: e.cache_read_tokens,
    cache_write_tokens: e.cache_write_tokens,
    reasoning_tokens: e.reasoning_tokens,
    requests: e.requests,
    tool: e.tool,
    data_source: e.data_source,
    trace_id: e.trace_id,
    span_id: e.span_id,
    parent_span_id: e.parent_span_id,
    status: e.status,
    error_type: e.error_type,
    tenant_claim: e.tenant,
    adjusted_count: e.adjusted_count ?? null,
    identity: c.identity,
    payer: c.payer,
    cost_center: c.cost_center,
    team: c.team,
    application: c.application,
    tenant: c.tenant,
    environment: c.environment,
    category: c.category,
    attribution: c.status,
    reason: c.reason,
    cost: c.unpriced_events > 0 ? null : formatMoney(c.effective_cost),
    billed_cost: c.unpriced_events > 0 ? null : formatMoney(c.billed_cost),
    priced: c.unpriced_events === 0,
    wrapper,
  };
}
