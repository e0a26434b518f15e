/**
 * Every view and control of the dashboard in Debian's Chromium, against the
 * real server on the demo month: each view for finance and for a team lead
 * with the API's figures and no other team's, the window (latest month, date
 * range), group-by and filters, sorting, CSV and FOCUS downloads, names with
 * ids on hover, layouts at 1280 and 1440 px, and the loading, empty and error
 * states. One server and one browser for the whole file.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatFixed, parseMoney } from '../../src/core/money.js';
import { precise } from '../../web/src/format.js';
import { hasChromium, PERIOD, startWorld, type World } from './harness.js';

type Cents = { effective_cost: string; billed_cost: string };
interface Breakdown {
  totals: { effective_cost: string; cents: Cents; events: number };
  rows: Array<{ key: string | null; cents: Cents; events: number; change_percent: string | null }>;
  previous: { cents: Cents; change_percent: string | null } | null;
  values: Record<string, Array<string | null>>;
}
interface Statement {
  totals: { effective_cost: string; cents: Cents & Record<string, string>; events: number };
  lines: Array<{ team: string | null; cents: Cents }>;
}
interface Explanation {
  identity: { verdict: string; id: string | null };
  status: string;
  price: { effective_cost: string; components: unknown[] };
  line: { cents: Cents };
}
type Names = Record<'team' | 'application' | 'tenant' | 'cost_center', Record<string, string>>;

function dollars(amount: string | bigint): string {
  const fixed = formatFixed(typeof amount === 'string' ? parseMoney(amount) : amount, 2);
  const neg = fixed.startsWith('-');
  const [whole = '', frac = ''] = fixed.replace('-', '').split('.');
  return `${neg ? '−' : ''}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

/** A CSV as rows of fields (RFC 4180 quoting). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

describe.skipIf(!hasChromium)('dashboard views and controls in Chromium', () => {
  let w: World;
  let names: Names;
  /** The amounts a team lead must never see: the organisation's total and the largest other team's. */
  let foreign: string[];
  let otherTeam: string;

  beforeAll(async () => {
    w = await startWorld(3000);
    names = await w.api<Names>(w.tokens.finance, '/v1/names');
    const org = await w.api<Breakdown>(w.tokens.finance, `/v1/breakdown?period=${PERIOD}&by=team`);
    const other = org.rows.find((r) => r.key !== null && r.key !== w.tokens.teamName)!;
    otherTeam = other.key!;
    foreign = [dollars(org.totals.cents.effective_cost), dollars(other.cents.effective_cost)];
  }, 180_000);

  afterAll(async () => {
    await w?.close();
  });

  async function signIn(token: string, width = 1280): Promise<Page> {
    const page = await w.browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(w.url);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#view[data-route]');
    return page;
  }

  async function go(page: Page, hash: string): Promise<void> {
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
    await page.waitForFunction((h) => document.getElementById('view')?.dataset.route === h, hash);
  }

  /** After a control changed the hash: wait for that route's view. */
  const settled = (page: Page) =>
    page.waitForFunction(() => {
      const v = document.getElementById('view');
      return v?.dataset.route === location.hash && !v.hasAttribute('aria-busy');
    });

  const text = async (page: Page, testId: string) =>
    (await page.getByTestId(testId).first().textContent())?.trim();

  const rowIds = (page: Page, table: string) =>
    page
      .getByTestId(table)
      .locator('tbody tr td:first-child')
      .evaluateAll((tds) =>
        tds.map((td) => (td.querySelector('[data-id]') as HTMLElement | null)?.dataset.id ?? td.textContent),
      );
  const column = (page: Page, table: string, n: number) =>
    page.getByTestId(table).locator(`tbody tr td:nth-child(${n})`).allTextContents();

  test('every view loads for finance and for a team lead, with the API’s figures and no other team’s', async () => {
    for (const role of ['finance', 'team'] as const) {
      const token = w.tokens[role];
      const page = await signIn(token);
      const api = <T>(p: string) => w.api<T>(token, p);
      /** A team lead's page holds none of the organisation's or another team's figures or names. */
      const own = async (view: string) => {
        if (role !== 'team') return;
        const body = (await page.locator('main').textContent()) ?? '';
        for (const amount of foreign) expect(body, view).not.toContain(amount);
        expect(await page.locator(`[data-id="${otherTeam}"]`).count(), view).toBe(0);
        expect(body, view).not.toContain(names.team[otherTeam]!);
      };

      await go(page, `#/overview?period=${PERIOD}`);
      const st = await api<Statement>(`/v1/statements?period=${PERIOD}&level=team`);
      expect(await text(page, 'total-effective'), role).toBe(dollars(st.totals.cents.effective_cost));
      await own('overview');

      await go(page, `#/breakdown?period=${PERIOD}&by=model`);
      const b = await api<Breakdown>(`/v1/breakdown?period=${PERIOD}&by=model`);
      expect(await text(page, 'breakdown-effective'), role).toBe(dollars(b.totals.cents.effective_cost));
      expect(await column(page, 'breakdown-table', 2)).toEqual(
        b.rows.map((r) => dollars(r.cents.effective_cost)),
      );
      await own('breakdown');

      await go(page, `#/statement?period=${PERIOD}`);
      const lines = await api<Statement>(`/v1/statements?period=${PERIOD}`);
      expect(await text(page, 'statement-effective')).toBe(dollars(lines.totals.cents.effective_cost));
      expect(await page.getByTestId('statement-lines').locator('tbody tr').count()).toBe(lines.lines.length);
      await own('statement');

      await go(page, `#/events?period=${PERIOD}`);
      const events = await api<{ events: Array<{ id: string }> }>(`/v1/events?period=${PERIOD}&limit=200`);
      expect(await page.getByTestId('events-table').locator('tbody tr').count()).toBe(events.events.length);
      await own('events');

      await go(page, `#/signals?period=${PERIOD}`);
      const signals = await api<{ signals: unknown[] }>(`/v1/signals?from=${PERIOD}-01&to=2026-11-01`);
      expect(await page.getByTestId('signal').count(), role).toBe(signals.signals.length);
      await own('signals');

      await go(page, `#/budgets?period=${PERIOD}`);
      const budgets = await api<{ budgets: Array<{ id: string; actual_cents: string }> }>(
        `/v1/budgets?period=${PERIOD}`,
      );
      expect(budgets.budgets.length, role).toBeGreaterThan(0);
      for (const bu of budgets.budgets)
        expect(await text(page, `budget-actual-${bu.id}`)).toBe(dollars(bu.actual_cents));
      expect(await page.getByTestId('error').count()).toBe(0);
      await own('budgets');

      await go(page, `#/sampling?period=${PERIOD}`);
      type Plan = { rows: Array<{ id: string; expected_relative_error: number | null }> };
      const asShown = (p: Plan) =>
        p.rows.map((r) =>
          r.expected_relative_error === null ? '—' : `${(r.expected_relative_error * 100).toFixed(2)} %`,
        );
      const plan = await api<Plan>(`/v1/sampling?period=${PERIOD}&rate=0.1&target=0.05`);
      expect(plan.rows.length, role).toBeGreaterThan(0);
      expect(await column(page, 'sampling-table', 5), role).toEqual(asShown(plan));
      await page.getByTestId('sampling-rate').selectOption('0.25');
      await settled(page);
      const quarter = await api<Plan>(`/v1/sampling?period=${PERIOD}&rate=0.25&target=0.05`);
      expect(await column(page, 'sampling-table', 5), role).toEqual(asShown(quarter));
      await own('sampling');

      await go(page, `#/posture?period=${PERIOD}`);
      if (role === 'finance') {
        const posture = await api<{ findings: unknown[] }>(`/v1/posture?period=${PERIOD}`);
        expect(await page.getByTestId('findings').locator('tbody tr').count()).toBe(posture.findings.length);
      } else expect(await page.getByTestId('forbidden').isVisible()).toBe(true);

      await go(page, `#/replay?period=${PERIOD}`);
      expect(await page.locator('form.filters input[name=identity]').count()).toBe(1);

      if (role === 'team') {
        await go(page, `#/breakdown?period=${PERIOD}&by=team&team=${otherTeam}`);
        expect(await page.getByTestId('forbidden').isVisible()).toBe(true);
      }
      await page.close();
    }
  });

  test('opens on the latest month with data, not the current calendar month', async () => {
    const page = await signIn(w.tokens.finance);
    const latest = await w.api<{ period: string }>(w.tokens.finance, '/v1/periods/latest');
    expect(latest.period).toBe(PERIOD);
    expect(await page.locator('h1 .sub').textContent()).toContain(PERIOD);
    expect(await page.locator('#period').inputValue()).toBe(PERIOD);
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=team`);
    expect(await text(page, 'total-effective')).toBe(dollars(st.totals.cents.effective_cost));
    await page.close();
  });

  test('a date range from the header: every view shows the API’s figures for it', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/overview?period=${PERIOD}`);
    await page.locator('#window-kind').selectOption('range');
    await page.locator('#from').fill('2026-10-05');
    await page.locator('#through').fill('2026-10-18');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => location.hash.includes('from=2026-10-05'));
    await settled(page);
    expect(page.url()).toContain('to=2026-10-19');
    expect(await page.locator('h1 .sub').textContent()).toContain('2026-10-05 – 2026-10-18');
    const q = 'from=2026-10-05&to=2026-10-19';
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?${q}&level=team`);
    const month = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=team`);
    expect(st.totals.cents.effective_cost).not.toBe(month.totals.cents.effective_cost);
    expect(await text(page, 'total-effective')).toBe(dollars(st.totals.cents.effective_cost));

    // the range stays when moving to another view
    await page.getByRole('link', { name: 'Breakdown' }).click();
    await settled(page);
    const b = await w.api<Breakdown>(w.tokens.finance, `/v1/breakdown?${q}&by=model`);
    expect(await text(page, 'breakdown-effective')).toBe(dollars(b.totals.cents.effective_cost));
    await page.getByRole('link', { name: 'Statement' }).click();
    await settled(page);
    expect(await text(page, 'statement-effective')).toBe(dollars(st.totals.cents.effective_cost));
    await page.close();
  });

  test('breakdown: group by each dimension and filter on each, with the API’s rows', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/breakdown?period=${PERIOD}`);
    for (const by of ['model', 'provider', 'identity', 'tenant', 'environment', 'category', 'status']) {
      await page.getByTestId('group-by').selectOption(by);
      await settled(page);
      const b = await w.api<Breakdown>(w.tokens.finance, `/v1/breakdown?period=${PERIOD}&by=${by}`);
      expect(b.rows.length, by).toBeGreaterThan(1);
      expect(await rowIds(page, 'breakdown-table'), by).toEqual(
        b.rows.map((r) => r.key ?? `(no ${by === 'identity' ? 'identity (api key)' : by})`),
      );
      expect(await column(page, 'breakdown-table', 2), by).toEqual(
        b.rows.map((r) => dollars(r.cents.effective_cost)),
      );
    }
    await page.getByTestId('group-by').selectOption('team');
    await settled(page);
    const all = await w.api<Breakdown>(w.tokens.finance, `/v1/breakdown?period=${PERIOD}&by=team`);
    for (const d of ['model', 'provider', 'identity', 'tenant', 'environment', 'category', 'status']) {
      const value = all.values[d]!.find((v) => v !== null)!;
      await page.getByTestId(`filter-${d}`).selectOption(value);
      await settled(page);
      const one = await w.api<Breakdown>(
        w.tokens.finance,
        `/v1/breakdown?period=${PERIOD}&by=team&${d}=${encodeURIComponent(value)}`,
      );
      expect(await text(page, 'breakdown-effective'), d).toBe(dollars(one.totals.cents.effective_cost));
      expect(await column(page, 'breakdown-table', 2), d).toEqual(
        one.rows.map((r) => dollars(r.cents.effective_cost)),
      );
      await page.getByTestId(`filter-${d}`).selectOption('*');
      await settled(page);
    }
    // a row drills down to exactly its events
    await go(page, `#/breakdown?period=${PERIOD}&by=model`);
    const models = await w.api<Breakdown>(w.tokens.finance, `/v1/breakdown?period=${PERIOD}&by=model`);
    const i = models.rows.findIndex((r) => r.key !== null && r.events > 0 && r.events < 150);
    await page.getByTestId('breakdown-table').locator('tbody tr').nth(i).getByTestId('drill').click();
    await settled(page);
    expect(await page.getByTestId('events-table').locator('tbody tr').count()).toBe(models.rows[i]!.events);
    await page.close();
  });

  test('tables sort by a click on their header, numbers largest first, a second click reverses', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/breakdown?period=${PERIOD}&by=identity`);
    const b = await w.api<Breakdown>(w.tokens.finance, `/v1/breakdown?period=${PERIOD}&by=identity`);
    const header = (label: string) =>
      page.getByTestId('breakdown-table').locator('thead th', { hasText: new RegExp(`^${label}`) });
    await header('Events').getByRole('button').click();
    expect(await header('Events').getAttribute('aria-sort')).toBe('descending');
    const byEvents = [...b.rows].sort((x, y) => y.events - x.events).map((r) => r.events);
    const shown = async () =>
      (await column(page, 'breakdown-table', 7)).map((t) => Number(t.replace(/,/g, '')));
    expect(await shown()).toEqual(byEvents);
    await header('Events').getByRole('button').click();
    expect(await header('Events').getAttribute('aria-sort')).toBe('ascending');
    expect(await shown()).toEqual([...byEvents].reverse());
    await header('Identity').getByRole('button').click();
    const ids = (await column(page, 'breakdown-table', 1)).map((t) => t.trim());
    expect(ids).toEqual([...ids].sort((x, y) => x.localeCompare(y)));

    await go(page, `#/statement?period=${PERIOD}`);
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}`);
    await page
      .getByTestId('statement-lines')
      .locator('thead th', { hasText: 'Effective' })
      .getByRole('button')
      .click();
    const eff = await page
      .getByTestId('statement-lines')
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => (tr.querySelector('td[data-value]') as HTMLElement | null)?.dataset.value ?? ''),
      );
    const expected = st.lines
      .map((l) => l.cents.effective_cost)
      .sort((x, y) => (parseMoney(y) > parseMoney(x) ? 1 : parseMoney(y) < parseMoney(x) ? -1 : 0));
    expect(eff).toEqual(expected);
    await page.close();
  });

  test('downloads: the CSV is the table on screen, the FOCUS rows add up to the selection', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/breakdown?period=${PERIOD}&by=provider&status=attributed`);
    const b = await w.api<Breakdown>(
      w.tokens.finance,
      `/v1/breakdown?period=${PERIOD}&by=provider&status=attributed`,
    );
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-csv').click(),
    ]);
    expect(csvDownload.suggestedFilename()).toBe('tally-breakdown-provider-2026-10.csv');
    const csv = parseCsv(readFileSync((await csvDownload.path())!, 'utf8'));
    expect(csv[0]!.slice(0, 4)).toEqual(['Provider', 'Provider id', 'Effective', 'Billed']);
    // money without a provider (shared pools) has no id
    expect(csv.slice(1).map((r) => [r[1], r[2]])).toEqual(
      b.rows.map((r) => [r.key ?? '', r.cents.effective_cost]),
    );

    const [focusDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-focus').click(),
    ]);
    expect(focusDownload.suggestedFilename()).toBe('tally-focus-2026-10.csv');
    const focus = parseCsv(readFileSync((await focusDownload.path())!, 'utf8'));
    const head = focus[0]!;
    const eff = head.indexOf('EffectiveCost');
    const status = head.indexOf('x_AttributionStatus');
    expect(eff).toBeGreaterThan(-1);
    const rows = focus.slice(1);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r[status]))).toEqual(new Set(['attributed']));
    expect(rows.reduce((a, r) => a + parseMoney(r[eff]!), 0n)).toBe(parseMoney(b.totals.effective_cost));

    // the statement's CSV: its filtered lines, with ids beside the names
    await go(page, `#/statement?period=${PERIOD}&level=team`);
    const [statementCsv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-csv').click(),
    ]);
    const lines = parseCsv(readFileSync((await statementCsv.path())!, 'utf8'));
    expect(lines[0]).toContain('Team id');
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=team`);
    const effCol = lines[0]!.indexOf('Effective');
    expect(lines.slice(1).map((r) => r[effCol])).toEqual(st.lines.map((l) => l.cents.effective_cost));
    await page.close();
  });

  test('the overview shows the change from the previous month, as the API computes it', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/overview?period=${PERIOD}`);
    const b = await w.api<Breakdown>(
      w.tokens.finance,
      `/v1/breakdown?period=${PERIOD}&by=model&compare=previous`,
    );
    const sep = await w.api<Statement>(w.tokens.finance, '/v1/statements?period=2026-09&level=team');
    expect(b.previous?.cents.effective_cost).toBe(sep.totals.cents.effective_cost);
    const mom = page.getByTestId('mom');
    expect(await mom.getAttribute('data-value')).toBe(b.previous?.change_percent ?? '');
    expect(await mom.textContent()).toContain(`vs 2026-09 (${dollars(sep.totals.cents.effective_cost)})`);
    expect(await mom.textContent()).toMatch(/^[+−]\d+\.\d %/);
    // the top models are the breakdown's
    const first = page.getByTestId('top-models').locator('tbody tr').first();
    const top = b.rows.find((r) => r.key !== null)!;
    expect(await first.locator('[data-id]').getAttribute('data-id')).toBe(top.key);
    await page.close();
  });

  test('names from tally.yaml, with the id on hover', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/overview?period=${PERIOD}`);
    const cells = await page
      .getByTestId('team-table')
      .locator('tbody [data-id]')
      .evaluateAll((els) =>
        els.map((e) => [(e as HTMLElement).dataset.id, e.getAttribute('title'), e.textContent]),
      );
    expect(cells.length).toBeGreaterThan(3);
    for (const [id, title, shown] of cells) {
      expect(title).toBe(id);
      expect(shown).toBe(names.team[id!]);
      expect(shown).not.toBe(id);
    }
    await page.close();
  });

  test('no table overflows its view at 1280 and 1440 px', async () => {
    for (const width of [1280, 1440]) {
      const page = await signIn(w.tokens.finance, width);
      for (const hash of [
        `#/overview?period=${PERIOD}`,
        `#/breakdown?period=${PERIOD}&by=identity`,
        `#/statement?period=${PERIOD}`,
        `#/events?period=${PERIOD}`,
        `#/budgets?period=${PERIOD}`,
        `#/posture?period=${PERIOD}`,
      ]) {
        await go(page, hash);
        const wide = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.table-wrap'))
            .filter((d) => d.scrollWidth > d.clientWidth + 1)
            .map((d) => d.querySelector('table')?.dataset.testid ?? 'table'),
        );
        expect(wide, `${hash} at ${width}`).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
      }
      await page.close();
    }
  });

  test('explain: a drill-down row opens the API’s explanation, for finance and for a team lead', async () => {
    for (const role of ['finance', 'team'] as const) {
      const token = w.tokens[role];
      const page = await signIn(token);
      await go(page, `#/events?period=${PERIOD}&status=attributed`);
      const first = await w.api<{ events: Array<{ id: string; source: string }> }>(
        token,
        `/v1/events?period=${PERIOD}&status=attributed&limit=1`,
      );
      const ev = first.events[0]!;
      const x = await w.api<Explanation>(
        token,
        `/v1/explain?id=${encodeURIComponent(ev.id)}&source=${encodeURIComponent(ev.source)}`,
      );
      const row = page.getByTestId('events-table').locator('tbody tr').first();
      await row.getByTestId('explain').click();
      const panel = page.getByTestId('explain-panel');
      await panel.waitFor();
      expect(await panel.getByTestId('explain-identity').textContent(), role).toBe(
        `${x.identity.verdict}: ${x.identity.id}`,
      );
      expect(await panel.getByTestId('explain-status').textContent()).toBe(x.status);
      expect(await panel.getByTestId('explain-cost').textContent()).toBe(precise(x.price.effective_cost));
      expect(await panel.getByTestId('explain-line-cents').textContent()).toBe(
        dollars(x.line.cents.effective_cost),
      );
      expect(await panel.getByTestId('explain-components').locator('tbody tr').count()).toBe(
        x.price.components.length,
      );
      if (role === 'team') {
        const body = (await page.locator('main').textContent()) ?? '';
        for (const amount of foreign) expect(body).not.toContain(amount);
      }
      // a second click closes it; the CSV leaves it out
      await row.getByTestId('explain').click();
      expect(await page.getByTestId('explain-panel').count()).toBe(0);
      await page.close();
    }
  });

  test('loading, empty and error states say what to do', async () => {
    const page = await signIn(w.tokens.finance);
    // empty: a month without usage points to the latest month with data
    await go(page, '#/overview?period=2027-03');
    expect(await text(page, 'empty')).toContain('No usage in 2027-03');
    await page.getByTestId('latest-link').click();
    await settled(page);
    expect(await page.locator('h1 .sub').textContent()).toContain(PERIOD);
    await go(page, `#/breakdown?period=${PERIOD}&model=no-such-model`);
    expect(await text(page, 'empty')).toContain('Clear a filter or pick another period');

    // error: the server fails; the message says what to do, and Try again recovers
    await page.route('**/v1/breakdown?**', (r) =>
      r.fulfill({
        status: 503,
        contentType: 'application/json',
        body: '{"error":"store_failure","message":"the store is busy"}',
      }),
    );
    await go(page, `#/breakdown?period=${PERIOD}&by=model`);
    expect(await text(page, 'error')).toContain('the store is busy');
    expect(await text(page, 'error')).toContain('Check that the server is running');
    await page.unroute('**/v1/breakdown?**');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByTestId('breakdown-table').waitFor();

    // loading: a slow answer shows what is being loaded
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/v1/budgets?**', async (r) => {
      await held;
      await r.continue();
    });
    await page.evaluate((h) => {
      location.hash = h;
    }, `#/budgets?period=${PERIOD}`);
    await page.getByTestId('loading').waitFor();
    expect(await text(page, 'loading')).toBe(`Loading budgets for ${PERIOD}…`);
    release();
    await page.getByTestId('budgets').waitFor();
    await page.unroute('**/v1/budgets?**');
    await page.close();
  });
});
