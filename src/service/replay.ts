/**
 * `tally replay` (SPEC §6): reads the events of the window for an identity or
 * a trace, every other span of their traces, and the configuration, nothing
 * derived, so that a replay after a breach with corrected facts (a
 * compromise dated earlier, a revoked key) shows the corrected verdicts.
 */

import { carriesTokens } from '../core/ai-work.js';
import { pushAll } from '../core/arrays.js';
import { checkWindow, MAX_REPLAY_EVENTS, MAX_WINDOW_DAYS } from '../core/bounds.js';
import type { Config, Selector } from '../core/config.js';
import { SELECTOR_FIELDS } from '../core/config.js';
import { LimitError, UsageError } from '../core/errors.js';
import type { UsageEvent } from '../core/event.js';
import { PriceBook } from '../core/pricing.js';
import { Registry } from '../core/registry.js';
import {
  type AttributedReplay,
  attributeReplay,
  belongsTo,
  findingsMayFeed,
  finishReplay,
  type Replay,
} from '../core/replay.js';
import { redactSecrets } from '../core/secrets.js';
import { normalizeApiKey } from '../core/selectors.js';
import type { Signal } from '../core/signals/signal.js';
import { TraceIndex } from '../core/trace-walk.js';
import type { Store } from '../store/store.js';
import type { SignalScope } from './signals.js';
import { addTraceSpans } from './trace-spans.js';

export interface ReplayOptions {
  /** [start, end); optional with a trace (then the whole trace). */
  window: { start: number; end: number } | null;
  /** A registry identity id, or an unregistered caller as signals name it (`api_key:…`). */
  identity?: string | null;
  trace?: string | null;
  /**
   * Signals over the window, to tell which ones each span fed; `scope`, when
   * given, names the only ones that can feed the selected spans.
   */
  signals?: (window: { start: number; end: number }, scope?: SignalScope) => Promise<Signal[]>;
}

/**
 * Spans of the selected traces are looked for this far around the window:
 * ancestors further away are still found (see tracesMissingAncestors), but
 * descendants of a selected span that started more than this after the
 * window are left out of the tree (they still make it a wrapper: tokenTraces).
 */
const TRACE_MARGIN_MS = 3_600_000;

export async function computeReplay(store: Store, config: Config, opts: ReplayOptions): Promise<Replay> {
  const registry = new Registry(config);
  const prices = new PriceBook(config.prices);
  // A raw key given as `api_key:sk-…` is looked up (and shown) by its fingerprint.
  const identity = opts.identity == null ? null : redactedIdentity(opts.identity);
  const trace = opts.trace ?? null;
  const w = opts.window;
  let rows: UsageEvent[];
  if (trace !== null) {
    rows = await store.traceEvents([trace]);
  } else if (w !== null) {
    checkWindow('replay', w, MAX_WINDOW_DAYS.replay);
    rows = await store.eventsInWindow({
      from: w.start,
      to: w.end,
      ...(identity === null ? {} : { match: selectorsOf(config, identity) }),
      traceMargin: TRACE_MARGIN_MS,
      limit: MAX_REPLAY_EVENTS + 1,
    });
    if (rows.length > MAX_REPLAY_EVENTS)
      throw new LimitError(
        `replay: the window holds more than ${MAX_REPLAY_EVENTS} events; narrow it, or name an --identity or a --trace`,
      );
    pushAll(rows, await store.traceEvents(tracesMissingAncestors(rows)));
  } else {
    throw new UsageError('replay: a window (--from and --to) is needed without --trace');
  }
  const chosen = rows.filter(
    (e) =>
      (w === null || (e.time >= w.start && e.time < w.end)) &&
      (trace === null || e.trace_id === trace) &&
      (identity === null || belongsTo(registry, identity, e)),
  );
  const window = w ?? spanOf(chosen);

  const keys = new Set(chosen.map(eventKey));
  const links = await walkedSpans(store, registry, config, rows);
  const attributed = attributeReplay({
    events: rows,
    links,
    isSelected: (e) => keys.has(eventKey(e)),
    window,
    selection: { identity, trace },
    registry,
    prices,
    config,
    auditHead: await store.auditHead(),
  });
  const signals = opts.signals ? await opts.signals(window, signalScope(config, identity, attributed)) : [];
  return finishReplay(attributed, signals);
}

