/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core)
 * against the real server on the demo month: what it shows must be the API's
 * numbers to the cent, and a team lead must never see another team's.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatFixed, formatMoney, parseMoney } from '../../src/core/money.js';
import { issueStatement } from '../../src/service/issue.js';
import { computeStatement } from '../../src/service/statement.js';
import { CHROMIUM, hasChromium, PERIOD, startWorld, type World } from './harness.js';

type Cents = Record<string, string>;
interface Totals {
  effective_cost: string;
  billed_cost: string;
  unattributed_cost: string;
  disputed_cost: string;
  shared_cost: string;
  coverage: number;
  events: number;
  cents: Cents;
}
interface Line {
  team: string | null;
  application: string | null;
  tenant: string | null;
  category: string | null;
  status: string;
  effective_cost: string;
  events: number;
  cents: Cents;
}
interface Statement {
  totals: Totals;
  lines: Line[];
  differs_from_issued: { version: number; effective_cost_delta: string } | null;
}
interface Daily {
  series: Array<{ team: string | null; status: string; costs: string[] }>;
  total_cents: string;
}

/** The name the chart gives a daily series: the team for attributed usage, else the status. */
const seriesName = (s: Daily['series'][number]) =>
  s.status === 'attributed' ? (s.team ?? '(no team)') : s.status;

