// Writes the README's screenshots into docs/img/: the demo month signed in as
// finance, in Debian's Chromium, at 1280 px. Needs `npm run build` first (it
// runs the built server and dashboard). Usage: node web/screenshot.mjs [--events N]
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config/load.js';
import { DEMO_DEFAULTS, generateDemo } from '../dist/demo/index.js';
import { createApp } from '../dist/server/app.js';
import { ingestFile } from '../dist/service/ingest.js';
import { openStore } from '../dist/store/open.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { events: { type: 'string' } } });
const events = Number(values.events ?? DEMO_DEFAULTS.events);
const outDir = path.join(root, 'docs', 'img');
const month = DEMO_DEFAULTS.month;

/** Each shot: a file, a route, and what to do before the picture (open a panel, say). */
const SHOTS = [
  { file: 'overview.png', hash: `#/overview?period=${month}`, height: 1100 },
  { file: 'breakdown.png', hash: `#/breakdown?period=${month}&by=model`, height: 1000 },
  { file: 'statement.png', hash: `#/statement?period=${month}&level=team`, height: 800 },
  {
    file: 'events.png',
    hash: `#/events?period=${month}&status=disputed`,
    height: 800,
    // the explain panel of the first row, when the server has it
    before: async (page) => {
      const paths = await page.evaluate(async () => (await (await fetch('./openapi.json')).json()).paths);
      if (!Object.keys(paths).some((p) => p.startsWith('/v1/explain'))) return;
      const why = page.getByTestId('explain').first();
      await why.click();
      await page
        .locator('.explain-row [data-testid=explain-panel], .explain-row [data-testid=error]')
        .first()
        .waitFor();
    },
  },
  { file: 'budgets.png', hash: `#/budgets?period=${month}`, height: 600 },
];

const dir = mkdtempSync(path.join(tmpdir(), 'tally-screenshot-'));
const demo = await generateDemo({ dir, events, month, seed: DEMO_DEFAULTS.seed });
const { config } = await loadConfig(demo.config);
const store = await openStore(path.join(dir, 'tally.duckdb'));
for (const f of demo.files)
  await ingestFile(store, f.path, { format: f.format, skipInvalid: false, now: Date.now() });

const server = serve({ fetch: createApp({ store, config }).fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;
const finance = readFileSync(path.join(dir, 'tokens.txt'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('finance\t'))
  .split('\t')[1];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  mkdirSync(outDir, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.getByLabel('Access token').fill(finance);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#view[data-route]');
  for (const shot of SHOTS) {
    await page.setViewportSize({ width: 1280, height: shot.height });
    await page.evaluate((h) => {
      location.hash = h;
    }, shot.hash);
    await page.waitForFunction((h) => document.getElementById('view')?.dataset.route === h, shot.hash);
    await shot.before?.(page);
    await page.screenshot({ path: path.join(outDir, shot.file) });
    process.stdout.write(`wrote docs/img/${shot.file}\n`);
  }
  process.stdout.write(`(${events} demo events)\n`);
} finally {
  await browser.close();
  server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
