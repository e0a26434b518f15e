// `tally import backstage` end to end: a catalog shaped after Backstage's own example
// catalog (test/fixtures/backstage), the include it writes, a re-run after a catalog
// change, and a statement computed with the include.
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { main } from '../../src/cli/main.js';
import { captureCli } from '../setup/cli-capture.js';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/backstage');

const MAIN = `store: ./tally.duckdb
include: [backstage.yaml]
tenants: [{ id: tenant-acme, name: ACME }]
prices:
  models:
    - { provider: openai, model: gpt-4o, from: 2026-01-01, input_per_mtok: 2.50, output_per_mtok: 10.00 }
`;

const cli = captureCli('tally-backstage-', async (d) => {
  await writeFile(path.join(d, 'tally.yaml'), MAIN);
});

const include = () => path.join(cli.dir, 'backstage.yaml');
const importFrom = (catalog: string, ...extra: string[]) =>
  main([
    'import',
    'backstage',
    path.join(FIXTURES, catalog),
    '--out',
    include(),
    '--config',
    path.join(cli.dir, 'tally.yaml'),
    ...extra,
  ]);

describe('tally import backstage', () => {
  it('lists invalid entities with file, document and path, and writes nothing without --skip-invalid', async () => {
    expect(await importFrom('catalog', '--date', '2026-10-01')).toBe(2);
    const invalid = path.join(FIXTURES, 'catalog', 'invalid.yaml');
    expect(cli.err).toContain(
      `${invalid}, document 0, metadata.name: "invalid component" is not a valid entity name`,
    );
    expect(cli.err).toContain(
      `${invalid}, document 1, spec.owner: user:guest is a user: tally charges teams`,
    );
    expect(cli.err.match(/, document \d+, /g)).toHaveLength(2);
    await expect(readFile(include())).rejects.toThrow(/ENOENT/);
  });

  it('maps Groups to teams (cost center from the nearest annotated ancestor), Components, Systems and Resources to applications, annotations to identities', async () => {
    expect(await importFrom('catalog', '--date', '2026-10-01', '--skip-invalid')).toBe(0);
    const doc = YAML.parse(await readFile(include(), 'utf8'));
    expect(doc.cost_centers).toEqual([
      { id: 'cc-boxoffice', name: 'cc-boxoffice' },
      { id: 'cc-infra', name: 'cc-infra' },
    ]);
    const team = (id: string) => doc.teams.find((t: { id: string }) => t.id === id);
    expect(team('team-a')).toEqual({ id: 'team-a', name: 'team-a', cost_center: 'cc-infra' });
    expect(team('team-c').cost_center).toBe('cc-boxoffice');
    expect(team('backstage').name).toBe('Backstage');
    expect(doc.teams.map((t: { id: string }) => t.id)).not.toContain('breanna.davison');
    expect(doc.applications.map((a: { id: string }) => a.id)).toEqual([
      'artist-engagement-portal',
      'artist-lookup',
      'artists-db',
      'playback-order',
    ]);
    expect(doc.applications.find((a: { id: string }) => a.id === 'artist-lookup').owner).toEqual([
      { team: 'team-a' },
    ]);
    expect(doc.identities).toEqual([
      {
        id: 'nhi-artist-lookup',
        kind: 'api_key',
        application: 'artist-lookup',
        environment: 'production',
        models: ['gpt-4o*', 'text-embedding-3-*'],
        match: [
          { api_key: '9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab' },
          { service: 'artist-lookup' },
        ],
      },
      {
        id: 'nhi-playback-order',
        kind: 'agent',
        application: 'playback-order',
        environment: 'experimentation',
        tenants: ['tenant-acme'],
        match: [{ agent: 'playback-agent' }],
      },
    ]);
    expect(cli.out).toContain('+ application artist-lookup (Component, owner team-a)');
  });

  it('re-running on an unchanged catalog changes nothing; a changed one appends what a reviewer expects', async () => {
    await importFrom('catalog', '--date', '2026-10-01', '--skip-invalid');
    const first = await readFile(include(), 'utf8');
    cli.out = '';
    expect(await importFrom('catalog', '--date', '2026-11-20', '--skip-invalid')).toBe(0);
    expect(cli.out).toContain('no changes');
    expect(await readFile(include(), 'utf8')).toBe(first);

    cli.out = '';
    expect(await importFrom('changed', '--date', '2026-11-20')).toBe(0);
    expect(cli.out).toContain('~ application artist-lookup: owner team-a → team-b from 2026-11-15');
    expect(cli.out).toContain('- application playback-order: no longer in the catalog, retired 2026-11-20');
    const doc = YAML.parse(await readFile(include(), 'utf8'));
    const app = (id: string) => doc.applications.find((a: { id: string }) => a.id === id);
    // The past stays as it was: the first entry is closed, not rewritten.
    expect(app('artist-lookup').owner).toEqual([
      { team: 'team-a', until: '2026-11-15' },
      { team: 'team-b', from: '2026-11-15' },
    ]);
    expect(app('playback-order').retired).toBe('2026-11-20');
    // The identity of a retired application stays, so its past events keep their owner.
    expect(doc.identities.map((i: { id: string }) => i.id)).toContain('nhi-playback-order');
  });

  it('refuses a raw key in an annotation and never writes it', async () => {
    const catalog = path.join(cli.dir, 'raw');
    await cp(path.join(FIXTURES, 'changed'), catalog, { recursive: true });
    const file = path.join(catalog, 'components.yaml');
    const raw = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace(
        '9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab',
        raw,
      ),
    );
    expect(
      await main([
        'import',
        'backstage',
        catalog,
        '--out',
        include(),
        '--config',
        path.join(cli.dir, 'tally.yaml'),
        '--skip-invalid',
      ]),
    ).toBe(0);
    expect(cli.err).toContain('holds a raw key');
    expect(cli.err).not.toContain(raw);
    expect(await readFile(include(), 'utf8')).not.toContain(raw);
  });

  it('the include attributes spend by the owner at the time: team-a before the change, team-b after', async () => {
    await importFrom('catalog', '--date', '2026-10-01', '--skip-invalid');
    await importFrom('changed', '--date', '2026-11-20');
    const key = '9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab';
    const event = (id: string, time: string) =>
      JSON.stringify({
        id,
        source: 'gw',
        time,
        provider: 'openai',
        model: 'gpt-4o',
        operation: 'chat',
        input_tokens: 1_000_000,
        output_tokens: 0,
        api_key: key,
      });
    await writeFile(
      path.join(cli.dir, 'events.jsonl'),
      `${event('a', '2026-11-10T10:00:00Z')}\n${event('b', '2026-11-16T10:00:00Z')}\n`,
    );
    const cfg = ['--config', path.join(cli.dir, 'tally.yaml')];
    expect(await main(['ingest', path.join(cli.dir, 'events.jsonl'), ...cfg])).toBe(0);
    cli.out = '';
    expect(
      await main(['statement', '--period', '2026-11', '--level', 'team', '--format', 'json', ...cfg]),
    ).toBe(0);
    const lines = JSON.parse(cli.out).lines as { team: string; effective_cost: string }[];
    // 1M input tokens at $2.50/M = $2.50 each side of 2026-11-15.
    const byTeam = Object.fromEntries(lines.map((l) => [l.team, l.effective_cost]));
    expect(Number(byTeam['team-a'])).toBe(2.5);
    expect(Number(byTeam['team-b'])).toBe(2.5);
  });
});
