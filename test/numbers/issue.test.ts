// Issuing (SPEC §5.3): no identical re-issue; late data makes the statement say it differs.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatMoney } from '../../src/core/money.js';
import { statementJson } from '../../src/core/statement.js';
import { renderTable } from '../../src/export/table.js';
import { issueStatement } from '../../src/service/issue.js';
import { captureCli } from '../setup/cli-capture.js';
import { BASE, ev, OCT, type Scenario, scenario } from '../statement/helpers.js';

const OCTOBER = { ...OCT, label: '2026-10' };

describe('issue', () => {
  let s: Scenario | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('creates no new version for an identical statement, and flags late data until it is issued again', async () => {
    s = await scenario(BASE, [
      [ev('a', '2026-10-05T00:00:00Z', { api_key: 'key-one', input_tokens: 1_000_000 })],
    ]);
    const first = await issueStatement(s.store, '2026-10', (await s.compute({}, OCTOBER)).statement, 1);
    expect([first.version, first.created]).toEqual([1, true]);
    const again = await issueStatement(s.store, '2026-10', (await s.compute({}, OCTOBER)).statement, 2);
    expect([again.version, again.created, again.contentSha256]).toEqual([1, false, first.contentSha256]);

    // an event for another month moves the audit head but not October's statement
    await s.store.ingest('november', [
      [ev('n', '2026-11-03T00:00:00Z', { api_key: 'key-one', input_tokens: 7 })],
    ]);
    const other = await s.compute({}, OCTOBER);
    expect(other.statement.differs_from_issued).toBeNull();
    expect((await issueStatement(s.store, '2026-10', other.statement, 3)).created).toBe(false);

    // late data for October: $2.00 more (svc-two, team-b)
    await s.store.ingest('late', [
      [ev('late', '2026-10-30T00:00:00Z', { service: 'svc-two', input_tokens: 2_000_000 })],
    ]);
    const late = await s.compute({}, OCTOBER);
    expect(late.statement.differs_from_issued).toMatchObject({ version: 1 });
    expect(formatMoney(late.statement.differs_from_issued?.effective_cost_delta ?? 0n)).toBe('2.00');
    expect((statementJson(late.statement) as { differs_from_issued: unknown }).differs_from_issued).toEqual({
      version: 1,
      effective_cost_delta: '2.00',
    });
    expect(renderTable(late.statement)).toMatch(
      /^DIFFERS FROM ISSUED +v1: effective \+2\.00 since it was issued/m,
    );

    // the restatement is issued: v2, and the statement no longer differs
    const restated = await issueStatement(s.store, '2026-10', late.statement, 4);
    expect([restated.version, restated.created]).toEqual([2, true]);
    expect((await s.compute({}, OCTOBER)).statement.differs_from_issued).toBeNull();
  });
});

