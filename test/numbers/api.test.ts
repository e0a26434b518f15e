// The API's statement and daily payloads (SPEC §4.8, §5.3, §9): the
// statement's cents, disputed money apart, and `differs_from_issued` scoped to a team.
import { afterEach, describe, expect, it } from 'vitest';
import { issueStatement } from '../../src/service/issue.js';
import { computeStatement } from '../../src/service/statement.js';
import { canonical, config, type Harness, harness, postJson, TOKENS } from '../server/helpers.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies under test
type J = Record<string, any>;
const get = async (p: string, token: string): Promise<J> =>
  (await h.call('GET', p, token)).json() as Promise<J>;
const OCTOBER = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1), label: '2026-10' };

describe('statement payloads', () => {
  it('carry the cents, and tell each team only its own change since the issue', async () => {
    h = await harness();
    // svc-a (team-a) $1.00 and svc-b (team-b) $0.50: 1,000,000 and 500,000 input tokens at $1 per million
    expect(
      (
        await postJson(h, '/v1/events', TOKENS.ingest, [
          canonical('a', 'svc-a'),
          canonical('b', 'svc-b', { input_tokens: 500_000 }),
        ])
      ).status,
    ).toBe(200);
    const { statement } = await computeStatement(h.store, config(), OCTOBER);
    await issueStatement(h.store, '2026-10', statement, 1);
    const issued = await get('/v1/statements?period=2026-10', TOKENS.finance);
    expect(issued.differs_from_issued).toBeNull();
    expect(issued.totals.cents.effective_cost).toBe('1.50');
    expect(issued.lines.map((l: J) => l.cents.effective_cost).sort()).toEqual(['0.50', '1.00']);

    // late data for team-b only: $0.25 more
    expect(
      (
        await postJson(h, '/v1/events', TOKENS.ingest, [
          canonical('late', 'svc-b', { input_tokens: 250_000 }),
        ])
      ).status,
    ).toBe(200);
    const org = await get('/v1/statements?period=2026-10', TOKENS.finance);
    expect(org.differs_from_issued).toEqual({ version: 1, effective_cost_delta: '0.25' });
    expect((await get('/v1/statements?period=2026-10', TOKENS.teamB)).differs_from_issued).toEqual({
      version: 1,
      effective_cost_delta: '0.25',
    });
    // team-a's lines did not change: nothing to tell it, and nothing about team-b
    expect((await get('/v1/statements?period=2026-10', TOKENS.teamA)).differs_from_issued).toBeNull();
  });

  it('give unattributed money a daily series of its own, never a team’s', async () => {
    h = await harness();
    // an unknown service is unattributed usage: nobody's spend
    expect(
      (
        await postJson(h, '/v1/events', TOKENS.ingest, [
          canonical('a', 'svc-a'),
          canonical('x', 'svc-unknown', { input_tokens: 2_000_000 }),
        ])
      ).status,
    ).toBe(200);
    const daily = await get('/v1/spend/daily?period=2026-10', TOKENS.finance);
    const byName = Object.fromEntries(daily.series.map((s: J) => [`${s.status}:${s.team}`, s.costs[9]]));
    // the 10th of October: team-a's 1.00 attributed, the unknown service's 2.00 apart
    expect(byName).toEqual({ 'attributed:team-a': '1.00', 'unattributed:null': '2.00' });
    expect(daily.total_cents).toBe('3.00');
  });
});
