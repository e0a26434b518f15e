/**
 * Opens the store named by `store:` or `--store`: a file path, a
 * `duckdb:PATH` URL whose query sets DuckDB options
 * (`duckdb:/data/tally.duckdb?memory_limit=512MB&threads=4`), or a
 * `postgres://user@host:5432/db[?schema=name]` URL (docs/postgres.md).
 */
import { UsageError } from '../core/errors.js';
import { DuckDBStore } from './duckdb/duckdb-store.js';
import type { Store } from './store.js';

/**
 * Caps DuckDB's buffer memory so that large queries spill to disk instead of
 * growing without bound, and caps the spill itself, sized for the reference
 * machine (24 GiB, 2 cores): 4 GB of buffers and at most
 * 20 GiB of temporary files next to the store (`<store>.tmp`). Each can be
 * changed in the URL (`duckdb:PATH?memory_limit=8GB&max_temp_directory_size=50GiB`).
 * Bulk ingest runs under a lower cap of its own (`DuckDBStore.BULK_MEMORY_LIMIT`).
 */
const DEFAULT_SETTINGS: Record<string, string> = {
  memory_limit: '4GB',
  max_temp_directory_size: '20GiB',
};

/**
 * Added for a process that commits small batches all the time (the server's
 * writer, a queue worker). DuckDB's vacuum at a checkpoint merges the row
 * groups that earlier checkpoints appended, rewriting a growing row group each
 * time, and every commit waits for it (a stall that grew past 1 s under the
 * load benchmark): without it each checkpoint appends its own row group. And
 * a checkpoint every 4 MB of log instead of DuckDB's 16 MB: every commit
 * waits while one runs, and a quarter of the log takes about a third of the
 * time (B7: the events' p99 147–153 → 74–82 ms; docs/decisions.md). Either
 * can be set back in the URL.
 */
const STEADY_WRITER_SETTINGS: Record<string, string> = {
  max_vacuum_tasks: '0',
  checkpoint_threshold: '4MB',
};

const isPostgres = (url: string) => /^postgres(ql)?:\/\//i.test(url);

/** The embedded store's file, or null for a store that is not a file (PostgreSQL, `:memory:`). */
export function storeFilePath(url: string): string | null {
  if (isPostgres(url)) return null;
  const path = url.startsWith('duckdb:') ? (url.slice('duckdb:'.length).split('?')[0] ?? '') : url;
  return path === '' || path === ':memory:' ? null : path;
}

export interface OpenOptions {
  /** Reads running longer are interrupted and fail with a LimitError (`tally serve` sets it). */
  readTimeoutMs?: number;
  /** Refuse a store that does not exist yet instead of creating it (commands that only read). */
  mustExist?: boolean;
  /** The process commits small batches all the time (`tally serve`, `tally worker`): see STEADY_WRITER_SETTINGS. */
  steadyWriter?: boolean;
}

export async function openStore(url: string, opts: OpenOptions = {}): Promise<Store> {
  // Loaded only for a PostgreSQL store: a DuckDB command does not load the pg driver.
  if (isPostgres(url)) return (await import('./postgres/postgres-store.js')).PostgresStore.open(url, opts);
  let path = url;
  const settings = { ...DEFAULT_SETTINGS, ...(opts.steadyWriter ? STEADY_WRITER_SETTINGS : {}) };
  if (url.startsWith('duckdb:')) {
    const q = url.indexOf('?');
    path = url.slice('duckdb:'.length, q < 0 ? undefined : q);
    if (q >= 0) for (const [k, v] of new URLSearchParams(url.slice(q + 1))) settings[k] = v;
  }
  if (path === '') throw new UsageError(`no store path in ${url}`);
  // A process that commits all the time changes the store under every walk it would keep.
  return DuckDBStore.open(path, { settings, keepWalks: !opts.steadyWriter, ...opts });
}
