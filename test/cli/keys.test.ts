// LiteLLM keys registered as LiteLLM shows them (SPEC §2, §3.1): the 64-hex
// SHA-256 is kept whole at ingestion, a registry selector matches it whole
// or by a prefix of at least 16 hex digits, through every command; a
// selector that matches nothing while unknown keys come in is named by
// `tally ingest` and `tally posture`; allowlists compare case-insensitively.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureCli } from '../setup/cli-capture.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const KEY_A = 'sk-litellm-aaaa1111bbbb2222cccc';
const KEY_B = 'sk-litellm-dddd3333eeee4444ffff';
const KEY_C = 'sk-litellm-gggg5555hhhh6666iiii';
const HASH_A = sha(KEY_A);
const HASH_B = sha(KEY_B);
const HASH_C = sha(KEY_C);
/** HASH_C's first 16 digits with the last one changed: a mis-pasted selector. */
const TYPO = HASH_C.slice(0, 15) + (HASH_C[15] === '0' ? '1' : '0');

const cli = captureCli('tally-keys-');

const config = (selectors: { whole: string; prefix: string; typo: string }) => `
store: ./tally.duckdb
cost_centers: [{ id: cc-a, name: A }]
teams:
  - { id: team-a, name: A, cost_center: cc-a }
  - { id: team-b, name: B, cost_center: cc-a }
applications:
  - { id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-b, name: B, owner: [{ team: team-b, from: 2026-01-01 }] }
identities:
  - { id: nhi-whole, kind: api_key, application: app-a, models: ["GPT-4o*"], match: [{ api_key: "${selectors.whole}" }] }
  - { id: nhi-prefix, kind: api_key, application: app-b, models: ["GPT-4O"], match: [{ api_key: "${selectors.prefix}" }] }
  - { id: nhi-typo, kind: api_key, application: app-b, match: [{ api_key: "${selectors.typo}" }] }
prices:
  models:
    - { provider: openai, model: gpt-4o, from: 2026-01-01, input_per_mtok: 2.50, output_per_mtok: 10.00 }
    - { provider: openai, model: gpt-4o-mini, from: 2026-01-01, input_per_mtok: 0.15, output_per_mtok: 0.60 }
`;

/** A LiteLLM_SpendLogs row as the `/spend/logs` API returns it (api_key: the key's SHA-256). */
const row = (id: string, apiKey: string, model: string, prompt: number, completion: number) =>
  JSON.stringify({
    request_id: id,
    call_type: 'acompletion',
    api_key: apiKey,
    spend: 0,
    prompt_tokens: prompt,
    completion_tokens: completion,
    startTime: '2026-10-02T10:00:00Z',
    endTime: '2026-10-02T10:00:01Z',
    model,
    custom_llm_provider: 'openai',
    status: 'success',
    metadata: {},
  });

const ROWS = [
  row('r1', HASH_A.toUpperCase(), 'gpt-4o', 1000, 200), // 1000 × 2.50 + 200 × 10.00 per M = 0.0045
  row('r2', HASH_B, 'gpt-4o', 2000, 100), // 0.005 + 0.001 = 0.006
  row('r3', HASH_B, 'gpt-4o-mini', 10_000, 1000), // 0.0015 + 0.0006 = 0.0021, outside ["GPT-4O"]
  row('r4', HASH_C, 'gpt-4o', 4000, 0), // 0.01, nobody's
];

async function run(...args: string[]): Promise<number> {
  cli.out = '';
  return main([...args, '--config', path.join(cli.dir, 'tally.yaml')]);
}

async function setUp(): Promise<void> {
  await writeFile(
    path.join(cli.dir, 'tally.yaml'),
    config({ whole: HASH_A.toUpperCase(), prefix: HASH_B.slice(0, 20), typo: TYPO }),
  );
  await writeFile(path.join(cli.dir, 'spend.ndjson'), `${ROWS.join('\n')}\n`);
  expect(await run('ingest', path.join(cli.dir, 'spend.ndjson'))).toBe(0);
}

interface Line {
  team: string | null;
  status: string;
  reason: string | null;
  effective_cost: string;
  events: number;
}

