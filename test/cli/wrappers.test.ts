// Wrapper spans through the command line (SPEC §3.2, docs/producers.md): the
// OpenTelemetry LangChain instrumentation's `chat` span above the openai-v2
// instrumentation's, each span in a file of its own, in either order, on
// both stores. The call is priced once; the wrapper is shown, not priced.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureCli } from '../setup/cli-capture.js';
import { ADAPTERS } from '../store/adapters.js';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'otlp', 'langchain-over-openai-v2.jsonl');
const TRACE = '5b8aa5a2d2c872e8321cf37308d69df2';

const CONFIG = `
cost_centers: [{ id: cc-a, name: A }]
teams: [{ id: team-a, name: Team A, cost_center: cc-a }]
applications: [{ id: app-planner, name: Planner, owner: [{ team: team-a, from: 2026-01-01 }] }]
identities:
  - { id: nhi-planner, kind: service_account, application: app-planner, environment: production, match: [{ service: travel-planner }] }
`;

const cli = captureCli('tally-wrappers-', async (d) => {
  await writeFile(path.join(d, 'tally.yaml'), CONFIG);
});

describe.each(ADAPTERS)('$name store', (adapter) => {
  let store = '';
  const run = (...args: string[]) =>
    main([...args, '--config', path.join(cli.dir, 'tally.yaml'), '--store', store]);

  async function json(...args: string[]): Promise<Record<string, unknown>> {
    cli.out = '';
    expect(await run(...args, '--format', 'json')).toBe(0);
    return JSON.parse(cli.out) as Record<string, unknown>;
  }

  it.each([
    ['children first', (r: string[]) => r],
    ['parents first', (r: string[]) => [...r].reverse()],
  ])('prices the call once, spans arriving %s, each in a file of its own', async (_, order) => {
    store = adapter.url(cli.dir);
    const requests = order((await readFile(FIXTURE, 'utf8')).trim().split('\n'));
    for (const [i, r] of requests.entries()) {
      await writeFile(path.join(cli.dir, `request-${i}.json`), r);
      expect(await run('ingest', path.join(cli.dir, `request-${i}.json`))).toBe(0);
    }
    const st = (await json('statement', '--period', '2026-10', '--level', 'line')) as {
      totals: { effective_cost: string };
      lines: Array<Record<string, unknown>>;
    };
    // gpt-3.5-turbo-0125 at list price: 24 × $0.50 + 7 × $1.50 per million = $0.0000225, once.
    expect(st.totals.effective_cost).toBe('0.0000225');
    expect(
      st.lines.map((l) => [l.category, l.events, l.input_tokens, l.output_tokens, l.effective_cost]).sort(),
    ).toEqual([
      ['inference', 1, 24, 7, '0.0000225'],
      ['orchestration', 1, 24, 7, '0.00'],
    ]);

    const x = (await json('explain', `${TRACE}:bd2a2b4c7e1f9a02`)) as {
      event: Record<string, unknown>;
      wrapper: { below: string } | null;
      price: { effective_cost: string };
    };
    expect(x.event).toMatchObject({ operation: 'chat', input_tokens: 24, output_tokens: 7 });
    expect(x.wrapper).toEqual({ below: '051581bf3cb55c13' });
    expect(x.price.effective_cost).toBe('0.00');
    cli.out = '';
    expect(await run('explain', `${TRACE}:bd2a2b4c7e1f9a02`)).toBe(0);
    expect(cli.out).toContain('Wrapper: span 051581bf3cb55c13 below it carries tokens too');
  });
});
