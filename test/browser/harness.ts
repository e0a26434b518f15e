/**
 * The browser tests' world: the demo month ingested into a DuckDB file, the
 * dashboard built from web/ into a temp folder, the real server listening on
 * a free port, and Debian's Chromium driven by playwright-core.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { type Browser, chromium } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/core/config.js';
import { generateDemo } from '../../src/demo/index.js';
import { createApp } from '../../src/server/app.js';
import { ingestFile } from '../../src/service/ingest.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const PERIOD = '2026-10';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface World {
  url: string;
  tokens: { admin: string; finance: string; team: string; teamName: string };
  browser: Browser;
  /** The server's store and configuration, for tests that change what it serves (late data). */
  store: Store;
  config: Config;
  /** GET against the API as a given token, parsed JSON. */
  api<T>(token: string, pathAndQuery: string): Promise<T>;
  close(): Promise<void>;
}

function readTokens(file: string): World['tokens'] {
  const byLabel = new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t') as [string, string]),
  );
  const teamLabel = [...byLabel.keys()].find((k) => k.startsWith('team:'))!;
  return {
    admin: byLabel.get('admin')!,
    finance: byLabel.get('finance')!,
    team: byLabel.get(teamLabel)!,
    teamName: teamLabel.slice('team:'.length),
  };
}

/** The tests exercise the dashboard's current source, not whatever web/dist holds. */
async function buildDashboard(outDir: string): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      'web',
      '--config',
      'web/vite.config.ts',
      '--outDir',
      outDir,
      '--emptyOutDir',
    ],
    { cwd: ROOT },
  );
}

export async function startWorld(events = 5000): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-browser-'));
  const webDir = path.join(dir, 'web');
  const build = buildDashboard(webDir);
  const demo = await generateDemo({ dir: path.join(dir, 'demo'), events, month: PERIOD, seed: 42 });
  const { config } = await loadConfig(demo.config);
  const store: Store = await openStore(path.join(dir, 'tally.duckdb'));
  for (const f of demo.files)
    await ingestFile(store, f.path, { format: f.format, skipInvalid: false, now: Date.now() });
  await build;

  const app = createApp({ store, config, webDir });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  return {
    url,
    tokens: readTokens(path.join(path.dirname(demo.config), 'tokens.txt')),
    browser,
    store,
    config,
    async api<T>(token: string, pathAndQuery: string): Promise<T> {
      const res = await fetch(new URL(pathAndQuery, url), { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`${pathAndQuery}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
