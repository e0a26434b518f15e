// A replay whose window holds a span of a very large trace, or of a very deep
// one, loads the whole trace (its ancestors lie outside the window) and draws
// it. The trace's events are appended to the window's in one go: a spread of
// more than ~120k elements into `push` overflows V8's stack, so these are
// larger than that. A chain of spans each under the last is cut into trees
// of at most MAX_TREE_DEPTH levels (the deeper spans shown as roots, as a span
// whose parent is missing is), so that no output of it overflows the stack;
// the statement and `tally explain` of the span at its end answer too.
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/event.js';
import { MAX_TREE_DEPTH, type Replay } from '../../src/core/replay.js';
import { renderReplayHtml, renderReplayMarkdown, replayJson } from '../../src/export/replay.js';
import { explain } from '../../src/service/explain.js';
import { computeReplay } from '../../src/service/replay.js';
import { BASE, ev, type Scenario, scenario } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

const WINDOW = { start: Date.parse('2026-10-05T10:00:00Z'), end: Date.parse('2026-10-05T11:00:00Z') };
const EARLIER = Date.parse('2026-10-02T00:00:00Z');

/** `n` spans of trace `trace`, days before the window: each under the root (wide) or under the one before (deep). */
function spans(trace: string, n: number, shape: 'wide' | 'deep'): UsageEvent[] {
  const out: UsageEvent[] = [];
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? null : shape === 'wide' ? 's0' : `s${i - 1}`;
    out.push(
      ev(`${trace}-${i}`, new Date(EARLIER + i).toISOString(), {
        trace_id: trace,
        span_id: `s${i}`,
        parent_span_id: parent,
        api_key: 'key-one',
        input_tokens: 10,
      }),
    );
  }
  return out;
}

/** The span in the window, under the trace's last span. */
const late = (trace: string, n: number) =>
  ev(`${trace}-late`, '2026-10-05T10:30:00Z', {
    trace_id: trace,
    span_id: 's-late',
    parent_span_id: `s${n - 1}`,
    api_key: 'key-one',
    input_tokens: 10,
  });

/** The ids of every node of the replay's trees, and the deepest depth (walked without recursion). */
function walked(r: Replay): { ids: Set<string>; depth: number } {
  const ids = new Set<string>();
  let depth = 0;
  const stack = r.traces.flatMap((t) => t.roots.map((node) => ({ node, d: 1 })));
  for (let top = stack.pop(); top; top = stack.pop()) {
    ids.add(top.node.event.id);
    depth = Math.max(depth, top.d);
    for (const c of top.node.children) stack.push({ node: c, d: top.d + 1 });
  }
  return { ids, depth };
}

describe('a replay of a span in a large trace', () => {
  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('loads a trace of 130,000 spans outside the window and draws the span under its root', async () => {
    const n = 130_000;
    s = await scenario(BASE, [spans('wide', n, 'wide'), [late('wide', n)]]);
    const r = await computeReplay(s.store, s.config, { window: WINDOW, identity: 'nhi-one' });
    expect(r.traces.map((t) => t.traceId)).toEqual(['wide']);
    expect(walked(r).ids.has('wide-late')).toBe(true);
  }, 120_000);

  it.each(ADAPTERS)(
    'loads a chain of 30,000 spans each under the last, and draws the span at its end ($name store)',
    async (adapter) => {
      const n = 30_000;
      s = await scenario(BASE, [spans('deep', n, 'deep'), [late('deep', n)]], adapter);
      const r = await computeReplay(s.store, s.config, { window: WINDOW, identity: 'nhi-one' });
      expect(r.traces.map((t) => t.traceId)).toEqual(['deep']);
      const { ids, depth } = walked(r);
      expect(ids.has('deep-late')).toBe(true);
      expect(depth).toBe(MAX_TREE_DEPTH);
      const [trace] = r.traces;
      expect(trace?.roots.length).toBe(Math.ceil((n + 1) / MAX_TREE_DEPTH));
      // and every output of it is written
      expect(JSON.stringify(replayJson(r))).toContain('deep-late');
      // (the Markdown and HTML name a span by its time)
      expect(renderReplayMarkdown(r)).toContain('2026-10-05T10:30:00');
      expect(renderReplayHtml(r)).toContain('2026-10-05T10:30:00');
      // the statement walks at most 64 ancestors up, and explain says the same of the span at the end
      const { statement } = await s.compute();
      expect(statement.totals.events).toBe(n + 1);
      const x = await explain(s.store, s.config, { id: 'deep-late', source: null });
      expect(x.line?.key).toBeDefined();
    },
    120_000,
  );
});