/** What the dashboard must print for an amount: dollars and cents, half away from zero, grouped. */
function dollars(amount: string | bigint): string {
  const fixed = formatFixed(typeof amount === 'string' ? parseMoney(amount) : amount, 2);
  const [whole = '', frac = ''] = fixed.split('.');
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await w?.close();
  });

  async function signIn(token: string): Promise<Page> {
    const page = await w.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(w.url);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#view[data-route]');
    return page;
  }

  /** Navigates by URL, as a user pasting a link would, and waits for that route's view. */
  async function go(page: Page, hash: string): Promise<void> {
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
    await page.waitForFunction((h) => document.getElementById('view')?.dataset.route === h, hash);
  }

  const text = async (page: Page, testId: string) =>
    (await page.getByTestId(testId).first().textContent())?.trim();

  test('finance: the overview shows the statement totals and a stacked chart with one series per team', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/overview?period=${PERIOD}`);
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=team`);
    const t = st.totals;

    // the statement's own cents (SPEC §4.8), never a rounding of its own
    expect(await text(page, 'total-effective')).toBe(dollars(t.cents.effective_cost!));
    expect(await page.getByTestId('total-effective').getAttribute('data-value')).toBe(t.effective_cost);
    expect(await text(page, 'total-billed')).toBe(dollars(t.cents.billed_cost!));
    expect(await text(page, 'total-attributed')).toBe(dollars(t.cents.attributed_cost!));
    expect(await text(page, 'total-unattributed')).toBe(dollars(t.cents.unattributed_cost!));
    expect(await text(page, 'total-disputed')).toBe(dollars(t.cents.disputed_cost!));
    expect(await text(page, 'total-coverage')).toBe(`${(t.coverage * 100).toFixed(1)} %`);
    expect(parseMoney(t.disputed_cost)).toBeGreaterThan(0n);

    // the team table: each row the statement line's cents, adding up to the total shown
    const rows = await page.getByTestId('team-table').locator('tbody tr').all();
    const sorted = [...st.lines].sort((a, b) => (a.team ?? '~').localeCompare(b.team ?? '~'));
    expect(rows.length).toBe(sorted.length);
    for (const [i, row] of rows.entries())
      expect((await row.locator('td').allTextContents())[2]).toBe(dollars(sorted[i]!.cents.effective_cost!));
    const rowSum = sorted.reduce((a, l) => a + parseMoney(l.cents.effective_cost!), 0n);
    expect(dollars(rowSum)).toBe(dollars(t.cents.effective_cost!));

    const daily = await w.api<Daily>(w.tokens.finance, `/v1/spend/daily?period=${PERIOD}`);
    const chart = page.getByTestId('chart-daily');
    const teams = daily.series.map(seriesName);
    expect(teams.length).toBeGreaterThan(3);
    // disputed money is a series of its own, never inside a team's
    expect(teams).toContain('disputed');
    expect(daily.series.filter((s) => s.status !== 'attributed').every((s) => s.team === null)).toBe(true);
    expect(JSON.parse((await chart.getAttribute('data-series')) ?? '[]')).toEqual(teams);
    const plotted = parseMoney((await chart.getAttribute('data-total')) ?? '');
    expect(plotted).toBe(daily.series.flatMap((s) => s.costs).reduce((a, c) => a + parseMoney(c), 0n));
    expect(await chart.locator('svg path').count()).toBeGreaterThan(teams.length);
    // the legend shows the display names of tally.yaml
    const names = await w.api<{ team: Record<string, string> }>(w.tokens.finance, '/v1/names');
    for (const s of daily.series) {
      const shown = s.status === 'attributed' && s.team ? names.team[s.team]! : seriesName(s);
      expect(await chart.locator('svg text', { hasText: shown }).count(), shown).toBeGreaterThan(0);
    }

    const apps = await w.api<Statement>(
      w.tokens.finance,
      `/v1/statements?period=${PERIOD}&level=application`,
    );
    // an application's spend is its attributed effective cost, in the statement's cents
    const byApp = new Map<string, bigint>();
    for (const l of apps.lines) {
      if (l.application && l.status === 'attributed')
        byApp.set(l.application, (byApp.get(l.application) ?? 0n) + parseMoney(l.cents.effective_cost!));
    }
    const [topApp, topAmount] = [...byApp].sort((a, b) => (a[1] > b[1] ? -1 : a[1] < b[1] ? 1 : 0))[0] ?? [];
    const firstRow = page.getByTestId('top-applications').locator('tbody tr').first();
    expect(await firstRow.locator('[data-id]').getAttribute('data-id')).toBe(topApp);
    expect((await firstRow.locator('td').allTextContents())[1]).toBe(dollars(topAmount ?? 0n));
    expect(await page.getByTestId('chart-applications').locator('svg path').count()).toBeGreaterThan(0);
    await page.close();
  });

  test('the daily chart adds up to the statement: all of its usage, pool shares aside', async () => {
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=team`);
    const daily = await w.api<Daily>(w.tokens.finance, `/v1/spend/daily?period=${PERIOD}`);
    const plotted = daily.series.flatMap((s) => s.costs).reduce((a, c) => a + parseMoney(c), 0n);
    expect(plotted).toBe(parseMoney(st.totals.effective_cost) - parseMoney(st.totals.shared_cost));
  });

  test('finance: a statement line drills down to exactly its events', async () => {
    const page = await signIn(w.tokens.finance);
    const st = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=line`);
    const index = st.lines.findIndex(
      (l) => l.status === 'attributed' && l.team && l.application && l.events >= 3 && l.events <= 150,
    );
    const line = st.lines[index]!;
    expect(line).toBeDefined();

    await go(page, `#/statement?period=${PERIOD}`);
    expect(await text(page, 'statement-effective')).toBe(dollars(st.totals.cents.effective_cost!));
    const rows = page.getByTestId('statement-lines').locator('tbody tr');
    expect(await rows.count()).toBe(st.lines.length);
    const cells = await rows.nth(index).locator('td').allTextContents();
    expect(cells).toContain(dollars(line.cents.effective_cost!));
    await rows.nth(index).getByTestId('drill').click();
    await page.waitForFunction(() => document.getElementById('view')?.dataset.route?.startsWith('#/events'));

    const events = page.getByTestId('events-table').locator('tbody tr');
    expect(await events.count()).toBe(line.events);
    expect(await page.getByTestId('load-more').isHidden()).toBe(true);
    expect(await text(page, 'events-count')).toBe(`${line.events} events, newest first.`);
    for (const row of await events.all()) {
      const ids = await Promise.all(
        [3, 4].map((n) => row.locator(`td:nth-child(${n}) [data-id]`).getAttribute('data-id')),
      );
      expect(ids).toEqual([line.team, line.application]);
    }
    await page.close();
  });

  test('finance: a signal links to the replay of its incident, a trace tree with costs', async () => {
    const page = await signIn(w.tokens.finance);
    await go(page, `#/signals?period=${PERIOD}`);
    const critical = page
      .locator('[data-testid=signal]', { has: page.locator('.badge.sev-critical') })
      .first();
    expect(await critical.count()).toBe(1);
    await critical.locator('details summary').click();
    expect(await critical.locator('details').textContent()).toContain('Events');

    const link = (await critical.getByTestId('replay-link').getAttribute('href')) ?? '';
    await critical.getByTestId('replay-link').click();
    await page.waitForFunction((h) => document.getElementById('view')?.dataset.route === h, link);

    const query = new URLSearchParams(link.split('?')[1]);
    query.delete('period');
    const replay = await w.api<{ totals: { disputed_cost: string } }>(
      w.tokens.finance,
      `/v1/replay?${query}`,
    );
    expect(parseMoney(replay.totals.disputed_cost)).toBeGreaterThan(0n);
    expect(await text(page, 'replay-disputed')).toBe(dollars(replay.totals.disputed_cost));
    expect(await page.getByTestId('trace').count()).toBeGreaterThan(0);
    const costs = await page.getByTestId('span-cost').allTextContents();
    expect(costs.length).toBeGreaterThan(0);
    expect(costs.every((c) => /^\$\d+\.\d{2,6}$|^unpriced$/.test(c))).toBe(true);
    expect(await page.locator('.verdict.disputed').count()).toBeGreaterThan(0);

    // An agent run: the tree nests the spans it invoked, each with its cost.
    const agent = await w.api<{ events: Array<{ trace_id: string }> }>(
      w.tokens.finance,
      `/v1/events?period=${PERIOD}&category=orchestration&limit=1`,
    );
    const traceId = agent.events[0]?.trace_id;
    expect(traceId).toBeDefined();
    await go(page, `#/replay?period=${PERIOD}&trace=${traceId}`);
    const tree = await w.api<{ totals: { effective_cost: string } }>(
      w.tokens.finance,
      `/v1/replay?trace=${traceId}`,
    );
    expect(await text(page, 'replay-effective')).toBe(dollars(tree.totals.effective_cost));
    expect(await page.locator('.tree li ul li[data-testid=span]').count()).toBeGreaterThan(0);
    await page.close();
  });

  test('team lead: sees only the own team, and no other team by URL', async () => {
    const own = w.tokens.teamName;
    const org = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=team`);
    const mine = await w.api<Statement>(w.tokens.team, `/v1/statements?period=${PERIOD}&level=line`);
    const perTeam = new Map<string, bigint>();
    for (const l of org.lines)
      if (l.team) perTeam.set(l.team, (perTeam.get(l.team) ?? 0n) + parseMoney(l.cents.effective_cost!));
    const [other, otherAmount] = [...perTeam]
      .filter(([team]) => team !== own)
      .sort((a, b) => (a[1] > b[1] ? -1 : 1))[0]!;
    const foreign = [dollars(otherAmount), dollars(org.totals.cents.effective_cost!)];
    expect(foreign).not.toContain(dollars(mine.totals.cents.effective_cost!));
    // the team's cents are the organisation's cents for the team's lines
    expect(mine.totals.cents.effective_cost).toBe(
      formatFixed(
        org.lines.filter((l) => l.team === own).reduce((a, l) => a + parseMoney(l.cents.effective_cost!), 0n),
        2,
      ),
    );

    const page = await signIn(w.tokens.team);
    expect(await text(page, 'who')).toContain(own);
    expect(await page.getByRole('link', { name: 'Posture' }).count()).toBe(0);
    await go(page, `#/overview?period=${PERIOD}`);
    expect(await text(page, 'total-effective')).toBe(dollars(mine.totals.cents.effective_cost!));
    const myDaily = await w.api<Daily>(w.tokens.team, `/v1/spend/daily?period=${PERIOD}`);
    const mySeries = JSON.parse((await page.getByTestId('chart-daily').getAttribute('data-series')) ?? '');
    expect(mySeries).toEqual(myDaily.series.map(seriesName));
    expect(mySeries[0]).toBe(own);
    expect(mySeries.filter((n: string) => n !== own && n !== 'disputed' && n !== 'unattributed')).toEqual([]);
    expect(parseMoney((await page.getByTestId('chart-daily').getAttribute('data-total')) ?? '')).toBe(
      parseMoney(mine.totals.effective_cost) - parseMoney(mine.totals.shared_cost),
    );

    await go(page, `#/statement?period=${PERIOD}`);
    const teams = await page
      .getByTestId('statement-lines')
      .locator('tbody tr td:nth-child(2) [data-id]')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
    expect(new Set(teams)).toEqual(new Set([own]));

    const theirs = await w.api<{ events: Array<{ identity: string }> }>(
      w.tokens.finance,
      `/v1/events?period=${PERIOD}&team=${other}&limit=1`,
    );
    const theirIdentity = theirs.events[0]?.identity;
    expect(theirIdentity).toBeDefined();
    await go(page, `#/replay?period=${PERIOD}&identity=${theirIdentity}`);
    expect(await text(page, 'replay-effective')).toBe('$0.00');
    expect(await page.getByTestId('trace').count()).toBe(0);

    for (const hash of [
      `#/events?period=${PERIOD}&team=${other}`,
      `#/statement?period=${PERIOD}&team=${other}`,
      `#/budgets?period=${PERIOD}&team=${other}`,
      `#/posture?period=${PERIOD}`,
    ]) {
      await go(page, hash);
      if (!hash.includes('budgets')) expect(await page.getByTestId('forbidden').isVisible()).toBe(true);
      const body = (await page.locator('main').textContent()) ?? '';
      for (const amount of foreign) expect(body, hash).not.toContain(amount);
    }
    await page.close();
  });

  test('finance: a tenant’s spend is the same cents on the overview, in the statement and in its budget', async () => {
    const tenants = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}&level=tenant`);
    const budgets = await w.api<{
      budgets: Array<{
        scope: string;
        id: string;
        actual_cents: string;
        observed_days: number;
        days: number;
      }>;
    }>(w.tokens.finance, `/v1/budgets?period=${PERIOD}`);
    const tenantBudget = budgets.budgets.find((b) => b.scope === 'tenant');
    expect(tenantBudget).toBeDefined();
    const b = tenantBudget!;
    const spend = tenants.lines
      .filter((l) => l.tenant === b.id && l.status === 'attributed')
      .reduce((a, l) => a + parseMoney(l.cents.effective_cost!), 0n);
    if (b.observed_days === b.days) expect(b.actual_cents).toBe(formatFixed(spend, 2));

    const page = await signIn(w.tokens.finance);
    await go(page, `#/overview?period=${PERIOD}`);
    const row = page.getByTestId('top-tenants').locator('tbody tr', { hasText: b.id });
    if ((await row.count()) > 0) expect((await row.locator('td').allTextContents())[1]).toBe(dollars(spend));
    await go(page, `#/budgets?period=${PERIOD}`);
    expect(await text(page, `budget-actual-${b.id}`)).toBe(dollars(b.actual_cents));
    expect(await page.getByTestId('glossary').count()).toBe(0);
    await go(page, `#/overview?period=${PERIOD}`);
    expect(await text(page, 'glossary')).toContain('Disputed');
    await page.close();
  });

  test('runs under its Content-Security-Policy: no violation on any view, and it cannot be framed', async () => {
    const page = await w.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(w.url);
    expect(res?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res?.headers()['x-frame-options']).toBe('DENY');
    await page.getByLabel('Access token').fill(w.tokens.finance);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#view[data-route]');
    await go(page, `#/overview?period=${PERIOD}`);
    await page.getByTestId('chart-daily').locator('svg path').first().waitFor({ state: 'attached' });
    for (const view of ['signals', 'replay', 'posture']) await go(page, `#/${view}?period=${PERIOD}`);
    expect(violations).toEqual([]);
    await page.close();
  });

  test('an unknown token is refused and not kept', async () => {
    const page = await w.browser.newPage();
    await page.goto(w.url);
    await page.getByLabel('Access token').fill('tally_not_a_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signin-error').waitFor();
    expect(await text(page, 'signin-error')).toContain('not known');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  test('a month without usage still carries its pools, unattributed', async () => {
    const st = await w.api<Statement>(w.tokens.finance, '/v1/statements?period=2026-11&level=team');
    expect(st.totals.events).toBe(0);
    expect(st.totals.cents.unattributed_cost).toBe(st.totals.cents.shared_cost);
    expect(parseMoney(st.totals.shared_cost)).toBeGreaterThan(0n);
    const page = await signIn(w.tokens.finance);
    await go(page, '#/overview?period=2026-11');
    expect(await text(page, 'total-unattributed')).toBe(dollars(st.totals.cents.shared_cost!));
    expect(await text(page, 'total-attributed')).toBe('$0.00');
    expect((await page.locator('main').textContent()) ?? '').toContain('carried as unattributed');
    await page.close();
  });

  // Last: it changes the world the other tests read.
  test('late data after an issue: the overview and the statement say the period differs', async () => {
    const window = { start: Date.UTC(2026, 9, 1), end: Date.UTC(2026, 10, 1), label: PERIOD };
    const { statement } = await computeStatement(w.store, w.config, window);
    const issued = await issueStatement(w.store, PERIOD, statement, Date.now());
    const before = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}`);
    expect(before.differs_from_issued).toBeNull();
    // one late event: a copy of a stored one under a new id, in the last minute of the month
    const late = (await w.store.eventsPage({ from: window.start, to: window.end, limit: 1 }))[0]!;
    await w.store.ingest('late', [
      [{ ...late, id: 'late-after-issue', source: 'late', time: window.end - 60_000 }],
    ]);
    const after = await w.api<Statement>(w.tokens.finance, `/v1/statements?period=${PERIOD}`);
    expect(after.differs_from_issued?.version).toBe(issued.version);
    const delta = parseMoney(after.totals.effective_cost) - parseMoney(before.totals.effective_cost);
    expect(after.differs_from_issued?.effective_cost_delta).toBe(formatMoney(delta));

    const page = await signIn(w.tokens.finance);
    await go(page, `#/overview?period=${PERIOD}`);
    expect(await text(page, 'differs-from-issued')).toContain(`issued statement v${issued.version}`);
    await go(page, `#/statement?period=${PERIOD}`);
    expect(await text(page, 'differs-from-issued')).toContain(`v${issued.version}`);
    await page.close();
  });
});
