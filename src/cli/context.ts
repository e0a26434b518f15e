/** Loads the configuration and opens the store the way every command does. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { type OpenOptions, openStore, storeFilePath } from '../store/open.js';
import type { Store } from '../store/store.js';
import { str } from './args.js';

export interface Context {
  config: Config;
  configPath: string;
  store: Store;
}

export interface ContextOptions extends OpenOptions {
  /** Commands that write (ingest, serve) create a missing store; every other one refuses it (SPEC §8). */
  create?: boolean;
}

export async function openContext(
  values: Record<string, unknown>,
  opts: ContextOptions = {},
): Promise<Context> {
  const configPath = path.resolve(str(values, 'config') ?? 'tally.yaml');
  const { config } = await loadConfig(configPath);
  const storeUrl = str(values, 'store') ?? resolveStorePath(config.store, configPath);
  if (!opts.create) mustExist(storeUrl);
  const store = await openStore(storeUrl, { ...opts, mustExist: !opts.create });
  return { config, configPath, store };
}

/** A command that reads never creates an empty store and reports "ok" on it. */
export function mustExist(storeUrl: string): void {
  const file = storeFilePath(storeUrl);
  if (file !== null && !existsSync(file))
    throw new UsageError(
      `no store at ${path.resolve(file)}: check --store or \`store:\` in tally.yaml, or run \`tally ingest\` first`,
    );
}

/** A relative `store:` path is relative to the configuration file, so commands work from any directory. */
export function resolveStorePath(store: string, configPath: string): string {
  if (/^[a-z]+:\/\//i.test(store) || path.isAbsolute(store)) return store;
  return path.resolve(path.dirname(configPath), store);
}

export async function withContext<T>(
  values: Record<string, unknown>,
  fn: (ctx: Context) => Promise<T>,
  opts: ContextOptions = {},
): Promise<T> {
  const ctx = await openContext(values, opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}
