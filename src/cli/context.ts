/** Loads the configuration and opens the store the way every command does. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfigCached } from '../config/cache.js';
import type { Config } from '../core/config.js';
import { StoreHeldError, UsageError } from '../core/errors.js';
import { type OpenOptions, openStore, storeFilePath } from '../store/open.js';
import type { Store } from '../store/store.js';
import { str } from './args.js';

export interface Context {
  config: Config;
  configPath: string;
  store: Store;
  /** The store as opened: a file path, `duckdb:…` or `postgres://…`. */
  storeUrl: string;
}

export interface ContextOptions extends OpenOptions {
  /** Commands that write (ingest, serve) create a missing store; every other one refuses it (SPEC §8). */
  create?: boolean;
  /** The command can run through a server (`--server`): a held store's message says how. */
  server?: boolean;
}

export async function openContext(
  values: Record<string, unknown>,
  opts: ContextOptions = {},
): Promise<Context> {
  const configPath = path.resolve(str(values, 'config') ?? 'tally.yaml');
  const { config } = await loadConfigCached(configPath);
  const storeUrl = str(values, 'store') ?? resolveStorePath(config.store, configPath);
  if (!opts.create) mustExist(storeUrl);
  const store = await openStore(storeUrl, { ...opts, mustExist: !opts.create }).catch((e) => {
    throw e instanceof StoreHeldError
      ? new StoreHeldError(e.file, e.pid, `${e.message}: ${howToReach(e.file, e.pid, opts.server === true)}`)
      : e;
  });
  // This process holds the store now: a note beside it is from a server that was killed.
  const file = storeFilePath(storeUrl);
  if (file !== null) removeStaleNote(file, (pid) => pid !== process.pid);
  return { config, configPath, store, storeUrl };
}

/** Where a running `tally serve` notes the address it listens on, beside the store file it holds. */
export function serverNoteFile(storeFile: string): string {
  return `${storeFile}.server`;
}

/**
 * How to run the command anyway: through the server that holds the store (its
 * address if it noted it). A note left by a server that was killed names
 * another process than the holder: it is ignored.
 */
function howToReach(storeFile: string, holder: number, viaServer: boolean): string {
  let url = 'URL';
  const note = readNote(storeFile);
  if (note?.pid === holder) url = note.url;
  // Not the holder's, and its process is gone: a killed server's (a live one may be starting up).
  else removeStaleNote(storeFile, (pid) => pid !== holder && !alive(pid));
  if (!viaServer)
    return `stop it first, or send the data to the server at ${url} instead (POST /v1/events, /v1/traces; docs/server.md)`;
  return (
    `run the command through it with --server ${url} and TALLY_TOKEN set to one of its tokens ` +
    '(a finance or admin token to close a month), or stop it'
  );
}

function readNote(storeFile: string): { url: string; pid?: number } | null {
  try {
    return JSON.parse(readFileSync(serverNoteFile(storeFile), 'utf8')) as { url: string; pid?: number };
  } catch {
    return null; // no note (another kind of process, or a server from before notes)
  }
}

/**
 * Removes the server note beside a store when `stale` says its PID is not
 * the process holding the store: the server that wrote it was killed before
 * it could remove it (a live server holds the store it noted). A note that
 * cannot be read is left alone.
 */
function removeStaleNote(storeFile: string, stale: (pid: number | undefined) => boolean): void {
  const note = readNote(storeFile);
  if (note === null || !stale(note.pid)) return;
  try {
    rmSync(serverNoteFile(storeFile), { force: true });
  } catch {
    // another process removed or replaced it meanwhile: nothing to do
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
  // `duckdb:PATH?options`, as `--store` takes it: its path is relative to the file too.
  if (store.startsWith('duckdb:')) {
    const q = store.indexOf('?');
    const file = store.slice('duckdb:'.length, q < 0 ? undefined : q);
    const options = q < 0 ? '' : store.slice(q);
    return file === '' || file === ':memory:'
      ? store
      : `duckdb:${resolveStorePath(file, configPath)}${options}`;
  }
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
