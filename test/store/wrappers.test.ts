// Wrapper spans (SPEC §3.2, core/ai-work.ts): a span with tokens that has
// another span with tokens below it in its trace reports their usage again,
// so it is stored and shown but never priced as tokens, in every output and
// on every store, whichever order the spans arrive in. Fixtures from the
// producers' own tests (test/fixtures/README.md); amounts worked out by hand.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/core/config.js';
import { AGGREGATE_OPERATIONS, emptyEvent, type TraceLink, type UsageEvent } from '../../src/core/event.js';
import { formatMoney } from '../../src/core/money.js';
import type { ReplayNode } from '../../src/core/replay.js';
import type { SignalQuery } from '../../src/core/signals/facts.js';
import { Drilldown } from '../../src/server/drilldown.js';
import { explain } from '../../src/service/explain.js';
import { computeReplay } from '../../src/service/replay.js';
import { PROBE_ERRORS } from '../../src/service/signals.js';
import { computeStatement } from '../../src/service/statement.js';
import type { Store } from '../../src/store/store.js';
import { fixture, parseText } from '../ingest/helpers.js';
import { config, OCT } from '../statement/helpers.js';
import { ADAPTERS, type Adapter, openFresh } from './adapters.js';

const CONFIG = `
currency: USD
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: Team A, cost_center: cc-a }]
applications:
  - { id: app-planner, name: Planner, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-kb, name: KB, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-custom, name: Custom, owner: [{ team: team-a, from: 2026-01-01 }] }
identities:
  - { id: nhi-planner, kind: service_account, application: app-planner, environment: production, match: [{ service: travel-planner }] }
  - { id: nhi-kb, kind: service_account, application: app-kb, environment: production, match: [{ service: kb-assistant }] }
  - { id: nhi-custom, kind: service_account, application: app-custom, environment: production, match: [{ service: custom-agent }] }
`;

/** One OTLP request per span, as a SimpleSpanProcessor exports them (a .jsonl fixture is already so). */
async function spanRequests(name: string): Promise<string[]> {
  const text = await readFile(fixture('otlp', name), 'utf8');
  if (name.endsWith('.jsonl')) return text.trim().split('\n');
  const doc = JSON.parse(text) as {
    resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ scope: unknown; spans: unknown[] }> }>;
  };
  return doc.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((span) =>
        JSON.stringify({
          resourceSpans: [{ resource: rs.resource, scopeSpans: [{ scope: ss.scope, spans: [span] }] }],
        }),
      ),
    ),
  );
}

async function ingestRequests(store: Store, requests: readonly string[]): Promise<void> {
  for (const [i, text] of requests.entries()) {
    const c = await parseText(text, 'otlp');
    expect(c.rejected).toEqual([]);
    const links = c.chunks.flatMap((ch) => ch.links ?? []);
    await store.ingest(`request ${i}`, [{ events: c.events, links }]);
  }
}

/** The arrival orders every case is checked in. */
const ORDERS: Array<[string, (r: string[]) => string[][]]> = [
  ['as exported, children first, one request per span', (r) => r.map((x) => [x])],
  ['parents first, one request per span', (r) => [...r].reverse().map((x) => [x])],
  ['in one request', (r) => [r]],
];

async function ingestInOrder(store: Store, requests: string[], order: (r: string[]) => string[][]) {
  for (const batch of order(requests)) {
    if (batch.length === 1) await ingestRequests(store, batch);
    else {
      const events: UsageEvent[] = [];
      const links: TraceLink[] = [];
      for (const text of batch) {
        const c = await parseText(text, 'otlp');
        events.push(...c.events);
        links.push(...c.chunks.flatMap((ch) => ch.links ?? []));
      }
      await store.ingest('one request', [{ events, links }]);
    }
  }
}

function nodesOf(roots: readonly ReplayNode[]): ReplayNode[] {
  return roots.flatMap((n) => [n, ...nodesOf(n.children)]);
}

/** Signal facts with the catalog's gpt-3.5-turbo-0125 rates written here: $0.50 / $1.50 per million. */
function signalQuery(identity: string): SignalQuery {
  const usd = (cents: bigint) => cents * 10_000_000_000n;
  return {
    start: OCT.start,
    end: OCT.end,
    historyStart: OCT.start - 35 * 86_400_000,
    baselineWeeks: 1,
    baselineDays: 7,
    identify: (tuples) => tuples.map((tuple) => ({ tuple, identity })),
    price: (pairs) =>
      pairs
        .filter((p) => p.model === 'gpt-3.5-turbo-0125')
        .map((p) => ({
          ...p,
          from: -1e15,
          until: 1e15,
          input: usd(50n),
          output: usd(150n),
          cacheRead: 0n,
          cacheWrite: 0n,
          reasoning: usd(150n),
        })),
    units: [],
    aggregateOperations: [...AGGREGATE_OPERATIONS],
    probeErrors: PROBE_ERRORS,
    prefilter: {
      spikeFloor: 0n,
      offHoursMinEvents: 1_000_000,
      errorBurstMin: 1_000_000,
      addressBurstMin: 1_000_000,
      shapeMinRequests: 1_000_000,
      shapeMinLogDistance: 100,
    },
  };
}

