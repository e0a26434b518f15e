import { afterEach, describe, expect, it } from 'vitest';
import { formatMoney, type Money, parseMoney } from '../../src/core/money.js';
import type { Replay, ReplayNode } from '../../src/core/replay.js';
import type { Signal } from '../../src/core/signals/signal.js';
import { renderReplayHtml, renderReplayMarkdown, replayJson } from '../../src/export/replay.js';
import { computeReplay } from '../../src/service/replay.js';
import { BASE, ev, OCT, type Scenario, scenario as scenarioOn } from '../statement/helpers.js';
import { ADAPTERS } from '../store/adapters.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  let s: Scenario | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  function nodes(r: Replay): ReplayNode[] {
    const out: ReplayNode[] = [];
    const walk = (n: ReplayNode) => {
      out.push(n);
      n.children.forEach(walk);
    };
    for (const t of r.traces) t.roots.forEach(walk);
    return out;
  }

  function byId(r: Replay, id: string): ReplayNode {
    const n = nodes(r).find((x) => x.event.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  function statementFor(charges: Awaited<ReturnType<Scenario['compute']>>['charges'], identity: string) {
    const sum = (status: string): Money =>
      charges
        .filter((c) => c.identity === identity && c.status === status)
        .reduce((a, c) => a + c.effective_cost, 0n);
    return { attributed: sum('attributed'), disputed: sum('disputed'), unattributed: sum('unattributed') };
  }

  const trace = { trace_id: 't1' };
  const root = ev('root', '2026-10-05T10:00:00Z', {
    ...trace,
    span_id: 's-root',
    service: 'svc-two',
    operation: 'invoke_workflow',
    model: null,
    tenant: 'tenant-x',
  });
  const retrieval = ev('retr', '2026-10-05T10:00:01Z', {
    ...trace,
    span_id: 's-retr',
    parent_span_id: 's-root',
    service: 'rag',
    operation: 'retrieval',
    model: null,
    data_source: 'kb',
  });
  const embed = ev('emb', '2026-10-05T10:00:02Z', {
    ...trace,
    span_id: 's-emb',
    parent_span_id: 's-retr',
    service: 'rag',
    operation: 'embeddings',
    input_tokens: 1_000_000,
  });

  describe('replay trace trees', () => {
    it('rebuilds the tree from batches delivered child first, with the invoker paying and the tenant inherited', async () => {
      s = await scenario(BASE, [[embed], [retrieval], [root]]);
      const r = await computeReplay(s.store, s.config, { window: OCT, trace: 't1' });
      expect(r.traces).toHaveLength(1);
      const [top] = r.traces[0]?.roots ?? [];
      expect(top?.event.id).toBe('root');
      expect(top?.children.map((c) => c.event.id)).toEqual(['retr']);
      expect(top?.children[0]?.children.map((c) => c.event.id)).toEqual(['emb']);
      const e = byId(r, 'emb');
      expect(e.identity).toBe('nhi-rag');
      expect(e.payer).toBe('nhi-two');
      expect(e.team).toBe('team-b');
      expect(e.tenant).toBe('tenant-x');
      expect(e.verdict.tenantClaim).toBe('tenant-x');
      expect(e.verdict.tenantAllowed).toBe(true);
      expect(formatMoney(e.cost)).toBe('1.00');
      expect(formatMoney(byId(r, 'retr').cost)).toBe('0.0004');
      expect(r.totals.events).toBe(3);
      expect(r.totals.legitimate).toBe(parseMoney('1.0004'));
    });

    it('selects an identity’s spans and shows the rest of their traces as context', async () => {
      s = await scenario(BASE, [[embed, retrieval, root]]);
      const r = await computeReplay(s.store, s.config, { window: OCT, identity: 'nhi-rag' });
      expect(nodes(r).map((n) => [n.event.id, n.selected])).toEqual([
        ['root', false],
        ['retr', true],
        ['emb', true],
      ]);
      expect(r.totals.events).toBe(2);
      expect(r.traces[0]?.cost).toBe(parseMoney('1.0004'));
    });

    it('completes the tree with spans outside the window but leaves them out of the totals', async () => {
      const late = ev('late', '2026-11-03T00:00:00Z', {
        ...trace,
        span_id: 's-late',
        parent_span_id: 's-root',
        service: 'svc-two',
      });
      s = await scenario(BASE, [[embed, retrieval, root, late]]);
      const r = await computeReplay(s.store, s.config, { window: OCT, trace: 't1' });
      expect(byId(r, 'late').selected).toBe(false);
      expect(r.totals.events).toBe(3);
    });
  });

  describe('replay verdicts', () => {
    const events = [
      ev('before', '2026-10-19T23:00:00Z', { api_key: 'key-comp', input_tokens: 1_000_000 }),
      ev('offlist', '2026-10-18T12:00:00Z', { api_key: 'key-comp', model: 'm2', input_tokens: 100_000 }),
      ev('after', '2026-10-20T01:00:00Z', { api_key: 'key-comp', input_tokens: 500_000, tenant: 'tenant-x' }),
      ev('revoked', '2026-10-23T01:00:00Z', { api_key: 'key-comp', output_tokens: 500_000 }),
      ev('other', '2026-10-21T01:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 }),
    ];

    it('judges each event as of its own time', async () => {
      s = await scenario(BASE, [events]);
      const r = await computeReplay(s.store, s.config, { window: OCT, identity: 'nhi-comp' });
      expect(r.totals.events).toBe(4);
      const before = byId(r, 'before');
      expect(before.verdict).toMatchObject({
        lifecycle: 'active',
        modelAllowed: true,
        status: 'attributed',
        reason: null,
      });
      expect(byId(r, 'offlist').verdict).toMatchObject({
        lifecycle: 'active',
        modelAllowed: false,
        status: 'disputed',
        reason: 'unauthorized_model',
      });
      const after = byId(r, 'after');
      expect(after.verdict).toMatchObject({
        lifecycle: 'compromised',
        lifecycleSince: Date.parse('2026-10-20T00:00:00Z'),
        status: 'disputed',
        reason: 'use_after_compromise',
        tenantClaim: 'tenant-x',
        tenantAllowed: false,
      });
      // A later revocation does not lift the compromise.
      expect(byId(r, 'revoked').verdict.lifecycle).toBe('compromised');
      expect(after.billed).toBe(0n);
    });

    it('totals equal the statement’s amounts for the identity', async () => {
      s = await scenario(BASE, [events]);
      const r = await computeReplay(s.store, s.config, { window: OCT, identity: 'nhi-comp' });
      const st = statementFor((await s.compute()).charges, 'nhi-comp');
      expect(r.totals.disputed).toBe(st.disputed);
      expect(r.totals.legitimate).toBe(st.attributed);
      expect(r.totals.disputed).toBe(parseMoney('2.50'));
      expect(r.totals.byReason.map((b) => [b.status, b.reason, b.events])).toEqual([
        ['attributed', null, 1],
        ['disputed', 'unauthorized_model', 1],
        ['disputed', 'use_after_compromise', 2],
      ]);
    });

    it('replays an unregistered caller by its selector as seen', async () => {
      s = await scenario(BASE, [
        [ev('u1', '2026-10-02T00:00:00Z', { api_key: 'key-nobody', input_tokens: 10 }), ...events],
      ]);
      const r = await computeReplay(s.store, s.config, { window: OCT, identity: 'api_key:key-nobody' });
      expect(r.totals.events).toBe(1);
      expect(byId(r, 'u1').verdict).toMatchObject({
        lifecycle: 'unregistered',
        status: 'unattributed',
        reason: 'unknown_identity',
      });
      await expect(computeReplay(s.store, s.config, { window: OCT, identity: 'nhi-nope' })).rejects.toThrow(
        /unknown identity/,
      );
    });
  });

  describe('signals fed', () => {
    const signal = (over: Partial<Signal>): Signal => ({
      rule: 'S02',
      severity: 'critical',
      identity: 'nhi-comp',
      team: 'team-b',
      first_seen: Date.parse('2026-10-20T00:00:00Z'),
      last_seen: Date.parse('2026-10-31T00:00:00Z'),
      events: 1,
      cost: 0n,
      evidence: { events: [] },
      refs: [],
      title: 'use after compromise',
      ...over,
    });

    it('links a span to the signals that count it, and leaves out the signals no selected span fed', async () => {
      s = await scenario(BASE, [
        [
          ev('before', '2026-10-19T23:00:00Z', { api_key: 'key-comp' }),
          ev('after', '2026-10-20T01:00:00Z', { api_key: 'key-comp', model: 'm2' }),
          ev('other', '2026-10-20T02:00:00Z', { api_key: 'key-one' }),
        ],
      ]);
      const signals = [
        signal({}),
        signal({ rule: 'S05', first_seen: OCT.start, title: 'model off the allowlist' }),
        signal({
          rule: 'S08',
          first_seen: OCT.start,
          last_seen: Date.parse('2026-10-19T23:30:00Z'),
          evidence: { events: [] },
        }),
        signal({ rule: 'S10', identity: 'nhi-one', evidence: { events: ['before'] } }),
        signal({ rule: 'S06', identity: 'nhi-one' }),
      ];
      const r = await computeReplay(s.store, s.config, {
        window: OCT,
        identity: 'nhi-comp',
        signals: async () => signals,
      });
      const rules = (id: string) => byId(r, id).signals.map((i) => r.signals[i]?.rule);
      expect(rules('before')).toEqual(['S08', 'S10']);
      expect(rules('after')).toEqual(['S02', 'S05']);
      expect(r.signals.map((x) => x.rule)).toEqual(['S02', 'S05', 'S08', 'S10']);
    });
  });

  describe('replay writers', () => {
    it('write JSON with exact decimal strings, Markdown, and HTML that escapes what telemetry says', async () => {
      s = await scenario(BASE, [
        [
          ev('x<1>', '2026-10-21T01:00:00Z', {
            api_key: 'key-comp',
            input_tokens: 1_000_000,
            tenant: '<script>alert(1)</script>',
            client_address: '"><img src=x>',
          }),
          { ...root, id: 'r2' },
          { ...embed, id: 'e2', service: 'svc-two', parent_span_id: 's-root' },
        ],
      ]);
      const r = await computeReplay(s.store, s.config, { window: OCT });
      const json = replayJson(r) as { totals: Record<string, unknown>; traces: Array<{ spans: unknown[] }> };
      expect(json.totals.disputed_cost).toBe('1.00');
      expect(json.totals.legitimate_cost).toBe('1.00');
      expect(JSON.parse(JSON.stringify(json))).toEqual(json);
      const md = renderReplayMarkdown(r);
      expect(md).toContain('| disputed | 1 | 1.00 |');
      expect(md).toContain('## Trace trees (1)');
      expect(md).toContain('  - 2026-10-05T10:00:02Z **embeddings**');
      const html = renderReplayHtml(r);
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<img');
      expect(html).toContain('&#60;script&#62;');
      expect(html).toContain('<ul class="tree">');
    });
  });

  describe('replay reads its traces near the window first', () => {
    it('flags a wrapper whose call below starts after the window, and prices like the statement', async () => {
      const TOKENS = { input_tokens: 1_000_000, output_tokens: 500_000 };
      const wrapper = ev('chain', '2026-10-05T23:30:00Z', {
        trace_id: 't-late',
        span_id: 'w',
        service: 'svc-two',
        ...TOKENS,
      });
      const call = ev('call', '2026-10-06T03:00:00Z', {
        trace_id: 't-late',
        span_id: 'c',
        parent_span_id: 'w',
        service: 'svc-two',
        ...TOKENS,
      });
      s = await scenario(BASE, [[call], [wrapper]]);
      const day = { start: Date.UTC(2026, 9, 5), end: Date.UTC(2026, 9, 6) };
      const r = await computeReplay(s.store, s.config, { window: day, identity: 'nhi-two' });
      expect(byId(r, 'chain').wrapper).toBe(true);
      const { charges } = await s.compute({}, day);
      expect(byId(r, 'chain').cost).toBe(charges.reduce((a, c) => a + c.effective_cost, 0n));
    });
  });

  describe('replay prices like the statement', () => {
    it('a tiered model above its threshold costs the same in replay and statement', async () => {
      // gemini-1.5-pro: input $1.25/M up to 128k tokens per request, $2.50/M above; output $5/M, $10/M above.
      // One request of 150,000 input and 1,000 output tokens is in the upper tier:
      // 150,000 × $2.50/M + 1,000 × $10/M = $0.375 + $0.01 = $0.385.
      const e = ev('big', '2026-10-05T10:00:00Z', {
        api_key: 'key-one',
        provider: 'google',
        model: 'gemini-1.5-pro',
        input_tokens: 150_000,
        output_tokens: 1_000,
      });
      s = await scenario(BASE, [[e]]);
      const r = await computeReplay(s.store, s.config, { window: OCT });
      expect(formatMoney(byId(r, 'big').cost)).toBe('0.385');
      const { charges } = await s.compute();
      expect(charges.reduce((a, c) => a + c.effective_cost, 0n)).toBe(parseMoney('0.385'));
    });
  });
});