/**
 * The spans of the traces a replay walks: those with an event whose parent
 * was not read, and those with a token-carrying span (the spans below it say
 * whether it is a wrapper); near the events first (service/trace-spans.ts).
 */
async function walkedSpans(store: Store, registry: Registry, config: Config, rows: readonly UsageEvent[]) {
  const wanted = new Set([...tracesMissingAncestors(rows), ...tokenTraces(rows)]);
  const index = new TraceIndex(registry, config.policy.workflowRollup === 'invoker').add(rows);
  return addTraceSpans(
    store,
    index,
    rows.filter((e) => e.trace_id !== null && wanted.has(e.trace_id)),
  );
}

/**
 * The signals that can feed the spans of a registered identity: the fact
 * rules' of its own events (another identity's neither count its spans nor
 * name them), and the statement's findings backed by its events or by
 * shared identities' (their spans roll up to it), unless no finding can
 * feed (core/replay.ts `findingsMayFeed`). All signals for any other selection.
 */
function signalScope(
  config: Config,
  identity: string | null,
  attributed: AttributedReplay,
): SignalScope | undefined {
  if (identity === null || !config.identities.some((i) => i.id === identity)) return undefined;
  const feeding = [
    identity,
    ...config.identities.filter((i) => i.shared && i.id !== identity).map((i) => i.id),
  ];
  return { identities: [identity], findingsOf: findingsMayFeed(attributed, identity) ? feeding : 'none' };
}

/**
 * Traces with a span whose parent was not found near the window: the payer
 * and the inherited tenant need every ancestor, so those traces are read
 * whole (a parent that was never exported costs one look through the table).
 */
function tracesMissingAncestors(rows: readonly UsageEvent[]): string[] {
  const spans = new Set<string>();
  for (const e of rows)
    if (e.trace_id !== null && e.span_id !== null) spans.add(`${e.trace_id}\u0000${e.span_id}`);
  const missing = new Set<string>();
  for (const e of rows) {
    if (
      e.trace_id !== null &&
      e.parent_span_id !== null &&
      !spans.has(`${e.trace_id}\u0000${e.parent_span_id}`)
    ) {
      missing.add(e.trace_id);
    }
  }
  return [...missing];
}

/**
 * Traces with a span that carries tokens: whether it is a wrapper
 * (core/ai-work.ts) depends on every span below it, some of which may lie
 * beyond the margin, so their spans are read whole (ids and a flag only).
 */
function tokenTraces(rows: readonly UsageEvent[]): string[] {
  const traces = new Set<string>();
  for (const e of rows)
    if (e.trace_id !== null && e.span_id !== null && carriesTokens(e)) traces.add(e.trace_id);
  return [...traces];
}

function eventKey(e: UsageEvent): string {
  return `${e.source}\u0000${e.id}`;
}

function spanOf(events: readonly UsageEvent[]): { start: number; end: number } {
  if (events.length === 0) throw new UsageError('replay: no stored event belongs to that trace');
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    start = Math.min(start, e.time);
    end = Math.max(end, e.time + 1);
  }
  return { start, end };
}

/** An identity as asked for, with any raw key in a selector's value replaced by its fingerprint. */
function redactedIdentity(id: string): string {
  return id
    .split(',')
    .map((part) => {
      const at = part.indexOf(':');
      return at <= 0 ? redactSecrets(part) : `${part.slice(0, at)}:${redactSecrets(part.slice(at + 1))}`;
    })
    .join(',');
}

/** The selectors to look an identity up by: the registry's, or the unmatched selector as signals name it. */
function selectorsOf(config: Config, id: string): Selector[] {
  const identity = config.identities.find((i) => i.id === id);
  if (identity) return identity.match;
  const selector: Selector = {};
  for (const part of id.split(',')) {
    const at = part.indexOf(':');
    const field = part.slice(0, at) as (typeof SELECTOR_FIELDS)[number];
    if (at <= 0 || !SELECTOR_FIELDS.includes(field)) {
      throw new UsageError(
        `replay: unknown identity '${id}': give a registry identity id or an unmatched selector such as api_key:…`,
      );
    }
    const value = part.slice(at + 1);
    selector[field] = field === 'api_key' ? normalizeApiKey(value) : value;
  }
  return [selector];
}
