// schemas/tally-config.schema.json is true to tally's own validator: the files
// tally writes (`tally init`, the demo) validate, and the mistakes tally
// rejects are rejected by the schema too.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { main } from '../../src/cli/main.js';
import { EXAMPLE_CONFIG, initConfig } from '../../src/config/example.js';
import { parseConfig } from '../../src/core/config-schema.js';
import { ConfigError } from '../../src/core/errors.js';
import { generateDemo, writeCanonicalJsonl } from '../../src/demo/index.js';
import { removeTempDirs, tempDir } from '../demo/helpers.js';
import { configYaml } from '../server/helpers.js';
import { expectInvalid, expectValid, loadSchema } from './helpers.js';

afterAll(removeTempDirs);

const schema = loadSchema('tally-config');
// biome-ignore lint/suspicious/noExplicitAny: the mistakes reach into the parsed YAML
type Doc = Record<string, any>;

describe('the configuration schema', () => {
  it('accepts the file `tally init` writes', async () => {
    const file = await initConfig(tempDir('init'));
    expectValid(schema, YAML.parse(await readFile(file, 'utf8')), 'tally init');
  });

  it("accepts the demo's tally.yaml, the benchmark registry and the server tests' configuration", async () => {
    const demo = await generateDemo({ dir: tempDir('demo'), events: 500, month: '2026-10', seed: 5 });
    expectValid(schema, YAML.parse(await readFile(demo.config, 'utf8')), 'demo tally.yaml');
    const dir = tempDir('bench');
    const { configYaml: bench } = await writeCanonicalJsonl(path.join(dir, 'e.jsonl'), {
      events: 10,
      identities: 5,
      applications: 3,
      tenants: 2,
      agentShare: 0.2,
      month: '2026-10',
      seed: 1,
    });
    expectValid(schema, YAML.parse(bench), 'benchmark tally.yaml');
    expectValid(schema, YAML.parse(configYaml()), 'test/server configuration');
  });

  it('accepts the include `tally import backstage` writes, also after a re-run appends dated changes', async () => {
    const dir = tempDir('backstage');
    const fixtures = path.join(import.meta.dirname, '../fixtures/backstage');
    const include = path.join(dir, 'backstage.yaml');
    await writeFile(
      path.join(dir, 'tally.yaml'),
      'include: [backstage.yaml]\ntenants: [{ id: tenant-acme }]\n',
    );
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const [catalog, date] of [
        ['catalog', '2026-10-01'],
        ['changed', '2026-11-01'],
      ] as const) {
        const args = ['import', 'backstage', path.join(fixtures, catalog), '--out', include];
        expect(
          await main([...args, '--config', path.join(dir, 'tally.yaml'), '--date', date, '--skip-invalid']),
        ).toBe(0);
        expectValid(schema, YAML.parse(await readFile(include, 'utf8')), `backstage include (${catalog})`);
      }
    } finally {
      vi.restoreAllMocks();
    }
  });

  // Each mistake is made on the example; tally must refuse it and so must the schema.
  const mistakes: Array<[string, (c: Doc) => void]> = [
    ['an unknown top-level key', (c) => (c.teamz = [])],
    ['a lower-case currency', (c) => (c.currency = 'usd')],
    ['a misspelt team key', (c) => (c.teams[0].cost_centre = 'cc-retail')],
    ['an identity without match', (c) => delete c.identities[0].match],
    ['an empty match list', (c) => (c.identities[0].match = [])],
    ['an empty selector', (c) => (c.identities[0].match = [{}])],
    ['an unknown identity kind', (c) => (c.identities[0].kind = 'robot')],
    ['an unknown lifecycle event', (c) => (c.identities[0].lifecycle[0].event = 'deleted')],
    ['a time without its zone', (c) => (c.identities[0].lifecycle[0].at = '2026-01-01T00:00:00')],
    ['shared as a string', (c) => (c.identities[0].shared = 'yes')],
    ['a negative price', (c) => (c.prices.models[0].input_per_mtok = -1)],
    ['a price without output_per_mtok', (c) => delete c.prices.models[0].output_per_mtok],
    ['a discount above 100 per cent', (c) => (c.prices.discounts[0].percent = 120)],
    ['a unit price with per_call and per_query', (c) => (c.prices.units[0].per_query = 1)],
    ['a unit price with neither', (c) => delete c.prices.units[0].per_call],
    ['an unknown pool method', (c) => (c.shared_pools[0].method = 'random')],
    ['a weighted pool without weights', (c) => delete c.shared_pools[2].weights],
    ['weights on an even pool', (c) => (c.shared_pools[1].weights = { 'team-cx': 1 })],
    ['a basis on an even pool', (c) => (c.shared_pools[1].basis = 'cost')],
    ['an unknown policy value', (c) => (c.policy.disputed = 'maybe')],
    ['a signal threshold that is not a number', (c) => (c.policy.signals.spike_z = 'high')],
    ['a token that is not a SHA-256', (c) => (c.access[0].token_sha256 = 'secret-token')],
    ['a team token without its team', (c) => delete c.access[2].team],
    ['a team on an admin token', (c) => (c.access[0].team = 'team-search')],
    ['a budget for a team and an application', (c) => (c.budgets[0].application = 'app-search')],
    ['a budget of 0', (c) => (c.budgets[0].monthly = 0)],
    ['an alert threshold of 0', (c) => (c.budgets[0].alert_at = [0, 50])],
    ['a webhook that is not http(s)', (c) => (c.alerts.webhook = 'ftp://example.com')],
    ['a notification without its webhook', (c) => delete c.notify.webhook],
    ['an unknown notification severity', (c) => (c.notify.min_severity = 'urgent')],
  ];

  it.each(mistakes)('rejects %s, as tally does', (_what, mutate) => {
    const doc = YAML.parse(EXAMPLE_CONFIG) as Doc;
    mutate(doc);
    expect(() => parseConfig(doc, { sha256: 'x' })).toThrow(ConfigError);
    expectInvalid(schema, doc, _what);
  });

  it('accepts what tally accepts without the optional keys: ids only, defaults everywhere', () => {
    const minimal = {
      teams: [{ id: 't' }],
      applications: [{ id: 'a', owner: 't' }],
      identities: [{ id: 'i', kind: 'workload', application: 'a', match: [{ service: 's' }] }],
    };
    expect(() => parseConfig(minimal, { sha256: 'x' })).not.toThrow();
    expectValid(schema, minimal, 'minimal configuration');
  });
});
