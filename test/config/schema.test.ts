import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/core/config-schema.js';
import { ConfigError, type Problem } from '../../src/core/errors.js';
import { ONE, parseMoney } from '../../src/core/money.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

function parse(yaml: string) {
  return parseConfig(YAML.parse(yaml), { sha256: 'abc' });
}

function problems(yaml: string): Problem[] {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const BASE = `
cost_centers: [{ id: cc-a, name: A }]
teams:
  - { id: team-a, name: A, cost_center: cc-a }
  - { id: team-b, name: B, cost_center: cc-a }
tenants: [{ id: tenant-x, name: X }]
`;
const APPS = `applications: [{ id: app-a, name: App, owner: team-a }]\n`;

describe('a valid configuration', () => {
  it('becomes typed values: dated owners, epoch ms, exact money, defaults', () => {
    const config = parse(`
cost_centers: [{ id: cc-retail, name: Retail }]
teams:
  - id: team-cx
    name: CX
    cost_center:
      - { cost_center: cc-retail, from: 2026-01-01 }
  - { id: team-search, name: Search, cost_center: cc-retail, offboarded: 2026-12-01 }
applications:
  - id: app-support-bot
    name: Support Bot
    owner:
      - { team: team-cx, from: 2026-01-01, until: 2026-10-15 }
      - { team: team-search, from: 2026-10-15 }
    retired: 2027-03-01
tenants: [{ id: tenant-acme, name: ACME }]
identities:
  - id: nhi-1
    kind: api_key
    application: app-support-bot
    tenants: [tenant-acme]
    match: [{ api_key: 88dc28d0f030c55e }, { service: agent-platform, agent: research-agent }]
    lifecycle:
      - { at: 2026-10-20T05:00:00+02:00, event: compromised }
      - { at: 2026-01-01T00:00:00Z, event: created }
prices:
  models:
    - { provider: openai, model: gpt-4o, from: 2026-01-01, input_per_mtok: 2.50, output_per_mtok: "10.00", cache_read_per_mtok: 1.25 }
  discounts: [{ provider: anthropic, percent: 12.5, from: 2026-09-01 }]
  units:
    - { operation: retrieval, data_source: kb-main, per_query: 0.0004 }
shared_pools:
  - { id: pool-gpu, amount: 5000.00, level: team, method: weighted, weights: { team-search: 60, team-cx: 40.5 } }
  - { id: pool-vec, amount: 3000, level: application, method: proportional, basis: retrieval }
access:
  - { token_sha256: "${'AB'.repeat(32)}", role: team, team: team-search }
budgets:
  - { team: team-search, monthly: 5000 }
alerts: { webhook: "https://hooks.example.com/x" }
`);
    expect(config.store).toBe('./tally.duckdb');
    expect(config.currency).toBe('USD');
    expect(config.sha256).toBe('abc');
    expect(config.teams[0]?.costCenter).toEqual([
      { costCenter: 'cc-retail', from: day('2026-01-01'), until: null },
    ]);
    expect(config.teams[1]).toMatchObject({
      costCenter: [{ costCenter: 'cc-retail', from: null, until: null }],
      offboarded: day('2026-12-01'),
    });
    expect(config.applications[0]).toMatchObject({
      owner: [
        { team: 'team-cx', from: day('2026-01-01'), until: day('2026-10-15') },
        { team: 'team-search', from: day('2026-10-15'), until: null },
      ],
      retired: day('2027-03-01'),
    });
    expect(config.identities[0]).toMatchObject({
      environment: 'production',
      shared: false,
      models: null,
      tenants: ['tenant-acme'],
      match: [{ api_key: '88dc28d0f030c55e' }, { service: 'agent-platform', agent: 'research-agent' }],
      lifecycle: [
        { at: day('2026-01-01'), event: 'created' },
        { at: Date.UTC(2026, 9, 20, 3), event: 'compromised' },
      ],
    });
    expect(config.prices.models[0]).toMatchObject({
      inputPerMtok: 2_500_000_000_000n,
      outputPerMtok: 10n * ONE,
      cacheReadPerMtok: parseMoney('1.25'),
      cacheWritePerMtok: null,
      reasoningPerMtok: null,
      from: day('2026-01-01'),
      until: null,
    });
    expect(config.prices.discounts[0]?.percent).toBe(parseMoney('12.5'));
    expect(config.prices.units[0]).toEqual({
      operation: 'retrieval',
      tool: null,
      dataSource: 'kb-main',
      perCall: parseMoney('0.0004'),
    });
    expect(config.sharedPools[0]).toMatchObject({
      amount: 5000n * ONE,
      weights: { 'team-search': 60n * ONE, 'team-cx': parseMoney('40.5') },
    });
    expect(config.sharedPools[1]).toMatchObject({ basis: 'retrieval', weights: {} });
    expect(config.policy).toMatchObject({
      workflowRollup: 'invoker',
      experimentation: 'showback',
      disputed: 'hold',
    });
    expect(config.policy.signals).toMatchObject({
      spikeZ: 6,
      spikeFloor: 5n * ONE,
      baselineDays: 14,
      historyDays: 7,
    });
    expect(config.access[0]).toEqual({ tokenSha256: 'ab'.repeat(32), role: 'team', team: 'team-search' });
    expect(config.budgets[0]).toEqual({
      scope: 'team',
      id: 'team-search',
      monthly: 5000n * ONE,
      alertAt: [50, 80, 100],
    });
    expect(config.alertWebhook).toBe('https://hooks.example.com/x');
  });

  it('an empty file is an empty registry with defaults', () => {
    expect(parseConfig(null, { sha256: 'x' })).toMatchObject({
      store: './tally.duckdb',
      currency: 'USD',
      teams: [],
      identities: [],
    });
  });

  it('allows identical selectors on two identities (a match is then ambiguous, SPEC §4.1)', () => {
    const config = parse(`${BASE}
identities:
  - { id: i1, kind: agent, match: [{ service: s }] }
  - { id: i2, kind: agent, match: [{ service: s }] }
`);
    expect(config.identities).toHaveLength(2);
  });

  it('keeps policy values and extra signal thresholds', () => {
    const config = parse(
      `policy: { workflow_rollup: executor, experimentation: charge, disputed: charge, signals: { spike_z: 8, S09: { failures: 20 } } }`,
    );
    expect(config.policy).toMatchObject({
      workflowRollup: 'executor',
      experimentation: 'charge',
      disputed: 'charge',
    });
    expect(config.policy.signals).toMatchObject({ spikeZ: 8, S09: { failures: 20 } });
  });

  it('the example validates', () => {
    const config = parse(EXAMPLE_CONFIG);
    expect(config.identities.length).toBeGreaterThan(2);
    expect(config.prices.models[0]?.inputPerMtok).toBe(parseMoney('2.50'));
  });
});

describe('every problem is reported with its path', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['required field', `teams: [{ name: A }]`, 'teams[0].id', /required/],
    [
      'string expected',
      `${BASE}identities: [{ id: 12, kind: agent, match: [{ service: s }] }]`,
      'identities[0].id',
      /string/,
    ],
    [
      'boolean expected',
      `${BASE}identities: [{ id: i, kind: agent, shared: "yes", match: [{ service: s }] }]`,
      'identities[0].shared',
      /true or false/,
    ],
    [
      'identity kind',
      `${BASE}identities: [{ id: i, kind: robot, match: [{ service: s }] }]`,
      'identities[0].kind',
      /one of api_key/,
    ],
    [
      'lifecycle event',
      `${BASE}identities: [{ id: i, kind: agent, match: [{ service: s }], lifecycle: [{ at: 2026-01-01, event: stolen }] }]`,
      'identities[0].lifecycle[0].event',
      /one of created/,
    ],
    [
      'lifecycle time',
      `${BASE}identities: [{ id: i, kind: agent, match: [{ service: s }], lifecycle: [{ at: "2026-01-01T03:00:00", event: created }] }]`,
      'identities[0].lifecycle[0].at',
      /zone/,
    ],
    ['no selector', `${BASE}identities: [{ id: i, kind: agent }]`, 'identities[0].match', /required/],
    [
      'empty selector',
      `${BASE}identities: [{ id: i, kind: agent, match: [{}] }]`,
      'identities[0].match[0]',
      /at least one of api_key/,
    ],
    [
      'selector key',
      `${BASE}identities: [{ id: i, kind: agent, match: [{ servce: s }] }]`,
      'identities[0].match[0].servce',
      /did you mean service/,
    ],
    [
      'misspelt key',
      `${BASE}${APPS.replace('owner: team-a', 'ownr: team-a')}`,
      'applications[0].ownr',
      /did you mean owner/,
    ],
    ['unknown section', `teamz: []`, 'teamz', /did you mean teams/],
    [
      'bad date',
      `cost_centers: [{ id: c }]\nteams: [{ id: t, cost_center: c, offboarded: 2026-02-30 }]`,
      'teams[0].offboarded',
      /date/,
    ],
    [
      'until before from',
      `cost_centers: [{ id: c }]\nteams: [{ id: t, cost_center: [{ cost_center: c, from: 2026-02-01, until: 2026-02-01 }] }]`,
      'teams[0].cost_center[0].until',
      /after from/,
    ],
    [
      'overlapping cost centers',
      `cost_centers: [{ id: c }, { id: d }]\nteams: [{ id: t, cost_center: [{ cost_center: c, from: 2026-01-01 }, { cost_center: d, from: 2026-06-01 }] }]`,
      'teams[0].cost_center[1]',
      /overlaps teams\[0\].cost_center\[0\]/,
    ],
    [
      'overlapping owners',
      `${BASE}applications: [{ id: b, owner: [{ team: team-a, until: 2026-03-01 }, { team: team-b, from: 2026-02-01 }] }]`,
      'applications[0].owner[1]',
      /overlaps/,
    ],
    [
      'unknown cost center',
      `teams: [{ id: t, cost_center: cc-nope }]`,
      'teams[0].cost_center',
      /unknown cost center "cc-nope"/,
    ],
    [
      'unknown owner team',
      `${BASE}applications: [{ id: b, owner: [{ team: team-z, from: 2026-01-01 }] }]`,
      'applications[0].owner[0].team',
      /unknown team/,
    ],
    [
      'unknown application',
      `${BASE}identities: [{ id: i, kind: agent, application: app-z, match: [{ service: s }] }]`,
      'identities[0].application',
      /unknown application/,
    ],
    [
      'unknown tenant',
      `${BASE}identities: [{ id: i, kind: agent, tenants: [tenant-x, tenant-z], match: [{ service: s }] }]`,
      'identities[0].tenants[1]',
      /unknown tenant/,
    ],
    [
      'duplicate id',
      `${BASE}${APPS}shared_pools: [{ id: p, amount: 1, level: team, method: even }, { id: p, amount: 2, level: team, method: even }]`,
      'shared_pools[1]',
      /same id as shared_pools\[0\]/,
    ],
    [
      'negative price',
      `prices: { models: [{ provider: p, model: m, input_per_mtok: -1, output_per_mtok: 1 }] }`,
      'prices.models[0].input_per_mtok',
      /amount/,
    ],
    [
      'non-numeric price',
      `prices: { models: [{ provider: p, model: m, input_per_mtok: cheap, output_per_mtok: 1 }] }`,
      'prices.models[0].input_per_mtok',
      /amount/,
    ],
    [
      'missing price',
      `prices: { models: [{ provider: p, model: m, input_per_mtok: 1 }] }`,
      'prices.models[0].output_per_mtok',
      /required/,
    ],
    [
      'percent over 100',
      `prices: { discounts: [{ provider: p, percent: 101 }] }`,
      'prices.discounts[0].percent',
      /between 0 and 100/,
    ],
    [
      'overlapping discounts',
      `prices: { discounts: [{ provider: p, percent: 5 }, { provider: p, percent: 10, from: 2026-01-01 }] }`,
      'prices.discounts[1]',
      /one discount per provider/,
    ],
    [
      'unit price amount',
      `prices: { units: [{ operation: execute_tool }] }`,
      'prices.units[0]',
      /per_call or per_query/,
    ],
    [
      'pool level',
      `shared_pools: [{ id: p, amount: 1, level: galaxy, method: even }]`,
      'shared_pools[0].level',
      /one of team/,
    ],
    [
      'pool method',
      `shared_pools: [{ id: p, amount: 1, level: team, method: random }]`,
      'shared_pools[0].method',
      /one of proportional/,
    ],
    [
      'pool basis',
      `shared_pools: [{ id: p, amount: 1, level: team, method: proportional, basis: vibes }]`,
      'shared_pools[0].basis',
      /one of inference/,
    ],
    [
      'weight key at level',
      `${BASE}${APPS}shared_pools: [{ id: p, amount: 1, level: application, method: weighted, weights: { team-a: 1 } }]`,
      'shared_pools[0].weights.team-a',
      /unknown application/,
    ],
    [
      'weight value',
      `${BASE}shared_pools: [{ id: p, amount: 1, level: team, method: weighted, weights: { team-a: 0 } }]`,
      'shared_pools[0].weights.team-a',
      /positive/,
    ],
    [
      'weights without weighted',
      `shared_pools: [{ id: p, amount: 1, level: team, method: even, weights: { a: 1 } }]`,
      'shared_pools[0].weights',
      /only to method weighted/,
    ],
    ['policy value', `policy: { disputed: forgive }`, 'policy.disputed', /one of hold, charge/],
    ['signal threshold', `policy: { signals: { spike_z: high } }`, 'policy.signals.spike_z', /number/],
    ['role', `access: [{ token_sha256: "${'a'.repeat(64)}", role: root }]`, 'access[0].role', /one of admin/],
    [
      'token hash',
      `access: [{ token_sha256: "s3cret", role: admin }]`,
      'access[0].token_sha256',
      /64 hexadecimal/,
    ],
    [
      'access team',
      `${BASE}access: [{ token_sha256: "${'a'.repeat(64)}", role: team, team: team-z }]`,
      'access[0].team',
      /unknown team/,
    ],
    [
      'team role without team',
      `access: [{ token_sha256: "${'a'.repeat(64)}", role: team }]`,
      'access[0].team',
      /required for role team/,
    ],
    [
      'budget target',
      `${BASE}${APPS}budgets: [{ application: app-z, monthly: 10 }]`,
      'budgets[0].application',
      /unknown application/,
    ],
    [
      'budget scope',
      `${BASE}budgets: [{ team: team-a, tenant: tenant-x, monthly: 10 }]`,
      'budgets[0]',
      /exactly one/,
    ],
    ['webhook', `alerts: { webhook: "ftp://x" }`, 'alerts.webhook', /http\(s\) URL/],
    ['currency', `currency: dollars`, 'currency', /ISO 4217/],
    ['include outside a file', `include: [a.yaml]`, 'include', /loaded from a file/],
  ];
  it.each(cases)('%s', (_, yaml, field, reason) => {
    const found = problems(yaml);
    expect(found.map((p) => `${p.field}: ${p.reason}`)).toContainEqual(
      expect.stringMatching(new RegExp(`^${escapeRegExp(field)}: .*${reason.source}`)),
    );
  });

  it('lists several problems at once, and nothing is returned', () => {
    const found = problems(`
currency: usd
teams:
  - { id: t1, cost_center: nowhere }
  - { id: t1, ownr: x }
identities:
  - { id: i, kind: robot, match: [{}] }
`);
    expect(found.map((p) => p.field)).toEqual(
      expect.arrayContaining([
        'currency',
        'teams[0].cost_center',
        'teams[1]',
        'teams[1].ownr',
        'identities[0].kind',
        'identities[0].match[0]',
      ]),
    );
    expect(found.length).toBeGreaterThanOrEqual(6);
  });

  // Paths are written out only for a problem, and references are checked as
  // each section is read: each problem still names its own entry and item,
  // in the order read, with the unknown references last.
  it('names the entry and item of a problem deep in a long list, in the order read', () => {
    const found = problems(`${BASE}${APPS}
identities:
  - { id: i0, kind: agent, application: app-a, tenants: [tenant-x], match: [{ service: s0 }] }
  - { id: i1, kind: agent, application: app-z, tenants: [tenant-x, tenant-y, tenant-x], match: [{ service: s1 }] }
  - { id: i2, kind: agent, tenants: ["*", tenant-x, "", tenant-w], models: [a, "  "], match: [{ service: s2 }, {}] }
  - { id: i1, kind: agent, match: [{ service: s3 }], lifecycle: [{ at: 2026-01-01, event: created }, { at: 2026-01-32, event: created }] }
  - { id: i4, kind: agent, match: [{ service: s4 }], lifecycle: [{ at: 2026-01-01, event: created }] }
`);
    expect(found.map((p) => `${p.field}: ${p.reason}`)).toEqual([
      'identities[2].match[1]: a selector needs at least one of api_key, service, agent, project',
      'identities[2].tenants[2]: must not be empty',
      'identities[2].models[1]: must not be empty',
      expect.stringMatching(/^identities\[3\]\.lifecycle\[1\]\.at: must be a date/),
      'identities[3]: has the same id as identities[1]',
      'identities[1].application: unknown application "app-z"',
      'identities[1].tenants[1]: unknown tenant "tenant-y"',
      'identities[2].tenants[3]: unknown tenant "tenant-w"',
    ]);
  });

  it('reads a time written twice alike, and a bad one twice as two problems', () => {
    const twice = (at: string) => `${BASE}${APPS}
identities:
  - { id: i0, kind: agent, match: [{ service: s0 }], lifecycle: [{ at: ${at}, event: created }] }
  - { id: i1, kind: agent, match: [{ service: s1 }], lifecycle: [{ at: ${at}, event: revoked }] }
`;
    expect(parse(twice('2026-01-02T03:04:05Z')).identities.map((i) => i.lifecycle[0]?.at)).toEqual([
      Date.parse('2026-01-02T03:04:05Z'),
      Date.parse('2026-01-02T03:04:05Z'),
    ]);
    expect(problems(twice('"2026-01-02T03:04:05"')).map((p) => p.field)).toEqual([
      'identities[0].lifecycle[0].at',
      'identities[1].lifecycle[0].at',
    ]);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
