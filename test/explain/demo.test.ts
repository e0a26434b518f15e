// `tally explain` on the demo month: every event's explained cost, summed by
// the line it names, is the statement to the last digit; and a team lead's
// question about an agent's model call is answered through the CLI and the API.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/core/config.js';
import type { UsageEvent } from '../../src/core/event.js';
import { type ExplanationJson, explainEvent } from '../../src/core/explain.js';
import { parseMoney } from '../../src/core/money.js';
import { PriceBook } from '../../src/core/pricing.js';
import { Registry } from '../../src/core/registry.js';
import { KEY_FIELDS } from '../../src/core/statement.js';
import type { DemoFiles } from '../../src/demo/index.js';
import { createApp } from '../../src/server/app.js';
import { ingestFile } from '../../src/service/ingest.js';
import { computeStatement } from '../../src/service/statement.js';
import { openStore } from '../../src/store/open.js';
import type { Store, TraceSpan } from '../../src/store/store.js';
import { demo, removeTempDirs, tempDir } from '../demo/helpers.js';
import { OCT } from '../statement/helpers.js';

let files: DemoFiles;
let storePath: string;
let store: Store;
let config: Config;
let events: UsageEvent[];

beforeAll(async () => {
  files = await demo(4_000, 7);
  config = (await loadConfig(files.config)).config;
  storePath = path.join(tempDir('explain'), 'tally.duckdb');
  store = await openStore(storePath);
  for (const f of files.files)
    await ingestFile(store, f.path, { format: f.format, skipInvalid: false, now: Date.UTC(2026, 10, 2) });
  events = await store.eventsInWindow({ from: OCT.start, to: OCT.end });
}, 120_000);

afterAll(async () => {
  await store?.close();
  removeTempDirs();
});

const keyOf = (l: Record<string, unknown>) => KEY_FIELDS.map((f) => l[f] ?? '').join('\u0000');

/** A demo model call made by an agent on behalf of an application, after the support bot changed hands. */
function agentCall(): UsageEvent {
  const e = events.find(
    (x) =>
      x.service === 'agent-platform' &&
      x.parent_span_id !== null &&
      x.input_tokens > 0 &&
      x.time > Date.UTC(2026, 9, 16) &&
      x.model !== null,
  );
  if (!e) throw new Error('the demo has no agent model call');
  return e;
}

describe('tally explain on the demo month', () => {
  it('sums, over every event of the month by the line its explanation names, to the statement exactly', async () => {
    const spans = new Map<string, TraceSpan[]>();
    const traced = [...new Set(events.flatMap((e) => (e.trace_id ? [e.trace_id] : [])))];
    for (const s of await store.traceSpans(traced))
      spans.set(s.trace_id, [...(spans.get(s.trace_id) ?? []), s]);
    const registry = new Registry(config);
    const prices = new PriceBook(config.prices);
    const sums = new Map<string, bigint>();
    const counts = new Map<string, number>();
    const weight = (a: string | undefined) => {
      const [p = '1', q = '1'] = (a ?? '1').split('/');
      return Number(p) / Number(q);
    };
    for (const event of events) {
      const { charge } = explainEvent({
        event,
        spans: spans.get(event.trace_id ?? '') ?? [],
        config,
        registry,
        prices,
      });
      const k = keyOf(charge as unknown as Record<string, unknown>);
      sums.set(k, (sums.get(k) ?? 0n) + charge.effective_cost);
      counts.set(k, (counts.get(k) ?? 0) + weight(event.adjusted_count));
    }
    const { statement } = await computeStatement(store, config, OCT);
    const usage = statement.lines.filter((l) => l.pool === null);
    expect(usage.length).toBeGreaterThan(50);
    // A line counts each event once, or by its adjusted count where it was sampled (SPEC §11, rounded).
    expect(usage.some((l) => l.sample)).toBe(true);
    for (const l of usage)
      expect(Math.round(counts.get(keyOf(l as never)) ?? 0), keyOf(l as never)).toBe(l.events);
    for (const l of usage)
      expect(sums.get(keyOf(l as unknown as Record<string, unknown>)), keyOf(l as never)).toBe(
        l.effective_cost,
      );
    expect(sums.size).toBe(usage.length);
  });

  it('answers for an agent’s model call through the CLI: invoker path, owner chain, components that add up', async () => {
    const e = agentCall();
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    const code = await main([
      'explain',
      e.id,
      '--source',
      e.source,
      '--format',
      'json',
      '--config',
      files.config,
      '--store',
      storePath,
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const x = JSON.parse(out) as ExplanationJson;
    expect(x.identity.shared).toBe(true);
    expect(x.invoker.rollup).toBe('invoker');
    const payer = x.invoker.path.find((s) => s.can_pay);
    expect(payer?.identity).toBe(x.invoker.payer);
    expect(x.owner.identity).toBe(x.invoker.payer);
    expect(x.owner.owners.filter((o) => o.in_effect)).toHaveLength(1);
    expect(x.owner.team).toBe(x.owner.owners.find((o) => o.in_effect)?.team);
    // Σ quantity × rate = before the discount; less the discount = token cost; plus unit prices = the event's cost.
    const m = parseMoney;
    const p = x.price;
    expect(p.components.length).toBeGreaterThan(0);
    for (const c of p.components)
      expect(m(c.amount) * 1_000_000n).toBe(
        BigInt(c.quantity) * m(c.rate) * (c.rate_unit === 'per_mtok' ? 1n : 1_000_000n),
      );
    expect(p.components.reduce((a, c) => a + m(c.amount), 0n)).toBe(m(p.token_cost_before_discount));
    expect(m(p.token_cost_before_discount) - m(p.discount_amount)).toBe(m(p.token_cost));
    expect(m(p.token_cost) + m(p.unit_cost)).toBe(m(p.effective_cost ?? ''));
    expect(p.effective_cost).toBe(x.line?.event_effective_cost);
  });

  it('serves a support bot call to the team that owned the bot at the time, and 404 to the team after', async () => {
    const tokens = new Map(
      readFileSync(path.join(path.dirname(files.config), 'tokens.txt'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split('\t') as [string, string]),
    );
    const app = createApp({ store, config, webDir: tempDir('web') });
    const get = (e: UsageEvent | undefined, token: string | undefined) =>
      app.request(`/v1/explain?id=${encodeURIComponent(e?.id ?? '')}&source=${e?.source}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    // app-support-bot passed from team-cx to team-search on 2026-10-15; the demo's team token is team-search's.
    const search = tokens.get('team:team-search');
    const after = events.find((e) => e.service === 'support-bot' && e.time >= Date.UTC(2026, 9, 15));
    const before = events.find((e) => e.service === 'support-bot' && e.time < Date.UTC(2026, 9, 15));
    const asAdmin = await (await get(after, tokens.get('admin'))).json();
    expect(asAdmin.owner).toMatchObject({ application: 'app-support-bot', team: 'team-search' });
    const asTeam = await get(after, search);
    expect(asTeam.status).toBe(200);
    expect(await asTeam.json()).toEqual(asAdmin);
    expect((await (await get(before, tokens.get('finance'))).json()).owner.team).toBe('team-cx');
    expect((await get(before, search)).status).toBe(404);
  });
});
