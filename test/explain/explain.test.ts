// `tally explain` and `GET /v1/explain` on a small hand-built store: every
// figure below is worked out by hand from the prices in CONFIG, and checked
// against what the statement line got from the event.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import type { ExplanationJson } from '../../src/core/explain.js';
import { type App, createApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TOKENS = {
  admin: 'tok-admin-0123456789',
  teamA: 'tok-team-a-0123456789',
  teamB: 'tok-team-b-0123456789',
};

// app-bot changes hands on 2026-10-15 (team-a → team-b). llm-gateway and the
// triage agent are shared: whoever invokes them pays. acme/m1 has an
// organisation price and a 10 % discount; openai/gpt-4o-mini is priced by the catalog.
const CONFIG = `
store: ./tally.duckdb
currency: USD
cost_centers: [{ id: cc-a, name: A }, { id: cc-b, name: B }]
teams:
  - { id: team-a, name: Team A, cost_center: cc-a }
  - { id: team-b, name: Team B, cost_center: cc-b }
applications:
  - id: app-bot
    name: Bot
    owner:
      - { team: team-a, from: 2026-01-01, until: 2026-10-15 }
      - { team: team-b, from: 2026-10-15 }
  - { id: app-web, name: Web, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-gw, name: Gateway, owner: [{ team: team-b, from: 2026-01-01 }] }
tenants: [{ id: tenant-acme, name: Acme }]
identities:
  - { id: nhi-bot, kind: service_account, application: app-bot, environment: production, tenants: [tenant-acme], models: ["m1*"], match: [{ service: support-bot }] }
  - id: nhi-web
    kind: api_key
    application: app-web
    environment: production
    match: [{ api_key: key_web_0001 }]
    lifecycle: [{ at: 2026-10-20T00:00:00Z, event: revoked }]
  - { id: nhi-gateway, kind: workload, application: app-gw, environment: production, shared: true, match: [{ service: llm-gateway }] }
  - { id: nhi-agent, kind: agent, application: app-gw, environment: production, shared: true, match: [{ service: agent-platform, agent: triage }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.50, output_per_mtok: 6.00, cache_read_per_mtok: 0.75 }
  discounts:
    - { provider: acme, percent: 10, from: 2026-10-01 }
  units:
    - { operation: execute_tool, tool: web_search, per_call: 0.01 }
policy: { workflow_rollup: invoker, disputed: hold }
access:
  - { token_sha256: "${sha(TOKENS.admin)}", role: admin }
  - { token_sha256: "${sha(TOKENS.teamA)}", role: team, team: team-a }
  - { token_sha256: "${sha(TOKENS.teamB)}", role: team, team: team-b }
`;

const ev = (id: string, time: string, fields: Record<string, unknown>) => ({
  id,
  source: 'gw',
  time,
  provider: 'acme',
  model: 'm1',
  operation: 'chat',
  input_tokens: 0,
  output_tokens: 0,
  ...fields,
});

const EVENTS = [
  // Before the ownership change; 400,000 of the input tokens read from the cache.
  ev('bot-before', '2026-10-10T09:00:00Z', {
    service: 'support-bot',
    input_tokens: 2_000_000,
    cache_read_tokens: 400_000,
    output_tokens: 500_000,
  }),
  ev('bot-after', '2026-10-20T09:00:00Z', { service: 'support-bot', input_tokens: 1_000_000 }),
  // A model outside nhi-bot's allowlist (m1*): disputed, held.
  ev('bot-mini', '2026-10-12T09:00:00Z', {
    service: 'support-bot',
    provider: 'openai',
    model: 'gpt-4o-mini',
    input_tokens: 1_000_000,
    output_tokens: 100_000,
  }),
  ev('bot-search', '2026-10-11T09:00:00Z', {
    service: 'support-bot',
    operation: 'execute_tool',
    tool: 'web_search',
    model: null,
  }),
  // A trace: the web app (tenant claim) invokes the triage agent, which calls the gateway.
  ev('web-root', '2026-10-05T08:00:00Z', {
    api_key: 'key_web_0001',
    operation: 'invoke_agent',
    model: null,
    tenant: 'tenant-acme',
    trace_id: 't1',
    span_id: 's1',
  }),
  ev('agent-step', '2026-10-05T08:00:01Z', {
    service: 'agent-platform',
    agent: 'triage',
    operation: 'invoke_agent',
    model: null,
    trace_id: 't1',
    span_id: 's2',
    parent_span_id: 's1',
  }),
  ev('gw-call', '2026-10-05T08:00:02Z', {
    service: 'llm-gateway',
    input_tokens: 100_000,
    output_tokens: 10_000,
    trace_id: 't1',
    span_id: 's3',
    parent_span_id: 's2',
  }),
  // After nhi-web's key was revoked.
  ev('web-late', '2026-10-25T10:00:00Z', { api_key: 'key_web_0001', input_tokens: 1_000 }),
  // Near misses: a typo in the service name, and an agent name the registry does not have.
  ev('typo', '2026-10-06T10:00:00Z', { service: 'suport-bot', input_tokens: 1_000 }),
  ev('agent-v2', '2026-10-06T11:00:00Z', {
    service: 'agent-platform',
    agent: 'triage-v2',
    input_tokens: 1_000,
  }),
  // support-bot (team-a) with the agent name of nhi-agent (team-b): a near miss of another team's selector.
  ev('bot-agent', '2026-10-09T10:00:00Z', {
    service: 'support-bot',
    agent: 'triage',
    tenant: 'tenant-acme',
    input_tokens: 1_000,
  }),
  // m1* is allowed, but no price names m1-preview and the catalog has no acme: unpriced.
  ev('bot-preview', '2026-10-13T10:00:00Z', {
    service: 'support-bot',
    model: 'm1-preview',
    tenant: 'tenant-acme',
    input_tokens: 5_000,
  }),
  // One id under two sources (for tenant-acme: a line of their own).
  ev('dup', '2026-10-07T10:00:00Z', { service: 'support-bot', tenant: 'tenant-acme', input_tokens: 1_000 }),
  {
    ...ev('dup', '2026-10-07T10:00:00Z', {
      service: 'support-bot',
      tenant: 'tenant-acme',
      input_tokens: 2_000,
    }),
    source: 'gw2',
  },
];

let dir: string;
let configPath: string;
let store: Store;
let app: App;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tally-explain-'));
  configPath = path.join(dir, 'tally.yaml');
  await writeFile(configPath, CONFIG);
  const file = path.join(dir, 'events.jsonl');
  await writeFile(file, `${EVENTS.map((e) => JSON.stringify(e)).join('\n')}\n`);
  expect((await cli('ingest', file)).code).toBe(0);
  store = await openStore(path.join(dir, 'tally.duckdb'));
  app = createApp({ store, config: (await loadConfig(configPath)).config, webDir: dir });
});

afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main([...args, '--config', configPath]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The explanation through the CLI's JSON; the store is closed meanwhile (the CLI opens it itself). */
async function explainCli(id: string, ...args: string[]): Promise<ExplanationJson> {
  const r = await cli('explain', id, '--format', 'json', ...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as ExplanationJson;
}

function api(p: string, token: string = TOKENS.admin): Promise<Response> {
  return app.request(p, { headers: { authorization: `Bearer ${token}` } });
}

describe('tally explain on a hand-built store', () => {
  it('shows every price component, and component × tokens = event cost = what its statement line got', async () => {
    // input not cached: 1,600,000 × 1.50/M = 2.40; cache read: 400,000 × 0.75/M = 0.30;
    // output: 500,000 × 6.00/M = 3.00; 5.70 less 10 % (0.57) = 5.13.
    const x = await explainCli('bot-before');
    expect(x.price.source).toBe('organisation');
    expect(x.price.organisation_price).toMatchObject({
      provider: 'acme',
      model: 'm1',
      input_per_mtok: '1.50',
    });
    expect(x.price.components.map((c) => [c.part, c.quantity, c.rate, c.amount, c.source])).toEqual([
      ['input', 1_600_000, '1.50', '2.40', 'organisation'],
      ['output', 500_000, '6.00', '3.00', 'organisation'],
      ['cache_read', 400_000, '0.75', '0.30', 'organisation'],
    ]);
    expect(x.price.token_cost_before_discount).toBe('5.70');
    expect(x.price.discount).toMatchObject({ provider: 'acme', percent: '10', from: '2026-10-01T00:00:00Z' });
    expect(x.price.discount_amount).toBe('0.57');
    expect(x.price.token_cost).toBe('5.13');
    expect(x.price.effective_cost).toBe('5.13');
    // No catalog price for acme/m1: the list price is the organisation's, before the discount.
    expect(x.price.list_cost).toBe('5.70');
    expect(x.billing).toEqual({ billed: true, not_billed: null, billed_cost: '5.13' });
    expect(x.line?.key).toEqual({
      cost_center: 'cc-a',
      team: 'team-a',
      application: 'app-bot',
      tenant: null,
      environment: 'production',
      category: 'inference',
      status: 'attributed',
      reason: null,
      pool: null,
    });
    // The only event on its line: the line is this event's cost, to the cent.
    expect(x.line).toMatchObject({
      event_effective_cost: '5.13',
      events: 1,
      effective_cost: '5.13',
      cents: { effective_cost: '5.13', billed_cost: '5.13' },
    });
    const statement = JSON.parse((await cli('statement', '--period', '2026-10', '--format', 'json')).out);
    const line = statement.lines.find(
      (l: Record<string, unknown>) =>
        l.application === 'app-bot' && l.team === 'team-a' && l.category === 'inference' && l.tenant === null,
    );
    expect(line).toMatchObject({ effective_cost: '5.13', events: 1 });
  });

  it('names the owner at the event’s time across an ownership change', async () => {
    const before = await explainCli('bot-before');
    const after = await explainCli('bot-after');
    expect(before.owner).toMatchObject({ team: 'team-a', cost_center: 'cc-a', verdict: 'ok' });
    expect(after.owner).toMatchObject({ team: 'team-b', cost_center: 'cc-b', verdict: 'ok' });
    expect(after.owner.owners).toEqual([
      { team: 'team-a', from: '2026-01-01T00:00:00Z', until: '2026-10-15T00:00:00Z', in_effect: false },
      { team: 'team-b', from: '2026-10-15T00:00:00Z', until: null, in_effect: true },
    ]);
    expect(before.owner.owners.map((o) => o.in_effect)).toEqual([true, false]);
    // 1,000,000 × 1.50/M less 10 % = 1.35, on team-b's line.
    expect(after.line).toMatchObject({
      key: { team: 'team-b' },
      event_effective_cost: '1.35',
      effective_cost: '1.35',
    });
    const text = (await cli('explain', 'bot-after')).out;
    expect(text).toContain('owner team-a (from 2026-01-01T00:00:00Z until 2026-10-15T00:00:00Z)\n');
    expect(text).toContain('owner team-b (from 2026-10-15T00:00:00Z)  <- in effect');
  });

  it('walks the invoker path of a gateway call up the trace to the application that pays', async () => {
    const x = await explainCli('gw-call');
    expect(x.identity).toMatchObject({ verdict: 'matched', id: 'nhi-gateway', shared: true });
    expect(x.invoker).toMatchObject({ policy: 'invoker', shared: true, rollup: 'invoker', payer: 'nhi-web' });
    expect(x.invoker.path.map((s) => [s.span_id, s.identity, s.shared, s.can_pay, s.tenant])).toEqual([
      ['s2', 'nhi-agent', true, false, null],
      ['s1', 'nhi-web', false, true, 'tenant-acme'],
    ]);
    expect(x.owner).toMatchObject({ identity: 'nhi-web', application: 'app-web', team: 'team-a' });
    // The tenant claim is inherited from the root; nhi-web may act for no tenant.
    expect(x.tenant).toEqual({
      claim: 'tenant-acme',
      inherited_from: 's1',
      verdict: 'not_allowed',
      allowed: null,
      charged: null,
    });
    expect(x.reason).toBe('tenant_unverified');
    // 100,000 × 1.50/M + 10,000 × 6.00/M = 0.21, less 10 % = 0.189.
    expect(x.price.effective_cost).toBe('0.189');
    expect(x.line).toMatchObject({
      key: { team: 'team-a', application: 'app-web', reason: 'tenant_unverified' },
      event_effective_cost: '0.189',
      effective_cost: '0.189',
      cents: { effective_cost: '0.19' },
    });
    const text = (await cli('explain', 'gw-call')).out;
    expect(text).toContain('Invoker: nhi-web pays');
    expect(text).toContain(
      'up: span s2: nhi-agent (shared)\n  up: span s1: nhi-web (can pay), tenant claim tenant-acme',
    );
  });

  it('lists the selectors that nearly matched: a typo, and a selector with one field off', async () => {
    const typo = await explainCli('typo');
    expect(typo.identity.verdict).toBe('unknown_identity');
    expect(typo.identity.matched).toEqual([]);
    expect(typo.identity.near_misses).toEqual([
      {
        identity: 'nhi-bot',
        selector: { service: 'support-bot' },
        fields: [{ field: 'service', wanted: 'support-bot', carried: 'suport-bot', verdict: 'close' }],
      },
    ]);
    expect(typo.status).toBe('unattributed');
    expect(typo.reason).toBe('unknown_identity');
    const v2 = await explainCli('agent-v2');
    expect(v2.identity.near_misses).toEqual([
      {
        identity: 'nhi-agent',
        selector: { service: 'agent-platform', agent: 'triage' },
        fields: [
          { field: 'service', wanted: 'agent-platform', carried: 'agent-platform', verdict: 'match' },
          { field: 'agent', wanted: 'triage', carried: 'triage-v2', verdict: 'prefix' },
        ],
      },
    ]);
    const text = (await cli('explain', 'typo')).out;
    expect(text).toContain(
      'near miss: nhi-bot by {service: support-bot}: within two edits in service (wanted support-bot, carried suport-bot)',
    );
  });

  it('explains an allowlist violation’s dispute: catalog price, held, charged to the identity’s own owner', async () => {
    const x = await explainCli('bot-mini');
    expect(x.allowlist).toEqual({
      identity: 'nhi-bot',
      models: ['m1*'],
      model: 'gpt-4o-mini',
      allowed: false,
    });
    expect(x.disputes).toEqual(['unauthorized_model']);
    expect([x.status, x.reason]).toEqual(['disputed', 'unauthorized_model']);
    // Catalog: 1,000,000 × 0.15/M + 100,000 × 0.60/M = 0.15 + 0.06; no discount for openai.
    expect(x.price.source).toBe('catalog');
    expect(x.price.catalog_model).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(x.price.components.map((c) => [c.part, c.quantity, c.rate, c.amount])).toEqual([
      ['input', 1_000_000, '0.15', '0.15'],
      ['output', 100_000, '0.60', '0.06'],
    ]);
    expect(x.price.effective_cost).toBe('0.21');
    expect(x.billing).toEqual({ billed: false, not_billed: 'disputed_hold', billed_cost: '0.00' });
    expect(x.line).toMatchObject({
      key: { team: 'team-a', status: 'disputed', reason: 'unauthorized_model' },
      event_effective_cost: '0.21',
      event_billed_cost: '0.00',
      effective_cost: '0.21',
      billed_cost: '0.00',
    });
    const text = (await cli('explain', 'bot-mini')).out;
    expect(text).toContain('Allowlist: gpt-4o-mini is NOT in m1*');
    expect(text).toContain('Billed: 0: disputed spend is held');
  });

  it('explains a use after revocation: the lifecycle entry that applies', async () => {
    const x = await explainCli('web-late');
    expect(x.lifecycle).toEqual({
      identity: 'nhi-web',
      events: [{ at: '2026-10-20T00:00:00Z', event: 'revoked', before_event: true }],
    });
    expect([x.status, x.reason]).toEqual(['disputed', 'use_after_revocation']);
    const early = await explainCli('web-root');
    expect(early.lifecycle.events[0]?.before_event).toBe(false);
    expect(early.disputes).toEqual([]);
  });

  it('shows a unit price: calls × price per call, never discounted', async () => {
    const x = await explainCli('bot-search');
    expect(x.price.stop).toBe('no_usage');
    expect(x.price.components).toEqual([]);
    expect(x.price.unit_price).toEqual({
      operation: 'execute_tool',
      tool: 'web_search',
      data_source: null,
      per_call: '0.01',
      calls: 1,
      amount: '0.01',
    });
    expect(x.price.effective_cost).toBe('0.01');
    expect(x.line).toMatchObject({
      key: { category: 'tool' },
      event_effective_cost: '0.01',
      effective_cost: '0.01',
    });
  });

  it('says when an event cannot be priced: its cost is unknown, never 0', async () => {
    const x = await explainCli('bot-preview');
    expect(x.price).toMatchObject({ priced: false, source: 'none', stop: 'no_price', effective_cost: null });
    expect(x.price.components).toEqual([]);
    expect(x.billing.billed_cost).toBeNull();
    expect(x.line).toMatchObject({ event_effective_cost: null, event_billed_cost: null });
    expect((await cli('explain', 'bot-preview')).out).toContain('event cost: unknown');
  });

  it('lists the sources of an id stored under several, exit 2; --source picks one; an unknown id exits 1', async () => {
    const both = await cli('explain', 'dup');
    expect(both.code).toBe(2);
    expect(both.err).toContain("event id 'dup' exists under 2 sources (gw, gw2): name one with --source");
    const gw2 = await explainCli('dup', '--source', 'gw2');
    expect(gw2.event).toMatchObject({ id: 'dup', source: 'gw2', input_tokens: 2000 });
    const missing = await cli('explain', 'no-such-event');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no event with id 'no-such-event'");
    expect((await cli('explain', 'dup', '--source', 'gw3')).err).toContain("under source 'gw3'");
    expect((await cli('explain')).code).toBe(2);
  });

  it('prints its help with an example', async () => {
    const r = await cli('explain', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('tally explain EVENT_ID [--source S] [--format F]');
    expect(r.out).toMatch(/example:/i);
  });
});

describe('GET /v1/explain', () => {
  it('returns the same explanation as the CLI, by query or by path', async () => {
    const byQuery = await api('/v1/explain?id=gw-call');
    expect(byQuery.status).toBe(200);
    const body = await byQuery.json();
    expect(body).toEqual(await explainCli('gw-call'));
    const byPath = await api(`/v1/explain/${encodeURIComponent('gw-call')}?source=gw`);
    expect(await byPath.json()).toEqual(body);
  });

  it('gives a team token only the events charged to its team: 404 for the others, as for a missing id', async () => {
    expect((await api('/v1/explain?id=bot-before', TOKENS.teamA)).status).toBe(200);
    const other = await api('/v1/explain?id=bot-after', TOKENS.teamA);
    const missing = await api('/v1/explain?id=no-such-event', TOKENS.teamA);
    expect([other.status, missing.status]).toEqual([404, 404]);
    expect((await other.json()).error).toBe((await missing.json()).error);
    expect((await api('/v1/explain?id=bot-after', TOKENS.teamB)).status).toBe(200);
    // The gateway's owner (team-b) does not see the call its invoker (team-a) pays for.
    expect((await api('/v1/explain?id=gw-call', TOKENS.teamB)).status).toBe(404);
  });

  it('shows a team only its own identities’ selectors among those that matched or nearly did', async () => {
    const admin = await (await api('/v1/explain?id=bot-agent')).json();
    expect(admin.identity.near_misses.map((n: { identity: string }) => n.identity)).toEqual(['nhi-agent']);
    const team = await (await api('/v1/explain?id=bot-agent', TOKENS.teamA)).json();
    expect(team.identity.near_misses).toEqual([]);
    expect(team.identity.matched).toEqual(admin.identity.matched);
    expect({ ...team, identity: null }).toEqual({ ...admin, identity: null });
  });

  it('answers 400 listing the sources of an id stored under several, and needs an id', async () => {
    const res = await api('/v1/explain?id=dup');
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain('(gw, gw2)');
    expect((await api('/v1/explain?id=dup&source=gw')).status).toBe(200);
    expect((await api('/v1/explain')).status).toBe(400);
  });
});
