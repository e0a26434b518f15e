// GET /v1/breakdown, its FOCUS download, /v1/names, /v1/periods/latest and the
// drill-down's new filters, on the demo month: every breakdown adds up to the
// statement's cents, and a team token sees its own team only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatFixed, parseMoney } from '../../src/core/money.js';
import { createApp } from '../../src/server/app.js';
import { ingestFile } from '../../src/service/ingest.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { demo, removeTempDirs, tempDir } from '../demo/helpers.js';

type Cents = { effective_cost: string; billed_cost: string };
interface Row {
  key: string | null;
  name: string | null;
  effective_cost: string;
  cents: Cents;
  events: number;
  previous_cents: string | null;
  change_percent: string | null;
}
interface Breakdown {
  scope: { team: string } | null;
  totals: { effective_cost: string; cents: Cents; events: number };
  rows: Row[];
  previous: { cents: Cents; change_percent: string | null } | null;
  values: Record<string, Array<string | null>>;
}
interface Line {
  team: string | null;
  tenant: string | null;
  status: string;
  effective_cost: string;
  events: number;
  cents: Cents;
}
interface Statement {
  totals: { effective_cost: string; events: number; cents: Cents };
  lines: Line[];
}

let store: Store;
let app: ReturnType<typeof createApp>;
let tokens: Map<string, string>;
let team: string;

