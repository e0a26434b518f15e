// Every rule and reason code of SPEC §4, with the expected amounts worked out
// by hand from the prices in helpers.ts (m1: $1/M input, $2/M output; m2: $10/M
// input, $20/M output; invoke_agent $0.002 a call; retrieval on kb $0.0004).
import { afterEach, describe, expect, it } from 'vitest';
import type { TraceLink, UsageEvent } from '../../src/core/event.js';
import { formatMoney } from '../../src/core/money.js';
import { statementJson } from '../../src/core/statement.js';
import { explain } from '../../src/service/explain.js';
import { ADAPTERS } from '../store/adapters.js';
import { BASE, ev, line, type Scenario, scenario as scenarioOn } from './helpers.js';

describe.each(ADAPTERS)('$name store', (adapter) => {
  const scenario: typeof scenarioOn = (yaml, batches) => scenarioOn(yaml, batches, adapter);

  const $ = (l: { effective_cost: bigint }) => formatMoney(l.effective_cost);
  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  describe('owner at event time (4.2)', () => {
    it('charges the team that owned the application when the event happened', async () => {
      s = await scenario(BASE, [
        [
          ev('e1', '2026-10-10T12:00:00Z', {
            api_key: 'key-one',
            input_tokens: 1_000_000,
            output_tokens: 500_000,
          }),
          ev('e2', '2026-10-20T12:00:00Z', { api_key: 'key-one', input_tokens: 2_000_000 }),
        ],
      ]);
      const c = await s.compute();
      expect($(line(c, { team: 'team-a', application: 'app-one' }))).toBe('2.00');
      // team-b moved from cc-a to cc-b on 2026-10-10, so on the 20th it is in cc-b
      expect($(line(c, { team: 'team-b', application: 'app-one', cost_center: 'cc-b' }))).toBe('2.00');
      expect(c.statement.totals.attributed_cost).toBe(4_000_000_000_000n);
    });

    it('follows the team cost center in effect', async () => {
      s = await scenario(BASE, [
        [
          ev('a', '2026-10-05T00:00:00Z', { service: 'svc-two', input_tokens: 1_000_000 }),
          ev('b', '2026-10-12T00:00:00Z', { service: 'svc-two', input_tokens: 3_000_000 }),
        ],
      ]);
      const c = await s.compute();
      expect($(line(c, { team: 'team-b', cost_center: 'cc-a' }))).toBe('1.00');
      expect($(line(c, { team: 'team-b', cost_center: 'cc-b' }))).toBe('3.00');
    });

    it('names the missing link', async () => {
      s = await scenario(BASE, [
        [
          ev('a', '2026-10-05T00:00:00Z', { service: 'orphan', input_tokens: 1_000_000 }),
          ev('b', '2026-10-05T00:00:00Z', { service: 'future', input_tokens: 1_000_000 }),
          ev('c', '2026-10-05T00:00:00Z', { service: 'nocc', input_tokens: 1_000_000 }),
        ],
      ]);
      const c = await s.compute();
      expect(line(c, { reason: 'no_application' }).status).toBe('unattributed');
      expect(line(c, { reason: 'no_owner_at_time' }).application).toBe('app-future');
      expect(line(c, { reason: 'no_cost_center_at_time' }).team).toBe('team-c');
      expect(formatMoney(c.statement.totals.unattributed_cost)).toBe('3.00');
      expect(c.statement.totals.billed_cost).toBe(0n);
    });
  });

  describe('identity (4.1)', () => {
    it('leaves unknown and ambiguous selectors unattributed and prefers the most specific selector', async () => {
      s = await scenario(BASE, [
        [
          ev('u', '2026-10-05T00:00:00Z', { api_key: 'key-zzz', input_tokens: 1_000_000 }),
          ev('d', '2026-10-05T00:00:00Z', { service: 'dup', input_tokens: 2_000_000 }),
          ev('r', '2026-10-05T00:00:00Z', { service: 'agents', agent: 'research', input_tokens: 3_000_000 }),
          ev('p', '2026-10-05T00:00:00Z', { service: 'agents', agent: 'other', input_tokens: 4_000_000 }),
        ],
      ]);
      const c = await s.compute();
      expect($(line(c, { reason: 'unknown_identity' }))).toBe('1.00');
      expect($(line(c, { reason: 'ambiguous_identity' }))).toBe('2.00');
      expect($(line(c, { application: 'app-one', team: 'team-a' }))).toBe('3.00');
      expect($(line(c, { application: 'app-two', status: 'attributed' }))).toBe('4.00');
      expect(c.charges.find((x) => x.reason === 'unknown_identity')?.identity).toBe('api_key:key-zzz');
    });
  });

  describe('workflow rollup (4.3) and tenant inheritance (4.4)', () => {
    const child = ev('c1', '2026-10-07T10:00:01Z', {
      service: 'rag',
      operation: 'retrieval',
      data_source: 'kb',
      model: null,
      trace_id: 't1',
      span_id: 's2',
      parent_span_id: 's1',
    });
    const grandchild = ev('c2', '2026-10-07T10:00:02Z', {
      service: 'rag',
      operation: 'embeddings',
      input_tokens: 1_000_000,
      trace_id: 't1',
      span_id: 's3',
      parent_span_id: 's2',
    });
    const root = ev('r1', '2026-10-07T10:00:00Z', {
      service: 'svc-two',
      operation: 'invoke_workflow',
      model: null,
      tenant: 'tenant-y',
      trace_id: 't1',
      span_id: 's1',
    });

    it('charges the invoking application for shared work, children delivered first in another batch', async () => {
      s = await scenario(BASE, [[grandchild, child], [root]]);
      const c = await s.compute();
      expect($(line(c, { application: 'app-two', category: 'embedding', tenant: 'tenant-y' }))).toBe('1.00');
      expect($(line(c, { application: 'app-two', category: 'retrieval', tenant: 'tenant-y' }))).toBe(
        '0.0004',
      );
      expect(c.statement.lines.some((l) => l.application === 'app-rag')).toBe(false);
      const childFirst = JSON.stringify(statementJson(c.statement));
      await s.close();
      s = await scenario(BASE, [[root], [child], [grandchild]]);
      const rootFirst = JSON.stringify(statementJson((await s.compute()).statement));
      expect(rootFirst.replace(/"audit_head":"[0-9a-f]+"/, '')).toBe(
        childFirst.replace(/"audit_head":"[0-9a-f]+"/, ''),
      );
    });

    // One span (t9/p) stored three times with other selectors, parents and claims (two events and a
    // trace link, of which a store keeps one a span): one ancestor (core/trace-walk.ts), the same in
    // every store and in `tally explain`, whatever order its copies arrive in.
    const rootOf = (id: string, span: string, tenant: string) =>
      ev(id, '2026-10-08T10:00:00Z', {
        service: 'svc-two',
        operation: 'invoke_workflow',
        model: null,
        tenant,
        trace_id: 't9',
        span_id: span,
      });
    const copyOf = (id: string, fields: Partial<UsageEvent>) =>
      ev(id, '2026-10-08T10:00:01Z', {
        operation: 'invoke_workflow',
        model: null,
        trace_id: 't9',
        span_id: 'p',
        ...fields,
      });
    const leaf = ev('leaf', '2026-10-08T10:00:02Z', {
      service: 'rag',
      operation: 'embeddings',
      input_tokens: 1_000_000,
      trace_id: 't9',
      span_id: 'l',
      parent_span_id: 'p',
    });
    const link: TraceLink = {
      trace_id: 't9',
      span_id: 'p',
      parent_span_id: 'r1',
      tenant: null,
      api_key: 'key-one',
      service: null,
      agent: null,
      project: null,
    };

    it('reads a span stored more than once as one ancestor: the first paying copy pays, under the smallest parent', async () => {
      // svc-two and key-one can pay; key-one's selectors come first. key-zzz cannot: its api_key
      // beside svc-two's service is no stored tuple (a store that took each field from any copy
      // failed the whole statement). The smallest parent, r1, carries the tenant inherited.
      const copies = [
        copyOf('d1', { api_key: 'key-zzz', parent_span_id: 'r2' }),
        copyOf('d2', { service: 'svc-two', parent_span_id: 'r2' }),
      ];
      const roots = [rootOf('root1', 'r1', 'tenant-x'), rootOf('root2', 'r2', 'tenant-y')];
      const statements: string[] = [];
      for (const [events, linkFirst] of [
        [copies, true],
        [[...copies].reverse(), false],
      ] as const) {
        s = await scenario(BASE, [[leaf, ...roots]]);
        if (linkFirst) await s.store.ingest('link', [{ events: [], links: [link] }]);
        for (const e of events) await s.store.ingest(e.id, [[e]]);
        if (!linkFirst) await s.store.ingest('link', [{ events: [], links: [link] }]);
        const c = await s.compute();
        const l = line(c, { category: 'embedding' });
        expect([l.application, l.tenant, l.status, $(l)]).toEqual([
          'app-one',
          'tenant-x',
          'attributed',
          '1.00',
        ]);
        const x = await explain(s.store, s.config, { id: 'leaf', source: null });
        expect([x.invoker.rollup, x.owner.application, x.tenant.charged]).toEqual([
          'invoker',
          'app-one',
          'tenant-x',
        ]);
        statements.push(JSON.stringify(statementJson(c.statement)).replace(/"audit_head":"[0-9a-f]+"/, ''));
        await s.close();
        s = undefined;
      }
      expect(statements[1]).toBe(statements[0]);
    });

    it('reads a span stored more than once as one ancestor: its smallest tenant claim', async () => {
      const copies = [
        copyOf('d1', { service: 'svc-two', tenant: 'tenant-y' }),
        copyOf('d2', { service: 'svc-two', tenant: 'tenant-x' }),
      ];
      s = await scenario(BASE, [[leaf], ...copies.map((c) => [c])]);
      const l = line(await s.compute(), { category: 'embedding' });
      expect([l.application, l.tenant, $(l)]).toEqual(['app-two', 'tenant-x', '1.00']);
      const x = await explain(s.store, s.config, { id: 'leaf', source: null });
      expect([x.owner.application, x.tenant.charged, x.tenant.inherited_from]).toEqual([
        'app-two',
        'tenant-x',
        'p',
      ]);
    });

    it('walks each stored copy of a span from the parent it names, as `tally explain` does', async () => {
      // One shared span (t9/l) recorded three times: under r1, under r2, and without its parent.
      const copies = [
        { ...leaf, id: 'l-r1', parent_span_id: 'r1' },
        { ...leaf, id: 'l-r2', parent_span_id: 'r2' },
        { ...leaf, id: 'l-none', parent_span_id: null },
      ];
      const roots = [rootOf('root1', 'r1', 'tenant-x'), rootOf('root2', 'r2', 'tenant-y')];
      const want = [
        ['l-r1', 'app-two', 'tenant-x', null],
        ['l-r2', 'app-two', 'tenant-y', null],
        ['l-none', 'app-rag', null, 'no_invoker'],
      ];
      const statements: string[] = [];
      for (const order of [copies, [...copies].reverse()]) {
        s = await scenario(BASE, [roots, ...order.map((c) => [c])]);
        const c = await s.compute();
        for (const [id, application, tenant, reason] of want) {
          const x = await explain(s.store, s.config, { id: id as string, source: null });
          expect([id, x.owner.application, x.tenant.charged, x.reason]).toEqual([
            id,
            application,
            tenant,
            reason,
          ]);
        }
        expect($(line(c, { category: 'embedding', application: 'app-two', tenant: 'tenant-x' }))).toBe(
          '1.00',
        );
        expect($(line(c, { category: 'embedding', application: 'app-two', tenant: 'tenant-y' }))).toBe(
          '1.00',
        );
        expect($(line(c, { category: 'embedding', application: 'app-rag' }))).toBe('1.00');
        statements.push(JSON.stringify(statementJson(c.statement)).replace(/"audit_head":"[0-9a-f]+"/, ''));
        await s.close();
        s = undefined;
      }
      expect(statements[1]).toBe(statements[0]);
    });

    it('keeps no_invoker when a shared span has no paying ancestor', async () => {
      s = await scenario(BASE, [
        [ev('x', '2026-10-07T00:00:00Z', { service: 'rag', input_tokens: 1_000_000 })],
      ]);
      const l = line(await s.compute(), { application: 'app-rag' });
      expect(l.reason).toBe('no_invoker');
      expect(l.status).toBe('attributed');
      expect($(l)).toBe('1.00');
    });

    it('charges every span to its own identity under executor', async () => {
      s = await scenario(`${BASE}\npolicy: { workflow_rollup: executor }\n`, [[grandchild, child, root]]);
      const c = await s.compute();
      expect($(line(c, { application: 'app-rag', category: 'embedding' }))).toBe('1.00');
    });
  });

  describe('tenant claims (4.4)', () => {
    it('refuses a tenant the paying identity may not act for, and one that does not exist', async () => {
      s = await scenario(BASE, [
        [
          ev('ok', '2026-10-05T00:00:00Z', {
            api_key: 'key-one',
            tenant: 'tenant-x',
            input_tokens: 1_000_000,
          }),
          ev('spoof', '2026-10-05T00:00:00Z', {
            api_key: 'key-one',
            tenant: 'tenant-y',
            input_tokens: 2_000_000,
          }),
          ev('ghost', '2026-10-05T00:00:00Z', {
            service: 'svc-two',
            tenant: 'tenant-zzz',
            input_tokens: 3_000_000,
          }),
        ],
      ]);
      const c = await s.compute();
      expect($(line(c, { tenant: 'tenant-x' }))).toBe('1.00');
      const spoof = line(c, { application: 'app-one', reason: 'tenant_unverified' });
      expect([spoof.tenant, $(spoof), spoof.status]).toEqual([null, '2.00', 'attributed']);
      expect($(line(c, { application: 'app-two', reason: 'tenant_unverified' }))).toBe('3.00');
      expect(c.charges.filter((x) => x.refusedTenant).map((x) => x.refusedTenant)).toEqual(
        expect.arrayContaining(['tenant-y', 'tenant-zzz']),
      );
    });
    it('checks each group’s claim against one decision: a dispute outranks a refusal, a refusal outranks no invoker', async () => {
      const at = '2026-10-05T00:00:00Z';
      s = await scenario(BASE, [
        [
          ev('m2-x', at, { api_key: 'key-one', model: 'm2', tenant: 'tenant-x', input_tokens: 1_000_000 }),
          ev('m2-y', at, { api_key: 'key-one', model: 'm2', tenant: 'tenant-y', input_tokens: 2_000_000 }),
          ev('rag-x', at, { service: 'rag', tenant: 'tenant-x', input_tokens: 3_000_000 }),
          ev('rag-ghost', at, { service: 'rag', tenant: 'tenant-zzz', input_tokens: 4_000_000 }),
          ev('rag-none', at, { service: 'rag', input_tokens: 5_000_000 }),
        ],
      ]);
      const c = await s.compute();
      const of = (tokens: number) => {
        const x = c.charges.find((ch) => ch.input_tokens === tokens);
        return [x?.status, x?.reason, x?.tenant, x?.refusedTenant, x?.disputes];
      };
      expect(of(1_000_000)).toEqual([
        'disputed',
        'unauthorized_model',
        'tenant-x',
        null,
        ['unauthorized_model'],
      ]);
      expect(of(2_000_000)).toEqual([
        'disputed',
        'unauthorized_model',
        null,
        'tenant-y',
        ['unauthorized_model'],
      ]);
      expect(of(3_000_000)).toEqual(['attributed', 'no_invoker', 'tenant-x', null, []]);
      expect(of(4_000_000)).toEqual(['attributed', 'tenant_unverified', null, 'tenant-zzz', []]);
      expect(of(5_000_000)).toEqual(['attributed', 'no_invoker', null, null, []]);
    });
  });

  describe('environment (4.6)', () => {
    it('shows experimentation under showback without billing it, and bills it under charge', async () => {
      const events = [
        ev('lab', '2026-10-05T00:00:00Z', {
          api_key: 'key-lab',
          environment: 'production',
          input_tokens: 1_000_000,
        }),
      ];
      s = await scenario(BASE, [events]);
      let l = line(await s.compute(), { environment: 'experimentation' });
      expect([$(l), formatMoney(l.billed_cost)]).toEqual(['1.00', '0.00']);
      await s.close();
      s = await scenario(`${BASE}\npolicy: { experimentation: charge }\n`, [events]);
      l = line(await s.compute(), { environment: 'experimentation' });
      expect(formatMoney(l.billed_cost)).toBe('1.00');
    });
  });

  describe('disputed spend (4.7)', () => {
    it('holds use after revocation, compromise and unauthorised models, in precedence order', async () => {
      s = await scenario(BASE, [
        [
          ev('before', '2026-10-19T23:59:59Z', { api_key: 'key-old', input_tokens: 1_000_000 }),
          ev('after', '2026-10-20T00:00:00Z', { api_key: 'key-old', input_tokens: 2_000_000 }),
          ev('model', '2026-10-05T00:00:00Z', { api_key: 'key-one', model: 'm2', input_tokens: 1_000_000 }),
          ev('comp', '2026-10-23T00:00:00Z', { api_key: 'key-comp', model: 'm2', input_tokens: 100_000 }),
        ],
      ]);
      const c = await s.compute();
      expect($(line(c, { application: 'app-one', status: 'attributed' }))).toBe('1.00');
      const revoked = line(c, { reason: 'use_after_revocation' });
      expect([revoked.status, $(revoked), formatMoney(revoked.billed_cost), revoked.team]).toEqual([
        'disputed',
        '2.00',
        '0.00',
        'team-b',
      ]);
      expect($(line(c, { reason: 'unauthorized_model' }))).toBe('10.00');
      // compromised and revoked and off its allowlist: compromise comes first
      expect($(line(c, { reason: 'use_after_compromise' }))).toBe('1.00');
      expect(formatMoney(c.statement.totals.disputed_cost)).toBe('13.00');
    });

    it('bills disputed spend under `disputed: charge` but keeps the label', async () => {
      s = await scenario(`${BASE}\npolicy: { disputed: charge }\n`, [
        [ev('after', '2026-10-21T00:00:00Z', { api_key: 'key-old', input_tokens: 2_000_000 })],
      ]);
      const l = line(await s.compute(), { reason: 'use_after_revocation' });
      expect([l.status, formatMoney(l.billed_cost)]).toEqual(['disputed', '2.00']);
    });
  });

  describe('pricing in attribution (3, 4.8)', () => {
    it('never prices usage reported on agent spans as tokens, only their unit price', async () => {
      s = await scenario(BASE, [
        [
          ev('agent', '2026-10-05T00:00:00Z', {
            service: 'svc-two',
            operation: 'invoke_agent',
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
          }),
        ],
      ]);
      const l = line(await s.compute(), { category: 'orchestration' });
      expect($(l)).toBe('0.002');
    });

    it('counts a model without a price as unpriced, never as zero cost', async () => {
      s = await scenario(BASE, [
        [
          ev('mystery', '2026-10-05T00:00:00Z', {
            service: 'svc-two',
            provider: 'nowhere',
            model: 'mystery-1',
            input_tokens: 5000,
          }),
        ],
      ]);
      const c = await s.compute();
      expect(c.statement.totals.unpriced_events).toBe(1);
      expect(line(c, { application: 'app-two' }).unpriced_events).toBe(1);
      expect(line(c, { application: 'app-two' }).input_tokens).toBe(5000);
    });
  });
});
