/** Loads the configuration and opens the store the way every command does. */
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../core/config.js';
import { type OpenOptions, openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { str } from './args.js';

export interface Context {
  config: Config;
  configPath: string;
  store: Store;
}

export async function openContext(values: Record<string, unknown>, opts: OpenOptions = {}): Promise<Context> {
  const configPath = path.resolve(str(values, 'config') ?? 'tally.yaml');
  const { config } = await loadConfig(configPath);
  const storeUrl = str(values, 'store') ?? resolveStorePath(config.store, configPath);
  const store = await openStore(storeUrl, opts);
  return { config, configPath, store };
}

/** A relative `store:` path is relative to the configuration file, so commands work from any directory. */
export function resolveStorePath(store: string, configPath: string): string {
  if (/^[a-z]+:\/\//i.test(store) || path.isAbsolute(store)) return store;
  return path.resolve(path.dirname(configPath), store);
}

export async function withContext<T>(
  values: Record<string, unknown>,
  fn: (ctx: Context) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(values);
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}