async function get<T>(token: string, p: string): Promise<T> {
  const res = await app.request(p, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const status = async (token: string, p: string) =>
  (await app.request(p, { headers: { authorization: `Bearer ${token}` } })).status;

const sumCents = (xs: Array<{ cents: Cents }>) =>
  xs.reduce((a, x) => a + parseMoney(x.cents.effective_cost), 0n);
const text = (m: bigint) => formatFixed(m, 2);

beforeAll(async () => {
  const files = await demo(3000);
  const { config } = await loadConfig(files.config);
  store = await openStore(path.join(tempDir('breakdown'), 'tally.duckdb'));
  for (const f of files.files)
    await ingestFile(store, f.path, { format: f.format, skipInvalid: false, now: Date.now() });
  app = createApp({ store, config, now: () => Date.UTC(2026, 10, 5) });
  tokens = new Map(
    readFileSync(path.join(path.dirname(files.config), 'tokens.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t') as [string, string]),
  );
  team = [...tokens.keys()].find((k) => k.startsWith('team:'))!.slice('team:'.length);
}, 120_000);

afterAll(async () => {
  await store.close();
  removeTempDirs();
});

describe('GET /v1/breakdown', () => {
  it('by team: each team’s cents are the team-level statement’s, adding up to its total', async () => {
    const fin = tokens.get('finance')!;
    const st = await get<Statement>(fin, '/v1/statements?period=2026-10&level=team');
    const b = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=team');
    expect(b.totals.cents.effective_cost).toBe(st.totals.cents.effective_cost);
    expect(b.totals.effective_cost).toBe(st.totals.effective_cost);
    expect(b.totals.events).toBe(st.totals.events);
    for (const row of b.rows) {
      const lines = st.lines.filter((l) => l.team === row.key);
      expect(row.cents.effective_cost, String(row.key)).toBe(text(sumCents(lines)));
    }
    expect(b.rows.length).toBe(new Set(st.lines.map((l) => l.team)).size);
    const named = b.rows.find((r) => r.key !== null);
    expect(named?.name).toBeTruthy();
    expect(named?.name).not.toBe(named?.key);
  });

  it('by tenant: the tenant level’s cents', async () => {
    const fin = tokens.get('finance')!;
    const st = await get<Statement>(fin, '/v1/statements?period=2026-10&level=tenant');
    const b = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=tenant');
    for (const row of b.rows)
      expect(row.cents.effective_cost).toBe(text(sumCents(st.lines.filter((l) => l.tenant === row.key))));
  });

  it('by model, provider and identity: rows add up to the statement; a filter keeps exactly its row', async () => {
    const fin = tokens.get('finance')!;
    const st = await get<Statement>(fin, '/v1/statements?period=2026-10');
    for (const by of ['model', 'provider', 'identity'] as const) {
      const b = await get<Breakdown>(fin, `/v1/breakdown?period=2026-10&by=${by}`);
      expect(b.rows.length, by).toBeGreaterThan(2);
      expect(text(sumCents(b.rows)), by).toBe(st.totals.cents.effective_cost);
      expect(b.rows.reduce((a, r) => a + r.events, 0)).toBe(st.totals.events);
      // largest first
      const amounts = b.rows.map((r) => parseMoney(r.cents.effective_cost));
      expect([...amounts].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0))).toEqual(amounts);
      const row = b.rows.find((r) => r.key !== null)!;
      const one = await get<Breakdown>(
        fin,
        `/v1/breakdown?period=2026-10&by=status&${by}=${encodeURIComponent(row.key!)}`,
      );
      expect(one.totals.cents.effective_cost).toBe(row.cents.effective_cost);
      expect(one.totals.events).toBe(row.events);
    }
    // the shared pools have no model: `none=model` keeps them, and only them
    const pools = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=category&none=model');
    expect(pools.rows.map((r) => r.key)).toContain('shared');
  });

  it('filters combine, and a status filter gives the statement’s disputed cents', async () => {
    const fin = tokens.get('finance')!;
    const st = await get<Statement>(fin, '/v1/statements?period=2026-10');
    const disputed = st.lines.filter((l) => l.status === 'disputed');
    const b = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=model&status=disputed');
    expect(b.totals.cents.effective_cost).toBe(text(sumCents(disputed)));
    expect(parseMoney(b.totals.effective_cost)).toBeGreaterThan(0n);
    const env = b.values.environment!.find((e) => e !== null)!;
    const both = await get<Breakdown>(
      fin,
      `/v1/breakdown?period=2026-10&by=model&status=disputed&environment=${env}`,
    );
    expect(parseMoney(both.totals.cents.effective_cost)).toBeLessThanOrEqual(
      parseMoney(b.totals.cents.effective_cost),
    );
  });

  it('compares with the previous window: the previous month’s statement, and the change in per cent', async () => {
    const fin = tokens.get('finance')!;
    const sep = await get<Statement>(fin, '/v1/statements?period=2026-09');
    const b = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=team&compare=previous');
    expect(b.previous?.cents.effective_cost).toBe(sep.totals.cents.effective_cost);
    const now = parseMoney(b.totals.cents.effective_cost);
    const before = parseMoney(sep.totals.cents.effective_cost);
    expect(before).toBeGreaterThan(0n);
    const tenths = Number(((now - before) * 1000n) / before);
    expect(Math.abs(Number(b.previous?.change_percent) * 10 - tenths)).toBeLessThanOrEqual(1);
    for (const row of b.rows) {
      const prev = sep.lines.filter((l) => l.team === row.key);
      expect(row.previous_cents).toBe(text(sumCents(prev)));
    }
    // November has its pools only: October is its previous month
    const nov = await get<Breakdown>(fin, '/v1/breakdown?period=2026-11&by=team&compare=previous');
    expect(nov.previous?.cents.effective_cost).toBe(b.totals.cents.effective_cost);
    expect(Number(nov.previous?.change_percent)).toBeLessThan(0);
    // a range compares with as long a window just before it
    const range = await get<Breakdown>(
      fin,
      '/v1/breakdown?from=2026-10-16&to=2026-10-31&by=team&compare=previous',
    );
    const first = await get<Breakdown>(fin, '/v1/breakdown?from=2026-10-01&to=2026-10-16&by=team');
    expect(range.previous?.cents.effective_cost).toBe(first.totals.cents.effective_cost);
  });

  it('a team token gets its own team only, and a 403 for another', async () => {
    const mine = tokens.get(`team:${team}`)!;
    const b = await get<Breakdown>(mine, '/v1/breakdown?period=2026-10&by=team');
    expect(b.scope).toEqual({ team });
    expect(b.rows.map((r) => r.key)).toEqual([team]);
    const st = await get<Statement>(mine, '/v1/statements?period=2026-10');
    expect(b.totals.cents.effective_cost).toBe(st.totals.cents.effective_cost);
    const models = await get<Breakdown>(mine, '/v1/breakdown?period=2026-10&by=model');
    expect(models.totals.cents.effective_cost).toBe(st.totals.cents.effective_cost);
    expect(models.values.team).toEqual([team]);
    const other = (
      await get<Breakdown>(tokens.get('finance')!, '/v1/breakdown?period=2026-10&by=team')
    ).rows.find((r) => r.key !== team && r.key !== null)!.key;
    expect(await status(mine, `/v1/breakdown?period=2026-10&team=${other}`)).toBe(403);
    expect(await status(mine, `/v1/breakdown/focus?period=2026-10&team=${other}`)).toBe(403);
  });

  it('rejects unknown dimensions', async () => {
    const fin = tokens.get('finance')!;
    expect(await status(fin, '/v1/breakdown?period=2026-10&by=colour')).toBe(400);
    expect(await status(fin, '/v1/breakdown?period=2026-10&none=colour')).toBe(400);
    expect(await status(fin, '/v1/breakdown?period=2026-10&model=x&none=model')).toBe(400);
  });
});

