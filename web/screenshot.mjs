// Writes docs/dashboard.png: the overview of the demo month, signed in as
// finance, in Debian's Chromium. Needs `npm run build` first (it runs the
// built server and dashboard). Usage: node web/screenshot.mjs [--events N]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const out = path.join(root, 'docs', 'dashboard.png');

const dir = mkdtempSync(path.join(tmpdir(), 'tally-screenshot-'));
const demo = await generateDemo({ dir, events, month: DEMO_DEFAULTS.month, seed: DEMO_DEFAULTS.seed });
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
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.getByLabel('Access token').fill(finance);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#view[data-route]');
  const hash = `#/overview?period=${DEMO_DEFAULTS.month}`;
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForFunction((h) => document.getElementById('view')?.dataset.route === h, hash);
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)} (${events} demo events)\n`);
} finally {
  await browser.close();
  server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