describe('LiteLLM keys as LiteLLM shows them', () => {
  it('attributes by the whole hash or a prefix of it, case aside, to the cent of the worked amounts', async () => {
    await setUp();
    expect(await run('statement', '--period', '2026-10', '--format', 'json')).toBe(0);
    const lines = (JSON.parse(cli.out) as { lines: Line[] }).lines.map((l) => ({
      team: l.team,
      status: l.status,
      reason: l.reason,
      cost: l.effective_cost,
      events: l.events,
    }));
    expect(lines).toEqual(
      expect.arrayContaining([
        { team: 'team-a', status: 'attributed', reason: null, cost: '0.0045', events: 1 },
        { team: 'team-b', status: 'attributed', reason: null, cost: '0.006', events: 1 },
        { team: 'team-b', status: 'disputed', reason: 'unauthorized_model', cost: '0.0021', events: 1 },
        { team: null, status: 'unattributed', reason: 'unknown_identity', cost: '0.01', events: 1 },
      ]),
    );
    expect(lines).toHaveLength(4);
  });

  it('ingest warns that a selector matched nothing while an unknown key came in, both in full', async () => {
    await setUp();
    expect(cli.err).toContain(`warning: nhi-typo: selector api_key:${TYPO} matched no event`);
    expect(cli.err).toContain(`api_key:${HASH_C}`);
    expect(cli.err).not.toMatch(/nhi-whole|nhi-prefix/);
  });

  it('posture names the unmatched selector and the unknown key in full', async () => {
    await setUp();
    expect(await run('posture', '--period', '2026-10', '--format', 'json')).toBe(0);
    const findings = (JSON.parse(cli.out) as { findings: Array<Record<string, unknown>> }).findings;
    const unmatched = findings.filter((f) => f.kind === 'unmatched_selector');
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]).toMatchObject({
      subject: 'nhi-typo',
      severity: 'high',
      events: 1,
      figures: { selector: `api_key:${TYPO}`, unknown_callers: 1, unknown_seen: `api_key:${HASH_C}` },
    });
    const unregistered = findings.find((f) => f.kind === 'unregistered_identity');
    expect(unregistered?.subject).toBe(`api_key:${HASH_C}`);
  });

  it('no warning and no finding once the selector is corrected', async () => {
    await setUp();
    await writeFile(
      path.join(cli.dir, 'tally.yaml'),
      config({ whole: HASH_A, prefix: HASH_B.slice(0, 20), typo: HASH_C.slice(0, 16) }),
    );
    cli.err = '';
    expect(await run('ingest', path.join(cli.dir, 'spend.ndjson'))).toBe(0);
    expect(cli.err).not.toContain('warning');
    expect(await run('posture', '--period', '2026-10', '--format', 'json')).toBe(0);
    expect(cli.out).not.toContain('unmatched_selector');
  });

  it('replay of a prefix-selected identity reads its events from the store', async () => {
    await setUp();
    expect(
      await run(
        'replay',
        '--from',
        '2026-10-01',
        '--to',
        '2026-11-01',
        '--identity',
        'nhi-prefix',
        '--format',
        'json',
      ),
    ).toBe(0);
    // The store's query selects by the prefix (an equality would find nothing): r2 and r3.
    expect(cli.out).toContain('"r2"');
    expect(cli.out).toContain('"r3"');
    expect(cli.out).not.toContain('"r1"');
    expect(cli.out).not.toContain('"r4"');
    const totals = (JSON.parse(cli.out) as { totals: Record<string, unknown> }).totals;
    expect(totals).toMatchObject({ events: 2, effective_cost: '0.0081', disputed_cost: '0.0021' });
  });

  it('signals name the unknown key in full (S03) and the model outside the allowlist (S05)', async () => {
    await setUp();
    expect(await run('signals', '--from', '2026-10-01', '--to', '2026-11-01', '--format', 'json')).toBe(0);
    const signals = JSON.parse(cli.out) as Array<{ rule: string; identity: string }>;
    expect(signals.filter((s) => s.rule === 'S03').map((s) => s.identity)).toEqual([`api_key:${HASH_C}`]);
    expect(signals.filter((s) => s.rule === 'S05').map((s) => s.identity)).toEqual(['nhi-prefix']);
    expect(await run('signals', '--from', '2026-10-01', '--to', '2026-11-01')).toBe(0);
    expect(cli.out).toContain(`api_key:${HASH_C} `);
  });
});

describe('api_key selector values', () => {
  it.each([
    [KEY_A, /raw key/],
    [`Bearer ${KEY_A}`, /raw key/],
    ['0123456789abcde', /15 hex digits: a key hash prefix needs at least 16/],
    [`${HASH_A}0`, /65 hex digits: a key's SHA-256 has 64/],
  ])('refuses %s in tally.yaml, naming where, never echoing a key', async (value, problem) => {
    await writeFile(path.join(cli.dir, 'tally.yaml'), config({ whole: value, prefix: HASH_B, typo: HASH_C }));
    expect(await run('posture', '--format', 'json')).toBe(2);
    expect(cli.err).toMatch(problem);
    expect(cli.err).toContain('identities[0].match[0].api_key');
    expect(cli.err).not.toContain(KEY_A);
  });
});