describe('the command line', () => {
  const cli = captureCli('tally-numbers-');

  const CONFIG = `
store: ./tally.duckdb
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: A, cost_center: cc-a }]
applications: [{ id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-a, kind: api_key, application: app-a, environment: production, match: [{ api_key: k1 }] }
prices:
  models:
    - { provider: acme, model: m1, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
`;
  const event = (id: string, time: string, tokens: number) =>
    JSON.stringify({
      id,
      source: 'gw',
      time,
      provider: 'acme',
      model: 'm1',
      operation: 'chat',
      input_tokens: tokens,
      output_tokens: 0,
      api_key: 'k1',
    });
  const run = (...args: string[]) => main([...args, '--config', path.join(cli.dir, 'tally.yaml')]);

  it('says when an issue is identical, and when late data makes the period differ', async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
    await writeFile(path.join(cli.dir, 'a.jsonl'), `${event('e1', '2026-10-02T10:00:00Z', 1_000_000)}\n`);
    expect(await run('ingest', path.join(cli.dir, 'a.jsonl'))).toBe(0);
    expect(await run('statement', '--period', '2026-10', '--issue')).toBe(0);
    expect(cli.err).toMatch(/issued statement 2026-10 v1/);
    cli.err = '';
    expect(await run('statement', '--period', '2026-10', '--issue')).toBe(0);
    expect(cli.err).toMatch(/statement 2026-10 is identical to issued v1 .*: no new version/);
    await writeFile(path.join(cli.dir, 'late.jsonl'), `${event('e2', '2026-10-20T10:00:00Z', 500_000)}\n`);
    expect(await run('ingest', path.join(cli.dir, 'late.jsonl'))).toBe(0);
    cli.out = '';
    expect(await run('statement', '--period', '2026-10')).toBe(0);
    // 1,000,000 + 500,000 input tokens at $1 per million: 1.50, issued 1.00
    expect(cli.out).toMatch(/^effective +1\.50$/m);
    expect(cli.out).toMatch(/^DIFFERS FROM ISSUED +v1: effective \+0\.50/m);
    cli.out = '';
    expect(await run('statement', '--period', '2026-10', '--format', 'json')).toBe(0);
    expect(JSON.parse(cli.out).differs_from_issued).toEqual({ version: 1, effective_cost_delta: '0.50' });
  });

  it('issues a restatement with a corrected configuration as the next version', async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
    await writeFile(path.join(cli.dir, 'a.jsonl'), `${event('e1', '2026-10-02T10:00:00Z', 1_000_000)}\n`);
    expect(await run('ingest', path.join(cli.dir, 'a.jsonl'))).toBe(0);
    expect(await run('statement', '--period', '2026-10', '--issue')).toBe(0);
    // the corrected price: $3 per million input tokens → 3.00 instead of 1.00
    await writeFile(
      path.join(cli.dir, 'new.yaml'),
      CONFIG.replace('input_per_mtok: 1.00', 'input_per_mtok: 3.00'),
    );
    cli.err = '';
    expect(
      await main([
        'restate',
        '--period',
        '2026-10',
        '--config',
        path.join(cli.dir, 'new.yaml'),
        '--store',
        path.join(cli.dir, 'tally.duckdb'),
        '--issue',
      ]),
    ).toBe(0);
    expect(cli.err).toMatch(/issued the restatement of 2026-10 as v2/);
    expect(cli.out).toMatch(/total effective difference 2\.00/);
  });

  it('exits 1 when a variance is beyond the tolerance, 0 when every bill line matches', async () => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), CONFIG);
    await writeFile(path.join(cli.dir, 'a.jsonl'), `${event('e1', '2026-10-02T10:00:00Z', 1_000_000)}\n`);
    expect(await run('ingest', path.join(cli.dir, 'a.jsonl'))).toBe(0);
    await writeFile(path.join(cli.dir, 'ok.csv'), 'provider,model,amount\nacme,m1,1.01\n');
    // 1.01 against 1.00: 1 %, within the default 2 %
    expect(await run('reconcile', '--period', '2026-10', '--invoice', path.join(cli.dir, 'ok.csv'))).toBe(0);
    await writeFile(path.join(cli.dir, 'bad.csv'), 'provider,model,amount\nacme,m1,1.10\nacme,m9,0.25\n');
    cli.out = '';
    expect(
      await run('reconcile', '--period', '2026-10', '--invoice', path.join(cli.dir, 'bad.csv'), '--true-up'),
    ).toBe(1);
    expect(cli.out).toMatch(/2 row\(s\) beyond the tolerance of 2 %/);
    // 1.35 billed: 0.25 uninstrumented, 1.10 on team-a's line
    expect(cli.out).toMatch(
      /acme \/ - \/ - \/ - \/ - \/ unattributed \(uninstrumented\) +0\.00 +0\.25 +0\.25/,
    );
    expect(cli.out).toMatch(/acme \/ team-a \/ app-a \/ - \/ inference \/ attributed +1\.00 +0\.10 +1\.10/);
  });
});