describe('GET /v1/breakdown/focus', () => {
  it('is FOCUS CSV whose EffectiveCost adds up to the breakdown it downloads', async () => {
    const fin = tokens.get('finance')!;
    const b = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=provider');
    const provider = b.rows[0]!.key!;
    const res = await app.request(`/v1/breakdown/focus?period=2026-10&provider=${provider}`, {
      headers: { authorization: `Bearer ${fin}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="tally-focus-2026-10\.csv"/);
    const [head, ...rows] = (await res.text()).trim().split('\n');
    const cols = head!.split(',');
    const eff = cols.indexOf('EffectiveCost');
    const prov = cols.indexOf('x_IdentityId');
    expect(eff).toBeGreaterThan(0);
    expect(prov).toBeGreaterThan(0);
    // amounts have no commas; the sum is exact
    const total = rows.reduce((a, r) => a + parseMoney(r.split(',')[eff]!), 0n);
    expect(total).toBe(parseMoney(b.rows[0]!.effective_cost));
  });
});

describe('GET /v1/events filters', () => {
  it('model, provider and none= select exactly the breakdown’s events', async () => {
    const fin = tokens.get('finance')!;
    const b = await get<Breakdown>(fin, '/v1/breakdown?period=2026-10&by=model');
    const row = [...b.rows].reverse().find((r) => r.key !== null && r.events > 0 && r.events < 400)!;
    const page = await get<{
      events: Array<{ model: string; provider: string }>;
      next_cursor: string | null;
    }>(fin, `/v1/events?period=2026-10&limit=1000&model=${encodeURIComponent(row.key!)}`);
    expect(page.next_cursor).toBeNull();
    expect(page.events.length).toBe(row.events);
    expect(new Set(page.events.map((e) => e.model))).toEqual(new Set([row.key]));
    const provider = page.events[0]!.provider;
    const both = await get<{ events: unknown[] }>(
      fin,
      `/v1/events?period=2026-10&limit=1000&model=${encodeURIComponent(row.key!)}&provider=${provider}&none=tenant`,
    );
    const noTenant = await get<Breakdown>(
      fin,
      `/v1/breakdown?period=2026-10&by=model&model=${encodeURIComponent(row.key!)}&provider=${provider}&none=tenant`,
    );
    expect(both.events.length).toBe(noTenant.totals.events);
    expect(await status(fin, '/v1/events?period=2026-10&none=colour')).toBe(400);
  });
});

describe('GET /v1/events from a statement line', () => {
  it('every line of a team drills down to exactly its events, shared agents’ rolled-up work included', async () => {
    const fin = tokens.get('finance')!;
    const st = await get<{ lines: Array<Line & Record<string, string | null>> }>(
      fin,
      '/v1/statements?period=2026-10',
    );
    const lines = st.lines.filter((l) => l.team !== null && l.pool === null);
    expect(lines.length).toBeGreaterThan(5);
    const fields = ['team', 'application', 'tenant', 'environment', 'category'] as const;
    for (const line of lines) {
      const given = fields.filter((f) => line[f] !== null).map((f) => `${f}=${encodeURIComponent(line[f]!)}`);
      const none = fields.filter((f) => line[f] === null && f !== 'category');
      const query = [...given, `status=${line.status}`, ...(none.length ? [`none=${none.join(',')}`] : [])];
      // A sampled event counts its adjusted count (SPEC §11); the line's count is that sum, rounded.
      const weight = (a: string | null) => {
        const [p = '1', q = '1'] = (a ?? '1').split('/');
        return Number(p) / Number(q);
      };
      let events = 0;
      let cursor: string | null = null;
      do {
        const page: { events: Array<{ adjusted_count: string | null }>; next_cursor: string | null } =
          await get(
            fin,
            `/v1/events?period=2026-10&limit=1000&${query.join('&')}${cursor ? `&cursor=${cursor}` : ''}`,
          );
        for (const e of page.events) events += weight(e.adjusted_count);
        cursor = page.next_cursor;
      } while (cursor);
      const same = st.lines.filter((l) => fields.every((f) => l[f] === line[f]) && l.status === line.status);
      expect(Math.round(events), query.join('&')).toBe(same.reduce((n, l) => n + l.events, 0));
    }
  });
});

describe('GET /v1/names and /v1/periods/latest', () => {
  it('names: all for finance; for a team its own team and no other', async () => {
    const all = await get<Record<string, Record<string, string>>>(tokens.get('finance')!, '/v1/names');
    expect(Object.keys(all.team!).length).toBeGreaterThan(2);
    const mine = await get<Record<string, Record<string, string>>>(tokens.get(`team:${team}`)!, '/v1/names');
    expect(Object.keys(mine.team!)).toEqual([team]);
    expect(mine.team![team]).toBe(all.team![team]);
    expect(Object.keys(mine.application!).length).toBeLessThan(Object.keys(all.application!).length);
  });

  it('the latest period is the month of the latest event', async () => {
    const latest = await get<{ period: string; latest_event: string }>(
      tokens.get('finance')!,
      '/v1/periods/latest',
    );
    expect(latest.period).toBe('2026-10');
    expect(latest.latest_event.startsWith('2026-10-')).toBe(true);
  });
});
