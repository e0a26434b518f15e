import { test } from 'vitest';
import { startWorld, PERIOD } from './harness.js';
test('shots', async () => {
  const w = await startWorld(3000);
  const page = await w.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(w.url);
  await page.getByLabel('Access token').fill(w.tokens.finance);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#view[data-route]');
  for (const hash of ['#/overview', `#/breakdown?period=${PERIOD}&by=model`, `#/statement?period=${PERIOD}`, `#/events?period=${PERIOD}`, `#/budgets?period=${PERIOD}`]) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForFunction((h) => document.getElementById('view')?.dataset.route === h, hash);
    await page.waitForTimeout(300);
    const over = await page.evaluate(() => [...document.querySelectorAll('.table-wrap')].map((d) => [d.scrollWidth, d.clientWidth]));
    console.log(hash, JSON.stringify(over));
    await page.screenshot({ path: `/tmp/shots/${hash.replace(/[^a-z]/g, '').slice(0, 20)}.png`, fullPage: false });
  }
  console.log('errors', errors);
  await w.close();
}, 300_000);
