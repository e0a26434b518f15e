// `tally statement --control-totals usage` (SPEC §11): an OpenAI usage report
// of the same keys fixes the total, the sampled telemetry only splits it, on
// every adapter.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { statementSpec } from '../../src/cli/commands/statement.js';
import { EVERYTHING } from '../../src/cli/output.js';
import { parseMoney } from '../../src/core/money.js';
import { statementJson } from '../../src/core/statement.js';
import { focusMeta, focusRows, renderFocusCsv } from '../../src/export/focus.js';
import { ingestFile } from '../../src/service/ingest.js';
import { computeStatement } from '../../src/service/statement.js';
import { NOW } from '../ingest/helpers.js';
import { config } from '../statement/helpers.js';
import { ADAPTERS, openFresh } from '../store/adapters.js';
import { OCT } from './world.js';

const CONFIG = config(`
currency: USD
cost_centers: [{ id: cc, name: CC }]
teams:
  - { id: team-a, name: A, cost_center: cc }
  - { id: team-b, name: B, cost_center: cc }
applications:
  - { id: app-a, name: A, owner: [{ team: team-a, from: 2026-01-01 }] }
  - { id: app-b, name: B, owner: [{ team: team-b, from: 2026-01-01 }] }
tenants: [{ id: tenant-x, name: X }, { id: tenant-y, name: Y }]
identities:
  - id: nhi-a
    kind: api_key
    application: app-a
    environment: production
    tenants: ["*"]
    match: [{ api_key: key-a }, { api_key: key_A }]
  - { id: nhi-b, kind: api_key, application: app-b, environment: production, match: [{ api_key: key-b }, { api_key: key_B }] }
prices:
  models:
    - { provider: openai, model: gpt-4o-mini, from: 2026-01-01, input_per_mtok: 1.00, output_per_mtok: 2.00 }
`);

/** Telemetry: team A's gateway samples 10 % of its requests, team B's keeps all. */
function telemetry(): string {
  const rows = [
    ...[1, 2, 3].map((i) => ({
      id: `a${i}`,
      api_key: 'key-a',
      tenant: i === 1 ? 'tenant-x' : 'tenant-y',
      adjusted_count: 10,
      input_tokens: 30_000 * i,
    })),
    ...[1, 2].map((i) => ({ id: `b${i}`, api_key: 'key-b', input_tokens: 200_000 })),
  ];
  return rows
    .map((r) =>
      JSON.stringify({
        source: 'gateway',
        time: '2026-10-05T10:00:00Z',
        provider: 'openai',
        model: 'gpt-4o-mini',
        operation: 'chat',
        ...r,
      }),
    )
    .join('\n');
}

/** The organisation's usage report for the same day: what the provider counted, per key. */
function report(): string {
  const result = (key: string, input: number, requests: number) => ({
    object: 'organization.usage.completions.result',
    input_tokens: input,
    output_tokens: 0,
    input_cached_tokens: 0,
    input_audio_tokens: 0,
    output_audio_tokens: 0,
    num_model_requests: requests,
    project_id: null,
    user_id: null,
    api_key_id: key,
    model: 'gpt-4o-mini',
    batch: null,
    service_tier: null,
  });
  return JSON.stringify({
    object: 'page',
    data: [
      {
        object: 'bucket',
        start_time: Date.UTC(2026, 9, 5) / 1000,
        end_time: Date.UTC(2026, 9, 6) / 1000,
        results: [result('key_A', 1_750_000, 62), result('key_B', 400_000, 2)],
      },
    ],
    has_more: false,
    next_page: null,
  });
}

describe.each(ADAPTERS)('usage reports as control totals ($name)', (adapter) => {
  /** A fresh store holding the sampled telemetry and the usage report. */
  async function reported() {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-control-'));
    const store = await openFresh(adapter, dir);
    await writeFile(path.join(dir, 'events.jsonl'), `${telemetry()}\n`);
    await writeFile(path.join(dir, 'usage.json'), report());
    await ingestFile(store, path.join(dir, 'events.jsonl'), {
      format: 'jsonl',
      skipInvalid: false,
      now: NOW,
    });
    await ingestFile(store, path.join(dir, 'usage.json'), {
      format: 'openai-usage',
      skipInvalid: false,
      now: NOW,
    });
    return { dir, store };
  }

  it("the FOCUS CSV under control totals holds the FOCUS rows of the statement's charges", async () => {
    const { dir, store } = await reported();
    try {
      const window = { ...OCT, label: '2026-10' };
      const full = await computeStatement(store, CONFIG, window, { byDay: true, controlTotals: 'usage' });
      const out = await statementSpec.run(
        { store, config: CONFIG },
        { window, level: 'line', format: 'focus', issue: false, controlTotals: 'usage' },
        EVERYTHING,
        undefined,
      );
      const text = Buffer.concat([...(out.body as Iterable<string | Uint8Array>)].map((c) => Buffer.from(c)));
      const rows = focusRows(full.charges, full.shares, focusMeta(CONFIG, OCT));
      expect(text.toString('utf8')).toBe(renderFocusCsv(rows));
      expect(rows.reduce((t, r) => t + parseMoney(String(r.EffectiveCost)), 0n)).toBe(parseMoney('2.15'));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fix each key’s total; sampled telemetry splits it over tenants; the report is not counted twice', async () => {
    const { dir, store } = await reported();
    try {
      type Json = { totals: Record<string, unknown>; lines: Array<Record<string, unknown>> };
      const plain = statementJson((await computeStatement(store, CONFIG, OCT)).statement) as Json;
      const fixed = statementJson(
        (await computeStatement(store, CONFIG, OCT, { controlTotals: 'usage' })).statement,
      ) as Json;
      // Without control totals the report and the telemetry are both charged: $1.80 + $0.40 + $1.75 + $0.40.
      expect(plain.totals.effective_cost).toBe('4.35');
      // With them: the report's $1.75 (key_A) and $0.40 (key_B), to the unit.
      expect(fixed.totals.effective_cost).toBe('2.15');
      const cost = (team: string, tenant: string | null) =>
        fixed.lines
          .filter((l) => l.team === team && l.tenant === tenant)
          .reduce((t, l) => t + Number(l.effective_cost), 0);
      expect(cost('team-b', null)).toBeCloseTo(0.4, 12);
      // Team A's sampled telemetry splits $1.75 by its estimate: tenant-x 30k of 180k tokens.
      expect(cost('team-a', 'tenant-x') + cost('team-a', 'tenant-y')).toBeCloseTo(1.75, 12);
      expect(cost('team-a', 'tenant-x')).toBeCloseTo((1.75 * 30) / 180, 9);
      expect(fixed.lines.find((l) => l.team === 'team-a')?.estimated).toBe(true);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
