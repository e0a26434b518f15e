import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG, initConfig } from '../../src/config/example.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, type Problem, UsageError } from '../../src/core/errors.js';
import { parseMoney } from '../../src/core/money.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tally-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}

async function problems(file: string): Promise<Problem[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const MAIN = `include: [registry.yaml, prices.yaml]
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
policy: { disputed: charge }
`;
const REGISTRY = `teams:
  - { id: team-b, name: B, cost_center: cc-a }
applications:
  - { id: app-a, owner: team-b }
policy: { experimentation: charge }
`;
const PRICES = `prices:
  models:
    - { provider: openai, model: gpt-4o, input_per_mtok: 2.50, output_per_mtok: 10 }
shared_pools:
  - { id: pool, amount: 123456789012.000000000001, level: team, method: even }
`;

describe('loadConfig', () => {
  it('merges includes (lists concatenate, mappings merge) and hashes the bytes in order', async () => {
    const d = dir({ 'tally.yaml': MAIN, 'registry.yaml': REGISTRY, 'prices.yaml': PRICES });
    const { config, files } = await loadConfig(path.join(d, 'tally.yaml'));
    expect(files).toEqual(['tally.yaml', 'registry.yaml', 'prices.yaml'].map((f) => path.join(d, f)));
    expect(config.teams.map((t) => t.id)).toEqual(['team-a', 'team-b']);
    expect(config.applications[0]?.owner[0]?.team).toBe('team-b');
    expect(config.policy).toMatchObject({ disputed: 'charge', experimentation: 'charge' });
    expect(config.prices.models[0]?.inputPerMtok).toBe(2_500_000_000_000n);
    // read from the source text: the double nearest to it has lost the last digit
    expect(config.sharedPools[0]?.amount).toBe(parseMoney('123456789012.000000000001'));
    const hash = createHash('sha256');
    for (const f of files) hash.update(readFileSync(f));
    expect(config.sha256).toBe(hash.digest('hex'));
    const reordered = dir({
      'tally.yaml': MAIN.replace('registry.yaml, prices.yaml', 'prices.yaml, registry.yaml'),
      'registry.yaml': REGISTRY,
      'prices.yaml': PRICES,
    });
    expect((await loadConfig(path.join(reordered, 'tally.yaml'))).config.sha256).not.toBe(config.sha256);
  });

  it('names the included file and line of a problem in it', async () => {
    const d = dir({
      'tally.yaml': MAIN,
      'registry.yaml': REGISTRY.replace('owner: team-b', 'owner: team-z'),
      'prices.yaml': PRICES,
    });
    const found = await problems(path.join(d, 'tally.yaml'));
    expect(found).toContainEqual(
      expect.objectContaining({
        file: expect.stringMatching(/registry\.yaml$/),
        record: 4,
        recordKind: 'line',
        field: 'applications[0].owner',
      }),
    );
  });

  it('locates problems in list items an include appended, and a missing key by its mapping', async () => {
    const d = dir({
      'tally.yaml': MAIN,
      'registry.yaml': REGISTRY.replace('cost_center: cc-a', 'cost_center: cc-z').replace(
        '{ id: app-a, owner: team-b }',
        '{ owner: team-b }',
      ),
      'prices.yaml': PRICES.replace('amount: 123456789012.000000000001', 'amount: -1'),
    });
    const found = await problems(path.join(d, 'tally.yaml'));
    const at = (field: string) => found.find((p) => p.field === field);
    // teams[0] is the main file's; the include's first team is teams[1], on its line 2.
    expect(at('teams[1].cost_center')).toMatchObject({
      file: expect.stringMatching(/registry\.yaml$/),
      record: 2,
    });
    expect(at('applications[0].id')).toMatchObject({
      file: expect.stringMatching(/registry\.yaml$/),
      record: 4,
      reason: 'is required',
    });
    expect(at('shared_pools[0].amount')).toMatchObject({
      file: expect.stringMatching(/prices\.yaml$/),
      record: 5,
    });
  });

  it('reports a scalar set to two values in two files', async () => {
    const d = dir({
      'tally.yaml': MAIN,
      'registry.yaml': `${REGISTRY}currency: EUR\n`,
      'prices.yaml': `${PRICES}currency: USD\n`,
    });
    const found = await problems(path.join(d, 'tally.yaml'));
    expect(found).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/prices\.yaml$/),
        record: 6,
        field: 'currency',
        reason: expect.stringMatching(/conflicts with the value set in .*registry\.yaml line 6/),
      }),
    ]);
  });

  it('accepts the same scalar repeated with the same value', async () => {
    const d = dir({
      'tally.yaml': `${MAIN}currency: EUR\n`,
      'registry.yaml': `${REGISTRY}currency: EUR\n`,
      'prices.yaml': PRICES,
    });
    expect((await loadConfig(path.join(d, 'tally.yaml'))).config.currency).toBe('EUR');
  });

  it('reports include cycles and missing includes', async () => {
    const d = dir({ 'tally.yaml': 'include: [a.yaml, missing.yaml]\n', 'a.yaml': 'include: [tally.yaml]\n' });
    const found = await problems(path.join(d, 'tally.yaml'));
    expect(found).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/a\.yaml$/),
        reason: expect.stringMatching(/include cycle: .*tally\.yaml → .*a\.yaml → .*tally\.yaml/),
      }),
      expect.objectContaining({
        file: expect.stringMatching(/tally\.yaml$/),
        reason: expect.stringMatching(/missing\.yaml: file not found/),
      }),
    ]);
  });

  it('reports YAML syntax errors with file, line and column', async () => {
    const d = dir({ 'tally.yaml': 'teams:\n  - id: a\n    name: [unclosed\ncurrency: USD\n' });
    const found = await problems(path.join(d, 'tally.yaml'));
    expect(found[0]).toMatchObject({
      file: expect.stringMatching(/tally\.yaml$/),
      recordKind: 'line',
      reason: expect.stringMatching(/column \d+/),
    });
    expect(found[0]?.record).toBeGreaterThanOrEqual(3);
  });

  it('reads a file without includes to the same values, number texts and problem lines', async () => {
    const body = `${PRICES}teams:\n  - id: team-a\n    name: A\n    cost_center: cc-x\n`;
    const d = dir({ 'one.yaml': body, 'ok.yaml': `${body}cost_centers: [{ id: cc-x }]\n` });
    expect(await problems(path.join(d, 'one.yaml'))).toEqual([
      expect.objectContaining({ field: 'teams[0].cost_center', record: 9, recordKind: 'line' }),
    ]);
    const { config } = await loadConfig(path.join(d, 'ok.yaml'));
    expect(config.sharedPools[0]?.amount).toBe(parseMoney('123456789012.000000000001'));
    expect(config.prices.models[0]?.inputPerMtok).toBe(2_500_000_000_000n);
  });

  it('reports a missing file and a duplicate key', async () => {
    const d = dir({ 'dup.yaml': 'currency: USD\ncurrency: EUR\n' });
    expect(await problems(path.join(d, 'nope.yaml'))).toEqual([
      expect.objectContaining({ reason: 'file not found' }),
    ]);
    expect((await problems(path.join(d, 'dup.yaml')))[0]).toMatchObject({
      record: 2,
      reason: expect.stringMatching(/unique/),
    });
  });
});

describe('initConfig', () => {
  it('writes the example, which loads, and never overwrites', async () => {
    const d = path.join(dir({}), 'new');
    const file = await initConfig(d);
    expect(readFileSync(file, 'utf8')).toBe(EXAMPLE_CONFIG);
    const { config } = await loadConfig(file);
    expect(config.sharedPools.map((p) => p.id)).toEqual(['pool-vectordb', 'pool-platform', 'pool-gpu']);
    await expect(initConfig(d)).rejects.toBeInstanceOf(UsageError);
  });
});