describe.each(ADAPTERS)('$name store', (adapter: Adapter) => {
  let dir: string | null = null;
  let store: Store | null = null;
  let cfg: Config;
  afterEach(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    store = null;
    dir = null;
  });

  async function open(): Promise<Store> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tally-wrappers-'));
    store = await openFresh(adapter, dir);
    cfg = config(CONFIG);
    return store;
  }

  describe('the OpenTelemetry LangChain instrumentation over the openai-v2 instrumentation', () => {
    const TRACE = '5b8aa5a2d2c872e8321cf37308d69df2';
    const WRAPPER = `${TRACE}:bd2a2b4c7e1f9a02`;
    const CALL = `${TRACE}:051581bf3cb55c13`;
    // gpt-3.5-turbo-0125 at list price: 24 × $0.50 + 7 × $1.50 per million = $0.0000225, once.
    const ONCE = '0.0000225';

    it.each(ORDERS)('prices the provider call once, spans arriving %s', async (_, order) => {
      const s = await open();
      await ingestInOrder(s, await spanRequests('langchain-over-openai-v2.jsonl'), order);
      const st = await computeStatement(s, cfg, OCT);
      expect(formatMoney(st.statement.totals.effective_cost)).toBe(ONCE);
      const lines = st.statement.lines.map((l) => ({
        category: l.category,
        events: l.events,
        input_tokens: l.input_tokens,
        output_tokens: l.output_tokens,
        cost: formatMoney(l.effective_cost),
      }));
      expect(lines).toEqual(
        expect.arrayContaining([
          { category: 'inference', events: 1, input_tokens: 24, output_tokens: 7, cost: ONCE },
          { category: 'orchestration', events: 1, input_tokens: 24, output_tokens: 7, cost: '0.00' },
        ]),
      );
      expect(lines).toHaveLength(2);
      const groups = await s.usageGroups({
        from: OCT.start,
        to: OCT.end,
        boundaries: [],
        sharedTuples: [],
        payerTuples: [],
        byDay: false,
      });
      expect(groups.map((g) => [g.operation, g.input_tokens, g.wrapper ?? false]).sort()).toEqual([
        ['chat', 24, false],
        ['chat', 24, true],
      ]);
    });

    it('explains, replays, drills down and sums signals with the wrapper unpriced', async () => {
      const s = await open();
      await ingestInOrder(s, await spanRequests('langchain-over-openai-v2.jsonl'), ORDERS[0]?.[1] as never);

      const x = await explain(s, cfg, { id: WRAPPER, source: 'otlp' });
      expect(x.wrapper).toEqual({ below: '051581bf3cb55c13' });
      expect(x.event).toMatchObject({ operation: 'chat', input_tokens: 24, output_tokens: 7 });
      expect(x.price).toMatchObject({ stop: 'no_usage', effective_cost: '0.00', components: [] });
      expect(x.line?.key).toMatchObject({ category: 'orchestration' });
      const call = await explain(s, cfg, { id: CALL, source: 'otlp' });
      expect(call.wrapper).toBeNull();
      expect(call.price).toMatchObject({ effective_cost: ONCE });

      const r = await computeReplay(s, cfg, { window: OCT, trace: TRACE });
      const nodes = nodesOf(r.traces[0]?.roots ?? []);
      expect(nodes.map((n) => [n.event.id, n.wrapper, formatMoney(n.cost)])).toEqual([
        [WRAPPER, true, '0.00'],
        [CALL, false, ONCE],
      ]);
      expect(formatMoney(r.totals.effective)).toBe(ONCE);

      const page = await new Drilldown(s, cfg).page(OCT, {}, null, 10);
      expect(page.events.map((e) => [e.id, e.wrapper, e.category, e.cost])).toEqual([
        [CALL, false, 'inference', ONCE],
        [WRAPPER, true, 'orchestration', '0.00'],
      ]);

      const facts = await s.signalFacts(signalQuery('nhi-planner'));
      // Priced once: 24 × 500,000 + 7 × 1,500,000 pico-dollars per token = 22,500,000 (not twice that).
      expect(facts.models.map((m) => [m.model, m.events, m.cost])).toEqual([
        ['gpt-3.5-turbo-0125', 2, 22_500_000n],
      ]);
      // Scoped to the planner's selectors (a replay's signals): the wrappers of its traces only, the same sums.
      const scoped = await s.signalFacts({
        ...signalQuery('nhi-planner'),
        match: [{ service: 'travel-planner' }],
      });
      expect(scoped.models).toEqual(facts.models);
    });
  });

  describe('the OpenInference LlamaIndex instrumentation over the openai-v2 instrumentation', () => {
    const TRACE = '6c1e0b7e2f4d4a9b8c3d2e1f0a9b8c7d';

    it.each(ORDERS)('prices the chat call once, spans arriving %s', async (_, order) => {
      const s = await open();
      await ingestInOrder(s, await spanRequests('llamaindex-over-openai-v2.json'), order);
      const st = await computeStatement(s, cfg, OCT);
      // The openai-v2 span: gpt-4o-mini-2024-07-18, 9 × $0.15 + 10 × $0.60 per million = $0.00000735.
      // LlamaIndex's `OpenAI.chat` LLM span would add 8 × 0.15 + 1 × 0.075 + 10 × 0.60 = $0.000007275.
      expect(formatMoney(st.statement.totals.effective_cost)).toBe('0.00000735');
      expect(st.statement.totals.unpriced_events).toBe(0);
      const x = await explain(s, cfg, { id: `${TRACE}:2b3c4d5e6f708192`, source: 'otlp' });
      expect(x.event).toMatchObject({ operation: 'chat', model: 'gpt-4o-mini', input_tokens: 9 });
      expect(x.wrapper).toEqual({ below: '3c4d5e6f708192a3' });
      expect(x.price.effective_cost).toBe('0.00');
    });
  });

  describe('a custom framework span over a provider call, a span that is not AI work between them', () => {
    const T = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
    const at = Date.parse('2026-10-05T12:00:00Z');
    const span = (id: string, parent: string | null, fields: Partial<UsageEvent>): UsageEvent => ({
      ...emptyEvent(`${T}:${id}`, 'otlp', at),
      trace_id: T,
      span_id: id,
      parent_span_id: parent,
      service: 'custom-agent',
      provider: 'openai',
      model: 'gpt-3.5-turbo-0125',
      ...fields,
    });
    const framework = span('f1', null, { input_tokens: 24, output_tokens: 7 });
    const link: TraceLink = {
      trace_id: T,
      span_id: 'h1',
      parent_span_id: 'f1',
      tenant: null,
      api_key: null,
      service: 'custom-agent',
      agent: null,
      project: null,
    };
    const call = span('c1', 'h1', { input_tokens: 24, output_tokens: 7 });
    const orders: Array<[string, Array<{ events: UsageEvent[]; links?: TraceLink[] }>]> = [
      ['child first', [{ events: [call] }, { events: [], links: [link] }, { events: [framework] }]],
      ['parent first', [{ events: [framework] }, { events: [], links: [link] }, { events: [call] }]],
      ['link last', [{ events: [framework] }, { events: [call] }, { events: [], links: [link] }]],
    ];

    it.each(orders)('is a wrapper, arriving %s', async (_, batches) => {
      const s = await open();
      for (const [i, b] of batches.entries()) await s.ingest(`b${i}`, [b]);
      const st = await computeStatement(s, cfg, OCT);
      expect(formatMoney(st.statement.totals.effective_cost)).toBe('0.0000225');
      const x = await explain(s, cfg, { id: framework.id, source: 'otlp' });
      expect(x.wrapper).toEqual({ below: 'c1' });
    });

    it('is a wrapper in a replay of a window that ends before the call below it (hours later)', async () => {
      const s = await open();
      const late = { ...call, id: `${T}:c1`, time: at + 3 * 3_600_000 };
      await s.ingest('b', [{ events: [framework, late], links: [link] }]);
      const window = { start: at - 3_600_000, end: at + 60_000 };
      const r = await computeReplay(s, cfg, { window, identity: 'nhi-custom' });
      const nodes = nodesOf(r.traces.flatMap((t) => t.roots));
      expect(nodes.map((n) => [n.event.id, n.selected, n.wrapper, formatMoney(n.cost)])).toEqual([
        [framework.id, true, true, '0.00'],
      ]);
      const st = await computeStatement(s, cfg, window);
      expect(formatMoney(st.statement.totals.effective_cost)).toBe('0.00');
    });

    it('is not a wrapper while the span below it has no tokens (a failed call)', async () => {
      const s = await open();
      await s.ingest('b', [
        { events: [framework, { ...call, input_tokens: 0, output_tokens: 0 }], links: [link] },
      ]);
      const st = await computeStatement(s, cfg, OCT);
      expect(formatMoney(st.statement.totals.effective_cost)).toBe('0.0000225');
      expect((await explain(s, cfg, { id: framework.id, source: 'otlp' })).wrapper).toBeNull();
    });
  });
});
