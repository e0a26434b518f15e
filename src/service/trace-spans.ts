/**
 * Reading the spans of a few traces for a walk in JavaScript (the drill-down,
 * replay). A month's events are sorted by time, so spans near the walking
 * events are cheap to find (zone maps on `time` skip the rest) while a trace
 * read whole scans every row group. So the spans within a day of the events
 * come first; a trace whose walk up still meets a span that is not there is
 * then read whole, so payer and tenant are the statement's whatever a
 * trace's length. Wrappers are found from the spans below a span, which no
 * walk up can miss: a token-carrying span more than a day from every walking
 * event of its trace is not seen (docs/decisions.md, "The drill-down and
 * replay read a trace near its events first").
 */
import type { UsageEvent } from '../core/event.js';
import type { TraceIndex, WalkStep } from '../core/trace-walk.js';
import type { Store, TraceSpan } from '../store/store.js';

/** How far from the walking events the first look for their traces' other spans reaches. */
export const TRACE_MARGIN_MS = 24 * 60 * 60 * 1000;

/** Adds to `index` the spans of the walking events' traces, and returns them. */
export async function addTraceSpans(
  store: Store,
  index: TraceIndex,
  walking: readonly UsageEvent[],
): Promise<TraceSpan[]> {
  if (walking.length === 0) return [];
  const traces = (list: readonly UsageEvent[]) => [...new Set(list.map((e) => e.trace_id as string))];
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const e of walking) {
    from = Math.min(from, e.time);
    to = Math.max(to, e.time);
  }
  const near = await store.traceSpans(traces(walking), {
    from: from - TRACE_MARGIN_MS,
    to: to + TRACE_MARGIN_MS,
  });
  index.add(near);
  const cut = walking.filter((e) => {
    const steps: WalkStep[] = [];
    index.walk(e, steps);
    return steps.at(-1)?.node === null;
  });
  if (cut.length === 0) return near;
  const whole = await store.traceSpans(traces(cut));
  index.add(whole);
  return [...near, ...whole];
}
